"""The switch in its own process over NATS: its transport to the state gateways, its held
traffic in JetStream, and agencies' messages taken on `<prefix>.switch.submit` (answers read
back on `<prefix>.switch.show`), each request carrying the agency's token.

Requests and replies are JSON: `{"message", "token", "form", "wait"}` in (`form` is "text",
"json" or "xml"; a show request may name "xml" too, for answers written as XML), the
submission's JSON (as `stateline send --json` prints it) or `{"error": {"code", "text"}}` out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ..datadir import DataDir
from ..errors import StatelineError
from ..protocol import FORMS, Form
from ..switch import Switch, SwitchConfig
from .jetstream_holds import JetStreamHolds
from .nats import NETWORK, BusUnavailable, Names, NatsTransport, connect

log = logging.getLogger("stateline.transport")

CLIENT_SECONDS = 120.0
"""How long a sender waits for the switch when it names no wait of its own."""


class Refused(Exception):
    """The switch (or the bus) refused a request: an error code and its text."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


@contextlib.asynccontextmanager
async def switch_over_nats(data: DataDir, url: str, names: Names = NETWORK, *,
                           config: SwitchConfig | None = None,
                           retry: bool = True) -> AsyncIterator[tuple[Switch, NatsTransport]]:
    """A started switch whose gateways and held traffic are on NATS; closed on the way out."""
    transport = await NatsTransport.connect(url, names)
    try:
        holds = await JetStreamHolds.open(transport.client, names)
        switch = Switch(data, transport, config=config, holds=holds, retry=retry)
        await switch.start()
    except BaseException:
        await transport.close()
        raise
    try:
        yield switch, transport
    finally:
        await switch.close()


class SubmissionService:
    """Take agencies' messages for a started switch on NATS (a queue group, so several switch
    processes may share the work)."""

    def __init__(self, switch: Switch, client: NATS, names: Names = NETWORK) -> None:
        self.switch, self.client, self.names = switch, client, names
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.taken = 0

    async def start(self) -> None:
        queue = f"{self.names.prefix}-switch"
        try:
            for subject in (self.names.submit, self.names.show):
                self._subscriptions.append(
                    await self.client.subscribe(subject, queue=queue, cb=self._take))
            await self.client.flush()
        except nats.errors.Error as error:
            raise BusUnavailable(f"cannot take messages on NATS: {error}") from None

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(nats.errors.Error):
                await subscription.drain()  # type: ignore[no-untyped-call]
        self._subscriptions.clear()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _take(self, message: Msg) -> None:
        task = asyncio.create_task(self._answer(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: Msg) -> None:
        answer: dict[str, object]
        try:
            answer = {"submission": await self._handle(message)}
        except Refused as refused:
            answer = {"error": {"code": refused.code, "text": refused.text}}
        except StatelineError as error:  # its own code: unauthenticated, not-found, ...
            answer = error.as_json()
        if message.reply:
            with contextlib.suppress(nats.errors.Error):
                await message.respond(json.dumps(answer).encode())

    async def _handle(self, message: Msg) -> dict[str, object]:
        try:
            request = json.loads(message.data)
            token = str(request["token"])
        except (ValueError, KeyError, TypeError) as error:
            raise Refused("invalid", f"not a request: {error}") from None
        form = _form(request.get("form"))
        if message.subject == self.names.show:
            return self.switch.submission(str(request.get("message_id", "")), token,
                                          form=form).to_json()
        wait = request.get("wait")
        if wait is not None and (not isinstance(wait, int | float) or wait < 0):
            raise Refused("invalid", f"wait: expected seconds, not {wait!r}")
        self.taken += 1
        submission = await self.switch.submit(str(request.get("message", "")), token,
                                              form=form, wait=wait)
        return submission.to_json()


def _form(named: object) -> Form:
    """The form a request names; anything else (or nothing) is legacy text, as before."""
    return next((form for form in FORMS if form == named), "text")


async def ask_switch(url: str, names: Names, subject: str, request: dict[str, Any],
                     timeout: float) -> dict[str, Any]:
    """One request to a running switch; its submission JSON, or Refused."""
    client = await connect(url, "stateline-sender")
    try:
        answer = await client.request(subject, json.dumps(request).encode(), timeout=timeout)
    except nats.errors.NoRespondersError:
        raise Refused("no-switch", f"no switch is taking messages on {subject} "
                                   "(`stateline switch serve`)") from None
    except TimeoutError:
        raise Refused("timeout", f"the switch did not answer within {timeout:g} s; the "
                                 "message may still be answered (`stateline messages show`)"
                      ) from None
    finally:
        await client.close()
    try:
        body = json.loads(answer.data)
    except ValueError:
        raise Refused("invalid", "the switch's answer is not JSON") from None
    if "error" in body:
        error = body["error"]
        raise Refused(str(error.get("code", "error")), str(error.get("text", "")))
    submission: dict[str, Any] = body["submission"]
    return submission


async def submit(url: str, names: Names, raw: str, token: str, *, form: str = "text",
                 wait: float | None = None) -> dict[str, Any]:
    """Send one message through a switch serving on NATS; what the sender got back."""
    timeout = CLIENT_SECONDS if wait is None else wait + 10.0
    return await ask_switch(url, names, names.submit, {"message": raw, "token": token,
                                                       "form": form, "wait": wait}, timeout)


async def show(url: str, names: Names, message_id: str, token: str, *,
               form: str = "text") -> dict[str, Any]:
    """A message's answers so far, late ones included; the sender's token only."""
    return await ask_switch(url, names, names.show, {"message_id": message_id,
                                                     "token": token, "form": form}, 30.0)
