"""`import_history`: a state switch's past records into the state's audit log, as `imported`
entries, every file of an import whole or none at all.

Every file is read and checked before anything is written: one problem anywhere and nothing
is. Then every file goes in through the log's own write path (`AuditLog.append_written`) in
one transaction, the earliest file first and each sorted by the time each request was made,
so its rollups and Merkle tree are the log's usual ones and the handle signs a head over it
when it closes. A failure while writing takes every file back. The log is only ever
appended to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import accumulate, chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..audit import AuditLog, EntryKind, open_state_log, read_state_log
from ..audit.rollups import day_of
from ..datadir import DataDir
from ..directory.store import Directory, NoNation
from ..errors import RequesterError
from ..policy.store import checked_state
from . import columns as column_maps
from . import nlets, tabular
from .bodies import Bodies, FileFacts, Senders
from .columns import ColumnMap
from .errors import MAX_FILE_BYTES, AlreadyImported, Earlier, Problem, Problems
from .rows import FORMATS, Bad, Reading, Row, zone_named
from .summary import Cell, FileSummary, ImportSummary

Progress = Callable[[int, int], None]
"""Told (done, total): rows read so far with total 0 while files are read, then entries
written of the total to write."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ImportOptionError(RequesterError):
    """An import asked for in a way it cannot be done (a format, a zone, a missing map)."""

    code = "invalid"


@dataclass(frozen=True, slots=True)
class _File:
    """A file read and checked: its rows sorted by time, duplicates resolved."""

    path: Path
    sha256: str
    rows: list[Row]
    records: int
    skipped: int


def import_history(data: DataDir, state: str, paths: Sequence[Path], *,
                   fmt: str = "nlets-text", column_map: Path | None = None,
                   dry_run: bool = False, skip_duplicates: bool = False,
                   zone: str = "UTC", today: date | None = None,
                   progress: Progress | None = None) -> ImportSummary:
    """Import the files into the state's log (or, `dry_run`, only say what would be); a
    HistoryError lists every problem found, and then nothing was written."""
    code = checked_state(data, state)
    columns = _options(fmt, column_map, paths)
    try:
        in_zone = zone_named(zone)
    except Bad as error:
        raise ImportOptionError(f"--zone: {error}") from None
    day = today or datetime.now(UTC).date()
    tell = progress or (lambda done, total: None)
    problems = Problems()
    files = _read_all(paths, fmt, columns, code, in_zone, day, skip_duplicates, problems, tell)
    problems.raise_any()
    with ExitStack() as stack:
        log = _log(data, code, dry_run)
        if log is not None:
            stack.enter_context(log)
            _not_imported_before(log, files)
        senders = stack.enter_context(_senders(data, code))
        files.sort(key=lambda f: f.rows[0].time)  # the earliest file first
        facts = {f.sha256: FileFacts(f.sha256, f.path.name, fmt, code, day.isoformat())
                 for f in files}
        counted = [_counted(f, senders) for f in files]
        if log is None or dry_run:  # only a dry run reads a log that may not be there
            return ImportSummary(code, day.isoformat(), True, tuple(
                _summary(f, fmt, cells) for f, cells in zip(files, counted, strict=True)))
        starts = list(accumulate((len(f.rows) for f in files), initial=0))
        total = starts.pop()
        seqs = log.append_written(EntryKind.IMPORTED, chain.from_iterable(
            _entries(f.rows, Bodies(facts[f.sha256], senders), _offset(tell, before, total))
            for f, before in zip(files, starts, strict=True)))
        tell(total, total)
    first = seqs.start
    return ImportSummary(code, day.isoformat(), False, tuple(
        _summary(f, fmt, cells, range(first + before, first + before + len(f.rows)))
        for f, cells, before in zip(files, counted, starts, strict=True)))


def _offset(tell: Progress, before: int, total: int) -> Callable[[int], None]:
    """Progress within one file as progress within the whole import."""
    return lambda done: tell(before + done, total)


def _options(fmt: str, column_map: Path | None, paths: Sequence[Path]) -> ColumnMap | None:
    if fmt not in FORMATS:
        raise ImportOptionError(f"--format {fmt!r}: expected {', '.join(FORMATS)}")
    if not paths:
        raise ImportOptionError("name at least one file to import")
    if fmt == "nlets-text":
        if column_map is not None:
            raise ImportOptionError("--map is for csv and jsonl files; nlets-text needs none")
        return None
    if column_map is None:
        raise ImportOptionError(f"--format {fmt} needs --map MAP.toml, naming the column "
                                "that holds each value (docs/history.md)")
    return column_maps.load(column_map)


def _read_all(paths: Sequence[Path], fmt: str, columns: ColumnMap | None, state: str,
              zone: Any, day: date, skip: bool, problems: Problems,
              tell: Progress) -> list[_File]:
    files: list[_File] = []
    seen: dict[str, Path] = {}
    before = 0
    for path in paths:
        loaded = _load(path, problems)
        if loaded is None:
            continue
        sha256, text = loaded
        if sha256 in seen:
            problems.add(Problem(str(path), None, None, f"the same file as {seen[sha256]} "
                                 "(the same SHA-256): a file is imported once"))
            continue
        seen[sha256] = path
        reading = Reading(str(path), state, zone, day, problems, _offset(tell, before, 0))
        found = len(problems)
        rows = _parse(fmt, text, columns, reading)
        del text
        if not rows:
            if len(problems) == found:
                problems.add(Problem(str(path), None, None, "no requests in the file"))
            continue
        records = len(rows)
        kept = _unique(rows, reading, skip, fmt == "csv")
        kept.sort(key=itemgetter(0))  # by when each was made, stable: out of order is fine
        files.append(_File(path, sha256, kept, records, records - len(kept)))
        before += records
        tell(before, 0)
    return files


