"""Subject notices: telling people when certain agencies ask for their records (DESIGN.md "One
query, end to end", step 4), under the duty a state's config.toml sets in `[notices]`."""

from __future__ import annotations

from .book import FILTERS, Filter, Gap, Notice, NoticeBook, NoticeError, disclosed_elements
from .config import (
    Days,
    NoticeConfigError,
    NoticeDuty,
    When,
    load_duty,
    new_york_style_notices,
    parse_duty,
)
from .days import add_business_days, deadline, federal_holidays, is_business_day
from .subjects import Addressee, Subjects, subjects

__all__ = [
    "FILTERS",
    "Addressee",
    "Days",
    "Filter",
    "Gap",
    "Notice",
    "NoticeBook",
    "NoticeConfigError",
    "NoticeDuty",
    "NoticeError",
    "Subjects",
    "When",
    "add_business_days",
    "deadline",
    "disclosed_elements",
    "federal_holidays",
    "is_business_day",
    "load_duty",
    "new_york_style_notices",
    "parse_duty",
    "subjects",
]
