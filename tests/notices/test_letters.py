"""Letters a person can read and a printer can page, and CSV a mailing house can load."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from stateline.notices import Addressee, Notice, parse_duty
from stateline.notices.letters import CSV_COLUMNS, letters_html, mailing_csv, street_lines

DUTY = parse_duty('[notices]\ncategories = ["ICE", "HSI"]\nwithin = 3\ndays = "business"\n'
                  'timezone = "America/New_York"\ncontact = "Privacy Office, PO Box 7"\n', "NY")


def notice(number: int, name: str = "O'HARA,ANN <B>", outcome: str = "partial",
           disclosed: tuple[str, ...] = ("identity", "address"),
           street: str = "12 ELM ST") -> Notice:
    return Notice(
        f"NY-N{number:06d}", "NY", "r1", None, 3,
        Addressee("123456789", name, street, "ALBANY", "NY", "12207"),
        "ICE Field Office (Buffalo)", "ICE", "driver", outcome, disclosed,
        datetime(2026, 3, 3, 2, 30, tzinfo=UTC), datetime(2026, 3, 3, 2, 31, tzinfo=UTC),
        date(2026, 3, 5), "due")


def test_a_letter_names_the_person_the_agency_and_what_left() -> None:
    html = letters_html([notice(1)], DUTY, "NY", date(2026, 3, 4))
    assert "ANN &lt;B&gt; O&#39;HARA" in html  # escaped, never markup
    assert "<B>" not in html
    assert "12 ELM ST" in html and "ALBANY NY 12207" in html
    assert "ICE Field Office (Buffalo)" in html
    assert "U.S. Immigration and Customs Enforcement (ICE)" in html
    assert "March 2, 2026" in html  # the request's date in New York, not in UTC
    assert "March 4, 2026" in html  # the letter's date
    assert "Identity" in html and "Address" in html and "Social Security" not in html
    assert "within 3 business days" in html
    assert "Privacy Office, PO Box 7" in html and "NY-N000001" in html


def test_each_letter_is_its_own_printed_page() -> None:
    html = letters_html([notice(1), notice(2)], DUTY, "NY", date(2026, 3, 4))
    assert html.count('<article class="letter"') == 2
    assert "page-break-after: always" in html and "break-after: page" in html


def test_a_refused_request_says_nothing_was_given() -> None:
    html = letters_html([notice(1, outcome="denied", disclosed=())], DUTY, "NY",
                        date(2026, 3, 4))
    assert "We refused the request. Nothing from your record was given" in html
    assert "<strong>" not in html  # no list of released parts


def test_the_mailing_csv_parses_with_one_row_per_letter() -> None:
    text = mailing_csv([notice(1), notice(2, name="=CMD,EVIL")])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["notice_id"] for r in rows] == ["NY-N000001", "NY-N000002"]
    assert rows[0]["name"] == "ANN <B> O'HARA"
    assert rows[0]["address_line_1"] == "12 ELM ST"
    assert rows[0]["address_line_2"] == ""  # city, state and ZIP have their own columns
    assert (rows[0]["city"], rows[0]["state"], rows[0]["zip"]) == ("ALBANY", "NY", "12207")
    assert rows[0]["deadline"] == "2026-03-05"
    assert not rows[1]["name"].startswith("=")  # a spreadsheet would run it as a formula


@pytest.mark.parametrize(("street", "lines"), [
    ("12 ELM ST", ("12 ELM ST", "")),
    ("12 ELM ST APT 4B", ("12 ELM ST", "APT 4B")),
    ("900 MAIN ST STE 210", ("900 MAIN ST", "STE 210")),
    ("5 OAK AVE # 3", ("5 OAK AVE", "# 3")),
    ("1 APTOS WAY", ("1 APTOS WAY", "")),
])
def test_address_line_2_holds_only_the_unit(street: str, lines: tuple[str, str]) -> None:
    assert street_lines(street) == lines
    (row,) = csv.DictReader(io.StringIO(mailing_csv([notice(1, street=street)]), newline=""))
    assert (row["address_line_1"], row["address_line_2"]) == lines
    assert "ALBANY" not in row["address_line_1"] + row["address_line_2"]
