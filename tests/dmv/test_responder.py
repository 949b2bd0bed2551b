"""A state's DMV system as `stateline dmv responder` plays it: layouts that differ the way real
states' answers do, each read back whole by the field map shipped with it, and a process that
answers over real sockets and shrugs off what is not a query."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stateline.datadir import DataDir
from stateline.dmv import DmvStore
from stateline.dmv.layouts import ANSWERED, LABELED, LAYOUTS, PREFIXED, write
from stateline.dmv.records import Hit
from stateline.dmv.responder import QUERY_LIMIT, UNAVAILABLE, Responder
from stateline.gateway.answers import read_records
from stateline.gateway.fieldmap import load_field_map
from stateline.gateway.lookup import SEARCHES
from stateline.gateway.upstream import UpstreamNoAnswer
from stateline.protocol import parse

LOADED = pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
FRAME = struct.Struct(">I")


def canonical(value: str) -> str:
    """A value as each layout may spell it: names with or without a space after the comma,
    SSNs with or without dashes."""
    return value.replace(", ", ",").replace("-", "") if re.fullmatch(r"[\d-]+|.*,.*", value) \
        else value


def shown(hit: Hit, elements: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    return {e: sorted((f.prefix, canonical(f.value)) for f in hit.elements[e])
            for e in elements if e in hit.elements and e != "photo"}


def hits_of(loaded: DmvStore) -> dict[str, list[Hit]]:
    return {"DR": loaded.by_oln("WDL0001", photo=True) + loaded.by_oln("WDL0004", photo=True)
            + loaded.by_oln("WDL0002"),
            "KR": loaded.by_oln("WDL0001", photo=True) + loaded.by_oln("WDL0003"),
            "RR": loaded.by_vin("1TESTVIN000000001") + loaded.by_vin("1TESTVIN000000099"),
            "DNR": loaded.by_name("SMITH,JOHN")}


@LOADED
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_is_read_back_whole_by_its_shipped_map(loaded: DmvStore,
                                                           layout: str) -> None:
    fmap = load_field_map(layout, Path("."))
    for key, hits in hits_of(loaded).items():
        kind = "vehicle" if key == "RR" else "driver"
        reading = read_records(write(LAYOUTS[layout], hits, key), fmap, kind)
        assert [h.record_id for h in reading.hits] == [h.record_id for h in hits], key
        for sent, got in zip(hits, reading.hits, strict=True):
            assert shown(got, ANSWERED[key]) == shown(sent, ANSWERED[key]), (layout, key)
            assert got.unmapped == ()
            assert got.owner == sent.owner
            wants_photo = "photo" in ANSWERED[key]
            assert got.photo == (sent.photo if wants_photo else None)


@LOADED
def test_the_layouts_differ_as_real_states_answers_do(loaded: DmvStore) -> None:
    (hit,) = loaded.by_oln("WDL0001", photo=True)
    prefixed, labeled = (write(layout, [hit], "DR").split("\n") for layout in (PREFIXED, LABELED))
    assert prefixed[1].startswith("OLN/") and labeled[1].startswith("NAME: "), "field order"
    assert any(line.startswith("SOC/") for line in prefixed)
    assert any(line.startswith("SSN: 000-00-0001") for line in labeled), "labels and spelling"
    assert any(line.startswith("DLT/") for line in prefixed), "a credential under its own label"
    image = prefixed.index("IMAGE 1 OF 1")  # after the record: an element of its own
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]{1,76}", line) for line in prefixed[image + 1:])
    assert not any("iVBOR" in line for line in prefixed[:image])
    assert any(line.startswith("PHOTO: iVBOR") for line in labeled), "photo inline"
    assert any(line == "BIRTH DATE: 03/14/1980" for line in labeled)


@LOADED
def test_the_responder_answers_any_query_and_never_raises(loaded: DmvStore) -> None:
    responder = Responder(loaded, SEARCHES, PREFIXED, "WAOLN0000", "WALIC0000")
    answer = parse(responder.answer("DQ.ORPPD0000.WA.*Q1.TXT\nNAM/SMYTHE,JOHN.DOB/19800314"))
    assert (answer.key, answer.sender, answer.destinations, answer.control) == \
        ("DR", "WAOLN0000", ("ORPPD0000",), "Q1")
    assert answer.body is not None and "OLN/WDL0001" in answer.body
    vehicle = parse(responder.answer("RQ.ORPPD0000.WA.TXT\nVIN/1TESTVIN000000001"))
    assert vehicle.sender == "WALIC0000" and "ODL/WDL0001" in (vehicle.body or "")
    assert parse(responder.answer("DQ.ORPPD0000.WA.TXT\nOLN/NOPE")).body == "NOT ON FILE"
    assert responder.answer("no header at all").startswith("REJECTED ")
    assert responder.answer("AM.ORPPD0000.WA.TXT\nHELLO").startswith("REJECTED AM")


@LOADED
def test_a_store_that_fails_is_answered_in_the_words_the_maps_list_as_unavailable(
        loaded: DmvStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[Hit]:
        raise OSError("disk gone")

    monkeypatch.setattr(loaded, "by_oln", broken)
    responder = Responder(loaded, SEARCHES, LABELED, "WAOLN0000", "WALIC0000")
    answer = parse(responder.answer("DQ.ORPPD0000.WA.TXT\nOLN/WDL0001"))
    assert answer.body == UNAVAILABLE
    for layout in LAYOUTS:
        with pytest.raises(UpstreamNoAnswer):
            read_records(answer.body, load_field_map(layout, Path(".")), "driver")


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    from stateline.sim.nation import build_nation

    data = DataDir(tmp_path_factory.mktemp("responder-nation"))
    build_nation(data, ("WA",), residents=200, seed=4)
    return data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def responder_process(data: DataDir, *flags: str) -> Iterator[tuple[int, Path]]:
    """`stateline dmv responder` in a process of its own, ready once it takes a connection;
    stopped with SIGTERM (killed if it will not stop) whatever the test did."""
    port = free_port()
    output = data.root / f"responder-{port}.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from stateline.cli import main; main()", "dmv", "responder",
             "--data", str(data.root), "--state", "WA", "--port", str(port), *flags],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, output.read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.05)
        yield port, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def exchange(connection: socket.socket, text: str) -> str:
    data = text.encode()
    connection.sendall(FRAME.pack(len(data)) + data)
    head = connection.recv(4, socket.MSG_WAITALL)
    return connection.recv(FRAME.unpack(head)[0], socket.MSG_WAITALL).decode()


def sample_oln(data: DataDir) -> str:
    from stateline.dmv import open_store

    store = open_store(data.dmv_url("WA"))
    try:
        return store.sample(1, seed=1)[0].oln
    finally:
        store.close()


def test_over_tcp_frames_it_answers_and_drops_a_frame_too_long_to_be_a_query(
        nation: DataDir) -> None:
    oln = sample_oln(nation)
    with responder_process(nation, "--tcp", "--format", "labeled") as (port, output):
        with socket.create_connection(("127.0.0.1", port), 10) as connection:
            first = exchange(connection, f"DQ.ORPPD0000.WA.TXT\nOLN/{oln}")
            second = exchange(connection, "RQ.ORPPD0000.WA.TXT\nVIN/NOSUCHVIN")
        assert f"LICENSE NO: {oln}" in first and second.endswith("NO RECORD FOUND")
        with socket.create_connection(("127.0.0.1", port), 10) as hostile:
            hostile.sendall(FRAME.pack(QUERY_LIMIT + 1) + b"x" * 100)
            assert hostile.recv(4) == b"", "the connection is closed, nothing answered"
        with socket.create_connection(("127.0.0.1", port), 10) as after:
            assert f"LICENSE NO: {oln}" in exchange(after, f"DQ.ORPPD0000.WA.TXT\nOLN/{oln}")
    assert "WA DMV responder stopped: 3 queries answered" in output.read_text()


def test_over_http_a_post_is_answered_in_the_body(nation: DataDir) -> None:
    oln = sample_oln(nation)
    with responder_process(nation) as (port, output):
        url = f"http://127.0.0.1:{port}/dmv"
        answered = httpx.post(url, content=f"DQ.ORPPD0000.WA.TXT\nOLN/{oln}.IMQ/Y", timeout=10)
        too_long = httpx.post(url, content=b"x" * (QUERY_LIMIT + 1), timeout=10)
    assert answered.status_code == 200
    message = parse(answered.text)
    assert message.key == "DR"
    assert f"OLN/{oln}" in (message.body or "") and "IMAGE 1 OF 1" in (message.body or "")
    assert too_long.status_code == 413
    assert "prefixed layout" in output.read_text()
