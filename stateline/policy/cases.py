"""Test cases for a policy text: who asks, with which key and context, and what must come of it.

A case file is YAML a coordinator keeps next to a policy, so a change is tested before it goes
live. Loading checks every case (unknown keys, wrong types, misspelt keys and elements);
running checks each ORI against the directory, so a typo fails loudly instead of passing as a
deny. A sender the directory must not know is written `unknown_ori:`, on purpose.

    state: WA                       # home state of every case that names none
    cases:
      - name: ICE is refused
        ori: " vtice0900 "          # sent as written; must be in the directory
        key: DQG                    # decided as DQ
        context: {image_requested: true, multi_state: true}
        expect: deny                # allow | review | deny
        policy: block-ice           # must be among the deciding policies
      - name: Spokane PD after joining 287(g)
        agency: {ori: WASPD0100, programs: [287g]}   # the directory entry, changed
        key: RQ
        expect: allow
        released: [vehicle, registration]            # exact sets
        withheld: []
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import yaml

from ..directory.agency import Agency, DirectoryError, Level, normalise_ori
from ..directory.store import Snapshot
from ..errors import RequesterError
from ..protocol import STATES
from .engine import Decision, PolicyEngine, Request, Verdict
from .schema import DELIVERED_AS, ELEMENTS, QUERY_ACTIONS
from .source import PolicySource, compile_policies

KEYS = (*QUERY_ACTIONS, *DELIVERED_AS)
"""Message keys a case may send: every query key and its regional form."""

CONTEXT: dict[str, type] = {
    "court_order": bool, "attested": bool, "image_requested": bool, "multi_state": bool,
    "reason": str,
}
AGENCY: dict[str, type] = {
    "ori": str, "name": str, "state": str, "level": str, "agency_type": str, "department": str,
    "component": str, "criminal_justice": bool, "permissions": list, "programs": list,
    "active": bool,
}
CASE: dict[str, type] = {
    "name": str, "ori": str, "unknown_ori": str, "agency": dict, "state": str, "key": str,
    "context": dict, "expect": str, "released": list, "withheld": list, "policy": str,
}
FILE: dict[str, type] = {"state": str, "cases": list}
SENDERS = ("ori", "unknown_ori", "agency")
NEW_AGENCY = ("ori", "state", "level", "agency_type")
"""What an inline agency must give when its ORI is not in the directory."""


class CaseFileError(RequesterError, ValueError):
    """A case file that cannot be run; the message names the file, the case and its line."""

    code, status = "invalid-cases", 422


class _Bad(ValueError):
    """A problem inside one case, before the case's label is known to the message."""


class Sender(Enum):
    DIRECTORY = "ori"
    UNKNOWN = "unknown_ori"
    INLINE = "agency"


@dataclass(frozen=True, slots=True)
class Expectation:
    verdict: Verdict
    released: frozenset[str] | None = None
    withheld: frozenset[str] | None = None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """One request and what the policy must answer; `request.ori` is the ORI as written."""

    number: int
    name: str
    line: int
    source: str
    state: str
    sender: Sender
    request: Request
    expect: Expectation
    agency: Mapping[str, object]
    """Inline attributes, for `Sender.INLINE`; empty otherwise."""

    @property
    def title(self) -> str:
        return _title(self.number, self.name, self.line)

    @property
    def label(self) -> str:
        return f"{self.source}: {self.title}"


@dataclass(frozen=True, slots=True)
class CaseFile:
    source: str
    cases: tuple[Case, ...]

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    decision: Decision
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def explanation(self) -> str:
        """One line: what differed, or what was decided and by which policies."""
        if self.problems:
            return "; ".join(self.problems)
        return f"{self.decision.verdict.value} ({', '.join(self.decision.policies)})"


@dataclass(frozen=True, slots=True)
class CaseReport:
    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.passed)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def ok(self) -> bool:
        return not self.failed


