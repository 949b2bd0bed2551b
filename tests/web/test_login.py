"""Signing in and out as a coordinator notices it: pages need a session, wrong passwords get one
answer whoever the name belongs to, repeated failures are slowed and then refused, and every
attempt is in the audit log."""

from __future__ import annotations

import re
import warnings

from starlette.exceptions import StarletteDeprecationWarning

from stateline.audit import EntryKind, open_state_log
from stateline.commands.serve import server_config
from stateline.web import create_dashboard_app
from stateline.web.guard import MOST_FAILURES
from stateline.web.sessions import COOKIE

from .conftest import PASSWORD, Browser, Nation, signed_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def logins(nation: Nation, state: str = "WA") -> list[dict[str, object]]:
    with open_state_log(nation.data, state) as log:
        return [dict(e.body) for e in log.events([EntryKind.LOGIN])]


def test_a_page_that_needs_a_login_redirects_to_the_login_page(browser: Browser) -> None:
    answer = browser.client.get("/states/WA/policy", headers={"accept": "text/html"},
                                follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstates%2FWA%2Fpolicy"
    page = browser.client.get(answer.headers["location"], headers={"accept": "text/html"})
    assert "Sign in" in page.text


def test_without_a_browser_the_refusal_is_the_one_json_error_shape(browser: Browser) -> None:
    answer = browser.client.get("/states/WA/policy")
    assert answer.status_code == 401
    assert answer.json() == {"error": {"code": "login-required", "text": "sign in first"}}


def test_signing_in_lands_on_the_accounts_state_and_is_audited(browser: Browser,
                                                               nation: Nation) -> None:
    before = len(logins(nation))
    answer = browser.login("cora")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    home = browser.client.get("/", headers={"accept": "text/html"})
    assert home.url.path == "/states/WA/"
    assert "WA overview" in home.text
    entry = logins(nation)[before]
    assert entry["user"] == "cora" and entry["role"] == "coordinator"
    assert entry["outcome"] == "ok" and entry["ip"] == "testclient" and entry["time"]


def test_after_signing_in_the_user_returns_to_the_page_asked_for(browser: Browser) -> None:
    page = browser.client.get("/login?next=/states/WA/policy", headers={"accept": "text/html"})
    assert 'name="next" value="/states/WA/policy"' in page.text
    hostile = browser.client.get("/login?next=//evil.example/", headers={"accept": "text/html"})
    assert 'name="next" value="/"' in hostile.text


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(browser: Browser,
                                                                  nation: Nation) -> None:
    before_wa, before_ny = len(logins(nation)), len(logins(nation, "NY"))
    wrong = browser.login("cora", "not the password")
    nobody = browser.login("nobody-here", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "do not match an account" in wrong.text and "do not match an account" in nobody.text
    assert COOKIE not in wrong.headers.get("set-cookie", "")
    failed = logins(nation)[before_wa:]
    assert [(e["user"], e["outcome"]) for e in failed] == [("cora", "failed"),
                                                           ("nobody-here", "failed")]
    # Every failure is told to every state: writing to fewer for a real name would let the
    # answer's timing say which names exist.
    assert [e["user"] for e in logins(nation, "NY")[before_ny:]] == ["cora", "nobody-here"]


def test_repeated_failures_are_refused_until_the_window_passes(browser: Browser) -> None:
    for _ in range(5):
        assert browser.login("rey", "guess guess guess").status_code == 401
    refused = browser.login("rey", PASSWORD)
    assert refused.status_code == 429
    assert "too many failed sign-ins" in refused.text


def test_the_login_form_needs_its_own_token(browser: Browser) -> None:
    answer = browser.client.post("/login", data={"name": "cora", "password": PASSWORD},
                                 headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 403
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_signing_out_ends_the_session_and_is_audited(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "vic")
    before = len(logins(nation))
    assert browser.post("/logout", {}).status_code == 303
    assert logins(nation)[before]["outcome"] == "signed-out"
    again = browser.client.get("/states/WA/", headers={"accept": "text/html"},
                               follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_signing_out_without_the_token_does_nothing(browser: Browser) -> None:
    signed_in(browser, "vic")
    assert browser.post("/logout", {}, csrf=False).status_code == 403
    assert browser.get("/states/WA/").status_code == 200


def _behind(nation: Nation, trusted: tuple[str, ...], peer: str) -> Browser:
    """A browser at `peer` reaching the dashboard through the server `stateline serve`
    configures (uvicorn's proxy-header handling included)."""
    config = server_config(create_dashboard_app(nation.data), "127.0.0.1", 0, trusted)
    config.load()
    return Browser(TestClient(config.loaded_app, client=(peer, 40000)))


def test_rotating_x_forwarded_for_does_not_get_past_the_throttle(nation: Nation) -> None:
    browser = _behind(nation, (), "127.0.0.1")
    before = len(logins(nation))
    answers = []
    for n in range(MOST_FAILURES["ip"] + 1):
        page = browser.client.get("/login", headers={"accept": "text/html"})
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        answers.append(browser.client.post(
            "/login", data={"token": token.group(1), "name": f"guess{n}", "password": "x",
                            "next": "/"},
            headers={"accept": "text/html", "X-Forwarded-For": f"203.0.113.{n}"},
            follow_redirects=False).status_code)
    assert answers[:-1] == [401] * MOST_FAILURES["ip"] and answers[-1] == 429
    recorded = {entry["ip"] for entry in logins(nation)[before:]}
    assert recorded == {"127.0.0.1"}


def test_a_named_proxy_is_trusted_for_the_address_it_forwards(nation: Nation) -> None:
    before = len(logins(nation))
    proxied = _behind(nation, ("10.0.0.5",), "10.0.0.5")
    proxied.client.headers["X-Forwarded-For"] = "198.51.100.7"
    spoofed = _behind(nation, ("10.0.0.5",), "10.0.0.6")
    spoofed.client.headers["X-Forwarded-For"] = "198.51.100.9"
    for browser in (proxied, spoofed):
        assert browser.login("cora", "wrong").status_code == 401
    assert [e["ip"] for e in logins(nation)[before:]] == ["198.51.100.7", "10.0.0.6"]
