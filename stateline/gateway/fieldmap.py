"""A state's field map: which data element each field of its DMV responder's answers carries
(`answers` reads the answers with it), so policy can release or withhold each as it does the
local store's.

The map is TOML (the shipped ones, in `stateline/dmv/layouts/`, show every setting)::

    [answer]
    style = "prefixed"            # PREFIX/VALUE fields; or "labeled": LABEL: VALUE a line
    record = "RECORD "            # a line starting with this opens the next record
    image = "IMAGE "              # optional: opens record N's photo, base64 lines after it
    no_record = ["NOT ON FILE"]
    unavailable = ["FILE NOT AVAILABLE"]

    [fields]
    "SOC/" = "ssn"
    "SSN:" = { element = "ssn", as = "SOC" }
    "BIRTH DATE:" = { element = "identity", as = "DOB", date = "MM/DD/CCYY" }
    "PHOTO:" = { element = "photo", image = true }
    "ODL/" = "owner"

A map that cannot be trusted is refused whole, with the setting at fault named.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..datadir import ConfigFileError
from ..policy.schema import ELEMENTS
from ..protocol.model import PREFIX_PATTERN

OWNER = "owner"
"""Target of the field that names a vehicle's registered owner by license number: kept to
know whose record it is (court orders), never answered."""
OWNER_PREFIX = "ODL"
TARGETS = (*ELEMENTS, OWNER)
STYLES = {"prefixed": "/", "labeled": ":"}
IDENTIFIERS = {"driver": "OLN", "vehicle": "VIN"}
"""The prefix that names each kind of record: what audit entries list as disclosed."""
DATES = {"CCYYMMDD": "%Y%m%d", "MM/DD/CCYY": "%m/%d/%Y", "CCYY-MM-DD": "%Y-%m-%d",
         "MMDDCCYY": "%m%d%Y"}
"""Date spellings a map may name; each is read into CCYYMMDD, as Stateline's records keep it."""

MAP_LIMIT = 64 * 1024
MAP_FIELDS = 500

KEYS = {"prefixed": re.compile(r"[A-Z][A-Z0-9]{0,7}/"),
        "labeled": re.compile(r"[A-Z][A-Z0-9 #'()\-]{0,39}:")}
"""What a field's name looks like in each style: anything else in its place is no field."""
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHIPPED = re.compile(r"[a-z][a-z0-9-]{0,40}")
_ANSWER_KEYS = {"style", "record", "image", "no_record", "unavailable"}
_RULE_KEYS = {"element", "as", "date", "image"}


class FieldMapError(ConfigFileError):
    """A field map that cannot be used, with the setting at fault: the gateway will not start
    on a map it cannot trust."""


@dataclass(frozen=True, slots=True)
class Rule:
    """What one field of the responder's answers is: its element, and the prefix the gateway
    answers it under."""

    element: str
    prefix: str
    date: str | None = None
    image: bool = False


@dataclass(frozen=True, slots=True)
class FieldMap:
    source: str
    style: str
    record: str
    image: str | None
    no_record: frozenset[str]
    unavailable: frozenset[str]
    rules: Mapping[str, Rule]