def _load(path: Path, problems: Problems) -> tuple[str, str] | None:
    """A file's SHA-256 and its text, within the bounds; None (a problem said) if not.

    Only a regular file is read, and never past the bound: a pipe or a device says its size
    is 0 whatever it holds, and so do /proc's files. A pipe opens without waiting for a
    writer, so it is refused at once."""
    name = str(path)
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            found = os.fstat(file.fileno())
            if not stat.S_ISREG(found.st_mode):
                problems.add(Problem(name, None, None, "not a regular file (a pipe, a device "
                                     "or a folder): name a file the export was saved to"))
                return None
            if found.st_size > MAX_FILE_BYTES:
                problems.add(_too_large(name, f"{found.st_size:,}"))
                return None
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        problems.add(Problem(name, None, None, f"cannot read ({error.strerror})"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.add(_too_large(name, f"more than {MAX_FILE_BYTES:,}"))
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.findall(data[:error.start].decode("utf-8", "replace"))) + 1
        byte = data[error.start:error.start + 1].hex()
        problems.add(Problem(name, line, None, f"not UTF-8 text (byte 0x{byte}); save the "
                             "export as UTF-8"))
        return None
    return sha256, text


def _too_large(name: str, size: str) -> Problem:
    return Problem(name, None, None, f"{size} bytes, over the {MAX_FILE_BYTES:,} an import "
                   "reads: split the export by month or year")


_READERS: dict[str, Callable[[str, ColumnMap, Reading], list[Row]]] = {
    "csv": tabular.read_csv, "jsonl": tabular.read_jsonl}


def _parse(fmt: str, text: str, columns: ColumnMap | None, reading: Reading) -> list[Row]:
    if columns is None:
        return nlets.read(text, reading)
    return _READERS[fmt](text, columns, reading)


def _unique(rows: list[Row], reading: Reading, skip: bool, csv_rows: bool) -> list[Row]:
    """Rows without a second copy of a request (the same time, sender and message): with
    `skip` the first is kept, else each later copy is a problem naming both places."""
    first: dict[object, int] = {}
    kept: list[Row] = []
    word = "row" if csv_rows else "line"
    for row in rows:
        seen = first.setdefault(row.same, row.line)
        if seen == row.line:
            kept.append(row)
        elif not skip:
            reading.problem(row.line, None, f"the same request as {word} {seen} (the same "
                            "time, sender and message); --skip-duplicates keeps the first",
                            csv_rows)
    return kept


def _log(data: DataDir, state: str, dry_run: bool) -> AuditLog | None:
    """The log to write to, or in a dry run to read (None when the state has none yet)."""
    return read_state_log(data, state) if dry_run else open_state_log(data, state)


def _not_imported_before(log: AuditLog, files: list[_File]) -> None:
    """Refuse files whose bytes the log already holds. An earlier import of the same bytes
    made an entry at this file's earliest time, so the index of imported entries by time
    finds it in a seek, however long the log."""
    found = []
    for f in files:
        rows = log.select(f"SELECT seq, time_us, body FROM entries WHERE kind = 'imported' "
                          f"AND {log.dialect.made} = ?", [f.rows[0].time]).fetchall()
        for seq, time_us, body in rows:
            source = json.loads(body).get("source")
            if isinstance(source, dict) and source.get("sha256") == f.sha256:
                found.append(Earlier(str(f.path), f.sha256, day_of(time_us), seq))
                break
    if found:
        raise AlreadyImported(found)


@contextmanager
def _senders(data: DataDir, state: str) -> Iterator[Senders]:
    """Senders as the data folder's directory has them; with no directory, every ORI is
    unknown (and still counted)."""
    try:
        directory = Directory.open(data, create=False)
    except NoNation:
        yield Senders(lambda ori: None, state)
        return
    try:
        yield Senders(directory.get, state)
    finally:
        directory.close()


def _counted(f: _File, senders: Senders) -> Counter[Cell]:
    return Counter((row.time[:4], senders.of(row.ori)[1], row.outcome) for row in f.rows)


def _summary(f: _File, fmt: str, cells: Counter[Cell], seqs: range | None = None
             ) -> FileSummary:
    return FileSummary(f.path, f.sha256, fmt, f.records, f.skipped, dict(cells),
                       f.rows[0].time, f.rows[-1].time, seqs)


def _entries(rows: list[Row], bodies: Bodies, tell: Callable[[int], None]
             ) -> Iterator[tuple[str, dict[str, Any]]]:
    """A file's entries as the log takes them (each body's text and what its rollups read),
    made as the log comes to them, with progress told as it goes."""
    text, fields = bodies.text, bodies.fields
    for done, row in enumerate(rows):
        if not done & 0x3FFF:
            tell(done)
        yield text(row), fields(row)
