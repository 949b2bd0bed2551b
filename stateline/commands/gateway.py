"""`stateline gateway serve|token`: run one state's gateway alone over HTTP, for the state's own
message switch to call, or on NATS for Stateline's switch in another process; and issue the
bearer tokens an HTTP caller presents.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from contextlib import AbstractContextManager
from types import FrameType

import typer
import uvicorn
from rich import box
from rich.console import Console
from rich.table import Table

from ..audit import audit_url
from ..datadir import DataDir, upstream_settings
from ..dmv.copy import PostgresDmv, holds_records, schema_for
from ..gateway import GatewayError
from ..gateway.http import create_app
from ..gateway.outbox import Outbox
from ..gateway.tokens import Token, TokenBook
from ..gateway.worker import GatewayThread
from ..policy.store import checked_state, current_user
from ..transport.nats import Names, connect, shown
from ..transport.nats_gateway import NatsGateway
from . import options
from .switch import PREFIX, network, stop_signals

app = typer.Typer(help="Run a state's gateway alone over HTTP for the state's own message "
                       "switch, and issue the tokens that switch presents.",
                  no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)

HOST = typer.Option("127.0.0.1", "--host", help="Address to listen on.")
PORT = typer.Option(8760, "--port", min=0, max=65535, help="TCP port to listen on.")
ACCESS_LOG = typer.Option(False, "--access-log", help="Log every HTTP request (the audit log "
                                                      "records every query either way).")
NOTE = typer.Option("", "--note", help="What the token is for, e.g. the switch's host name.")
WHO = typer.Option(None, "--who", help="Who issues it (default: the OS user).")
LIST = typer.Option(False, "--list", help="List the tokens issued instead of issuing one.")
REVOKE = typer.Option(None, "--revoke", metavar="ID", help="Revoke the token with this id.")
ON_NATS = typer.Option(None, "--nats", metavar="URL",
                       help="Serve on this NATS server's queue group for the state instead of "
                            "HTTP, e.g. nats://127.0.0.1:4222.")
DB = typer.Option(None, "--db", metavar="URL",
                  help="PostgreSQL holding the state's DMV records (schema dmv_wa, filled by "
                       "`stateline dmv copy`) and its audit log (schema audit_wa; the audit url "
                       "in the state's config.toml must name the same database).")


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the gateway's stores")


class _Stopped(Exception):
    """SIGTERM or Ctrl-C: uvicorn has shut down and re-raised the signal for us."""


def _stop(signum: int, _: FrameType | None) -> None:
    raise _Stopped(signal.Signals(signum).name)


@app.command("serve")
def serve_command(
    data: str = options.DATA,
    state: str = options.STATE,
    host: str = HOST,
    port: int = PORT,
    access_log: bool = ACCESS_LOG,
    nats_url: str | None = ON_NATS,
    prefix: str = PREFIX,
    db: str | None = DB,
) -> None:
    """Answer POST /messages (legacy text or JSON) for one state until SIGTERM or Ctrl-C, or
    with --nats the switch's requests on the state's queue group (several processes may serve
    one state); stopping signs a tree head over everything logged."""
    names = network(prefix)
    with answering():
        folder = DataDir.resolve(data)
        code = checked_state(folder, state)
        if db is not None:
            folder = placed(folder, code, db)
        worker = GatewayThread(folder, code)
        if nats_url is None:
            application = create_app(folder, code, gateway=worker)
        worker.start()
    if nats_url is not None:
        _serve_nats(worker, folder, nats_url, names)
        return
    gateway = worker.gateway
    typer.echo(f"{code} gateway: http://{host}:{port}/messages (OpenAPI at /openapi.json); "
               f"audit log {gateway.log.size:,} entries; policy {gateway.policy.version}; "
               f"records from {gateway.records.source}")
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    stopped_by = "the server"
    try:
        uvicorn.run(application, host=host, port=port, access_log=access_log,
                    log_level="info", timeout_graceful_shutdown=10, proxy_headers=False)
    except _Stopped as stop:
        stopped_by = str(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.stop()
    typer.echo(f"{code} gateway stopped ({stopped_by}): {worker.answered:,} queries answered "
               f"in {worker.batches:,} commits; audit log {gateway.log.size:,} entries, "
               "all under a signed head")


def placed(folder: DataDir, state: str, db: str) -> DataDir:
    """The data folder with the state's DMV records read from `db`, once that database is
    seen to hold them (unless config.toml [dmv] names the state's DMV responder, which holds
    them then) and the state's audit log of record is there too."""
    if not db.startswith(("postgresql://", "postgres://")):
        raise GatewayError(f"--db {db}: expected a postgresql:// URL")
    configured = audit_url(folder, state)
    if configured != db:
        raise GatewayError(
            f"{folder.config(state)}: [audit] url is {configured or 'not set'}, so the audit "
            f"log of record is not in --db; add [audit] url = \"{db}\" to that file so every "
            "command reads the log the gateway writes")
    if upstream_settings(folder, state) is None and not holds_records(db, schema_for(state)):
        raise GatewayError(f"schema {schema_for(state)} holds no DMV records: run `stateline "
                           f"dmv copy --state {state} --to URL` first")
    return PostgresDmv(folder.root, db)


