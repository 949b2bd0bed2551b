"""The switch process's door for the web front: agencies' messages and reads of their answers,
over a local socket in frames (many requests per frame, many answers back), and the
`RemoteSwitch` the web front serves the HTTP API with.

Requests: `{"n", "op": "submit", "message", "token", "form", "wait"}`,
`{"n", "op": "show", "message_id", "token", "form"}`, and for the operator's tools on this
machine `{"n", "op": "status", "state", "status", "who", "note", "deliver"}` and
`{"n", "op": "deliver", "state"}`; answers: `{"n", "ok": <JSON>}` (a submission, a status
change, `{"delivered": n}`) or `{"n", "error": {"code", "text"}}`. Only processes of the user
who runs the network can reach the socket (see `supervisor`). The web front checks bearer
tokens itself (the credential book is in the data folder, read directly); the switch checks
every token again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from ..datadir import DataDir
from ..errors import StatelineError
from ..protocol import FORMS, Form
from ..switch import (
    AuthenticationError,
    Service,
    Switch,
    SwitchConfig,
    SwitchError,
    UnknownMessage,
)
from ..switch.credentials import CredentialBook
from ..switch.status import StatusBoard, StatusChange
from ..switch.views import Submission
from ..web.client import submission_from_json
from .frames import FrameError, Outgoing, read_frame
from .status import read_roles

log = logging.getLogger("stateline.roles")

ERRORS: dict[str, type[SwitchError]] = {
    AuthenticationError.code: AuthenticationError, UnknownMessage.code: UnknownMessage}
"""Error codes the web front turns back into the switch's own error types."""


class SwitchServer:
    """Serve a started switch to the web front on the unix socket at `path`."""

    def __init__(self, switch: Switch, path: Path) -> None:
        self.switch, self.path = switch, path
        self._tasks: set[asyncio.Task[None]] = set()

    async def serve(self, stop: asyncio.Event) -> None:
        self.path.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._connection, path=str(self.path))
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()
            if self._tasks:
                await asyncio.wait(set(self._tasks))

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        out = Outgoing(writer)
        try:
            while (items := await read_frame(reader)) is not None:
                for item in items:
                    task = asyncio.create_task(self._answer(item, out))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        except (FrameError, ConnectionError) as error:
            log.warning("the web front's connection ended: %s", error)
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()

    async def _answer(self, item: Any, out: Outgoing) -> None:
        number = item.get("n") if isinstance(item, dict) else None
        if not isinstance(number, int):
            return
        try:
            said = await self._do(item)
        except StatelineError as error:
            answer: dict[str, Any] = {"n": number,
                                      "error": {"code": error.code, "text": str(error)}}
        except Exception as error:
            log.exception("a request from the web front failed")
            answer = {"n": number, "error": {"code": "switch-error",
                                             "text": f"{type(error).__name__}: {error}"}}
        else:
            answer = {"n": number, "ok": said}
        with contextlib.suppress(FrameError):
            out.send(json.dumps(answer).encode())

    async def _do(self, item: dict[str, Any]) -> dict[str, Any]:
        op = item.get("op")
        if op in OPERATIONS:
            return await OPERATIONS[op](self.switch, item)
        raise SwitchError(f"no such request: {str(op)[:40]!r}")


def _form(item: dict[str, Any]) -> Form:
    form = item.get("form", "text")
    if form not in FORMS:
        raise SwitchError(f"form {form!r} is not one of {', '.join(FORMS)}")
    return cast(Form, form)


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise SwitchError(f"{name}: text expected")
    return value


async def _submit(switch: Switch, item: dict[str, Any]) -> dict[str, Any]:
    wait = item.get("wait")
    if not isinstance(wait, int | float | None) or isinstance(wait, bool):
        raise SwitchError("wait: seconds expected")
    submission = await switch.submit(_text(item, "message"), _text(item, "token"),
                                     form=_form(item), wait=wait)
    return submission.to_json()


async def _show(switch: Switch, item: dict[str, Any]) -> dict[str, Any]:
    return switch.submission(_text(item, "message_id"), _text(item, "token"),
                             form=_form(item)).to_json()


async def _status(switch: Switch, item: dict[str, Any]) -> dict[str, Any]:
    try:
        status = Service(_text(item, "status"))
    except ValueError:
        raise SwitchError(f"status: one of {', '.join(s.value for s in Service)}") from None
    change = await switch.set_status(_text(item, "state"), status, _text(item, "who"),
                                     _text(item, "note"), deliver=item.get("deliver") is True)
    return change.to_json()


async def _deliver(switch: Switch, item: dict[str, Any]) -> dict[str, Any]:
    state = item.get("state")
    if state is not None and not isinstance(state, str):
        raise SwitchError("state: a state code or null expected")
    return {"delivered": await switch.deliver_held(state)}


