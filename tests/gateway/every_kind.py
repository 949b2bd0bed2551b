"""A small nation run through every path that writes to a state's audit log: traffic of each
outcome, a court order and an attestation, reviews released, denied and refused, policy
changes, notices mailed and excepted, gateway tokens, accounts and sign-ins, and requests
imported from the state switch's records.

`written` gives back what the log holds, so tests can hold the bodies to the ones the code
wrote before entries had records (`entries_as_written.json`) and to the published schemas.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from stateline.audit import AuditEntry, open_state_log
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway import Gateway, ReviewRefused
from stateline.gateway.tokens import TokenBook
from stateline.history import import_history
from stateline.notices import NoticeBook, new_york_style_notices
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.protocol import Field, Message
from stateline.sim.nation import build_nation
from stateline.web import create_dashboard_app, roster
from stateline.web.accounts import Accounts, Role
from tests.history import samples

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

STATE = "WA"
IN_STATE, OUT_OF_STATE, ICE, HSI = "WASPD0100", "ORPPD0000", "VTICE0900", "NYHSI0100"
WHO = "test"
PASSWORD = "correct horse battery"
GOLDEN = Path(__file__).with_name("entries_as_written.json")


def _query(sender: str, *fields: Field, key: str = "DQ",
           destinations: tuple[str, ...] = (STATE,)) -> Message:
    return Message(key, sender, destinations, "C1", fields)


def build(data: DataDir) -> None:
    """The nation, and every kind of entry written to WA's log, in a fixed order."""
    build_nation(data, (STATE,), residents=200, seed=5)
    with data.config(STATE).open("a") as config:
        config.write(new_york_style_notices("America/Los_Angeles"))
    store = open_store(data.dmv_url(STATE))
    try:
        people = store.sample(6, seed=1)
    finally:
        store.close()
    _apply(data, "block-ice-review-hsi")
    today = date.today()
    with Registry(data, STATE) as registry:
        registry.add_order("2026-CV-0001", Subject(oln=people[5].oln), today,
                           today + timedelta(days=30), ori=HSI,
                           elements=("identity", "license"), who=WHO)
        registry.add_attestation(OUT_OF_STATE, today + timedelta(days=30), who=WHO)
    with Gateway(data, STATE) as gateway:
        gateway.policy.check()
        oln = [Field("OLN", p.oln) for p in people]
        answered = gateway.handle_many([
            _query(IN_STATE, oln[0], Field("IMQ", "Y")),
            _query(OUT_OF_STATE, oln[1]),
            _query(ICE, oln[2]),
            _query(HSI, oln[3]),
            _query(HSI, oln[4]),
            _query(HSI, oln[0]),
            _query(IN_STATE, Field("OLN", "Z0000000")),
            _query("WA9999999", oln[1]),
            _query(HSI, oln[5]),
            _query(IN_STATE, oln[2], destinations=(STATE, "OR")),
            _query(OUT_OF_STATE, oln[3]),
            Message("AM", IN_STATE, (STATE,), None, body="HELLO"),
            _query(IN_STATE, Field("NAM", "DOE,JANE")),
        ], [f"M{n}" for n in range(13)], [False] * 10 + [True] + [False] * 2)
        with pytest.MonkeyPatch.context() as patch:
            def broken(*_: object, **__: object) -> None:
                raise OSError("disk gone")

            patch.setattr(gateway.store, "by_oln", broken)
            gateway.handle(_query(IN_STATE, oln[4]), message_id="M13")
        held = [r.reference for r in answered if r.reference is not None]
        gateway.release(held[0], "rey", "checked with the case agent")
        gateway.deny(held[1], "rey", "no case number")
    _apply(data, "block-ice-hsi")
    with Gateway(data, STATE) as gateway, contextlib.suppress(ReviewRefused):
        gateway.release(held[2], "rey", "asked again")
    _apply(data, "block-ice-review-hsi")
    _notices(data)
    with TokenBook(data, STATE) as tokens:
        _, token = tokens.issue(WHO, "the state's switch")
        tokens.revoke(token.id, WHO)
    roster.add(data, "cora", Role.COORDINATOR, STATE, WHO, PASSWORD)
    roster.set_password(data, "cora", WHO, PASSWORD + " again")
    roster.remove(data, "cora", WHO)
    _sign_in(data)
    _history(data)


