"""A state's policy text, checked: parsed, validated against the schema, every policy with an
`@id` and a `@reason`, and every problem reported with the line it starts on.

Cedar's own parse errors carry no position, so the text is first cut into statements (each
ends with a `;` outside strings, comments and brackets) and a failing statement is found by
parsing each alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cedarpy import PolicySet, validate_policies

from .schema import schema_text

_ID = re.compile(r"[a-z0-9][a-z0-9\-]{0,62}")


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    line: int
    message: str
    policy: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.policy})" if self.policy else "")
        return f"{where}: {self.message}"


class PolicyError(Exception):
    """A policy text that cannot be put in force; every problem is listed with its line."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True, slots=True)
class Policy:
    """One policy of a state's set, as its text declares it."""

    id: str
    reason: str
    effect: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Statement:
    line: int
    text: str


@dataclass(frozen=True)
class PolicySource:
    """A policy text that passed every check, with the parsed set Cedar evaluates."""

    text: str
    policies: tuple[Policy, ...]
    by_engine_id: dict[str, Policy]
    """Cedar's positional ids (policy0, policy1, ...) to the policies they name."""
    policy_set: PolicySet
    digest: str
    """SHA-256 of the text: the policy half of a policy version."""

    def policy(self, policy_id: str) -> Policy | None:
        return next((p for p in self.policies if p.id == policy_id), None)


def statements(text: str) -> list[Statement]:
    """The text cut into statements, each with the line of its first character."""
    found: list[Statement] = []
    start: int | None = None
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "/" and text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        if start is None and not char.isspace():
            start = index
        if char == '"':
            index = _string_end(text, index)
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ";" and depth <= 0 and start is not None:
            found.append(Statement(_line_of(text, start), text[start:index + 1]))
            start, depth = None, 0
        index += 1
    if start is not None:
        found.append(Statement(_line_of(text, start), text[start:]))
    return found


def compile_policies(text: str) -> PolicySource:
    """Check a policy text and parse it once; raise PolicyError listing every problem."""
    parts = statements(text)
    if not parts:
        raise PolicyError([PolicyProblem(1, "the file holds no policy: every query would be "
                                            "denied (write a forbid for everyone to mean that)")])
    problems = [PolicyProblem(part.line, _parse_problem(part.text)) for part in parts
                if _parse_problem(part.text)]
    if problems:
        raise PolicyError(problems)
    policy_set = PolicySet.from_str(text)
    pst = policy_set.to_pst().static_policies
    if pst.keys() != {f"policy{n}" for n in range(len(parts))}:
        raise PolicyError([PolicyProblem(parts[0].line, "templates and linked policies are "
                                                        "not supported; write each policy out")])
    policies = {
        f"policy{n}": Policy(
            id=str(pst[f"policy{n}"].annotations.get("id", "")),
            reason=str(pst[f"policy{n}"].annotations.get("reason", "")),
            effect=str(pst[f"policy{n}"].effect).lower().rsplit(".", 1)[-1],
            line=part.line,
            text=part.text,
        )
        for n, part in enumerate(parts)
    }
    problems = _annotation_problems(list(policies.values()))
    result = validate_policies(text, schema_text())
    for error in result.errors:
        policy = policies.get(error.policy_id)
        message = re.sub(r"^for policy `policy\d+`, ", "", str(error.error))
        problems.append(PolicyProblem(policy.line if policy else 1, message,
                                      policy.id if policy else ""))
    if problems:
        raise PolicyError(sorted(problems, key=lambda p: p.line))
    return PolicySource(text, tuple(policies.values()), policies, policy_set,
                        hashlib.sha256(text.encode()).hexdigest())


def _annotation_problems(policies: list[Policy]) -> list[PolicyProblem]:
    problems = []
    seen: set[str] = set()
    for policy in policies:
        if not policy.id:
            problems.append(PolicyProblem(policy.line, 'every policy needs @id("...")'))
        elif not _ID.fullmatch(policy.id):
            problems.append(PolicyProblem(policy.line, f"@id {policy.id!r} must be lower-case "
                                                       "letters, digits and hyphens"))
        elif policy.id in seen:
            problems.append(PolicyProblem(policy.line, f"@id {policy.id!r} is used twice"))
        if not policy.reason.strip():
            problems.append(PolicyProblem(policy.line, 'every policy needs @reason("...") in '
                                                       "plain words: denials show it",
                                          policy.id))
        seen.add(policy.id)
    return problems


def _parse_problem(statement: str) -> str:
    try:
        PolicySet.from_str(statement)
    except ValueError as error:
        return f"cannot read this policy: {error}"
    return ""


def _string_end(text: str, quote: int) -> int:
    index = quote + 1
    while index < len(text) and text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1
