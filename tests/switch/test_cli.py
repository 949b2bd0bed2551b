"""The switch from the command line, as a new user drives it: send a DQ, an RQ, an NL query and
a message to a state out of service; bring the state back; read the late answer; search the
traffic; manage credentials."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir

from .conftest import samples

runner = CliRunner()
SENDER = "ORPPD0000"


def stateline(data: DataDir, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data", str(data.root)])
    return result.exit_code, result.output


def send(data: DataDir, text: str, sender: str = SENDER) -> tuple[int, dict[str, Any]]:
    code, out = stateline(data, "send", text, "--from", sender, "--json", "--wait", "10")
    return code, json.loads(out)


def test_send_json_has_one_object_per_answering_state(nation: DataDir) -> None:
    person = samples(nation, "WA")[0]
    code, shown = send(nation, f"DQ.{SENDER}.WA.TXT.OLN/{person.oln}")
    assert code == 0 and shown["accepted"] is True and shown["pending"] == []
    [answer] = shown["responses"]
    assert {k: answer[k] for k in ("key", "state", "outcome")} == \
        {"key": "DR", "state": "WA", "outcome": "partial"}
    assert {"record": 1, "element": "identity", "prefix": "OLN", "value": person.oln} \
        in answer["fields"]
    assert {"record": 1, "element": "ssn", "withheld": True} in answer["fields"]
    assert answer["text"].startswith("DR.WAOLN0000\n")


def test_send_an_rq_and_an_nl_query(nation: DataDir) -> None:
    car, person = samples(nation, "OR")[0], samples(nation, "NY")[0]
    code, shown = send(nation, f"RQ.{SENDER}.OR.TXT\nLIC/{car.plate}.LIY/{car.plate_year}"
                               f".LIT/{car.plate_type}")
    assert code == 0
    assert [(r["key"], r["state"]) for r in shown["responses"]] == [("RR", "OR")]
    code, shown = send(nation, f"DQ.{SENDER}.NL.TXT\nNAM/{person.name}.DOB/{person.dob}")
    summary, *answers = shown["responses"]
    assert code == 0 and (summary["state"], summary["key"]) == ("NL", "DR")
    assert summary["summary"]["hit"] == ["NY"]
    assert summary["summary"]["no_record"] == ["OR", "WA"]
    assert [a["state"] for a in answers] == ["NY"]


def test_a_rejected_message_exits_1_with_the_er(nation: DataDir) -> None:
    code, shown = send(nation, f"DQ.{SENDER}.WA.TXT\nNAM/DOE,JANE")
    assert code == 1 and shown["accepted"] is False
    [reject] = shown["responses"]
    assert (reject["key"], reject["state"], reject["outcome"]) == ("ER", "NL", "rejected")
    code, shown = send(nation, "DQ.WASPD0100.WA.TXT\nOLN/W1")
    assert code == 1 and "NOT THE ORI OF THIS CREDENTIAL" in shown["responses"][0]["text"]


def test_out_of_service_then_back_in_service_delivers_the_held_message(nation: DataDir) -> None:
    person = samples(nation, "WA")[1]
    code, out = stateline(nation, "status", "set", "WA", "--out-of-service", "--by",
                          "J. Rivera", "--note", "maintenance")
    assert code == 0 and "WA: in-service -> out-of-service (by J. Rivera" in out
    code, shown = send(nation, f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}")
    [status] = shown["responses"]
    assert code == 0 and (status["key"], status["outcome"]) == ("SM", "held")
    assert ".02." in status["text"] and shown["pending"] == ["WA"]
    code, out = stateline(nation, "status", "list", "--json")
    assert {"state": "WA", "status": "out-of-service", "held": 1} in json.loads(out)

    code, out = stateline(nation, "status", "set", "WA", "--in-service", "--by", "J. Rivera")
    assert code == 0 and "delivered 1 held message to WA" in out
    code, out = stateline(nation, "messages", "show", str(shown["message_id"]), "--from",
                          SENDER, "--json")
    later = json.loads(out)
    assert code == 0 and later["pending"] == []
    assert [(r["key"], r["late"]) for r in later["responses"]] == [("SM", False), ("DR", True)]
    assert any(f.get("value") == person.oln for f in later["responses"][1]["fields"])

    code, out = stateline(nation, "messages", "show", str(shown["message_id"]), "--from",
                          "WASPD0100")
    assert code == 1
    code, out = stateline(nation, "status", "list", "--history", "--json")
    assert [(c["state"], c["new"], c["who"]) for c in json.loads(out)[:2]] == [
        ("WA", "in-service", "J. Rivera"), ("WA", "out-of-service", "J. Rivera")]


def test_remove_status_gets_04(nation: DataDir) -> None:
    assert stateline(nation, "status", "set", "NY", "--remove", "--by", "K. Osei")[0] == 0
    try:
        code, shown = send(nation, f"DQ.{SENDER}.NY.TXT\nOLN/123")
    finally:
        stateline(nation, "status", "set", "NY", "--in-service", "--by", "K. Osei")
    [status] = shown["responses"]
    assert code == 0 and status["outcome"] == "rejected" and ".04." in status["text"]


def test_status_set_needs_exactly_one_status(nation: DataDir) -> None:
    code, _ = stateline(nation, "status", "set", "WA", "--remove", "--in-service", "--by", "x")
    assert code == 1


def test_text_output_shows_each_message_as_delivered(nation: DataDir) -> None:
    person = samples(nation, "OR")[1]
    code, out = stateline(nation, "send", f"DQ.{SENDER}.OR.TXT\nOLN/{person.oln}",
                          "--from", SENDER)
    assert code == 0
    assert "--- OR DR released" in out and "\nDR.OROLN0000\n" in out


def test_traffic_search(nation: DataDir) -> None:
    person = samples(nation, "WA")[2]
    send(nation, f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}")
    code, out = stateline(nation, "traffic", "search", "--text", person.oln, "--json")
    found = json.loads(out)
    assert code == 0
    assert {(e["direction"], e["key"], e["destination"]) for e in found} >= \
        {("in", "DQ", "WA"), ("out", "DQ", "WA"), ("out", "DR", SENDER)}
    code, out = stateline(nation, "traffic", "search", "--text", person.oln, "--key", "DR",
                          "--since", "2000-01-01", "--until", "2999-12-31", "--json")
    assert [e["sender"] for e in json.loads(out)] == ["WAOLN0000"]
    code, out = stateline(nation, "traffic", "search", "--since", "yesterday")
    assert code == 1


def test_credentials_issue_list_revoke_and_log(nation: DataDir) -> None:
    code, out = stateline(nation, "credentials", "issue", "wasPD0100", "--who", "admin",
                          "--json")
    issued = json.loads(out)
    assert code == 0 and issued["ori"] == "WASPD0100" and issued["token"].startswith("slag_")
    code, out = stateline(nation, "credentials", "list", "--ori", "WASPD0100", "--json")
    assert issued["id"] in [c["id"] for c in json.loads(out)]
    code, out = stateline(nation, "send", "DQ.WASPD0100.WA.TXT\nOLN/W1", "--from",
                          "WASPD0100", "--token", issued["token"], "--json")
    assert code == 0
    code, out = stateline(nation, "credentials", "revoke", issued["id"])
    assert code == 0 and f"revoked credential {issued['id']} of WASPD0100" in out
    code, out = stateline(nation, "send", "DQ.WASPD0100.WA.TXT\nOLN/W1", "--from",
                          "WASPD0100", "--token", issued["token"], "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "unauthenticated"
    code, out = stateline(nation, "credentials", "log", "--json")
    assert json.loads(out)[0]["reason"] == "unknown or revoked token"
    code, out = stateline(nation, "credentials", "issue", "ZZ0000000")
    assert code == 1 and "no agency ZZ0000000" in out
