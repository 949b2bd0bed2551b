"""The `[notices]` section as a coordinator writes it: good ones read as meant, bad ones refused
with the file and the key named."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.datadir import DataDir
from stateline.notices import (
    Days,
    NoticeConfigError,
    When,
    load_duty,
    new_york_style_notices,
    parse_duty,
)
from stateline.sim.nation import state_config

GOOD = """
[gateway]
driver_ori = "NYOLN0000"

[notices]
categories = ["ICE", "HSI"]
within = 3
days = "business"
when = "before-disclosure"
exceptions = ["court-order-sealed"]
timezone = "America/New_York"
state_holidays = ["2026-02-12"]
contact = "Privacy Office, PO Box 1"
"""


def test_a_good_section_reads_as_written() -> None:
    duty = parse_duty(GOOD, "ny")
    assert duty is not None
    assert duty.state == "NY"
    assert duty.categories == {"ICE", "HSI"}
    assert (duty.within, duty.days, duty.when) == (3, Days.BUSINESS, When.BEFORE_DISCLOSURE)
    assert duty.outcomes == {"held", "released", "partial"}  # the before-disclosure default
    assert duty.exceptions == ("court-order-sealed",)
    assert duty.state_holidays == {date(2026, 2, 12)}
    assert duty.office == "Privacy Office, PO Box 1"
    assert duty.describe() == "within 3 business days of the request, before any disclosure"


def test_no_section_means_no_duty(tmp_path: Path) -> None:
    assert parse_duty('[gateway]\ndriver_ori = "NYOLN0000"\n', "NY") is None
    assert load_duty(DataDir(tmp_path), "NY") is None  # no config file at all


def test_after_request_counts_denials_and_holds_but_not_missing_records() -> None:
    duty = parse_duty('[notices]\ncategories = ["ICE"]\nwithin = 3\n', "NY")
    assert duty is not None
    assert duty.when is When.AFTER_REQUEST and duty.days is Days.CALENDAR
    assert duty.applies("ICE", "denied") and duty.applies("ICE", "held")
    assert not duty.applies("ICE", "no-record")
    assert not duty.applies("in-state", "released")


def test_days_are_counted_from_the_states_own_date() -> None:
    duty = parse_duty('[notices]\ncategories = ["ICE"]\nwithin = 1\n'
                      'timezone = "America/New_York"\n', "NY")
    assert duty is not None
    late_evening = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # 21:30 on 2 March in New York
    assert duty.local_date(late_evening) == date(2026, 3, 2)
    assert duty.deadline(late_evening) == date(2026, 3, 3)


def test_the_new_york_block_appends_to_a_generated_config() -> None:
    text = state_config("NY") + new_york_style_notices()
    assert tomllib.loads(text)["state"]["code"] == "NY"
    duty = parse_duty(text, "NY")
    assert duty is not None
    assert duty.categories == {"ICE", "HSI", "CBP", "USCIS", "DHS-other"}
    assert duty.describe() == "within 3 days after the request"
    assert "court-order-sealed" in duty.exceptions
    other = parse_duty(state_config("NJ") + new_york_style_notices("America/Chicago"), "NJ")
    assert other is not None and other.timezone == "America/Chicago"


BASE = 'categories = ["ICE"]\nwithin = 3\n'


@pytest.mark.parametrize(("section", "key", "words"), [
    ('categories = ["ICE"]\n', "within", "missing"),
    ("within = 3\n", "categories", "missing"),
    ('categories = ["ice"]\nwithin = 3\n', "categories", "'ice' is not one of"),
    ("categories = []\nwithin = 3\n", "categories", "empty"),
    ('categories = "ICE"\nwithin = 3\n', "categories", "list of strings"),
    ('categories = ["ICE"]\nwithin = "3"\n', "within", "whole number"),
    ('categories = ["ICE"]\nwithin = -1\n', "within", "whole number"),
    ('categories = ["ICE"]\nwithin = true\n', "within", "whole number"),
    ('categories = ["ICE"]\nwithin = 3.5\n', "within", "whole number"),
    (BASE + 'days = "weekdays"\n', "days", "'calendar' or 'business'"),
    (BASE + 'when = "later"\n', "when", "'after-request' or 'before-disclosure'"),
    (BASE + 'outcomes = ["released", "leaked"]\n', "outcomes", "'leaked' is not one of"),
    (BASE + 'exceptions = ["Court Order"]\n', "exceptions", "court-order-sealed"),
    (BASE + 'exceptions = ["sealed", "sealed"]\n', "exceptions", "named twice"),
    (BASE + 'timezone = "Mars/Olympus"\n', "timezone", "not a time zone"),
    (BASE + 'state_holidays = ["2026-13-01"]\n', "state_holidays", "not a date"),
    (BASE + "contact = 5\n", "contact", "expected text"),
    (BASE + "withn = 3\n", "withn", "unknown key"),
])
def test_a_bad_key_is_named_with_the_file(tmp_path: Path, section: str, key: str,
                                          words: str) -> None:
    data = DataDir(tmp_path)
    data.state_dir("NY").mkdir(parents=True)
    data.config("NY").write_text("[notices]\n" + section)
    with pytest.raises(NoticeConfigError) as caught:
        load_duty(data, "NY")
    message = str(caught.value)
    assert message.startswith(f"{data.config('NY')}: [notices] {key}: ")
    assert words in message


def test_broken_toml_and_a_non_table_section_are_refused() -> None:
    with pytest.raises(NoticeConfigError, match="not valid TOML"):
        parse_duty("[notices\n", "NY", source="ny.toml")
    with pytest.raises(NoticeConfigError, match=r"ny.toml: \[notices\] must be a table"):
        parse_duty('notices = "yes"\n', "NY", source="ny.toml")


@given(st.integers(min_value=0, max_value=90), st.sampled_from(["business", "calendar"]),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 1, 1),
                    timezones=st.just(UTC)))
def test_any_valid_duty_gives_a_deadline_no_sooner_than_the_request(
        within: int, days: str, requested: datetime) -> None:
    duty = parse_duty(f'[notices]\ncategories = ["ICE"]\nwithin = {within}\n'
                      f'days = "{days}"\n', "NY")
    assert duty is not None
    assert (duty.deadline(requested) - requested.date()).days >= within


@given(st.integers().filter(lambda n: not 0 <= n <= 90))
def test_any_out_of_range_within_is_refused(within: int) -> None:
    with pytest.raises(NoticeConfigError, match="within"):
        parse_duty(f'[notices]\ncategories = ["ICE"]\nwithin = {within}\n', "NY")
