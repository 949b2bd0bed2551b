"""CLI tables as a user at an 80- or 60-column terminal reads them: every identifier whole (the
VIN a query needs, the message id `messages show` takes), agencies named beside their ORIs, no
line wider than the terminal, and counts that agree in number."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from stateline.cli import app
from stateline.commands.tables import ident, plural, print_table, text
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import read
from stateline.sim.nation import build_nation

HSI = "NYHSI0100"
ICE = "VTICE0900"
POLICE = "ORPPD0000"
WIDTHS = (80, 60)
runner = CliRunner()


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """WA blocking ICE and holding HSI for review: a held HSI request, a denied ICE request,
    a police query sent through the switch, and a court order on file."""
    data = DataDir(tmp_path_factory.mktemp("cli-tables"))
    build_nation(data, ("WA",), residents=200, seed=3)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    store = open_store(data.dmv_url("WA"))
    try:
        people = store.sample(3, seed=5)
    finally:
        store.close()
    with Gateway(data, "WA") as gateway:
        for sender, person in zip((HSI, ICE), people, strict=False):
            gateway.handle(read(f"DQ.{sender}.WA.TXT\nOLN/{person.oln}"))
    code, _ = invoke(data, "send", f"DQ.{POLICE}.WA.TXT.OLN/{people[2].oln}", "--from",
                     POLICE, "--wait", "10")
    assert code == 0
    code, _ = invoke(data, "orders", "add", "--state", "WA", "--ori", ICE, "--ref",
                     "2026-CV-0142", "--oln", people[0].oln, "--vin", people[0].vin,
                     "--from", "2026-01-01", "--until", "2099-01-01", "--by", "clerk")
    assert code == 0
    return data


def invoke(data: DataDir, *args: str, columns: int = 80) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data", str(data.root)],
                           env={"COLUMNS": str(columns)})
    return result.exit_code, result.output


def shown(data: DataDir, *args: str) -> list[dict[str, Any]]:
    code, out = invoke(data, *args, "--json")
    assert code == 0, out
    found: list[dict[str, Any]] = json.loads(out)
    assert found, f"{args} found nothing to show"
    return found


def assert_whole(out: str, identifiers: list[str], width: int) -> None:
    for value in identifiers:
        assert value in out, f"{value!r} is not whole at {width} columns:\n{out}"
    widest = max(len(line.rstrip()) for line in out.splitlines())
    assert widest <= width, f"a line is {widest} wide at {width} columns:\n{out}"
    assert "…" not in out


# (command, the identifiers its --json output gives, in the text a user copies)
COMMANDS: dict[str, tuple[tuple[str, ...], Any]] = {
    "dmv sample": (("dmv", "sample", "--state", "WA", "--n", "5"),
                   lambda r: [r["oln"], r["vin"], r["plate"], r["dob"]]),
    "orders list": (("orders", "list", "--state", "WA"),
                    lambda r: [r["reference"], r["ori"], r["valid_from"], r["valid_until"],
                               f"OLN/{r['subject']['oln']}", f"VIN/{r['subject']['vin']}"]),
    "traffic search": (("traffic", "search"),
                       lambda r: [r["message_id"], r["sender"], r["destination"],
                                  r["time"][:10]]),
    "audit search": (("audit", "search", "--state", "WA"),
                     lambda r: [str(r["seq"]), r["time"][:10], r["body"]["sender"]["ori"]]),
    "audit counts": (("audit", "counts", "--state", "WA"),
                     lambda r: [r["day"], r["category"] or "-", r["outcome"] or "-",
                                f"{r['entries']:,}"]),
    "review list": (("review", "list", "--state", "WA"),
                    lambda r: [r["reference"], r["ori"], r["time"][:10]]),
    "credentials list": (("credentials", "list", "--limit", "5"),
                         lambda r: [r["id"], r["ori"]]),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", COMMANDS)
def test_every_identifier_is_whole_at_this_width(nation: DataDir, name: str,
                                                 width: int) -> None:
    args, identifiers_of = COMMANDS[name]
    identifiers = [value for row in shown(nation, *args) for value in identifiers_of(row)]
    code, out = invoke(nation, *args, columns=width)
    assert code == 0, out
    assert_whole(out, identifiers, width)


@pytest.mark.parametrize("args, ori, name", [
    (("review", "list", "--state", "WA"), HSI, "HSI, New York Field Office"),
    (("audit", "search", "--state", "WA", "--agency", ICE), ICE,
     "ICE Law Enforcement Support Center (Williston)"),
    (("traffic", "search", "--sender", POLICE), POLICE, "Portland Police Bureau"),
    (("orders", "list", "--state", "WA"), ICE, "ICE Law Enforcement Support Center"),
])
def test_agencies_are_named_beside_their_ori(nation: DataDir, args: tuple[str, ...], ori: str,
                                             name: str) -> None:
    code, out = invoke(nation, *args, columns=200)
    assert code == 0, out
    assert ori in out
    assert name in out


def test_the_audit_search_title_agrees_in_number(nation: DataDir) -> None:
    code, out = invoke(nation, "audit", "search", "--state", "WA", "--agency", ICE)
    assert code == 0 and "1 matching entry," in out
    code, out = invoke(nation, "audit", "search", "--state", "WA", "--limit", "2")
    assert code == 0 and "the newest 2 matching entries (raise --limit" in out


def test_counts_in_titles_agree_in_number(nation: DataDir) -> None:
    code, out = invoke(nation, "orders", "list", "--state", "WA")
    assert code == 0 and "WA: 1 court order" in lines(out)
    code, out = invoke(nation, "review", "list", "--state", "WA")
    assert code == 0 and "WA: 1 held request waiting for review" in lines(out)


def lines(out: str) -> list[str]:
    return [line.rstrip() for line in out.splitlines()]


@pytest.mark.parametrize("count, noun, many, said", [
    (1, "court order", None, "1 court order"),
    (2, "court order", None, "2 court orders"),
    (0, "request", None, "0 requests"),
    (1, "request", None, "1 request"),
    (2, "agency", None, "2 agencies"),
    (1, "agency", None, "1 agency"),
    (2, "day", None, "2 days"),
    (2, "matching entry", "matching entries", "2 matching entries"),
    (1, "matching entry", "matching entries", "1 matching entry"),
    (3, "address", None, "3 addresses"),
    (12345, "message", None, "12,345 messages"),
])
def test_plural(count: int, noun: str, many: str | None, said: str) -> None:
    assert plural(count, noun, many) == said


ROWS = [["2026-12-07 13:45:12", "M20261207-000123", "DQ", "ORHSI1800",
         "HSI, Oregon Field Office", "OLN/WDLJBDL61234 and a long free text that wraps"]]
COLUMNS = (ident("time (UTC)"), ident("message"), ident("key"), ident("sender"),
           text("agency"), text("text"))


def printed(width: int) -> str:
    out = io.StringIO()
    print_table(Console(width=width, file=out), COLUMNS, ROWS * 2, title="2 messages")
    return out.getvalue()


def test_other_columns_wrap_when_there_is_room() -> None:
    out = printed(80)
    assert_whole(out, ROWS[0][:4], 80)
    assert "left out" not in out
    assert "wraps" in out and "HSI, Oregon" in out


def test_other_columns_are_left_out_with_a_note_when_identifiers_fill_the_width() -> None:
    out = printed(56)
    assert_whole(out, ROWS[0][:4], 56)
    assert "(2 columns left out at this width: agency, text)" in out
    assert "wraps" not in out


def test_rows_become_labelled_blocks_when_identifiers_cannot_sit_side_by_side() -> None:
    out = printed(40)
    assert_whole(out, ROWS[0][:4], 40)
    assert out.count("message  ") == 2 and "HSI, Oregon Field Office" in out
