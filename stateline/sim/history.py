"""Synthetic past traffic for one state of the demo nation, as its switch would export it.

The export is "nlets-text": each request in the delivered form the state received it (with
the switch's output header, whose "sent" stamp is the request's time, UTC), then the state's
answer in delivered form, one blank line between transactions. Senders are the directory's
agencies in the live demo's shares (`traffic.STREAMS`: ICE about 0.1% and HSI about 0.2% of
DMV queries nationally, raised twentyfold as the live demo raises them); subjects are the
state's own residents, or another state's where the asker has the wrong state (no record);
answers are what the state's demo policy decides, cut as the gateway cuts them.

Volumes follow the calendar: fewer requests on weekends and holidays, more in summer, a
day's requests mostly in local working hours. One state blocks a category partway through
(`BLOCKS`: Washington cut ICE off at its switch on 19 Nov 2025) and another agency's
requests rise after it, as CBP's did there. Everything is drawn from a generator seeded by
state and day, so a day's traffic is the same whichever span it is written in.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from time import monotonic

from ..audit import EntryKind, read_state_log
from ..datadir import DataDir
from ..directory.agency import Agency
from ..directory.categories import category
from ..directory.store import Directory, Snapshot
from ..dmv import DmvStore, open_store
from ..dmv.records import Hit
from ..errors import StatelineError
from ..gateway.lookup import SEARCHES, release
from ..gateway.pipeline import gateway_oris
from ..history import AlreadyImported, import_history
from ..policy.engine import Decision, PolicyEngine, Request, Verdict
from ..policy.presets import preset
from ..policy.source import compile_policies
from ..protocol import (
    Answer,
    Field,
    Message,
    Outcome,
    Stamp,
    format_answer,
    parse,
    spec_for,
)
from ..protocol.model import normalise_body
from ..protocol.text import format_stamp
from . import scenario
from .nation import NationError
from .traffic import MISS_RATE, SHAPES, STREAMS, Ask, Stream

FORMAT = "nlets-text"
FOLDER = "history"
"""Where the demo writes each state's export, inside the data folder."""
YEARS = 2
"""Full calendar years before the current one that the history covers."""

PER_DAY: Mapping[str, int] = {"WA": 32, "CA": 19, "TX": 17, "FL": 15, "NY": 15, "IL": 14,
                              "AZ": 12, "OR": 12}
"""Requests an ordinary weekday brings each state, before season and chance: enough for the
charts to show their shape, few enough that the demo writes and imports three years of them
(about 130,000 requests) well within 20 seconds on two cores. Washington, the state that blocks,
gets the most, so the move of its federal traffic shows week by week."""

UTC_OFFSET: Mapping[str, int] = {"WA": -8, "OR": -8, "CA": -8, "AZ": -7, "TX": -6, "IL": -6,
                                 "NY": -5, "FL": -5}
"""Hours from UTC (standard time): a state's requests come in its own working day."""


@dataclass(frozen=True, slots=True)
class Block:
    """A category the state refused from `day` on, under the demo's policy for the state;
    before it the state answered under `before`. `rises` names who asked more after it."""

    day: date
    category: str
    before: str
    rises: Mapping[str, float]


BLOCKS: Mapping[str, Block] = {
    "WA": Block(date(2025, 11, 19), "ICE", "cj-baseline", {"CBP": 2.5}),
}
"""Washington's governor ordered ICE cut off in early November 2025; the switch's vendor put
the block in on 19 November. Border Patrol kept access, and its share of queries rose."""


@dataclass(frozen=True, slots=True)
class Span:
    """Days written, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class Written:
    """A state's history file and what it holds."""

    state: str
    path: Path
    span: Span
    requests: int


def span_for(today: date, covered: date | None = None) -> Span | None:
    """The days a history must cover: from 1 January two years back (or the day after
    `covered`, the last day already imported) to yesterday; None when nothing is left."""
    first = date(today.year - YEARS, 1, 1) if covered is None else covered + timedelta(days=1)
    last = today - timedelta(days=1)
    return Span(first, last) if first <= last else None


def imported_through(data: DataDir, state: str) -> date | None:
    """The last day the state's log holds imported requests for, read from its daily counts;
    None when it holds none (or there is no log yet)."""
    log = read_state_log(data, state)
    if log is None:
        return None
    try:
        (day,) = log.select("SELECT max(day) FROM rollups WHERE kind = ?",
                            (EntryKind.IMPORTED.value,)).fetchone()
    finally:
        log.close()
    return date.fromisoformat(day) if day else None


