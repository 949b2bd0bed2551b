"""The case runner as a coordinator meets it: a wrong expectation is reported with what
differed, and a bad case file is refused with the case, its line and the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import MappingProxyType

import pytest

import stateline.policy.cases as cases_module
from stateline.directory.store import Snapshot
from stateline.policy import PolicyError
from stateline.policy.cases import CaseFile, CaseFileError, load_cases, parse_cases, run_cases
from stateline.policy.presets import preset
from stateline.sim.agencies import generate_agencies

BLOCK_ICE = preset("block-ice").text()


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    agencies = {agency.ori: agency for agency in generate_agencies(seed=1)}
    return Snapshot(1, MappingProxyType(agencies))


def parse(text: str, state: str | None = None) -> CaseFile:
    return parse_cases(textwrap.dedent(text), "cases.yaml", state)


def only_explanation(text: str, snapshot: Snapshot, policy: str = BLOCK_ICE) -> str:
    report = run_cases(policy, parse(text), snapshot)
    [result] = report.results
    return result.explanation


def test_the_example_in_the_module_docstring_runs_and_passes(snapshot: Snapshot) -> None:
    assert cases_module.__doc__ is not None
    example = cases_module.__doc__.split("\n\n", 2)[2]
    report = run_cases(preset("block-ice-and-287g").text(), parse(example), snapshot)
    assert [r.passed for r in report.results] == [True, False]
    assert report.results[1].explanation.startswith("expected allow, got deny (block-287g")


def test_a_wrong_verdict_fails_and_says_what_was_decided_and_why(snapshot: Snapshot) -> None:
    report = run_cases(BLOCK_ICE, parse("""\
        state: WA
        cases:
          - {name: right, ori: VTICE0900, key: DQ, expect: deny}
          - {name: wrong, ori: VTICE0900, key: DQ, expect: allow}
        """), snapshot)
    assert not report.ok
    assert [r.case.name for r in report.passed] == ["right"]
    [failed] = report.failed
    assert failed.explanation == (
        "expected allow, got deny (block-ice: This state does not answer queries from "
        "U.S. Immigration and Customs Enforcement (ICE).)")


def test_element_sets_must_match_exactly(snapshot: Snapshot) -> None:
    explanation = only_explanation("""\
        state: WA
        cases:
          - ori: ORPPD0000
            key: DQ
            context: {image_requested: true}
            expect: allow
            released: [identity, description, address, license, photo]
            withheld: [credential, ssn]
        """, snapshot)
    assert explanation == (
        "released [identity, description, address, license], expected [identity, "
        "description, address, license, photo]; withheld [credential, ssn, photo], "
        "expected [credential, ssn]")


def test_the_named_policy_must_be_among_the_deciding_ones(snapshot: Snapshot) -> None:
    explanation = only_explanation("""\
        state: WA
        cases: [{ori: NYCIS0100, key: DQ, expect: deny, policy: block-ice}]
        """, snapshot)
    assert explanation == "policy block-ice did not decide (deciding: default-deny)"


def test_a_passing_case_explains_the_decision(snapshot: Snapshot) -> None:
    assert only_explanation("""\
        state: WA
        cases: [{ori: " vtice0900 ", key: dqg, expect: deny, policy: block-ice}]
        """, snapshot) == "deny (block-ice)"


def test_one_ori_listed_and_changed_in_one_file_is_decided_both_ways(
        snapshot: Snapshot) -> None:
    report = run_cases(preset("block-ice-and-287g").text(), parse("""\
        state: WA
        cases:
          - {ori: WASPD0100, key: DQ, expect: allow}
          - {agency: {ori: WASPD0100, programs: [287g]}, key: DQ, expect: deny}
          - {agency: {ori: WASPD0100, active: false}, key: DQ, expect: deny,
             policy: inactive-agency}
          - {ori: waspd0100, key: RQ, expect: allow}
        """), snapshot)
    assert [r.explanation for r in report.results] == [
        "allow (cj-agencies-may-query)", "deny (block-287g-partners)",
        "deny (inactive-agency)", "allow (cj-agencies-may-query)"]


def test_the_home_state_comes_from_the_case_then_the_file_then_the_caller() -> None:
    text = """\
        {state}
        cases:
          - {{ori: WASPD0100, key: DQ, expect: allow, state: or}}
          - {{ori: WASPD0100, key: DQ, expect: allow}}
        """
    assert [c.state for c in parse(text.format(state="state: NY"), "WA")] == ["OR", "NY"]
    assert [c.state for c in parse(text.format(state=""), "wa")] == ["OR", "WA"]


def test_out_of_state_is_relative_to_the_home_state(snapshot: Snapshot) -> None:
    report = run_cases(preset("cj-baseline").text(), parse("""\
        cases:
          - {ori: ORPPD0000, key: DQ, expect: allow, withheld: [credential, ssn], state: WA}
          - {ori: ORPPD0000, key: DQ, expect: allow, withheld: [], state: OR}
        """), snapshot)
    assert report.ok


def test_a_policy_that_does_not_compile_is_a_policy_error(snapshot: Snapshot) -> None:
    with pytest.raises(PolicyError):
        run_cases("permit (principal, action, resource);", parse("""\
            state: WA
            cases: [{ori: WASPD0100, key: DQ, expect: allow}]
            """), snapshot)


BAD_FILES = [
    ("state: WA\ncases:\n  - ori: [WASPD0100\n", "not valid YAML at line 4"),
    ("- ori: WASPD0100\n", "expected a mapping with `cases:`"),
    ("", "expected a mapping with `cases:`"),
    ("state: WA\ncases: []\n", "no cases"),
    ("state: WA\ncase:\n  - ori: WASPD0100\n", "unknown key 'case' in the file"),
    ("state: NO\ncases: [{ori: WASPD0100, key: DQ, expect: allow}]\n", "(quote it)"),
    ("state: WA\ncases:\n  - ori: WASPD0100\n    key: DQ\n    expct: allow\n",
     "case 1 (line 3): unknown key 'expct' in a case"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: allow}\n"
     "  - name: second\n    ori: WASPD0100\n    key: XQ\n    expect: allow\n",
     "case 2 'second' (line 4): key 'XQ' is not one of DQ DNQ KQ RQ RNQ RPQ DQG RQG"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: maybe}\n",
     "expect 'maybe' is not one of allow, review, deny"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: allow, released: [face]}\n",
     "released: 'face' is not an element"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: allow, released: photo}\n",
     "released must be a list"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: allow,\n"
     "     context: {court_order: 'yes'}}\n", "court_order must be true or false, got text"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, key: DQ, expect: allow, context: {urgent: true}}\n",
     "unknown key 'urgent' in context"),
    ("state: WA\ncases:\n  - {ori: 123456789, key: DQ, expect: allow}\n",
     "ori must be text, got a number (quote it)"),
    ("state: WA\ncases:\n  - {key: DQ, expect: allow}\n",
     "give exactly one of `ori:`, `unknown_ori:` or `agency:`"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, agency: {ori: WASPD0100}, key: DQ, "
     "expect: allow}\n", "give exactly one of"),
    ("state: WA\ncases:\n  - {ori: WASPD0100, expect: allow}\n", "`key:` is missing"),
    ("cases:\n  - {ori: WASPD0100, key: DQ, expect: allow}\n", "no home state"),
    ("state: WA\ncases:\n  - ori: WASPD0100\n    key: DQ\n    key: RQ\n    expect: allow\n",
     "line 5: 'key' is given twice"),
    ("state: WA\ncases:\n  - {agency: {name: x}, key: DQ, expect: allow}\n",
     "agency: `ori:` is missing"),
    ("state: WA\ncases:\n  - {agency: {ori: WASPD0100, colour: red}, key: DQ, "
     "expect: allow}\n", "unknown key 'colour' in agency"),
    ("state: WA\ncases:\n  - just a string\n", "case 1 (line 3): expected a mapping"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_malformed_case_file_is_refused_with_where_and_why(text: str, message: str) -> None:
    with pytest.raises(CaseFileError) as raised:
        parse_cases(text, "cases.yaml")
    assert str(raised.value).startswith("cases.yaml: ")
    assert message in str(raised.value)


BAD_AGENCIES = [
    ("{ori: WASPD0199, key: DQ, expect: allow}",
     "case 1 (line 3): ORI WASPD0199 is not in the directory (write `unknown_ori:`"),
    ("{ori: WASPD01, key: DQ, expect: allow}", "ORI 'WASPD01' is not 9 letters or digits"),
    ("{unknown_ori: ' vtice0900', key: DQ, expect: deny}",
     "unknown_ori VTICE0900 is in the directory"),
    ("{agency: {ori: WA0990000, state: WA}, key: DQ, expect: allow}",
     "must also give level, agency_type"),
    ("{agency: {ori: WASPD0100, department: DHS}, key: DQ, expect: allow}",
     "only federal agencies have a department"),
    ("{agency: {ori: WASPD0100, level: city}, key: DQ, expect: allow}",
     "'city' is not one of local, county"),
]


@pytest.mark.parametrize(("case", "message"), BAD_AGENCIES)
def test_an_agency_the_directory_cannot_back_is_refused_before_anything_runs(
        case: str, message: str, snapshot: Snapshot) -> None:
    cases = parse(f"state: WA\ncases:\n  - {case}\n")
    with pytest.raises(CaseFileError, match=r"^cases\.yaml: case 1") as raised:
        run_cases(BLOCK_ICE, cases, snapshot)
    assert message in str(raised.value)


def test_a_case_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="cannot read"):
        load_cases(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("state: WA\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(CaseFileError, match="not UTF-8"):
        load_cases(latin)
