"""`stateline notices list|export|sent|except` as a coordinator uses them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from stateline.audit import open_state_log
from stateline.commands import notices
from stateline.notices import Notice

from .conftest import ICE, Nation

root = typer.Typer()
root.add_typer(notices.app, name="notices")
runner = CliRunner()


def run(nation: Nation, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["notices", *args, "--data", str(nation.data.root),
                                  "--state", "NY"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def two_notices(nation: Nation) -> tuple[Notice, Notice]:
    """One 10 days old (overdue), one fresh."""
    (late,) = nation.queue(nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}"),
                           days_ago=10)
    (fresh,) = nation.queue(nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[1].oln}"))
    return late, fresh


def test_list_flags_overdue_notices(nation: Nation) -> None:
    late, fresh = two_notices(nation)
    code, out, _ = run(nation, "list")
    assert code == 0
    assert "2 due notices, 1 OVERDUE" in out
    late_line = next(line for line in out.splitlines() if late.id in line)
    fresh_line = next(line for line in out.splitlines() if fresh.id in line)
    assert "OVERDUE 7 days" in late_line and "OVERDUE" not in fresh_line
    code, out, _ = run(nation, "list", "--status", "overdue", "--json")
    listed = json.loads(out)
    assert [n["id"] for n in listed["notices"]] == [late.id]
    assert listed["notices"][0]["overdue"] is True
    assert listed["notices"][0]["person"]["oln"] == nation.samples[0].oln
    assert listed["duty"] == "within 3 days after the request"


def test_export_writes_letters_and_a_mailing_csv(nation: Nation, tmp_path: Path) -> None:
    late, fresh = two_notices(nation)
    letters, mailing = tmp_path / "letters.html", tmp_path / "mailing.csv"
    code, out, _ = run(nation, "export", "--format", "html", "--out", str(letters))
    assert code == 0 and "2 due notices written" in out
    html = letters.read_text()
    for n in (late, fresh):
        assert n.person.mailing_name in html and n.person.street in html
    code, _, _ = run(nation, "export", "--format", "csv", "--out", str(mailing))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(mailing.read_text(), newline="")))
    assert [r["notice_id"] for r in rows] == [late.id, fresh.id]
    assert rows[1]["name"] == fresh.person.mailing_name
    assert rows[1]["deadline"] == fresh.deadline.isoformat()
    code, out, _ = run(nation, "export", "--format", "csv", "--out", "-", "--status", "overdue")
    assert code == 0 and late.id in out and fresh.id not in out


def test_sent_marks_notices_mailed_and_logs_it(nation: Nation) -> None:
    late, fresh = two_notices(nation)
    with open_state_log(nation.data, "NY") as log:
        size = log.size
    code, out, _ = run(nation, "sent", late.id, fresh.id, "--by", "J. Rivera")
    assert code == 0
    assert f"{late.id} marked sent by J. Rivera" in out
    with open_state_log(nation.data, "NY") as log:
        actions = [log.entry(seq).body for seq in range(size, log.size)]
    assert [(b["action"], b["notice"], b["by"]) for b in actions] == [
        ("notice-sent", late.id, "J. Rivera"), ("notice-sent", fresh.id, "J. Rivera")]
    assert actions[0]["overdue"] is True and actions[1]["overdue"] is False
    code, out, _ = run(nation, "list", "--status", "sent", "--json")
    assert [n["id"] for n in json.loads(out)["notices"]] == [late.id, fresh.id]
    code, out, _ = run(nation, "list")
    assert "no due notices" in out


def test_except_takes_only_a_configured_reason(nation: Nation) -> None:
    late, _ = two_notices(nation)
    code, _, err = run(nation, "except", late.id, "--reason", "too-busy", "--note", "backlog")
    assert code == 1 and "court-order-sealed" in err
    code, out, _ = run(nation, "except", late.id, "--reason", "court-order-sealed",
                       "--note", "Order 26-MJ-7 seals the request", "--json")
    assert code == 0
    assert json.loads(out)["status"] == "excepted"
    code, out, _ = run(nation, "list", "--status", "excepted")
    assert late.id in out and "OVERDUE" not in out


def test_bad_ids_and_flags_fail_cleanly_and_change_nothing(nation: Nation) -> None:
    late, fresh = two_notices(nation)
    with open_state_log(nation.data, "NY") as log:
        size = log.size
    code, _, err = run(nation, "sent", fresh.id, "NY-N000999")
    assert code == 1 and "no notice NY-N000999" in err
    code, out, _ = run(nation, "sent", "bogus", "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "invalid"
    code, _, err = run(nation, "list", "--status", "late")
    assert code == 1 and "--status 'late'" in err
    code, _, err = run(nation, "export", "--format", "pdf", "--out", "-")
    assert code == 1 and "--format 'pdf'" in err
    code, _, err = run(nation, "sent", late.id)
    assert code == 0
    code, _, err = run(nation, "sent", late.id)
    assert code == 1 and "already sent" in err
    with open_state_log(nation.data, "NY") as log:
        assert log.size == size + 1
    code, out, _ = run(nation, "list", "--json")
    assert [n["id"] for n in json.loads(out)["notices"]] == [fresh.id]


def test_a_bad_notices_section_is_reported_with_its_file(nation: Nation) -> None:
    with nation.data.config("NY").open("a") as config:
        config.write('\n[gateway2]\n')  # the section itself stays; break a key in it instead
    text = nation.data.config("NY").read_text().replace("within = 3", 'within = "three"')
    nation.data.config("NY").write_text(text)
    code, out, _ = run(nation, "list", "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "config-error"
    assert str(nation.data.config("NY")) in error["text"] and "within" in error["text"]


def test_an_unknown_state_is_refused(nation: Nation) -> None:
    result = runner.invoke(root, ["notices", "list", "--data", str(nation.data.root),
                                  "--state", "WA"])
    assert result.exit_code == 1 and "no state WA" in result.stderr
