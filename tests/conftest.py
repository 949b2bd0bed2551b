"""Shared fixtures, and the gate for tests that need real PostgreSQL or NATS.

Tests marked `postgres` or `nats` run when STATELINE_TEST_POSTGRES_URL or
STATELINE_TEST_NATS_URL is set (`.ci/run` sets both) and are skipped, with a visible line in the
report, when it is not.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from stateline.datadir import DataDir
from stateline.sim.nation import build_nation

settings.register_profile("ci", derandomize=True, print_blob=True)
"""Under CI=true every Hypothesis test draws the same examples on every run (a seed derived from
the test's name), and a failure prints the blob that replays it with @reproduce_failure."""
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

SERVICES = {
    "postgres": "STATELINE_TEST_POSTGRES_URL",
    "nats": "STATELINE_TEST_NATS_URL",
}


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    for marker, variable in SERVICES.items():
        if os.environ.get(variable):
            lines.append(f"{marker} tests: on ({variable} is set)")
        else:
            lines.append(f"{marker} tests: SKIPPED, set {variable} to run them")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for marker, variable in SERVICES.items():
        if os.environ.get(variable):
            continue
        skip = pytest.mark.skip(reason=f"{variable} is not set")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = [v for v in SERVICES.values() if not os.environ.get(v)]
    if missing:
        terminalreporter.write_line(
            "note: tests needing " + " and ".join(missing) + " were skipped (see README: Tests)"
        )


@pytest.fixture(scope="session")
def small_nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A small synthetic nation (WA, OR, NY; 400 residents each) shared by tests that only read."""
    data = DataDir(tmp_path_factory.mktemp("nation"))
    build_nation(data, ("WA", "OR", "NY"), residents=400, seed=11, force=True)
    return data
