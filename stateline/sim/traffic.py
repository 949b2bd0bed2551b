"""Synthetic traffic: which agency asks which state what, and how often.

A pure generator: given the nation's agencies, sample records per state and a seed, it yields
timed messages (sender ORI and legacy text), the same ones for the same inputs. Sending them
is the caller's business.

Why these shares. Over the year to October 2025, of more than 290 million DMV queries that
crossed Nlets, 292,114 came from ICE (0.10%) and 605,116 from HSI (0.21%); those counts are
interstate and federal traffic only, since in-state police usually reach their own DMV without
Nlets. A faithful mix would leave a 30-second demo with no ICE query at all, so federal shares
are raised about twentyfold, keeping HSI at twice ICE: ICE 2%, HSI 4%, CBP 3% (CBP ran 8 of
the 9 documented Washington plate queries behind arrests), USCIS, other DHS and other federal
agencies a little each, 287(g) partners 3%. Local, county and state police still send most
queries (about 70% to their own state, 14% to other states), as on the real network.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..directory.agency import DHS_IMMIGRATION, Agency, Level
from ..dmv.store import Sample
from ..switch.config import DEFAULT_REGIONS

POLICE_TYPES = frozenset({"PD", "SO", "SA"})
NON_FEDERAL = frozenset({Level.LOCAL, Level.COUNTY, Level.STATE, Level.TRIBAL})


@dataclass(frozen=True, slots=True)
class Query:
    """One message to send `at` seconds after traffic starts."""

    at: float
    sender: str
    text: str
    stream: str
    """Which kind of traffic it stands for, e.g. "in-state police", "ICE", "malformed"."""
    malformed: bool = False
    """Sent on purpose to be rejected by the switch."""


@dataclass(frozen=True, slots=True)
class Focus:
    """An agency that keeps asking one state about one subject, e.g. under a court order."""

    sender: str
    state: str
    subject: Sample
    share: float
    stream: str


@dataclass(frozen=True, slots=True)
class Setting:
    """What traffic needs to know of a nation: the states that answer, every agency that may
    ask, and records per answering state to ask about."""

    states: tuple[str, ...]
    agencies: tuple[Agency, ...]
    samples: Mapping[str, Sequence[Sample]]
    focus: tuple[Focus, ...] = ()


@dataclass(frozen=True, slots=True)
class Ask:
    """What a query shape fills its template with."""

    ori: str
    state: str
    who: Sample
    photo: bool
    also: tuple[str, ...] = ()
    """Further states a query to several named states goes to."""


def _imq(ask: Ask) -> str:
    return ".IMQ/Y" if ask.photo else ""


def _region(state: str) -> str:
    return next(code for code, members in DEFAULT_REGIONS.items() if state in members)


def _states(ask: Ask) -> str:
    return ".".join((ask.state, *ask.also))


SHAPES: dict[str, Callable[[Ask], str]] = {
    "DQ": lambda a: f"DQ.{a.ori}.{a.state}.TXT\nOLN/{a.who.oln}{_imq(a)}",
    "DQ-name": lambda a: (f"DQ.{a.ori}.{a.state}.TXT\nNAM/{a.who.name}.DOB/{a.who.dob}"
                          f".SEX/{a.who.sex}{_imq(a)}"),
    "KQ": lambda a: f"KQ.{a.ori}.{a.state}.TXT\nOLN/{a.who.oln}.PUR/C",
    "DNQ": lambda a: f"DNQ.{a.ori}.{a.state}.TXT\nNAM/{a.who.name}",
    "RQ": lambda a: (f"RQ.{a.ori}.{a.state}.TXT\nLIC/{a.who.plate}.LIY/{a.who.plate_year}"
                     f".LIT/{a.who.plate_type}"),
    "RQ-vin": lambda a: f"RQ.{a.ori}.{a.state}.TXT\nVIN/{a.who.vin}",
    "RNQ": lambda a: f"RNQ.{a.ori}.{a.state}.TXT\nNAM/{a.who.name}",
    "RPQ": lambda a: f"RPQ.{a.ori}.{a.state}.TXT\nLIC/{a.who.plate[:4]}*",
    "DQ-NL": lambda a: f"DQ.{a.ori}.NL.TXT\nNAM/{a.who.name}.DOB/{a.who.dob}",
    "DQG": lambda a: f"DQG.{a.ori}.{_region(a.state)}.TXT\nNAM/{a.who.name}.DOB/{a.who.dob}",
    "RQ-states": lambda a: f"RQ.{a.ori}.{_states(a)}.TXT\nVIN/{a.who.vin}",
}
"""Query shapes: the message an agency sends for a record of the asked state."""

MALFORMED: tuple[Callable[[Ask], str], ...] = (
    lambda a: f"DQ.{a.ori}.{a.state}.TXT\nNAM/{a.who.name}",
    lambda a: f"RQ.{a.ori}.{a.state}.TXT\nLIC/{a.who.plate}.LIT/{a.who.plate_type}",
    lambda a: f"KQ.{a.ori}.{a.state}.NL.TXT\nOLN/{a.who.oln}",
    lambda a: f"RPQ.{a.ori}.{a.state}.TXT\nLIC/{a.who.plate[:2]}*",
    lambda a: f"DQ.{a.ori}.{a.state}\nOLN/{a.who.oln}",
    lambda a: f"DQ.{a.ori}.{a.state}.TXT\nOLN/{a.who.oln}.DOB/19991399",
)
"""Messages an operator gets wrong: no DOB, no plate year, KQ to many states, too short a
partial plate, no TXT, an impossible date. Each earns a reject naming the problem."""

Weights = tuple[tuple[str, float], ...]
_POLICE: Weights = (("RQ", 42), ("DQ", 26), ("DQ-name", 8), ("RQ-vin", 5), ("KQ", 6),
                    ("DNQ", 4), ("RPQ", 3), ("RNQ", 2), ("DQ-NL", 1), ("DQG", 1),
                    ("RQ-states", 1))
"""Shares of a police agency's queries by shape, in percent. A multi-state query (NL, a
region, several states) asks every state it reaches, so it stays rare."""
_IMMIGRATION: Weights = (("DQ-name", 25), ("DNQ", 15), ("RQ", 27), ("RPQ", 10), ("DQ", 12),
                         ("RNQ", 5), ("DQ-NL", 3), ("RQ-vin", 3))
"""Immigration agencies search for people more than they check what is in hand: name and
partial-plate searches are a third of their queries here."""
_BORDER: Weights = (("RQ", 55), ("RQ-vin", 10), ("DQ", 15), ("RPQ", 10), ("DQ-name", 5),
                    ("RQ-states", 5))
_FEDERAL: Weights = (("DQ", 35), ("RQ", 35), ("DQ-name", 10), ("KQ", 10), ("RQ-vin", 10))


def _home(rng: random.Random, sender: Agency, states: tuple[str, ...]) -> str:
    return sender.state


def _away(rng: random.Random, sender: Agency, states: tuple[str, ...]) -> str:
    return rng.choice([s for s in states if s != sender.state] or list(states))


def _any(rng: random.Random, sender: Agency, states: tuple[str, ...]) -> str:
    return rng.choice(states)


def _anywhere(rng: random.Random, sender: Agency, states: tuple[str, ...]) -> str:
    """Mostly the sender's own state when it answers, else any."""
    return sender.state if sender.state in states and rng.random() < 0.6 else rng.choice(states)