def load_cases(path: Path, state: str | None = None) -> CaseFile:
    """The cases of a YAML file; `state` is the home of cases that name none."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise CaseFileError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise CaseFileError(f"{path}: not UTF-8 text ({error.reason} at byte "
                            f"{error.start})") from None
    return parse_cases(text, str(path), state)


def parse_cases(text: str, source: str = "cases", state: str | None = None) -> CaseFile:
    """Cases from YAML text; every problem is a CaseFileError naming the case and its line."""
    root, data = _document(text, source)
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise CaseFileError(f"{source}: expected a mapping with `cases:` (and optionally "
                            "`state:`) at the top")
    try:
        _check_fields(data, FILE, "the file")
        given = data.get("state", state)
        default = _state(given) if given is not None else None
    except _Bad as error:
        raise CaseFileError(f"{source}: {error}") from None
    items = data.get("cases")
    if not items:
        raise CaseFileError(f"{source}: no cases (write them as a list under `cases:`)")
    nodes = next(value for key, value in root.value if key.value == "cases").value
    return CaseFile(source, tuple(
        _case(item, number, node.start_mark.line + 1, source, default)
        for number, (item, node) in enumerate(zip(items, nodes, strict=True), 1)))


def run_cases(policy: str | PolicySource, cases: Iterable[Case],
              snapshot: Snapshot) -> CaseReport:
    """Decide every case with the policy over the directory snapshot and compare.

    Raises PolicyError for a policy that does not compile and CaseFileError for a case whose
    agency cannot be built or whose ORI is (or, for `unknown_ori`, is not) in the directory.
    """
    source = compile_policies(policy) if isinstance(policy, str) else policy
    cases = list(cases)
    decided: dict[int, Decision] = {}
    for world in _plan(cases, snapshot):
        agencies = {ori: agency for ori, agency in world.agencies.items() if agency}
        engine = PolicyEngine(world.home, source,
                              Snapshot(snapshot.version, MappingProxyType(agencies)))
        for case in world.cases:
            decided[id(case)] = engine.decide(case.request)
    return CaseReport(tuple(CaseResult(case, decided[id(case)],
                                       _problems(case.expect, decided[id(case)]))
                            for case in cases))


@dataclass
class _World:
    """The agencies one engine is built over: only those the cases send from.

    A decision reads the sender's own entity and nothing else of the directory, so a world of
    the senders alone decides exactly as the whole directory would, at a fraction of the
    cost. Cases whose agencies disagree (an ORI as listed and as changed) get separate worlds.
    """

    home: str
    agencies: dict[str, Agency | None]
    """ORI to the agency cases rely on, or None where they rely on its absence."""
    cases: list[Case]

    def fits(self, home: str, ori: str, agency: Agency | None) -> bool:
        return home == self.home and self.agencies.get(ori, agency) == agency


def _plan(cases: Sequence[Case], snapshot: Snapshot) -> list[_World]:
    worlds: list[_World] = []
    for case in cases:
        ori, agency = _sender(case, snapshot)
        world = next((w for w in worlds if w.fits(case.state, ori, agency)), None)
        if world is None:
            world = _World(case.state, {}, [])
            worlds.append(world)
        world.agencies[ori] = agency
        world.cases.append(case)
    return worlds


def _sender(case: Case, snapshot: Snapshot) -> tuple[str, Agency | None]:
    """The ORI a case sends from and the agency the directory must hold for it."""
    try:
        if case.sender is Sender.UNKNOWN:
            return _unknown(case.request.ori, snapshot), None
        ori = normalise_ori(case.request.ori)
        listed = snapshot.get(ori)
        if case.sender is Sender.DIRECTORY:
            if listed is None:
                raise _Bad(f"ORI {ori} is not in the directory (write `unknown_ori:` to test "
                           "a sender the directory does not know, or `agency:` to add one)")
            return ori, listed
        return ori, _inline(case.agency, listed)
    except (_Bad, DirectoryError) as error:
        raise CaseFileError(f"{case.label}: {error}") from None


def _unknown(written: str, snapshot: Snapshot) -> str:
    try:
        ori = normalise_ori(written)
    except DirectoryError:
        return written
    if snapshot.get(ori) is not None:
        raise _Bad(f"unknown_ori {ori} is in the directory; use `ori:` for a listed agency")
    return ori


def _inline(fields: Mapping[str, object], listed: Agency | None) -> Agency:
    """An agency from a case's attributes; a listed ORI starts from its directory entry."""
    # Types were checked when the file was read (AGENCY); Agency checks the values.
    values: dict[str, Any] = dict(fields)
    if "level" in values:
        values["level"] = Level.parse(values["level"])
    for name in ("permissions", "programs"):
        if name in values:
            values[name] = frozenset(values[name])
    if listed is not None:
        return dataclasses.replace(listed, **values)
    missing = [name for name in NEW_AGENCY if name not in values]
    if missing:
        raise _Bad(f"agency {values['ori']} is not in the directory, so `agency:` must also "
                   "give " + ", ".join(missing))
    values.setdefault("name", f"Test agency {values['ori']}")
    return Agency(**values)


def _problems(expect: Expectation, decision: Decision) -> tuple[str, ...]:
    found = []
    if decision.verdict is not expect.verdict:
        why = f" ({decision.explanation})" if decision.reasons else ""
        found.append(f"expected {expect.verdict.value}, got {decision.verdict.value}{why}")
    for what, wanted, got in (("released", expect.released, decision.released),
                              ("withheld", expect.withheld, decision.withheld)):
        if wanted is not None and wanted != frozenset(got):
            found.append(f"{what} {_words(got)}, expected {_words(wanted)}")
    if expect.policy is not None and expect.policy not in decision.policies:
        found.append(f"policy {expect.policy} did not decide (deciding: "
                     f"{', '.join(decision.policies) or 'none'})")
    return tuple(found)


def _words(elements: Iterable[str]) -> str:
    ordered = sorted(elements, key=ELEMENTS.index)
    return "[" + ", ".join(ordered) + "]"


