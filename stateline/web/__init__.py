"""The coordinator's dashboard: server-rendered pages over the rooms below, with sign-in,
roles, CSRF-checked forms and an audit entry for every sign-in and action.

`mount_dashboard(app, data)` adds it to an app (routes, static files, error pages);
`create_dashboard_app(data)` is the dashboard alone.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from ..datadir import DataDir
from ..errors import StatelineError
from .errors import error_response
from .guard import Dashboard
from .pages import (
    audit,
    editor,
    login,
    notices,
    orders,
    overview,
    policy,
    public,
    review,
    traffic,
    users,
)

STATIC = Path(__file__).with_name("static")
AREAS = (login, overview, traffic, policy, editor, review, orders, notices, audit, public, users)


def dashboard_router(data: DataDir) -> APIRouter:
    """Every dashboard page (left out of the OpenAPI document). Add the static files and
    error handling too, as `mount_dashboard` does."""
    board = Dashboard(data)
    router = APIRouter(include_in_schema=False)
    for area in AREAS:
        router.include_router(area.routes(board))
    return router


def mount_dashboard(app: FastAPI, data: DataDir) -> None:
    """The dashboard's pages at /, /login, /states/XX/..., /public/...; its files at /static."""
    app.include_router(dashboard_router(data))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, StatelineError)
        return error_response(request, error)

    app.add_exception_handler(StatelineError, refused)


def create_dashboard_app(data: DataDir) -> FastAPI:
    app = FastAPI(title="Stateline dashboard", docs_url=None, redoc_url=None)
    mount_dashboard(app, data)
    return app


__all__ = ["create_dashboard_app", "dashboard_router", "mount_dashboard"]
