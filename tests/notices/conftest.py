"""A one-state nation (New York, with the New-York-style notice duty) per test, and real queries
through its gateway, so notices are queued from the audit bodies the gateway writes."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway
from stateline.notices import Notice, NoticeBook, new_york_style_notices
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import read
from stateline.sim.nation import build_nation

ICE = "VTICE0900"
HSI = "NYHSI0100"


@dataclass(frozen=True, slots=True)
class Sent:
    """One query's audit entry, as the gateway logged it."""

    seq: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Nation:
    data: DataDir
    samples: list[Sample]
    police: str
    """An active in-state police department's ORI."""

    def use(self, name: str) -> None:
        with contextlib.suppress(policy_store.NoChange):
            policy_store.apply(self.data, "NY", preset(name).text(), who="test")

    def send(self, text: str) -> Sent:
        """A query through the gateway with its own notice queueing off, so each test queues
        (via `queue`) exactly when and as of the time it wants."""
        with Gateway(self.data, "NY") as gateway:
            gateway.notices.duty = None
            gateway.policy.check()
            result = gateway.handle(read(text))
            gateway.notices.mark_examined(result.seq)  # nor at the next start
            return Sent(result.seq, dict(gateway.log.entry(result.seq).body))

    def queue(self, sent: Sent, *, days_ago: int = 0) -> list[Notice]:
        """Queue for an entry as the gateway would; `days_ago` backdates the request."""
        body = dict(sent.body)
        now = datetime.now(UTC)
        if days_ago:
            now -= timedelta(days=days_ago)
            body["time"] = now.isoformat()
        store = open_store(self.data.dmv_url("NY"))
        try:
            with NoticeBook(self.data, "NY") as book:
                return book.queue_for(sent.seq, body, store, now)
        finally:
            store.close()


@pytest.fixture
def nation(tmp_path: Path) -> Nation:
    data = DataDir(tmp_path / "nation")
    build_nation(data, ("NY",), residents=200, seed=7)
    with data.config("NY").open("a") as config:
        config.write(new_york_style_notices())
    store = open_store(data.dmv_url("NY"))
    try:
        samples = store.sample(4, seed=1)
    finally:
        store.close()
    with Directory.open(data, create=False) as directory:
        police = next(a.ori for a in directory.agencies(state="NY", active=True)
                      if a.agency_type == "PD")
    return Nation(data, samples, police)