@dataclass(frozen=True, slots=True)
class Imported:
    """One state's history, written and brought into its log."""

    written: Written
    requests: int
    """Requests added to the log: none when it held this very file already (same bytes)."""
    seconds: float


def write_and_import(root: str, state: str, span: Span, today: date) -> Imported:
    """Write a state's history into DIR/history and import it as the state's switch records:
    one state's share of the demo's work, made to run in a process of its own. A refusal
    comes back as a NationError with the importer's text (its own types carry more than
    their text, so they do not cross between processes)."""
    started = monotonic()
    data = DataDir(Path(root))
    written = write_history(data, state, span, data.root / FOLDER)
    try:
        summary = import_history(data, state, [written.path], fmt=FORMAT, today=today)
    except AlreadyImported:
        return Imported(written, 0, monotonic() - started)
    except StatelineError as error:
        raise NationError(f"{state}'s synthetic history was refused: {error.text}") from None
    return Imported(written, summary.records, monotonic() - started)


def file_name(state: str, span: Span) -> str:
    return f"{state}-{span.first.isoformat()}-to-{span.last.isoformat()}.txt"


def write_history(data: DataDir, state: str, span: Span, folder: Path, *,
                  seed: int = scenario.SEED) -> Written:
    """Write the state's traffic for the span into `folder`, one file, and say what it holds.
    It is written beside its name and moved into place, so a file found there is whole."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(state, span)
    partial = path.with_name(path.name + ".part")
    requests = 0
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        for text in transactions(data, state, span, seed=seed):
            out.write(f"\n\n{text}" if requests else text)
            requests += 1
        out.write("\n")
    partial.replace(path)
    return Written(state, path, span, requests)


def transactions(data: DataDir, state: str, span: Span, *,
                 seed: int = scenario.SEED) -> Iterator[str]:
    """Each transaction of the span in time order: the request, a line break, the answer."""
    switch = _Switch(data, state.upper(), seed)
    try:
        for offset in range(span.days):
            yield from switch.day(span.first + timedelta(days=offset))
    finally:
        switch.close()


SUBJECTS = 200
"""Residents per state the history asks about, of the demo's sample records."""
REGULARS = 12
"""Agencies per stream that ask a state in its history: the offices that ask it often."""


@dataclass(frozen=True, slots=True, eq=False)
class _Query:
    """A delivered query's key and fields, and its text: what its answer depends on. Each
    is made once and kept, so it is its own identity."""

    key: str
    fields: tuple[Field, ...]
    text: str
    image: bool


