"""What operators and their tools ask of a running network: `GET /metrics` (Prometheus text),
`GET /healthz` (the process answers) and `GET /readyz` (it can take traffic; 503 naming what
stands in the way). No sign-in: the answers hold counts, roles and state codes, nothing about
a person or a message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..datadir import DataDir
from ..operations import metrics
from ..operations.readiness import Ready
from ..operations.scrape import DataFolder

FRESH_SECONDS = 1.0
"""How long a /metrics page or a /readyz answer is served again as it was: both read every
state's log, and asking without end (no sign-in is needed) must not keep the server busy."""

T = TypeVar("T")


class _Recent(Generic[T]):
    """The last answer of `work` while it is fresh; one computation at a time, and callers
    that arrive during it get its answer."""

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self._lock = asyncio.Lock()
        self._kept: tuple[float, T] | None = None

    async def get(self) -> T:
        async with self._lock:
            now = time.monotonic()
            if self._kept is None or now - self._kept[0] >= FRESH_SECONDS:
                self._kept = (now, await run_in_threadpool(self.work))
            return self._kept[1]


def operations_router(data: DataDir, ready: Ready) -> APIRouter:
    """The three routes (left out of the OpenAPI document), the metrics over every state in
    `data` and readiness as `ready` says."""
    router = APIRouter(include_in_schema=False)
    folder = DataFolder(data)
    page, readiness = _Recent(lambda: metrics.page(folder)), _Recent(ready)

    @router.get("/metrics")
    async def metrics_page() -> Response:
        return Response(await page.get(), media_type=metrics.CONTENT_TYPE)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "alive"})

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        problems = await readiness.get()
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        return JSONResponse({"status": "ready", "problems": []})

    return router


__all__ = ["operations_router"]
