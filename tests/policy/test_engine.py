"""Decisions: allow, review and deny as the policy says, elements released or withheld, the
deciding policy named, and every unclear case denied."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from stateline.directory.agency import Agency, Level
from stateline.directory.store import Snapshot
from stateline.policy import PolicyEngine, Request, Verdict, compile_policies
from tests.policy.texts import BLOCK_ICE_REVIEW_HSI as POLICY

AGENCIES = (
    Agency("WASPD0100", "Spokane Police Department", "WA", Level.LOCAL, "PD",
           permissions=frozenset("ACD")),
    Agency("ORPPD0000", "Portland Police Bureau", "OR", Level.LOCAL, "PD",
           permissions=frozenset("ACD")),
    Agency("VTICE0900", "ICE LESC", "VT", Level.FEDERAL, "FE", "DHS", "ICE"),
    Agency("NYHSI0100", "HSI New York", "NY", Level.FEDERAL, "FE", "DHS", "HSI"),
    Agency("TXCBP0100", "CBP Texas", "TX", Level.FEDERAL, "FE", "DHS", "CBP"),
    Agency("WAOLN0000", "Washington Driver Licensing", "WA", Level.STATE, "NJ",
           criminal_justice=False, permissions=frozenset("A")),
    Agency("WA0010000", "Closed Sheriff", "WA", Level.COUNTY, "SO", active=False),
)


def engine(policy: str = POLICY, agencies: tuple[Agency, ...] = AGENCIES,
           version: int = 1) -> PolicyEngine:
    snapshot = Snapshot(version, MappingProxyType({a.ori: a for a in agencies}))
    return PolicyEngine("WA", compile_policies(policy), snapshot)


WA = engine()


def test_in_state_police_get_every_element_they_ask_for() -> None:
    decision = WA.decide(Request("WASPD0100", "DQ", image_requested=True))
    assert decision.verdict is Verdict.ALLOW
    assert decision.released == ("identity", "description", "address", "license",
                                 "credential", "ssn", "photo")
    assert decision.withheld == ()
    assert decision.policies == ("cj-baseline",)


def test_out_of_state_police_get_standard_elements_and_see_the_rest_withheld() -> None:
    decision = WA.decide(Request("ORPPD0000", "DQ", image_requested=True))
    assert decision.verdict is Verdict.ALLOW
    assert decision.withheld == ("credential", "ssn", "photo")


def test_a_photo_not_asked_for_is_neither_released_nor_withheld() -> None:
    decision = WA.decide(Request("ORPPD0000", "DQ"))
    assert "photo" not in decision.released + decision.withheld


def test_a_blocked_agency_is_denied_with_the_policy_and_its_reason() -> None:
    decision = WA.decide(Request("VTICE0900", "RQ"))
    assert decision.verdict is Verdict.DENY
    assert decision.policies == ("block-ice",)
    assert decision.explanation.startswith("block-ice: No state resources")
    assert decision.released == decision.withheld == ()


def test_a_court_order_opens_the_block() -> None:
    assert WA.decide(Request("VTICE0900", "RQ", court_order=True)).verdict is Verdict.ALLOW


def test_a_forbidden_query_with_a_review_path_is_held() -> None:
    decision = WA.decide(Request("NYHSI0100", "KQ"))
    assert decision.verdict is Verdict.REVIEW
    assert decision.policies == ("hsi-held", "hsi-review")
    assert decision.released == ("identity", "license", "history")


def test_an_agency_no_policy_names_is_allowed_by_the_baseline() -> None:
    assert WA.decide(Request("TXCBP0100", "RQ")).verdict is Verdict.ALLOW


@pytest.mark.parametrize(
    ("request_", "policy"),
    [
        (Request("ZZUNKNOWN", "DQ"), "unknown-agency"),
        (Request("", "DQ"), "unknown-agency"),
        (Request("NOT-AN-ORI-AT-ALL", "DQ"), "unknown-agency"),
        (Request("WA0010000", "DQ"), "inactive-agency"),
        (Request("WASPD0100", "AM"), "unsupported-key"),
        (Request("WASPD0100", "ZZQ"), "unsupported-key"),
        (Request("WAOLN0000", "DQ"), "default-deny"),
    ],
)
def test_anything_unclear_is_denied(request_: Request, policy: str) -> None:
    decision = WA.decide(request_)
    assert decision.verdict is Verdict.DENY
    assert decision.policies == (policy,)


@pytest.mark.parametrize("ori", ["vtice0900", " VTICE0900 ", "VtIcE0900\t"])
def test_lowercase_or_padded_oris_are_the_same_agency(ori: str) -> None:
    assert WA.decide(Request(ori, "DQ")).policies == ("block-ice",)


@pytest.mark.parametrize(("regional", "state_key"), [("DQG", "DQ"), ("RQG", "RQ")])
def test_regional_and_multi_state_forms_are_decided_as_the_query_states_receive(
    regional: str, state_key: str
) -> None:
    for ori in ("VTICE0900", "ORPPD0000", "NYHSI0100"):
        plain = WA.decide(Request(ori, state_key))
        assert WA.decide(Request(ori, regional)) == plain
        assert WA.decide(Request(ori, state_key, multi_state=True)).verdict is plain.verdict


def test_a_policy_that_errors_at_evaluation_denies_instead_of_being_skipped() -> None:
    overflowing = engine(POLICY + """
@id("overflow")
@reason("Evaluates to an error: a skipped forbid must not turn into an allow.")
forbid (principal, action in Action::"query", resource)
when { 9223372036854775807 + 1 > 0 };
""")
    decision = overflowing.decide(Request("WASPD0100", "DQ"))
    assert decision.verdict is Verdict.DENY
    assert decision.policies == ("policy-error",)


def test_a_directory_change_is_a_new_version_and_decides_afresh() -> None:
    changed = tuple(
        Agency(a.ori, a.name, a.state, a.level, a.agency_type, programs=frozenset({"287g"}))
        if a.ori == "WASPD0100" else a for a in AGENCIES
    )
    later = engine(agencies=changed, version=2)
    assert later.version != WA.version
    assert later.version.endswith(".d2")


def test_cached_decisions_are_the_same_object() -> None:
    first = WA.decide(Request("ORPPD0000", "RQ"))
    assert WA.decide(Request("ORPPD0000", "RQ")) is first
    assert WA.decide(Request("orppd0000", "RQ")) is first


def test_only_the_context_a_policy_reads_is_sent_to_cedar() -> None:
    from stateline.policy.engine import CONTEXT_KEYS, referenced_context

    assert referenced_context(POLICY) == {"court_order"}
    assert referenced_context(POLICY + "\n// the context matters\n") == CONTEXT_KEYS
    assert referenced_context('forbid (principal, action, resource) when { context has x };') \
        == CONTEXT_KEYS
