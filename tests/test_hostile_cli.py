"""Hostile command-line input: a lone surrogate (what undecodable argv bytes become), invalid
UTF-8 on stdin, dates and numbers out of range. Every command answers with a one-line error
and exit status 1 or 2 (Click's usage errors), never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir

runner = CliRunner()
FEW = settings(max_examples=40, deadline=None)


def refused(result: Result) -> str:
    """The error a command printed, once it is sure the command refused cleanly."""
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


def answered(result: Result) -> None:
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)


@pytest.mark.parametrize("period", ["2026-01-01..9999-12-31", "9999", "9999-Q4", "9999-12",
                                    "0000", "0001-01-01..0001-01-02", "2026-\ud800"])
def test_a_report_period_out_of_range_is_a_one_line_error(small_nation: DataDir,
                                                          period: str) -> None:
    result = runner.invoke(app, ["report", "--data", str(small_nation.root), "--state", "WA",
                                 "--period", period])
    assert "period" in refused(result)


@pytest.mark.parametrize(("option", "when"), [
    ("--until", "9999-12-31"), ("--since", "0001-01-01T00:00:00+01:00"),
    ("--until", "9999-12-31T23:59:59-05:00"), ("--since", "2026-13-01"),
    ("--since", "2026-01-0\ud800"), ("--limit", "99999999999999999999999"),
])
def test_a_traffic_search_date_out_of_range_is_a_one_line_error(small_nation: DataDir,
                                                                 option: str,
                                                                 when: str) -> None:
    result = runner.invoke(app, ["traffic", "search", "--data", str(small_nation.root),
                                 option, when])
    refused(result)


def test_msg_format_with_a_lone_surrogate_prints_the_reject() -> None:
    raw = json.dumps({"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"],
                      "control": "\ud800", "fields": [{"prefix": "OLN", "value": "X1"}]})
    result = runner.invoke(app, ["msg", "format"], input=raw)
    assert "NOT UTF-8 TEXT" in refused(result)
    result = runner.invoke(app, ["msg", "format", "--json"], input=raw)
    error = json.loads(refused(result))["error"]
    assert error["code"] == "rejected" and error["text"].startswith("0 ")


def test_msg_parse_with_invalid_utf8_prints_the_reject() -> None:
    result = runner.invoke(app, ["msg", "parse"], input=b"DQ.\xff\xfe.WA.TXT\nOLN/\xc3")
    refused(result)


@pytest.mark.parametrize("message", ["DQ.ORPPD0000.WA.TXT\nOLN/W\udcff",
                                     '{"key": "DQ\udcc3", "sender": "ORPPD0000"}'])
def test_send_with_undecodable_bytes_is_rejected_not_a_traceback(small_nation: DataDir,
                                                                 message: str) -> None:
    result = runner.invoke(app, ["send", message, "--data", str(small_nation.root),
                                 "--from", "ORPPD0000", "--wait", "0"])
    assert "NOT UTF-8 TEXT" in refused(result)


hostile = st.one_of(
    st.text(max_size=24),
    st.text(st.characters(codec=None, categories=None), max_size=12),
    st.from_regex(r"[0-9]{1,6}-[0-9Qq]{1,3}(-[0-9]{1,3})?(\.\.[0-9]{4,6}-[0-9]{2}-[0-9]{2})?",
                  fullmatch=True),
    st.dates().map(str), st.datetimes().map(str),
)


@FEW
@given(hostile)
def test_any_report_period_is_answered_or_refused_cleanly(period: str) -> None:
    answered(runner.invoke(app, ["report", "--data", "/nonexistent-nation", "--state", "WA",
                                 "--period", period]))


@FEW
@given(hostile, hostile)
def test_any_traffic_search_is_answered_or_refused_cleanly(since: str, until: str) -> None:
    answered(runner.invoke(app, ["traffic", "search", "--data", "/nonexistent-nation",
                                 "--since", since, "--until", until, "--text", since]))


@FEW
@given(st.text(st.characters(codec=None, categories=None), max_size=60))
def test_any_text_to_msg_commands_is_answered_or_refused_cleanly(raw: str) -> None:
    data = raw.encode("utf-8", "surrogatepass")
    for command in (["msg", "parse"], ["msg", "format"], ["msg", "parse", "--json"]):
        answered(runner.invoke(app, command, input=data))
