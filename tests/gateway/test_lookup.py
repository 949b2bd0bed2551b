"""Per-element release: what of a hit leaves the state, what is marked withheld, what is left
out because nobody asked for it."""

from __future__ import annotations

import re

from stateline.dmv.records import Hit
from stateline.gateway.lookup import SEARCHES, release
from stateline.policy.engine import Decision, Verdict
from stateline.policy.schema import DELIVERED_AS, QUERY_ACTIONS, schema_text
from stateline.protocol import Field
from stateline.protocol.keys import KEYS

PNG = b"\x89PNG..."


def driver(oln: str, *, photo: bytes | None = None) -> Hit:
    elements = {
        "identity": (Field("OLN", oln), Field("NAM", "DOE,JANE")),
        "address": (Field("ADR", "1 MAIN ST"),),
        "ssn": (Field("SOC", "000123456"),),
        "photo": (Field("IMG", "Y"),),
        "history": (Field("HIS", "NONE"),),
    }
    return Hit("driver", oln, elements, photo)


def decided(released: tuple[str, ...], withheld: tuple[str, ...] = ()) -> Decision:
    return Decision(Verdict.ALLOW, "DQ", released, withheld)


def test_released_elements_keep_their_fields_and_withheld_ones_are_marked() -> None:
    found = release([driver("WDL1"), driver("WDL2")],
                    decided(("identity", "address", "history"), ("ssn",)), "driver")
    assert found.record_ids == ("WDL1", "WDL2")
    for record, oln in zip(found.records, ("WDL1", "WDL2"), strict=True):
        assert [s.element for s in record.sections] == ["identity", "address", "ssn"]
        assert record.sections[0].fields[0] == Field("OLN", oln)
        assert record.withheld == ("ssn",)
    assert found.withheld and found.photos == ()


def test_elements_outside_the_message_group_are_left_out() -> None:
    found = release([driver("WDL1")], decided(("identity", "history")), "driver")
    assert [s.element for s in found.records[0].sections] == ["identity"]


def test_elements_the_decision_does_not_mention_are_left_out() -> None:
    found = release([driver("WDL1", photo=PNG)], decided(("identity",)), "driver")
    assert [s.element for s in found.records[0].sections] == ["identity"]
    assert not found.withheld and found.photos == ()


def test_a_photo_leaves_only_when_released() -> None:
    hits = [driver("WDL1", photo=PNG)]
    assert release(hits, decided(("identity", "photo")), "driver").photos == (PNG,)
    assert release(hits, decided(("identity",), ("photo",)), "driver").photos == ()


def test_an_element_a_record_lacks_is_not_invented() -> None:
    hit = Hit("driver", "WDL3", {"identity": (Field("OLN", "WDL3"),)})
    found = release([hit], decided(("identity", "address"), ("ssn",)), "driver")
    assert [s.element for s in found.records[0].sections] == ["identity", "ssn"]


def test_every_query_key_of_the_protocol_has_exactly_one_search() -> None:
    """What a key is lives in the protocol's key table; the policy's actions and the gateway's
    searches are derived from it or checked against it here."""
    decided = {spec.delivered_as or spec.key for spec in KEYS.values() if spec.is_query}
    assert set(SEARCHES) == decided == set(QUERY_ACTIONS)
    for key, group in QUERY_ACTIONS.items():
        assert KEYS[key].group == group


def test_the_cedar_schema_declares_each_query_action_in_its_group() -> None:
    declared = re.findall(r'action ((?:"\w+",? ?)+) in \["(\w+)"\]\s+appliesTo', schema_text())
    actions = {name: group for names, group in declared for name in re.findall(r'"(\w+)"', names)}
    assert actions == QUERY_ACTIONS
    assert DELIVERED_AS == {"DQG": "DQ", "RQG": "RQ"}
