"""One serialisation and one parse for every audit record, read from the record's own fields.

A record's body is what its Merkle leaf commits to, so `body()` writes exactly the keys the log
has always held, and `from_body()` reads back any body ever written: a field an older entry
lacks takes its type's empty value and stays unwritten, a key the record does not know is kept,
so the same body comes out again, byte for byte.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar, Self

from ...errors import ServiceError
from ..entries import EntryKind

NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
"""The unknown keys of a record that has none."""


class RecordError(ServiceError):
    """An entry's body that does not fit its kind's record; names the kind and the field."""

    code = "audit-error"

    def __init__(self, kind: str, name: str, problem: str) -> None:
        self.kind, self.field, self.problem = kind, name, problem
        super().__init__(f"a {kind} entry's {name} {problem}")


def info(doc: str, *, added: bool = False, choices: tuple[str, ...] = (),
         format: str = "") -> Any:
    """A field every body of its kind has (`added`: every body since it was added)."""
    return field(metadata={"doc": doc, "added": added, "choices": choices, "format": format})


def optional(doc: str, *, choices: tuple[str, ...] = ()) -> Any:
    """A field a body has only when it has a value: None is written as no key at all."""
    return field(default=None, metadata={"doc": doc, "omitted": True, "choices": choices})


@dataclass(frozen=True, slots=True)
class Spec:
    """How one field is written, read and described."""

    name: str
    shape: str
    """string, integer, boolean, strings (a list of strings) or object (a nested part)."""
    part: type[Part] | None
    nullable: bool
    """The body holds null for None."""
    omitted: bool
    """The body holds no key for None."""
    added: bool
    """Older bodies of the kind lack it."""
    doc: str
    choices: tuple[str, ...]
    format: str

    @property
    def empty(self) -> Any:
        """The value of a field an older body lacks."""
        if self.nullable or self.omitted:
            return None
        return self.part.from_body({}) if self.part else _EMPTY[self.shape]


_SCALARS: dict[object, str] = {str: "string", int: "integer", bool: "boolean"}
_EMPTY: dict[str, Any] = {"string": "", "integer": 0, "boolean": False, "strings": ()}
_PYTHON: dict[str, type] = {"string": str, "integer": int, "boolean": bool}
_OWN = ("extra", "absent")
"""Fields of every part that are not keys of its body."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """A typed, frozen piece of an audit body: an entry's whole body, or a structured value
    inside one (the sender)."""

    label: ClassVar[str] = "body"
    """How errors and schemas name the part."""

    extra: Mapping[str, Any] = field(default_factory=lambda: NO_EXTRA, repr=False, hash=False)
    """Keys of a body read back that this version does not know, written back unchanged."""
    absent: frozenset[str] = field(default=frozenset(), repr=False)
    """Fields the body read back lacked (it predates them), so they are not written."""

    def body(self) -> dict[str, Any]:
        """The JSON object the log stores and hashes for this part."""
        layout = _layout(type(self))
        out = layout.write(self)
        for name in layout.optional:
            if out[name] is None:
                del out[name]
        for name in self.absent:
            out.pop(name, None)
        if self.extra:
            out.update(self.extra)
        return out

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """The part a stored body holds; RecordError names the field that does not fit."""
        label = _label(cls)
        if not isinstance(body, Mapping):
            raise RecordError(label, "body", "is not a JSON object")
        values: dict[str, Any] = {}
        absent: list[str] = []
        layout = _layout(cls)
        for spec in layout.specs:
            if spec.name in body:
                values[spec.name] = _read(label, spec, body[spec.name])
            else:
                values[spec.name] = spec.empty
                if not spec.omitted:
                    absent.append(spec.name)
        extra = {k: v for k, v in body.items() if k not in layout.known}
        return cls(**values, extra=MappingProxyType(extra) if extra else NO_EXTRA,
                   absent=frozenset(absent))


@dataclass(frozen=True, slots=True, kw_only=True)
class Record(Part):
    """The body of one audit entry of one kind."""

    kind: ClassVar[EntryKind]

    def for_log(self) -> tuple[EntryKind, dict[str, Any]]:
        """The (kind, body) pair `AuditLog.append_many` takes."""
        return self.kind, self.body()


def _label(part: type[Part]) -> str:
    """How errors name a part: an entry's kind, or the part's own label."""
    kind = getattr(part, "kind", None)
    return kind.value if isinstance(kind, EntryKind) else part.label


def _read(label: str, spec: Spec, value: Any) -> Any:
    """A stored value as the field's type, or RecordError naming the field."""
    if value is None:
        if spec.nullable:
            return None
        raise RecordError(label, spec.name, f"is null, not {_said(spec)}")
    if spec.part is not None:
        try:
            return spec.part.from_body(value)
        except RecordError as error:
            inner = "" if error.field == "body" else f".{error.field}"
            raise RecordError(label, spec.name + inner, error.problem) from None
    if spec.shape == "strings":
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif type(value) is _PYTHON[spec.shape]:  # a bool is not an integer here, nor 1 a bool
        return value
    raise RecordError(label, spec.name, f"is {type(value).__name__}, not {_said(spec)}")


