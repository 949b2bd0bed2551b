"""The JSON Schema (draft 2020-12) of each kind's body, made from its record, so an export of
the log can be read by others; `stateline/audit/schemas/<kind>.schema.json` are these, written
out (a test keeps them equal)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..entries import EntryKind
from .base import Part, Spec, specs
from .kinds import RECORDS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FOLDER = Path(__file__).parent.parent / "schemas"
_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "strings": "array",
          "object": "object"}


def schema(kind: EntryKind) -> dict[str, Any]:
    """The schema of a kind's body, from its record's fields."""
    record = RECORDS[kind]
    parts: dict[str, Any] = {}
    found = _object(record, parts)
    leaf = (f"An entry's Merkle leaf (RFC 6962) commits to `<time_us>\\n{kind.value}\\n<body>`,"
            " the body written as JSON with sorted keys, no spaces and UTF-8 text. Keys a later "
            "version adds are allowed; a field marked in its description as written only "
            "with a value is absent otherwise.")
    return {"$schema": DRAFT, "$id": f"stateline/audit-entry/{kind.value}/1",
            "title": f"Stateline audit entry: {kind.value}",
            "description": f"{_doc(record)} {leaf}",
            **found, **({"$defs": parts} if parts else {})}


def schema_text(kind: EntryKind) -> str:
    """The schema as the published file spells it."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


def published(kind: EntryKind) -> str:
    """The schema file shipped with the package."""
    found = resources.files("stateline.audit") / "schemas" / f"{kind.value}.schema.json"
    return found.read_text(encoding="utf-8")


def write_schemas(folder: Path = FOLDER) -> list[Path]:
    """Write every kind's schema file; run after a record changes."""
    written = []
    for kind in EntryKind:
        path = folder / f"{kind.value}.schema.json"
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


def _object(part: type[Part], parts: dict[str, Any]) -> dict[str, Any]:
    every = specs(part)
    return {"type": "object",
            "required": [s.name for s in every if not (s.omitted or s.added)],
            "properties": {s.name: _property(s, parts) for s in every},
            "additionalProperties": True}


def _property(spec: Spec, parts: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any]
    if spec.part is not None:
        label = spec.part.label
        if label not in parts:
            parts[label] = {"description": _doc(spec.part), **_object(spec.part, parts)}
        found = {"$ref": f"#/$defs/{label}"}
    elif spec.choices:
        found = {"enum": list(spec.choices)}
    else:
        found = {"type": _TYPES[spec.shape]}
        if spec.shape == "strings":
            found["items"] = {"type": "string"}
    if spec.nullable:
        found = {"anyOf": [found, {"type": "null"}]}
    if spec.format:
        found["format"] = spec.format
    doc = spec.doc + (" Written only with a value." if spec.omitted else "") + \
        (" Older entries lack it." if spec.added else "")
    return {"description": doc, **found}


def _doc(part: type[Part]) -> str:
    return " ".join((part.__doc__ or "").split())
