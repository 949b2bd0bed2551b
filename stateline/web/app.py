"""The whole network's web face in one app: the agencies' API (OpenAPI at /openapi.json, pages
at /docs) and, where it is installed, the coordinators' dashboard.

The app's lifespan runs the network: it opens every state's gateway (an in-process transport
not started yet; `stateline serve` starts it first, to report a gateway that will not open
before it listens) and starts the switch; on shutdown it closes the switch, which finishes
deliveries in flight and stops the gateways, each signing a tree head over what it logged.
At start every state's log signs what a crash left unsigned (the dashboard's own writes sign as
they are made). `/metrics`, `/healthz` and `/readyz` are for operators (`web.operations`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..audit import sign_tails
from ..datadir import DataDir
from ..operations import readiness
from ..switch import Switch
from ..transport.inprocess import InProcessTransport
from . import refusals
from .api import SwitchFront, api_router
from .operations import operations_router

log = logging.getLogger("stateline.web")

DESCRIPTION = """Agencies send driver and vehicle queries (legacy text or JSON) with their
switch token and get the states' answers back; answers that come later are polled for.
Every error answers `{"error": {"code", "text"}}`."""


def create_app(data: DataDir, switch: Switch | SwitchFront, *,
               dashboard: bool = True, ready: readiness.Ready | None = None) -> FastAPI:
    """The API over `switch` (not started yet: the app starts and closes it), with the
    dashboard mounted unless `dashboard` is False or it is not installed. The switch is in
    this process with its gateways, or in a process of its own (`SwitchFront`). /readyz
    asks `ready` (default: `readiness.default`)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not isinstance(switch, Switch):  # the switch and gateways run elsewhere
            await switch.start()
            try:
                yield
            finally:
                await switch.close()
            return
        transport = switch.transport
        try:
            if isinstance(transport, InProcessTransport) and not any(
                    transport.running(state) for state in transport.states):
                await run_in_threadpool(transport.start)
            await switch.start()
        except BaseException:
            await transport.close()  # gateways already open are stopped, heads signed
            raise
        await run_in_threadpool(sign_tails, data, data.states())
        try:
            yield
        finally:
            await switch.close()

    app = _Api(title="Stateline", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None)
    refusals.install(app)
    app.include_router(api_router(switch))
    app.include_router(operations_router(data, ready or readiness.default(
        data, switch if isinstance(switch, Switch) else None)))

    app.state.dashboard = dashboard and _mount_dashboard(app, data)
    return app


class _Api(FastAPI):
    """FastAPI documents a 422 for request validation on every operation with parameters;
    here a request that fails validation is a 400 in the one error shape (documented per
    operation), and a 422 is only the switch's reject, so the generated 422s are left out."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            spec = super().openapi()
            for path in spec.get("paths", {}).values():
                for operation in path.values():
                    answers = operation.get("responses", {})
                    if _VALIDATION in json.dumps(answers.get("422", {})):
                        del answers["422"]
            schemas = spec.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
        return self.openapi_schema or {}


_VALIDATION = "#/components/schemas/HTTPValidationError"


def _mount_dashboard(app: FastAPI, data: DataDir) -> bool:
    """The dashboard's pages, when this installation has them; the API never depends on it."""
    try:
        from . import mount_dashboard
    except ImportError as error:
        log.info("no dashboard: %s", error)
        return False
    mount_dashboard(app, data)
    return True


__all__ = ["create_app"]
