"""Policy decisions per second, cold (Cedar) and cached, beside a bare dict lookup.

Targets (issue: state sharing policy in Cedar): cached >= 500,000 decisions/s; a cold Cedar
decision <= 60 µs median; a policy change in force in a running gateway <= 1 s.

    .venv/bin/python bench/policy.py [--agencies N] [--requests N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import cedarpy

from stateline.datadir import DataDir
from stateline.directory.agency import Agency
from stateline.directory.store import Snapshot
from stateline.policy import PolicyEngine, Request, compile_policies
from stateline.policy import engine as engine_module
from stateline.policy.live import LivePolicy
from stateline.policy.store import apply
from stateline.sim.agencies import generate_agencies
from stateline.sim.nation import build_nation

AGENCIES = 10_000
REQUESTS = 4_000
PRESETS = Path(__file__).resolve().parent.parent / "stateline" / "policy" / "presets"
KEYS = ("DQ",) * 45 + ("RQ",) * 35 + ("KQ",) * 5 + ("DNQ", "RNQ", "RPQ") * 3 + ("DQG", "RQG")


def directory(size: int) -> Snapshot:
    """The synthetic nation's agencies, with more city police departments up to `size`."""
    agencies = generate_agencies(seed=1)
    police = [a for a in agencies if a.agency_type == "PD" and a.level.value == "local"]
    extra: list[Agency] = []
    number = 0
    while len(agencies) + len(extra) < size:
        model = police[number % len(police)]
        ori = f"{model.state}{700 + number // 90:03d}{number % 90:02d}00"
        extra.append(replace(model, ori=ori))
        number += 1
    everyone = {a.ori: a for a in (*agencies, *extra)}
    return Snapshot(1, MappingProxyType(everyone))


def request_mix(snapshot: Snapshot, count: int, seed: int = 1) -> list[Request]:
    """Mostly local and state police, a fifth federal, as DMV traffic looks."""
    rng = random.Random(seed)
    federal = [a.ori for a in snapshot.agencies.values() if a.is_federal]
    others = [a.ori for a in snapshot.agencies.values() if not a.is_federal]
    return [
        Request(rng.choice(federal if rng.random() < 0.2 else others), rng.choice(KEYS),
                image_requested=rng.random() < 0.3, court_order=rng.random() < 0.01)
        for _ in range(count)
    ]


class _CountingCedar:
    """Stands in for cedarpy's engine entry point and counts the questions put to it."""

    def __init__(self) -> None:
        self.questions = 0

    def is_authorized_batch(self, questions: list[object], *args: object) -> list[str]:
        self.questions += len(questions)
        return cedarpy._internal.is_authorized_batch(questions, *args)  # type: ignore[arg-type]


def measure(engine: PolicyEngine, requests: list[Request]) -> tuple[float, float, float]:
    """(median µs per whole decision, median µs per Cedar question, cached decisions/s)."""
    counter = _CountingCedar()
    engine_module._internal = counter  # type: ignore[assignment]
    timings = []
    per_question = []
    try:
        for request in requests:
            before = counter.questions
            start = time.perf_counter_ns()
            engine._decide(request)
            spent = time.perf_counter_ns() - start
            timings.append(spent)
            per_question.append(spent / max(1, counter.questions - before))
    finally:
        engine_module._internal = cedarpy._internal
    for request in requests:
        engine.decide(request)
    start = time.perf_counter()
    for _ in range(5):
        for request in requests:
            engine.decide(request)
    cached = 5 * len(requests) / (time.perf_counter() - start)
    return statistics.median(timings) / 1e3, statistics.median(per_question) / 1e3, cached


def bare_dict_rate(requests: list[Request]) -> float:
    table = {r: r for r in requests}
    start = time.perf_counter()
    for _ in range(5):
        for request in requests:
            table.get(request)
    return 5 * len(requests) / (time.perf_counter() - start)


def apply_to_effect() -> float:
    """Seconds from `apply` returning to a running gateway's LivePolicy deciding by it."""
    with tempfile.TemporaryDirectory() as folder:
        data = DataDir(Path(folder))
        build_nation(data, ("WA",), residents=10, seed=1)
        live = LivePolicy(data, "WA")
        live.__enter__()
        probe = Request("VTICE0900", "DQ")
        before = live.decide(probe).verdict
        blocking = (PRESETS / "block-ice.cedar").read_text()
        apply(data, "WA", blocking, who="bench")
        start = time.perf_counter()
        while live.decide(probe).verdict == before and time.perf_counter() - start < 5:
            time.sleep(0.005)
        spent = time.perf_counter() - start
        live.close()
        return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agencies", type=int, default=AGENCIES)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    snapshot = directory(args.agencies)
    requests = request_mix(snapshot, args.requests)
    bare = bare_dict_rate(requests)
    print(f"{len(snapshot):,} agencies, {len(requests):,} requests (mostly local police, "
          "a fifth federal)")
    print(f"{'policy':<44}{'cold µs/decision':>17}{'µs/question':>15}"
          f"{'cached/s':>12}{'÷ bare dict':>12}")
    colds, cacheds = [], []
    for path in sorted(PRESETS.glob("*.cedar")):
        engine = PolicyEngine("WA", compile_policies(path.read_text()), snapshot)
        cold, call, cached = measure(engine, requests)
        colds.append(call)
        cacheds.append(cached)
        print(f"{path.stem:<44}{cold:>17.1f}{call:>15.1f}{cached:>12,.0f}{cached / bare:>12.2f}")
    print(f"{'bare dict lookup (baseline)':<44}{'':>17}{'':>15}{bare:>12,.0f}{1:>12.2f}")
    worst_cached = min(cacheds)
    worst_call = max(colds)
    verdict = "MET" if worst_cached >= 500_000 else "NOT MET"
    print(f"target: cached >= 500,000 decisions/s: {verdict} (slowest preset "
          f"{worst_cached:,.0f}/s)")
    verdict = "MET" if worst_call <= 60 else "NOT MET"
    print(f"target: cold Cedar decision <= 60 µs median: {verdict} (slowest preset "
          f"{worst_call:.1f} µs per Cedar question; a whole decision puts the query, its review "
          "path and each element to Cedar in one batch)")
    effect = apply_to_effect()
    verdict = "MET" if effect <= 1 else "NOT MET"
    print(f"target: apply-to-effect <= 1 s: {verdict} ({effect * 1000:.0f} ms, a gateway's "
          "watcher checking every 0.2 s)")


if __name__ == "__main__":
    main()
