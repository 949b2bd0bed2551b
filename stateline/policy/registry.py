"""Court orders and attestations on file for a state: what sets `court_order` and `attested` in
a decision's context. Kept in the state's state.db; every edit is also a history row, so the
audit log can account for the orders that opened a record.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

from ..datadir import DataDir
from ..directory.agency import DEPARTMENTS, Agency, DirectoryError, normalise_ori
from ..dmv.names import parse_name
from .schema import ELEMENTS
from .store import StateDb, StateError, checked_state, connect, current_user, now, record

DEFAULT_STATEMENT = ("The agency certifies that data it receives from this state will not be "
                     "used for civil immigration enforcement.")
"""A Colorado-style certification, used when none is given."""

COMPONENTS = frozenset(c for components in DEPARTMENTS.values() for c in components)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS court_order (
    reference TEXT PRIMARY KEY, ori TEXT NOT NULL, component TEXT NOT NULL,
    oln TEXT NOT NULL, name TEXT NOT NULL, dob TEXT NOT NULL, plate TEXT NOT NULL,
    vin TEXT NOT NULL, elements TEXT NOT NULL, valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL, entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    revoked_at TEXT, revoked_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS court_order_ori ON court_order (ori);
CREATE INDEX IF NOT EXISTS court_order_component ON court_order (component);
CREATE TABLE IF NOT EXISTS attestation (
    id INTEGER PRIMARY KEY, ori TEXT NOT NULL, statement TEXT NOT NULL,
    valid_until TEXT NOT NULL, entered_by TEXT NOT NULL, entered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attestation_ori ON attestation (ori);
"""

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./:_()#-]{0,63}")
_IDENTIFIER = re.compile(r"[A-Z0-9]{1,20}")


class RegistryError(StateError):
    """A court order or attestation that cannot be recorded as given; nothing was changed."""

    code, status = "invalid-order", 422


class UnknownOrder(RegistryError):
    """No court order has this reference."""

    code, status = "not-found", 404


