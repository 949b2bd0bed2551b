"""Importing a state switch's past records, beside a bare CSV parse of the same file.

Target (issue 15): `stateline history import` at >= 100,000 records/s on a year of a
mid-size state's federal and out-of-state traffic (about 3,000,000 records). A synthetic CSV
of that traffic is written (senders from the nation's directory, weighted by category as
such traffic reaches a state; keys, outcomes, elements, photos and records as a switch logs
them; times spread over 2025, in order), then read twice in the same run:

- bare: `csv.reader` over the file, every row built and dropped, nothing checked;
- import: `import_history` into a fresh SQLite log: every cell checked, duplicates looked
  for, rows sorted, bodies built, and the file appended in one transaction through the log's
  own write path (bodies written as canonical JSON, leaf hashes, rollups, Merkle tree, a
  signed head).

Where the import's time goes is printed beside it: reading and checking, then writing, and
the write's parts measured on a sample of the same bodies.

    .venv/bin/python bench/history_import.py [--records N] [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stateline.audit import audit_db
from stateline.audit.entries import leaf_data
from stateline.audit.merkle import Frontier, leaf_hash
from stateline.audit.rollups import accumulate
from stateline.datadir import DataDir
from stateline.directory.categories import DEFAULT_RULES
from stateline.directory.store import Directory
from stateline.history import import_history
from stateline.history.bodies import Bodies, FileFacts, Senders
from stateline.history.rows import Row
from stateline.sim.nation import build_nation

STATE = "WA"
TARGET = 100_000
"""Records per second."""
AT_LEAST = 3_000_000
"""Records the target is measured on: a year of a mid-size state's traffic."""
SAMPLE = 100_000
"""Bodies the write's parts are timed on."""
WEIGHTS = {"out-of-state": 78, "ICE": 2, "HSI": 3, "CBP": 5, "USCIS": 1, "DHS-other": 1,
           "federal-other": 7, "287(g) partner": 3}
"""Requests per hundred by category, of the traffic reaching a state from outside it."""
KEYS = ("DQ",) * 50 + ("RQ",) * 35 + ("KQ",) * 10 + ("DNQ",) * 5
ANSWERS = {"DQ": ("identity", "description", "address", "license", "photo"),
           "DNQ": ("identity", "description", "address", "license"),
           "KQ": ("identity", "license", "history"), "RQ": ("vehicle", "registration")}
OUTCOMES = ("HIT",) * 6 + ("PARTIAL",) * 2 + ("NO HIT",) * 2 + ("DENIED",)
HEADER = ("date_time", "ori", "mke", "message", "result", "returned", "withheld", "image",
          "records")
MAP = """\
[time]
column = "date_time"
format = "iso"

[sender]
column = "ori"

[key]
column = "mke"

[outcome]
column = "result"
words = { HIT = "released", PARTIAL = "partial", "NO HIT" = "no-record", DENIED = "denied" }

[elements]
column = "returned"

[withheld]
column = "withheld"

[photo]
column = "image"
true = ["Y"]
false = ["N"]

[records]
column = "records"

[terms]
column = "message"
"""


