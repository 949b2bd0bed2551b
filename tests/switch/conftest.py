"""A small nation for the switch, and a running switch over in-process gateways."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.sim.nation import build_nation
from stateline.switch import Switch, SwitchConfig
from stateline.switch.credentials import CredentialBook
from stateline.transport.inprocess import InProcessTransport


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("switch-nation"))
    build_nation(data, ("WA", "OR", "NY"), residents=200, seed=7)
    return data


def token(data: DataDir, ori: str) -> str:
    with CredentialBook(data) as book:
        secret, _ = book.issue(ori, "test")
    return secret


def samples(data: DataDir, state: str, n: int = 3) -> list[Sample]:
    store = open_store(data.dmv_url(state))
    try:
        return store.sample(n, seed=2)
    finally:
        store.close()


@contextlib.asynccontextmanager
async def running(data: DataDir, *, states: tuple[str, ...] | None = None,
                  config: SwitchConfig | None = None) -> AsyncIterator[Switch]:
    """A started switch (no background retries) over started in-process gateways."""
    transport = InProcessTransport(data, states)
    transport.start()
    switch = Switch(data, transport, config=config, retry=False)
    await switch.start()
    try:
        yield switch
    finally:
        await switch.close()
