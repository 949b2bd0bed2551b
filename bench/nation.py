"""Nation build and DMV search speed, beside a bare primary-key lookup on the same database.

Targets (issue: agency directory, DMV records, synthetic nation): 1,000,000 residents generated
and loaded in <= 120 s; OLN and plate searches <= 50 µs median; name+DOB <= 200 µs median.

    .venv/bin/python bench/nation.py [--residents N]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from stateline.dmv import open_store
from stateline.dmv.store import DmvStore, Sample
from stateline.sim.residents import generate_residents

STATE = "WA"
SEED = 7
QUERIES = 2_000


def median_us(call: Callable[[Sample], object], samples: list[Sample]) -> float:
    timings = []
    for sample in samples:
        start = time.perf_counter_ns()
        call(sample)
        timings.append(time.perf_counter_ns() - start)
    return statistics.median(timings) / 1_000


def searches(store: DmvStore) -> dict[str, Callable[[Sample], object]]:
    def dob(sample: Sample) -> date:
        return date(int(sample.dob[:4]), int(sample.dob[4:6]), int(sample.dob[6:]))

    return {
        "OLN": lambda s: store.by_oln(s.oln),
        "OLN + photo": lambda s: store.by_oln(s.oln, photo=True),
        "name + DOB": lambda s: store.by_name_dob(s.name, dob(s), s.sex),
        "name only": lambda s: store.by_name(s.name),
        "plate": lambda s: store.by_plate(s.plate, s.plate_year, s.plate_type),
        "VIN": lambda s: store.by_vin(s.vin),
        "owner name": lambda s: store.by_owner(s.name),
        "partial plate": lambda s: store.by_partial_plate(s.plate[:4] + "*"),
    }


TARGETS = {"OLN": 50.0, "plate": 50.0, "name + DOB": 200.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=QUERIES,
                        help="searches timed per kind (at most --residents)")
    args = parser.parse_args()
    residents, queries = args.residents, min(args.queries, args.residents)

    start = time.perf_counter()
    generated = sum(len(b.people) for b in generate_residents(STATE, min(50_000, residents),
                                                             SEED + 1))
    generate_rate = generated / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dmv.db"
        store = open_store(f"sqlite:///{path}")
        start = time.perf_counter()
        store.load(generate_residents(STATE, residents, SEED))
        build = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        counts = store.counts()

        samples = store.sample(queries, seed=1)
        raw = sqlite3.connect(path)
        top = raw.execute("SELECT max(id) FROM people").fetchone()[0]
        ids = random.Random(1).sample(range(1, top + 1), queries)
        lookup = raw.execute

        def bare(sample: Sample, ids: list[int] = ids) -> object:
            return lookup("SELECT * FROM people WHERE id = ?", (ids.pop(),)).fetchone()

        baseline = median_us(bare, list(samples))
        results = {name: median_us(call, samples) for name, call in searches(store).items()}
        store.close()
        raw.close()

    print(f"nation build: {residents:,} residents, {counts}")
    print(f"  generation alone      {generate_rate:>12,.0f} residents/s")
    print(f"  generated and loaded  {residents / build:>12,.0f} residents/s  ({build:.1f} s)")
    print(f"  store size            {size / residents:>12,.0f} bytes/resident")
    print(f"search latency, median of {len(samples):,} queries on {residents:,} residents")
    print(f"  {'search':<22}{'µs':>10}{'x bare PK':>12}")
    print(f"  {'bare PK lookup':<22}{baseline:>10.1f}{1.0:>12.1f}")
    for name, micros in results.items():
        print(f"  {name:<22}{micros:>10.1f}{micros / baseline:>12.1f}")
    print(f"target: {residents:,} residents built in <= 120 s: "
          f"{'MET' if build <= 120 * residents / 1_000_000 else 'NOT MET'} ({build:.1f} s)")
    for name, limit in TARGETS.items():
        verdict = "MET" if results[name] <= limit else "NOT MET"
        print(f"target: {name} <= {limit:.0f} µs median: {verdict} ({results[name]:.1f} µs)")


if __name__ == "__main__":
    main()
