"""The names Nlets XML uses and a small writer for them, with no I/O.

Namespaces are those of the Nlets guide's NIEM pages (nlets-protocol.md §3.4, §4, §9):
https://service.nlets.org/support/solutions/articles/21003096525 (DQ),
https://service.nlets.org/support/solutions/articles/21003098581 (KQ),
https://service.nlets.org/support/solutions/articles/21003096401 (RQ),
https://service.nlets.org/support/solutions/articles/21003096185 (SM).
``st`` is Stateline's own: the answer's data elements and a query's legacy spelling, which
NIEM has no place for. Names are written ``prefix:Local`` here and compared in ElementTree's
``{namespace}Local`` form.

The writer exists because ElementTree cannot write CDATA, which the guide recommends for free
text and shows for the control field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

N2 = "http://www.nlets.org/niem/1.0"
NH2 = "http://www.nlets.org/niem/nlets-hdr/1.0"
N2C = "http://www.nlets.org/niem/nlets-core/1.0"
NC = "http://niem.gov/niem/niem-core/2.0"
J = "http://niem.gov/niem/domains/jxdm/4.0"
ST = "urn:stateline:nlets-xml:1.0"

NAMESPACES = {"n2": N2, "nh2": NH2, "n2c": N2C, "nc": NC, "j": J, "st": ST}
"""Prefix → namespace, in the order a root element declares them."""
_PREFIXES = {uri: prefix for prefix, uri in NAMESPACES.items()}

VERSION = "4.00"
"""The n2:version every guide example carries."""

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot hold, even as character references."""


@lru_cache(maxsize=256)
def clark(name: str) -> str:
    """``n2:NLETS`` as ElementTree names it: ``{http://www.nlets.org/niem/1.0}NLETS``."""
    prefix, _, local = name.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


def short(tag: str) -> str:
    """An ElementTree name as a reject shows it: ``n2:NLETS``, or the bare local name of a
    namespace Stateline does not know, cut to a readable length."""
    uri, brace, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    prefix = _PREFIXES.get(uri) if brace else None
    return (f"{prefix}:{local}" if prefix else local)[:40]


@dataclass(frozen=True, slots=True)
class Node:
    """One element to write: a container of children, or a leaf holding text."""

    name: str
    text: str | None = None
    children: tuple[Node, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    cdata: bool = False


def write(root: Node) -> str:
    """The document: an XML declaration, then the root declaring every namespace it uses."""
    lines: list[str] = []
    used: set[str] = set()
    _write(root, 0, lines, used)
    declared = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items()
                       if prefix in used)
    opening = len(root.name) + 1
    lines[0] = lines[0][:opening] + declared + lines[0][opening:]
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(lines) + "\n"


def xml_text(value: str) -> str:
    """Text as XML can carry it: a character XML 1.0 forbids becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def _write(node: Node, depth: int, lines: list[str], used: set[str]) -> None:
    indent = "  " * depth
    used.add(node.name.partition(":")[0])
    used.update(name.partition(":")[0] for name, _ in node.attributes if ":" in name)
    attributes = "".join(f' {name}="{_escape(value, attribute=True)}"'
                         for name, value in node.attributes)
    opening = f"{indent}<{node.name}{attributes}"
    if node.children:
        lines.append(opening + ">")
        for child in node.children:
            _write(child, depth + 1, lines, used)
        lines.append(f"{indent}</{node.name}>")
    elif node.text is None:
        lines.append(opening + "/>")
    else:
        text = _cdata(node.text) if node.cdata else _escape(node.text)
        lines.append(f"{opening}>{text}</{node.name}>")


def _escape(value: str, *, attribute: bool = False) -> str:
    text = xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text.replace("\r", "&#13;")


def _cdata(value: str) -> str:
    """A CDATA section, split where the text holds its end marker."""
    body = xml_text(value).replace("\r", "")
    return "<![CDATA[" + body.replace("]]>", "]]]]><![CDATA[>") + "]]>"
