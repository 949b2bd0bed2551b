"""A small nation for the dashboard: WA holds HSI for review and blocks ICE, NY owes notices;
accounts of every role; decisions already logged; a test client that signs in."""

from __future__ import annotations

import importlib.util
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, Result
from stateline.notices import NoticeBook, new_york_style_notices
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import Field, Message
from stateline.sim.nation import build_nation
from stateline.web import create_dashboard_app
from stateline.web.accounts import Accounts, Role

with warnings.catch_warnings():
    # Starlette 1.10 asks for httpx2, which the pinned dependencies do not carry yet; its test
    # client still works on httpx, so only this import's notice is silenced.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
IN_STATE, ICE, HSI = "WASPD0100", "VTICE0900", "NYHSI0100"
ACCOUNTS = {
    "cora": (Role.COORDINATOR, "WA"),
    "rey": (Role.REVIEWER, "WA"),
    "aud": (Role.AUDITOR, "WA"),
    "vic": (Role.VIEWER, "WA"),
    "ally": (Role.COORDINATOR, "ALL"),
    "nyla": (Role.COORDINATOR, "NY"),
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


needs_reports = pytest.mark.skipif(
    not has_module("stateline.transparency.report"),
    reason="stateline.transparency.report (public reports) is not in this tree yet")
needs_briefing = pytest.mark.skipif(
    not has_module("stateline.transparency.briefing"),
    reason="stateline.transparency.briefing is not in this tree yet")


def dq(sender: str, oln: str, state: str = "WA") -> Message:
    return Message("DQ", sender, (state,), "C1", (Field("OLN", oln),))


@dataclass
class Nation:
    data: DataDir
    samples: list[Sample]
    held: list[str]

    def ask(self, sender: str, state: str = "WA", n: int = 0) -> Result:
        with Gateway(self.data, state) as gateway:
            return gateway.handle(dq(sender, self.samples[n].oln, state))


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Nation:
    data = DataDir(tmp_path_factory.mktemp("web-nation"))
    build_nation(data, ("WA", "NY"), residents=200, seed=5)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="setup")
    with data.config("NY").open("a") as config:
        config.write(new_york_style_notices())
    for name, (role, state) in ACCOUNTS.items():
        Accounts(data).add(name, role, state, PASSWORD)
    store = open_store(data.dmv_url("WA"))
    try:
        samples = store.sample(4, seed=1)
    finally:
        store.close()
    built = Nation(data, samples, [])
    built.ask(IN_STATE)
    built.ask(ICE)
    for n in range(3):
        reference = built.ask(HSI, n=n).reference
        assert reference is not None
        built.held.append(reference)
    ny = open_store(data.dmv_url("NY"))
    try:
        person = ny.sample(1, seed=2)[0]
        with Gateway(data, "NY") as gateway:
            result = gateway.handle(dq(HSI, person.oln, "NY"))
            body = dict(gateway.log.entry(result.seq).body)
        with NoticeBook(data, "NY") as book:
            book.queue_for(result.seq, body, ny, datetime.now(UTC))
    finally:
        ny.close()
    return built


class Browser:
    """A test client that keeps cookies and knows the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str) -> httpx.Response:
        answer = self.client.get(path, headers={"accept": "text/html"})
        found = _CSRF.search(answer.text)
        if found:
            self.csrf = found.group(1)
        return answer

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        page = self.client.get("/login", headers={"accept": "text/html"})
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        return self.client.post("/login", data={"token": token.group(1), "name": name,
                                                "password": password, "next": "/"},
                                headers={"accept": "text/html"}, follow_redirects=False)

    def post(self, path: str, data: dict[str, object], csrf: bool = True) -> httpx.Response:
        fields = {**data, **({"csrf": self.csrf} if csrf else {})}
        return self.client.post(path, data=fields, headers={"accept": "text/html"},
                                follow_redirects=False)


@pytest.fixture
def app_client(nation: Nation) -> Iterator[TestClient]:
    with TestClient(create_dashboard_app(nation.data)) as client:
        yield client


@pytest.fixture
def browser(app_client: TestClient) -> Browser:
    return Browser(app_client)


def signed_in(browser: Browser, name: str) -> Browser:
    answer = browser.login(name)
    assert answer.status_code == 303, answer.text
    browser.get("/states/WA/" if ACCOUNTS[name][1] != "NY" else "/states/NY/")
    return browser
