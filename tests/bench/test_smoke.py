"""Every benchmark in bench/ runs, at a tiny size, and prints its target lines, so none can rot
unnoticed between the full runs of `make bench`. The figures themselves are not judged here:
speed is measured by the benchmarks, never by timed tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

TINY: dict[str, list[str]] = {
    "audit_verify.py": ["--entries", "2000", "--rounds", "1"],
    "gateway.py": ["--residents", "300", "--queries", "100"],
    "history_import.py": ["--records", "2000"],
    "nation.py": ["--residents", "300", "--queries", "50"],
    "network.py": ["--residents", "200", "--fifty-residents", "3", "--queries", "60",
                   "--clients", "2", "--rate", "40", "--light", "20", "--seconds", "0.3",
                   "--rounds", "3"],
    "policy.py": ["--agencies", "200", "--requests", "50"],
    "protocol.py": ["--messages", "50", "--repeats", "1"],
    "proxy.py": ["--residents", "300", "--queries", "100", "--rounds", "1"],
    "transparency.py": ["--entries", "1000", "--rounds", "1"],
    "transparency_replay.py": ["--entries", "1000"],
}
"""Arguments that make each benchmark small; a new benchmark must add its own here."""


def test_every_benchmark_has_a_tiny_size() -> None:
    assert sorted(p.name for p in BENCH.glob("*.py")) == sorted(TINY)


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_runs_at_a_tiny_size_and_prints_its_targets(script: str,
                                                                 tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(BENCH / script), *TINY[script]],
                          capture_output=True, text=True, timeout=600, env=environment,
                          cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    targets = [line for line in done.stdout.splitlines() if line.startswith("target: ")]
    assert targets, done.stdout[-3000:]
    assert all(re.search(r": (MET|NOT MET|NOT MEASURED)\b", line) for line in targets), targets
