"""Statistics categories: an ordered rule table, first match wins, loadable from TOML."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from stateline.directory import (
    CATEGORIES,
    DEFAULT_RULES,
    Agency,
    Level,
    RuleFileError,
    RuleTable,
    category,
    is_federal_immigration,
    load_rules,
    memberships,
    parse_rules,
)
from stateline.directory.categories import UNCATEGORISED, CategoryRule, one_of

from .samples import CBP, FBI, HSI, ICE, PARTNER, PORTLAND, SPOKANE, TSA, USCIS

README = Path(__file__).resolve().parents[2] / "README.md"

DEFAULT_TOML = """
[[category]]
name = "ICE"
department = "DHS"
component = "ICE"

[[category]]
name = "HSI"
department = "DHS"
component = "HSI"

[[category]]
name = "CBP"
department = "DHS"
component = "CBP"

[[category]]
name = "USCIS"
department = "DHS"
component = "USCIS"

[[category]]
name = "DHS-other"
department = "DHS"

[[category]]
name = "federal-other"
level = "federal"

[[category]]
name = "287(g) partner"
level = { not = ["federal"] }
program = "287g"

[[category]]
name = "out-of-state"
home = false

[[category]]
name = "in-state"
home = true
"""


def test_the_default_categories_are_designs_in_its_order() -> None:
    assert CATEGORIES == ("ICE", "HSI", "CBP", "USCIS", "DHS-other", "federal-other",
                          "287(g) partner", "out-of-state", "in-state")


@pytest.mark.parametrize(("agency", "expected"), [
    (ICE, "ICE"), (HSI, "HSI"), (CBP, "CBP"), (USCIS, "USCIS"), (TSA, "DHS-other"),
    (FBI, "federal-other"), (PARTNER, "287(g) partner"), (PORTLAND, "out-of-state"),
    (SPOKANE, "in-state"),
])
def test_each_category_as_washington_counts_it(agency: Agency, expected: str) -> None:
    assert category(agency, "WA") == expected


def test_federal_agencies_keep_their_category_in_their_own_state() -> None:
    assert category(HSI, "WA") == category(HSI, "OR") == "HSI"
    assert category(FBI, "WA") == "federal-other"


def test_a_287g_partner_is_a_partner_even_in_its_own_state() -> None:
    assert category(PARTNER, "TX") == category(PARTNER, "WA") == "287(g) partner"


def test_a_federal_agency_in_the_287g_program_is_counted_as_federal() -> None:
    assert category(replace(FBI, programs=frozenset({"287g"})), "WA") == "federal-other"


def test_the_home_state_is_read_in_any_case() -> None:
    assert category(SPOKANE, " wa ") == "in-state"


def test_first_match_wins_and_memberships_list_every_match() -> None:
    assert memberships(ICE, "WA") == ("ICE", "DHS-other", "federal-other", "out-of-state",
                                      "federal", "DHS", "federal-immigration")
    assert memberships(SPOKANE, "WA") == ("in-state",)
    assert memberships(PARTNER, "TX") == ("287(g) partner", "in-state", "287g")


def test_reordering_the_table_changes_the_answer() -> None:
    federal_first = (DEFAULT_RULES.categories[5], *DEFAULT_RULES.categories[:5],
                     *DEFAULT_RULES.categories[6:])
    reordered = RuleTable(federal_first)
    assert category(ICE, "WA") == "ICE"
    assert category(ICE, "WA", reordered) == "federal-other"
    assert category(HSI, "WA", reordered) == "federal-other"
    assert category(TSA, "WA", reordered) == "federal-other"


@pytest.mark.parametrize(("agency", "inside"), [
    (ICE, True), (HSI, True), (CBP, True), (USCIS, True), (TSA, False), (FBI, False),
    (PARTNER, False), (SPOKANE, False),
])
def test_federal_immigration_is_the_four_dhs_components_and_nothing_else(
        agency: Agency, inside: bool) -> None:
    assert is_federal_immigration(agency) is inside
    assert ("federal-immigration" in memberships(agency, "WA")) is inside


def test_policy_groups_name_federal_dhs_and_287g() -> None:
    assert {"federal", "DHS"} <= set(memberships(TSA, "WA"))
    assert "DHS" not in memberships(FBI, "WA")
    assert "287g" in memberships(PARTNER, "WA")
    assert "federal" not in memberships(PARTNER, "WA")


def test_an_agency_no_rule_matches_is_uncategorised() -> None:
    only_ice = RuleTable((CategoryRule("ICE", component=one_of("ICE")),))
    assert category(SPOKANE, "WA", only_ice) == UNCATEGORISED


def test_the_default_table_written_as_toml_reads_back_the_same() -> None:
    assert parse_rules(DEFAULT_TOML) == DEFAULT_RULES


def test_a_state_can_extend_the_table_and_its_groups(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_TOML.replace('[[category]]\nname = "out-of-state"', """\
[[category]]
name = "neighbour"
state = ["or", "ID"]

