"""The protocol's one error type: a reject the switch answers with an ER message."""

from __future__ import annotations

import re
from enum import Enum

ORIGINAL_SHOWN = 100
"""An ER carries the first 100 characters of the offending input."""


class RejectCode(Enum):
    """Nlets-style reject numbers, each with the plain text the ER message opens with."""

    STRUCTURE = "0"
    HEADER = ".01."
    NOT_ALLOWED = ".02."
    NO_TXT = ".03."
    DOB = ".05."
    YEAR = ".10."
    MISSING = ".14."
    DESTINATION = ".19."
    FORMAT = ".22."

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    RejectCode.STRUCTURE: "MESSAGE FORMAT/STRUCTURE ERROR",
    RejectCode.HEADER: "INVALID HEADER INFORMATION",
    RejectCode.NOT_ALLOWED: "MESSAGE TYPE NOT ALLOWED TO DESTINATION",
    RejectCode.NO_TXT: "TXT NOT FOUND",
    RejectCode.DOB: "DOB INVALID OR MISSING",
    RejectCode.YEAR: "A YEAR FIELD IS INVALID OR MISSING",
    RejectCode.MISSING: "FIELDS MISSING",
    RejectCode.DESTINATION: "INVALID DESTINATION ORIS",
    RejectCode.FORMAT: "INVALID MESSAGE FORMAT - REFER TO {key} MKE OPTIONS BELOW",
}


class Reject(Exception):
    """A message the network refuses, with the ER code and the lines that explain why.

    Raised anywhere inside the protocol room; turned into an ER message (or a JSON error)
    once, at the boundary that received the input.
    """

    def __init__(
        self,
        code: RejectCode,
        *detail: str,
        key: str = "",
        original: str = "",
    ) -> None:
        self.code = code
        self.detail: tuple[str, ...] = tuple(writable(line) for line in detail)
        self.key = key
        self.original = original
        super().__init__(self.text)

    @property
    def title(self) -> str:
        return self.code.title.format(key=self.key or "MESSAGE")

    @property
    def text(self) -> str:
        """The ER text: number and title, explanation lines, then the start of the input."""
        lines = [f"{self.code.value} {self.title}", *self.detail]
        if self.original:
            lines.append(shown_original(self.original))
        return "\n".join(lines)

    def with_context(self, *, key: str = "", original: str = "") -> Reject:
        """The same reject, with the message key and original input filled in where missing."""
        return Reject(
            self.code,
            *self.detail,
            key=self.key or key,
            original=self.original or original,
        )

    def as_json(self) -> dict[str, object]:
        """The project's one error shape; the ER code is the first word of the text."""
        return {"error": {"code": "rejected", "text": self.text}}


_SURROGATE = re.compile("[\ud800-\udfff]")


def writable(text: str) -> str:
    """Text with each lone surrogate replaced by U+FFFD, so a reject quoting bad input can
    still be written as UTF-8 (to a store, a response or a terminal)."""
    return _SURROGATE.sub("\ufffd", text)


def shown_original(raw: str) -> str:
    """The first characters of an input as an ER quotes them: printable, one line per line."""
    printable = "".join(ch for ch in raw if ch == "\n" or ch.isprintable())
    return printable.strip()[:ORIGINAL_SHOWN]


def require_utf8(text: str, what: str) -> None:
    """Refuse text UTF-8 cannot write (a lone surrogate: JSON's ``\\ud800`` escape, or a command
    line's undecodable bytes) where it comes in, before a store or a wire fails on it."""
    found = _SURROGATE.search(text)
    if found is not None:
        raise Reject(RejectCode.STRUCTURE, f"{what} IS NOT UTF-8 TEXT: A LONE SURROGATE AT "
                     f"CHARACTER {found.start() + 1}")
