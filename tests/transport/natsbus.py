"""What the NATS tests share: the server from STATELINE_TEST_NATS_URL, a network of their own
on it (a random prefix, its streams removed afterwards), a small nation and its queries."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator

import nats
import pytest
from nats.js.errors import NotFoundError

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.protocol import Field, Message, OutputHeader, Stamp
from stateline.switch.credentials import CredentialBook
from stateline.switch.stamping import now
from stateline.transport.base import Envelope
from stateline.transport.nats import Names

SENDER = "WASPD0100"
LOCAL = "ORPPD0000"


def nats_url() -> str:
    return os.environ.get("STATELINE_TEST_NATS_URL", "")


@pytest.fixture
def names() -> Iterator[Names]:
    """A network of the test's own on the shared server; its streams go when it ends."""
    network = Names(f"t{secrets.token_hex(5)}")
    yield network
    asyncio.run(remove(network))


async def remove(network: Names) -> None:
    client = await nats.connect(nats_url())
    js = client.jetstream()
    try:
        for stream in (network.late_stream, network.held_stream, f"KV_{network.leases}"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await client.close()


def olns(data: DataDir, state: str, n: int = 3) -> list[str]:
    store = open_store(data.dmv_url(state))
    try:
        return [sample.oln for sample in store.sample(n, seed=4)]
    finally:
        store.close()


def query(state: str, oln: str, sender: str = SENDER) -> Message:
    header = OutputHeader(Stamp(now(), 1), Stamp(now(), 1), f"{state}NLETS00")
    return Message("DQ", sender, (), None, (Field("OLN", oln),), header=header)


def envelope(data: DataDir, state: str, message_id: str = "M1") -> Envelope:
    return Envelope(message_id, state, query(state, olns(data, state, 1)[0]))


def token(data: DataDir, ori: str) -> str:
    with CredentialBook(data) as book:
        secret, _ = book.issue(ori, "test")
    return secret


def switch_config(data: DataDir, *, wait: float = 5.0, retry: float = 0.3) -> None:
    """Short waits and quick retries, so held traffic moves within a test's patience."""
    data.switch_config.write_text(f"[switch]\nwait_seconds = {wait}\nretry_seconds = {retry}\n")
