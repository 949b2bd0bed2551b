"""Verifying an audit log against a trusted checkpoint, beside a bare SHA-256 pass over the same
entries' leaf data in the same run.

Target (issue 13): verify against a trusted checkpoint at >= 1,000,000 entries/s on 2 cores, on
a log of 1,000,000 entries or more. Recomputing every leaf from its data is the floor; verify
also rebuilds the tree, checks every signed head and the checkpoint, and hashes every other
range of 65,536 entries in a second process. Rollups are not recomputed here (`--no-rollups`):
they are counts kept beside the log, not part of what a checkpoint commits to.

    .venv/bin/python bench/audit_verify.py [--entries N] [--data DIR] [--rounds N]

The log is the one `bench/transparency.py` builds (two years of gateway-shaped entries, a
signed head a day), built once in DIR and reused by later runs of either benchmark.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path

from transparency import STATE, fill

from stateline.audit import (
    AuditLog,
    TrustedCheckpoint,
    audit_db,
    load_or_create_key,
    signing_key,
)
from stateline.audit.ranges import BATCH
from stateline.audit.sql import Db, connect_readonly
from stateline.audit.verify import verify_log
from stateline.datadir import DataDir

TARGET = 1_000_000
"""Entries per second."""
AT_LEAST = 1_000_000
"""Entries the target is measured on."""


def _timed(work: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def bare_pass(db: Db, size: int) -> None:
    """SHA-256 of every entry's leaf data, read in the same ranges as verify, one process."""
    sql = (f"SELECT {db.dialect.leaf_data} FROM entries WHERE seq >= ? AND seq < ? "
           f"ORDER BY seq")
    was = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, size, BATCH):
            for (data,) in db.execute(sql, (start, start + BATCH)).fetchall():
                sha256(b"\x00" + data).digest()
    finally:
        if was:
            gc.enable()


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

        verifies = _timed(verify, rounds)
        bares = _timed(lambda: bare_pass(db, size), rounds)
    finally:
        db.close()
    verified, bare = statistics.median(verifies), statistics.median(bares)
    rate, bare_rate = size / verified, size / bare
    print(f"{STATE}: {size:,} entries, {heads:,} signed heads, checked against a checkpoint of "
          f"size {latest.head.size:,}; median of {rounds}")
    print(f"  verify against the checkpoint  {verified:>8.3f} s  {rate:>12,.0f} entries/s")
    print(f"  bare SHA-256 of the leaf data  {bare:>8.3f} s  {bare_rate:>12,.0f} entries/s")
    print(f"  verify / bare                  {verified / bare:>8.2f} of the time")
    line = f"target: verify against a trusted checkpoint >= {TARGET:,} entries/s on "
    if size < AT_LEAST:
        print(f"{line}{AT_LEAST:,}+ entries: NOT MEASURED ({size:,} entries here)")
    else:
        verdict = "MET" if rate >= TARGET else "NOT MET"
        print(f"{line}{AT_LEAST:,}+ entries: {verdict} ({rate:,.0f} entries/s)")


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
