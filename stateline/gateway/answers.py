"""A DMV responder's answer read with the state's field map into records tagged by data
element, so policy can release or withhold each as it does the local store's.

Reading fails closed: a field the map does not know is kept apart (`unmapped`) and withheld
from every answer; anything else the reader cannot place makes the whole answer unreadable.
What an unreadable answer said is never quoted (its error lands in the audit log, and could
hold anyone's SSN): errors name a line by number and a field by its name only. Pure.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime

from ..dmv.records import Hit
from ..protocol import Field, Reject
from .fieldmap import CONTROL, DATES, IDENTIFIERS, KEYS, OWNER, OWNER_PREFIX, FieldMap, Rule
from .upstream import UnreadableAnswer, UpstreamNoAnswer

UNMAPPED = "unmapped"
"""The element an answer's withheld mark names for fields the map does not know."""
NONE = "NONE"
MOST_RECORDS = 100
MOST_FIELDS = 200
VALUE_LIMIT = 200
IMAGE_LIMIT = 256 * 1024
SHOWN_LIMIT = 40
"""Characters of an unknown field's name kept for warnings and metrics."""
PNG = b"\x89PNG\r\n\x1a\n"
IDENTIFYING = frozenset({"OLN", "VIN", "NAM", "DOB", "LIC", OWNER_PREFIX})
"""Prefixes that say whose record it is: one value each, or readers (the audit's record id,
a court order's subject) could each take a different one."""
_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


@dataclass(frozen=True, slots=True)
class ProxiedHit(Hit):
    """A record read from the upstream's answer, with the fields the map did not know."""

    unmapped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    hits: tuple[ProxiedHit, ...]
    unmapped: tuple[str, ...]
    """Every unknown field's name, as often as it came."""


def read_records(body: str, fmap: FieldMap, kind: str) -> Reading:
    """The records of an answer body, or UnreadableAnswer; UpstreamNoAnswer when the
    responder says it could not answer."""
    numbered = [(n, line.strip()) for n, line in enumerate(body.split("\n"), 1)]
    lines = [(n, line) for n, line in numbered if line]
    whole = " ".join(" ".join(line for _, line in lines).split())
    if whole in fmap.no_record:
        return Reading((), ())
    if whole in fmap.unavailable:
        raise UpstreamNoAnswer(f"the DMV answered {whole!r}")
    drafts: list[_Draft] = []
    photo: _Draft | None = None
    for number, line in lines:
        if line.startswith(fmap.record):
            _end_photo(photo)
            photo = None
            drafts.append(_Draft())
            if len(drafts) > MOST_RECORDS:
                raise UnreadableAnswer(f"more than {MOST_RECORDS} records in one answer")
        elif fmap.image is not None and line.startswith(fmap.image):
            _end_photo(photo)
            photo = _photo_of(line[len(fmap.image):], drafts, number)
        elif photo is not None:
            photo.add_image_line(line)
        elif not drafts:
            raise UnreadableAnswer(f"line {number} comes before any record")
        else:
            for key, value in _fields(line, fmap.style, number):
                drafts[-1].add(key, value, fmap)
    _end_photo(photo)
    hits = tuple(draft.hit(kind) for draft in drafts)
    if not hits:
        raise UnreadableAnswer("no record, in words the map does not list as none")
    return Reading(hits, tuple(name for hit in hits for name in hit.unmapped))


def _fields(line: str, style: str, number: int) -> list[tuple[str, str]]:
    """A line's fields as (name, value); a name that does not look like one of the style's
    field names makes the line unreadable (it may be a value, and is never repeated)."""
    pattern = KEYS[style]
    if style == "labeled":
        label, colon, value = line.partition(":")
        key = " ".join(label.split()) + ":"
        if not colon or not pattern.fullmatch(key):
            raise UnreadableAnswer(f"line {number} is not LABEL: VALUE")
        return [(key, value)]
    found = []
    for segment in line.split("."):
        prefix, slash, value = segment.strip().partition("/")
        key = prefix.strip() + "/"
        if slash and pattern.fullmatch(key):
            found.append((key, value))
        elif segment.strip():
            raise UnreadableAnswer(f"line {number} holds text that is not PREFIX/VALUE")
    return found


