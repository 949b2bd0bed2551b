"""Hostile XML in, an element tree out: a parser with no DTD, no entities, no external
anything, and limits on size, depth, element count and attribute length, with no I/O.

Every way XML can fail or attack is a Reject with code ``.03.`` (TXT NOT FOUND OR IMPROPERLY
FORMED XML): billion laughs and quadratic blowup need an entity declaration, an external entity
or DTD needs a DOCTYPE, and both are refused at the declaration, before anything is expanded or
fetched; deep nesting stops at the first element past the limit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import Reject, RejectCode

MOST_CHARACTERS = 1_000_000
"""Far above any real message (Nlets' largest stated message is 14,400 characters)."""
MOST_DEPTH = 24
"""Levels of elements: the deepest guide example (AA) uses 9."""
MOST_ELEMENTS = 20_000
MOST_ATTRIBUTE = 2_048
"""Characters in one attribute value: a query's legacy spelling fits many times over."""


def load(raw: str) -> ET.Element:
    """The root element of an XML document; Reject (.03.) for anything unsafe or malformed."""
    if len(raw) > MOST_CHARACTERS:
        raise _improper(f"XML LONGER THAN {MOST_CHARACTERS} CHARACTERS")
    parser = DefusedXMLParser(target=_Bounded(), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(raw.strip())
        root: ET.Element = parser.close()
    except Reject:
        raise
    except DefusedXmlException as refused:
        raise _improper("XML WITH A DTD OR ENTITIES IS REFUSED: "
                        f"{type(refused).__name__.upper()}") from None
    except ET.ParseError as error:
        raise _improper(f"XML IS NOT WELL-FORMED: {error}".upper()) from None
    except (ValueError, RecursionError) as error:  # e.g. an encoding expat will not take
        raise _improper(f"XML CANNOT BE READ: {type(error).__name__}") from None
    return root


class _Bounded(ET.TreeBuilder):
    """A tree builder that stops at the first element past a limit."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._elements = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._depth += 1
        self._elements += 1
        if self._depth > MOST_DEPTH:
            raise _improper(f"XML NESTED DEEPER THAN {MOST_DEPTH} ELEMENTS")
        if self._elements > MOST_ELEMENTS:
            raise _improper(f"XML HAS MORE THAN {MOST_ELEMENTS} ELEMENTS")
        if any(len(value) > MOST_ATTRIBUTE for value in attrs.values()):
            raise _improper(f"AN XML ATTRIBUTE IS LONGER THAN {MOST_ATTRIBUTE} CHARACTERS")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


def _improper(detail: str) -> Reject:
    return Reject(RejectCode.NO_TXT, detail[:100])
