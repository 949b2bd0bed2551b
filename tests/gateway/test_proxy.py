"""The gateway in front of a state's own DMV responder (proxy mode), as an agency, the DMV and
an auditor notice it: it decides before anything reaches the DMV, forwards allowed queries
unchanged, withholds what policy withholds from the DMV's answer, fails closed on anything it
cannot read, and audits every query, over real sockets to responders in threads.

The gateway's data folder holds no DMV store at all: its records are the responder's.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import shutil
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from stateline.datadir import ConfigFileError, DataDir
from stateline.dmv import Sample, open_store
from stateline.dmv.layouts import LAYOUTS
from stateline.dmv.responder import Responder
from stateline.gateway import Gateway, Result
from stateline.gateway.lookup import SEARCHES
from stateline.gateway.upstream import HttpWire, TcpWire, UpstreamTimeout, UpstreamUnreachable
from stateline.notices import NoticeBook, new_york_style_notices
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.protocol import Field, Message, Outcome, format_text, read, read_answer

IN_STATE = "WASPD0100"
OUT_OF_STATE = "ORPPD0000"
ICE = "VTICE0900"
HSI = "NYHSI0100"
FRAME = struct.Struct(">I")

def counted(name: str, **labels: str) -> float:
    """A counter's value in this process (counters only grow, so tests compare before and
    after)."""
    return REGISTRY.get_sample_value(f"stateline_upstream_{name}_total", labels) or 0.0


Answer = Callable[[str], bytes | None]
"""What a responder sends back for a query's text: the bytes on the wire, or None (silence)."""


@dataclass
class Dmv:
    """A state's DMV records and the folder the gateway runs in, which holds none of them."""

    gateway_data: DataDir
    records: DataDir
    people: list[Sample]
    config: str
    """WA's config.toml as built, before any [dmv] section."""

    def responder(self, layout: str = "labeled") -> Responder:
        store = open_store(self.records.dmv_url("WA"))
        return Responder(store, SEARCHES, LAYOUTS[layout], "WAOLN0000", "WALIC0000")

    def configure(self, upstream: str, *, field_map: str = "labeled", timeout: float = 2.0,
                  extra: str = "") -> None:
        self.gateway_data.config("WA").write_text(
            f'{self.config}\n[dmv]\nupstream = "{upstream}"\ntimeout = {timeout}\n'
            f'connections = 4\nfield_map = "{field_map}"\n{extra}')


@pytest.fixture(scope="module")
def dmv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dmv]:
    from stateline.sim.nation import build_nation

    data = DataDir(tmp_path_factory.mktemp("proxy-gateway"))
    build_nation(data, ("WA",), residents=300, seed=12)
    records = DataDir(tmp_path_factory.mktemp("proxy-dmv"))
    records.state_dir("WA").mkdir(parents=True)
    shutil.copy(data.dmv_db("WA"), records.dmv_db("WA"))
    for leftover in data.state_dir("WA").glob("dmv.db*"):
        leftover.unlink()
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    store = open_store(records.dmv_url("WA"))
    try:
        people = store.sample(6, seed=2)
    finally:
        store.close()
    yield Dmv(data, records, people, data.config("WA").read_text())
    assert not data.dmv_db("WA").exists(), "a gateway in proxy mode opened a local store"


@dataclass
class FakeDmv:
    """A DMV responder on a real TCP socket, one thread per connection, recording each query
    it receives; `answer` says what goes back."""

    answer: Answer
    hang_up: bool = False
    """Close each connection once its answer is sent."""
    received: list[str] = field(default_factory=list)
    server: socket.socket = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            while True:
                head = _exactly(connection, 4)
                if head is None:
                    return
                body = _exactly(connection, FRAME.unpack(head)[0])
                if body is None:
                    return
                text = body.decode("utf-8")
                with self.lock:
                    self.received.append(text)
                    reply = self.answer(text)
                if reply is None:
                    self.closing.wait()
                    return
                connection.sendall(reply)
                if self.hang_up:
                    return

    def close(self) -> None:
        self.closing.set()
        with contextlib.suppress(OSError):  # wakes the accepting thread, so the port frees
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()


