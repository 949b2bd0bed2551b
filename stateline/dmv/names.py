"""Names the way DMV systems compare them: normalised, split, and keyed by sound.

Normalisation upper-cases, folds accents, drops apostrophes and periods (``O'BRIEN`` is
``OBRIEN``), turns other punctuation into blanks and collapses blanks. The phonetic key is
American Soundex (jellyfish) of the name with its blanks removed, for last and first names
alike: it is what DMV and NCIC-era name searches were built on (several states even encode the
Soundex of the surname in the licence number), it keeps the first letter, so an initial still
finds its names, and it forgives the variants a clerk or an officer typically mistypes
(SMITH/SMYTHE/SCHMIDT, JON/JOHN, STEPHEN/STEVEN). Like those systems, it does not bridge a
changed first letter (CATHERINE/KATHERINE); the date of birth narrows what it lets through.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import jellyfish

NAME_LIMIT = 30
"""NAM's length limit in the protocol."""

SUFFIXES: dict[str, str] = {
    "JR": "JR", "JUNIOR": "JR", "SR": "SR", "SENIOR": "SR",
    "II": "II", "2ND": "II", "III": "III", "3RD": "III", "IV": "IV", "4TH": "IV",
}
"""Generational suffixes as written, and the form a record keeps."""

ANY_FIRST = ("", "~")
"""A first-key range that takes every first name (Soundex keys sort below ``~``)."""

_FOLDED = str.maketrans({"Ø": "O", "Æ": "AE", "Œ": "OE", "Ł": "L", "Đ": "D", "Þ": "TH",
                         "'": None, "\u2019": None, "`": None, ".": None})
_BLANKS = re.compile(r"[^A-Z0-9]+")
_CLEAN = re.compile(r"[A-Z0-9]+(?: [A-Z0-9]+)*")

MEMORY = 1 << 17
"""Name pieces remembered: names repeat, and a bulk load cleans and keys millions."""


@lru_cache(maxsize=MEMORY)
def clean(text: str) -> str:
    """Upper case, accents folded, apostrophes and periods gone, other punctuation a blank."""
    if _CLEAN.fullmatch(text):
        return text
    upper = text.upper().translate(_FOLDED)
    ascii_only = unicodedata.normalize("NFKD", upper).encode("ascii", "ignore").decode()
    return _BLANKS.sub(" ", ascii_only).strip()


@lru_cache(maxsize=MEMORY)
def sound(part: str) -> str:
    """The Soundex key of a name part ('' for no name), blanks ignored: DE LA CRUZ = DELACRUZ."""
    return jellyfish.soundex(part.replace(" ", "")) if part else ""


class Name(NamedTuple):
    """A person's name split the way a licence record keeps it; parts are already clean.

    A named tuple rather than a dataclass: a bulk load makes millions, and this is 4x cheaper.
    """

    last: str
    first: str = ""
    middle: str = ""
    suffix: str = ""

    @property
    def text(self) -> str:
        """LAST,FIRST MIDDLE SUFFIX, whatever its length."""
        return f"{self.last},{' '.join(filter(None, (self.first, self.middle, self.suffix)))}"

    @property
    def last_key(self) -> str:
        return sound(self.last)

    @property
    def first_key(self) -> str:
        return sound(self.first)

    def first_range(self) -> tuple[str, str]:
        """First-key bounds a search accepts: the key itself, any name with the same initial
        when only an initial was given, or every name when none was."""
        if not self.first:
            return ANY_FIRST
        if len(self.first) == 1:
            return self.first, self.first + "~"
        key = self.first_key
        return key, key


def parse_name(text: str) -> Name:
    """A name as queries carry it, ``LAST,FIRST MIDDLE SUFFIX``; never raises.

    Without a comma the whole text is the last name. A suffix is recognised as the final word
    of the given names, or of the surname (``SMITH JR,JOHN``) when a first name follows.
    """
    surname, _, given = text.partition(",")
    first, middle, suffix = _given(given)
    last, bare, last_suffix = _surname(surname)
    if first and not suffix and last_suffix:
        return Name(bare, first, middle, last_suffix)
    return Name(last, first, middle, suffix)


@lru_cache(maxsize=MEMORY)
def _given(text: str) -> tuple[str, str, str]:
    """First, middle and suffix from the given names."""
    words = clean(text).split()
    suffix = SUFFIXES[words.pop()] if len(words) > 1 and words[-1] in SUFFIXES else ""
    return (words[0] if words else ""), " ".join(words[1:]), suffix


@lru_cache(maxsize=MEMORY)
def _surname(text: str) -> tuple[str, str, str]:
    """The surname, and the same without a trailing suffix word, with that suffix."""
    words = clean(text).split()
    if len(words) > 1 and words[-1] in SUFFIXES:
        return " ".join(words), " ".join(words[:-1]), SUFFIXES[words[-1]]
    return " ".join(words), " ".join(words), ""


def format_name(name: Name, limit: int = NAME_LIMIT, *, suffix: bool = True) -> str:
    """LAST,FIRST MIDDLE SUFFIX within ``limit`` characters: the middle name shrinks to its
    initial first, then goes, then the suffix, and only then are names cut."""
    last, first, middle, end = name
    if first and len(last) + len(first) + len(middle) + len(end) + 3 <= limit:
        given = f"{first} {middle}" if middle else first
        return f"{last},{given} {end}" if end and suffix else f"{last},{given}"
    end = end if suffix else ""
    for candidate in (middle, middle[:1], ""):
        text = Name(last, first, candidate, end).text
        if len(text) <= limit:
            return text
    text = Name(last, first).text
    if len(text) <= limit:
        return text
    cut_last = last[:max(limit - len(first) - 1, limit // 2)].rstrip()
    return Name(cut_last, first[:limit - 1 - len(cut_last)].rstrip()).text