# --- reading YAML ---------------------------------------------------------------------------


def _document(text: str, source: str) -> tuple[yaml.Node | None, object]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _no_duplicates(root, source)
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CaseFileError(f"{source}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
    return root, data


def _no_duplicates(node: yaml.Node, source: str) -> None:
    """YAML lets a later key silently replace an earlier one; in a test case that hides a typo."""
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise CaseFileError(f"{source}: line {key.start_mark.line + 1}: "
                                        f"{key.value!r} is given twice")
                seen.add(key.value)
            _no_duplicates(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_duplicates(item, source)


def _case(item: object, number: int, line: int, source: str, state: str | None) -> Case:
    name = item.get("name") if isinstance(item, dict) else None
    label = f"{source}: {_title(number, name if isinstance(name, str) else '', line)}"
    try:
        if not isinstance(item, dict):
            raise _Bad(f"expected a mapping of case fields, got {_kind(item)}")
        return _build(item, number, line, source, state)
    except (_Bad, DirectoryError) as error:
        raise CaseFileError(f"{label}: {error}") from None


def _build(item: dict[str, object], number: int, line: int, source: str,
           state: str | None) -> Case:
    _check_fields(item, CASE, "a case")
    senders = [field for field in SENDERS if field in item]
    if len(senders) != 1:
        raise _Bad("give exactly one of `ori:`, `unknown_ori:` or `agency:`")
    sender = Sender(senders[0])
    agency: dict[str, object] = {}
    if sender is Sender.INLINE:
        agency = _agency(item["agency"])
        ori = str(agency["ori"])
    else:
        ori = str(item[sender.value])
    home = _state(item["state"]) if "state" in item else state
    if home is None:
        raise _Bad("no home state: give `state:` in the case or the file, or --state")
    for needed in ("key", "expect"):
        if needed not in item:
            raise _Bad(f"`{needed}:` is missing")
    key = str(item["key"])
    if key.strip().upper() not in KEYS:
        raise _Bad(f"key {key!r} is not one of {' '.join(KEYS)}")
    context = cast(dict[str, Any], item.get("context", {}))  # a mapping: checked above
    _check_fields(context, CONTEXT, "context")
    request = Request(ori, key, context.get("reason", ""),
                      multi_state=context.get("multi_state", False),
                      image_requested=context.get("image_requested", False),
                      court_order=context.get("court_order", False),
                      attested=context.get("attested", False))
    return Case(number, str(item.get("name", "")), line, source, home, sender,
                request, _expectation(item), MappingProxyType(agency))


def _expectation(item: Mapping[str, object]) -> Expectation:
    verdicts = {verdict.value: verdict for verdict in Verdict}
    expect = str(item["expect"]).strip().lower()
    if expect not in verdicts:
        raise _Bad(f"expect {item['expect']!r} is not one of allow, review, deny")
    sets = {}
    for field in ("released", "withheld"):
        if field in item:
            words = _strings(item[field], field)
            unknown = sorted(set(words) - set(ELEMENTS))
            if unknown:
                raise _Bad(f"{field}: {unknown[0]!r} is not an element (one of "
                           f"{' '.join(ELEMENTS)})")
            sets[field] = frozenset(words)
    policy = item.get("policy")
    return Expectation(verdicts[expect], sets.get("released"), sets.get("withheld"),
                       str(policy).strip() if policy is not None else None)


def _agency(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Bad(f"agency must be a mapping, got {_kind(value)}")
    _check_fields(value, AGENCY, "agency")
    if "ori" not in value:
        raise _Bad("agency: `ori:` is missing")
    for name in ("permissions", "programs"):
        if name in value:
            _strings(value[name], f"agency {name}")
    return dict(value)


def _check_fields(mapping: Mapping[Any, object], fields: Mapping[str, type],
                  what: str) -> None:
    for name, value in mapping.items():
        if name not in fields:
            raise _Bad(f"unknown key {name!r} in {what} (expected one of "
                       f"{', '.join(fields)})")
        wanted = fields[str(name)]
        if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
            hint = " (quote it)" if wanted is str and isinstance(value, bool | int) else ""
            raise _Bad(f"{name} must be {_NAMES[wanted]}, got {_kind(value)}{hint}")


_NAMES: dict[type, str] = {str: "text", bool: "true or false", list: "a list",
                           dict: "a mapping"}


def _strings(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{field} must be a list of words, e.g. [identity, license]")
    return [v.strip() for v in value]


def _state(value: object) -> str:
    if not isinstance(value, str) or value.strip().upper() not in STATES:
        raise _Bad(f"state {value!r} is not a state code" + (" (quote it)" if isinstance(
            value, bool) else ""))
    return value.strip().upper()


def _title(number: int, name: str, line: int) -> str:
    return f"case {number}" + (f" {name!r}" if name else "") + f" (line {line})"


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no word)"
    return {str: "text", int: "a number", float: "a number", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
