"""One fault, one state: `stateline serve` runs each role in a process of its own, and killing
one (SIGKILL, or a crash inside the policy engine) stops only what that process served. Its
traffic is held (`.02.`) and delivered in order once the supervisor has it back; every other
state keeps answering; no sender loses an answer or gets one twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stateline.audit import read_state_log
from stateline.audit.entries import EntryKind
from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.roles.status import RoleStatus, read_roles
from stateline.sim.nation import build_nation
from stateline.switch.credentials import read_tokens
from stateline.web import client

STATES = ("AZ", "OR", "WA")
SENDER = "ORPPD0000"
CRASHER = "AZDPS0000"
"""The sender whose query the planted engine fault fires on (once)."""
BACK_SECONDS = 1.0

CRASH_ONCE = textwrap.dedent('''
    """Planted by the test: the first policy check for {sender} in the WA gateway process
    crashes the process in native code, as a Cedar engine fault does."""
    import ctypes, os
    from pathlib import Path

    if os.environ.get("STATELINE_ROLE") == "gateway:WA":
        from stateline.policy import engine

        _decide = engine.PolicyEngine._decide

        def _crashing(self, request):
            marker = Path({marker!r})
            if "{sender}" in repr(request) and marker.exists():
                marker.unlink()
                ctypes.string_at(0)  # SIGSEGV
            return _decide(self, request)

        engine.PolicyEngine._decide = _crashing
''')


@dataclass
class Network:
    data: DataDir
    process: subprocess.Popen[str]
    url: str
    marker: Path

    @property
    def run(self) -> Path:
        return Path(json.loads(client.serve_file(self.data).read_text())["run"])

    def roles(self) -> dict[str, RoleStatus]:
        return {role.name: role for role in read_roles(self.run)}

    def token(self, ori: str) -> str:
        return read_tokens(self.data)[ori]


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> float:
    """Seconds until `condition` holds; fails the test after `seconds`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds:g} s"
        time.sleep(0.005)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    root = tmp_path_factory.mktemp("isolation")
    data = DataDir(root / "nation")
    build_nation(data, STATES, residents=200, seed=5)
    config = data.switch_config.read_text().replace("retry_seconds = 5", "retry_seconds = 0.2")
    data.switch_config.write_text(config)
    planted = root / "planted"
    planted.mkdir()
    marker = root / "crash-once"
    (planted / "sitecustomize.py").write_text(CRASH_ONCE.format(marker=str(marker),
                                                                sender=CRASHER))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(planted), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen(
        [sys.executable, "-c", "from stateline.cli import main; main()", "serve", "--data",
         str(data.root), "--port", "0", "--no-dashboard"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while (found := client.running(data)) is None:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "stateline serve did not come up"
            time.sleep(0.1)
        yield Network(data, process, found.url, marker)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def people(data: DataDir, state: str, count: int) -> list[Sample]:
    store = open_store(data.dmv_url(state))
    try:
        return store.sample(count, seed=2)
    finally:
        store.close()


async def send(http: httpx.AsyncClient, token: str, text: str) -> dict[str, object]:
    answer = await http.post("/api/messages", content=text,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def settled(network: Network, token: str, message_id: str,
            seconds: float = 30.0) -> dict[str, object]:
    """The submission once no state owes it an answer."""
    found: dict[str, object] = {}

    def done() -> bool:
        nonlocal found
        found = httpx.get(f"{network.url}/api/messages/{message_id}",
                          headers={"Authorization": f"Bearer {token}"}).json()
        return not found["pending"]

    wait_for(done, seconds, f"every answer to {message_id}")
    return found


def state_answers(submission: dict[str, object], state: str) -> list[dict[str, object]]:
    """The state's own answers (not the switch's status messages about it)."""
    responses = submission["responses"]
    assert isinstance(responses, list)
    return [r for r in responses if r["state"] == state and r["key"] != "SM"]


def decided(data: DataDir, state: str) -> list[str]:
    """The switch's message ids of the decisions in the state's audit log, in log order."""
    log = read_state_log(data, state)
    assert log is not None
    with log:
        entries = [log.entry(seq) for seq in range(log.size)]
    return [str(e.body.get("message_id")) for e in entries if e.kind is EntryKind.DECISION]


def kill_and_wait_back(network: Network, name: str, how: signal.Signals) -> float:
    """Seconds from the kill until the role is up again. A gateway is killed once its
    standby is loaded (as it is moments after any start)."""
    if name.startswith("gateway-"):
        wait_for(lambda: network.roles()[name].standby, 60, f"{name}'s standby")
    before = network.roles()[name]
    os.kill(before.pid, how)
    return wait_for(lambda: (now := network.roles().get(name)) is not None and now.up
                    and now.restarts > before.restarts, 10, f"{name} back")


def test_ps_shows_which_process_serves_which_state(network: Network) -> None:
    roles = network.roles()
    assert {"gateway-AZ", "gateway-OR", "gateway-WA", "switch", "web"} <= set(roles)
    for role in roles.values():
        line = Path(f"/proc/{role.pid}/cmdline").read_bytes().split(b"\0")
        words = [word.decode() for word in line if word]
        assert words[words.index("stateline.roles") + 1] == role.role
        if role.role == "gateway":
            assert role.states[0] in words
    assert len({role.pid for role in roles.values()}) == len(roles)


def test_sigkill_of_a_gateway_under_load_stops_only_its_state(network: Network) -> None:
    token = network.token(SENDER)
    wa, oregon = people(network.data, "WA", 40), people(network.data, "OR", 40)
    killed: dict[str, float] = {}

    async def load() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        async with httpx.AsyncClient(base_url=network.url, timeout=60) as http:
            async def stream(state: str, sample: list[Sample]) -> list[dict[str, object]]:
                out = []
                for n, person in enumerate(sample):
                    if state == "WA" and n == len(sample) // 2:
                        killed["back"] = await asyncio.to_thread(
                            kill_and_wait_back, network, "gateway-WA", signal.SIGKILL)
                    out.append(await send(http, token,
                                          f"DQ.{SENDER}.{state}.TXT\nOLN/{person.oln}"))
                return out

            async def busy(state: str, sample: list[Sample]) -> list[dict[str, object]]:
                parts = await asyncio.gather(*(stream(state, sample[i::4]) for i in range(4)))
                return [one for part in parts for one in part]

            first, second = await asyncio.gather(busy("WA", wa), busy("OR", oregon))
            return first, second

    to_wa, to_or = asyncio.run(load())
    assert killed["back"] < BACK_SECONDS
    for answer in to_or:  # Oregon never noticed
        assert not answer["pending"] and len(state_answers(answer, "OR")) == 1, answer
    for sent in to_wa:  # every WA query answered once, the held ones late
        final = settled(network, token, str(sent["message_id"]))
        assert len(state_answers(final, "WA")) == 1, final
    logged = decided(network.data, "WA")  # each decided and logged once, crash or not
    assert all(logged.count(str(sent["message_id"])) == 1 for sent in to_wa)


def test_a_crash_in_the_policy_engine_stops_only_that_gateway(network: Network) -> None:
    crasher, token = network.token(CRASHER), network.token(SENDER)
    target, other = people(network.data, "WA", 1)[0], people(network.data, "OR", 3)
    wait_for(lambda: network.roles()["gateway-WA"].standby, 60, "WA's standby")
    before = network.roles()["gateway-WA"]
    network.marker.touch()

    async def crash() -> tuple[dict[str, object], list[dict[str, object]]]:
        async with httpx.AsyncClient(base_url=network.url, timeout=60) as http:
            fatal = await send(http, crasher, f"DQ.{CRASHER}.WA.TXT\nOLN/{target.oln}")
            others = [await send(http, token, f"DQ.{SENDER}.OR.TXT\nOLN/{p.oln}")
                      for p in other]
            return fatal, others

    started = time.monotonic()
    fatal, others = asyncio.run(crash())
    assert not network.marker.exists(), "the planted fault never fired"
    wait_for(lambda: network.roles()["gateway-WA"].up, 10, "WA back")
    assert time.monotonic() - started < BACK_SECONDS + 1
    after = network.roles()["gateway-WA"]
    assert after.restarts == before.restarts + 1 and after.pid != before.pid
    held = [r for r in fatal["responses"] if r["key"] == "SM"]  # type: ignore[union-attr]
    assert held and ".02." in str(held[0]["text"])
    for answer in others:
        assert len(state_answers(answer, "OR")) == 1
    final = settled(network, crasher, str(fatal["message_id"]))
    (late,) = state_answers(final, "WA")
    assert late["late"] is True
    roles = network.roles()
    assert all(roles[name].restarts == 0 for name in ("gateway-AZ", "gateway-OR", "switch"))


def test_a_gateway_crash_is_back_within_a_second(network: Network) -> None:
    assert kill_and_wait_back(network, "gateway-AZ", signal.SIGSEGV) < BACK_SECONDS


def test_a_web_front_that_dies_is_back_on_the_same_port(network: Network) -> None:
    kill_and_wait_back(network, "web", signal.SIGKILL)
    answer = httpx.get(f"{network.url}/api/health", timeout=30)
    assert answer.status_code == 200 and client.running(network.data) is not None


def test_sigkill_of_the_switch_keeps_held_traffic_and_delivers_it_in_order(
        network: Network) -> None:
    token = network.token(SENDER)
    cli = [sys.executable, "-c", "from stateline.cli import main; main()", "status", "set",
           "WA", "--by", "test operator", "--data", str(network.data.root)]
    subprocess.run([*cli, "--out-of-service"], check=True, capture_output=True)
    sample = people(network.data, "WA", 5)
    with httpx.Client(base_url=network.url, timeout=60,
                      headers={"Authorization": f"Bearer {token}",
                               "Content-Type": "text/plain"}) as http:
        sent = [http.post("/api/messages", content=f"DQ.{SENDER}.WA.TXT\nOLN/{p.oln}").json()
                for p in sample]
    for one in sent:
        assert one["pending"] == ["WA"] and ".02." in one["responses"][0]["text"]
    kill_and_wait_back(network, "switch", signal.SIGKILL)
    subprocess.run([*cli, "--in-service", "--no-deliver"], check=True, capture_output=True)
    finals = [settled(network, token, str(one["message_id"])) for one in sent]
    for final in finals:
        (answer,) = state_answers(final, "WA")
        assert answer["late"] is True
    ids = [str(one["message_id"]) for one in sent]
    assert [i for i in decided(network.data, "WA") if i in ids] == ids