def parse_date(text: str, what: str = "date") -> date:
    """A date written YYYY-MM-DD or CCYYMMDD."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return date.fromisoformat(value)
    except ValueError:
        raise RegistryError(f"{what} {text!r} is not a date (YYYY-MM-DD or CCYYMMDD)") from None


def parse_elements(text: str) -> tuple[str, ...]:
    """`identity,license` or `all`, in schema order; an unknown element is an error."""
    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    if wanted == {"all"}:
        return ELEMENTS
    unknown = sorted(wanted - set(ELEMENTS))
    if unknown or not wanted:
        raise RegistryError(f"unknown element {', '.join(unknown) or '(none)'}: use all or "
                            f"some of {', '.join(ELEMENTS)}")
    return tuple(e for e in ELEMENTS if e in wanted)


@dataclass(frozen=True, slots=True)
class Subject:
    """The person or vehicle an order names, a query asks about, or a record is. A name
    counts only with its date of birth (NAM+DOB), as a query would give them; `pattern` is an
    RPQ partial plate (* any run, ? one character)."""

    oln: str = ""
    name: str = ""
    dob: date | None = None
    plate: str = ""
    vin: str = ""
    pattern: str = ""
    key: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        for attribute in ("oln", "plate", "vin", "pattern"):
            put(self, attribute, "".join(getattr(self, attribute).split()).upper())
        name = parse_name(self.name) if self.name.strip() else None
        put(self, "name", name.text if name else "")
        put(self, "key", (name.last, name.first) if name else ("", ""))

    @property
    def identifiers(self) -> tuple[str, ...]:
        found = [f"OLN/{self.oln}" if self.oln else "",
                 f"NAM/{self.name}" if self.name else "",
                 f"DOB/{self.dob:%Y%m%d}" if self.dob else "",
                 f"LIC/{self.plate}" if self.plate else "", f"VIN/{self.vin}" if self.vin else ""]
        return tuple(filter(None, found))

    def names(self, other: Subject) -> bool:
        """True when any identifier both give is the same."""
        return bool(
            (self.oln and self.oln == other.oln)
            or (self.name and self.dob and self.dob == other.dob and self.key == other.key)
            or (self.plate and (self.plate == other.plate or _fits(other.pattern, self.plate)))
            or (self.vin and self.vin == other.vin)
        )

    def conflicts(self, other: Subject) -> bool:
        """True when an identifier both give differs: the two cannot be one person or
        vehicle, whatever else they share."""
        pairs = ((self.oln, other.oln), (self.plate, other.plate), (self.vin, other.vin),
                 (self.name and self.key, other.name and other.key), (self.dob, other.dob))
        return any(mine and theirs and mine != theirs for mine, theirs in pairs) or \
            bool(self.plate and other.pattern and not _fits(other.pattern, self.plate)) or \
            bool(other.plate and self.pattern and not _fits(self.pattern, other.plate))

    def agrees(self, other: Subject) -> bool:
        """True when some identifier both give is the same and none differs: a decoy
        identifier beside the right one is enough to disagree."""
        return self.names(other) and not self.conflicts(other)


def _fits(pattern: str, plate: str) -> bool:
    """Whether a partial plate (* any run, ? one character) covers the whole plate."""
    if not pattern:
        return False
    wanted = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                     for ch in pattern)
    return re.fullmatch(wanted, plate) is not None


@dataclass(frozen=True, slots=True)
class CourtOrder:
    """A court's order that opens one subject's records to one agency (or a whole federal
    component) for a period; `elements` is what it allows to be released."""

    reference: str
    ori: str
    component: str
    subject: Subject
    elements: tuple[str, ...]
    valid_from: date
    valid_until: date
    entered_by: str
    entered_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str = ""

    def covers(self, agency: Agency) -> bool:
        if self.ori:
            return agency.ori == self.ori
        return bool(self.component) and agency.component == self.component

    def status(self, when: datetime) -> str:
        """in force, not yet, expired or revoked, at `when`."""
        when = _utc(when)
        if self.revoked_at is not None and when >= self.revoked_at:
            return "revoked"
        day = when.date()
        if day < self.valid_from:
            return "not yet"
        return "expired" if day > self.valid_until else "in force"


@dataclass(frozen=True, slots=True)
class Attestation:
    """An agency's certification that it will not use the state's data for civil immigration
    enforcement, in force from entry until the end of `valid_until`."""

    id: int
    ori: str
    statement: str
    valid_until: date
    entered_by: str
    entered_at: datetime

    def in_force(self, when: datetime) -> bool:
        when = _utc(when)
        return self.entered_at <= when and when.date() <= self.valid_until


class Registry:
    """A state's court orders and attestations. Use as a context manager."""

    def __init__(self, data: DataDir, state: str) -> None:
        self.state = checked_state(data, state)
        self._db = connect(data, self.state)
        self._on_file: OnFile | None = None
        self._version = -1
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            self._db.close()
            raise StateError(f"cannot use {data.state_db(self.state)}: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def add_order(self, reference: str, subject: Subject, valid_from: date, valid_until: date,
                  *, ori: str = "", component: str = "", elements: tuple[str, ...] = ELEMENTS,
                  who: str | None = None) -> CourtOrder:
        """Record a court order; a bad or duplicate one is a RegistryError, nothing recorded."""
        order = CourtOrder(_reference(reference), *_holder(ori, component), subject,
                           _elements(elements), valid_from, valid_until, who or current_user(),
                           now())
        _check_subject(subject)
        if valid_until < valid_from:
            raise RegistryError(f"the order ends ({valid_until}) before it starts "
                                f"({valid_from})")
        with self._edit() as db:
            if db.execute("SELECT 1 FROM court_order WHERE reference = ?",
                          (order.reference,)).fetchone():
                raise RegistryError(f"court order {order.reference} is already on file")
            db.execute(f"INSERT INTO court_order VALUES ({', '.join('?' * 15)})",
                       _order_row(order))
            record(db, "court-order", order.entered_by,
                   f"court order {order.reference} added for {order.ori or order.component}",
                   new_text=_dump(order_json(order)))
        return order

    def revoke_order(self, reference: str, who: str | None = None) -> CourtOrder:
        with self._edit() as db:
            old = self._order(db, reference)
            if old.revoked_at is not None:
                raise RegistryError(f"court order {old.reference} was revoked at "
                                    f"{old.revoked_at:%Y-%m-%d %H:%M} UTC by {old.revoked_by}")
            revoked = now()
            new = replace(old, revoked_at=revoked, revoked_by=who or current_user())
            db.execute("UPDATE court_order SET revoked_at = ?, revoked_by = ? "
                       "WHERE reference = ?", (_stamp(revoked), new.revoked_by, old.reference))
            record(db, "court-order", new.revoked_by, f"court order {old.reference} revoked",
                   old_text=_dump(order_json(old)), new_text=_dump(order_json(new)))
        return new

    def order(self, reference: str) -> CourtOrder:
        return self._order(self._db, reference)

    def orders(self) -> list[CourtOrder]:
        rows = self._db.execute("SELECT * FROM court_order ORDER BY entered_at, reference")
        return [_order(row) for row in rows]

    def matching_order(self, agency: Agency, subject: Subject,
                       when: datetime) -> CourtOrder | None:
        """An order in force at `when` for this agency (its ORI or its component) whose
        subject agrees with every identifier asked about; of several, the one that runs
        longest."""
        return self.on_file().matching_order(agency, subject, when)

    def add_attestation(self, ori: str, valid_until: date, statement: str = DEFAULT_STATEMENT,
                        who: str | None = None) -> Attestation:
        entered = now()
        if valid_until < entered.date():
            raise RegistryError(f"an attestation valid until {valid_until} has already ended")
        text = " ".join(statement.split())
        if not text:
            raise RegistryError("the attestation's statement is empty")
        by = who or current_user()
        with self._edit() as db:
            cursor = db.execute(
                "INSERT INTO attestation (ori, statement, valid_until, entered_by, entered_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (_ori(ori), text, valid_until.isoformat(), by, _stamp(entered)))
            assert cursor.lastrowid is not None
            made = Attestation(cursor.lastrowid, _ori(ori), text, valid_until, by, entered)
            record(db, "attestation", by, f"attestation by {made.ori} until {valid_until}",
                   new_text=_dump(attestation_json(made)))
        return made

    def attestations(self) -> list[Attestation]:
        rows = self._db.execute("SELECT * FROM attestation ORDER BY id")
        return [_attestation(row) for row in rows]

    def is_attested(self, ori: str, when: datetime) -> bool:
        return self.on_file().is_attested(ori, when)

    def on_file(self) -> OnFile:
        """The orders and attestations on file now. Read again only when state.db has changed
        since the last look: SQLite's data_version moves with every other connection's commit,
        and this connection's own edits drop the copy."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        found = self._on_file
        if found is None or version != self._version:
            found = OnFile.of(self.orders(), self.attestations())
            self._on_file, self._version = found, version
        return found

    def _order(self, db: sqlite3.Connection, reference: str) -> CourtOrder:
        row = db.execute("SELECT * FROM court_order WHERE reference = ?",
                         (reference.strip(),)).fetchone()
        if row is None:
            raise UnknownOrder(f"no court order {reference.strip()!r} on file in {self.state}")
        return _order(row)

    @contextmanager
    def _edit(self) -> Iterator[StateDb]:
        """One write transaction: the record and its history row together, or neither."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise StateError(f"cannot record in {self.state}'s state.db: {error}") from None
        finally:
            # This connection's own commits leave data_version as it was: drop the copy.
            self._on_file = None


@dataclass(frozen=True, slots=True)
class OnFile:
    """A state's orders and attestations at one moment, filed by the agency they cover, so a
    request from an agency nothing covers costs a dictionary look-up and no query."""

    orders: dict[str, tuple[CourtOrder, ...]]
    """By ORI, and by component as ``component:ICE``; each longest-running first."""
    attestations: dict[str, tuple[Attestation, ...]]
    """By ORI."""

    @classmethod
    def of(cls, orders: Iterable[CourtOrder], attestations: Iterable[Attestation]) -> OnFile:
        by_holder: dict[str, list[CourtOrder]] = {}
        for order in orders:
            holder = order.ori or f"component:{order.component}"
            by_holder.setdefault(holder, []).append(order)
        by_ori: dict[str, list[Attestation]] = {}
        for attestation in attestations:
            by_ori.setdefault(attestation.ori, []).append(attestation)
        return cls({holder: tuple(sorted(found, key=_longest_first))
                    for holder, found in by_holder.items()},
                   {ori: tuple(found) for ori, found in by_ori.items()})

    def orders_for(self, agency: Agency) -> tuple[CourtOrder, ...]:
        """Every order on file for the agency's ORI or component, longest-running first."""
        mine = self.orders.get(agency.ori, ())
        ours = self.orders.get(f"component:{agency.component}", ()) if agency.component else ()
        if not ours or not mine:
            return mine or ours
        return tuple(sorted(mine + ours, key=_longest_first))

    def matching_order(self, agency: Agency, subject: Subject | Callable[[], Subject],
                       when: datetime) -> CourtOrder | None:
        """As Registry.matching_order; `subject` may be a function making it, called only
        when some order covers the agency."""
        orders = self.orders_for(agency)
        if not orders:
            return None
        asked = subject if isinstance(subject, Subject) else subject()
        for order in orders:
            if order.status(when) == "in force" and order.subject.agrees(asked):
                return order
        return None

    def is_attested(self, ori: str, when: datetime) -> bool:
        return any(a.in_force(when) for a in self.attestations.get(ori, ()))


def _longest_first(order: CourtOrder) -> tuple[int, str]:
    return -order.valid_until.toordinal(), order.reference


def context_for(on_file: Registry | OnFile, agency: Agency,
                subject: Subject | Callable[[], Subject],
                when: datetime) -> tuple[bool, bool, str | None]:
    """`court_order` and `attested` for a request's context, and the order's reference.
    `subject` may be a function making it, called only when some order covers the agency."""
    view = on_file.on_file() if isinstance(on_file, Registry) else on_file
    order = view.matching_order(agency, subject, when)
    return (order is not None, view.is_attested(agency.ori, when),
            order.reference if order else None)


def order_json(order: CourtOrder) -> dict[str, Any]:
    return {
        "reference": order.reference, "ori": order.ori, "component": order.component,
        "subject": {"oln": order.subject.oln, "name": order.subject.name,
                    "dob": order.subject.dob.isoformat() if order.subject.dob else "",
                    "plate": order.subject.plate, "vin": order.subject.vin},
        "elements": list(order.elements),
        "valid_from": order.valid_from.isoformat(), "valid_until": order.valid_until.isoformat(),
        "entered_by": order.entered_by, "entered_at": _stamp(order.entered_at),
        "revoked_at": _stamp(order.revoked_at) if order.revoked_at else None,
        "revoked_by": order.revoked_by,
    }


def attestation_json(attestation: Attestation) -> dict[str, Any]:
    return {"id": attestation.id, "ori": attestation.ori, "statement": attestation.statement,
            "valid_until": attestation.valid_until.isoformat(),
            "entered_by": attestation.entered_by,
            "entered_at": _stamp(attestation.entered_at)}


def _reference(text: str) -> str:
    reference = text.strip()
    if not _REFERENCE.fullmatch(reference):
        raise RegistryError(f"court order reference {text!r} must be 1-64 letters, digits, "
                            "blanks or . / : _ ( ) # -")
    return reference


def _holder(ori: str, component: str) -> tuple[str, str]:
    """Exactly one of an ORI or a federal component, normalised."""
    if bool(ori.strip()) == bool(component.strip()):
        raise RegistryError("an order is for one agency (ORI) or one federal component "
                            "(e.g. ICE): give exactly one")
    if ori.strip():
        return _ori(ori), ""
    code = component.strip().upper()
    if code not in COMPONENTS:
        raise RegistryError(f"{component!r} is not a federal component: one of "
                            + " ".join(sorted(COMPONENTS)))
    return "", code


def _check_subject(subject: Subject) -> None:
    if not subject.identifiers:
        raise RegistryError("an order must name its subject: OLN, NAM with DOB, LIC or VIN")
    if subject.name and subject.dob is None:
        raise RegistryError("a name identifies a subject only with a date of birth (DOB)")
    if subject.name and not subject.key[1]:
        raise RegistryError(f"name {subject.name!r} must be written LAST,FIRST")
    for what, value in (("OLN", subject.oln), ("LIC", subject.plate), ("VIN", subject.vin)):
        if value and not _IDENTIFIER.fullmatch(value):
            raise RegistryError(f"{what} {value!r} must be 1-20 letters or digits")


def _ori(text: str) -> str:
    try:
        return normalise_ori(text)
    except DirectoryError as error:
        raise RegistryError(str(error)) from None


def _elements(elements: tuple[str, ...]) -> tuple[str, ...]:
    return parse_elements(",".join(elements))


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="microseconds")


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2)


