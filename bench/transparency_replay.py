"""What-if replay rate over a state's audit log, beside a bare scan of the same entries.

Target (issue: the coordinator's briefing and what-if replay): replay >= 100,000 entries/s on
10,000,000 audit entries. The log is filled through the log's own batched append (entries a
gateway would write: sender snapshot, category, key, reason, terms, outcome, elements) with a
clock that spreads them over a year; then a candidate policy is replayed against all of them.

    .venv/bin/python bench/transparency_replay.py [--entries N] [--data DIR]

With --data, the filled log is kept in DIR and reused by later runs asking for as many entries.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stateline.audit import AuditLog, EntryKind, audit_db, load_or_create_key, signing_key
from stateline.datadir import DataDir
from stateline.directory.categories import DEFAULT_RULES
from stateline.directory.store import Directory
from stateline.policy.presets import preset
from stateline.policy.source import compile_policies
from stateline.sim.nation import build_nation
from stateline.transparency.recorded import reader, seq_range
from stateline.transparency.whatif import read_history, replay

STATE = "WA"
BATCH = 10_000
YEAR_US = 365 * 86_400_000_000
KEYS = ("DQ",) * 45 + ("RQ",) * 35 + ("KQ",) * 8 + ("DNQ",) * 6 + ("RPQ",) * 3 + ("RNQ",) * 3
OUTCOMES = ("released",) * 6 + ("partial",) * 3 + ("no-record",) * 2 + ("denied",)
WEIGHTS = {"in-state": 40, "out-of-state": 30, "ICE": 3, "HSI": 6, "CBP": 7, "USCIS": 1,
           "DHS-other": 1, "federal-other": 8, "287(g) partner": 4}
"""Requests per hundred by requester category, roughly as federal and out-of-state traffic
reaches a state through the network."""


def senders(data: DataDir) -> list[tuple[dict[str, Any], str]]:
    """Every agency that may send DMV queries, repeated by its category's weight, with its
    attributes as a gateway snapshots them."""
    with Directory.open(data, create=False) as directory:
        agencies = [a for a in directory.snapshot().agencies.values()
                    if a.active and "D" in a.permissions]
    by_category: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for a in agencies:
        name = DEFAULT_RULES.category(a, STATE)
        attributes = {"ori": a.ori, "name": a.name, "state": a.state, "level": a.level.value,
                      "agency_type": a.agency_type, "department": a.department,
                      "component": a.component, "criminal_justice": a.criminal_justice,
                      "permissions": sorted(a.permissions), "programs": sorted(a.programs),
                      "active": a.active}
        by_category.setdefault(name, []).append((attributes, name))
    pool = []
    for name, weight in WEIGHTS.items():
        found = by_category.get(name, [])
        pool += found * max(1, weight * 200 // max(len(found), 1))
    return pool


def fill(data: DataDir, count: int) -> float:
    """`count` decision entries over the year before now; returns entries appended per second."""
    rng = random.Random(7)
    pool = senders(data)
    start = int((datetime.now(UTC) - timedelta(days=365)).timestamp() * 1_000_000)
    clock = [start]
    key = load_or_create_key(signing_key(data, STATE))
    began = time.perf_counter()
    with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}", key,
                       lambda: clock[0]) as log:
        for first in range(0, count, BATCH):
            size = min(BATCH, count - first)
            log.append_many([(EntryKind.DECISION, body(rng, pool)) for _ in range(size)])
            clock[0] = start + YEAR_US * (first + BATCH) // count
            log.maybe_sign(every_entries=1_000_000, every_seconds=10**9)
        log.sign_head()
    return count / (time.perf_counter() - began)


def body(rng: random.Random, pool: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    sender, category = rng.choice(pool)
    key = rng.choice(KEYS)
    outcome = rng.choice(OUTCOMES)
    disclosed = outcome in ("released", "partial")
    image = key == "DQ" and rng.random() < 0.2
    return {
        "time": "", "request_id": f"{rng.getrandbits(128):032x}", "message_id": "",
        "ori": sender["ori"], "sender": sender, "category": category, "key": key,
        "reason": rng.choice(("", "", "", "T", "N", "V")), "destination": STATE,
        "terms": [f"OLN/WDL{rng.getrandbits(40):012X}"] + (["IMQ/Y"] if image else []),
        "outcome": outcome, "policies": ["cj-agencies-may-query"],
        "released": ["identity", "description", "address", "license"] if disclosed else [],
        "withheld": ["credential", "ssn"] + (["photo"] if image else []) if disclosed else [],
        "records": ["WDL000000000"] if disclosed else [], "photo_released": False,
        "policy_version": "0000000000000000.d1", "court_order": None,
    }


def prepared(folder: Path, count: int) -> tuple[DataDir, float | None]:
    """A nation whose log holds `count` entries: kept from an earlier run, or built now."""
    data = DataDir(folder)
    if data.nation_db.exists():
        with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}",
                           load_or_create_key(signing_key(data, STATE))) as log:
            if log.size == count + 1:
                return data, None
    build_nation(data, (STATE,), residents=1_000, seed=3, force=True)
    for suffix in ("", "-wal", "-shm"):  # the nation's first policy change: times must rise
        Path(f"{audit_db(data, STATE)}{suffix}").unlink(missing_ok=True)
    with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}",
                       load_or_create_key(signing_key(data, STATE)),
                       lambda: int((datetime.now(UTC) - timedelta(days=400)).timestamp()
                                   * 1_000_000)) as log:
        log.append(EntryKind.POLICY_CHANGE, {"who": "bench", "note": "cj-baseline"})
    return data, fill(data, count)


def bare_scan(data: DataDir) -> tuple[int, float]:
    """Every decision entry's body read from the log, nothing parsed: the floor any replay
    stands on."""
    with AuditLog.open(audit_db(data, STATE), f"stateline/{STATE}",
                       load_or_create_key(signing_key(data, STATE))) as log:
        db = reader(log)
        low, high = seq_range(log, None, None)
        began = time.perf_counter()
        rows = 0
        for first in range(low, high, 50_000):
            for (_,) in db.select("SELECT body FROM entries WHERE seq >= ? AND seq < ? AND "
                                   "kind = 'decision'", (first, min(first + 50_000, high))):
                rows += 1
        return rows, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the filled log here and reuse it in later runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data, appended = prepared(args.data or Path(scratch) / "nation", args.entries)
        rows, scanned = bare_scan(data)
        began = time.perf_counter()
        history = read_history(data, STATE)
        read = time.perf_counter() - began
        decided = []
        for name in ("block-ice", "block-ice-review-hsi",
                     "block-dhs-immigration-except-court-order"):
            source = compile_policies(preset(name).text())
            began = time.perf_counter()
            result = replay(history, source)
            decided.append((name, result, time.perf_counter() - began))

    origin = f"appended at {appended:,.0f} entries/s" if appended else f"kept in {args.data}"
    first, result, seconds = decided[0]
    rate = result.replayed / (read + seconds)
    print(f"{STATE}: {rows:,} decision entries over a year ({origin}); "
          f"{len(history.shapes):,} distinct request shapes")
    print(f"  bare scan (bodies read, none parsed)   {rows / scanned:>12,.0f} entries/s   1.00")
    print(f"  replay {first:<31} {rate:>12,.0f} entries/s   {rate / (rows / scanned):.2f}"
          f"   (read and group {read:.1f} s, decide {seconds:.1f} s)")
    for name, other, took in decided[1:]:
        print(f"  then {name:<33} {other.replayed / took:>12,.0f} entries/s"
              f"   (history already read; decide {took:.1f} s)")
    stopped = result.by_category().get("ICE")
    print(f"  {first}: {stopped.stopped if stopped else 0:,} ICE requests stopped, "
          f"{result.total().changed:,} changed in all")
    verdict = "MET" if rate >= 100_000 else "NOT MET"
    print(f"target: what-if replay >= 100,000 entries/s: {verdict} ({rate:,.0f}/s)")


if __name__ == "__main__":
    main()
