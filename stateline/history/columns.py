"""The column map: which CSV column (or JSON key) of a switch's export holds what an audit
entry keeps, written in TOML, one table per value:

    [time]
    column = "sent"
    format = "%m/%d/%Y %H:%M:%S"      # or "iso" (the default): ISO 8601
    zone = "America/Los_Angeles"      # for times without an offset; default --zone

    [sender]
    column = "ori"

    [outcome]
    column = "result"
    words = { HIT = "released", "NO HIT" = "no-record" }

`time`, `sender`, `key`, `outcome`, `elements`, `photo` and `records` are required;
`withheld`, `terms` and `destination` may be left out. docs/history.md has complete maps.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from .errors import HistoryError, Problem
from .rows import OUTCOMES, Bad, zone_named

ISO = "iso"
SEPARATOR = ";"
TRUE_WORDS = ("yes", "y", "true", "1")
FALSE_WORDS = ("no", "n", "false", "0", "")
MAP_LIMIT = 64 * 1024
"""Bytes in a column map: a few dozen lines are enough."""

OPTIONS: dict[str, frozenset[str]] = {
    "time": frozenset({"column", "format", "zone"}),
    "sender": frozenset({"column"}),
    "key": frozenset({"column"}),
    "outcome": frozenset({"column", "words"}),
    "elements": frozenset({"column", "separator"}),
    "withheld": frozenset({"column", "separator"}),
    "photo": frozenset({"column", "true", "false"}),
    "records": frozenset({"column", "separator"}),
    "terms": frozenset({"column"}),
    "destination": frozenset({"column"}),
}
"""Every table a map may have, and the settings each takes."""
REQUIRED = ("time", "sender", "key", "outcome", "elements", "photo", "records")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each value is, and how its cells are spelt."""

    columns: Mapping[str, str]
    """Each value's column (CSV header name or JSON key), by table name."""
    time_format: str = ISO
    zone: tzinfo | None = None
    outcomes: Mapping[str, str] = field(default_factory=dict)
    """The file's words (upper case) for each outcome, Stateline's own included."""
    separators: Mapping[str, str] = field(default_factory=dict)
    photo_true: frozenset[str] = frozenset(TRUE_WORDS)
    photo_false: frozenset[str] = frozenset(FALSE_WORDS)
    """Photo words, lower case."""


def load(path: Path) -> ColumnMap:
    """The map in a TOML file; HistoryError naming the file and what is wrong."""
    name = path.name
    try:
        with path.open("rb") as file:
            data = file.read(MAP_LIMIT + 1)
    except OSError as error:
        raise HistoryError([Problem(name, None, None, f"cannot read ({error.strerror})")]
                           ) from None
    if len(data) > MAP_LIMIT:
        raise HistoryError([Problem(name, None, None, f"over {MAP_LIMIT:,} bytes: not a "
                                    "column map")])
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise HistoryError([Problem(name, None, None, f"not a TOML column map ({error})")]
                           ) from None
    problems: list[str] = []
    found = parse(table, problems)
    if found is None:
        raise HistoryError([Problem(name, None, None, p) for p in problems])
    return found


def parse(table: Mapping[str, Any], problems: list[str]) -> ColumnMap | None:
    """A map from its TOML tables; None with `problems` said when it cannot be used."""
    for name in sorted(set(table) - set(OPTIONS)):
        problems.append(f"[{name}] is not a table a map has (it has "
                        f"{', '.join(f'[{n}]' for n in OPTIONS)})")
    for name in REQUIRED:
        if name not in table:
            problems.append(f"[{name}] is missing: it names the column that holds the "
                            f"{name}")
    columns: dict[str, str] = {}
    settings: dict[str, Mapping[str, Any]] = {}
    for name in OPTIONS:
        if name not in table:
            continue
        value = table[name]
        if not isinstance(value, Mapping):
            problems.append(f"[{name}] must be a table with column = \"...\"")
            continue
        for option in sorted(set(value) - OPTIONS[name]):
            problems.append(f"[{name}] {option} is not a setting of [{name}] (it takes "
                            f"{', '.join(sorted(OPTIONS[name]))})")
        column = value.get("column")
        if not isinstance(column, str) or not column.strip():
            problems.append(f"[{name}] column must name a column")
            continue
        columns[name] = column.strip()
        settings[name] = value
    found = _settings(columns, settings, problems)
    return None if problems else found


def _settings(columns: dict[str, str], settings: dict[str, Mapping[str, Any]],
              problems: list[str]) -> ColumnMap:
    time = settings.get("time", {})
    time_format = _text(time, "format", ISO, "time", problems)
    zone = None
    if "zone" in time:
        try:
            zone = zone_named(_text(time, "zone", "UTC", "time", problems))
        except Bad as error:
            problems.append(f"[time] zone: {error}")
    outcomes = {o.upper(): o for o in OUTCOMES}
    words = settings.get("outcome", {}).get("words", {})
    if not isinstance(words, Mapping):
        problems.append("[outcome] words must be a table of the file's words, e.g. "
                        "{ HIT = \"released\" }")
        words = {}
    for word, outcome in words.items():
        if outcome not in OUTCOMES:
            problems.append(f"[outcome] words: {word} = {outcome!r} is not an outcome "
                            f"({', '.join(OUTCOMES)})")
        else:
            outcomes[word.strip().upper()] = outcome
    separators = {name: _text(settings.get(name, {}), "separator", SEPARATOR, name, problems)
                  for name in ("elements", "withheld", "records")}
    for name, separator in separators.items():
        if not separator:
            problems.append(f"[{name}] separator must not be empty")
    photo = settings.get("photo", {})
    true, false = (_words(photo, key, default, problems)
                   for key, default in (("true", TRUE_WORDS), ("false", FALSE_WORDS)))
    if true & false:
        problems.append(f"[photo] {', '.join(map(repr, sorted(true & false)))} is both true "
                        "and false")
    return ColumnMap(columns, time_format, zone, outcomes, separators, true, false)


def _text(table: Mapping[str, Any], key: str, default: str, name: str,
          problems: list[str]) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        problems.append(f"[{name}] {key} must be a string")
        return default
    return value


def _words(table: Mapping[str, Any], key: str, default: tuple[str, ...],
           problems: list[str]) -> frozenset[str]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"[photo] {key} must be a list of words, e.g. [\"Y\"]")
        return frozenset(default)
    return frozenset(v.strip().lower() for v in value)
