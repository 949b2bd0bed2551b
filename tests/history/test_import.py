"""`import_history` on a small nation: a file goes into the state's audit log whole, as
`imported` entries in time order that read back as their record and verify; or, on any
problem, nothing goes in and the log is exactly as it was."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.audit import EntryKind, log_keys, read_state_log
from stateline.audit.entries import canonical_json
from stateline.audit.records import ImportedRecord, Sender, Source
from stateline.datadir import DataDir
from stateline.directory import Agency, Level
from stateline.history import AlreadyImported, HistoryError, ImportSummary, import_history
from stateline.history import errors as limits
from stateline.history.bodies import Bodies, FileFacts, Senders, request_id
from stateline.history.rows import ELEMENT_NAMES, OUTCOMES, QUERY_KEYS, Row
from stateline.protocol import Field, Outcome

from . import samples
from .samples import REQUESTS, STATE, Request

TODAY = date(2026, 1, 15)


def run(data: DataDir, *paths: Path, **options: Any) -> ImportSummary:
    return import_history(data, STATE, list(paths), today=TODAY, **options)


def written(data: DataDir, tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def state_of(data: DataDir) -> tuple[int, bytes]:
    log = read_state_log(data, STATE)
    assert log is not None
    with log:
        return log.size, log.root()


def verifies(data: DataDir) -> bool:
    log = read_state_log(data, STATE)
    assert log is not None
    with log:
        return log.verify(log_keys(data, STATE)).ok


def imported(data: DataDir) -> list[dict[str, Any]]:
    log = read_state_log(data, STATE)
    assert log is not None
    with log:
        return [dict(e.body) for e in log.since(-1, [EntryKind.IMPORTED])]


def test_a_file_goes_in_as_imported_entries_in_the_order_the_requests_were_made(
        nation: DataDir, tmp_path: Path) -> None:
    path = written(nation, tmp_path, "wa-2024-2025.txt", samples.nlets_text(REQUESTS[::-1]))
    before, _ = state_of(nation)
    summary = run(nation, path)
    (file,) = summary.files
    assert (file.records, file.imported, file.seqs) == (6, 6, range(before, before + 6))
    bodies = imported(nation)
    assert [b["time"] for b in bodies] == sorted(r.when.strftime("%Y-%m-%dT%H:%M:00.000000"
                                                                 "+00:00") for r in REQUESTS)
    first = bodies[0]
    assert first["source"] == {"sha256": file.sha256, "file": "wa-2024-2025.txt",
                               "line": 66, "format": "nlets-text"}
    assert first["request_id"] == request_id(file.sha256, 66)
    assert (first["sender_as_of"], first["category"], first["destination"]) == (
        "2026-01-15", "in-state", STATE)
    assert first["sender"]["ori"] == samples.IN_STATE
    for body in bodies:
        assert canonical_json(ImportedRecord.from_body(body).body()) == canonical_json(body)
    log = read_state_log(nation, STATE)
    assert log is not None
    with log:
        head = log.latest_head()
        assert head is not None and head.head.size == log.size  # signed as the handle closed
    assert verifies(nation)


@pytest.mark.postgres
def test_a_log_in_postgresql_takes_a_file_once(postgres_nation: DataDir, tmp_path: Path
                                               ) -> None:
    path = written(postgres_nation, tmp_path, "wa.txt", samples.nlets_text(REQUESTS[::-1]))
    assert run(postgres_nation, path).imported == 6
    assert [b["time"] for b in imported(postgres_nation)] == sorted(
        b["time"] for b in imported(postgres_nation))
    before = state_of(postgres_nation)
    with pytest.raises(AlreadyImported):
        run(postgres_nation, written(postgres_nation, tmp_path, "again.txt",
                                     samples.nlets_text(REQUESTS[::-1])))
    assert state_of(postgres_nation) == before
    assert verifies(postgres_nation)


def test_an_unknown_ori_is_kept_and_counted_as_unknown(nation: DataDir, tmp_path: Path
                                                       ) -> None:
    summary = run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text()))
    assert summary.counts()[("2025", "unknown", "no-record")] == 1
    (unknown,) = [b for b in imported(nation) if b["category"] == "unknown"]
    assert (unknown["ori"], unknown["sender"]) == (samples.UNKNOWN, None)


def test_the_counts_are_by_year_category_and_outcome(nation: DataDir, tmp_path: Path) -> None:
    summary = run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text()))
    assert summary.counts() == {
        ("2024", "ICE", "denied"): 1, ("2024", "in-state", "released"): 1,
        ("2025", "HSI", "released"): 1, ("2025", "in-state", "error"): 1,
        ("2025", "out-of-state", "partial"): 1, ("2025", "unknown", "no-record"): 1}


def test_a_dry_run_says_what_would_go_in_and_writes_nothing(nation: DataDir, tmp_path: Path
                                                            ) -> None:
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text())
    before = state_of(nation)
    summary = run(nation, path, dry_run=True)
    assert summary.dry_run and summary.imported == 6 and summary.files[0].seqs is None
    assert state_of(nation) == before
    assert run(nation, path).imported == 6  # and the file can still be imported


def test_a_state_without_a_log_is_left_without_one_by_a_dry_run(nation: DataDir,
                                                                tmp_path: Path) -> None:
    for leftover in nation.state_dir(STATE).glob("audit.db*"):
        leftover.unlink()
    summary = run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text()),
                  dry_run=True)
    assert summary.imported == 6 and read_state_log(nation, STATE) is None


def test_a_file_imported_before_is_refused_with_the_day_it_went_in(nation: DataDir,
                                                                   tmp_path: Path) -> None:
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text())
    first = run(nation, path).files[0]
    again = written(nation, tmp_path, "copy-of-wa.txt", samples.nlets_text())
    before = state_of(nation)
    with pytest.raises(AlreadyImported) as refused:
        run(nation, again)
    assert refused.value.code == "already-imported" and refused.value.status == 409
    assert first.seqs is not None
    today = datetime.now(UTC).date().isoformat()
    assert [(e.day, e.seq, e.sha256) for e in refused.value.earlier] == [
        (today, first.seqs.start, first.sha256)]
    assert f"already imported on {today}" in refused.value.text
    assert state_of(nation) == before


def test_the_same_file_twice_in_one_import_is_refused(nation: DataDir, tmp_path: Path) -> None:
    one = written(nation, tmp_path, "a.txt", samples.nlets_text())
    two = written(nation, tmp_path, "b.txt", samples.nlets_text())
    with pytest.raises(HistoryError, match=r"b.txt: the same file as .*a.txt"):
        run(nation, one, two)


DOUBLED = (*REQUESTS[:3], REQUESTS[1], *REQUESTS[3:])


def test_a_request_a_file_holds_twice_is_refused_naming_both_lines(nation: DataDir,
                                                                  tmp_path: Path) -> None:
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text(DOUBLED))
    with pytest.raises(HistoryError) as refused:
        run(nation, path)
    assert refused.value.text.splitlines()[1:] == [
        f"{path} line 44: the same request as line 16 (the same time, sender and message); "
        "--skip-duplicates keeps the first"]


def test_with_skip_duplicates_the_first_is_kept_and_the_rest_counted(nation: DataDir,
                                                                    tmp_path: Path) -> None:
    summary = run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text(DOUBLED)),
                  skip_duplicates=True)
    (file,) = summary.files
    assert (file.records, file.skipped, file.imported) == (7, 1, 6)
    assert [b["source"]["line"] for b in imported(nation)].count(16) == 1


def test_two_requests_in_one_minute_are_told_apart_by_the_switch_counter(
        nation: DataDir, tmp_path: Path) -> None:
    twice = (REQUESTS[1], Request(**{**_fields(REQUESTS[1]), "counter": 9}))
    assert run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text(twice))
               ).imported == 2


def _fields(r: Request) -> dict[str, Any]:
    return {name: getattr(r, name) for name in Request.__dataclass_fields__}


def test_files_go_in_earliest_first_all_in_one_transaction(nation: DataDir,
                                                          tmp_path: Path) -> None:
    later = written(nation, tmp_path, "2025.txt", samples.nlets_text(REQUESTS[2:]))
    earlier = written(nation, tmp_path, "2024.txt", samples.nlets_text(REQUESTS[:2]))
    summary = run(nation, later, earlier)
    assert [f.path.name for f in summary.files] == ["2024.txt", "2025.txt"]
    first, second = (f.seqs for f in summary.files)
    assert first is not None and second is not None and first.stop == second.start
    assert verifies(nation)


def test_a_file_that_fails_as_it_is_written_takes_the_files_before_it_back(
        nation: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import is whole or nothing across its files, not only within each."""
    later = written(nation, tmp_path, "2025.txt", samples.nlets_text(REQUESTS[2:]))
    earlier = written(nation, tmp_path, "2024.txt", samples.nlets_text(REQUESTS[:2]))
    text = Bodies.text

    def failing(bodies: Bodies, row: Row) -> str:
        if bodies.facts.file == "2025.txt":
            raise OSError("the disk is full")
        return text(bodies, row)

    monkeypatch.setattr(Bodies, "text", failing)
    before = state_of(nation)
    with pytest.raises(OSError, match="the disk is full"):
        run(nation, later, earlier)
    assert state_of(nation) == before
    assert verifies(nation)