class _Switch:
    """One state's side of the switch: who asks it, what it decides, what it answers."""

    def __init__(self, data: DataDir, state: str, seed: int) -> None:
        demo = {s.code: s for s in scenario.STATES}.get(state)
        if demo is None:
            raise NationError(f"{state} is not one of the demo's states "
                              f"({', '.join(scenario.CODES)}): it has no synthetic history")
        self.state, self.seed = state, seed
        self.block = BLOCKS.get(state)
        with Directory.open(data, create=False) as directory:
            version, agencies = directory.version, directory.agencies()
        self.senders = _senders(agencies, state, random.Random(f"senders:{seed}:{state}"))
        # The engine knows only the agencies that ask: its entities are built in a moment.
        asking = {a.ori: a for _, regulars in self.senders for a in regulars}
        after = _engine(state, demo.preset, Snapshot(version, asking))
        before = after.with_source(compile_policies(preset(self.block.before).text())) \
            if self.block else after
        self.engines = (before, after)
        self.weights = tuple(_weights(self.senders, rises) for rises in
                             ({}, self.block.rises if self.block else {}))
        # Who asks more after a block adds to the day; everyone else asks as before.
        self.volumes = tuple(PER_DAY[state] * w[-1] / self.weights[0][-1] for w in self.weights)
        self.oris = gateway_oris(data, state)
        here = [s for s in data.states() if s in scenario.CODES]
        self.samples = {code: scenario.samples(data, code, SUBJECTS) for code in here}
        self.store: DmvStore = open_store(data.dmv_url(state))
        minutes = [HOURS[(m // 60 + UTC_OFFSET.get(state, 0)) % 24] for m in range(1440)]
        self.minutes = _cumulative(minutes)
        self.queries: dict[tuple[str, str, int, bool], _Query] = {}
        self.answers: dict[tuple[_Query, int], tuple[str, str]] = {}
        """Answers by query and decision. The engine memoises a decision per request, so one
        decision is many equal values (one per sender); each is named by the id of the first
        of its equals, and the engines keep them all alive, so the ids stay theirs."""
        self.hits: dict[_Query, list[Hit]] = {}
        self.equal: dict[Decision, Decision] = {}
        self.named: dict[int, int] = {}

    def close(self) -> None:
        self.store.close()

    def day(self, day: date) -> list[str]:
        rng = random.Random(f"history:{self.seed}:{self.state}:{day.isoformat()}")
        blocked = self.block is not None and day >= self.block.day
        engine, weights = self.engines[blocked], self.weights[blocked]
        n = _drawn(rng, expected(day, self.volumes[blocked]))
        minutes = sorted(rng.choices(range(1440), cum_weights=self.minutes, k=n))
        picks = rng.choices(range(len(self.senders)), cum_weights=weights, k=n)
        counter = rng.randrange(100_000)
        stamps: dict[int, str] = {}
        seen: set[tuple[int, str, str]] = set()
        found = []
        for minute, pick in zip(minutes, picks, strict=True):
            stream, agencies = self.senders[pick]
            ori = rng.choice(agencies).ori
            query = self._query(rng, stream, ori)
            if (minute, ori, query.text) in seen:
                continue  # one sender does not ask the same twice in a minute
            seen.add((minute, ori, query.text))
            stamp = stamps.get(minute)
            if stamp is None:
                at = datetime.combine(day, time(minute // 60, minute % 60))
                stamp = stamps[minute] = format_stamp(Stamp(at, 0))[:16]
            counter = (counter + rng.randint(7, 40)) % 99_990
            decision = engine.decide(Request(ori, query.key, image_requested=query.image))
            named = self.named.get(id(decision))
            if named is None:
                named = self.named[id(decision)] = id(self.equal.setdefault(decision, decision))
            reply = self.answers.get((query, named))
            if reply is None:
                reply = self.answers[(query, named)] = self._answer(query, decision)
            state_ori = self.oris[1] if _group(query.key) == "vehicle" else self.oris[0]
            found.append(_delivered(query.key, ori, stamp, counter, state_ori, query.text)
                         + "\n" + _delivered(reply[0], state_ori, stamp, counter + 5, ori,
                                             reply[1]))
        return found

    def _query(self, rng: random.Random, stream: Stream, ori: str) -> _Query:
        shape = rng.choices(SHAPE_NAMES[stream.name], SHAPE_WEIGHTS[stream.name])[0]
        photo = rng.random() < stream.photo
        home = self.state
        if rng.random() < MISS_RATE:
            home = rng.choice(tuple(self.samples))
        who = rng.randrange(len(self.samples[home]))
        found = self.queries.get((shape, home, who, photo))
        if found is None:
            asked = parse(SHAPES[shape](Ask(ori, self.state, self.samples[home][who], photo)))
            spec = spec_for(asked.key)
            key = spec.delivered_as if spec and spec.delivered_as else asked.key
            found = self.queries[(shape, home, who, photo)] = _Query(
                key, asked.fields, ".".join(map(str, asked.fields)), asked.value("IMQ") == "Y")
        return found

    def _answer(self, query: _Query, decision: Decision) -> tuple[str, str]:
        """The response key and body the gateway would have written. A review the policy
        asks for is a denial here: before Stateline the state had no review queue."""
        spec = spec_for(query.key)
        assert spec is not None and spec.response is not None and spec.group is not None
        if decision.verdict is not Verdict.ALLOW:
            first = decision.reasons[0] if decision.reasons else None
            answer = Answer(self.state, spec.group, Outcome.DENIED,
                            policy=first.policy if first else None,
                            reason=first.text if first else None)
            return spec.response, normalise_body(format_answer(answer))
        hits = self.hits.get(query)
        if hits is None:  # found without the photo itself: its section says it is on file
            asked = Message(query.key, "XX0000000", (self.state,), fields=query.fields)
            hits = self.hits[query] = SEARCHES[decision.action](self.store, asked, False)
        found = release(hits, decision, spec.group)
        outcome = (Outcome.NO_RECORD if not found.records else
                   Outcome.PARTIAL if found.withheld else Outcome.RELEASED)
        answer = Answer(self.state, spec.group, outcome, found.records)
        return spec.response, normalise_body(format_answer(answer))


def _engine(state: str, name: str, snapshot: Snapshot) -> PolicyEngine:
    return PolicyEngine(state, compile_policies(preset(name).text()), snapshot)


def _senders(agencies: Sequence[Agency], state: str,
             rng: random.Random) -> tuple[tuple[Stream, tuple[Agency, ...]], ...]:
    """Each stream with the agencies that send it to this state (at most REGULARS of them):
    DMV permission, the stream's kind of agency, and counted by the state under the stream's
    category ("in-state police" under "in-state")."""
    found = []
    for stream in STREAMS:
        wanted = stream.name.removesuffix(" police")
        senders = [a for a in agencies if "D" in a.permissions and stream.senders(a)
                   and category(a, state) == wanted]
        if senders:
            found.append((stream, tuple(rng.sample(senders, min(REGULARS, len(senders))))))
    return tuple(found)


def _delivered(key: str, sender: str, stamp: str, counter: int, receiving: str,
               text: str) -> str:
    """A message as `protocol.format_text` writes it once delivered: its key and sender, the
    output header (received, then sent with the receiving ORI; both in the minute `stamp`)
    and its text. Written here at a fraction of the cost of building the Message; a test
    holds the two to the same bytes."""
    return (f"{key}.{sender}\n{stamp} {counter:05d}\n{stamp} {counter + 3:05d} {receiving}\n"
            f"TXT\n{text}")


# Pure functions: the calendar's shape, and the weights drawn with.

HOURS = (2.0, 1.5, 1.2, 1.0, 1.0, 1.2, 2.0, 3.5, 5.0, 6.0, 6.5, 6.5, 6.0, 6.5, 6.5, 6.0, 5.5,
         5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0)
"""Requests by local hour: patrol shifts around the clock, most in the working day."""
WEEKDAYS = (1.0, 1.05, 1.05, 1.05, 1.0, 0.65, 0.55)
"""Monday to Sunday: offices that run most queries keep office hours."""
MONTHS = (0.88, 0.9, 0.95, 1.0, 1.05, 1.12, 1.18, 1.16, 1.04, 1.0, 0.94, 0.9)
"""A summer rise (more driving, more stops), a winter low."""
HOLIDAY = 0.6
"""A federal holiday's share of an ordinary day."""

SHAPE_NAMES = {s.name: tuple(name for name, _ in s.shapes) for s in STREAMS}
SHAPE_WEIGHTS = {s.name: tuple(weight for _, weight in s.shapes) for s in STREAMS}


def expected(day: date, per_day: float) -> float:
    """Requests expected on a day: the weekday's, month's and holiday's shares of `per_day`."""
    factor = WEEKDAYS[day.weekday()] * MONTHS[day.month - 1]
    return per_day * factor * (HOLIDAY if day in holidays(day.year) else 1.0)


@cache
def holidays(year: int) -> frozenset[date]:
    """The U.S. federal holidays of a year, on their days (not the observed Fridays)."""
    return frozenset((
        date(year, 1, 1), _nth(year, 1, 0, 3), _nth(year, 2, 0, 3), _last_monday(year, 5),
        date(year, 6, 19), date(year, 7, 4), _nth(year, 9, 0, 1), _nth(year, 10, 0, 2),
        date(year, 11, 11), _nth(year, 11, 3, 4), date(year, 12, 25)))


def _nth(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (Monday 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def _drawn(rng: random.Random, mean: float) -> int:
    """A day's count around its mean, spread as a count of independent requests is."""
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def _weights(senders: Sequence[tuple[Stream, object]],
             rises: Mapping[str, float]) -> list[float]:
    return _cumulative([s.share * rises.get(s.name, 1.0) for s, _ in senders])


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, found = 0.0, []
    for weight in weights:
        total += weight
        found.append(total)
    return found


def _group(key: str) -> str:
    spec = spec_for(key)
    return spec.group if spec is not None and spec.group else "driver"
