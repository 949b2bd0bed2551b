"""What each supervised process runs: its role, until SIGTERM (or SIGINT), then a clean stop.

A gateway process answers what it took and signs every log's head; the switch finishes its
deliveries in flight; the web front stops taking requests. Each reads its settings from its
command line only, so a restarted process is the same process again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import logs
from ..datadir import DataDir
from .status import RUN_ENV, SUPERVISOR_ENV, run_dir, standby_mark

WEB_FILE = "web.json"
"""Where the web front writes the address it listens on, for the supervisor."""


def _stopping() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


STANDBY_ENV = "STATELINE_STANDBY"
"""Set for a gateway process started as a standby: it loads everything, then waits for a line
on its standard input before it opens the gateways (the supervisor's word that the process it
stands in for has died). A restart then costs opening the logs, not starting Python."""


def standing_by() -> bool:
    """Wait for the word to take over; False when the supervisor let the standby go."""
    return sys.stdin.buffer.readline().strip() == b"go"


async def gateway(data: DataDir, states: Sequence[str], socket: Path) -> None:
    from .gateways import GatewayServer

    server = GatewayServer(data, states, socket)
    stop = _stopping()
    await asyncio.to_thread(server.open)
    try:
        await server.serve(stop)
    finally:
        await asyncio.to_thread(server.close)


async def switch(data: DataDir, socket: Path, gateways: Sequence[str]) -> None:
    from ..switch import Switch
    from .local import LocalTransport
    from .switching import SwitchServer

    routes: dict[str, Path] = {}
    for given in gateways:
        path, _, states = given.rpartition("=")
        routes.update({state: Path(path) for state in states.split(",") if state})
    transport = LocalTransport(data, routes)
    core = Switch(data, transport)
    stop = _stopping()
    await core.start()

    async def back(states: tuple[str, ...]) -> None:
        for state in states:
            await core.deliver_held(state)

    transport.on_back(back)
    try:
        await transport.connect()
        await SwitchServer(core, socket).serve(stop)
    finally:
        await core.close()


def web(data: DataDir, socket: Path, listening: int, dashboard: bool,
        trusted: Sequence[str]) -> None:
    """The web front on the listening socket the supervisor opened and handed down (file
    descriptor `listening`): the port stays the supervisor's while a web front restarts, so
    nothing else on the machine can take it in between."""
    import socket as sockets

    import uvicorn

    from ..commands.serve import server_config
    from ..web.app import create_app
    from .switching import RemoteSwitch

    run = run_dir() or socket.parent
    app = create_app(data, RemoteSwitch(data, socket, run), dashboard=dashboard)
    listener = sockets.socket(fileno=listening)
    host, port = listener.getsockname()[:2]
    server = uvicorn.Server(server_config(app, host, port, trusted))

    async def serve() -> None:
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if server.started:
            spare = run / f"{WEB_FILE}.tmp"
            spare.write_text(json.dumps({"port": port, "dashboard": bool(app.state.dashboard)}))
            os.replace(spare, run / WEB_FILE)
        await serving

    asyncio.run(serve())


def _die_with_parent() -> None:
    """Linux: stop (SIGTERM) when the supervisor dies, however it dies, so no role outlives
    it (the roles run in sessions of their own, out of reach of the terminal's Ctrl-C)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        supervisor = os.environ.get(SUPERVISOR_ENV, "")
        if supervisor.isdigit() and os.getppid() != int(supervisor):  # it died before that
            os.kill(os.getpid(), signal.SIGTERM)


def _standby(data: DataDir, states: Sequence[str]) -> bool:
    """Load the code and build each state's entity graph, then wait for the word."""
    from ..policy.live import prepare
    from . import gateways  # noqa: F401  (loaded now: the wait is the point)

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for state in states:
        with contextlib.suppress(Exception):  # the gateway's own start says what is wrong
            prepare(data, state)
    run = run_dir()
    if run is not None:
        standby_mark(run, os.getpid()).touch()
    return standing_by()


def main(argv: Sequence[str] | None = None) -> None:
    _die_with_parent()
    logs.configure_from_environment(logging.INFO)
    parser = argparse.ArgumentParser(prog="python -m stateline.roles")
    roles = parser.add_subparsers(dest="role", required=True)
    one = roles.add_parser("gateway")
    one.add_argument("states", nargs="+")
    two = roles.add_parser("switch")
    two.add_argument("--gateway", action="append", default=[], metavar="SOCKET=STATES")
    three = roles.add_parser("web")
    three.add_argument("--fd", type=int, required=True, help="the listening socket")
    three.add_argument("--no-dashboard", action="store_true")
    three.add_argument("--trusted-proxy", action="append", default=[])
    for each in (one, two, three):
        each.add_argument("--data", required=True)
        each.add_argument("--socket", required=True, type=Path)
    args = parser.parse_args(argv)
    if RUN_ENV not in os.environ:
        os.environ[RUN_ENV] = str(args.socket.parent)
    data = DataDir.resolve(args.data)
    with contextlib.suppress(KeyboardInterrupt):
        if args.role == "gateway":
            if os.environ.pop(STANDBY_ENV, "") and not _standby(data, args.states):
                sys.exit(0)
            asyncio.run(gateway(data, args.states, args.socket))
        elif args.role == "switch":
            asyncio.run(switch(data, args.socket, args.gateway))
        else:
            web(data, args.socket, args.fd, not args.no_dashboard, args.trusted_proxy)
    sys.exit(0)
