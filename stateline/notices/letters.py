"""Notices as paper: printable HTML letters in plain words, and CSV for a mailing house."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from ..directory.csvio import spreadsheet_cell
from ..protocol.places import STATES
from .book import Notice
from .config import NoticeDuty

ELEMENT_WORDS: dict[str, tuple[str, str]] = {
    "identity": ("Identity", "your name, date of birth, sex and license number"),
    "description": ("Description", "your height, weight, eye color and hair color"),
    "address": ("Address", "the address we have on file for you"),
    "license": ("License", "your license class, status, restrictions, endorsements and dates"),
    "credential": ("Card type", "whether your card is a REAL ID, a standard or a "
                                "limited-purpose license or ID card"),
    "ssn": ("Social Security number", "your Social Security number"),
    "photo": ("Photo", "your license photo"),
    "history": ("Driving history", "traffic convictions and suspensions on your record"),
    "vehicle": ("Vehicle", "your vehicle's identification number (VIN), make, model, year, "
                           "body style and color"),
    "registration": ("Registration", "your plate number, plate type, expiry date and the "
                                     "owner's name"),
}
"""Each data element as a heading and in plain words."""

CATEGORY_WORDS = {
    "ICE": "part of U.S. Immigration and Customs Enforcement (ICE)",
    "HSI": "part of Homeland Security Investigations (HSI), within ICE",
    "CBP": "part of U.S. Customs and Border Protection (CBP)",
    "USCIS": "part of U.S. Citizenship and Immigration Services (USCIS)",
    "DHS-other": "part of the U.S. Department of Homeland Security",
    "federal-other": "a federal agency",
    "287(g) partner": "a local agency with an immigration enforcement agreement with ICE "
                      "(287(g))",
    "out-of-state": "an agency in another state",
    "in-state": "an agency in this state",
    "unknown": "an agency we could not identify",
}
"""Each statistics category as the letter describes the agency."""
IMMIGRATION = frozenset({"ICE", "HSI", "CBP", "USCIS", "DHS-other", "287(g) partner"})
RECORD_WORDS = {"driver": "driver's license record", "history": "driving history",
                "vehicle": "vehicle registration record"}
OUTCOME_WORDS = {
    "released": "We gave the agency the parts of your record listed below.",
    "partial": "We gave the agency the parts of your record listed below and held back the "
               "rest.",
    "denied": "We refused the request. Nothing from your record was given to the agency.",
    "held": "Our staff are reviewing the request. Nothing from your record has been given to "
            "the agency so far.",
    "no-record": "We found no record to give. Nothing was given to the agency.",
    "error": "We could not answer the request. Nothing from your record was given to the "
             "agency.",
}

_ENV = Environment(loader=PackageLoader("stateline.notices", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)


def spoken(day: date) -> str:
    """A date as a letter writes it: March 5, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


def _why(state_name: str, duty: NoticeDuty | None) -> str:
    if duty is None:
        return f"{state_name} tells people when certain agencies ask for their records."
    which = ("certain agencies, including federal immigration agencies,"
             if duty.categories & IMMIGRATION else "certain agencies")
    return (f"{state_name} law requires us to tell you when {which} ask for your records, "
            f"{duty.describe()}.")


def _letter(notice: Notice, duty: NoticeDuty | None, today: date) -> dict[str, object]:
    state_name = STATES.get(notice.state, notice.state)
    requested = duty.local_date(notice.requested) if duty else notice.requested.date()
    line1, line2 = notice.person.lines
    return {
        "id": notice.id, "date": spoken(today), "name": notice.person.mailing_name,
        "line1": line1, "line2": line2, "state_name": state_name,
        "office": duty.office if duty else f"{state_name} Department of Motor Vehicles",
        "record": RECORD_WORDS.get(notice.record, "record"), "requested": spoken(requested),
        "agency": notice.agency, "category": CATEGORY_WORDS.get(notice.category,
                                                                 notice.category),
        "why": _why(state_name, duty), "outcome": OUTCOME_WORDS.get(notice.outcome, ""),
        "disclosed": [{"name": ELEMENT_WORDS.get(e, (e, e))[0],
                       "words": ELEMENT_WORDS.get(e, (e, e))[1]} for e in notice.disclosed],
    }


def letters_html(notices: Sequence[Notice], duty: NoticeDuty | None, state: str,
                 today: date | None = None) -> str:
    """One HTML document, one printed page per notice (the browser's print breaks pages)."""
    day = today or datetime.now().date()
    return _ENV.get_template("letters.html").render(
        state_name=STATES.get(state, state),
        letters=[_letter(n, duty, day) for n in notices])


CSV_COLUMNS = ("notice_id", "name", "address_line_1", "address_line_2", "city", "state", "zip",
               "deadline")


_UNIT = re.compile(r"(.*?\S)\s+((?:APT|UNIT|STE|SUITE|RM|ROOM|FL|BLDG|LOT|TRLR)\b.*|#\s*\S+)",
                   re.IGNORECASE)
"""A USPS secondary unit (apartment, suite ...) at the end of a street line."""


def street_lines(street: str) -> tuple[str, str]:
    """The street line and the secondary unit a mailing house wants as address line 2; the
    city, state and ZIP have columns of their own and never repeat there."""
    match = _UNIT.fullmatch(street.strip())
    return (match.group(1), match.group(2)) if match else (street.strip(), "")


def mailing_csv(notices: Sequence[Notice]) -> str:
    """One row per letter, the columns a mailing house asks for; the deadline as YYYY-MM-DD."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n in notices:
        p = n.person
        line1, line2 = street_lines(p.street)
        writer.writerow([spreadsheet_cell(v) for v in (n.id, p.mailing_name, line1, line2, p.city,
                                            p.state, p.zip, n.deadline.isoformat())])
    return out.getvalue()
