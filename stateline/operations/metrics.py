"""The counters, histograms and gauges the roles update as they work, all named `stateline_*`.

In one process they live in prometheus-client's default registry. Under a supervisor every
process keeps its values in files under PROMETHEUS_MULTIPROC_DIR (prometheus-client reads the
variable when it is imported), and the process serving /metrics reads every process's files.
Each update goes to a child cached per label values: `labels()` costs more than the update.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

SHARED_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The folder where every supervised process keeps its metric values (emptied at each run)."""
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds: from a cached in-memory answer (0.1 ms) to the switch's longest usual wait."""
_BOUNDS = (*LATENCY_BUCKETS, float("inf"))

_log = logging.getLogger(__name__)

# A `_created` series per counter doubles the page and adds nothing a counter's reset does not.
disable_created_metrics()  # type: ignore[no-untyped-call]

QUERIES = Counter("stateline_queries", "Queries finished, by role, state and outcome.",
                  ["role", "state", "outcome"])
LATENCY = Histogram("stateline_query_seconds", "Seconds from taking a query to answering it "
                    "(a gateway: queued to answered, after the audit commit).",
                    ["role", "state"], buckets=LATENCY_BUCKETS)
QUEUE_DEPTH = Gauge("stateline_queue_depth", "Queries taken and not answered yet.",
                    ["role", "state"], multiprocess_mode="livesum")
RESTARTS = Counter("stateline_restarts", "Times the supervisor restarted a role's process.",
                   ["role", "name"])
UPSTREAM_ANSWERS = Counter("stateline_upstream_answers",
                           "Answers from the state's DMV responder (proxy mode), by result.",
                           ["state", "result"])
UPSTREAM_UNMAPPED = Counter("stateline_upstream_unmapped_fields", "Fields of the responder's "
                            "answers the field map does not name, each withheld.",
                            ["state", "field"])
_LABELLED: tuple[MetricWrapperBase, ...] = (QUERIES, LATENCY, QUEUE_DEPTH, RESTARTS,
                                            UPSTREAM_ANSWERS, UPSTREAM_UNMAPPED)

_M = TypeVar("_M", bound=MetricWrapperBase)
_children: dict[tuple[object, ...], MetricWrapperBase] = {}


def _child(metric: _M, *labels: str) -> _M:
    key = (metric, *labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found  # type: ignore[return-value]  # the child of a metric has the metric's type


_P = ParamSpec("_P")
_failing: set[str] = set()


def _never_raises(update: Callable[_P, None]) -> Callable[_P, None]:
    """An update that fails (its file gone from a cleaned /tmp, a full disk) is logged once
    and dropped: counting must never stop the work it counts."""
    @functools.wraps(update)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            update(*args, **kwargs)
        except Exception as error:
            if update.__name__ not in _failing:
                _failing.add(update.__name__)
                _log.error("metrics: %s failed, and is left out until it works again: %s",
                           update.__name__, error)
        else:
            _failing.discard(update.__name__)
    return guarded


@_never_raises
def answered(role: str, state: str, outcome: str, seconds: float) -> None:
    """A query finished: counted by outcome, its latency observed."""
    _child(QUERIES, role, state, outcome).inc()
    _child(LATENCY, role, state).observe(seconds)


@_never_raises
def answered_all(role: str, state: str, done: Iterable[tuple[str, float]]) -> None:
    """`answered` for a batch at the cost of about one query: each outcome counted once, and
    each latency bucket and the sum added to once, however many queries they hold."""
    outcomes: dict[str, int] = {}
    buckets: dict[int, int] = {}
    total = 0.0
    for outcome, seconds in done:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        where = bisect_left(_BOUNDS, seconds)
        buckets[where] = buckets.get(where, 0) + 1
        total += seconds
    if not outcomes:
        return
    # Histogram has no bulk observe: what `observe` adds to, added to once per batch (the
    # pinned prometheus-client's layout; a test holds this to `observe`, one by one).
    latency = _child(LATENCY, role, state)
    latency._sum.inc(total)
    for where, n in buckets.items():
        latency._buckets[where].inc(n)
    for outcome, n in outcomes.items():
        _child(QUERIES, role, state, outcome).inc(n)


@_never_raises
def switched(state: str, outcome: str, seconds: float) -> None:
    """The switch finished a submission to `state` (a state code, a region or `NL`)."""
    answered("switch", state, outcome, seconds)


@_never_raises
def queue_depth(role: str, state: str, n: int) -> None:
    _child(QUEUE_DEPTH, role, state).set(n)


@_never_raises
def restarted(role: str, name: str) -> None:
    """The supervisor restarted a role's process (`name` as in roles.json)."""
    _child(RESTARTS, role, name).inc()


@_never_raises
def upstream_answered(state: str, result: str) -> None:
    _child(UPSTREAM_ANSWERS, state, result).inc()


@_never_raises
def upstream_results(state: str, results: Iterable[str]) -> None:
    """Show each result the responder can give, at 0 until it gives it."""
    for result in results:
        _child(UPSTREAM_ANSWERS, state, result)


@_never_raises
def upstream_unmapped(state: str, field: str) -> None:
    """`field` comes from outside: the caller bounds how many names it counts apart."""
    _child(UPSTREAM_UNMAPPED, state, field).inc()


def write_to(folder: Path) -> Callable[[], None]:
    """Keep this process's values in `folder` from now on, as the processes started with
    PROMETHEUS_MULTIPROC_DIR do, until the returned call puts things back as they were. For
    the supervisor, which imported prometheus-client before it made its run folder (and may
    share its process with other work, a test's or a command's: they get their own values
    back when it stops). Values counted before either call are dropped."""
    before_env, before_class = os.environ.get(SHARED_ENV), values.ValueClass
    _reset()
    os.environ[SHARED_ENV] = str(folder)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]

    def back() -> None:
        _reset()
        values.ValueClass = before_class
        if before_env is None:
            os.environ.pop(SHARED_ENV, None)
        else:
            os.environ[SHARED_ENV] = before_env

    return back


def _reset() -> None:
    """Drop every labelled child, so the next update makes it anew where values now go."""
    with warnings.catch_warnings():  # clearing under a shared folder is refused with a warning
        warnings.simplefilter("ignore", UserWarning)
        for metric in _LABELLED:
            metric.clear()
    _children.clear()


@_never_raises
def process_gone(pid: int) -> None:
    """A supervised process ended: its gauges stop counting (its counters still do)."""
    folder = os.environ.get(SHARED_ENV)
    if folder:
        mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


def page(*extra: Collector) -> bytes:
    """The Prometheus text of every process's values (this one's outside a supervisor) and of
    `extra`, read now."""
    return generate_latest(_Page((*_sources(), *extra)))


def _sources() -> tuple[Collector, ...]:
    folder = os.environ.get(SHARED_ENV)
    if folder:
        if Path(folder).is_dir():
            return (MultiProcessCollector(None, folder),)  # type: ignore[no-untyped-call]
        _log.warning("%s=%s is not a folder: /metrics shows this process only", SHARED_ENV,
                     folder)
    return (REGISTRY,)


class _Page:
    def __init__(self, parts: tuple[Collector, ...]) -> None:
        self._parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()
