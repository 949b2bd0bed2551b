"""Queries per second through a state's gateway in proxy mode (decide, forward to the state's
own DMV responder, read its answer with the field map, withhold, durable audit entry), beside
the same queries sent straight to that responder, in the same run and at the same number of
connections.

Target (issue 16: the gateway in front of a state's own DMV system): the gateway's overhead,
its time per query beyond the responder's own, within 1.5x the responder's own time per query.

    .venv/bin/python bench/proxy.py [--residents N] [--queries N] [--rounds N]
                                    [--wires tcp,http] [--connections N]

The responder is `stateline dmv responder` in a process of its own, as a state would run its
DMV system; the gateway runs in this process, batches of 100 as `bench/gateway.py` drives it.
With --rounds N, direct and proxied passes take turns N times; the median round (by ratio) is
judged, since on a shared machine one pass can land in another's busy spell.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stateline.datadir import DataDir, upstream_settings
from stateline.dmv import open_store
from stateline.dmv.store import Sample
from stateline.gateway import Gateway
from stateline.gateway.upstream import Wire, open_wire
from stateline.policy.presets import preset
from stateline.policy.store import apply
from stateline.protocol import Message, Outcome, format_text, read
from stateline.sim.nation import build_nation

STATE = "WA"
SENDERS = ("WASPD0100", "ORPPD0000", "AZDPS0000")
"""Agencies the policy answers: every query reaches the DMV, as overhead is measured on."""
BATCH = 100
LAYOUT = {"tcp": "labeled", "http": "prefixed"}
TARGET = 1.5


def query_mix(samples: list[Sample], count: int) -> list[Message]:
    """Half DQ by OLN (a photo asked for in one of five), 15% DQ by name and DOB, 25% RQ by
    plate, 10% RQ by VIN."""
    rng = random.Random(1)
    kinds = ("oln",) * 50 + ("name",) * 15 + ("plate",) * 25 + ("vin",) * 10
    found = []
    for n in range(count):
        kind, s, sender = rng.choice(kinds), rng.choice(samples), rng.choice(SENDERS)
        text = {
            "oln": f"DQ.{sender}.{STATE}.TXT\nOLN/{s.oln}" + (".IMQ/Y" if n % 5 == 0 else ""),
            "name": f"DQ.{sender}.{STATE}.TXT\nNAM/{s.name}.DOB/{s.dob}.SEX/{s.sex}",
            "plate": f"RQ.{sender}.{STATE}.TXT\nLIC/{s.plate}.LIY/{s.plate_year}"
                     f".LIT/{s.plate_type}",
            "vin": f"RQ.{sender}.{STATE}.TXT\nVIN/{s.vin}",
        }[kind]
        found.append(read(text))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def responder(records: DataDir, wire: str, log: Path) -> Iterator[int]:
    """`stateline dmv responder` in a process of its own, until the block ends."""
    port = free_port()
    flags = ["--tcp"] if wire == "tcp" else []
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from stateline.cli import main; main()", "dmv", "responder",
             "--data", str(records.root), "--state", STATE, "--port", str(port),
             "--format", LAYOUT[wire], *flags], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the responder did not start:\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def direct_pass(wire: Wire, texts: list[str], connections: int) -> float:
    """The responder's own rate: the same texts over the gateway's own wire, `connections` in
    flight, as the gateway sends them."""

    def one(text: str) -> str:
        return wire.exchange(text, time.monotonic() + 10.0)

    start = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        answers = list(pool.map(one, texts))
    rate = len(texts) / (time.perf_counter() - start)
    assert all(answer.startswith(("DR.", "RR.")) for answer in answers)
    return rate


def gateway_pass(gateway: Gateway, messages: list[Message]) -> tuple[float, int]:
    start = time.perf_counter()
    failed = 0
    for first in range(0, len(messages), BATCH):
        results = gateway.handle_many(messages[first:first + BATCH])
        failed += sum(1 for r in results if r.outcome is Outcome.ERROR)
    return len(messages) / (time.perf_counter() - start), failed


def configure(data: DataDir, base: str, wire: str, port: int, connections: int) -> None:
    upstream = f"tcp://127.0.0.1:{port}" if wire == "tcp" else f"http://127.0.0.1:{port}/dmv"
    data.config(STATE).write_text(f'{base}\n[dmv]\nupstream = "{upstream}"\ntimeout = 10.0\n'
                                  f'connections = {connections}\nfield_map = "{LAYOUT[wire]}"\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wires", default="tcp,http", help="tcp, http or both")
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    wires = [w.strip() for w in args.wires.split(",") if w.strip()]
    if not wires or any(w not in LAYOUT for w in wires):
        raise SystemExit("--wires takes tcp, http or both")
    with tempfile.TemporaryDirectory() as folder:
        data = DataDir(Path(folder) / "gateway")
        start = time.perf_counter()
        build_nation(data, (STATE,), residents=args.residents, seed=3)
        built = time.perf_counter() - start
        apply(data, STATE, preset("cj-baseline").text(), who="bench")
        records = DataDir(Path(folder) / "dmv")
        records.state_dir(STATE).mkdir(parents=True)
        shutil.copy(data.dmv_db(STATE), records.dmv_db(STATE))
        for leftover in data.state_dir(STATE).glob("dmv.db*"):
            leftover.unlink()
        store = open_store(records.dmv_url(STATE))
        messages = query_mix(store.sample(2_000, seed=5), args.queries)
        store.close()
        texts = [format_text(m) for m in messages]
        base = data.config(STATE).read_text()
        print(f"{STATE}: {args.residents:,} residents (built in {built:.0f} s), "
              f"{len(messages):,} queries: 50% DQ by OLN (a photo asked in one of five), 15% DQ "
              "by name and DOB, 25% RQ by plate, 10% RQ by VIN; every sender answered; "
              f"{args.connections} connections; batches of {BATCH}")
        verdicts = []
        for wire in wires:
            with responder(records, wire, Path(folder) / f"responder-{wire}.log") as port:
                configure(data, base, wire, port, args.connections)
                settings = upstream_settings(data, STATE)
                assert settings is not None
                direct_wire = open_wire(settings)
                directs, proxies, failed = [], [], 0
                with Gateway(data, STATE) as gateway:
                    gateway_pass(gateway, messages[:BATCH])  # connections opened, warm
                    for _ in range(max(args.rounds, 1)):
                        directs.append(direct_pass(direct_wire, texts, args.connections))
                        rate, errors = gateway_pass(gateway, messages)
                        proxies.append(rate)
                        failed += errors
                direct_wire.close()
            verdicts.append(report(wire, directs, proxies, failed))
        for line in verdicts:
            print(line)


def report(wire: str, directs: list[float], proxies: list[float], failed: int) -> str:
    """Print one wire's figures; return its target line."""
    ratios = [d / p for d, p in zip(directs, proxies, strict=True)]  # proxy time ÷ direct
    middle = sorted(range(len(ratios)), key=ratios.__getitem__)[(len(ratios) - 1) // 2]
    direct, proxy = directs[middle], proxies[middle]
    own, through = 1e6 / direct, 1e6 / proxy
    overhead = through - own
    spread = (f"   (rounds: {', '.join(f'{r:,.0f}' for r in proxies)})"
              if len(proxies) > 1 else "")
    print(f"  {wire} ({LAYOUT[wire]} layout): rounds' proxy/direct time ratios "
          + ", ".join(f"{r:.2f}" for r in ratios) + f" (median {statistics.median(ratios):.2f})")
    print(f"    responder, direct          {direct:>9,.0f} /s   {own:>7,.0f} µs a query")
    print(f"    gateway in proxy mode      {proxy:>9,.0f} /s   {through:>7,.0f} µs a query"
          f"{spread}")
    print(f"    gateway's overhead                       {overhead:>7,.0f} µs a query = "
          f"{overhead / own:.2f}x the responder's own; {failed} queries answered as errors")
    verdict = "MET" if overhead <= TARGET * own and failed == 0 else "NOT MET"
    return (f"target: {wire}: the gateway's overhead within {TARGET}x the responder's own time "
            f"per query: {verdict} ({overhead:,.0f} µs vs {own:,.0f} µs, "
            f"{overhead / own:.2f}x)")


if __name__ == "__main__":
    main()