def senders(data: DataDir) -> list[str]:
    """ORIs weighted by their category's share of outside traffic."""
    with Directory.open(data, create=False) as directory:
        agencies = [a for a in directory.snapshot().agencies.values()
                    if a.active and "D" in a.permissions]
    by_category: dict[str, list[str]] = {}
    for agency in agencies:
        by_category.setdefault(DEFAULT_RULES.category(agency, STATE), []).append(agency.ori)
    pool: list[str] = []
    for name, weight in WEIGHTS.items():
        found = by_category.get(name, [])
        pool += found * max(1, weight * 400 // max(len(found), 1))
    return pool


def write_csv(path: Path, count: int, pool: list[str]) -> None:
    rng = random.Random(15)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(count):
            key = rng.choice(KEYS)
            result = rng.choice(OUTCOMES)
            ident = f"WDL{rng.randrange(10**6):06d}" if key != "RQ" else \
                f"1HGCM8263{rng.randrange(10**8):08d}"
            message = f"VIN/{ident}" if key == "RQ" else f"OLN/{ident}"
            elements = ANSWERS[key] if result in ("HIT", "PARTIAL") else ()
            withheld = elements[-1:] if result == "PARTIAL" else ()
            returned = [e for e in elements if e not in withheld]
            when = (start + step * n).replace(microsecond=0)
            writer.writerow((when.isoformat(), rng.choice(pool), key, message, result,
                             ";".join(returned), ";".join(withheld),
                             "Y" if "photo" in returned else "N",
                             ident if returned else ""))


def bare(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as file:
        for _ in csv.reader(file):
            pass
    return time.perf_counter() - started


def parts(data: DataDir) -> tuple[float, float, float, float]:
    """CPU seconds per body to write its text (the canonical JSON the log stores), to say what
    its rollups read, to hash its leaf and to add it to the rollups and the tree, on bodies
    shaped like the benchmark's."""
    with Directory.open(data, create=False) as directory:
        oris = [a.ori for a in directory.agencies(component="CBP")][:20]
        found = Senders(directory.get, STATE)
        bodies = Bodies(FileFacts("ab" * 32, "history.csv", "csv", STATE, "2026-01-01"),
                        found)
        rows = [Row(f"2025-03-12T14:{n % 60:02d}:00.000000+00:00", n + 2, oris[n % len(oris)],
                    "DQ", "released", ANSWERS["DQ"], (), ("WDL123456",), True,
                    ("OLN/WDL123456",), "", None, None) for n in range(SAMPLE)]
        for row in rows[:len(oris)]:
            bodies.text(row)  # the senders looked up once, as an import does
        t0 = time.process_time()
        texts = [bodies.text(row) for row in rows]
        t1 = time.process_time()
        made = [bodies.fields(row) for row in rows]
    t2 = time.process_time()
    leaves = [leaf_hash(leaf_data(n, "imported", text)) for n, text in enumerate(texts)]
    t3 = time.process_time()
    accumulate((n, "imported", body) for n, body in enumerate(made))
    Frontier().extend(leaves)
    t4 = time.process_time()
    return tuple(t / SAMPLE for t in (t1 - t0, t2 - t1, t3 - t2, t4 - t3))  # type: ignore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=AT_LEAST)
    parser.add_argument("--data", type=Path, default=None,
                        help="Folder for the nation and the file (default: a temporary one, "
                             "removed after)")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="stateline-history-"))
    data = DataDir(folder / "nation")
    try:
        run(data, folder / "history.csv", args.records)
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(data: DataDir, path: Path, count: int) -> None:
    if not data.nation_db.is_file():
        build_nation(data, (STATE,), residents=50, seed=15)
    if not path.is_file() or sum(1 for _ in path.open()) != count + 1:
        started = time.perf_counter()
        write_csv(path, count, senders(data))
        print(f"wrote {count:,} records ({path.stat().st_size / 1e6:,.0f} MB of CSV) in "
              f"{time.perf_counter() - started:.1f} s")
    (data.root / "history.toml").write_text(MAP, encoding="utf-8")
    log = audit_db(data, STATE)
    for leftover in (log, log.with_name(log.name + "-wal"), log.with_name(log.name + "-shm")):
        leftover.unlink(missing_ok=True)
    baseline = bare(path)
    marks: list[tuple[float, float]] = []

    def tell(done: int, total: int) -> None:
        if total and not marks:
            marks.append((time.perf_counter(), time.process_time()))

    started, cpu = time.perf_counter(), time.process_time()
    summary = import_history(data, STATE, [path], fmt="csv",
                             column_map=data.root / "history.toml", progress=tell)
    ended, cpu_ended = time.perf_counter(), time.process_time()
    assert summary.imported == count, summary
    seconds = ended - started
    middle, cpu_middle = marks[0] if marks else (ended, cpu_ended)
    reading, cpu_reading = middle - started, cpu_middle - cpu
    write, cpu_write = ended - middle, cpu_ended - cpu_middle
    rate, bare_rate = count / seconds, count / baseline
    build, text, hashed, counted = parts(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{STATE}: {count:,} records, one CSV file, into a fresh SQLite log")
    print(f"  bare csv.reader parse          {baseline:8.2f} s {bare_rate:>12,.0f} records/s")
    print(f"  import                         {seconds:8.2f} s {rate:>12,.0f} records/s "
          f"({seconds / baseline:.1f} times the bare parse)")
    for label, wall, used in (("read, check, sort", reading, cpu_reading),
                              ("write (append_written, sign)", write, cpu_write)):
        print(f"    {label:<27}{wall:8.2f} s {1e6 * wall / count:8.2f} us/record, "
              f"{1e6 * used / count:.2f} us CPU")
    rest = cpu_write / count - build - text - hashed - counted
    print(f"      of which, per record (CPU, on {SAMPLE:,} bodies): body text {1e6 * build:.2f}, "
          f"rollup fields {1e6 * text:.2f}, leaf hash {1e6 * hashed:.2f}, rollups and tree "
          f"{1e6 * counted:.2f}; the rest, SQLite's insert (entries and the index of imported "
          f"times) and commit, {1e6 * rest:.2f}")
    print(f"  peak memory {peak:,.0f} MB")
    line = f"target: import >= {TARGET:,} records/s on "
    if count < AT_LEAST:
        print(f"{line}{AT_LEAST:,} records: NOT MEASURED ({count:,} records here)")
    else:
        verdict = "MET" if rate >= TARGET else "NOT MET"
        print(f"{line}{AT_LEAST:,} records: {verdict} ({rate:,.0f} records/s)")


if __name__ == "__main__":
    main()
