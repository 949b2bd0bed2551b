"""The network over NATS with its roles in processes of their own, as states run them: a
gateway answering the switch from another process, two sharing one state, a gateway killed
with SIGKILL and restarted while its messages are held, and the switch itself restarted while
it holds messages. Nothing is lost and no requester gets an answer twice."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from stateline.audit import EntryKind, open_state_log
from stateline.cli import app as cli
from stateline.datadir import DataDir
from stateline.sim.nation import build_nation
from stateline.switch import Switch
from stateline.switch.views import Submission
from stateline.transport.nats import Names
from stateline.transport.nats_switch import show, submit, switch_over_nats
from stateline.web import client as api

from .natsbus import LOCAL, names, nats_url, olns, switch_config, token

pytestmark = pytest.mark.nats
__all__ = ["names"]

CLI = [sys.executable, "-c", "from stateline.cli import main; main()"]
READY_SECONDS = 30.0
SENDERS = 8
ANSWERS_BEFORE_KILL = 30


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("nats-processes"))
    build_nation(data, ("WA", "OR"), residents=100, seed=9)
    switch_config(data, wait=4.0, retry=0.3)
    return data


class Running:
    """A `stateline` command in a process of its own, its output in a file."""

    def __init__(self, args: list[str], log: Path, ready: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen([*CLI, *args], stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_SECONDS
        while ready not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"{' '.join(args[:2])} did not start:\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> str:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
        return self.output()


class Gateways:
    """`stateline gateway serve --nats` processes, stopped whatever the test's end."""

    def __init__(self, data: DataDir, names: Names, folder: Path) -> None:
        self.data, self.names, self.folder = data, names, folder
        self.started: list[Running] = []

    def start(self, state: str = "WA") -> Running:
        log = self.folder / f"gateway-{state}-{len(self.started)}.log"
        running = Running(["gateway", "serve", "--data", str(self.data.root), "--state", state,
                           "--nats", nats_url(), "--prefix", self.names.prefix],
                          log, f"{state} gateway: NATS")
        self.started.append(running)
        return running

    def stop_all(self) -> None:
        for running in self.started:
            running.stop(signal.SIGKILL)


@pytest.fixture
def gateways(nation: DataDir, names: Names, tmp_path: Path) -> Iterator[Gateways]:
    started = Gateways(nation, names, tmp_path)
    yield started
    started.stop_all()


def answered(output: str) -> int:
    found = re.search(r"stopped \(SIGTERM\): ([\d,]+) queries answered", output)
    assert found, output
    return int(found.group(1).replace(",", ""))


def decisions(data: DataDir, state: str = "WA") -> list[str]:
    """The message id of every decision in the state's log, in the log's order."""
    with open_state_log(data, state) as log:
        return [str(e.body.get("message_id")) for e in
                (log.entry(seq) for seq in range(log.size)) if e.kind is EntryKind.DECISION]


def verified(data: DataDir, state: str = "WA") -> None:
    done = CliRunner().invoke(cli, ["audit", "verify", "--data", str(data.root), "--state",
                                    state])
    assert done.exit_code == 0, done.output


def answers(view: Submission) -> list[tuple[str, str, bool]]:
    """What a requester got from the state, status messages apart."""
    return [(r.key, r.outcome, r.late) for r in view.responses if r.key != "SM"]


