"""The notice book: notices owed to people whose records were asked for, kept in state.db.

The gateway calls `NoticeBook.queue_for` after each audit entry commits; a coordinator marks
notices sent or excepted, and each such change is written to the audit log before it counts.
Overdue is never stored: it is a due notice whose deadline has passed, on the day asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal

from ..audit import AuditLog
from ..audit.records import DecisionRecord, NoticeRecord, RequestRecord
from ..datadir import DataDir
from ..dmv import DmvStore
from ..errors import RequesterError
from ..policy.schema import GROUP_ELEMENTS
from ..policy.store import connect
from .config import NoticeDuty, load_duty
from .subjects import DISCLOSED, GROUPS, Addressee, Subjects, subjects

Status = Literal["due", "sent", "excepted"]
Filter = Literal["due", "overdue", "sent", "excepted", "all"]
FILTERS: tuple[Filter, ...] = ("due", "overdue", "sent", "excepted", "all")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    request TEXT NOT NULL,
    request_id TEXT NOT NULL,
    reference TEXT,
    seq INTEGER NOT NULL,
    oln TEXT NOT NULL,
    name TEXT NOT NULL,
    street TEXT NOT NULL,
    city TEXT NOT NULL,
    addr_state TEXT NOT NULL,
    zip TEXT NOT NULL,
    agency TEXT NOT NULL,
    category TEXT NOT NULL,
    record TEXT NOT NULL,
    outcome TEXT NOT NULL,
    disclosed TEXT NOT NULL,
    requested TEXT NOT NULL,
    queued TEXT NOT NULL,
    deadline TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'sent', 'excepted')),
    closed_at TEXT,
    closed_by TEXT,
    reason TEXT,
    note TEXT,
    UNIQUE (request, oln)
);
CREATE INDEX IF NOT EXISTS notices_status ON notices (status, deadline);
CREATE TABLE IF NOT EXISTS notice_gaps (
    seq INTEGER PRIMARY KEY,
    request TEXT NOT NULL,
    time TEXT NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    why TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notice_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    examined INTEGER NOT NULL
);
"""
_COLUMNS = ("id, request_id, reference, seq, oln, name, street, city, addr_state, zip, agency,"
            " category, record, outcome, disclosed, requested, queued, deadline, status,"
            " closed_at, closed_by, reason, note")
_INSERTED = ("request, request_id, reference, seq, oln, name, street, city, addr_state, zip,"
             " agency, category, record, outcome, disclosed, requested, queued, deadline")
LOCK_WAIT_SECONDS = 2.0
"""How long queueing a notice waits for another writer on state.db before it is owed instead
(the gateway keeps it and tries again with its next batch, or as it stops): an answer already
audited is not held back longer than this for a notice."""
_ID = re.compile(r"(?:([A-Z]{2})-N)?0*(\d{1,12})")


class NoticeError(RequesterError):
    """A notice that cannot be found or changed; nothing was changed."""

    code = "invalid"


@dataclass(frozen=True, slots=True)
class Notice:
    """What a person is owed a letter about, snapshotted when the request was logged."""

    id: str
    state: str
    request_id: str
    reference: str | None
    """The held request's reference, when the request was held for review."""
    seq: int
    """The audit entry that queued it."""
    person: Addressee
    agency: str
    category: str
    record: str
    """driver, history or vehicle: which record of theirs was asked for."""
    outcome: str
    disclosed: tuple[str, ...]
    """Data elements that left the state (element names), empty when nothing did."""
    requested: datetime
    queued: datetime
    deadline: date
    status: Status
    closed_at: datetime | None = None
    closed_by: str | None = None
    reason: str | None = None
    """The configured exception invoked, for an excepted notice."""
    note: str | None = None

    @property
    def sent_at(self) -> datetime | None:
        return self.closed_at if self.status == "sent" else None

    def overdue(self, today: date) -> bool:
        return self.status == "due" and today > self.deadline

    def days_late(self, today: date) -> int:
        return (today - self.deadline).days if self.overdue(today) else 0


@dataclass(frozen=True, slots=True)
class Gap:
    """A qualifying request for which no person could be told, and why."""

    seq: int
    request: str
    time: datetime
    category: str
    outcome: str
    why: str


def notice_id(state: str, number: int) -> str:
    return f"{state}-N{number:06d}"