def _apply(data: DataDir, name: str) -> None:
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, STATE, preset(name).text(), who=WHO, note=f"preset {name}")


def _notices(data: DataDir) -> None:
    with NoticeBook(data, STATE) as book, open_state_log(data, STATE) as log:
        due = book.notices("due")
        book.mark_sent([due[0].id], WHO, log)
        book.mark_excepted(due[1].id, "person-deceased", "death record on file", WHO, log)


def _sign_in(data: DataDir) -> None:
    Accounts(data).add("rey", Role.REVIEWER, STATE, PASSWORD)
    with TestClient(create_dashboard_app(data)) as client:
        for password in ("wrong password here", PASSWORD):
            page = client.get("/login", headers={"accept": "text/html"})
            token = re.search(r'name="token" value="([^"]+)"', page.text)
            assert token is not None
            client.post("/login", data={"token": token.group(1), "name": "rey",
                                        "password": password, "next": "/"},
                        headers={"accept": "text/html"}, follow_redirects=False)


def _history(data: DataDir) -> None:
    """Requests from before Stateline, imported from the state switch's printed log: one
    released with a photo, one denied, one from an ORI the directory does not know, and one
    the switch rejected."""
    path = data.root / "switch-log.txt"
    path.write_text(samples.nlets_text((*samples.REQUESTS[:2], *samples.REQUESTS[4:])),
                    encoding="utf-8")
    import_history(data, STATE, [path])


def written(data: DataDir) -> list[AuditEntry]:
    with open_state_log(data, STATE) as log:
        return [log.entry(seq) for seq in range(log.size)]


EXACT = {"outcome", "category", "key", "action", "change_kind", "review", "reviewer", "who",
         "by", "role", "user", "ip", "reject", "error", "destination", "message_id", "state",
         "ori", "reason", "court_order", "notice", "policies", "released", "withheld"}
"""Values the writers themselves decide. The rest (clock readings, random ids, policy texts
and versions, the synthetic nation's records and agencies) are compared by shape only, so a
change to a preset or to the nation's generator does not read as a change of the log."""


def comparable(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body with what does not depend on the writer replaced by its shape."""
    return {"kind": kind, **{name: value if name in EXACT else _shape(value)
                             for name, value in body.items()}}


def _shape(value: Any) -> Any:
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return value


_SENDER = {"active": True, "agency_type": "str", "component": "str", "criminal_justice": True,
           "department": "str", "level": "str", "name": "str", "ori": "str",
           "permissions": ["str", "str", "str"], "programs": [], "state": "str"}


def _imported(line: int, ori: str, category: str, key: str, outcome: str, terms: int = 1, *,
              known: bool = True, released: tuple[str, ...] = (), photo: bool = False,
              reject: str | None = None) -> dict[str, Any]:
    """An imported entry as `comparable` shows it."""
    body = {"kind": "imported", "category": category, "court_order": None,
            "destination": STATE, "key": key, "message_id": "", "multi_state": False,
            "ori": ori, "outcome": outcome, "photo_released": photo, "policies": [],
            "policy_version": "str", "reason": "", "records": ["str"] if released else [],
            "released": list(released), "request_id": "str",
            "sender": _SENDER if known else None, "sender_as_of": "str",
            "source": {"file": "str", "format": "str", "line": line, "sha256": "str"},
            "terms": ["str"] * terms, "time": "str", "withheld": []}
    return body if reject is None else {**body, "reject": reject}


IMPORTED_AS_WRITTEN = [
    _imported(1, IN_STATE, "in-state", "DQ", "released",
              released=("identity", "license", "photo"), photo=True),
    _imported(16, ICE, "ICE", "DQ", "denied", 2),
    _imported(28, "ZZ9999999", "unknown", "DQ", "no-record", known=False),
    _imported(40, IN_STATE, "in-state", "KQ", "error", reject=".14."),
]
"""The requests `_history` imports, as the importer wrote them when the kind was added."""


def golden() -> list[dict[str, Any]]:
    return [*json.loads(GOLDEN.read_text(encoding="utf-8")), *IMPORTED_AS_WRITTEN]
