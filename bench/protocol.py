"""Legacy-text throughput of the protocol room on a realistic query mix, against a bare split.

Run from the project root: ``.venv/bin/python bench/protocol.py``. It reports and never fails.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import timeit
from collections.abc import Callable
from datetime import date, timedelta

from stateline.protocol import STATES, format_text, parse, read

SEED = 20_260_101
MESSAGES = 2_000
REPEATS = 7
LOOPS = 3
TARGET = 100_000
"""Messages per second parse must reach on one core."""

ALNUM = string.ascii_uppercase + string.digits
STATE_CODES = sorted(STATES)
SURNAMES = ["DOE", "SMITH", "GARCIA", "NGUYEN", "O'BRIEN", "SMITH-JONES", "LEE", "PATEL"]
GIVEN = ["JANE", "JOHN", "MARIA", "WEI", "AHMED", "SAM", "ANA LUCIA", "LEE"]
PLATE_TYPES = ["PC", "TK", "MC", "TL", "CO"]
MAKES = ["FORD", "TOYT", "HOND", "CHEV", "NISS"]


def _chars(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _head(rng: random.Random, key: str, destinations: list[str]) -> str:
    """KEY.ORI.DEST[.DEST...][.*CONTROL].TXT, with a control field on about a third."""
    sender = rng.choice(STATE_CODES) + _chars(rng, ALNUM, 7)
    parts = [key, sender, *destinations]
    if rng.random() < 0.3:
        parts.append("*" + _chars(rng, ALNUM + "-", rng.randint(4, 10)))
    return ".".join([*parts, "TXT"])


def _person(rng: random.Random) -> list[str]:
    name = f"{rng.choice(SURNAMES)},{rng.choice(GIVEN)}"
    if rng.random() < 0.5:
        name += " " + rng.choice(string.ascii_uppercase)
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(30_000))
    dob = born.strftime("%Y%m%d" if rng.random() < 0.7 else "%m%d%y")
    return [f"NAM/{name}", f"DOB/{dob}", f"SEX/{rng.choice('MFX')}"]


def _states(rng: random.Random, most: int) -> list[str]:
    return rng.sample(STATE_CODES, rng.randint(1, most))


def dq_by_licence(rng: random.Random) -> str:
    fields = [f"OLN/{_chars(rng, ALNUM, rng.randint(7, 12))}"]
    if rng.random() < 0.3:
        fields.append("IMQ/Y")
    return _head(rng, "DQ", _states(rng, 1)) + "\n" + ".".join(fields)


def dq_by_name(rng: random.Random) -> str:
    fields = _person(rng)
    if rng.random() < 0.4:
        fields.append("IMQ/Y")
    return _head(rng, "DQ", _states(rng, 3)) + "\n" + ".".join(fields)


def rq_by_plate(rng: random.Random) -> str:
    year = rng.choice([str(rng.randint(2018, 2027)), f"{rng.randint(18, 27)}", "NX"])
    fields = [f"LIC/{_chars(rng, ALNUM, rng.randint(5, 8))}", f"LIY/{year}",
              f"LIT/{rng.choice(PLATE_TYPES)}"]
    return _head(rng, "RQ", _states(rng, 1)) + "\n" + ".".join(fields)


def rq_by_vin(rng: random.Random) -> str:
    fields = [f"VIN/{_chars(rng, ALNUM, 17)}"]
    if rng.random() < 0.5:
        fields.append(f"VMA/{rng.choice(MAKES)}")
    return _head(rng, "RQ", _states(rng, 1)) + "\n" + ".".join(fields)


def kq(rng: random.Random) -> str:
    fields = [f"OLN/{_chars(rng, ALNUM, 9)}", f"PUR/{rng.choice('CFEDJS')}",
              f"ATN/DET {rng.choice(SURNAMES)}"]
    return _head(rng, "KQ", _states(rng, 1)) + "\n" + ".".join(fields)


def rare(rng: random.Random) -> str:
    """Partial plate, name-only driver and owner-name queries."""
    kind = rng.choice(["RPQ", "DNQ", "RNQ"])
    if kind == "RPQ":
        plate = list(_chars(rng, ALNUM, rng.randint(3, 6)) + rng.choice(["*", "?", "??"]))
        rng.shuffle(plate)
        return _head(rng, "RPQ", _states(rng, 1)) + f"\nLIC/{''.join(plate)}.LIY/{2026}"
    return _head(rng, kind, _states(rng, 2)) + "\n" + _person(rng)[0]


MIX: list[tuple[Callable[[random.Random], str], int]] = [
    (dq_by_licence, 40), (dq_by_name, 20), (rq_by_plate, 25), (rq_by_vin, 5), (kq, 5), (rare, 5),
]


def corpus(seed: int = SEED, size: int = MESSAGES) -> list[str]:
    """Distinct message texts in the mix's proportions, the same for the same seed."""
    rng = random.Random(seed)
    makers, weights = zip(*MIX, strict=True)
    seen: dict[str, None] = {}
    while len(seen) < size:
        seen[rng.choices(makers, weights)[0](rng)] = None
    return list(seen)


def best_rate(run: Callable[[], object], count: int, repeats: int = REPEATS) -> float:
    """Messages per second of the fastest of `repeats` timings (each LOOPS passes over count)."""
    best = min(timeit.repeat(run, number=LOOPS, repeat=repeats))
    return count * LOOPS / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = corpus(size=args.messages)
    messages = [read(text) for text in texts]  # every text is valid: a reject here is a bench bug

    def split_all() -> None:
        for text in texts:
            text.split(".")

    def parse_all() -> None:
        for text in texts:
            parse(text)

    def read_all() -> None:
        for text in texts:
            read(text)

    def format_all() -> None:
        for message in messages:
            format_text(message)

    rates = {
        "split (baseline)": best_rate(split_all, len(texts), args.repeats),
        "parse": best_rate(parse_all, len(texts), args.repeats),
        "read (parse+validate)": best_rate(read_all, len(texts), args.repeats),
        "format_text": best_rate(format_all, len(texts), args.repeats),
    }
    baseline = rates["split (baseline)"]
    print(f"{len(texts):,} distinct messages, best of {args.repeats} x {LOOPS} passes, one core")
    print(f"{'operation':<24}{'messages/s':>14}{'µs/message':>13}{'time vs split':>15}")
    for name, rate in rates.items():
        print(f"{name:<24}{rate:>14,.0f}{1e6 / rate:>13.2f}{baseline / rate:>14.1f}x")
    met = "MET" if rates["parse"] >= TARGET else "NOT MET"
    print(f"target: parse >= {TARGET:,} messages/s: {met}")


if __name__ == "__main__":
    main()
