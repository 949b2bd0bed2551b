"""The plain-language explanation is what the engine decides: the matrix and the sentences
follow the policy in force, category by category, and agree with real decisions."""

from __future__ import annotations

import json

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory, Snapshot
from stateline.policy import PolicyEngine, Request, Verdict, compile_policies
from stateline.policy.explain import Access, CategoryView, Explanation, explain, to_json
from stateline.policy.store import load_source
from tests.policy.texts import BLOCK_ICE_REVIEW_HSI as BLOCK_ICE


@pytest.fixture(scope="module")
def snapshot(small_nation: DataDir) -> Snapshot:
    with Directory.open(small_nation, create=False) as directory:
        return directory.snapshot()


@pytest.fixture(scope="module")
def default(small_nation: DataDir, snapshot: Snapshot) -> Explanation:
    return explain(PolicyEngine("WA", load_source(small_nation, "WA"), snapshot))


@pytest.fixture(scope="module")
def blocking(snapshot: Snapshot) -> Explanation:
    return explain(PolicyEngine("WA", compile_policies(BLOCK_ICE), snapshot))


def views(explanation: Explanation, category: str) -> list[CategoryView]:
    return [view for view in explanation.categories if view.category == category]


def row(view: CategoryView, key: str) -> dict[str, Access]:
    return next(r for r in view.rows if r.key == key).elements


def test_the_default_policy_gives_in_state_police_identity_and_photo(default: Explanation
                                                                    ) -> None:
    [in_state] = views(default, "in-state")
    assert in_state.agency.state == "WA"
    assert row(in_state, "DQ")["identity"] is Access.RELEASED
    assert row(in_state, "DQ")["photo"] is Access.RELEASED
    assert row(in_state, "RQ") == {"vehicle": Access.RELEASED, "registration": Access.RELEASED}


def test_the_default_policy_keeps_photos_from_other_states(default: Explanation) -> None:
    [out] = views(default, "out-of-state")
    assert out.agency.state != "WA"
    assert row(out, "DQ")["identity"] is Access.RELEASED
    assert row(out, "DQ")["photo"] is Access.WITHHELD
    assert "photo" in out.sentence and "withheld" in out.sentence


def test_an_agency_no_policy_permits_is_denied_every_query(default: Explanation) -> None:
    [uscis] = views(default, "USCIS")
    assert all(r.verdict is Verdict.DENY for r in uscis.rows)
    assert set(row(uscis, "DQ").values()) == {Access.DENIED}
    assert uscis.sentence.startswith("USCIS: every query denied (")


def test_the_policies_are_listed_with_effect_and_reason(blocking: Explanation) -> None:
    listed = {p.id: (p.effect, p.reason) for p in blocking.policies}
    assert listed["block-ice"] == ("forbid", "No state resources for civil immigration "
                                             "enforcement without a court order.")
    assert listed["cj-baseline"][0] == "permit"


def test_a_block_reads_as_a_denial_with_its_reason_and_what_lifts_it(blocking: Explanation
                                                                     ) -> None:
    [ice] = views(blocking, "ICE")
    assert ice.sentence == ("ICE: every query denied (block-ice: No state resources for civil "
                            "immigration enforcement without a court order); a court order "
                            "on file opens every query.")
    assert ice.opened_by_court_order == ("DQ", "DNQ", "RQ", "RPQ", "KQ")
    assert ice.opened_by_attestation == ()


def test_held_queries_show_what_review_would_release(blocking: Explanation) -> None:
    for hsi in views(blocking, "HSI"):
        assert all(r.verdict is Verdict.REVIEW for r in hsi.rows)
        assert row(hsi, "DQ")["identity"] is Access.REVIEW
        assert "held for review (hsi-held: " in hsi.sentence


def test_a_category_treated_differently_in_and_out_of_state_gets_two_views(
        blocking: Explanation) -> None:
    cbp = views(blocking, "CBP")
    assert [view.where for view in cbp] == ["in WA", "out of state"]
    assert row(cbp[0], "DQ")["photo"] is Access.RELEASED
    assert row(cbp[1], "DQ")["photo"] is Access.WITHHELD
    assert cbp[1].sentence == ("CBP (out of state): every query answered; credential, ssn and "
                               "photo withheld.")
    [in_state] = views(blocking, "in-state")
    assert in_state.where == ""


def test_the_matrix_agrees_with_the_engine(small_nation: DataDir, snapshot: Snapshot,
                                           blocking: Explanation) -> None:
    engine = PolicyEngine("WA", compile_policies(BLOCK_ICE), snapshot)
    for view in blocking.categories:
        for shown in view.rows:
            decided = engine.decide(Request(view.agency.ori, shown.key, image_requested=True))
            assert shown.verdict is decided.verdict
            released = {e for e, a in shown.elements.items()
                        if a in (Access.RELEASED, Access.REVIEW)}
            assert released == set(decided.released)


def test_a_category_without_agencies_is_named_not_invented(snapshot: Snapshot) -> None:
    few = Snapshot(snapshot.version, {ori: a for ori, a in snapshot.agencies.items()
                                      if a.component != "USCIS"})
    explanation = explain(PolicyEngine("WA", compile_policies(BLOCK_ICE), few))
    assert explanation.missing == ("USCIS",)
    assert views(explanation, "USCIS") == []


def test_json_carries_the_matrix_for_a_dashboard(blocking: Explanation) -> None:
    shown = json.loads(json.dumps(to_json(blocking)))
    assert shown["state"] == "WA" and shown["version"] == blocking.version
    ice = next(c for c in shown["categories"] if c["category"] == "ICE")
    assert ice["rows"][0]["key"] == "DQ" and ice["rows"][0]["verdict"] == "deny"
    assert ice["rows"][0]["elements"]["identity"] == "denied"
    assert ice["rows"][0]["reasons"][0]["policy"] == "block-ice"
    assert {p["id"] for p in shown["policies"]} >= {"block-ice", "hsi-held"}