def _order_row(order: CourtOrder) -> tuple[object, ...]:
    subject = order.subject
    return (order.reference, order.ori, order.component, subject.oln, subject.name,
            subject.dob.isoformat() if subject.dob else "", subject.plate, subject.vin,
            ",".join(order.elements), order.valid_from.isoformat(),
            order.valid_until.isoformat(), order.entered_by, _stamp(order.entered_at),
            _stamp(order.revoked_at) if order.revoked_at else None, order.revoked_by)


def _order(row: tuple[Any, ...]) -> CourtOrder:
    (reference, ori, component, oln, name, dob, plate, vin, elements, valid_from, valid_until,
     entered_by, entered_at, revoked_at, revoked_by) = row
    subject = Subject(oln, name, date.fromisoformat(dob) if dob else None, plate, vin)
    return CourtOrder(reference, ori, component, subject, tuple(elements.split(",")),
                      date.fromisoformat(valid_from), date.fromisoformat(valid_until),
                      entered_by, datetime.fromisoformat(entered_at),
                      datetime.fromisoformat(revoked_at) if revoked_at else None, revoked_by)


def _attestation(row: tuple[Any, ...]) -> Attestation:
    id_, ori, statement, valid_until, entered_by, entered_at = row
    return Attestation(id_, ori, statement, date.fromisoformat(valid_until), entered_by,
                       datetime.fromisoformat(entered_at))
