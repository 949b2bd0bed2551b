"""Answer layouts of a state's own DMV system, as `stateline dmv responder` writes them.

Real states' DMV systems answer a DQ or an RQ in layouts of their own: fields in another
order, under other labels, dates and SSNs spelled differently, a photo as an element of its
own or inline. Each layout here is one such system, written from the same records; each ships
with the field map (`<name>.fieldmap.toml` beside this file) that tells a gateway in front of
it which data element each field carries. A test holds every layout and its map together.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..records import Hit

IMAGE_LINE = 76
"""Base64 characters per line of a photo written as an element of its own (as MIME does)."""

ANSWERED: dict[str, tuple[str, ...]] = {
    "DR": ("identity", "description", "address", "license", "credential", "ssn", "photo"),
    "DNR": ("identity", "description", "address", "license", "credential", "ssn"),
    "KR": ("identity", "license", "history", "photo"),
    "RR": ("vehicle", "registration"),
    "RPR": ("vehicle", "registration"),
}
"""What the state's DMV system puts in each answer: every element it holds, whoever asks
(deciding who may see what is the gateway's work, never the DMV's)."""

OWNER = "ODL"
"""The registered owner's license number: a vehicle record's own field, which no Stateline
element carries (a hit keeps it as `owner`)."""


def _as_is(value: str) -> str:
    return value


def _date(value: str) -> str:
    """CCYYMMDD as MM/DD/CCYY; NONE and anything that is not a date stay as they are."""
    if len(value) == 8 and value.isdigit():
        return f"{value[4:6]}/{value[6:]}/{value[:4]}"
    return value


def _ssn(value: str) -> str:
    return f"{value[:3]}-{value[3:5]}-{value[5:]}" if len(value) == 9 and value.isdigit() \
        else value


def _name(value: str) -> str:
    return value.replace(",", ", ", 1) if ", " not in value else value


SPELLINGS: dict[str, Callable[[str], str]] = {"as-is": _as_is, "date": _date, "ssn": _ssn,
                                              "name": _name}
"""How a layout may spell a value differently from Stateline's own records."""


@dataclass(frozen=True, slots=True)
class Layout:
    """One DMV system's answer layout."""

    name: str
    description: str
    style: str
    """prefixed: PREFIX/VALUE fields, an element's fields on one line; labeled: LABEL: VALUE,
    one field a line."""
    order: tuple[str, ...]
    """Stateline's prefixes in the order this layout writes them."""
    keys: dict[str, str]
    """Stateline's prefix → this layout's field (with its / or :)."""
    spelling: dict[str, str]
    """Stateline's prefix → how this layout spells its value (a SPELLINGS name)."""
    record: str
    """The line that opens record n of m."""
    no_record: str
    image: str | None
    """The line that opens record n's photo, written after every record; None: inline."""

    @property
    def field_map(self) -> Path:
        """The field map shipped with this layout, for a gateway in front of it."""
        return Path(str(resources.files(__name__).joinpath(f"{self.name}.fieldmap.toml")))


_STATELINE_ORDER = ("OLN", "NAM", "DOB", "SEX", "HGT", "WGT", "EYE", "HAI", "ADR", "CTY", "STA",
                    "ZIP", "CLS", "STS", "RST", "END", "ISS", "EXP", "CRD", "SOC", "IMG", "CNV",
                    "WDR", "HIS", "VIN", "VMA", "VMO", "VYR", "VST", "VCO", "LIC", "LIT", "LIY",
                    "REX", "OWN", OWNER)

PREFIXED = Layout(
    name="prefixed",
    description="Nlets-style prefixes, one element a line, license before description; the "
                "credential as DLT/; each photo a base64 element of its own after the records",
    style="prefixed",
    order=("OLN", "NAM", "DOB", "SEX", "CLS", "STS", "RST", "END", "ISS", "EXP", "CRD", "HGT",
           "WGT", "EYE", "HAI", "ADR", "CTY", "STA", "ZIP", "SOC", "IMG", "CNV", "WDR", "HIS",
           "VIN", "VYR", "VMA", "VMO", "VST", "VCO", "LIC", "LIY", "LIT", "REX", "OWN", OWNER),
    keys={**{p: f"{p}/" for p in _STATELINE_ORDER}, "CRD": "DLT/"},
    spelling={},
    record="RECORD {n} OF {m}",
    no_record="NOT ON FILE",
    image="IMAGE {n} OF {m}",
)