def _exactly(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = connection.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def framed(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return FRAME.pack(len(data)) + data


def real(responder: Responder, edit: Callable[[str], str] = lambda text: text) -> Answer:
    return lambda query: framed(edit(responder.answer(query)))


@contextlib.contextmanager
def running(answer: Answer, hang_up: bool = False) -> Iterator[FakeDmv]:
    fake = FakeDmv(answer, hang_up)
    try:
        yield fake
    finally:
        fake.close()


@contextlib.contextmanager
def proxied(dmv: Dmv, answer: Answer, *, hang_up: bool = False,
            **settings: object) -> Iterator[tuple[Gateway, FakeDmv]]:
    with running(answer, hang_up) as fake:
        dmv.configure(fake.url, **settings)  # type: ignore[arg-type]
        with Gateway(dmv.gateway_data, "WA") as gateway:
            gateway.policy.check()
            yield gateway, fake


def dq(sender: str, oln: str, *more: Field) -> Message:
    return Message("DQ", sender, ("WA",), "C7", (Field("OLN", oln), *more))


def body(result: Result) -> str:
    assert result.response.body is not None
    return result.response.body


def entry(gateway: Gateway, result: Result) -> dict[str, object]:
    return dict(gateway.log.entry(result.seq).body)


def ssn_forms(person: Sample, dmv: Dmv) -> tuple[str, str]:
    """The person's SSN as each layout writes it, read from the DMV itself."""
    store = open_store(dmv.records.dmv_url("WA"))
    try:
        (hit,) = store.by_oln(person.oln)
    finally:
        store.close()
    ssn = hit.elements["ssn"][0].value
    return ssn, f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_policy_decides_first_and_withholds_from_the_dmvs_answer(dmv: Dmv, layout: str) -> None:
    person = dmv.people[0]
    with proxied(dmv, real(dmv.responder(layout)), field_map=layout) as (gateway, fake):
        asked = [dq(ICE, person.oln), dq(HSI, person.oln), dq(OUT_OF_STATE, person.oln,
                 Field("IMQ", "Y")), dq(IN_STATE, person.oln, Field("IMQ", "Y"))]
        denied, held, partial, released = gateway.handle_many(asked)
        audited, released_entry = entry(gateway, partial), entry(gateway, released)
    assert (denied.outcome, held.outcome) == (Outcome.DENIED, Outcome.HELD)
    assert sorted(fake.received) == sorted([format_text(asked[2]), format_text(asked[3])]), \
        "only allowed queries reach the DMV (at once, so in any order), each as it came"
    assert partial.outcome is Outcome.PARTIAL and partial.photos == ()
    assert read_answer(body(partial)).records[0].withheld == ("credential", "ssn", "photo")
    for form in ssn_forms(person, dmv):
        assert form not in body(partial)
    assert released.outcome is Outcome.RELEASED
    assert released.photos and released.photos[0].startswith(b"\x89PNG")
    assert any(form in body(released) for form in ssn_forms(person, dmv))
    assert audited["records"] == [person.oln]
    assert audited["withheld"] == ["credential", "ssn", "photo"]
    assert audited["photo_released"] is False and released_entry["photo_released"] is True


def test_vehicle_records_are_audited_by_vin(dmv: Dmv) -> None:
    person = dmv.people[1]
    query = Message("RQ", OUT_OF_STATE, ("WA",), None, (Field("VIN", person.vin),))
    with proxied(dmv, real(dmv.responder("prefixed")), field_map="prefixed") as (gateway, _):
        result = gateway.handle(query)
        assert result.outcome is Outcome.RELEASED and result.response.key == "RR"
        assert f"VIN/{person.vin}" in body(result) and "ODL/" not in body(result)
        assert entry(gateway, result)["records"] == [person.vin]


def test_a_held_request_reaches_the_dmv_only_when_released(dmv: Dmv) -> None:
    person = dmv.people[2]
    with proxied(dmv, real(dmv.responder())) as (gateway, fake):
        held = gateway.handle(dq(HSI, person.oln), message_id="H1")
        assert held.outcome is Outcome.HELD and fake.received == []
        assert held.reference is not None
        released = gateway.release(held.reference, "coordinator")
        assert len(fake.received) == 1 and f"OLN/{person.oln}" in fake.received[0]
        assert released.outcome is Outcome.PARTIAL
        assert f"OLN/{person.oln}" in body(released) and "SOC/" not in body(released)
        assert entry(gateway, released)["records"] == [person.oln]


def test_a_field_the_map_does_not_know_is_withheld_counted_and_named(
        dmv: Dmv, caplog: pytest.LogCaptureFixture) -> None:
    def with_extra(text: str) -> str:
        return text.replace("SEX: ", "MOTHERS MAIDEN NAME: ZYXWVUTS\nSEX: ")

    person = dmv.people[3]
    field = {"state": "WA", "field": "MOTHERS MAIDEN NAME:"}
    before = counted("unmapped_fields", **field)
    with proxied(dmv, real(dmv.responder(), with_extra)) as (gateway, _), \
            caplog.at_level(logging.WARNING, "stateline.gateway.proxy"):
        result = gateway.handle(dq(IN_STATE, person.oln))
        audited = entry(gateway, result)
    assert result.outcome is Outcome.PARTIAL, "everything else goes to an in-state agency"
    assert "ZYXWVUTS" not in body(result)
    (record,) = read_answer(body(result)).records
    assert record.withheld == ("unmapped",) and "UNMAPPED: WITHHELD BY WA POLICY" in body(result)
    assert any(form in body(result) for form in ssn_forms(person, dmv))
    assert audited["withheld"] == ["unmapped"]
    assert counted("unmapped_fields", **field) == before + 1
    assert any("MOTHERS MAIDEN NAME:" in r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING)


def test_an_upstream_timeout_is_answered_as_could_not_answer_and_audited(dmv: Dmv) -> None:
    person = dmv.people[0]
    before = counted("answers", state="WA", result="timeout")
    with proxied(dmv, lambda query: None, timeout=0.3) as (gateway, fake):
        results = gateway.handle_many([dq(IN_STATE, person.oln), dq(OUT_OF_STATE, person.oln)])
        assert len(fake.received) == 2
        for result in results:
            assert result.outcome is Outcome.ERROR
            assert "WA COULD NOT ANSWER; TRY AGAIN LATER" in body(result)
            audited = entry(gateway, result)
            assert audited["outcome"] == "error" and audited["records"] == []
            assert str(audited["error"]).startswith("UpstreamTimeout:")
    assert counted("answers", state="WA", result="timeout") == before + 2


def test_a_responder_that_is_down_is_answered_as_an_error_until_it_is_back(dmv: Dmv) -> None:
    person = dmv.people[4]
    with running(real(dmv.responder())) as fake:
        port = fake.server.getsockname()[1]
    dmv.configure(f"tcp://127.0.0.1:{port}")  # nothing listens there now
    with Gateway(dmv.gateway_data, "WA") as gateway:
        down = gateway.handle(dq(IN_STATE, person.oln))
        assert down.outcome is Outcome.ERROR
        assert str(entry(gateway, down)["error"]).startswith("UpstreamUnreachable:")
        with _listening_on(port, real(dmv.responder())):
            back = gateway.handle(dq(IN_STATE, person.oln))
        assert back.outcome is Outcome.RELEASED


@contextlib.contextmanager
def _listening_on(port: int, answer: Answer) -> Iterator[FakeDmv]:
    fake = FakeDmv.__new__(FakeDmv)
    fake.answer, fake.hang_up, fake.received, fake.lock = answer, False, [], threading.Lock()
    fake.closing = threading.Event()
    fake.server = socket.create_server(("127.0.0.1", port))
    threading.Thread(target=fake._accept, daemon=True).start()
    try:
        yield fake
    finally:
        fake.close()


SECRET = "000-99-1234"


def _garbage(person: Sample) -> dict[str, Answer]:
    """Answers that cannot be read, each carrying a value that must never leave."""

    def dr(text: str, to: str = OUT_OF_STATE, key: str = "DR", control: str = "C7") -> bytes:
        return framed(f"{key}.WAOLN0000.{to}.*{control}.TXT\n{text}")

    record = f"--- RECORD 1 OF 1 ---\nLICENSE NO: {person.oln}\nSSN: {SECRET}"
    return {
        "not a message": lambda q: framed(f"HELLO {SECRET}"),
        "addressed to another agency": lambda q: dr(record, to=IN_STATE),
        "another key's answer": lambda q: dr(record, key="RR"),
        "another query's answer": lambda q: dr(record, control="C8"),
        "a line that is no field": lambda q: dr(f"{record}\nSEE ALSO {SECRET}"),
        "text before any record": lambda q: dr(f"SSN: {SECRET}\n{record}"),
        "a record with no license number": lambda q: dr(f"--- RECORD 1 OF 1 ---\nSSN: {SECRET}"),
        "a photo that is no PNG": lambda q: dr(f"{record}\nPHOTO: SGVsbG8gd29ybGQ="),
        "a date that is none": lambda q: dr(f"{record}\nBIRTH DATE: 31/31/{SECRET[-4:]}"),
        "bytes that are not UTF-8": lambda q: framed(b"DR.WAOLN0000 \xff\xfe " +
                                                     SECRET.encode()),
        "a frame over the limit": lambda q: FRAME.pack(1 << 30) + SECRET.encode(),
        "a connection closed mid-answer": lambda q: FRAME.pack(500) + SECRET.encode(),
    }


@pytest.mark.parametrize("case", sorted(_garbage(Sample("", "", "", "", "", "", "", ""))))
def test_an_answer_that_cannot_be_read_is_never_passed_through(dmv: Dmv, case: str) -> None:
    person = dmv.people[0]
    answer = _garbage(person)[case]
    with proxied(dmv, answer, hang_up=True, timeout=1.0) as (gateway, _):
        result = gateway.handle(dq(OUT_OF_STATE, person.oln))
        audited = entry(gateway, result)
    assert result.outcome is Outcome.ERROR and result.photos == ()
    assert SECRET not in body(result) and SECRET[-4:] not in body(result)
    assert "WA COULD NOT ANSWER" in body(result)
    assert audited["outcome"] == "error" and audited["records"] == []
    assert str(audited["error"]).startswith(("UnreadableAnswer:", "UpstreamUnreachable:"))
    assert SECRET not in str(audited), "the log keeps errors for good: none may quote the DMV"


def test_the_requesters_bad_terms_are_refused_before_anything_is_forwarded(dmv: Dmv) -> None:
    query = Message("DQ", IN_STATE, ("WA",), None, (Field("NAM", "DOE,JANE"),
                                                    Field("DOB", "19990231")))
    with proxied(dmv, real(dmv.responder())) as (gateway, fake):
        result = gateway.handle(query)
        assert fake.received == []
        assert result.outcome is Outcome.ERROR and "DOB" in body(result)
        assert entry(gateway, result)["reject"] is not None


class _HttpDmv(http.server.BaseHTTPRequestHandler):
    answer: Callable[[str], tuple[int, str]]

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        status, text = self.answer(self.rfile.read(size).decode("utf-8"))
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextlib.contextmanager
def http_dmv(answer: Callable[[str], tuple[int, str]]) -> Iterator[str]:
    handler = type("Handler", (_HttpDmv,), {"answer": staticmethod(answer)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dmv"
    finally:
        server.shutdown()
        server.server_close()


def test_an_http_responder_is_asked_with_a_post_and_its_errors_fail_closed(dmv: Dmv) -> None:
    person = dmv.people[1]
    responder = dmv.responder("prefixed")
    lock = threading.Lock()

    def ok(text: str) -> tuple[int, str]:
        with lock:
            return 200, responder.answer(text)

    with http_dmv(ok) as url:
        dmv.configure(url, field_map="prefixed")
        with Gateway(dmv.gateway_data, "WA") as gateway:
            result = gateway.handle(dq(OUT_OF_STATE, person.oln))
    assert result.outcome is Outcome.PARTIAL and f"OLN/{person.oln}" in body(result)
    assert "SOC/" not in body(result)
    with http_dmv(lambda text: (500, f"SOC/{SECRET}")) as url:
        dmv.configure(url, field_map="prefixed")
        with Gateway(dmv.gateway_data, "WA") as gateway:
            failed = gateway.handle(dq(IN_STATE, person.oln))
            assert str(entry(gateway, failed)["error"]).startswith("UpstreamUnreachable:")
    assert failed.outcome is Outcome.ERROR and SECRET not in body(failed)


def test_a_court_order_matches_the_subject_as_the_dmv_knows_them(dmv: Dmv) -> None:
    """The order names a person by name and date of birth; the gateway asks the DMV which
    license that is, so a query naming that person beside someone else's license number (a
    decoy) gets nothing, and the person's own records are released as the order says."""
    person, other = dmv.people[2], dmv.people[3]
    born = date(int(person.dob[:4]), int(person.dob[4:6]), int(person.dob[6:]))
    policy_store.apply(dmv.gateway_data, "WA",
                       preset("block-dhs-immigration-except-court-order").text(), who="test")
    try:
        with Registry(dmv.gateway_data, "WA") as registry:
            registry.add_order("2026-CV-0001", Subject(name=person.name, dob=born),
                               date.today(), date.today() + timedelta(days=30), ori=ICE,
                               elements=("identity", "license"))
        with proxied(dmv, real(dmv.responder())) as (gateway, fake):
            asked = f"DQ.{ICE}.WA.TXT\nNAM/{person.name}.DOB/{person.dob}"
            ordered = gateway.handle(read(asked))
            refused = gateway.handle(read(f"{asked}.OLN/{other.oln}"))
            audited = entry(gateway, ordered)
        assert ordered.outcome is Outcome.PARTIAL, body(ordered)
        assert f"OLN/{person.oln}" in body(ordered) and "ADDRESS: WITHHELD" in body(ordered)
        assert audited["court_order"] == "2026-CV-0001"
        assert audited["records"] == [person.oln]
        assert refused.outcome is Outcome.DENIED
        assert not any(other.oln in text for text in fake.received)
    finally:
        with Registry(dmv.gateway_data, "WA") as registry:
            registry.revoke_order("2026-CV-0001")
        policy_store.apply(dmv.gateway_data, "WA", preset("block-ice-review-hsi").text(),
                           who="test")


def test_a_notice_is_addressed_from_the_dmvs_record(dmv: Dmv) -> None:
    person = dmv.people[5]
    duty = new_york_style_notices().replace('categories = ["ICE", "HSI", "CBP", "USCIS", '
                                            '"DHS-other"]', 'categories = ["ICE"]')
    with running(real(dmv.responder())) as fake:
        dmv.configure(fake.url, extra=duty)
        try:
            with Gateway(dmv.gateway_data, "WA") as gateway:
                denied = gateway.handle(dq(ICE, person.oln))
            assert denied.outcome is Outcome.DENIED
            assert all(text.startswith("DQ.WAOLN0000.") for text in fake.received), \
                "the notice's lookup is the state's own, never the denied query"
            with NoticeBook(dmv.gateway_data, "WA") as book:
                (notice,) = book.notices("all")
        finally:
            dmv.configure(fake.url)
    assert (notice.seq, notice.person.oln) == (denied.seq, person.oln)
    assert notice.person.street and notice.person.city


@pytest.mark.parametrize(("setting", "problem"), [
    ('upstream = "ftp://127.0.0.1:21"', "upstream must be"),
    ('upstream = "tcp://127.0.0.1"', "upstream must be"),
    ('upstream = "tcp://127.0.0.1:1"\nfield_map = "labeled"\ntimeout = 0', "timeout must be"),
    ('upstream = "tcp://127.0.0.1:1"\nfield_map = "labeled"\nconnections = 0',
     "connections must be"),
    ('upstream = "tcp://127.0.0.1:1"', "needs field_map"),
    ('upstream = "tcp://127.0.0.1:1"\nfield_map = "labeled"\ntimeout_s = 1', "no setting"),
    ('upstream = "tcp://127.0.0.1:1"\nfield_map = "cobol"', "no field map is shipped"),
    ('upstream = "tcp://127.0.0.1:1"\nfield_map = "missing.toml"', "cannot read field map"),
])
def test_a_dmv_section_that_cannot_be_used_stops_the_start_with_its_reason(
        dmv: Dmv, setting: str, problem: str) -> None:
    dmv.gateway_data.config("WA").write_text(f"{dmv.config}\n[dmv]\n{setting}\n")
    try:
        with pytest.raises(ConfigFileError, match=problem), Gateway(dmv.gateway_data, "WA"):
            pass
    finally:
        dmv.gateway_data.config("WA").write_text(dmv.config)


def test_a_field_map_of_the_states_own_is_read_from_its_folder(dmv: Dmv, tmp_path: Path) -> None:
    own = LAYOUTS["labeled"].field_map.read_text().replace('"SSN:" = { element = "ssn", '
                                                           'as = "SOC" }\n', "")
    (dmv.gateway_data.state_dir("WA") / "dol.fieldmap.toml").write_text(own)
    person = dmv.people[0]
    before = counted("unmapped_fields", state="WA", field="SSN:")
    try:
        with proxied(dmv, real(dmv.responder()), field_map="dol.fieldmap.toml") as (gateway, _):
            result = gateway.handle(dq(IN_STATE, person.oln))
        assert counted("unmapped_fields", state="WA", field="SSN:") == before + 1
        assert not any(form in body(result) for form in ssn_forms(person, dmv))
    finally:
        (dmv.gateway_data.state_dir("WA") / "dol.fieldmap.toml").unlink()


def test_a_silent_dmv_costs_a_batch_of_notices_one_timeout_and_leaves_each_a_gap(
        dmv: Dmv) -> None:
    duty = new_york_style_notices().replace('categories = ["ICE", "HSI", "CBP", "USCIS", '
                                            '"DHS-other"]', 'categories = ["ICE"]')
    with running(lambda query: None) as fake:
        dmv.configure(fake.url, timeout=0.3, extra=duty)
        try:
            with Gateway(dmv.gateway_data, "WA") as gateway:
                denied = gateway.handle_many([dq(ICE, p.oln) for p in dmv.people[:3]])
            with NoticeBook(dmv.gateway_data, "WA") as book:
                gaps = {gap.seq: gap.why for gap in book.gaps()}
        finally:
            dmv.configure(fake.url)
    assert [r.outcome for r in denied] == [Outcome.DENIED] * 3
    assert len(fake.received) == 1, "after one timeout the other lookups fail at once"
    assert all("could not be searched" in gaps[r.seq] for r in denied)


def test_the_unknown_fields_count_is_served_on_metrics(dmv: Dmv) -> None:
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from stateline.gateway.http import create_app
    from stateline.gateway.tokens import TokenBook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    def with_extra(text: str) -> str:
        return text.replace("SEX: ", "EYE COLOR CODE: 7\nSEX: ")

    with TokenBook(dmv.gateway_data, "WA") as book:
        token = book.issue("test", "metrics")[0]
    before = counted("unmapped_fields", state="WA", field="EYE COLOR CODE:")
    with running(real(dmv.responder(), with_extra)) as fake:
        dmv.configure(fake.url)
        app = create_app(dmv.gateway_data, "WA")
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            sent = client.post("/messages", content=f"DQ.{IN_STATE}.WA.TXT\nOLN/"
                               f"{dmv.people[0].oln}", headers={"Content-Type": "text/plain"})
            metrics = client.get("/metrics").text
    assert sent.status_code == 200 and "UNMAPPED: WITHHELD" in sent.text
    served = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(metrics) for s in family.samples}
    assert served[("stateline_upstream_unmapped_fields_total",
                   (("field", "EYE COLOR CODE:"), ("state", "WA")))] == before + 1
    assert served[("stateline_queries_total",
                   (("outcome", "partial"), ("role", "gateway"), ("state", "WA")))] >= 1


def test_an_answer_without_the_control_field_is_still_read(dmv: Dmv) -> None:
    """A DMV behind a state switch may drop the control field; it may never swap it."""
    person = dmv.people[0]
    dropped = real(dmv.responder(), lambda text: text.replace(".*C7.TXT", ".TXT", 1))
    with proxied(dmv, dropped) as (gateway, _):
        result = gateway.handle(dq(OUT_OF_STATE, person.oln))
    assert result.outcome is Outcome.PARTIAL and result.response.control == "C7"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_text_and_xml_queries_meet_the_same_policy_in_front_of_the_dmv(
        dmv: Dmv, layout: str) -> None:
    """Blocked ICE, and SSN and photo withheld from an out-of-state agency, whether the query
    came as legacy text or as Nlets XML; only the XML caller's answer is XML."""
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from stateline.gateway.http import create_app
    from stateline.gateway.tokens import TokenBook
    from stateline.protocol import format_xml, read_xml_answer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    person = dmv.people[1]
    with TokenBook(dmv.gateway_data, "WA") as book:
        token = book.issue("test", "xml in proxy mode")[0]
    with running(real(dmv.responder(layout))) as fake:
        dmv.configure(fake.url, field_map=layout)
        app = create_app(dmv.gateway_data, "WA")
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            answers = {}
            for sender in (ICE, OUT_OF_STATE):
                text = f"DQ.{sender}.WA.TXT\nOLN/{person.oln}.IMQ/Y"
                answers[sender] = (
                    client.post("/messages", content=text,
                                headers={"Content-Type": "text/plain"}),
                    client.post("/messages", content=format_xml(read(text)),
                                headers={"Content-Type": "application/xml"}))
    for sender, outcome in ((ICE, "denied"), (OUT_OF_STATE, "partial")):
        by_text, by_xml = answers[sender]
        assert by_text.headers["Stateline-Outcome"] == by_xml.headers["Stateline-Outcome"] \
            == outcome
        assert by_xml.headers["content-type"].startswith("application/xml")
        assert read_xml_answer(by_xml.text) == read_answer(read(by_text.text).body or "")
        for form in ssn_forms(person, dmv):
            assert form not in by_text.text and form not in by_xml.text
    partial = read_xml_answer(answers[OUT_OF_STATE][1].text).records[0]
    assert {"ssn", "photo"} <= set(partial.withheld)
    assert fake.received == [f"DQ.{OUT_OF_STATE}.WA.TXT\nOLN/{person.oln}.IMQ/Y"] * 2, \
        "ICE's queries never reached the DMV; the others went as legacy text"


def test_a_frame_left_on_a_kept_connection_is_never_the_next_querys_answer() -> None:
    """A responder that sends one frame too many must not answer the next query with it."""
    replies = {"FIRST": framed("ANSWER 1") + framed("LEFTOVER"), "SECOND": framed("ANSWER 2")}
    with running(lambda query: replies[query]) as fake:
        wire = TcpWire("127.0.0.1", fake.server.getsockname()[1], 1)
        try:
            first = wire.exchange("FIRST", time.monotonic() + 2)
            second = wire.exchange("SECOND", time.monotonic() + 2)
        finally:
            wire.close()
    assert (first, second) == ("ANSWER 1", "ANSWER 2")


def _swapped(person: Sample, other: Sample) -> Callable[[str], str]:
    def swap(text: str) -> str:
        for mine, theirs in ((person.oln, other.oln), (person.name, other.name),
                             (person.dob, other.dob), (person.vin, other.vin)):
            text = text.replace(mine, theirs)
        return text
    return swap


@pytest.mark.parametrize("terms", ["OLN", "NAM+DOB", "VIN"])
def test_an_answer_about_someone_the_query_does_not_name_is_never_passed_on(
        dmv: Dmv, terms: str) -> None:
    """Well addressed, the right key and control, but another person's or vehicle's record:
    a stray frame, or a DMV that mixed up its queries."""
    person, other = dmv.people[0], dmv.people[1]
    assert person.dob != other.dob
    responder = dmv.responder("prefixed")
    fields = {"OLN": (Field("OLN", person.oln),), "VIN": (Field("VIN", person.vin),),
              "NAM+DOB": (Field("NAM", person.name), Field("DOB", person.dob))}[terms]
    query = Message("RQ" if terms == "VIN" else "DQ", OUT_OF_STATE, ("WA",), "C7", fields)
    swapped = _swapped(person, other)
    with proxied(dmv, lambda text: framed(responder.answer(swapped(text))),
                 field_map="prefixed") as (gateway, fake):
        result = gateway.handle(query)
        audited = entry(gateway, result)
    assert fake.received == [format_text(query)]
    assert result.outcome is Outcome.ERROR and "WA COULD NOT ANSWER" in body(result)
    assert other.oln not in body(result) and other.vin not in body(result)
    assert str(audited["error"]).startswith("UnreadableAnswer:") and audited["records"] == []


def test_a_record_naming_two_license_numbers_is_never_read_under_a_court_order(
        dmv: Dmv) -> None:
    """An order for S; the DMV's record says OLN X first and OLN S after: the answer is
    refused whole, not released under the order and audited as X's."""
    person, decoy = dmv.people[2], "X0000000001"
    responder = dmv.responder("prefixed")
    policy_store.apply(dmv.gateway_data, "WA",
                       preset("block-dhs-immigration-except-court-order").text(), who="test")

    def two_olns(text: str) -> bytes:
        answer = responder.answer(text)
        return framed(answer.replace("\nOLN/", f"\nOLN/{decoy}.NAM/OTHER,PERSON\nOLN/", 1))

    try:
        with Registry(dmv.gateway_data, "WA") as registry:
            registry.add_order("2026-CV-0002", Subject(oln=person.oln), date.today(),
                               date.today() + timedelta(days=30), ori=ICE,
                               elements=("identity", "license"))
        with proxied(dmv, two_olns, field_map="prefixed") as (gateway, _):
            result = gateway.handle(dq(ICE, person.oln))
            audited = entry(gateway, result)
        assert result.outcome is Outcome.ERROR and decoy not in body(result)
        assert str(audited["error"]).startswith("UnreadableAnswer:")
        assert audited["records"] == []
    finally:
        with Registry(dmv.gateway_data, "WA") as registry:
            registry.revoke_order("2026-CV-0002")
        policy_store.apply(dmv.gateway_data, "WA", preset("block-ice-review-hsi").text(),
                           who="test")


@contextlib.contextmanager
def _dripping(every: float) -> Iterator[str]:
    """An HTTP responder that sends its answer's head one byte at a time, `every` seconds
    apart: each read is quick, the whole answer never is."""
    server, stop = socket.create_server(("127.0.0.1", 0)), threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"A" * 40 + b"\r\n\r\n":
                    if stop.wait(every):
                        return
                    connection.sendall(bytes([byte]))

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/dmv"
    finally:
        stop.set()
        server.close()


def test_an_http_answer_dripped_a_byte_at_a_time_stops_at_the_deadline() -> None:
    with _dripping(0.3) as url:
        wire = HttpWire(url, 1)
        try:
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout):
                wire.exchange(f"DQ.{IN_STATE}.WA.TXT\nOLN/X1", started + 0.5)
            took = time.monotonic() - started
        finally:
            wire.close()
    assert took < 0.5 + 0.4, f"the deadline was 0.5 s; the error came after {took:.1f} s"


class _Stuck:
    """A wire that ignores its deadline until released."""

    url = "tcp://127.0.0.1:1"

    def __init__(self, released: threading.Event) -> None:
        self.released = released

    def exchange(self, text: str, deadline: float) -> str:
        self.released.wait()
        raise UpstreamUnreachable("released")

    def close(self) -> None:
        self.released.set()


def test_a_batch_waits_no_longer_than_its_deadline_for_a_wire_that_overstays(
        dmv: Dmv, monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()
    threading.Timer(5.0, released.set).start()  # no hang when the batch would wait forever
    monkeypatch.setattr("stateline.gateway.proxy.open_wire", lambda settings: _Stuck(released))
    dmv.configure("tcp://127.0.0.1:1", timeout=0.3)
    try:
        with Gateway(dmv.gateway_data, "WA") as gateway:
            started = time.monotonic()
            results = gateway.handle_many([dq(IN_STATE, p.oln) for p in dmv.people[:2]])
            took = time.monotonic() - started
            released.set()
            errors = [str(entry(gateway, r)["error"]) for r in results]
    finally:
        released.set()
    assert [r.outcome for r in results] == [Outcome.ERROR] * 2
    assert all(error.startswith("UpstreamTimeout:") for error in errors)
    assert took < 0.3 + 1.5, f"the deadline was 0.3 s; the batch was answered after {took:.1f} s"
