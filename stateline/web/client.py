"""How command-line tools find a running `stateline serve` and talk to it, so that they share
its switch and gateways instead of opening a second network on the same data folder.

`stateline serve` records its address in DIR/serve.json while it runs; `running(data)` reads
that record and trusts it only when the process is alive and the API answers. `Client` speaks
the HTTP API and hands back the same `Submission` the switch returns in process, with the
switch's error types, so a caller handles both paths alike.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..datadir import DataDir
from ..protocol import Form
from ..switch import AuthenticationError, SwitchError, UnknownMessage
from ..switch.merge import Summary
from ..switch.views import FieldView, ResponseView, Submission

SERVE_FILE = "serve.json"
MARGIN_SECONDS = 30.0
"""How much longer than the switch's wait a client waits for the HTTP answer."""
DEFAULT_WAIT = 60.0
_SUMMARY_KEY = re.compile(r"MULTI-STATE SUMMARY FOR (\w+)")


class ServerError(SwitchError):
    """The server could not be reached, or answered outside the API's contract."""


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    pid: int


def serve_file(data: DataDir) -> Path:
    return data.root / SERVE_FILE


def record(data: DataDir, url: str, pid: int, run: Path | None = None) -> None:
    """Write DIR/serve.json for this server (atomically: a reader never sees half of it),
    with its run folder (the roles' sockets and `roles.json`) when it supervises processes."""
    path = serve_file(data)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({
        "url": url, "pid": pid, "openapi": f"{url}/openapi.json",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        **({"run": str(run)} if run is not None else {})}, indent=1))
    os.replace(temporary, path)


def forget(data: DataDir, pid: int) -> None:
    """Remove DIR/serve.json if it is still this server's."""
    found = recorded(data)
    if found is not None and found.pid == pid:
        serve_file(data).unlink(missing_ok=True)


def recorded(data: DataDir) -> Server | None:
    try:
        obj = json.loads(serve_file(data).read_text())
        return Server(str(obj["url"]).rstrip("/"), int(obj["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(data: DataDir, timeout: float = 2.0) -> Server | None:
    """The server recorded in DIR/serve.json, if its process lives and its API answers."""
    found = recorded(data)
    if found is None or not _alive(found.pid):
        return None
    try:
        answer = httpx.get(f"{found.url}/api/health", timeout=timeout)
    except httpx.HTTPError:
        return None
    return found if answer.status_code == 200 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


MEDIA_TYPES: dict[Form, str] = {"text": "text/plain", "json": "application/json",
                                "xml": "application/xml"}


class Client:
    """One agency's calls to the API at `url`, authenticated with its token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def send(self, raw: str, *, form: Form = "text",
             wait: float | None = None) -> Submission:
        """What the switch answered within the wait; a rejected message is a Submission
        with `accepted` False, as in process."""
        kind = MEDIA_TYPES[form]
        params = {} if wait is None else {"wait": str(wait)}
        timeout = (DEFAULT_WAIT if wait is None else wait) + MARGIN_SECONDS
        return self._call("POST", "/api/messages", timeout, content=raw.encode("utf-8"),
                          params=params, headers={**self._headers, "Content-Type": kind})

    def submission(self, message_id: str) -> Submission:
        """A message's answers so far; UnknownMessage unless this agency sent it."""
        return self._call("GET", f"/api/messages/{message_id}", MARGIN_SECONDS,
                          headers=self._headers)

    def _call(self, method: str, path: str, timeout: float, **given: Any) -> Submission:
        try:
            answer = httpx.request(method, self.url + path, timeout=timeout, **given)
        except httpx.HTTPError as error:
            raise ServerError(f"cannot reach the server at {self.url}: {error}") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        text = str(body.get("error", {}).get("text", answer.reason_phrase)) \
            if isinstance(body, dict) else answer.reason_phrase
        if answer.status_code == 401:
            raise AuthenticationError(text)
        if answer.status_code == 404:
            raise UnknownMessage(text)
        if answer.status_code not in (200, 422) or not isinstance(body, dict):
            raise ServerError(f"the server at {self.url} answered {answer.status_code}: {text}")
        try:
            return submission_from_json(body)
        except (KeyError, TypeError, ValueError) as error:
            raise ServerError(f"the server at {self.url} sent an answer this client cannot "
                              f"read: {error!r}") from None


def submission_from_json(obj: dict[str, Any]) -> Submission:
    """The inverse of `Submission.to_json`."""
    return Submission(str(obj["message_id"]), bool(obj["accepted"]),
                      tuple(_response(r) for r in obj["responses"]),
                      tuple(str(s) for s in obj["pending"]))


def _response(obj: dict[str, Any]) -> ResponseView:
    fields = tuple(FieldView(int(f["record"]), str(f["element"]), str(f.get("prefix") or ""),
                             str(f.get("value") or ""), bool(f.get("withheld", False)))
                   for f in obj["fields"])
    summary = None
    if obj.get("summary") is not None:
        groups = {name: tuple(states) for name, states in obj["summary"].items()
                  if name != "sent_to"}
        asked = _SUMMARY_KEY.search(str(obj["text"]))
        summary = Summary(asked.group(1) if asked else str(obj["key"]),
                          tuple(obj["summary"]["sent_to"]),
                          {name: states for name, states in groups.items() if states},
                          str(obj["outcome"]))
    return ResponseView(str(obj["key"]), str(obj["state"]), str(obj["outcome"]), fields,
                        str(obj["text"]), obj.get("reference"), bool(obj["late"]),
                        tuple(base64.b64decode(p) for p in obj["photos"]), summary)


__all__ = ["Client", "Server", "ServerError", "forget", "record", "recorded", "running",
           "serve_file", "submission_from_json"]
