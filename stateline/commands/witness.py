"""`stateline witness init|serve`: run a witness for states' audit logs, as someone other
than the state (a legislature's auditor, another state, a press consortium) would.

The witness cosigns a log's checkpoint only once it has seen the log grew consistently from
the last checkpoint it cosigned (c2sp.org/tlog-witness), so a state's rollback or second
history is refused by someone the state does not control.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from types import FrameType

import typer
import uvicorn

from ..witness.keys import create_key, read_key
from ..witness.logs import read_logs
from ..witness.server import create_app
from ..witness.service import Witness
from ..witness.store import WitnessStore
from . import options

app = typer.Typer(help="Run a witness: cosign states' audit-log checkpoints once each is seen "
                       "to extend the last one (c2sp.org/tlog-witness).",
                  no_args_is_help=True)

KEY = typer.Option(..., "--key", metavar="FILE", help="The witness's private cosigning key "
                                                      "(owner-only, 0600).")
NAME = typer.Option(..., "--name", help="The witness's name, e.g. auditor.wa.example/witness; "
                                        "it is in every cosignature line.")
LOGS = typer.Option(..., "--logs", metavar="FILE",
                    help="The logs to witness: one log verifier key per line "
                         "(origin+hexid+base64), # comments allowed.")
PORT = typer.Option(8770, "--port", min=0, max=65535, help="TCP port (0: any free port).")
HOST = typer.Option("127.0.0.1", "--host", help="Address to listen on.")
DB = typer.Option(None, "--db", metavar="PATH",
                  help="The witness's SQLite database (default: beside the key, named like it "
                       "with .db for .key).")

_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@app.command("init")
def init_command(key: Path = KEY, name: str = NAME) -> None:
    """Write a new cosigning key to FILE (never over an existing file) and print the witness's
    verifier key, which states name in their config.toml to trust its cosignatures."""
    with options.answering(store=str(key)):
        signer = create_key(key, name)
    typer.echo(f"Wrote {name}'s cosigning key to {key} (0600). Its verifier key:", err=True)
    typer.echo(signer.verifier.vkey)


def default_db(key: Path) -> Path:
    return key.with_name(key.name.removesuffix(".key") + ".db")


class _Stop:
    """A stop asked for before the server listened; uvicorn takes SIGINT and SIGTERM while it
    runs and hands the signal back once stopped, to be absorbed here."""

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True


@app.command("serve")
def serve_command(key: Path = KEY, logs: Path = LOGS, port: int = PORT, host: str = HOST,
                  db: Path | None = DB) -> None:
    """Answer POST /add-checkpoint for the logs listed in --logs until SIGTERM or Ctrl-C, and
    serve GET /<sha256 of origin>/checkpoint, the latest checkpoint cosigned for a log."""
    database = db or default_db(key)
    with options.answering(store=str(database)):
        witness = Witness(read_key(key), read_logs(logs), WitnessStore(database))
    config = uvicorn.Config(create_app(witness), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="off", proxy_headers=False)
    server = uvicorn.Server(config)
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        started = asyncio.run(_serve(server, witness, database, stop))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not started:
        options.fail(f"the witness could not listen on {host}:{port} (see above)", "unavailable")
    typer.echo("Witness stopped; every cosigned checkpoint is in " + str(database))


async def _serve(server: uvicorn.Server, witness: Witness, database: Path, stop: _Stop) -> bool:
    serving = asyncio.create_task(_listening(server))
    while not server.started and not serving.done():
        server.should_exit = server.should_exit or stop.asked
        await asyncio.sleep(0.02)
    if not server.started:
        return await serving or stop.asked
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    reach = _ANY.get(server.config.host, str(host))
    url = f"http://{f'[{reach}]' if ':' in reach else reach}:{port}"
    typer.echo(f"Witness {witness.vkey}\n"
               f"  add-checkpoint  POST {url}/add-checkpoint\n"
               f"  checkpoints     GET  {url}/<sha256 of origin>/checkpoint\n"
               f"  witnessing      {', '.join(sorted(witness.logs))}\n"
               f"  database        {database}\n"
               f"Listening at {url}")
    sys.stdout.flush()
    return await serving


async def _listening(server: uvicorn.Server) -> bool:
    """uvicorn exits the process when it cannot listen (after logging why); here that is an
    answer instead."""
    try:
        await server.serve()
    except SystemExit:
        return False
    return True
