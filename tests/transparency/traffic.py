"""Real traffic through a state's gateway for transparency tests, at times the test chooses.

The gateway's audit log is reopened on a clock the test sets, so a year of requests can be
made in a second. Entry times must rise, so a log made this way starts empty: the nation's
first policy-change entry is set aside first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stateline.audit import AuditLog, audit_db, load_or_create_key, signing_key
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, Result
from stateline.protocol import read

ICE = "VTICE0900"
HSI = "NYHSI0100"
CBP = "TXCBP0100"
POLICE = "WASPD0100"
OUT_OF_STATE = "ORPPD0000"
STATE = "WA"


@dataclass
class Clock:
    """Microseconds since the epoch, set by the test."""

    now: datetime

    def __call__(self) -> int:
        return int((self.now - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def fresh_log(data: DataDir) -> None:
    """Set the state's log aside (with its write-ahead files), so backdated entries can start it."""
    for suffix in ("", "-wal", "-shm"):
        path = audit_db(data, STATE).with_name(audit_db(data, STATE).name + suffix)
        path.unlink(missing_ok=True)


@contextmanager
def gateway_at(data: DataDir, clock: Clock) -> Iterator[Gateway]:
    """The state's gateway, its audit entries stamped by `clock`."""
    with Gateway(data, STATE) as gateway:
        gateway.policy.check()
        gateway.log.close()
        key = load_or_create_key(signing_key(data, STATE))
        gateway.log = AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}", key, clock)
        try:
            yield gateway
        finally:
            gateway.log.maybe_sign(every_entries=1)
            gateway.log.close()


def samples(data: DataDir, count: int = 40) -> list[Sample]:
    store = open_store(data.dmv_url(STATE))
    try:
        return store.sample(count, seed=3)
    finally:
        store.close()


def partner(data: DataDir) -> str:
    """A local agency with a 287(g) agreement that may send DMV queries."""
    with Directory.open(data, create=False) as directory:
        found = sorted(a.ori for a in directory.snapshot().agencies.values()
                       if "287g" in a.programs and not a.is_federal and a.active
                       and "D" in a.permissions and a.criminal_justice)
    return found[0]


def driver(gateway: Gateway, sender: str, person: Sample, extra: str = "") -> Result:
    return gateway.handle(read(f"DQ.{sender}.{STATE}.TXT\nOLN/{person.oln}{extra}"))


def plate(gateway: Gateway, sender: str, person: Sample) -> Result:
    return gateway.handle(read(f"RQ.{sender}.{STATE}.TXT\nLIC/{person.plate}"
                               f".LIY/{person.plate_year}.LIT/{person.plate_type}"))


def name_only(gateway: Gateway, sender: str, person: Sample) -> Result:
    return gateway.handle(read(f"DNQ.{sender}.{STATE}.TXT\nNAM/{person.name}"))


def history(gateway: Gateway, sender: str, person: Sample, attention: str) -> Result:
    return gateway.handle(read(f"KQ.{sender}.{STATE}.TXT\nOLN/{person.oln}.ATN/{attention}"))


SURGE = "WA0010100"
"""A police department whose volume jumps eightfold in the last 30 days."""
SEARCHER = "WA0020100"
"""A police department that turns to name-only searches in the last 30 days."""
WORDS = "WA0030100"
"""A police department that writes ICE ERO in a history query's attention field."""
DAYS = 180
RECENT = 30


@dataclass(frozen=True)
class Story:
    """What `six_months` made, for tests to check against."""

    start: datetime
    end: datetime
    partner: str
    people: list[Sample]


def six_months(data: DataDir, end: datetime) -> Story:
    """Six months of requests up to `end` under block-ice-review-hsi: police in and out of the
    state every day (the clean background), then in the last 30 days a surge, a turn to
    name-only searches, requests from a 287(g) partner, an ICE ERO note, and police answers
    for people and plates ICE was refused and HSI held a few days before."""
    people = samples(data)
    clean, special = people[:20], people[20:]
    start = end - timedelta(days=DAYS)
    found = partner(data)
    events: dict[datetime, list[str]] = {}
    for day in range(DAYS):
        recent = day >= DAYS - RECENT
        texts = [_dq(POLICE, clean[(day + n) % 20]) for n in range(2)]
        texts.append(_rq(OUT_OF_STATE, clean[day % 20]))
        if day >= DAYS - 150:
            texts += [_dq(SURGE, clean[(day + n) % 20]) for n in range(8 if recent else 1)]
            texts += [_dq(SEARCHER, clean[day % 20])]
            texts += [f"DNQ.{SEARCHER}.{STATE}.TXT\nNAM/{clean[day % 20].name}" if recent
                      else _dq(SEARCHER, clean[(day + 7) % 20])]
        events[start + timedelta(days=day, hours=9)] = texts
    for days_before, text in _side_doors(special, found):
        events.setdefault(end - timedelta(days=days_before), []).append(text)
    clock = Clock(start)
    with gateway_at(data, clock) as gateway:
        for when in sorted(events):
            clock.now = when
            gateway.handle_many([read(text) for text in events[when]])
    return Story(start, end, found, people)


def _side_doors(special: list[Sample], found: str) -> list[tuple[float, str]]:
    """The patterns flags look for, in the last 30 days, as days before the end."""
    return [
        (20.5, _dq(ICE, special[0])),          # refused
        (19.5, _rq(HSI, special[1])),          # held
        (18.5, _dq(POLICE, special[0])),       # answered 2 days after ICE: flagged
        (16.5, _rq(OUT_OF_STATE, special[1])),  # answered 3 days after HSI: flagged
        (15.5, _dq(ICE, special[2])),          # refused
        (4.5, _dq(POLICE, special[2])),        # answered 11 days later: not flagged
        (3.5, _dq(CBP, special[3])),           # answered, not refused
        (2.5, _dq(POLICE, special[3])),        # so not flagged
        *((2.25, _dq(found, special[4 + n])) for n in range(3)),
        (1.5, f"KQ.{WORDS}.{STATE}.TXT\nOLN/{special[8].oln}.ATN/ICE ERO"),
        (1.25, f"KQ.{POLICE}.{STATE}.TXT\nOLN/{special[9].oln}.ATN/DET RICE"),
        (1.0, f"DQ.{SURGE}.{STATE}.TXT\nOLN/{special[10].oln}.RSN/I"),
    ]


def _dq(sender: str, person: Sample) -> str:
    return f"DQ.{sender}.{STATE}.TXT\nOLN/{person.oln}"


def _rq(sender: str, person: Sample) -> str:
    return (f"RQ.{sender}.{STATE}.TXT\nLIC/{person.plate}.LIY/{person.plate_year}"
            f".LIT/{person.plate_type}")
