"""Statistics categories: which column of a public report an agency's requests are counted in.

The rules are data, an ordered table read top to bottom where the first match wins, so a state
can reorder or extend them in a TOML file (see `parse_rules`) without touching code. The same
matchers name the groups policy uses as Cedar parents (`federal`, `DHS`, ...).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .agency import DEPARTMENTS, DHS_IMMIGRATION, Agency, DirectoryError, Level

UNCATEGORISED = "uncategorised"
"""What `category` answers when a state's table leaves an agency unmatched."""


class RuleFileError(DirectoryError):
    """A category rule file that cannot be used; the message names the file and the rule."""

    code = "invalid-rules"


@dataclass(frozen=True, slots=True)
class Match:
    """Accepts an attribute when it has one of `values` (or, negated, none of them)."""

    values: frozenset[str]
    negate: bool = False

    def accepts(self, present: Iterable[str]) -> bool:
        return self.values.isdisjoint(present) == self.negate


def one_of(*values: str) -> Match:
    return Match(frozenset(values))


def none_of(*values: str) -> Match:
    return Match(frozenset(values), negate=True)


ATTRIBUTES: dict[str, Callable[[Agency], Iterable[str]]] = {
    "department": lambda a: (a.department,),
    "component": lambda a: (a.component,),
    "level": lambda a: (a.level.value,),
    "agency_type": lambda a: (a.agency_type,),
    "state": lambda a: (a.state,),
    "program": lambda a: a.programs,
}
"""What a rule can match on: the values an agency has for it (one each, but many programs)."""

_KNOWN: dict[str, frozenset[str]] = {
    "department": frozenset({"", *DEPARTMENTS}),
    "component": frozenset({"", *(c for cs in DEPARTMENTS.values() for c in cs)}),
    "level": frozenset(level.value for level in Level),
}
"""Values a rule file may name, where the directory knows them all: catches typos."""


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One row of the table: every matcher given must accept the agency.

    `home` compares the agency's state with the state asking: True in-state, False out-of-state.
    """

    name: str
    department: Match | None = None
    component: Match | None = None
    level: Match | None = None
    agency_type: Match | None = None
    state: Match | None = None
    program: Match | None = None
    home: bool | None = None
    checks: tuple[tuple[Callable[[Agency], Iterable[str]], Match], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = ((values, getattr(self, attribute)) for attribute, values in ATTRIBUTES.items())
        object.__setattr__(self, "checks", tuple((v, m) for v, m in given if m is not None))

    def matches(self, agency: Agency, home: str) -> bool:
        if self.home is not None and (agency.state == home) != self.home:
            return False
        return all(match.accepts(values(agency)) for values, match in self.checks)


_DHS = one_of("DHS")

DEFAULT_CATEGORIES = (
    CategoryRule("ICE", department=_DHS, component=one_of("ICE")),
    CategoryRule("HSI", department=_DHS, component=one_of("HSI")),
    CategoryRule("CBP", department=_DHS, component=one_of("CBP")),
    CategoryRule("USCIS", department=_DHS, component=one_of("USCIS")),
    CategoryRule("DHS-other", department=_DHS),
    CategoryRule("federal-other", level=one_of("federal")),
    CategoryRule("287(g) partner", level=none_of("federal"), program=one_of("287g")),
    CategoryRule("out-of-state", home=False),
    CategoryRule("in-state", home=True),
)
"""DESIGN.md's categories in its order; together the last two match every agency."""

DEFAULT_GROUPS = (
    CategoryRule("federal", level=one_of("federal")),
    CategoryRule("DHS", department=_DHS),
    CategoryRule("federal-immigration", department=_DHS, component=one_of(*DHS_IMMIGRATION)),
    CategoryRule("287g", level=none_of("federal"), program=one_of("287g")),
)
"""Groups for policy (Cedar `Category` parents). `federal-immigration` is the four DHS
immigration components and nothing else: 287(g) partners are their own group, `287g`."""


@dataclass(frozen=True, slots=True)
class RuleTable:
    """Categories (first match wins) and groups (every match counts), names unique."""

    categories: tuple[CategoryRule, ...] = DEFAULT_CATEGORIES
    groups: tuple[CategoryRule, ...] = DEFAULT_GROUPS
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(rule.name for rule in (*self.categories, *self.groups))
        seen: set[str] = set()
        for name in names:
            if not name.strip():
                raise RuleFileError("a category or group has an empty name")
            if name in seen:
                raise RuleFileError(f"{name!r} names more than one category or group")
            seen.add(name)
        object.__setattr__(self, "names", names)

    def category(self, agency: Agency, home: str) -> str:
        """The one category an agency's requests to `home` are counted in."""
        home = home.strip().upper()
        for rule in self.categories:
            if rule.matches(agency, home):
                return rule.name
        return UNCATEGORISED

    def memberships(self, agency: Agency, home: str) -> tuple[str, ...]:
        """Every category and group the agency matches, in table order."""
        home = home.strip().upper()
        return tuple(rule.name for rule in (*self.categories, *self.groups)
                     if rule.matches(agency, home))


