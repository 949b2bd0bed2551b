"""`stateline switch serve`: the switch in a process of its own over NATS JetStream, with the
agencies' HTTP API (and the dashboard) in front of it, and their messages taken on NATS too.

While it runs, DIR/serve.json records the API's address as `stateline serve` does, so
`stateline send` and `stateline messages show` go through this switch.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from types import FrameType

import typer
import uvicorn

from ..datadir import DataDir
from ..switch import Switch, SwitchError
from ..transport.jetstream_holds import JetStreamHolds
from ..transport.nats import Names, NatsTransport, shown
from ..transport.nats_switch import SubmissionService
from ..web import client
from ..web.app import create_app
from .serve import server_config

_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""An API listening everywhere is reached here through loopback."""


class _Stop:
    """Which signal stopped the switch: asked before the API listened, or handed back by
    uvicorn once it has shut down cleanly (and absorbed here)."""

    def __init__(self) -> None:
        self.name = ""

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.name = self.name or signal.Signals(signum).name


def serve(folder: DataDir, url: str, names: Names, host: str, port: int, *,
          dashboard: bool) -> tuple[int, str]:
    """Serve until SIGTERM or Ctrl-C; how many messages came over NATS, and what stopped it."""
    other = client.running(folder)
    if other is not None:
        raise SwitchError(f"{folder.root} is already served at {other.url} (pid {other.pid})")
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        taken = asyncio.run(_serve(folder, url, names, host, port, dashboard, stop))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return taken, stop.name or "the server"


async def _serve(folder: DataDir, url: str, names: Names, host: str, port: int,
                 dashboard: bool, stop: _Stop) -> int:
    transport = await NatsTransport.connect(url, names)
    try:
        holds = await JetStreamHolds.open(transport.client, names)
    except BaseException:
        await transport.close()
        raise
    switch = Switch(folder, transport, holds=holds)
    app = create_app(folder, switch, dashboard=dashboard)  # its lifespan starts and closes it
    server = uvicorn.Server(server_config(app, host, port))
    serving = asyncio.create_task(_listening(server))
    while not server.started and not serving.done():
        server.should_exit = server.should_exit or bool(stop.name)
        await asyncio.sleep(0.02)
    if not server.started:
        await serving
        await transport.close()
        if stop.name:
            return 0
        raise SwitchError(f"the switch could not start its API on {host}:{port} (see above)")
    service = SubmissionService(switch, transport.client, names)
    await service.start()
    address = _address(server, host)
    client.record(folder, address, os.getpid())
    try:
        await _announce(switch, folder, url, names, address)
        while not serving.done() and not server.should_exit:
            await asyncio.sleep(0.05)
        await service.stop()  # before the app's lifespan closes the switch
        await serving
    finally:
        client.forget(folder, os.getpid())
    return service.taken


async def _listening(server: uvicorn.Server) -> bool:
    """uvicorn exits the process when it cannot listen or start the app; here that is an
    answer instead (it has logged why)."""
    try:
        await server.serve()
    except SystemExit:
        return False
    return True


def _address(server: uvicorn.Server, host: str) -> str:
    bound = server.servers[0].sockets[0].getsockname()[1]
    reach = _ANY.get(host, host)
    return f"http://{f'[{reach}]' if ':' in reach else reach}:{bound}"


async def _announce(switch: Switch, folder: DataDir, url: str, names: Names,
                    address: str) -> None:
    held = sum((await switch.stores.holds.counts()).values())
    states = " ".join(sorted(switch.config.members(folder)))
    for line in (
        f"switch: NATS {shown(url)}; gateways on {names.gateway('<STATE>')} for {states}; "
        f"{held:,} messages held in stream {names.held_stream}; messages taken on "
        f"{names.submit}",
        f"  API  POST {address}/api/messages  (OpenAPI at {address}/openapi.json); "
        f"`stateline send --data {folder.root}` goes through it",
    ):
        typer.echo(line)
    sys.stdout.flush()