def _police(a: Agency) -> bool:
    return a.level in NON_FEDERAL and a.agency_type in POLICE_TYPES and "287g" not in a.programs


def _component(*names: str) -> Callable[[Agency], bool]:
    return lambda a: a.level is Level.FEDERAL and a.component in names


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of traffic: its share of all messages, who sends it, where, and how."""

    name: str
    share: float
    senders: Callable[[Agency], bool]
    reach: Callable[[random.Random, Agency, tuple[str, ...]], str]
    shapes: Weights
    photo: float = 0.0
    """How often a driver query asks for the photo (IMQ/Y)."""
    home_only: bool = False
    """Senders must sit in an answering state (they ask their own)."""


STREAMS = (
    Stream("in-state police", 0.695, _police, _home, _POLICE, photo=0.3, home_only=True),
    Stream("out-of-state police", 0.14, _police, _away, _POLICE, photo=0.2),
    Stream("287(g) partner", 0.03, lambda a: a.level in NON_FEDERAL and "287g" in a.programs,
           _anywhere, _POLICE, photo=0.3),
    Stream("ICE", 0.02, _component("ICE"), _any, _IMMIGRATION, photo=0.5),
    Stream("HSI", 0.04, _component("HSI"), _any, _IMMIGRATION, photo=0.4),
    Stream("CBP", 0.03, _component("CBP"), _any, _BORDER, photo=0.3),
    Stream("USCIS", 0.005, _component("USCIS"), _any, _FEDERAL),
    Stream("DHS-other", 0.005, lambda a: a.level is Level.FEDERAL and a.department == "DHS"
           and a.component not in DHS_IMMIGRATION, _any, _FEDERAL),
    Stream("federal-other", 0.03, lambda a: a.level is Level.FEDERAL and a.department != "DHS",
           _any, _FEDERAL),
)
MALFORMED_SHARE = 0.005
MISS_RATE = 0.08
"""How often an agency asks a state about someone on another state's file: a no-record."""