async def settled(switch: Switch, ids: list[str], seconds: float = 30.0) -> None:
    """Until every message has its answer and nothing is held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not await switch.stores.holds.counts() and \
                all(switch.submission(i).pending == () for i in ids):
            return
        await asyncio.sleep(0.1)
    pending = {i: switch.submission(i).pending for i in ids if switch.submission(i).pending}
    pytest.fail(f"still owed after {seconds:g} s: {pending}")


def test_a_query_crosses_from_the_switch_to_a_gateway_in_another_process(
        nation: DataDir, names: Names, gateways: Gateways) -> None:
    secret = token(nation, LOCAL)
    wa, orgn = olns(nation, "WA", 1)[0], olns(nation, "OR", 1)[0]
    gateway = gateways.start("WA")

    async def scenario() -> tuple[Submission, Submission]:
        async with switch_over_nats(nation, nats_url(), names, retry=False) as (switch, _):
            there = await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{wa}", secret)
            nobody = await switch.submit(f"DQ.{LOCAL}.OR.TXT\nOLN/{orgn}", secret)
            return there, nobody

    there, nobody = asyncio.run(scenario())
    assert answers(there) == [("DR", "partial", False)] and there.pending == ()
    assert there.message_id in decisions(nation)
    assert [(r.key, r.outcome) for r in nobody.responses] == [("SM", "held")]
    assert answered(gateway.stop()) == 1


def test_two_gateway_processes_share_a_state(nation: DataDir, names: Names,
                                             gateways: Gateways) -> None:
    secret = token(nation, LOCAL)
    people = olns(nation, "WA", 10)
    one, two = gateways.start("WA"), gateways.start("WA")

    async def scenario() -> list[Submission]:
        async with switch_over_nats(nation, nats_url(), names, retry=False) as (switch, _):
            return list(await asyncio.gather(*(
                switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{people[n % 10]}", secret)
                for n in range(60))))

    sent = asyncio.run(scenario())
    assert all(len(answers(view)) == 1 and view.pending == () for view in sent)
    shares = answered(one.stop()), answered(two.stop())
    assert sum(shares) == 60 and min(shares) > 0, shares
    logged = decisions(nation)
    assert all(logged.count(view.message_id) == 1 for view in sent)
    verified(nation)


def test_a_gateway_killed_and_restarted_loses_and_repeats_nothing(
        nation: DataDir, names: Names, gateways: Gateways) -> None:
    secret = token(nation, LOCAL)
    people = olns(nation, "WA", 10)
    sent: list[str] = []
    answered_directly: list[str] = []
    stop = asyncio.Event()

    async def sender(switch: Switch, number: int) -> None:
        while not stop.is_set():
            view = await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{people[number]}", secret)
            sent.append(view.message_id)
            if answers(view):
                answered_directly.append(view.message_id)

    async def scenario() -> list[str]:
        gateways.start("WA")
        async with switch_over_nats(nation, nats_url(), names) as (switch, _):
            senders = [asyncio.create_task(sender(switch, n)) for n in range(SENDERS)]
            while len(answered_directly) < ANSWERS_BEFORE_KILL:
                await asyncio.sleep(0.01)
            gateways.started[-1].stop(signal.SIGKILL)  # under load: some queries in flight
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*senders)
            while_down = []
            for n in range(10):
                view = await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{people[n]}", secret)
                assert [(r.key, r.outcome) for r in view.responses] == [("SM", "held")]
                while_down.append(view.message_id)
            gateways.start("WA")
            await settled(switch, sent + while_down)
            held = 0
            for message_id in sent + while_down:
                view = switch.submission(message_id)
                assert len(answers(view)) == 1, view  # one answer each, never two
                held += any(r.outcome == "held" for r in view.responses)
            assert held > len(while_down)  # the kill caught queries in flight too
            return while_down

    while_down = asyncio.run(scenario())
    logged = decisions(nation)
    assert all(message_id in logged for message_id in sent + while_down)
    assert [i for i in logged if i in while_down] == while_down  # held, then in order
    verified(nation)


def test_held_messages_survive_a_switch_restart(nation: DataDir, names: Names,
                                                gateways: Gateways, tmp_path: Path) -> None:
    """The switch in a process of its own: agencies reach it through its HTTP API
    (`stateline send`) and over NATS; killed while it holds messages, and started again."""
    secret = token(nation, LOCAL)
    people = olns(nation, "OR", 6)
    args = ["switch", "serve", "--data", str(nation.root), "--nats", nats_url(),
            "--prefix", names.prefix, "--port", "0", "--no-dashboard"]
    switch = Running(args, tmp_path / "switch-1.log", "  API  POST")
    runner = CliRunner()

    def through_the_api(n: int) -> str:
        assert api.running(nation) is not None  # so `send` goes through the switch's API
        done = runner.invoke(cli, ["send", "--data", str(nation.root), "--from", LOCAL,
                                   "--token", secret, "--json",
                                   f"DQ.{LOCAL}.OR.TXT.OLN/{people[n]}"])
        assert done.exit_code == 0, done.output
        view = json.loads(done.stdout)
        assert [(r["key"], r["outcome"]) for r in view["responses"]] == [("SM", "held")]
        return str(view["message_id"])

    async def over_nats(n: int) -> str:
        view = await submit(nats_url(), names, f"DQ.{LOCAL}.OR.TXT.OLN/{people[n]}", secret)
        assert [(r["key"], r["outcome"]) for r in view["responses"]] == [("SM", "held")]
        return str(view["message_id"])

    held = [through_the_api(n) if n % 2 else asyncio.run(over_nats(n)) for n in range(6)]
    switch.stop(signal.SIGKILL)
    switch = Running(args, tmp_path / "switch-2.log", "6 messages held")
    gateways.start("OR")

    async def reading() -> None:
        deadline = time.monotonic() + 60
        views = []
        while time.monotonic() < deadline:
            views = [await show(nats_url(), names, i, secret) for i in held]
            if all(view["pending"] == [] for view in views):
                break
            await asyncio.sleep(0.2)
        for view in views:
            got = [(r["key"], r["outcome"], r["late"]) for r in view["responses"]]
            assert got == [("SM", "held", False), ("DR", "released", True)], view

    try:
        asyncio.run(reading())
        assert api.running(nation) is not None
        shown = runner.invoke(cli, ["messages", "show", held[1], "--data", str(nation.root),
                                    "--from", LOCAL, "--token", secret, "--json"])
        assert shown.exit_code == 0, shown.output
        assert [r["key"] for r in json.loads(shown.stdout)["responses"]] == ["SM", "DR"]
    finally:
        assert "switch stopped (SIGTERM)" in switch.stop()
    assert [i for i in decisions(nation, "OR") if i in held] == held


@pytest.fixture
def database() -> Iterator[str]:
    """A database of the test's own on the test server, dropped afterwards."""
    base = os.environ.get("STATELINE_TEST_POSTGRES_URL", "")
    if not base:
        pytest.skip("STATELINE_TEST_POSTGRES_URL is not set")
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.postgres
def test_a_gateway_on_postgresql_answers_over_nats(names: Names, database: str,
                                                   tmp_path: Path) -> None:
    data = DataDir(tmp_path / "nation")
    build_nation(data, ("WA",), residents=100, seed=9)
    switch_config(data)
    runner = CliRunner()
    serve = ["gateway", "serve", "--data", str(data.root), "--state", "WA", "--nats",
             nats_url(), "--prefix", names.prefix, "--db", database]
    refused = runner.invoke(cli, serve)
    assert refused.exit_code == 1 and "[audit] url is not set" in refused.output
    with data.config("WA").open("a") as config:
        config.write(f'\n[audit]\nurl = "{database}"\n')
    refused = runner.invoke(cli, serve)
    assert refused.exit_code == 1 and "stateline dmv copy" in refused.output
    copied = runner.invoke(cli, ["dmv", "copy", "--data", str(data.root), "--state", "WA",
                                 "--to", database])
    assert copied.exit_code == 0 and "copied to schema dmv_wa" in copied.output
    gateway = Running(serve, tmp_path / "gateway.log", "WA gateway: NATS")
    secret = token(data, LOCAL)

    async def scenario() -> Submission:
        async with switch_over_nats(data, nats_url(), names, retry=False) as (switch, _):
            return await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{olns(data, 'WA', 1)[0]}",
                                       secret)

    try:
        sent = asyncio.run(scenario())
    finally:
        assert answered(gateway.stop()) == 1
    assert answers(sent) == [("DR", "partial", False)]
    assert decisions(data) == [sent.message_id]  # read from PostgreSQL, as config.toml says
    verified(data)