LABELED = Layout(
    name="labeled",
    description="One labeled field a line, name first; dates MM/DD/CCYY, the SSN with dashes; "
                "the photo inline as a base64 PHOTO: field",
    style="labeled",
    order=("NAM", "OLN", "DOB", "SEX", "ADR", "CTY", "STA", "ZIP", "HGT", "WGT", "EYE", "HAI",
           "CLS", "STS", "EXP", "ISS", "RST", "END", "CRD", "SOC", "IMG", "CNV", "WDR", "HIS",
           "LIC", "LIT", "LIY", "REX", "OWN", OWNER, "VIN", "VYR", "VMA", "VMO", "VST", "VCO"),
    keys={"NAM": "NAME:", "OLN": "LICENSE NO:", "DOB": "BIRTH DATE:", "SEX": "SEX:",
          "ADR": "STREET:", "CTY": "CITY:", "STA": "STATE:", "ZIP": "ZIP:", "HGT": "HEIGHT:",
          "WGT": "WEIGHT:", "EYE": "EYES:", "HAI": "HAIR:", "CLS": "CLASS:", "STS": "STATUS:",
          "EXP": "EXPIRES:", "ISS": "ISSUED:", "RST": "RESTRICTIONS:", "END": "ENDORSEMENTS:",
          "CRD": "CARD TYPE:", "SOC": "SSN:", "IMG": "PHOTO:", "CNV": "CONVICTION:",
          "WDR": "WITHDRAWAL:", "HIS": "HISTORY:", "LIC": "PLATE:", "LIT": "PLATE TYPE:",
          "LIY": "PLATE YEAR:", "REX": "REG EXPIRES:", "OWN": "OWNER:",
          OWNER: "OWNER LICENSE NO:", "VIN": "VIN:", "VYR": "YEAR:", "VMA": "MAKE:",
          "VMO": "MODEL:", "VST": "STYLE:", "VCO": "COLOR:"},
    spelling={"DOB": "date", "ISS": "date", "EXP": "date", "REX": "date", "SOC": "ssn",
              "NAM": "name", "OWN": "name"},
    record="--- RECORD {n} OF {m} ---",
    no_record="NO RECORD FOUND",
    image=None,
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (PREFIXED, LABELED)}


def write(layout: Layout, hits: Sequence[Hit], response_key: str) -> str:
    """An answer body as this layout writes it: each record's elements the answer carries;
    a photo only where the hit has one (the query asked for it)."""
    if not hits:
        return layout.no_record
    wanted = ANSWERED[response_key]
    rank = {prefix: i for i, prefix in enumerate(layout.order)}
    lines: list[str] = []
    images: list[tuple[int, bytes]] = []
    for n, hit in enumerate(hits, 1):
        lines.append(layout.record.format(n=n, m=len(hits)))
        fields = [(element, f.prefix, f.value) for element in wanted
                  for f in hit.elements.get(element, ())]
        if hit.kind == "vehicle" and hit.owner:
            fields.append(("registration", OWNER, hit.owner))
        fields.sort(key=lambda item: rank.get(item[1], len(rank)))
        photo = hit.photo if "photo" in wanted else None
        if photo is not None and layout.image is not None:
            images.append((n, photo))
        lines += _lines(layout, fields, photo)
    for n, photo in images:
        assert layout.image is not None
        lines.append(layout.image.format(n=n, m=len(hits)))
        text = base64.b64encode(photo).decode("ascii")
        lines += [text[i:i + IMAGE_LINE] for i in range(0, len(text), IMAGE_LINE)]
    return "\n".join(lines)


def _lines(layout: Layout, fields: list[tuple[str, str, str]], photo: bytes | None) -> list[str]:
    written: list[tuple[str, str]] = []
    for element, prefix, value in fields:
        if prefix == "IMG" and layout.image is None:  # inline: the picture itself, if asked
            if photo is None:
                continue
            value = base64.b64encode(photo).decode("ascii")
        spelled = SPELLINGS[layout.spelling.get(prefix, "as-is")](value)
        written.append((element, f"{layout.keys[prefix]}{_gap(layout)}{spelled}"))
    if layout.style == "labeled":
        return [text for _, text in written]
    lines: list[str] = []
    last = None
    for element, text in written:  # an element's fields share a line
        if element == last:
            lines[-1] += "." + text
        else:
            lines.append(text)
        last = element
    return lines


def _gap(layout: Layout) -> str:
    return " " if layout.style == "labeled" else ""


__all__ = ["ANSWERED", "LABELED", "LAYOUTS", "OWNER", "PREFIXED", "Layout", "write"]