class _Plan:
    """The streams with their senders picked out of the directory once."""

    def __init__(self, setting: Setting) -> None:
        if not setting.states:
            raise ValueError("traffic needs at least one answering state")
        self.setting = setting
        answering = frozenset(setting.states)
        dmv = [a for a in setting.agencies if "D" in a.permissions]
        self.streams: list[tuple[Stream, list[Agency]]] = []
        for stream in STREAMS:
            senders = [a for a in dmv if stream.senders(a)
                       and (a.state in answering or not stream.home_only)]
            if senders:
                self.streams.append((stream, senders))
        self.weights = [s.share for s, _ in self.streams] + [MALFORMED_SHARE] + \
            [f.share for f in setting.focus]
        self.police = next((senders for s, senders in self.streams if s.home_only), [])

    def next(self, rng: random.Random, at: float) -> Query:
        index = rng.choices(range(len(self.weights)), self.weights)[0]
        if index < len(self.streams):
            stream, senders = self.streams[index]
            sender = rng.choice(senders)
            state = stream.reach(rng, sender, self.setting.states)
            shape = rng.choices([n for n, _ in stream.shapes], [w for _, w in stream.shapes])[0]
            others = [s for s in self.setting.states if s != state]
            ask = Ask(sender.ori, state, self._subject(rng, state), rng.random() < stream.photo,
                      tuple(rng.sample(others, min(2, len(others)))))
            return Query(at, sender.ori, SHAPES[shape](ask), stream.name)
        if index == len(self.streams):
            return self._malformed(rng, at)
        focus = self.setting.focus[index - len(self.streams) - 1]
        ask = Ask(focus.sender, focus.state, focus.subject, False)
        return Query(at, focus.sender, SHAPES["DQ"](ask), focus.stream)

    def _subject(self, rng: random.Random, state: str) -> Sample:
        samples = self.setting.samples
        if rng.random() < MISS_RATE:
            state = rng.choice(self.setting.states)
        return rng.choice(samples[state])

    def _malformed(self, rng: random.Random, at: float) -> Query:
        sender = rng.choice(self.police or list(self.setting.agencies))
        state = sender.state if sender.state in self.setting.states else \
            rng.choice(self.setting.states)
        ask = Ask(sender.ori, state, self._subject(rng, state), False)
        return Query(at, sender.ori, rng.choice(MALFORMED)(ask), "malformed", malformed=True)


def traffic(setting: Setting, seed: int = 1, rate: float = 200.0) -> Iterator[Query]:
    """Endless traffic at `rate` messages a second on average (Poisson arrivals),
    deterministic for the setting and the seed."""
    if rate <= 0:
        raise ValueError("the rate must be above zero")
    missing = [s for s in setting.states if not setting.samples.get(s)]
    if missing:
        raise ValueError(f"no sample records for {', '.join(missing)}")
    rng = random.Random(f"traffic:{seed}")
    plan = _Plan(setting)
    at = 0.0
    while True:
        at += rng.expovariate(rate)
        yield plan.next(rng, at)
