"""`stateline serve`: the whole network in one process on SQLite — the switch, every network
state's gateway, the agencies' HTTP API and the dashboard — until Ctrl-C or SIGTERM.

While it runs, DIR/serve.json records its address so other commands can use it instead of
opening a second network on the same folder. On the way out the switch finishes deliveries in
flight and every gateway signs a tree head over what it logged.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from types import FrameType

import typer
import uvicorn
from fastapi import FastAPI

from ..datadir import DataDir
from ..switch import ConfigError, Switch, SwitchConfig
from ..transport.inprocess import InProcessTransport
from ..web import client
from ..web.app import create_app
from . import options

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""A server listening everywhere is reached here through loopback."""


TRUSTED_PROXY = typer.Option(
    [], "--trusted-proxy", metavar="ADDRESS",
    help="A reverse proxy (IP address or network) whose X-Forwarded-For names the client; "
         "repeat for more. Without one, every request is from the address it came from.")


def server_config(app: FastAPI, host: str, port: int,
                  trusted_proxies: Sequence[str] = ()) -> uvicorn.Config:
    """How every Stateline web server runs: X-Forwarded-For is believed only from a proxy
    named here (uvicorn believes it from loopback by default), so sign-in throttling and the
    audit see the real peer."""
    trusted = [proxy.strip() for proxy in trusted_proxies if proxy.strip()]
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          lifespan="on", proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted or None)


class _Stop:
    """A stop asked for before the server started listening (uvicorn's own handlers take over
    once it runs, and hand the signal back here after a clean stop, where it is absorbed)."""

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True


def run(
    data: str = options.DATA,
    host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535,
                             help="Port to listen on (0: any free port; see DIR/serve.json)."),
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard",
                                   help="Serve the coordinators' dashboard too."),
    trusted_proxy: list[str] = TRUSTED_PROXY,
) -> None:
    """Run the switch, every state's gateway, the HTTP API and the dashboard in one process."""
    folder = DataDir.resolve(data)
    if not folder.nation_db.is_file():
        options.fail(f"no nation at {folder.root}: run `stateline nation init {folder.root}`",
                     "no-nation")
    other = client.running(folder)
    if other is not None:
        options.fail(f"{folder.root} is already served at {other.url} (pid {other.pid})",
                     "already-serving")
    try:
        config = SwitchConfig.load(folder)
    except ConfigError as error:
        options.fail(str(error), "config")
    states = sorted(config.members(folder))
    transport = InProcessTransport(folder, states)
    try:
        transport.start()
    except Exception as error:
        asyncio.run(transport.close())
        options.fail(f"a state's gateway cannot open: {type(error).__name__}: {error}",
                     "gateway")
    app = create_app(folder, Switch(folder, transport, config=config), dashboard=dashboard)
    stop = _Stop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    server = uvicorn.Server(server_config(app, host, port, trusted_proxy))
    if not asyncio.run(_serve(server, app, folder, states, stop)):
        asyncio.run(transport.close())
        options.fail(f"stateline serve could not start on {host}:{port} (see above)",
                     "not-started")
    typer.echo("Stopped: deliveries finished, every gateway signed its audit log's head.")


async def _serve(server: uvicorn.Server, app: FastAPI, folder: DataDir, states: list[str],
                 stop: _Stop) -> bool:
    """Serve until stopped; False when the server never started listening."""
    host = server.config.host
    serving = asyncio.create_task(_listening(server))
    while not server.started and not serving.done():
        server.should_exit = server.should_exit or stop.asked
        await asyncio.sleep(0.02)
    if not server.started:
        return await serving
    bound = server.servers[0].sockets[0].getsockname()[1]
    reach = _ANY.get(host, host)
    url = f"http://{f'[{reach}]' if ':' in reach else reach}:{bound}"
    client.record(folder, url, os.getpid())
    try:
        _announce(folder, url, states, dashboard=bool(app.state.dashboard))
        return await serving
    finally:
        client.forget(folder, os.getpid())


async def _listening(server: uvicorn.Server) -> bool:
    """uvicorn exits the process when it cannot listen or start the app (after logging why);
    here that is an answer instead."""
    try:
        await server.serve()
    except SystemExit:
        return False
    return True


def _announce(folder: DataDir, url: str, states: list[str], *, dashboard: bool) -> None:
    root = folder.root
    lines = [
        f"Stateline is serving {root}: the switch and the gateways of {' '.join(states)}",
        f"  API        POST {url}/api/messages  (Authorization: Bearer <agency token>)",
        f"  OpenAPI    {url}/openapi.json  (browse it at {url}/docs)",
    ]
    if dashboard:
        lines.append(f"  Dashboard  {url}/  (accounts: stateline users add --data {root})")
    lines += [
        f"  Send       stateline send --data {root} --from ORPPD0000 "
        f"'DQ.ORPPD0000.{states[0] if states else 'WA'}.TXT.OLN/...'",
        f"             (synthetic agencies' tokens: {folder.credentials_file})",
        "Stop with Ctrl-C: deliveries in flight finish and every gateway signs its log's head.",
    ]
    for line in lines:
        typer.echo(line)
