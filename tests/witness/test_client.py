"""What a log's client makes of each answer a witness can give, including a witness that is
down, lies, or answers past any bound."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stateline.audit.log import AuditLog
from stateline.witness import (
    WitnessConflict,
    WitnessError,
    WitnessRefused,
    WitnessUnreachable,
    add_checkpoint,
    latest_checkpoint,
)

from .conftest import OTHER, RunningWitness, Served, grow

Answer = tuple[int, str, bytes]


@pytest.fixture
def hostile() -> Iterator[Callable[[Answer], str]]:
    """A server answering every request with one fixed (status, content type, body)."""
    served: list[Served] = []

    def serve(answer: Answer) -> str:
        status, kind, body = answer

        async def reply(request: Request) -> Response:
            return Response(body, status, headers={"Content-Type": kind})

        app = Starlette(routes=[Route("/{path:path}", reply, methods=["GET", "POST"])])
        served.append(Served(app))
        return served[-1].url

    yield serve
    for server in served:
        server.stop()


def test_each_refusal_is_its_own_error(running: RunningWitness, log: AuditLog,
                                       open_log: Callable[..., AuditLog]) -> None:
    head = grow(log, 3)
    with pytest.raises(WitnessRefused) as refused:
        add_checkpoint(running.url, 4, [], head.note())
    assert refused.value.witness_status == 400
    stranger = grow(open_log("stateline/NY"), 1)
    with pytest.raises(WitnessRefused) as refused:
        add_checkpoint(running.url, 0, [], stranger.note())
    assert refused.value.witness_status == 404
    assert "stateline/NY" in refused.value.answer
    add_checkpoint(running.url, 0, [], head.note())
    with pytest.raises(WitnessConflict) as conflict:
        add_checkpoint(running.url, 1, [], grow(log, 1).note())
    assert conflict.value.size == 3


def test_a_witness_that_is_down_is_unreachable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(WitnessUnreachable):
        add_checkpoint(url, 0, [], "stateline/WA\n1\nAAAA\n\n\u2014 a AAAAAAAA\n")
    with pytest.raises(WitnessUnreachable):
        latest_checkpoint(url, "stateline/WA")
    for bad in ("witness.example", "http://[::1", "ftp://witness.example"):
        with pytest.raises(WitnessUnreachable):
            latest_checkpoint(bad, "stateline/WA", timeout=1)


@pytest.mark.parametrize("answer", [
    (200, "text/plain", b""),
    (200, "text/plain", b"no dash here\n"),
    (200, "text/plain", "\u2014 w not-base64!\n".encode()),
    (200, "text/plain", "\u2014 w AAAAAAAA".encode()),
    (200, "text/plain", "\u2014 w AAAAAAAA\n\n\u2014 w AAAAAAAA\n".encode()),
    (200, "text/plain", "\u2014 w \u00e9AAAAAAA\n".encode()),
    (200, "text/plain", b"\xff\xfe"),
    (200, "text/plain", b"\xe2\x80\x94 w " + b"A" * 100_000 + b"\n"),
])
def test_a_garbled_cosignature_answer_is_a_witness_error(
        hostile: Callable[[Answer], str], log: AuditLog, answer: Answer) -> None:
    with pytest.raises(WitnessError) as error:
        add_checkpoint(hostile(answer), 0, [], grow(log, 1).note())
    assert type(error.value) is WitnessError


@pytest.mark.parametrize(("answer", "witness_status"), [
    ((409, "text/x.tlog.size", b"many\n"), 409),
    ((409, "text/x.tlog.size", b"-1\n"), 409),
    ((409, "text/x.tlog.size", b"01\n"), 409),
    ((500, "text/plain", b"Internal Server Error"), 500),
    ((302, "text/plain", b""), 302),
])
def test_any_other_answer_is_a_refusal(hostile: Callable[[Answer], str], log: AuditLog,
                                      answer: Answer, witness_status: int) -> None:
    with pytest.raises(WitnessRefused) as refused:
        add_checkpoint(hostile(answer), 0, [], grow(log, 1).note())
    assert refused.value.witness_status == witness_status


def test_a_conflict_body_names_the_size_to_resume_from(hostile: Callable[[Answer], str],
                                                       log: AuditLog) -> None:
    url = hostile((409, "text/x.tlog.size", b"12\n"))
    with pytest.raises(WitnessConflict) as conflict:
        add_checkpoint(url, 0, [], grow(log, 1).note())
    assert conflict.value.size == 12


def test_a_served_checkpoint_must_be_the_logs(hostile: Callable[[Answer], str],
                                             log: AuditLog) -> None:
    note = grow(log, 1).note().encode()
    assert latest_checkpoint(hostile((200, "text/plain", note)), "stateline/WA") == note.decode()
    with pytest.raises(WitnessError, match="stateline/WA"):
        latest_checkpoint(hostile((200, "text/plain", note)), OTHER)
    with pytest.raises(WitnessError):
        latest_checkpoint(hostile((200, "text/plain", b"not a note")), "stateline/WA")
    assert latest_checkpoint(hostile((404, "text/plain", b"")), "stateline/WA") is None
    with pytest.raises(WitnessRefused):
        latest_checkpoint(hostile((503, "text/plain", b"")), "stateline/WA")
