"""A state's residents: license and ID holders with photos, vehicles, registrations and
driving histories, generated in batches, deterministic for (seed, state)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import mul
from typing import TypeVar

from ..dmv.records import Credential, HistoryEvent, Person, Photo, Registration, Vehicle
from ..dmv.store import Batch
from .names import (
    FEMALE_NAMES,
    MALE_NAMES,
    MIDDLE_INITIALS,
    STREET_KINDS,
    STREET_NAMES,
    SURNAMES,
    TOWN_ENDS,
    TOWN_STARTS,
)

T = TypeVar("T")
BATCH_SIZE = 5_000
TODAY = date(2026, 11, 1)
"""Records are as of this day, so a nation is the same whenever it is built."""

_DIGITS = "0123456789"
_ALNUM = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How a state writes license numbers or plates: a fixed head and a coded tail."""

    head: str
    alphabet: str
    width: int


OLN_FORMATS: dict[str, NumberFormat] = {
    "WA": NumberFormat("WDL", _ALNUM, 9),
    "OR": NumberFormat("", "0123456789", 7),
    "NY": NumberFormat("", "0123456789", 9),
    "TX": NumberFormat("", "0123456789", 8),
    "AZ": NumberFormat("D", "0123456789", 8),
    "CA": NumberFormat("B", "0123456789", 7),
    "FL": NumberFormat("S", "0123456789", 12),
}
DEFAULT_OLN = NumberFormat("", "0123456789", 9)

EYES = ("BRO", "BRO", "BRO", "BLU", "BLU", "HAZ", "GRN", "GRY", "BLK")
HAIR = ("BRO", "BRO", "BLK", "BLK", "BLN", "RED", "GRY", "WHI", "SDY", "BAL")
CLASSES = ("C",) * 80 + ("ID",) * 12 + ("A",) * 3 + ("B",) * 2 + ("M",) * 3
STATUSES = ("VALID",) * 90 + ("SUSPENDED",) * 4 + ("REVOKED",) + ("EXPIRED",) * 5
CREDENTIALS = ((Credential.REAL_ID,) * 60 + (Credential.STANDARD,) * 34
               + (Credential.LIMITED_PURPOSE,) * 6)
RESTRICTIONS = ("",) * 7 + ("B",) * 3
VEHICLE_COUNTS = (0, 0, 0, 1, 1, 1, 1, 2, 2, 3)

MAKES = (
    ("1HG", "HOND", ("ACCORD", "CIVIC", "CR-V", "PILOT")),
    ("4T1", "TOYT", ("CAMRY", "COROLLA", "RAV4", "TACOMA")),
    ("1FT", "FORD", ("F-150", "ESCAPE", "FOCUS", "EXPLORER")),
    ("1G1", "CHEV", ("MALIBU", "SILVERADO", "EQUINOX", "IMPALA")),
    ("1N4", "NISS", ("ALTIMA", "SENTRA", "ROGUE")),
    ("5YJ", "TESL", ("MODEL 3", "MODEL Y")),
    ("WBA", "BMW", ("330I", "X3", "X5")),
    ("3VW", "VOLK", ("JETTA", "GOLF", "TIGUAN")),
    ("KM8", "HYUN", ("TUCSON", "ELANTRA", "SONATA")),
    ("1C4", "JEEP", ("WRANGLER", "CHEROKEE")),
)
STYLES = ("4D", "4D", "SW", "PK", "2D", "UT", "UT")
COLORS = ("BLK", "WHI", "SIL", "GRY", "BLU", "RED", "GRN", "BRO", "TAN", "GLD")
CONVICTIONS = (
    ("S11", "SPEEDING 11-15 OVER"), ("S16", "SPEEDING 16-20 OVER"),
    ("S21", "SPEEDING 21-25 OVER"), ("RLT", "FAILURE TO STOP AT RED LIGHT"),
    ("NIN", "NO PROOF OF INSURANCE"), ("DUI", "DRIVING UNDER THE INFLUENCE"),
    ("RCK", "RECKLESS DRIVING"), ("SBT", "SEAT BELT VIOLATION"),
)
WITHDRAWALS = {
    "SUSPENDED": ("FTA", "SUSPENDED FAILURE TO APPEAR"),
    "REVOKED": ("DUR", "REVOKED DUI CONVICTION"),
}

_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"
"""Model-year codes, starting at 2010."""


def encode(number: int, fmt: NumberFormat) -> str:
    """A number written in a format's alphabet, padded to its width, after its head."""
    if fmt.alphabet == _DIGITS:
        return f"{fmt.head}{number:0{fmt.width}d}"
    base = len(fmt.alphabet)
    chars = []
    for _ in range(fmt.width):
        number, digit = divmod(number, base)
        chars.append(fmt.alphabet[digit])
    return fmt.head + "".join(reversed(chars))


def scramble(index: int, space: int, salt: int) -> int:
    """A bijection on range(space): distinct indexes give distinct, unordered-looking numbers."""
    return (index * _multiplier(space) + salt) % space


@cache
def _multiplier(space: int) -> int:
    """An odd number near space/φ sharing no factor with space, so scramble is one-to-one."""
    multiplier = int(space * 0.6180339887) | 1
    while _gcd(multiplier, space) != 1:
        multiplier += 2
    return multiplier


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def vin_check_digit(vin16: str) -> str:
    """The ninth VIN character: weighted sum of the others, mod 11 (10 is written X)."""
    chars = vin16[:8] + "0" + vin16[8:]
    total = sum(map(mul, map(_VIN_VALUES.__getitem__, chars), _VIN_WEIGHTS))
    digit = total % 11
    return "X" if digit == 10 else str(digit)


