"""A state's policy text, checked: parsed, validated against the schema, every policy with an
`@id` and a `@reason`, and every problem reported with the line it starts on.

Cedar's own parse errors carry no position, so the text is first cut into statements (each
ends with a `;` outside strings, comments and brackets) and a failing statement is found by
parsing each alone. Before any of that the text is bounded: Cedar's parser recurses once per
nesting level and overflows the stack (killing the process) long before it reports an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cedarpy import PolicySet, validate_policies

from ..errors import RequesterError
from .schema import schema_text

_ID = re.compile(r"[a-z0-9][a-z0-9\-]{0,62}")

MAX_DEPTH = 32
"""Deepest nesting a policy may use: brackets ( [ { and if-expressions, outside strings and
comments. Cedar 4.12 (cedarpy) crashes at 660 brackets on an 8 MiB stack and at 164 on a 2 MiB
thread stack; an if-expression costs a sixth of a bracket, so counting it as one is generous."""
MAX_REASON = 500
"""Longest `@reason`, in characters: it is read out in every denial, briefing and report (real
ones are a sentence or two), and an answer carries it between processes within bounds."""
MAX_SIZE = 32_768
"""Longest policy text, in characters. Chains (`a.b.c...`, `1 + 1 + ...`) crash the engine past
32,000 links on a 2 MiB stack, two characters a link at least; real policy sets run to a few
thousand characters."""


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    line: int
    message: str
    policy: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.policy})" if self.policy else "")
        return f"{where}: {self.message}"


class PolicyError(RequesterError):
    """A policy text that cannot be put in force; every problem is listed with its line."""

    code, status = "invalid-policy", 422

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


_WORD = re.compile(r"[A-Za-z_]\w*")


def tokens(text: str) -> Iterator[tuple[int, str]]:
    """Each token of a policy text outside `//` comments, with where it starts: a string
    literal (to its closing quote), a word, or any other single character but space: the one
    scanner that cutting a text into statements and bounding its nesting share."""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "/" and text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif char == '"':
            end = string_end(text, index)
            yield index, text[index:end + 1]
            index = end + 1
        elif char.isascii() and (char.isalpha() or char == "_"):
            word = _WORD.match(text, index)
            assert word is not None
            yield index, word.group()
            index = word.end()
        else:
            if not char.isspace():
                yield index, char
            index += 1


_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")


def statements(text: str) -> list[Statement]:
    """The text cut into statements, each with the line of its first character."""
    found: list[Statement] = []
    start: int | None = None
    depth = 0
    for index, token in tokens(text):
        if start is None:
            start = index
        if token in _OPENING:
            depth += 1
        elif token in _CLOSING:
            depth -= 1
        elif token == ";" and depth <= 0:
            found.append(Statement(_line_of(text, start), text[start:index + 1]))
            start, depth = None, 0
    if start is not None:
        found.append(Statement(_line_of(text, start), text[start:]))
    return found


def compile_policies(text: str) -> PolicySource:
    """Check a policy text and parse it once; raise PolicyError listing every problem."""
    bounded = _bound_problems(text)
    if bounded:
        raise PolicyError(bounded)
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


def _bound_problems(text: str) -> list[PolicyProblem]:
    """The first way the text goes past what the engine can safely be given, if any: too long,
    not Unicode, or nested too deep."""
    if len(text) > MAX_SIZE:
        return [PolicyProblem(_line_of(text, MAX_SIZE), f"the text is {len(text):,} characters "
                              f"long; the limit is {MAX_SIZE:,} characters")]
    bad = _SURROGATE.search(text)
    if bad:
        return [PolicyProblem(_line_of(text, bad.start()), f"U+{ord(bad.group()):04X} is not a "
                              "Unicode character (a lone surrogate): save the file as UTF-8")]
    deepest = _too_deep(text)
    if deepest is not None:
        return [PolicyProblem(_line_of(text, deepest), f"brackets and if-expressions nest more "
                              f"than {MAX_DEPTH} deep here; the limit is {MAX_DEPTH}")]
    return []


_SURROGATE = re.compile("[\ud800-\udfff]")
def _too_deep(text: str) -> int | None:
    """Where nesting first passes MAX_DEPTH; each `if` in a statement counts as a level until
    the statement ends, since where an if-expression ends takes a parser to know."""
    brackets = ifs = 0
    for index, token in tokens(text):
        if token in _OPENING:
            brackets += 1
        elif token in _CLOSING:
            brackets = max(brackets - 1, 0)
        elif token == ";" and brackets == 0:
            ifs = 0
        elif token == "if":
            ifs += 1
        if brackets + ifs > MAX_DEPTH:
            return index
    return None


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
        elif len(policy.reason) > MAX_REASON:
            problems.append(PolicyProblem(policy.line, f"@reason is {len(policy.reason):,} "
                                          f"characters long; the limit is {MAX_REASON}: "
                                          "denials read it out", policy.id))
        seen.add(policy.id)
    return problems


def _parse_problem(statement: str) -> str:
    try:
        PolicySet.from_str(statement)
    except ValueError as error:
        return f"cannot read this policy: {error}"
    return ""


def string_end(text: str, quote: int) -> int:
    """The index of the quote that closes the string opened at `quote` (or the text's end)."""
    index = quote + 1
    while index < len(text) and text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1
