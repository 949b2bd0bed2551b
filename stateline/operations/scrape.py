"""What /metrics reads from the data folder each time it is asked: messages the switch holds
per state, audit entries not under a signed head yet, each witness's lag, and under a
supervisor whether each role is up.

Only counts leave: no message, entry or name of a person. A scrape must never fail for one bad
part, so each part that cannot be read is logged and counted in `stateline_scrape_failures`,
and the states not reached within `BUDGET_SECONDS` are skipped (and counted) rather than
holding up the scraper.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from ..audit import read_state_log
from ..audit.witnessing import configured_witnesses, lags
from ..datadir import DataDir
from ..roles.status import read_roles, run_dir

BUDGET_SECONDS = 5.0
"""How long one scrape may spend reading audit logs; Prometheus times out at 10 s by default."""
HELD = "SELECT state, count(*) FROM hold GROUP BY state"
"""The switch's held traffic (`switch.holds`), counted per state in DIR/switch.db."""

_log = logging.getLogger(__name__)


class DataFolder:
    """A prometheus-client collector over a data folder: `states` (every state in the folder,
    read at each scrape, when None)."""

    def __init__(self, data: DataDir, states: Sequence[str] | None = None, *,
                 budget: float = BUDGET_SECONDS) -> None:
        self.data, self.states, self.budget = data, states, budget

    def collect(self) -> Iterator[Metric]:
        failures: Counter[str] = Counter()
        states = list(self.states) if self.states is not None else self._folder_states(failures)
        yield self._held(states, failures)
        yield from self._logs(states, failures)
        yield from self._roles(failures)
        failed = GaugeMetricFamily("stateline_scrape_failures", "Parts of this scrape that "
                                   "could not be read, by source (details in the log).",
                                   labels=["source"])
        for source in ("states", "held", "audit", "witness", "roles"):
            failed.add_metric([source], failures[source])
        yield failed

    def _folder_states(self, failures: Counter[str]) -> list[str]:
        try:
            return self.data.states()
        except Exception as error:
            _log.warning("metrics: cannot list the states of %s: %s", self.data.root, error)
            failures["states"] += 1
            return []

    def _held(self, states: Sequence[str], failures: Counter[str]) -> Metric:
        held = GaugeMetricFamily("stateline_held_messages", "Messages the switch holds for a "
                                 "state out of service, to deliver when it is back.",
                                 labels=["state"])
        try:
            counts = _held_counts(self.data.switch_db)
        except Exception as error:
            _log.warning("metrics: cannot count held messages: %s", error)
            failures["held"] += 1
            return held
        if counts is not None:
            for state in sorted({*states, *counts}):
                held.add_metric([state], counts.get(state, 0))
        return held

    def _logs(self, states: Sequence[str], failures: Counter[str]) -> Iterator[Metric]:
        unsigned = GaugeMetricFamily("stateline_audit_unsigned_entries", "Audit entries not "
                                     "under a signed tree head yet.", labels=["state"])
        entries = GaugeMetricFamily("stateline_witness_lag_entries", "Entries the log has "
                                    "signed that the witness has not cosigned.",
                                    labels=["state", "witness"])
        seconds = GaugeMetricFamily("stateline_witness_lag_seconds", "Seconds the oldest head "
                                    "the witness has not cosigned has waited.",
                                    labels=["state", "witness"])
        deadline = time.monotonic() + self.budget
        for number, state in enumerate(states):
            if time.monotonic() > deadline:
                _log.warning("metrics: %d states' audit logs skipped, past %.0f s",
                             len(states) - number, self.budget)
                failures["audit"] += len(states) - number
                break
            try:
                log = read_state_log(self.data, state)
            except Exception as error:
                _log.warning("metrics: cannot read the %s audit log: %s", state, error)
                failures["audit"] += 1
                continue
            if log is None:
                continue
            with log:
                unsigned.add_metric([state], log.size - log.signed_size)
                try:
                    for lag in lags(log, configured_witnesses(self.data, state)):
                        entries.add_metric([state, lag.witness.name], lag.entries)
                        seconds.add_metric([state, lag.witness.name], lag.seconds)
                except Exception as error:
                    _log.warning("metrics: no witness lags for %s: %s", state, error)
                    failures["witness"] += 1
        yield from (unsigned, entries, seconds)

    def _roles(self, failures: Counter[str]) -> Iterator[Metric]:
        run = run_dir()
        if run is None:
            return
        up = GaugeMetricFamily("stateline_role_up", "1 when the supervisor sees the role's "
                               "process started and answering, else 0.",
                               labels=["name", "role", "states"])
        roles = read_roles(run)
        if not roles:
            _log.warning("metrics: no roles on file in %s", run)
            failures["roles"] += 1
        for role in roles:
            up.add_metric([role.name, role.role, ",".join(role.states)], int(role.up))
        yield up


def _held_counts(path: Path) -> dict[str, int] | None:
    """Held messages per state, read without writing or creating anything; None when the
    switch has no database here (a gateway alone)."""
    if not path.is_file():
        return None
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'hold'").fetchone() is None:
            return {}
        return {str(state): int(n) for state, n in db.execute(HELD)}


__all__ = ["BUDGET_SECONDS", "DataFolder"]