def _said(spec: Spec) -> str:
    return {"strings": "a list of strings", "object": "an object",
            "integer": "an integer"}.get(spec.shape, f"a {spec.shape}")


@dataclass(frozen=True, slots=True)
class _Layout:
    specs: tuple[Spec, ...]
    known: frozenset[str]
    write: Callable[[Any], dict[str, Any]]
    """Every field as the body holds it, None included."""
    optional: tuple[str, ...]
    """Fields left out of the body while None."""


_LAYOUTS: dict[type[Part], _Layout] = {}


def _layout(cls: type[Part]) -> _Layout:
    """A part's fields read once from its annotations, in declaration order."""
    found = _LAYOUTS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        every = tuple(_spec(f, hints[f.name]) for f in fields(cls) if f.name not in _OWN)
        found = _LAYOUTS[cls] = _Layout(every, frozenset(s.name for s in every),
                                        _writer(every),
                                        tuple(s.name for s in every if s.omitted))
    return found


def specs(cls: type[Part]) -> tuple[Spec, ...]:
    return _layout(cls).specs


def keys_of(cls: type[Part], *names: str) -> tuple[str, ...]:
    """Body keys for code that must read bodies by name (SQL, rules that read any body
    leniently): each must name a field of the record (`sender.name` one of a part inside
    it), so a misspelt one fails where it is written instead of reading "" silently."""
    unknown = [name for name in names if not _has(cls, name.split("."))]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    return names


def _has(part: type[Part] | None, path: list[str]) -> bool:
    found = next((s for s in specs(part) if s.name == path[0]), None) if part else None
    return found is not None and (len(path) == 1 or _has(found.part, path[1:]))


def _writer(every: tuple[Spec, ...]) -> Callable[[Any], dict[str, Any]]:
    """A part's fields as one dict display, compiled once per record (as dataclasses compile
    `__init__`): the gateway writes a record per query, and this is several times faster
    than a loop over the fields."""
    items = []
    for spec in every:
        value = got = f"part.{spec.name}"
        if spec.shape == "strings":
            value = f"list({got})"
        elif spec.part is not None:
            value = f"{got}.body()"
        if value != got and (spec.nullable or spec.omitted):
            value = f"(None if {got} is None else {value})"
        items.append(f"{spec.name!r}: {value}")
    scope: dict[str, Any] = {}
    exec(f"def write(part):\n    return {{{', '.join(items)}}}\n", scope)  # field names only
    write: Callable[[Any], dict[str, Any]] = scope["write"]
    return write


def _spec(f: Field[Any], hint: Any) -> Spec:
    args = typing.get_args(hint)
    nullable = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if nullable:
        (hint,) = (a for a in args if a is not type(None))
    part = hint if isinstance(hint, type) and issubclass(hint, Part) else None
    if part is not None:
        shape = "object"
    elif hint == tuple[str, ...]:
        shape = "strings"
    elif hint in _SCALARS:
        shape = _SCALARS[hint]
    else:
        raise TypeError(f"field {f.name}: {hint!r} has no JSON form here")
    meta = f.metadata
    omitted = bool(meta.get("omitted"))
    if omitted and f.default is MISSING:
        raise TypeError(f"field {f.name}: an optional field needs the default None")
    return Spec(f.name, shape, part, nullable and not omitted, omitted,
                bool(meta.get("added")), str(meta.get("doc", "")),
                tuple(meta.get("choices", ())), str(meta.get("format", "")))