[[category]]
name = "out-of-state\"""") + '\n[[group]]\nname = "city police"\nagency_type = "pd"\n')
    rules = load_rules(path)
    assert category(PORTLAND, "WA", rules) == "neighbour"
    assert category(SPOKANE, "WA", rules) == "in-state"
    assert memberships(SPOKANE, "WA", rules) == ("in-state", "city police")


def test_the_readme_example_rules_read_and_work() -> None:
    section = README.read_text().split("## Agency directory", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert found is not None
    rules = parse_rules(found.group(1), "README")
    assert category(HSI, "WA", rules) == "ICE"
    assert category(PARTNER, "WA", rules) == "287(g) partner"
    assert category(FBI, "WA", rules) == "everyone else"


@pytest.mark.parametrize(("text", "words"), [
    ("[[category]\nname = 'x'", "not valid TOML"),
    ("", "no [[category]] rules"),
    ("[rules]\nx = 1", "unknown section 'rules'"),
    ("category = 'ICE'", "must be written as [[category]] tables"),
    ("[[category]]\ncomponent = 'ICE'", "category 1 ('unnamed'): needs a name"),
    ("[[category]]\nname = 'A'\n[[category]]\nname = 'B'\ndepartmen = 'DHS'",
     "category 2 ('B'): unknown key 'departmen'"),
    ("[[category]]\nname = 'A'\nlevel = 'federall'",
     "level 'federall' is not one of county, federal"),
    ("[[category]]\nname = 'A'\ncomponent = 'ICEE'", "component 'ICEE' is not one of"),
    ("[[category]]\nname = 'A'\nhome = 'yes'", "home must be true"),
    ("[[category]]\nname = 'A'\nlevel = []", "expected a string or a list of strings"),
    ("[[category]]\nname = 'A'\nlevel = 3", "expected a string or a list of strings"),
    ("[[category]]\nname = 'A'\nlevel = { but = ['federal'] }", "must be { not = [...] }"),
    ("[[category]]\nname = 'A'\n[[category]]\nname = 'A'", "'A' names more than one"),
    ("[[category]]\nname = 'federal'", "'federal' names more than one"),
])
def test_a_bad_rule_file_is_refused_with_the_file_and_rule_named(text: str, words: str) -> None:
    with pytest.raises(RuleFileError, match=re.escape(words)) as caught:
        parse_rules(text, "wa-rules.toml")
    assert str(caught.value).startswith("wa-rules.toml: ")


def test_an_unreadable_rule_file_is_a_rule_file_error(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"[[category]]\nname = 'Polic\xeda'\n")
    with pytest.raises(RuleFileError, match="not UTF-8"):
        load_rules(latin)


def test_levels_in_rules_match_the_directory_spelling() -> None:
    rules = parse_rules("[[category]]\nname = 'tribal'\nlevel = 'TRIBAL'\n"
                        "[[category]]\nname = 'rest'")
    tribal = Agency("AZ901T000", "Tribal Police", "AZ", Level.TRIBAL, "PD")
    assert category(tribal, "AZ", rules) == "tribal"
