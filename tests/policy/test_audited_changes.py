"""Every change to a state's policy and registry is in its audit log before it takes effect."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from stateline.audit import EntryKind, open_state_log
from stateline.datadir import DataDir
from stateline.policy import store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.policy.store import StateError
from tests.directory.samples import ICE

JANE = Subject(oln="WDL1234567", name="DOE,JANE Q", dob=date(1990, 4, 1))


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path)
    folder.state_dir("WA").mkdir(parents=True)
    return folder


def logged(data: DataDir) -> list[tuple[EntryKind, dict[str, object]]]:
    with open_state_log(data, "WA") as log:
        return [(e.kind, dict(e.body)) for e in
                (log.entry(seq) for seq in range(log.size))]


def test_orders_and_attestations_are_audited_with_who_and_what(data: DataDir) -> None:
    today = date.today()
    with Registry(data, "WA") as registry:
        registry.add_order("2026-CV-9", JANE, today, today + timedelta(days=30), ori=ICE.ori,
                           who="clerk")
        registry.revoke_order("2026-CV-9", who="coordinator")
        registry.add_attestation("WASPD0100", today + timedelta(days=90), who="coordinator")
    kinds = [(kind, body["who"], body["note"]) for kind, body in logged(data)]
    assert kinds == [
        (EntryKind.COURT_ORDER, "clerk", f"court order 2026-CV-9 added for {ICE.ori}"),
        (EntryKind.COURT_ORDER, "coordinator", "court order 2026-CV-9 revoked"),
        (EntryKind.ATTESTATION, "coordinator",
         f"attestation by WASPD0100 until {today + timedelta(days=90)}"),
    ]
    assert "2026-CV-9" in str(logged(data)[0][1]["text"])


def test_a_change_is_not_made_when_the_log_is_unusable(data: DataDir) -> None:
    store.apply(data, "WA", preset("cj-baseline").text(), who="setup")
    data.config("WA").write_text('[audit]\nurl = "not a url"\n')
    with pytest.raises(StateError, match="cannot write WA's audit log"):
        store.apply(data, "WA", preset("block-ice").text(), who="coordinator")
    assert store.current_text(data, "WA") == preset("cj-baseline").text()
    assert [c.who for c in store.history(data, "WA")] == ["setup"]