def _moment(value: object, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def disclosed_elements(request: RequestRecord) -> tuple[str, ...]:
    """Elements that actually left with the records, in response order: a photo only when one
    was sent, and only elements the kind of record carries."""
    if request.outcome not in DISCLOSED or not request.records:
        return ()
    released = set(request.released)
    group = GROUPS.get(request.key, "driver")
    return tuple(e for e in GROUP_ELEMENTS[group]
                 if e in released and (e != "photo" or request.photo_released))


class NoticeBook:
    """One state's notices and gaps. Every write is its own durable transaction."""

    def __init__(self, data: DataDir, state: str, duty: NoticeDuty | None = None) -> None:
        """Reads the duty from the state's config.toml unless one is given; a bad section
        raises NoticeConfigError before anything is opened."""
        self.state = state.strip().upper()
        self.duty = duty if duty is not None else load_duty(data, self.state)
        self._db = connect(data, self.state, _SCHEMA)
        self._db.execute(f"PRAGMA busy_timeout = {int(LOCK_WAIT_SECONDS * 1000)}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> NoticeBook:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def today(self, now: datetime | None = None) -> date:
        """The state's date now: what overdue is judged against."""
        moment = now or datetime.now(UTC)
        return self.duty.local_date(moment) if self.duty else moment.astimezone(UTC).date()

    # Queueing: called by the gateway once an audit entry is durable.

    def examined(self) -> int | None:
        """The last audit entry the gateway has put through `queue_for`, if any: after a crash,
        the entries past it are put through again (queueing twice is harmless)."""
        row = self._db.execute("SELECT examined FROM notice_progress").fetchone()
        return None if row is None else int(row[0])

    def mark_examined(self, seq: int) -> None:
        self._db.execute("INSERT INTO notice_progress VALUES (1, ?) ON CONFLICT (id) "
                         "DO UPDATE SET examined = max(examined, excluded.examined)", (seq,))

    def queue_for(self, entry_seq: int, entry: RequestRecord | Mapping[str, Any],
                  store: DmvStore, now: datetime,
                  requested: datetime | None = None) -> list[Notice]:
        """Queue a notice for each person the entry's request concerned, if the duty covers it.

        The entry is a decision's or a review's record, or its body as the log holds it.
        Returns the notices this entry queued. Calling again for the same request queues
        nothing twice: a due notice takes the later outcome (a held request released or
        denied), one already sent or excepted is left alone. When no person can be identified
        the request is recorded as a gap (`gaps`) instead.

        A notice is dated from the request, never from its review: the time this request was
        first recorded here (a held request's notice or gap), else `requested` (when it was
        held), else the entry's own time.
        """
        duty = self.duty
        asked = entry if isinstance(entry, RequestRecord) else DecisionRecord.from_body(entry)
        category, outcome = asked.category, asked.outcome
        if duty is None or not duty.applies(category, outcome):
            return []
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        request_id = asked.request_id or f"entry-{entry_seq}"
        reference = asked.reference
        request = reference or request_id
        requested = self._first_recorded(request) or requested or _moment(asked.time, now)
        requested = requested if requested.tzinfo else requested.replace(tzinfo=UTC)
        try:
            found = subjects(asked, store)
        except Exception as error:  # a lookup that failed must still leave a trace
            found = Subjects((), f"the DMV store could not be searched ({error})")
        sender = asked.sender
        agency = sender.name if sender and sender.name else f"the agency with ORI {asked.ori}"
        record = GROUPS.get(asked.key, "driver")
        disclosed = json.dumps(disclosed_elements(asked))
        due = duty.deadline(requested).isoformat()
        queued: list[int] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for p in found.people:
                cursor = db.execute(
                    f"INSERT INTO notices ({_INSERTED}) VALUES ({', '.join('?' * 18)})"
                    " ON CONFLICT (request, oln) DO NOTHING",
                    (request, request_id, reference, entry_seq, p.oln, p.name, p.street,
                     p.city, p.state, p.zip, agency, category, record, outcome, disclosed,
                     requested.isoformat(), now.isoformat(), due))
                if cursor.rowcount == 1:
                    queued.append(int(cursor.lastrowid or 0))
                else:
                    db.execute("UPDATE notices SET outcome = ?, disclosed = ? WHERE request = ?"
                               " AND oln = ? AND status = 'due'",
                               (outcome, disclosed, request, p.oln))
            if found.gap is not None:
                db.execute("INSERT OR IGNORE INTO notice_gaps VALUES (?, ?, ?, ?, ?, ?)",
                           (entry_seq, request, requested.isoformat(), category, outcome,
                            found.gap))
            elif found.people:  # a held request its release identified: the gap is closed
                db.execute("DELETE FROM notice_gaps WHERE request = ?", (request,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return [self._get(number) for number in queued]

    def _first_recorded(self, request: str) -> datetime | None:
        """When a request already on file here (a held one, noticed or a gap) was asked."""
        row = self._db.execute(
            "SELECT min(t) FROM (SELECT requested AS t FROM notices WHERE request = ?"
            " UNION ALL SELECT time FROM notice_gaps WHERE request = ?)",
            (request, request)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    # Reading.

    def _rows(self, where: str, params: Sequence[object]) -> list[Notice]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM notices WHERE {where}"
                                " ORDER BY deadline, id", params)
        return [self._notice(row) for row in rows.fetchall()]

    def _get(self, number: int) -> Notice:
        found = self._rows("id = ?", (number,))
        if not found:
            raise NoticeError(f"no notice {notice_id(self.state, number)}")
        return found[0]

    def _notice(self, row: Sequence[Any]) -> Notice:
        (number, request_id, reference, seq, oln, name, street, city, addr_state, zip_code,
         agency, category, record, outcome, disclosed, requested, queued, deadline, status,
         closed_at, closed_by, reason, note) = row
        return Notice(
            notice_id(self.state, number), self.state, request_id, reference, seq,
            Addressee(oln, name, street, city, addr_state, zip_code), agency, category, record,
            outcome, tuple(json.loads(disclosed)), datetime.fromisoformat(requested),
            datetime.fromisoformat(queued), date.fromisoformat(deadline), status,
            datetime.fromisoformat(closed_at) if closed_at else None, closed_by, reason, note)

    def number(self, text: str) -> int:
        """The row number a notice id names: ``NY-N000042``, or just ``42``."""
        match = _ID.fullmatch(text.strip().upper())
        if match is None or int(match.group(2)) == 0:
            raise NoticeError(f"{text!r} is not a notice id like "
                              f"{notice_id(self.state, 42)}")
        if match.group(1) and match.group(1) != self.state:
            raise NoticeError(f"{text.strip()} is a notice of {match.group(1)}, "
                              f"not {self.state}")
        return int(match.group(2))

    def get(self, text: str) -> Notice:
        return self._get(self.number(text))

    def notices(self, which: Filter = "due", today: date | None = None) -> list[Notice]:
        """Notices by status, soonest deadline first; `overdue` is due with the deadline
        passed on `today` (default: the state's date now)."""
        if which == "all":
            return self._rows("1", ())
        if which == "overdue":
            day = today or self.today()
            return self._rows("status = 'due' AND deadline < ?", (day.isoformat(),))
        if which not in FILTERS:
            raise NoticeError(f"{which!r} is not one of {', '.join(FILTERS)}")
        return self._rows("status = ?", (which,))

    def unsent(self, request: str) -> list[Notice]:
        """Notices for a request (its review reference or its request id) not yet sent or
        excepted: what a reviewer must see to first under a before-disclosure duty."""
        text = request.strip()
        return self._rows("(request = ? OR request_id = ?) AND status = 'due'", (text, text))

    def gaps(self) -> list[Gap]:
        rows = self._db.execute("SELECT seq, request, time, category, outcome, why"
                                " FROM notice_gaps ORDER BY seq").fetchall()
        return [Gap(seq, request, datetime.fromisoformat(t), category, outcome, why)
                for seq, request, t, category, outcome, why in rows]

    # Coordinator actions: audited first, then committed, all or nothing.

    def mark_sent(self, ids: Iterable[str], by: str, log: AuditLog,
                  now: datetime | None = None) -> list[Notice]:
        """Record notices as mailed; every id must name a due notice, or nothing changes."""
        moment = now or datetime.now(UTC)
        numbers = list(dict.fromkeys(self.number(text) for text in ids))
        if not numbers:
            raise NoticeError("name at least one notice")
        return self._close(numbers, "sent", by, None, None, log, moment)

    def mark_excepted(self, text: str, reason: str, note: str, by: str, log: AuditLog,
                      now: datetime | None = None) -> Notice:
        """Record that a notice will not be sent, for one of the configured reasons."""
        allowed = self.duty.exceptions if self.duty else ()
        reason, note = reason.strip(), note.strip()
        if reason not in allowed:
            named = ", ".join(allowed) if allowed else "none are configured"
            raise NoticeError(f"{reason!r} is not an exception reason {self.state} allows "
                              f"([notices] exceptions: {named}); nothing changed")
        if not note:
            raise NoticeError("an exception needs a note saying why it applies; "
                              "nothing changed")
        moment = now or datetime.now(UTC)
        return self._close([self.number(text)], "excepted", by, reason, note, log, moment)[0]

    def _close(self, numbers: list[int], status: Status, by: str, reason: str | None,
               note: str | None, log: AuditLog, now: datetime) -> list[Notice]:
        db = self._db
        today = self.today(now)
        db.execute("BEGIN IMMEDIATE")
        try:
            before = [self._get(number) for number in numbers]
            for notice in before:
                if notice.status != "due":
                    when = f" on {notice.closed_at:%Y-%m-%d}" if notice.closed_at else ""
                    raise NoticeError(f"{notice.id} was already {notice.status}{when}; "
                                      "nothing changed")
            db.executemany("UPDATE notices SET status = ?, closed_at = ?, closed_by = ?,"
                           " reason = ?, note = ? WHERE id = ? AND status = 'due'",
                           [(status, now.isoformat(), by, reason, note, n) for n in numbers])
            log.append_many([_audited(n, status, by, reason, note, now, today).for_log()
                             for n in before])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        log.maybe_sign(every_entries=1)
        return [self._get(number) for number in numbers]


def _audited(notice: Notice, status: Status, by: str, reason: str | None, note: str | None,
             now: datetime, today: date) -> NoticeRecord:
    """What the log keeps of a coordinator's action: the notice and request it concerns, never
    the person's address. No `outcome` or `category`: it is not a request to be counted."""
    excepted = status == "excepted"
    return NoticeRecord(
        action=f"notice-{status}", notice=notice.id, request_id=notice.request_id,
        reference=notice.reference, entry=notice.seq, by=by,
        time=now.isoformat(timespec="microseconds"), deadline=notice.deadline.isoformat(),
        overdue=notice.overdue(today), reason=reason if excepted else None,
        note=note if excepted else None)
