"""A real witness served by uvicorn on a loopback port, and real audit logs to submit to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from stateline.audit.checkpoint import SignedTreeHead, verifier_key
from stateline.audit.log import AuditLog
from stateline.audit.note import Signer
from stateline.witness.keys import create_key, read_key
from stateline.witness.logs import parse_logs
from stateline.witness.server import create_app
from stateline.witness.service import Witness
from stateline.witness.store import WitnessStore

ORIGIN = "stateline/WA"
OTHER = "stateline/OR"
WITNESS = "auditor.wa.example/witness"


class Served:
    """An ASGI app served by uvicorn in a thread on a free loopback port."""

    def __init__(self, app: Starlette) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._listener = listener
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [listener]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and (
                time.monotonic() < deadline):
            time.sleep(0.01)
        assert self._server.started, "the server did not start"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the server did not stop"
        self._listener.close()


class RunningWitness:
    """The witness's HTTP server in a thread; `restart` stops it and serves the same key and
    database again, as a witness restarted by its operator would."""

    def __init__(self, key: Path, logs: str, db: Path) -> None:
        self.key_file, self.logs_text, self.db = key, logs, db
        self.start()

    def start(self) -> None:
        self.witness = Witness(read_key(self.key_file), parse_logs(self.logs_text),
                               WitnessStore(self.db))
        self._served = Served(create_app(self.witness))
        self.url = self._served.url

    def stop(self) -> None:
        self._served.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def signer(self) -> Signer:
        return self.witness.signer


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def open_log(tmp_path: Path, log_key: Ed25519PrivateKey) -> Iterator[Callable[..., AuditLog]]:
    """Opens a fresh log file each call (default: WA's origin and key)."""
    opened: list[AuditLog] = []

    def opener(origin: str = ORIGIN, key: Ed25519PrivateKey | None = None,
               name: str = "") -> AuditLog:
        path = tmp_path / f"{name or origin.replace('/', '-')}-{len(opened)}.db"
        log = AuditLog.open(path, origin, key or log_key)
        opened.append(log)
        return log

    yield opener
    for log in opened:
        log.close()


@pytest.fixture
def log(open_log: Callable[..., AuditLog]) -> AuditLog:
    return open_log()


@pytest.fixture
def running(tmp_path: Path, log_key: Ed25519PrivateKey,
            other_key: Ed25519PrivateKey) -> Iterator[RunningWitness]:
    """A witness of WA's and OR's logs (not of any other origin)."""
    key = tmp_path / "witness.key"
    create_key(key, WITNESS)
    logs = (f"# the logs this auditor witnesses\n{verifier_key(ORIGIN, log_key.public_key())}\n"
            f"\n{verifier_key(OTHER, other_key.public_key())}\n")
    witness = RunningWitness(key, logs, tmp_path / "witness.db")
    yield witness
    witness.stop()


def grow(log: AuditLog, entries: int, tag: str = "") -> SignedTreeHead:
    """Append `entries` decisions and sign the head over them."""
    for _ in range(entries):
        log.append("decision", {"n": log.size, "tag": tag})
    return log.sign_head()
