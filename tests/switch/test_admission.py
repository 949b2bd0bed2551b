"""Who may send what: the credential's ORI, the directory, permission letters; and which
state answers the switch passes on."""

from __future__ import annotations

import pytest

from stateline.directory.agency import Agency, Level
from stateline.protocol import Message, Outcome, Reject, read
from stateline.switch.admission import Impersonation, admit, claimed_ori, letter_for, reply_problem
from stateline.transport.base import Reply

POLICE = Agency("ORPPD0000", "Portland Police", "OR", Level.LOCAL, "PD",
                permissions=frozenset("ACD"))
DRIVER_LICENSING = Agency("WAOLN0000", "Driver Licensing", "WA", Level.STATE, "NJ",
                          permissions=frozenset("A"))
DQ = "DQ.{}.WA.TXT\nOLN/WDL1"


@pytest.mark.parametrize(("key", "letter"), [
    ("DQ", "D"), ("DNQ", "D"), ("DQG", "D"), ("KQ", "D"), ("RQ", "D"), ("RPQ", "D"),
    ("AM", "A"), ("SM", "A"), ("ZQ", "A")])
def test_dmv_keys_need_d_and_the_rest_need_a(key: str, letter: str) -> None:
    assert letter_for(key) == letter


def test_an_agency_with_d_may_send_a_dmv_query() -> None:
    admit(read(DQ.format("ORPPD0000")), "ORPPD0000", POLICE)


def test_a_sending_ori_other_than_the_credentials_is_impersonation() -> None:
    with pytest.raises(Impersonation) as caught:
        admit(read(DQ.format("ORPPD0000")), "WASPD0100", POLICE)
    assert "SENDING ORI ORPPD0000 IS NOT THE ORI OF THIS CREDENTIAL" in caught.value.text


@pytest.mark.parametrize(("agency", "words"), [
    (None, "SENDING ORI WAOLN0000 IS NOT IN THE DIRECTORY"),
    (DRIVER_LICENSING, "ORI WAOLN0000 LACKS PERMISSION D FOR DQ"),
    (Agency("WAOLN0000", "Driver Licensing", "WA", Level.STATE, "NJ",
            permissions=frozenset("AD"), active=False), "SENDING ORI WAOLN0000 IS NOT ACTIVE"),
])
def test_unknown_inactive_or_unpermitted_senders_are_rejected(agency: Agency | None,
                                                              words: str) -> None:
    with pytest.raises(Reject) as caught:
        admit(read(DQ.format("WAOLN0000")), "WAOLN0000", agency)
    assert not isinstance(caught.value, Impersonation)
    assert words in caught.value.text


def test_an_agency_with_only_a_may_send_an_administrative_message() -> None:
    admit(read("AM.WAOLN0000.OR.TXT\nHELLO"), "WAOLN0000", DRIVER_LICENSING)


def _reply(key: str, sender: str) -> Reply:
    return Reply("M1", "WA", Message(key, sender, ("ORPPD0000",), body="TEXT"), Outcome.ERROR)


@pytest.mark.parametrize(("key", "sender", "problem"), [
    ("DR", "WAOLN0000", None),
    ("AM", "WAOLN0000", None),
    ("ER", "NL0000000", "WA SENT AN ER"),
    ("DR", "ORLIC0000", "WA ANSWERED AS ORLIC0000"),
])
def test_only_the_switch_sends_rejects_and_states_answer_as_themselves(
        key: str, sender: str, problem: str | None) -> None:
    found = reply_problem(_reply(key, sender))
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(("raw", "ori"), [
    ("DQ.ORPPD0000.WA.TXT", "ORPPD0000"), ("dq.orppd0000.wa", "ORPPD0000"),
    ("DQ.SHORT.WA.TXT", None), ("garbage", None), ('{"key": "DQ"}', None)])
def test_the_claimed_ori_is_picked_out_for_the_refusal_log(raw: str, ori: str | None) -> None:
    assert claimed_ori(raw) == ori
