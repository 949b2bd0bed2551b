"""What operators and their tools ask of a running network: `GET /metrics` (Prometheus text),
`GET /healthz` (the process answers) and `GET /readyz` (it can take traffic; 503 naming what
stands in the way). No sign-in: the answers hold counts, roles and state codes, nothing about
a person or a message.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..datadir import DataDir
from ..operations import metrics
from ..operations.readiness import Ready
from ..operations.scrape import DataFolder


def operations_router(data: DataDir, ready: Ready) -> APIRouter:
    """The three routes (left out of the OpenAPI document), the metrics over every state in
    `data` and readiness as `ready` says."""
    router = APIRouter(include_in_schema=False)
    folder = DataFolder(data)

    @router.get("/metrics")
    async def metrics_page() -> Response:
        page = await run_in_threadpool(metrics.page, folder)
        return Response(page, media_type=metrics.CONTENT_TYPE)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "alive"})

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        problems = await run_in_threadpool(ready)
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        return JSONResponse({"status": "ready", "problems": []})

    return router


__all__ = ["operations_router"]
