"""Queries end to end through the switch and the state gateways, beside a bare in-process call of
the gateway measured in the same run: the embedded layout `stateline serve` runs (the switch,
each state's gateway and the web front in processes of their own, joined by local sockets),
the switch and gateways in one process, over the HTTP API, over NATS; an NL query to 50 states
beside a single-state query; and the switch's own work per query, with a canned gateway.

Targets (issue 17): >= 10,000 queries/s end to end on 2 cores, at least 0.7 of the bare
gateway; p99 <= 10 ms at 1,000 queries/s offered, in the embedded layout and over NATS; an NL
query to 50 states <= 5x a single-state query; the HTTP API >= 5,000 queries/s.

    .venv/bin/python bench/network.py [--residents N] [--queries N] [--clients N]
        [--seconds S] [--data DIR] [--nats URL] [--pool N] [--profile]

Closed loop: N clients each send their next query when the last is answered (queries/s,
latency p50/p99). Open loop: queries are offered at a fixed rate whatever the answers do, and
latency counts from when each was due, so a backlog shows. With --data, the built nations are
kept in DIR and reused; each run works on fresh copies. The NATS figures need a server
(--nats, default $STATELINE_TEST_NATS_URL or nats://127.0.0.1:4222); the gateway then runs in
a process of its own. --profile prints where the switch's own time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import multiprocessing
import os
import pstats
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import TYPE_CHECKING

from nats.js.errors import NotFoundError

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.dmv.store import Sample
from stateline.gateway import Gateway
from stateline.gateway.worker import GatewayThread
from stateline.protocol import STATES, Message, read
from stateline.roles.status import read_roles
from stateline.roles.switching import RemoteSwitch
from stateline.sim.nation import NationError, build_nation, read_manifest
from stateline.switch import Switch, SwitchConfig
from stateline.switch.credentials import read_tokens
from stateline.transport.base import Envelope, LateHandler, Reply, reply_of
from stateline.transport.inprocess import InProcessTransport
from stateline.web import client

if TYPE_CHECKING:
    from stateline.transport.nats import Names

STATE = "WA"
FIFTY = tuple(sorted(set(STATES) - {"DC", "GU", "PR", "VI"}))
SENDERS = ("WASPD0100", "ORPPD0000", "AZDPS0000", "TXCBP0100", "NYHSI0100", "VTICE0900")
BATCH = 100
SEED = 3
CONFIG = SwitchConfig(wait_seconds=30.0, retry_seconds=3600.0)
Work = list[tuple[str, str]]
"""(message text, sender's token)"""
Submit = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Figures:
    rate: float
    p50: float
    p99: float
    """Seconds."""

    def line(self, label: str, base: float) -> str:
        return (f"  {label:<44}{self.rate:>9,.0f} /s  {self.rate / base:>5.2f}   "
                f"p50 {self.p50 * 1e3:7.2f} ms  p99 {self.p99 * 1e3:8.2f} ms")


def figures(latencies: Sequence[float], seconds: float) -> Figures:
    ordered = sorted(latencies)
    return Figures(len(ordered) / seconds, ordered[len(ordered) // 2],
                   ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


def texts(samples: list[Sample], count: int, destination: str = STATE) -> list[tuple[str, str]]:
    """(sender, text): half DQ by OLN, the rest DQ by name and DOB, RQ by plate and by VIN."""
    rng = random.Random(1)
    out = []
    for _ in range(count):
        s, sender = rng.choice(samples), rng.choice(SENDERS)
        head = f"{sender}.{destination}.TXT\n"
        out.append((sender, rng.choice((
            f"DQ.{head}OLN/{s.oln}", f"DQ.{head}OLN/{s.oln}",
            f"DQ.{head}NAM/{s.name}.DOB/{s.dob}.SEX/{s.sex}",
            f"RQ.{head}LIC/{s.plate}.LIY/{s.plate_year}.LIT/{s.plate_type}",
            f"RQ.{head}VIN/{s.vin}"))))
    return out


def kept_nation(folder: Path, name: str, states: tuple[str, ...], residents: int,
                kept: Path | None) -> DataDir:
    """A fresh copy of the nation kept in `kept`/name (built there when missing or another
    size), or one built in `folder` without --data."""
    data = DataDir(folder / name)
    if kept is None:
        build_nation(data, states, residents=residents, seed=SEED)
        return data
    source = DataDir(kept / name)
    try:
        manifest = read_manifest(source)
        fits = (manifest.residents, manifest.seed, manifest.states) == (residents, SEED, states)
    except NationError:
        fits = False
    if not fits:
        build_nation(source, states, residents=residents, seed=SEED, force=True)
    shutil.copytree(source.root, data.root)
    return data


async def closed_loop(submit: Submit, work: Work, clients: int) -> Figures:
    latencies: list[float] = []
    queue = iter(work)

    async def one_client() -> None:
        for raw, token in queue:
            start = time.perf_counter()
            await submit(raw, token)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return figures(latencies, time.perf_counter() - start)


async def open_loop(submit: Submit, work: Work, rate: float) -> Figures:
    """Each query is sent when due (1/rate apart); its latency counts from then."""
    async def timed(raw: str, token: str, due: float) -> float:
        await submit(raw, token)
        return time.perf_counter() - due

    start = time.perf_counter()
    tasks = []
    for n, (raw, token) in enumerate(work):
        due = start + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(timed(raw, token, due)))
    latencies = await asyncio.gather(*tasks)
    return figures(latencies, time.perf_counter() - start)


def switch_submit(switch: Switch | RemoteSwitch) -> Submit:
    async def submit(raw: str, token: str) -> None:
        if not (await switch.submit(raw, token)).accepted:
            raise RuntimeError(f"rejected: {raw!r}")
    return submit


def bare(data: DataDir, pairs: list[tuple[str, str]]) -> tuple[float, Figures]:
    """The gateway called directly: batches of 100 (queries/s), then one call at a time."""
    messages = [read(text) for _, text in pairs]
    with Gateway(data, STATE) as gateway:
        gateway.handle_many(messages[:BATCH])  # warm
        start = time.perf_counter()
        for first in range(0, len(messages), BATCH):
            gateway.handle_many(messages[first:first + BATCH])
        batched = len(messages) / (time.perf_counter() - start)
        latencies = []
        for message in messages[:1_000]:
            begun = time.perf_counter()
            gateway.handle(message)
            latencies.append(time.perf_counter() - begun)
    return batched, figures(latencies, sum(latencies))


Offered = Sequence[tuple[float, Work]]
"""Open loops to run: (queries/s, the queries)."""


async def loads(submit: Submit, work: Work, offered: Offered,
                clients: int) -> tuple[Figures, list[Figures]]:
    """A warm-up, the closed loop, then each open loop."""
    await closed_loop(submit, work[:200], clients)
    closed = await closed_loop(submit, work[200:], clients)
    return closed, [await open_loop(submit, queries, rate) for rate, queries in offered]


async def in_process(data: DataDir, work: Work, offered: Offered,
                     clients: int) -> tuple[Figures, list[Figures]]:
    transport = InProcessTransport(data, [STATE])
    transport.start()
    switch = Switch(data, transport, config=CONFIG, retry=False)
    await switch.start()
    try:
        return await loads(switch_submit(switch), work, offered, clients)
    finally:
        await switch.close()


@contextlib.asynccontextmanager
async def served(data: DataDir, *extra: str) -> AsyncIterator[tuple[str, RemoteSwitch]]:
    """`stateline serve` as a user runs it (each role a process of its own), once every
    gateway's standby is loaded: its URL, and the switch process's door for local callers."""
    server = subprocess.Popen([sys.executable, "-c", "from stateline.cli import main; main()",
                               "serve", "--data", str(data.root), "--port", "0",
                               "--no-dashboard", *extra], stdout=subprocess.DEVNULL)
    try:
        while (found := client.running(data)) is None:
            if server.poll() is not None:
                raise RuntimeError("stateline serve did not start")
            await asyncio.sleep(0.1)
        run = Path(json.loads(client.serve_file(data).read_text())["run"])
        standby = "--no-standby" not in extra
        while standby and not all(role.standby for role in read_roles(run)
                                  if role.role == "gateway"):
            await asyncio.sleep(0.1)
        switch = RemoteSwitch(data, run / "switch.sock", run)
        await switch.start()
        try:
            yield found.url, switch
        finally:
            await switch.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(120)


async def supervised(data: DataDir, work: Work, offered: Offered, clients: int,
                     http_work: Work) -> tuple[Figures, list[Figures], Figures]:
    """The embedded layout: closed and open loops into the switch process over its local
    socket, then the HTTP API's closed loop on the same network."""
    async with served(data) as (url, switch):
        closed, opened = await loads(switch_submit(switch), work, offered, clients)
        http = await over_http(url, http_work, clients)
    return closed, opened, http


async def over_http(url: str, work: Work, clients: int) -> Figures:
    """The web front of a running network, each client on its own keep-alive connection.
    The requests are written by hand: a general client (httpx) spent more CPU per request
    than the server on this 2-core machine, and measured itself."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]
    idle = asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]()
    for connection in connections:
        idle.put_nowait(connection)

    async def submit(raw: str, token: str) -> None:
        reader, writer = await idle.get()
        body = raw.encode()
        writer.write(f"POST /api/messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                     f"Bearer {token}\r\nContent-Type: text/plain\r\nContent-Length: "
                     f"{len(body)}\r\n\r\n".encode() + body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                      if line.lower().startswith("content-length:"))
        await reader.readexactly(length)
        idle.put_nowait((reader, writer))
        if not head.startswith("HTTP/1.1 200"):
            raise RuntimeError(head.split("\r\n", 1)[0])

    try:
        return (await loads(submit, work, (), clients))[0]
    finally:
        for _, writer in connections:
            writer.close()


def asked(message: Message) -> tuple[object, ...]:
    """What a canned answer is looked up by: the query, whatever its header and routing."""
    return message.key, message.sender, message.fields


class Canned:
    """A carrier that answers each query at once from a table of the gateway's own answers:
    what is left is the switch's own work (authenticate, parse, route, stamp, log, merge)."""

    def __init__(self, answers: dict[tuple[object, ...], Reply]) -> None:
        self.answers = answers

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        return replace(self.answers[asked(envelope.message)], message_id=envelope.message_id)

    def on_late(self, handler: LateHandler) -> None:
        pass

    async def close(self) -> None:
        pass


async def switch_alone(data: DataDir, work: Work, clients: int, profile: bool) -> Figures:
    """The switch with a canned gateway: its own cost per query (and, with `profile`, where
    that time goes)."""
    worker = GatewayThread(data, STATE)
    worker.start()
    answers: dict[tuple[object, ...], Reply] = {}
    try:
        for raw, _ in work:
            message = read(raw)
            if asked(message) not in answers:
                answers[asked(message)] = reply_of("", STATE, await worker.answer(message))
    finally:
        await asyncio.to_thread(worker.stop)
    switch = Switch(data, Canned(answers), config=CONFIG, retry=False)
    await switch.start()
    try:
        submit = switch_submit(switch)
        await closed_loop(submit, work[:200], clients)
        if not profile:
            return await closed_loop(submit, work[200:], clients)
        profiler = cProfile.Profile()
        profiler.enable()
        measured = await closed_loop(submit, work[200:], clients)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return measured
    finally:
        await switch.close()


def _nats_gateway(root: str, url: str, prefix: str, ready: Event, stop: Event) -> None:
    """A gateway process on NATS, until `stop` is set."""
    from stateline.gateway.worker import GatewayThread
    from stateline.transport.nats import Names, connect
    from stateline.transport.nats_gateway import NatsGateway

    async def serve() -> None:
        worker = GatewayThread(DataDir(Path(root)), STATE)
        worker.start()
        bus = await connect(url, f"bench-{STATE}")
        gateway = NatsGateway(worker, bus, Names(prefix))
        await gateway.start()
        ready.set()
        await asyncio.to_thread(stop.wait)
        await gateway.stop()
        await bus.close()
        worker.stop()

    asyncio.run(serve())


async def over_nats(data: DataDir, url: str, work: Work, offered: Offered,
                    clients: int) -> tuple[Figures, list[Figures]] | str:
    """The switch here, WA's gateway in another process, NATS between; or why not."""
    try:
        from stateline.transport.nats import Names, connect
        from stateline.transport.nats_switch import switch_over_nats
    except ImportError as error:
        return f"no NATS carrier in this tree ({error})"
    try:
        await (await connect(url, "bench-probe")).close()
    except Exception as error:
        return str(error)
    names = Names(f"bench{secrets.token_hex(4)}")
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    gateway = context.Process(target=_nats_gateway,
                              args=(str(data.root), url, names.prefix, ready, stop))
    gateway.start()
    try:
        if not await asyncio.to_thread(ready.wait, 60):
            return "the NATS gateway process did not start"
        async with switch_over_nats(data, url, names, config=CONFIG, retry=False) as (switch, _):
            return await loads(switch_submit(switch), work, offered, clients)
    finally:
        stop.set()
        gateway.join(60)
        await _remove_streams(url, names)


async def _remove_streams(url: str, names: Names) -> None:
    from stateline.transport.nats import connect

    bus = await connect(url, "bench-cleanup")
    js = bus.jetstream()
    for stream in (names.late_stream, names.held_stream, f"KV_{names.leases}"):
        with contextlib.suppress(NotFoundError):  # a stream never made
            await js.delete_stream(stream)
    await bus.close()


async def fan_out(data: DataDir, rounds: int, pool: int) -> tuple[Figures, Figures,
                                                                 Figures, Figures]:
    """One client, a single-state DQ then the same DQ to NL (50 states), `rounds` times: with
    every gateway in one process beside the switch, then in the embedded layout with the
    states shared among `pool` gateway processes (the legs go out in parallel)."""
    transport = InProcessTransport(data)
    transport.start()
    switch = Switch(data, transport, config=CONFIG, retry=False)
    await switch.start()
    try:
        here = await fan_rounds(switch, data, rounds)
    finally:
        await switch.close()
    async with served(data, "--gateway-processes", str(pool), "--no-standby") as (_, remote):
        apart = await fan_rounds(remote, data, rounds)
    return (*here, *apart)


async def fan_rounds(switch: Switch | RemoteSwitch, data: DataDir,
                     rounds: int) -> tuple[Figures, Figures]:
    store = open_store(data.dmv_url(STATE))
    found = store.sample(rounds, seed=5)
    store.close()
    if not found:
        raise SystemExit(f"{STATE} of the 50-state nation holds no licence: "
                         "raise --fifty-residents")
    samples = [found[n % len(found)] for n in range(rounds)]  # a small state repeats people
    token = read_tokens(data)["ORPPD0000"]
    single: list[float] = []
    nl: list[float] = []
    for n, person in enumerate(samples):
        for destination, into in ((STATE, single), ("NL", nl)):
            start = time.perf_counter()
            sub = await switch.submit(f"DQ.ORPPD0000.{destination}.TXT\nOLN/{person.oln}",
                                      token)
            if n:  # the first round opens what is cold
                into.append(time.perf_counter() - start)
            if sub.pending:
                raise RuntimeError(f"{destination}: no answer from {sub.pending}")
    return figures(single, sum(single)), figures(nl, sum(nl))


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


async def run(args: argparse.Namespace, folder: Path) -> None:
    data = kept_nation(folder, "one", (STATE,), args.residents, args.data)
    store = open_store(data.dmv_url(STATE))
    samples = store.sample(2_000, seed=5)
    store.close()
    tokens = read_tokens(data)
    rates = (args.rate, args.light)
    pairs = texts(samples, args.queries + 200 + int(sum(rates) * args.seconds))
    work = [(text, tokens[sender]) for sender, text in pairs]
    offered, first = [], args.queries + 200
    for rate in rates:
        offered.append((rate, work[first:first + int(rate * args.seconds)]))
        first += int(rate * args.seconds)
    print(f"{STATE}: {args.residents:,} residents; {args.queries:,} queries (DQ by OLN, by name "
          f"and DOB, RQ by plate, by VIN) from police, state police, CBP, HSI and ICE; "
          f"{args.clients} clients; open loops of {args.seconds:g} s; "
          f"{len(os.sched_getaffinity(0))} CPUs")
    print(f"  {'':<44}{'rate':>12}  ratio")
    base, single = bare(data, pairs[:args.queries])
    print(f"  {'bare gateway, handle_many batches of 100':<44}{base:>9,.0f} /s   1.00   "
          "(decide, look up, audit commit: the baseline)")
    print(single.line("bare gateway, one handle() call at a time", base))
    alone = await switch_alone(data, work[:args.queries + 200], args.clients, args.profile)
    print(alone.line(f"switch alone (canned gateway), {args.clients} clients", base)
          + f"   {1e6 / alone.rate:.0f} us/query")
    closed, opened = await in_process(data, work[:args.queries + 200], offered, args.clients)
    print(closed.line(f"one process, {args.clients} clients", base))
    for (rate, _), figure in zip(offered, opened, strict=True):
        print(figure.line(f"one process, {rate:,.0f}/s offered", base))
    apart, apart_opened, http = await supervised(
        data, work[:args.queries + 200], offered, args.clients, work[:args.queries // 4 + 200])
    print(apart.line(f"processes (serve), {args.clients} clients", base))
    for (rate, _), figure in zip(offered, apart_opened, strict=True):
        print(figure.line(f"processes (serve), {rate:,.0f}/s offered", base))
    print(http.line(f"HTTP API (serve, loopback), {args.clients} clients", base))
    nats = await over_nats(data, args.nats, work[:args.queries // 4 + 200], offered,
                           args.clients)
    if isinstance(nats, str):
        print(f"  over NATS: skipped: {nats}")
    else:
        print(nats[0].line(f"over NATS, {args.clients} clients", base))
        for (rate, _), figure in zip(offered, nats[1], strict=True):
            print(figure.line(f"over NATS, {rate:,.0f}/s offered", base))
    fifty = kept_nation(folder, "fifty", FIFTY, args.fifty_residents, args.data)
    single, nl, single_apart, nl_apart = await fan_out(fifty, args.rounds, args.pool)
    print(f"50 states, {args.fifty_residents:,} residents each; one client, "
          f"{args.rounds - 1} rounds of a DQ by OLN to {STATE} then the same DQ to NL:")
    for where, one, every in (("one process", single, nl),
                              (f"processes, {args.pool} gateway processes", single_apart,
                               nl_apart)):
        print(one.line(f"{where}: single state ({STATE})", one.rate))
        print(every.line(f"{where}: NL, 50 states, one summary", one.rate)
              + f"   p50 {every.p50 / one.p50:.1f}x single")
    heavy = apart_opened[0]
    ratio = nl_apart.p50 / single_apart.p50
    judged = [
        (f">= 10,000 queries/s end to end (processes, {args.clients} clients)",
         apart.rate >= 10_000 and apart.rate / base >= 0.7,
         f"{apart.rate:,.0f}/s, {apart.rate / base:.2f} of the bare gateway; one process "
         f"{closed.rate:,.0f}/s"),
        (f"p99 <= 10 ms at {args.rate:,.0f} queries/s offered (processes)",
         heavy.p99 <= 0.010 and heavy.rate >= 0.95 * args.rate,
         f"p99 {heavy.p99 * 1e3:.1f} ms, {heavy.rate:,.0f}/s answered; one process "
         f"p99 {opened[0].p99 * 1e3:.1f} ms"),
    ]
    if isinstance(nats, str):
        print(f"target: p99 <= 10 ms at {args.rate:,.0f} queries/s over NATS: NOT MEASURED")
    else:
        over = nats[1][0]
        judged.append((f"p99 <= 10 ms at {args.rate:,.0f} queries/s over NATS",
                       over.p99 <= 0.010 and over.rate >= 0.95 * args.rate,
                       f"p99 {over.p99 * 1e3:.1f} ms, {over.rate:,.0f}/s answered"))
    judged += [
        ("NL to 50 states <= 5x a single-state query (p50, processes)", ratio <= 5,
         f"{ratio:.1f}x: {nl_apart.p50 * 1e3:.1f} ms against {single_apart.p50 * 1e3:.1f} ms;"
         f" one process {nl.p50 / single.p50:.1f}x"),
        (f"HTTP API >= 5,000 queries/s ({args.clients} clients)", http.rate >= 5_000,
         f"{http.rate:,.0f}/s"),
    ]
    for label, met, detail in judged:
        print(f"target: {label}: {verdict(met)} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--fifty-residents", type=int, default=200,
                        help="residents in each state of the 50-state nation")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1_000.0,
                        help="open loop: queries/s (the target's rate)")
    parser.add_argument("--light", type=float, default=200.0,
                        help="a second open loop's queries/s, below saturation")
    parser.add_argument("--seconds", type=float, default=3.0, help="open loop: how long")
    parser.add_argument("--rounds", type=int, default=101, help="fan-out rounds")
    parser.add_argument("--pool", type=int, default=2,
                        help="gateway processes the 50 states share in the fan-out")
    parser.add_argument("--profile", action="store_true",
                        help="print where the switch's own time goes (cProfile)")
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the built nations here and reuse them in later runs")
    parser.add_argument("--nats", default=os.environ.get("STATELINE_TEST_NATS_URL")
                        or "nats://127.0.0.1:4222")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
