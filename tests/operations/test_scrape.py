"""What /metrics reads from the data folder at each scrape: unsigned audit entries, witness lag
and the roles a supervisor runs, as a scraper parses them; a part that cannot be read is
counted and leaves the rest of the page whole."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client.parser import text_string_to_metric_families

from stateline.audit import EntryKind, audit_db, origin_of
from stateline.audit.log import AuditLog
from stateline.audit.note import COSIGNATURE, Signer
from stateline.datadir import DataDir
from stateline.operations import metrics
from stateline.operations.readiness import supervised
from stateline.operations.scrape import DataFolder
from stateline.roles.status import RUN_ENV, RoleStatus, write_roles

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(data: DataDir, states: Iterable[str] | None = None, **options: float) -> Samples:
    """The page a scraper gets, parsed: each sample's value by name and labels."""
    page = metrics.page(DataFolder(data, None if states is None else list(states), **options))
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(page.decode()) for s in family.samples}


def log_with_tail(data: DataDir, state: str, signed: int, unsigned: int) -> None:
    """A log with `signed` entries under a head and `unsigned` more after it."""
    data.state_dir(state).mkdir(parents=True, exist_ok=True)
    log = AuditLog.open(audit_db(data, state), origin_of(state), Ed25519PrivateKey.generate(),
                        sign_on_close=False)
    with log:
        log.append_many([(EntryKind.LOGIN, {"n": n}) for n in range(signed)])
        log.sign_tail()
        log.append_many([(EntryKind.LOGIN, {"n": n}) for n in range(unsigned)])


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path / "data")
    log_with_tail(folder, "WA", 10, 3)
    log_with_tail(folder, "OR", 4, 0)
    return folder


def test_unsigned_entries_are_counted_per_state(data: DataDir) -> None:
    got = scrape(data)
    assert got[("stateline_audit_unsigned_entries", (("state", "WA"),))] == 3
    assert got[("stateline_audit_unsigned_entries", (("state", "OR"),))] == 0
    assert all(value == 0 for (name, _), value in got.items()
               if name == "stateline_scrape_failures")


def test_a_witness_that_never_cosigned_lags_by_every_signed_entry(data: DataDir) -> None:
    vkey = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE).verifier.vkey
    data.config("WA").write_text(f'[[audit.witness]]\nurl = "http://127.0.0.1:9"\n'
                                 f'vkey = "{vkey}"\n')
    got = scrape(data)
    labels = (("state", "WA"), ("witness", "auditor.example"))
    assert got[("stateline_witness_lag_entries", labels)] == 10
    assert got[("stateline_witness_lag_seconds", labels)] >= 0
    assert not any(name.startswith("stateline_witness") and ("state", "OR") in labels
                   for name, labels in got), "OR names no witness"


def test_a_log_that_cannot_be_read_is_counted_and_the_others_still_shown(
        data: DataDir) -> None:
    audit_db(data, "OR").write_bytes(b"not a database" * 100)
    got = scrape(data)
    assert got[("stateline_scrape_failures", (("source", "audit"),))] == 1
    assert got[("stateline_audit_unsigned_entries", (("state", "WA"),))] == 3
    assert ("stateline_audit_unsigned_entries", (("state", "OR"),)) not in got


def test_a_config_naming_a_bad_witness_costs_only_that_states_lags(data: DataDir) -> None:
    data.config("WA").write_text('[[audit.witness]]\nurl = "ftp://nowhere"\nvkey = "x"\n')
    got = scrape(data)
    assert got[("stateline_scrape_failures", (("source", "witness"),))] == 1
    assert got[("stateline_audit_unsigned_entries", (("state", "WA"),))] == 3


def test_states_past_the_time_budget_are_skipped_and_counted(data: DataDir) -> None:
    got = scrape(data, budget=-1.0)
    assert got[("stateline_scrape_failures", (("source", "audit"),))] == 2
    assert not any(name == "stateline_audit_unsigned_entries" for name, _ in got)


def test_a_gateway_alone_reads_only_its_state(data: DataDir) -> None:
    got = scrape(data, ["WA"])
    assert [labels for name, labels in got if name == "stateline_audit_unsigned_entries"] \
        == [(("state", "WA"),)]
    assert not any(name == "stateline_held_messages" for name, _ in got), "no switch here"


def test_under_a_supervisor_each_role_is_shown_up_or_down_and_readiness_names_the_down(
        data: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setenv(RUN_ENV, str(run))
    assert supervised(data, run)() == ["supervisor: no roles on file"]
    write_roles(run, [RoleStatus("switch", "switch", (), 101, True, 0),
                      RoleStatus("gateway-WA", "gateway", ("WA", "OR"), 102, False, 2)])
    got = scrape(data)
    assert got[("stateline_role_up", (("name", "switch"), ("role", "switch"),
                                      ("states", "")))] == 1
    assert got[("stateline_role_up", (("name", "gateway-WA"), ("role", "gateway"),
                                      ("states", "WA,OR")))] == 0
    assert supervised(data, run)() == ["gateway-WA: not up"]
    write_roles(run, [RoleStatus("gateway-WA", "gateway", ("WA", "NY"), 103, True, 3)])
    assert supervised(data, run)() == ["audit log NY: none"]