def plate_for(state: str, number: int) -> str:
    """Plates as three letters and four digits (Oregon: three digits, three letters)."""
    letters = encode(number // 10_000, NumberFormat("", _LETTERS, 3))
    digits = f"{number % 10_000:04d}"
    return digits[1:] + letters if state == "OR" else letters + digits


def generate_residents(state: str, count: int, seed: int) -> Iterator[Batch]:
    """Residents of a state in batches; the same (state, count, seed) gives the same records."""
    draw = _Draw(random.Random(f"residents:{seed}:{state}"))
    fmt = OLN_FORMATS.get(state, DEFAULT_OLN)
    oln_space = len(fmt.alphabet) ** fmt.width
    plate_space = len(_LETTERS) ** 3 * 10_000
    towns = tuple(f"{draw.pick(TOWN_STARTS)}{draw.pick(TOWN_ENDS)}" for _ in range(40))
    salt = draw.rng.randrange(1 << 30)
    vehicle_index = 0
    for start in range(0, count, BATCH_SIZE):
        people: list[Person] = []
        photos: list[Photo] = []
        vehicles: list[Vehicle] = []
        registrations: list[Registration] = []
        history: list[HistoryEvent] = []
        for index in range(start, min(start + BATCH_SIZE, count)):
            person = _person(draw, state, encode(scramble(index, oln_space, salt), fmt), towns)
            people.append(person)
            photos.append(Photo(person.oln, draw.rng.getrandbits(31), person.issued))
            if draw.chance(0.15) or person.status in WITHDRAWALS:
                history.extend(_history(draw, person))
            for _ in range(draw.pick(VEHICLE_COUNTS)):
                vehicle = _vehicle(draw, vehicle_index)
                plate = plate_for(state, scramble(vehicle_index, plate_space, salt))
                vehicles.append(vehicle)
                registrations.append(_registration(draw, person, vehicle, plate))
                vehicle_index += 1
        yield Batch(tuple(people), tuple(photos), tuple(vehicles), tuple(registrations),
                    tuple(history))


class _Draw:
    """Cheap random picks: one float per pick, no per-call checks."""

    __slots__ = ("random", "rng")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.random = rng.random

    def pick(self, table: Sequence[T]) -> T:
        return table[int(self.random() * len(table))]

    def chance(self, probability: float) -> bool:
        return self.random() < probability

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


_TODAY = TODAY.toordinal()


def _person(draw: _Draw, state: str, oln: str, towns: tuple[str, ...]) -> Person:
    random_ = draw.random
    pick = draw.pick
    female = random_() < 0.51
    dob = date.fromordinal(_TODAY - int(5_844 + random_() * 26_298))
    issued_on = _TODAY - int(random_() * 2_920)
    license_class = pick(CLASSES)
    spread = random_() + random_() + random_() - 1.5
    return Person(
        oln,
        pick(SURNAMES),
        pick(FEMALE_NAMES if female else MALE_NAMES),
        pick(MIDDLE_INITIALS) if random_() < 0.8 else "",
        "JR" if random_() < 0.02 else "",
        dob,
        "F" if female else "M",
        int((64 if female else 70) + spread * 6),
        int((150 if female else 185) + spread * 60),
        pick(EYES),
        pick(HAIR),
        f"{draw.between(1, 19999)} {pick(STREET_NAMES)} {pick(STREET_KINDS)}",
        pick(towns),
        state,
        f"{draw.between(10000, 99999)}",
        license_class,
        pick(STATUSES),
        pick(RESTRICTIONS),
        "M" if license_class == "M" else "",
        date.fromordinal(issued_on),
        date.fromordinal(issued_on + 2_920),
        pick(CREDENTIALS),
        f"000{draw.between(0, 999_999):06d}",
    )


def _history(draw: _Draw, person: Person) -> list[HistoryEvent]:
    events = []
    if person.status not in WITHDRAWALS or draw.chance(0.5):
        for _ in range(draw.between(1, 3)):
            code, text = draw.pick(CONVICTIONS)
            on = date.fromordinal(_TODAY - draw.between(30, 2_190))
            events.append(HistoryEvent(person.oln, "CONVICTION", on, code, text))
    withdrawal = WITHDRAWALS.get(person.status)
    if withdrawal:
        on_day = _TODAY - draw.between(10, 700)
        events.append(HistoryEvent(person.oln, "WITHDRAWAL", date.fromordinal(on_day),
                                   withdrawal[0], withdrawal[1], date.fromordinal(on_day + 365)))
    return events


def _vehicle(draw: _Draw, index: int) -> Vehicle:
    wmi, make, models = draw.pick(MAKES)
    year = draw.between(2010, 2026)
    descriptor = encode(draw.rng.getrandbits(25), NumberFormat("", _ALNUM, 5))
    tail = _VIN_YEARS[year - 2010] + draw.pick(_LETTERS) + f"{index % 1_000_000:06d}"
    vin16 = wmi + descriptor + tail
    vin = vin16[:8] + vin_check_digit(vin16) + vin16[8:]
    return Vehicle(vin, make, draw.pick(models), year, draw.pick(STYLES), draw.pick(COLORS))


def _registration(draw: _Draw, person: Person, vehicle: Vehicle, plate: str) -> Registration:
    expires = date.fromordinal(_TODAY + draw.between(-60, 365))
    plate_type = "MC" if person.license_class == "M" and draw.chance(0.3) else "PC"
    owner = f"{person.last},{person.first}" + (f" {person.middle}" if person.middle else "")
    return Registration(plate, plate_type, expires.year, expires, vehicle.vin, person.oln, owner)
