"""Options every command that works on a nation shares, and the CLI's one error edge."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import psycopg
import typer
from typer.core import TyperGroup

from ..datadir import DATA_ENV, DEFAULT_DATA
from ..errors import StatelineError
from ..protocol import Reject

ANSWER_IN_JSON = "stateline.json"
"""Where `--json` is remembered in the context's meta, which every nested context shares, so
the edge that reports an error knows how the command was asked to answer."""


def _remember_json(ctx: typer.Context, value: bool) -> bool:
    ctx.meta[ANSWER_IN_JSON] = value
    return value


DATA = typer.Option(
    DEFAULT_DATA, "--data", envvar=DATA_ENV, help="The nation's data folder.",
    show_default=True,
)
STATE = typer.Option(..., "--state", help="Two-letter state code, e.g. WA.")
JSON = typer.Option(False, "--json", help="Answer in JSON.", callback=_remember_json)


def fail(text: str, code: str = "invalid", as_json: bool = False) -> NoReturn:
    """Print an error once, at the edge (stderr, or JSON on stdout), and exit with status 1."""
    if as_json:
        typer.echo(json.dumps({"error": {"code": code, "text": text}}))
    else:
        typer.echo(text, err=True)
    raise typer.Exit(1)


STORE_FAILURES: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error, OSError)
"""A database or the file system failed under a command: a system error, code `store-error`."""


@contextmanager
def answering(as_json: bool = False, store: str = "its stores") -> Iterator[None]:
    """Any StatelineError in the block is printed as its code says and exits 1; a store
    failure is a `store-error` naming the store the command was reading."""
    try:
        yield
    except StatelineError as error:
        fail(error.text, error.code, as_json)
    except STORE_FAILURES as error:
        fail(f"cannot read or write {store}: {error}", "store-error", as_json)


class ErrorEdge(TyperGroup):
    """The `stateline` command group: every StatelineError (and store failure) a command lets
    out is printed here, once, as its code says: text on stderr, or the one JSON error shape
    on stdout under `--json`; exit status 1. Commands keep no error maps of their own."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StatelineError as error:
            fail(error.text, error.code, bool(ctx.meta.get(ANSWER_IN_JSON)))
        except Reject as reject:  # the protocol's own error type, as its ER text
            fail(reject.text, "rejected", bool(ctx.meta.get(ANSWER_IN_JSON)))
        except STORE_FAILURES as error:
            fail(f"{type(error).__name__}: {error}", "store-error",
                 bool(ctx.meta.get(ANSWER_IN_JSON)))

