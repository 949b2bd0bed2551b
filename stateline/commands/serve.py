"""`stateline serve`: the whole network on one machine, each role in a process of its own —
the switch, every network state's gateway (or pools of them), the web front with the
agencies' HTTP API and the dashboard — under one supervisor, until Ctrl-C or SIGTERM.

While it runs, DIR/serve.json records its address so other commands can use it instead of
opening a second network on the same folder. On the way out the switch finishes deliveries in
flight and every gateway signs a tree head over what it logged.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from types import FrameType

import typer
import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from .. import logs
from ..datadir import DataDir
from ..roles.supervisor import StartFailed, Supervisor, gateway_groups
from ..switch import ConfigError, SwitchConfig
from ..web import client
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
    audit see the real peer. With JSON logs, uvicorn's own loggers write through the root
    logger's JSON handler rather than handlers of their own."""
    trusted = [proxy.strip() for proxy in trusted_proxies if proxy.strip()]
    json_logs = os.environ.get(logs.FORMAT_ENV) == logs.LogFormat.JSON
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          lifespan="on", proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted or None,
                          log_config=None if json_logs else LOGGING_CONFIG)


class _Stop:
    """Ctrl-C or SIGTERM: the supervisor stops the roles in order (the roles run in sessions
    of their own, so a terminal's Ctrl-C reaches the supervisor alone)."""

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
    gateway_processes: int = typer.Option(
        0, "--gateway-processes", min=0, max=1000, metavar="N",
        help="Share the states' gateways among N processes (0: one process per state)."),
    standby: bool = typer.Option(
        True, "--standby/--no-standby",
        help="Keep a loaded standby beside each gateway process, so a gateway that dies is "
             "back in a fraction of a second (costs one idle process each)."),
) -> None:
    """Run the switch, every state's gateway and the web front (HTTP API and dashboard), each
    in a process of its own under one supervisor that restarts any that dies."""
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
    supervisor = start_network(folder, states, host=host, port=port, dashboard=dashboard,
                               trusted=trusted_proxy, processes=gateway_processes or None,
                               standby=standby)
    serve_network(folder, supervisor, host)


def start_network(folder: DataDir, states: Sequence[str], *, host: str, port: int,
                  dashboard: bool, trusted: Sequence[str] = (), processes: int | None = None,
                  standby: bool = True) -> Supervisor:
    """Every role started and up (gateways, switch, web front), or a clear failure."""
    try:
        supervisor = Supervisor(folder, gateway_groups(states, processes), host=host,
                                port=port, dashboard=dashboard, trusted=trusted,
                                standby=standby)
        supervisor.start()
    except StartFailed as error:
        options.fail(f"stateline serve could not start: {error}", "not-started")
    return supervisor


def serve_network(folder: DataDir, supervisor: Supervisor, host: str) -> None:
    """Record where the network listens, say so, and tend it until Ctrl-C or SIGTERM; then
    stop every role in order."""
    stop = _Stop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    reach = _ANY.get(host, host)
    url = f"http://{f'[{reach}]' if ':' in reach else reach}:{supervisor.port}"
    client.record(folder, url, os.getpid(), supervisor.run)
    try:
        _announce(folder, url, supervisor, dashboard="--no-dashboard" not in supervisor.web.argv)
        supervisor.serve_until(lambda: stop.asked)
    finally:
        client.forget(folder, os.getpid())  # first: no client is sent to a port being let go
        supervisor.stop()
    typer.echo("Stopped: deliveries finished, every gateway signed its audit log's head.")


def _announce(folder: DataDir, url: str, supervisor: Supervisor, *, dashboard: bool) -> None:
    root = folder.root
    states = [state for role in supervisor.gateways for state in role.states]
    pids = ", ".join(f"{role.name} {role.process.pid}" for role in supervisor.roles
                     if role.process is not None)
    lines = [
        f"Stateline is serving {root}: the switch and the gateways of {' '.join(states)}",
        f"  Processes  {pids}",
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
