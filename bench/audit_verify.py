"""Verifying an audit log against a trusted checkpoint, beside a bare SHA-256 pass over the same
entries and the per-entry floor, all measured in the same run.

Target (issue 13): verify against a trusted checkpoint at >= 1,000,000 entries/s on 2 cores, on
a log of 1,000,000 entries or more. Verify reads every entry's time, stored leaf and leaf
preimage, recomputes the leaf, rebuilds the tree, checks every signed head and the checkpoint,
in two processes that share the log's ranges. Rollups are not recomputed here (`--no-rollups`):
they are counts kept beside the log, not part of what a checkpoint commits to.

The bare pass is one process fetching each entry's leaf preimage (the same SQL verify uses) and
hashing it: nothing checked, no tree. The floor is what one core cannot avoid spending per
entry, measured on this log: reading the rows verify reads, hashing the leaves, hashing the
tree's interior nodes. Two cores can verify no faster than two entries per floor; the rest of
verify (the checks, the signatures, the two processes meeting) comes on top.

    .venv/bin/python bench/audit_verify.py [--entries N] [--data DIR] [--rounds N]

The log is the one `bench/transparency.py` builds (two years of gateway-shaped entries, a
signed head a day), built once in DIR and reused by later runs of either benchmark.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from transparency import STATE, fill

from stateline.audit import (
    AuditLog,
    TrustedCheckpoint,
    audit_db,
    load_or_create_key,
    signing_key,
)
from stateline.audit.merkle import Frontier
from stateline.audit.ranges import BATCH, CHUNK, leaf_hashes, prefixed_leaf_sql, rows_sql
from stateline.audit.sql import Db, connect_readonly
from stateline.audit.verify import PARALLEL_FROM, verify_log
from stateline.datadir import DataDir

TARGET = 1_000_000
"""Entries per second."""
AT_LEAST = 1_000_000
"""Entries the target is measured on."""
CORES = 2
"""Processes verify runs in, and the cores the target is set for."""
FLOOR_SAMPLE = 1 << 18
"""Entries the floor is measured on (from the first)."""


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    cpu: float
    """CPU seconds of this process and of the processes it started and waited for."""


@dataclass(frozen=True, slots=True)
class Floor:
    """CPU seconds per entry of each step one core cannot skip."""

    read: float
    leaves: float
    tree: float

    @property
    def total(self) -> float:
        return self.read + self.leaves + self.tree


def _cpu() -> float:
    """CPU seconds so far of this process and its finished children, to the microsecond."""
    used = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in used)


def _run(work: Callable[[], object]) -> Run:
    cpu, start = _cpu(), time.perf_counter()
    work()
    return Run(time.perf_counter() - start, _cpu() - cpu)


@contextmanager
def _gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def bare_pass(db: Db, size: int) -> None:
    """One process: each entry's leaf preimage fetched with verify's SQL, in verify's ranges and
    chunks, and hashed."""
    sql = (f"SELECT {prefixed_leaf_sql(db.dialect)} FROM entries WHERE seq >= ? AND seq < ? "
           f"ORDER BY seq")
    with _gc_paused():
        for start in range(0, size, BATCH):
            rows = iter(db.execute(sql, (start, start + BATCH)))
            while chunk := list(islice(rows, CHUNK)):
                leaf_hashes(next(zip(*chunk, strict=True)))


def floor(db: Db, size: int) -> Floor:
    """Per-entry CPU of reading verify's rows, hashing the leaves and the interior nodes, each
    timed on its own over the first entries of the log."""
    spent = [0.0, 0.0, 0.0]
    sample = min(size, FLOOR_SAMPLE)
    frontier = Frontier()
    with _gc_paused():
        rows = iter(db.execute(rows_sql(db), (0, sample)))
        while True:
            t0 = time.process_time()
            chunk = list(islice(rows, CHUNK))
            if not chunk:
                break
            _, _, datas = zip(*chunk, strict=True)
            t1 = time.process_time()
            leaves = leaf_hashes(datas)
            t2 = time.process_time()
            frontier.extend(leaves)
            t3 = time.process_time()
            for i, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3))):
                spent[i] += b - a
    per = max(sample, 1)
    return Floor(spent[0] / per, spent[1] / per, spent[2] / per)


def _row(label: str, seconds: float, rate: float, cpu: float) -> None:
    print(f"  {label:<55}{seconds:>7.3f} s {rate:>10,.0f} entries/s {cpu * 1e6:>6.2f} us "
          "CPU/entry")


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def measure(data: DataDir, rounds: int) -> None:
    key = load_or_create_key(signing_key(data, STATE)).public_key()
    db = connect_readonly(audit_db(data, STATE), f"audit_{STATE.lower()}")
    assert db is not None, "the log was not built"
    origin = f"stateline/{STATE}"
    try:
        (size,) = db.execute("SELECT size FROM tree").fetchone()
        (heads,) = db.execute("SELECT count(*) FROM heads").fetchone()
        log = AuditLog.open_to_read(audit_db(data, STATE), origin)
        assert log is not None
        with log:
            latest = log.latest_head()
        assert latest is not None
        trusted = [TrustedCheckpoint(latest, "the latest checkpoint")]

        def verify() -> None:
            report = verify_log(db, origin, [key], trusted, rollups=False)
            assert report.ok and report.trusted == 1, report.finding

        verifies, bares, floors, loads = [], [], [], []
        for _ in range(rounds):  # interleaved, so a busy moment on the machine hits both
            verifies.append(_run(verify))
            bares.append(_run(lambda: bare_pass(db, size)))
            floors.append(floor(db, size))
            loads.append(_load())
    finally:
        db.close()
    verified = statistics.median(r.seconds for r in verifies)
    bare = statistics.median(r.seconds for r in bares)
    verify_cpu = statistics.median(r.cpu for r in verifies) / size
    bare_cpu = statistics.median(r.cpu for r in bares) / size
    least = Floor(*(min(getattr(f, step) for f in floors) for step in ("read", "leaves", "tree")))
    rate, bare_rate = size / verified, size / bare
    best = CORES / least.total if least.total else float("inf")
    cpu_ratio = f"{verify_cpu / bare_cpu:.2f}" if bare_cpu else "-"
    print(f"{STATE}: {size:,} entries, {heads:,} signed heads, checked against a checkpoint of "
          f"size {latest.head.size:,}; median of {rounds}")
    processes = f"{CORES} processes" if size >= PARALLEL_FROM else "1 process: a short log"
    _row(f"verify against the checkpoint ({processes})", verified, rate, verify_cpu)
    _row("bare SHA-256 (1 process: fetch preimage, hash)", bare, bare_rate, bare_cpu)
    print(f"  {'verify / bare':<55}{verified / bare:>7.2f} of the time, {cpu_ratio} of the CPU")
    print(f"  floor per entry on one core (each step's least of {rounds}, on the first "
          f"{min(size, FLOOR_SAMPLE):,} entries): read {least.read * 1e6:.2f} us")
    print(f"    + leaf hash {least.leaves * 1e6:.2f} us + tree {least.tree * 1e6:.2f} us = "
          f"{least.total * 1e6:.2f} us, so {CORES} cores verify at most {best:,.0f} entries/s")
    print(f"  machine: {os.cpu_count()} CPUs; load average {', '.join(loads)} after each round")
    line = f"target: verify against a trusted checkpoint >= {TARGET:,} entries/s on "
    if size < AT_LEAST:
        print(f"{line}{AT_LEAST:,}+ entries: NOT MEASURED ({size:,} entries here)")
    else:
        verdict = "MET" if rate >= TARGET else "NOT MET"
        print(f"{line}{AT_LEAST:,}+ entries: {verdict} ({rate:,.0f} entries/s; the floor "
              f"allows {best:,.0f} on {CORES} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="Folder to keep the built log in (default: a temporary folder "
                             "named after --entries, shared with bench/transparency.py)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = args.data or Path(tempfile.gettempdir()) / f"stateline-bench-{args.entries}"
    data = DataDir(folder)
    print(f"building or reusing {args.entries:,} entries in {folder}", flush=True)
    seconds = fill(data, args.entries)
    if seconds:
        print(f"  wrote {args.entries:,} entries in {seconds:,.0f} s")
    else:
        print("  reused the log built by an earlier run")
    measure(data, args.rounds)


if __name__ == "__main__":
    main()