OPERATIONS: dict[str, Callable[[Switch, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "submit": _submit, "show": _show, "status": _status, "deliver": _deliver}
"""What the switch process does for the processes that reach its socket."""


def _submission(said: dict[str, Any]) -> Submission:
    try:
        return submission_from_json(said)
    except (KeyError, TypeError, ValueError) as error:
        raise SwitchError(f"an answer from the switch that cannot be read: {error!r}") from None


class _Stores:
    """What the web front reads straight from the data folder: credentials and status."""

    def __init__(self, data: DataDir) -> None:
        self.credentials = CredentialBook(data)
        self.status = StatusBoard(data, share=self.credentials)

    def close(self) -> None:
        self.status.close()
        self.credentials.close()


class RoleView:
    """Which states' gateway processes are up, as the supervisor last wrote it."""

    def __init__(self, run: Path, states: tuple[str, ...]) -> None:
        self.run, self.states = run, states

    def running(self, state: str) -> bool:
        return any(role.up and state in role.states for role in read_roles(self.run)
                   if role.role == "gateway")


class RemoteSwitch:
    """The switch in its own process, as the HTTP API uses it (`web.api`)."""

    def __init__(self, data: DataDir, path: Path, run: Path) -> None:
        self.data, self.path = data, path
        self.config = SwitchConfig.load(data)
        self.transport = RoleView(run, tuple(sorted(self.config.members(data))))
        self._stores: _Stores | None = None
        self._out: Outgoing | None = None
        self._reading: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._numbers = itertools.count(1)
        self._opening = asyncio.Lock()

    @property
    def stores(self) -> _Stores:
        if self._stores is None:
            raise SwitchError("the web front is not started")
        return self._stores

    async def start(self) -> None:
        self._stores = _Stores(self.data)

    async def close(self) -> None:
        if self._out is not None:
            self._out.writer.close()
        if self._reading is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._stores is not None:
            self._stores.close()
            self._stores = None

    async def submit(self, raw: str, token: str, *, form: Form = "text",
                     wait: float | None = None) -> Submission:
        return _submission(await self._ask({"op": "submit", "message": raw, "token": token,
                                            "form": form, "wait": wait}))

    async def show(self, message_id: str, token: str | None = None, *,
                   form: Form = "text") -> Submission:
        return _submission(await self._ask({"op": "show", "message_id": message_id,
                                            "token": token, "form": form}))

    async def set_status(self, state: str, status: Service, who: str, note: str = "", *,
                         deliver: bool = True) -> StatusChange:
        said = await self._ask({"op": "status", "state": state, "status": status.value,
                                "who": who, "note": note, "deliver": deliver})
        try:
            return StatusChange(datetime.fromisoformat(said["time"]), str(said["state"]),
                                Service(said["old"]), Service(said["new"]), str(said["who"]),
                                str(said["note"]))
        except (KeyError, TypeError, ValueError) as error:
            raise SwitchError(f"a status change the switch sent cannot be read: "
                              f"{error!r}") from None

    async def deliver_held(self, state: str | None = None) -> int:
        said = await self._ask({"op": "deliver", "state": state})
        return int(said.get("delivered", 0))

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        out = await self._connected()
        number = next(self._numbers)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        try:
            out.send(json.dumps({"n": number, **request}).encode())
        except FrameError as error:
            self._waiting.pop(number, None)
            raise SwitchError(str(error)) from None
        answer = await future
        if isinstance(answer.get("ok"), dict):
            return dict(answer["ok"])
        said = answer.get("error")
        said = said if isinstance(said, dict) else {}
        kind: Callable[[str], SwitchError] = ERRORS.get(str(said.get("code")), SwitchError)
        raise kind(str(said.get("text", "the switch could not answer")))

    async def _connected(self) -> Outgoing:
        async with self._opening:
            if self._out is None:
                try:
                    reader, writer = await asyncio.open_unix_connection(str(self.path))
                except OSError as error:
                    raise SwitchError(f"the switch process is not running: {error}") from None
                self._out = Outgoing(writer)
                self._reading = asyncio.create_task(self._read(reader, writer))
            return self._out

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (items := await read_frame(reader)) is not None:
                for item in items:
                    number = item.get("n") if isinstance(item, dict) else None
                    future = self._waiting.pop(number, None) \
                        if isinstance(number, int) else None
                    if future is not None and not future.done():
                        future.set_result(item)
        except (FrameError, ConnectionError) as error:
            log.warning("the switch's connection ended: %s", error)
        finally:
            self._out = None
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.close()
            waiting, self._waiting = self._waiting, {}
            for future in waiting.values():
                if not future.done():
                    future.set_exception(SwitchError("the switch process stopped; "
                                                     "send the message again"))