def _photo_of(rest: str, drafts: list[_Draft], line: int) -> _Draft:
    words = rest.split()
    number = int(words[0]) if words and words[0].isdigit() and len(words[0]) < 4 else 0
    if not 0 < number <= len(drafts) or drafts[number - 1].photo is not None:
        raise UnreadableAnswer(f"line {line}: a photo for no record, or a second one")
    drafts[number - 1].image = []
    return drafts[number - 1]


def _end_photo(draft: _Draft | None) -> None:
    if draft is not None and draft.image is not None:
        draft.set_photo("".join(draft.image))
        draft.image = None


@dataclass(slots=True)
class _Draft:
    """One record as its lines are read."""

    elements: dict[str, list[Field]] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    owner: str = ""
    photo: bytes | None = None
    image: list[str] | None = None
    """Base64 lines of the photo being read, while they come."""
    count: int = 0
    identifiers: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, raw: str, fmap: FieldMap) -> None:
        self.count += 1
        if self.count > MOST_FIELDS:
            raise UnreadableAnswer(f"more than {MOST_FIELDS} fields in one record")
        rule = fmap.rules.get(key)
        if rule is None:
            self.unmapped.append(_shown(key))
            return
        if rule.image:
            self.set_photo(raw.strip())
            return
        value = _value(raw, key, rule)
        prefix = OWNER_PREFIX if rule.element == OWNER else rule.prefix
        if prefix in IDENTIFYING and self.identifiers.setdefault(prefix, value) != value:
            raise UnreadableAnswer(f"a record with two values for {prefix}")
        if rule.element == OWNER:
            self.owner = "" if value == NONE else value
            return
        try:
            item = Field(rule.prefix, value)
        except Reject:
            raise UnreadableAnswer(f"field {_shown(key)} holds what no field can carry") \
                from None
        self.elements.setdefault(rule.element, []).append(item)

    def add_image_line(self, line: str) -> None:
        assert self.image is not None
        self.image.append(line)
        if sum(map(len, self.image)) > IMAGE_LIMIT * 4 // 3 + 4:
            raise UnreadableAnswer(f"a photo over {IMAGE_LIMIT:,} bytes")

    def set_photo(self, text: str) -> None:
        if self.photo is not None:
            raise UnreadableAnswer("two photos in one record")
        if len(text) > IMAGE_LIMIT * 4 // 3 + 4 or not _BASE64.fullmatch(text):
            raise UnreadableAnswer("a photo that is not base64, or over the size limit")
        try:
            png = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableAnswer("a photo that is not base64") from None
        if not png.startswith(PNG):
            raise UnreadableAnswer("a photo that is not a PNG image")
        self.photo = png

    def hit(self, kind: str) -> ProxiedHit:
        elements = {element: tuple(fields) for element, fields in self.elements.items()}
        if self.photo is not None and "photo" not in elements:
            elements["photo"] = (Field("IMG", "Y"),)
        wanted = IDENTIFIERS[kind]
        found = [f.value for fields in elements.values() for f in fields if f.prefix == wanted]
        if not found or found[0] in ("", NONE):
            raise UnreadableAnswer(f"a {kind} record with no {wanted}")
        return ProxiedHit(kind, found[0], elements, self.photo, self.owner,
                          tuple(self.unmapped))


def _value(raw: str, key: str, rule: Rule) -> str:
    """A value as a Field can carry it: no control characters, no periods (they end fields in
    legacy text), blanks collapsed; a date read into CCYYMMDD."""
    value = " ".join(CONTROL.sub(" ", raw).replace(".", " ").split()).upper() or NONE
    if len(value) > VALUE_LIMIT:
        raise UnreadableAnswer(f"field {_shown(key)} is over {VALUE_LIMIT} characters")
    if rule.date is not None and value != NONE:
        try:
            value = datetime.strptime(value, DATES[rule.date]).strftime("%Y%m%d")
        except ValueError:
            raise UnreadableAnswer(f"field {_shown(key)} is not a {rule.date} date") from None
    return value


def _shown(text: str) -> str:
    """Text from the responder as a warning or a metric may name it: printable, bounded."""
    return "".join(ch if ch.isprintable() else "?" for ch in text.strip())[:SHOWN_LIMIT]


__all__ = ["UNMAPPED", "ProxiedHit", "Reading", "read_records"]