def _serve_nats(worker: GatewayThread, folder: DataDir, url: str, names: Names) -> None:
    code, gateway = worker.state, worker.gateway
    served: list[NatsGateway] = []
    stopped_by = "the bus"

    async def serving() -> str:
        client = await connect(url, f"stateline-gateway-{code}")
        outbox = Outbox(folder, code)
        stop, came = await stop_signals()
        on_bus = NatsGateway(worker, client, names, outbox=outbox)
        served.append(on_bus)
        try:
            await on_bus.start()
            typer.echo(f"{code} gateway: NATS {shown(url)} subject {names.gateway(code)} "
                       f"(queue group {names.queue(code)}); audit log {gateway.log.size:,} "
                       f"entries; policy {gateway.policy.version}; records from "
                       f"{gateway.records.source}")
            sys.stdout.flush()
            await stop.wait()
        finally:
            await on_bus.stop()
            await client.close()
            outbox.close()
        return came[0] if came else "the bus"

    try:
        with answering():
            stopped_by = asyncio.run(serving())
    finally:
        worker.stop()
    answered = served[0].answered if served else 0
    typer.echo(f"{code} gateway stopped ({stopped_by}): {answered:,} queries answered in "
               f"{worker.batches:,} commits; audit log {gateway.log.size:,} entries, all under "
               "a signed head")


def _token_json(token: Token) -> dict[str, object]:
    return {"id": token.id, "created": token.created.isoformat(), "who": token.who,
            "note": token.note, "in_force": token.in_force,
            "revoked": token.revoked.isoformat() if token.revoked else None}


@app.command("token")
def token_command(
    data: str = options.DATA,
    state: str = options.STATE,
    note: str = NOTE,
    who: str | None = WHO,
    list_tokens: bool = LIST,
    revoke: str | None = REVOKE,
    as_json: bool = options.JSON,
) -> None:
    """Issue a new bearer token for the state's switch and print it once (only its SHA-256
    digest is kept); or list the tokens, or revoke one. Running gateways notice within a
    second."""
    with answering(as_json), TokenBook(DataDir.resolve(data), state) as book:
        if list_tokens:
            _list(book, as_json)
            return
        if revoke is not None:
            token = book.revoke(revoke, (who or "").strip() or current_user())
            typer.echo(json.dumps(_token_json(token), indent=2) if as_json else
                       f"{book.state} gateway token {token.id} revoked; callers using it now "
                       "get 401")
            return
        secret, token = book.issue((who or "").strip() or current_user(), note.strip())
    if as_json:
        typer.echo(json.dumps({"state": book.state, **_token_json(token), "token": secret},
                              indent=2))
        return
    typer.echo(f"New {book.state} gateway token {token.id}. It is shown only this once; give it "
               "to the state's message switch, which sends it as `Authorization: Bearer "
               "<token>`:")
    typer.echo(secret)


def _list(book: TokenBook, as_json: bool) -> None:
    tokens = book.tokens()
    if as_json:
        typer.echo(json.dumps([_token_json(t) for t in tokens], indent=2))
        return
    if not tokens:
        typer.echo(f"{book.state}: no gateway tokens issued.")
        return
    table = Table(title=f"{book.state} gateway tokens", box=box.SIMPLE_HEAD, pad_edge=False,
                  padding=(0, 1, 0, 0))
    for column in ("id", "issued (UTC)", "by", "status", "note"):
        table.add_column(column, no_wrap=column != "note")
    for t in tokens:
        status = "in force" if t.in_force else f"revoked {t.revoked:%Y-%m-%d %H:%M}"
        table.add_row(t.id, f"{t.created:%Y-%m-%d %H:%M}", t.who, status, t.note)
    console.print(table)