def test_progress_is_told_while_reading_then_while_writing(nation: DataDir, tmp_path: Path
                                                           ) -> None:
    told: list[tuple[int, int]] = []
    run(nation, written(nation, tmp_path, "wa.txt", samples.nlets_text()),
        progress=lambda done, total: told.append((done, total)))
    assert told[0][1] == 0 and (6, 0) in told
    assert told[-1] == (6, 6) and all(total == 6 for _, total in told[told.index((6, 0)) + 1:])


def test_the_same_file_read_again_gives_the_same_request_ids(
        nation: DataDir, built: DataDir, tmp_path: Path) -> None:
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text())
    again = DataDir(tmp_path / "again")
    shutil.copytree(built.root, again.root)
    run(nation, path)
    run(again, path)
    ids = [[b["request_id"] for b in imported(data)] for data in (nation, again)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 6


# Refusals: nothing goes in, the log is exactly as it was, and it verifies.

LATER = Request(samples.ICE, datetime(2026, 1, 16, 0, 1), "DQ", (Field("OLN", "WDL1"),),
                Outcome.DENIED)
CSV_OPTIONS = {"fmt": "csv", "column_map": "csv.toml"}
JSONL_OPTIONS = {"fmt": "jsonl", "column_map": "jsonl.toml"}

FORMATS = {"nlets-text": ({}, samples.nlets_text),
           "csv": ({"fmt": "csv", "column_map": "csv.toml"}, samples.csv_text),
           "jsonl": ({"fmt": "jsonl", "column_map": "jsonl.toml"}, samples.jsonl_text)}
"""Each format's options, and what writes a good file in it."""

REFUSED: dict[str, tuple[str, Callable[[], str], str]] = {
    "nlets-text cut off": (
        "nlets-text", lambda: samples.nlets_text(REQUESTS[:5]) + "\n" +
        samples.query_text(REQUESTS[5]) + "\n", r"line 69: a query with no response"),
    "csv row short": ("csv", lambda: samples.csv_text().replace(",WA\r\n", "\r\n", 1),
                      r"row 2: has 9 cells, the header has 10"),
    "jsonl line cut": ("jsonl", lambda: samples.jsonl_text()[:-30],
                       r"line 6, column \d+: not a JSON object"),
    "a date in the future": ("nlets-text", lambda: samples.nlets_text((*REQUESTS, LATER)),
                             r"line \d+, column 1: 2026-01-16T00:01:00.000000\+00:00 \(UTC\) "
                             r"is after today"),
    "a map column the file lacks": ("csv", lambda: samples.csv_text().replace("mke", "key", 1),
                                    r"row 1, column mke: the map's \[key\] column is not in "
                                    r"the header"),
    "a duplicate": ("csv", lambda: samples.csv_text(DOUBLED),
                    r"row 5: the same request as row 3"),
    "not UTF-8": ("nlets-text", lambda: samples.nlets_text().replace("DOE", "D\udcffE"),
                  r"line 12: not UTF-8 text \(byte 0xff\)"),
    "a line far too long": ("nlets-text", lambda: samples.nlets_text() + "X" * 10_001 + "\n",
                            r"line \d+: a line over 10,000 characters"),
    "half a character in a record id": (
        "jsonl", lambda: samples.jsonl_text().replace('"WDL123456"]', '"WDL\\ud800"]', 1),
        r"line 1, column records: 'WDL\\ud800' holds \\ud800, half of a character"),
    "half a character in the terms": (
        "jsonl", lambda: samples.jsonl_text().replace('"OLN/WDL123456"', '"OLN/\\udc00"', 1),
        r"line 1, column query: 'OLN/\\udc00' holds \\udc00, half of a character"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_file_leaves_the_log_exactly_as_it_was(nation: DataDir, tmp_path: Path,
                                                        case: str) -> None:
    """A good file of the same format in the same import is refused with it: every file is
    read before any is written."""
    fmt, make, said = REFUSED[case]
    options, good_text = FORMATS[fmt]
    (tmp_path / "csv.toml").write_text(samples.CSV_MAP)
    (tmp_path / "jsonl.toml").write_text(samples.JSONL_MAP)
    chosen = {k: tmp_path / v if k == "column_map" else v for k, v in options.items()}
    run(nation, written(nation, tmp_path, "earlier.txt", samples.nlets_text(REQUESTS[4:])))
    good = written(nation, tmp_path, "good", good_text(REQUESTS[:2]))  # type: ignore[operator]
    bad = tmp_path / "bad"
    bad.write_bytes(make().encode("utf-8", "surrogateescape"))
    before = state_of(nation)
    with pytest.raises(HistoryError) as refused:
        run(nation, good, bad, **chosen)
    assert re.search(f"^{re.escape(str(bad))} {said}", refused.value.text, re.MULTILINE), \
        refused.value.text
    assert refused.value.text.splitlines()[0].endswith("nothing imported")
    assert state_of(nation) == before
    assert verifies(nation)


def test_a_file_with_no_requests_is_refused(nation: DataDir, tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"empty.txt: no requests in the file"):
        run(nation, written(nation, tmp_path, "empty.txt", "\n\n"))


def test_problems_past_the_limit_are_counted_not_listed(nation: DataDir, tmp_path: Path
                                                       ) -> None:
    lines = samples.csv_text().split("\r\n")
    bad = [lines[1].replace("WASPD0100", "WASPD01")] * (limits.MAX_PROBLEMS + 20)
    (tmp_path / "csv.toml").write_text(samples.CSV_MAP)
    path = written(nation, tmp_path, "wa.csv", "\r\n".join([lines[0], *bad]) + "\r\n")
    with pytest.raises(HistoryError) as refused:
        run(nation, path, fmt="csv", column_map=tmp_path / "csv.toml")
    said = refused.value.text.splitlines()
    assert said[0] == f"{limits.MAX_PROBLEMS + 20} problems, nothing imported"
    assert len(said) == 1 + limits.MAX_PROBLEMS + 1 and said[-1] == "... and 20 more"


def test_a_file_over_the_size_bound_is_refused_unread(nation: DataDir, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from stateline.history import importer

    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text())
    with pytest.raises(HistoryError, match="bytes, over the 100 an import reads"):
        run(nation, path)


def _unblock(pipe: Path) -> None:
    """Open the pipe's other end and close it, so a reader waiting on it reads nothing
    rather than waiting for ever."""
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    os.close(os.open(pipe, os.O_WRONLY))
    os.close(reader)


def test_a_pipe_or_a_device_is_refused_before_it_is_read(
        nation: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Their size says 0 whatever they hold: a pipe may wait for ever, /dev/zero never ends."""
    from stateline.history import importer

    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)  # /dev/zero, were it read
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    rescue = threading.Timer(5, _unblock, [pipe])  # fails the test, were the pipe read
    rescue.start()
    try:
        with pytest.raises(HistoryError) as refused:
            run(nation, pipe, Path("/dev/zero"))
    finally:
        rescue.cancel()
        rescue.join()
    assert refused.value.text.splitlines()[1:] == [
        f"{name}: not a regular file (a pipe, a device or a folder): name a file the export "
        "was saved to" for name in (pipe, "/dev/zero")]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_a_file_longer_than_its_size_says_is_read_only_to_the_bound(
        nation: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc's files are regular and say they are empty, however much they hold."""
    from stateline.history import importer

    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    with pytest.raises(HistoryError, match=r"/proc/self/status: more than 100 bytes, over "
                       "the 100 an import reads"):
        run(nation, Path("/proc/self/status"))


@pytest.mark.parametrize(("options", "said"), [
    ({"fmt": "xml"}, "--format 'xml': expected nlets-text, csv, jsonl"),
    ({"fmt": "csv"}, "--format csv needs --map MAP.toml"),
    ({"zone": "Mars/Olympus"}, "--zone: 'Mars/Olympus' is not a time zone"),
])
def test_an_import_asked_for_wrongly_is_refused(nation: DataDir, tmp_path: Path,
                                                options: dict[str, Any], said: str) -> None:
    path = written(nation, tmp_path, "wa.txt", samples.nlets_text())
    with pytest.raises(Exception, match=said.replace("(", r"\(")) as refused:
        run(nation, path, **options)
    assert getattr(refused.value, "code", None) == "invalid"


# Bodies as the record writes them.

ICE = Agency("VTICE0900", "ICE Law Enforcement Support Center", "VT", Level.FEDERAL, "FE",
             "DHS", "ICE", permissions=frozenset("ACD"))

_TEXT = st.text(max_size=10)
_NAMES = st.lists(st.sampled_from(sorted(ELEMENT_NAMES)), max_size=4, unique=True).map(tuple)


@given(st.builds(
    Row, st.datetimes().map(lambda t: t.isoformat(timespec="microseconds") + "+00:00"),
    st.integers(1, 10**7), st.sampled_from(["WASPD0100", "VTICE0900", "ZZ9999999"]),
    st.sampled_from(sorted(QUERY_KEYS)), st.sampled_from(OUTCOMES), _NAMES, _NAMES,
    st.lists(_TEXT, max_size=3).map(tuple), st.booleans(),
    st.lists(_TEXT, max_size=3).map(tuple), _TEXT, st.none() | st.just(".14."), st.none()))
def test_a_body_is_the_one_its_record_writes(row: Row) -> None:
    senders = Senders(lambda ori: ICE if ori == "VTICE0900" else None, STATE)
    facts = FileFacts("ab" * 32, "wa.txt", "csv", STATE, "2026-01-15")
    bodies = Bodies(facts, senders)
    body = bodies.body(row)
    sender, category = senders.of(row.ori)
    record = ImportedRecord(
        time=row.time, request_id=request_id(facts.sha256, row.line), message_id="",
        ori=row.ori, sender=None if sender is None else Sender.from_body(sender),
        category=category, key=row.key, reason=row.reason, destination=STATE,
        terms=row.terms, outcome=row.outcome, policies=(), released=row.released,
        withheld=row.withheld, records=row.records, photo_released=row.photo,
        policy_version="", court_order=None, multi_state=False, reject=row.reject,
        sender_as_of="2026-01-15",
        source=Source(sha256=facts.sha256, file="wa.txt", line=row.line, format="csv"))
    text = bodies.text(row)
    assert text == canonical_json(record.body())  # what the log hashes
    assert text[text.index('"time":"') + 8:][:32] == row.time  # what SQL's `made` reads
    assert canonical_json(body) == canonical_json(record.body())
    fields = bodies.fields(row)
    assert fields == {name: body[name] for name in fields}  # what the rollups count
    assert isinstance(body["records"], list)  # the rollups count a list