DEFAULT_RULES = RuleTable()
CATEGORIES = tuple(rule.name for rule in DEFAULT_CATEGORIES)
"""The default category names in report order."""


def category(agency: Agency, home: str, rules: RuleTable = DEFAULT_RULES) -> str:
    return rules.category(agency, home)


def memberships(agency: Agency, home: str, rules: RuleTable = DEFAULT_RULES) -> tuple[str, ...]:
    return rules.memberships(agency, home)


def is_federal_immigration(agency: Agency) -> bool:
    """One of DHS's four immigration components (ICE, HSI, CBP, USCIS); nothing else."""
    return agency.department == "DHS" and agency.component in DHS_IMMIGRATION


def load_rules(path: Path) -> RuleTable:
    """A rule table from a TOML file; any problem is a RuleFileError naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise RuleFileError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise RuleFileError(f"{path}: not UTF-8 text ({error.reason} at byte "
                            f"{error.start})") from None
    return parse_rules(text, source=str(path))


def parse_rules(text: str, source: str = "rules") -> RuleTable:
    """A rule table from TOML text: ``[[category]]`` tables in order, optional ``[[group]]``.

    Each table has a `name` and any of `department`, `component`, `level`, `agency_type`,
    `state`, `program` (a string, a list meaning "one of", or ``{ not = [...] }``) and `home`
    (true: in-state, false: out-of-state). Without ``[[group]]`` tables the default groups hold.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(f"{source}: not valid TOML ({error})") from None
    unknown = set(data) - {"category", "group"}
    if unknown:
        raise RuleFileError(f"{source}: unknown section {sorted(unknown)[0]!r} "
                            "(expected [[category]] and [[group]])")
    if not data.get("category"):
        raise RuleFileError(f"{source}: no [[category]] rules")
    categories = _rules(data["category"], "category", source)
    groups = _rules(data["group"], "group", source) if "group" in data else DEFAULT_GROUPS
    try:
        return RuleTable(categories, groups)
    except RuleFileError as error:
        raise RuleFileError(f"{source}: {error}") from None


def _rules(tables: object, kind: str, source: str) -> tuple[CategoryRule, ...]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RuleFileError(f"{source}: {kind} must be written as [[{kind}]] tables")
    rules = []
    for number, table in enumerate(tables, 1):
        where = f"{source}: {kind} {number} ({table.get('name', 'unnamed')!r})"
        try:
            rules.append(_rule(table))
        except RuleFileError as error:
            raise RuleFileError(f"{where}: {error}") from None
    return tuple(rules)


def _rule(table: Mapping[str, object]) -> CategoryRule:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleFileError("needs a name")
    allowed = {"name", "home", *ATTRIBUTES}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RuleFileError(f"unknown key {unknown[0]!r} (expected one of "
                            f"{', '.join(sorted(allowed))})")
    home = table.get("home")
    if home is not None and not isinstance(home, bool):
        raise RuleFileError("home must be true (in-state) or false (out-of-state)")
    matches = {attribute: _match(attribute, table[attribute])
               for attribute in ATTRIBUTES if attribute in table}
    return CategoryRule(name.strip(), home=home, **matches)


def _match(attribute: str, value: object) -> Match:
    negate = False
    if isinstance(value, dict):
        if set(value) != {"not"}:
            raise RuleFileError(f"{attribute}: a table must be {{ not = [...] }}")
        negate, value = True, value["not"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise RuleFileError(f"{attribute}: expected a string or a list of strings")
    return Match(_checked(attribute, values), negate)


def _checked(attribute: str, values: Iterable[str]) -> frozenset[str]:
    spelled = {"level": str.lower, "program": str.lower}.get(attribute, str.upper)
    result = frozenset(spelled(v.strip()) for v in values)
    known = _KNOWN.get(attribute)
    wrong = sorted(result - known) if known is not None else []
    if wrong:
        raise RuleFileError(f"{attribute} {wrong[0]!r} is not one of "
                            + ", ".join(sorted(v for v in known or () if v)))
    return result
