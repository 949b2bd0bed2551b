"""Public statistics on a long audit log: a yearly report built from the rollups, beside a bare
scan of the same year's entries.

Target (issue: public statistics): a yearly report in <= 2 s on 10,000,000 entries, because it
reads rollups instead of rescanning.

    .venv/bin/python bench/transparency.py [--entries N] [--data DIR] [--rounds N]

The log (two years of gateway-shaped decision and review entries for WA, a signed head a day,
policy changes, and entries after the last head) is built once in DIR (default: a folder in the
system's temporary directory) and reused by later runs asking for the same number of entries;
building ten million takes some minutes, and the time is printed. Each measure is a function
taking the built nation, so others can be added beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from stateline.audit import AuditLog, EntryKind, audit_db, load_or_create_key, signing_key
from stateline.audit.sql import connect
from stateline.datadir import DataDir
from stateline.directory.categories import CATEGORIES
from stateline.policy.presets import preset
from stateline.transparency import html
from stateline.transparency.report import build
from stateline.transparency.stats import parse_period

STATE = "WA"
FIRST = date(2024, 1, 1)
DAYS = 731  # 2024 and 2025
TAIL = 500
"""Entries after the last signed head, which a report must count back out."""
CHANGES = {date(2024, 6, 3): "block-ice", date(2025, 3, 17): "block-ice-review-hsi"}
MIX = {"in-state": 52, "out-of-state": 30, "federal-other": 4, "CBP": 4, "HSI": 3, "ICE": 3,
       "287(g) partner": 2, "USCIS": 1, "DHS-other": 1}
KEYS = {"DQ": 55, "RQ": 30, "KQ": 8, "DNQ": 4, "RPQ": 2, "RNQ": 1}
OUTCOMES = {"released": 62, "partial": 18, "no-record": 10, "denied": 7, "held": 2, "error": 1}


def _us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def _bodies(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Bodies shaped like the gateway's, drawn from the mixes above."""
    pool = []
    for n in range(count):
        category = rng.choices(list(MIX), list(MIX.values()))[0]
        key = rng.choices(list(KEYS), list(KEYS.values()))[0]
        outcome = rng.choices(list(OUTCOMES), list(OUTCOMES.values()))[0]
        disclosed = outcome in ("released", "partial")
        ori = f"{rng.choice(['WA', 'OR', 'TX', 'NY'])}{rng.randrange(10**7):07d}"
        pool.append({
            "time": "", "request_id": "", "message_id": f"M{n:08d}", "ori": ori,
            "sender": {"ori": ori, "name": "Synthetic Agency", "state": ori[:2],
                       "level": "local", "agency_type": "PD", "department": "",
                       "component": "", "criminal_justice": True, "permissions": ["D"],
                       "programs": [], "active": True},
            "category": category if category in CATEGORIES else "in-state", "key": key,
            "reason": "", "destination": STATE, "terms": [f"OLN/WDL{rng.randrange(10**9):09d}"],
            "outcome": outcome, "policies": ["cj-agencies-may-query"],
            "released": ["identity", "license"] if disclosed else [],
            "withheld": ["ssn"] if outcome == "partial" else [],
            "records": [f"WA-DL-{rng.randrange(10**8)}"] if disclosed else [],
            "photo_released": disclosed and rng.random() < 0.2,
            "policy_version": hashlib.sha256(str(n % 3).encode()).hexdigest(),
            "court_order": None,
        })
    return pool


def fill(data: DataDir, entries: int) -> float:
    """Write the log, or reuse one of this size; returns the seconds the writing took."""
    if audit_db(data, STATE).is_file():
        with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}",
                           load_or_create_key(signing_key(data, STATE))) as log:
            if log.size == entries + len(CHANGES) + TAIL:
                return 0.0
        raise SystemExit(f"{data.root} holds a log of another size; give another --data")
    data.state_dir(STATE).mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    pool = _bodies(rng, 5_000)
    now = [0]
    key = load_or_create_key(signing_key(data, STATE))
    started = time.perf_counter()
    per_day, serial = entries // DAYS, 0
    with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}", key, lambda: now[0]) as log:
        for n in range(DAYS):
            day = FIRST + timedelta(days=n)
            now[0] = _us(datetime(day.year, day.month, day.day, 6, tzinfo=UTC))
            if day in CHANGES:
                log.append(EntryKind.POLICY_CHANGE, {
                    "time": "", "change_kind": "policy", "who": "bench", "note": "",
                    "old_version": "", "new_version": CHANGES[day],
                    "text": preset(CHANGES[day]).text()})
            count = per_day + (entries - per_day * DAYS if n == DAYS - 1 else 0)
            batch = []
            for _ in range(count):
                serial += 1
                body = {**rng.choice(pool), "request_id": f"{serial:032x}"}
                kind = EntryKind.REVIEW if body["outcome"] == "held" and serial % 2 else \
                    EntryKind.DECISION
                batch.append((kind, body))
            log.append_many(batch)
            log.sign_head()
            if n % 61 == 0:
                print(f"  {day}: {log.size:,} entries, {time.perf_counter() - started:,.0f} s",
                      flush=True)
        now[0] += 1_000_000
        log.append_many([(EntryKind.DECISION, {**rng.choice(pool), "request_id": "tail"})
                         for _ in range(TAIL)])
    return time.perf_counter() - started


def _timed(work: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def report_measure(data: DataDir, rounds: int) -> None:
    """The yearly report from the rollups, beside a bare scan of the year's entries."""
    period = parse_period("2025")
    builds = _timed(lambda: build(data, STATE, period), rounds)
    report = build(data, STATE, period)
    pages = _timed(lambda: html.render(report), rounds)
    db = connect(audit_db(data, STATE), "audit_wa")
    try:
        scans = _timed(lambda: db.execute(
            "SELECT count(*), sum(length(body)) FROM entries WHERE time_us >= ? AND "
            "time_us < ?", (period.start_us, period.end_us)).fetchone(), rounds)
        (year,) = db.execute("SELECT count(*) FROM entries WHERE time_us >= ? AND time_us < ?",
                             (period.start_us, period.end_us)).fetchone()
    finally:
        db.close()
    built, scanned = statistics.median(builds), statistics.median(scans)
    print(f"{STATE} {period.label}: {year:,} entries in the year, report as of head "
          f"{report.as_of.size:,} ({report.withheld} places marked); median of {rounds}")
    print(f"  report build (rollups)      {built:>8.3f} s   first {builds[0]:.3f} s")
    print(f"  HTML page with charts       {statistics.median(pages):>8.3f} s")
    print(f"  bare scan of the year       {scanned:>8.3f} s   {scanned / built:,.1f}x the report")
    verdict = "MET" if built <= 2 else "NOT MET"
    print(f"target: yearly report <= 2 s on this log: {verdict} ({built:.3f} s)")


MEASURES: list[Callable[[DataDir, int], None]] = [report_measure]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="Folder to keep the built log in (default: a temporary folder "
                             "named after --entries, reused across runs)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = args.data or Path(tempfile.gettempdir()) / f"stateline-bench-{args.entries}"
    data = DataDir(folder)
    print(f"building or reusing {args.entries:,} entries in {folder}", flush=True)
    seconds = fill(data, args.entries)
    if seconds:
        print(f"  wrote {args.entries:,} entries in {seconds:,.0f} s "
              f"({args.entries / seconds:,.0f} entries/s)")
    else:
        print("  reused the log built by an earlier run")
    for measure in MEASURES:
        measure(data, args.rounds)


if __name__ == "__main__":
    main()