def load_field_map(name: str, folder: Path) -> FieldMap:
    """A shipped map by its layout's name (`prefixed`), else a TOML file, relative paths read
    from `folder` (the state's)."""
    if _SHIPPED.fullmatch(name):
        shipped = resources.files("stateline.dmv.layouts").joinpath(f"{name}.fieldmap.toml")
        if not shipped.is_file():
            known = sorted(p.name.removesuffix(".fieldmap.toml")
                           for p in resources.files("stateline.dmv.layouts").iterdir()
                           if p.name.endswith(".fieldmap.toml"))
            raise FieldMapError(f"no field map is shipped for a layout named {name!r} "
                                f"(shipped: {', '.join(known)}); give a file's path instead")
        return parse_field_map(shipped.read_text(encoding="utf-8"), f"field map {name!r}")
    path = Path(name).expanduser()
    path = path if path.is_absolute() else folder / path
    try:
        with path.open("rb") as file:
            raw = file.read(MAP_LIMIT + 1)
    except OSError as error:
        raise FieldMapError(f"cannot read field map {path}: {error.strerror or error}") from None
    if len(raw) > MAP_LIMIT:
        raise FieldMapError(f"{path}: a field map may be at most {MAP_LIMIT:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldMapError(f"{path}: a field map is UTF-8 text") from None
    return parse_field_map(text, str(path))


def parse_field_map(text: str, source: str) -> FieldMap:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FieldMapError(f"{source}: {error}") from None
    extra = sorted(set(document) - {"answer", "fields"})
    if extra:
        raise FieldMapError(f"{source}: no table {', '.join(extra)} (a map has [answer] and "
                            "[fields])")
    answer, fields = document.get("answer"), document.get("fields")
    if not isinstance(answer, dict) or not isinstance(fields, dict) or not fields:
        raise FieldMapError(f"{source}: a map needs an [answer] table and a [fields] table "
                            "naming at least one field")
    unknown = sorted(set(answer) - _ANSWER_KEYS)
    if unknown:
        raise FieldMapError(f"{source}: [answer] has no setting {', '.join(unknown)}")
    style = answer.get("style")
    if style not in STYLES:
        raise FieldMapError(f"{source}: [answer] style must be prefixed or labeled, not "
                            f"{style!r}")
    record = _marker(answer.get("record"), source, "record")
    image = None if answer.get("image") is None else _marker(answer["image"], source, "image")
    if len(fields) > MAP_FIELDS:
        raise FieldMapError(f"{source}: at most {MAP_FIELDS} fields")
    rules = {key: _rule(key, value, str(style), source) for key, value in fields.items()}
    _check_rules(rules, tuple(m for m in (record, image) if m), source)
    return FieldMap(source, str(style), record, image,
                    _phrases(answer.get("no_record"), source, "no_record", needed=True),
                    _phrases(answer.get("unavailable", []), source, "unavailable"), rules)


def _marker(value: object, source: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 40 or \
            CONTROL.search(value):
        raise FieldMapError(f"{source}: [answer] {name} must be the text (1-40 characters) "
                            "that starts its line")
    return value.strip()


def _phrases(value: object, source: str, name: str, *, needed: bool = False) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 200
                                              for v in value) or (needed and not value):
        raise FieldMapError(f"{source}: [answer] {name} must be a list of answers "
                            f"(1-200 characters each){' with at least one' if needed else ''}")
    return frozenset(" ".join(v.split()) for v in value)


def _rule(key: str, value: object, style: str, source: str) -> Rule:
    where = f"{source}: [fields] {key!r}"
    if not KEYS[style].fullmatch(key):
        shape = "PREFIX/ (1-8 capitals and digits)" if style == "prefixed" else \
            "LABEL: (capitals, digits, spaces; up to 40)"
        raise FieldMapError(f"{where}: a {style} map names fields as {shape}")
    table: dict[str, Any] = {"element": value} if isinstance(value, str) else \
        dict(value) if isinstance(value, dict) else {}
    unknown = sorted(set(table) - _RULE_KEYS)
    element = table.get("element")
    if unknown or element not in TARGETS:
        raise FieldMapError(f"{where} must name one of {', '.join(TARGETS)}"
                            f"{'; no setting ' + ', '.join(unknown) if unknown else ''}")
    image = table.get("image", False)
    if not isinstance(image, bool) or (image and element != "photo"):
        raise FieldMapError(f"{where}: image = true belongs to a photo field")
    # The photo itself is answered as IMG/Y; the owner's license number is never answered.
    default = "IMG" if image else OWNER_PREFIX if element == OWNER else key[:-1]
    prefix = table.get("as", default)
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise FieldMapError(f"{where}: answered under prefix {prefix!r}, which is not 2-4 "
                            "capitals and digits; give it one with as = \"PREFIX\"")
    date = table.get("date")
    if date is not None and date not in DATES:
        raise FieldMapError(f"{where}: date must be one of {', '.join(DATES)}")
    return Rule(str(element), prefix, date, image)


def _check_rules(rules: dict[str, Rule], markers: tuple[str, ...], source: str) -> None:
    """One element per answered prefix, at most one image field, a record identifier, and no
    field a marker line could be taken for."""
    seen: dict[str, str] = {}
    for key, rule in rules.items():
        if rule.element == OWNER:
            continue
        if seen.setdefault(rule.prefix, rule.element) != rule.element:
            raise FieldMapError(f"{source}: prefix {rule.prefix} is answered in two elements "
                                f"({seen[rule.prefix]} and {rule.element})")
        if any(key.startswith(marker) for marker in markers):
            raise FieldMapError(f"{source}: field {key!r} starts like a record or image line")
    if sum(rule.image for rule in rules.values()) > 1:
        raise FieldMapError(f"{source}: only one field may carry the photo")
    if not set(IDENTIFIERS.values()) & set(seen):
        raise FieldMapError(f"{source}: no field is answered as OLN or VIN, so no record "
                            "could be told apart (add as = \"OLN\" to the license number)")


__all__ = ["DATES", "IDENTIFIERS", "KEYS", "OWNER", "STYLES", "FieldMap", "FieldMapError",
           "Rule", "load_field_map", "parse_field_map"]
