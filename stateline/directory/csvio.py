"""The directory as CSV, the form a state keeps its agency list in: import all-or-nothing, export.

An import reads and checks every row before it touches the directory, reports every problem
with its row number (the header is row 1) and column, and then writes in one transaction.

Every CSV the project writes passes its text cells through `spreadsheet_cell` (OWASP's rule
against formula injection: a quote before a cell a spreadsheet would run), and an import reads
cells back through `plain_cell`, so an export imports as the directory it came from.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .agency import (
    Agency,
    DirectoryError,
    Level,
    join_letters,
    join_programs,
    normalise_ori,
    split_letters,
    split_programs,
)
from .store import COLUMNS, Directory, Snapshot

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
"""A cell a spreadsheet would run as a formula, behind any number of quotes: quoting every
such cell (quoted ones too) makes the quote removable again without guessing."""


def spreadsheet_cell(value: str) -> str:
    """A text cell for a CSV export that a spreadsheet shows as text, never runs."""
    return f"'{value}" if _FORMULA.match(value) else value


def plain_cell(cell: str) -> str:
    """The value `spreadsheet_cell` was given: its exports import as they were."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


_FLAGS = {"yes": True, "y": True, "true": True, "1": True,
          "no": False, "n": False, "false": False, "0": False}


def parse_flag(text: str) -> bool:
    try:
        return _FLAGS[text.strip().lower()]
    except KeyError:
        raise DirectoryError(f"{text!r} is not yes or no") from None


_READ: dict[str, Callable[[str], Any]] = {
    "ori": normalise_ori,
    "level": Level.parse,
    "criminal_justice": parse_flag,
    "permissions": split_letters,
    "programs": split_programs,
    "active": parse_flag,
}
"""How a cell becomes an Agency attribute; other columns are text, checked by Agency."""

_WRITE: dict[str, Callable[[Any], str]] = {
    "level": lambda level: str(level.value),
    "criminal_justice": lambda flag: "yes" if flag else "no",
    "permissions": join_letters,
    "programs": join_programs,
    "active": lambda flag: "yes" if flag else "no",
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in a CSV file; `row` 1 is the header, `None` means the file as a whole."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (
            f"row {self.row}" if self.row is not None else "",
            f"column {self.column}" if self.column else "") if part)
        return f"{where}: {self.message}" if where else self.message


class CsvError(DirectoryError):
    """A CSV file the directory refused, with every problem found; nothing was changed."""

    code = "invalid-csv"

    def __init__(self, source: str, errors: Sequence[RowError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        count = f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}"
        super().__init__(f"{source}: {count}, nothing imported\n"
                         + "\n".join(str(error) for error in self.errors))


def read_agencies(text: str, source: str = "CSV") -> list[Agency]:
    """Every agency in CSV text, or a CsvError listing every problem in it.

    Callers write the result with `Directory.put_many`, so a file is all-or-nothing.
    """
    errors: list[RowError] = []
    try:
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    except csv.Error as error:
        raise CsvError(source, [RowError(None, None, f"not readable as CSV ({error})")]) from None
    records = [(number, row) for number, row in enumerate(rows, 1) if any(c.strip() for c in row)]
    if not records:
        raise CsvError(source, [RowError(None, None, "the file is empty: expected a header "
                                         "row, " + ",".join(COLUMNS))])
    header_row, header = records[0]
    columns = _header(header_row, header, errors)
    if not errors and len(records) == 1:
        errors.append(RowError(None, None, "the file has a header but no agencies"))
    if errors:
        raise CsvError(source, errors)
    agencies: list[Agency] = []
    first_row: dict[str, int] = {}
    for number, row in records[1:]:
        agency = _agency(number, row, columns, errors)
        if agency is None:
            continue
        if agency.ori in first_row:
            errors.append(RowError(number, "ori", f"{agency.ori} is already on row "
                                   f"{first_row[agency.ori]}"))
            continue
        first_row[agency.ori] = number
        agencies.append(agency)
    if errors:
        raise CsvError(source, errors)
    return agencies


def _header(number: int, header: list[str], errors: list[RowError]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    problems = [
        ("missing columns", [c for c in COLUMNS if c not in columns]),
        ("unknown columns", sorted({c for c in columns if c not in COLUMNS})),
        ("repeated columns", sorted(c for c, n in Counter(columns).items() if n > 1)),
    ]
    hint = f" (the header must name {','.join(COLUMNS)})"
    for what, names in problems:
        if names:
            errors.append(RowError(number, None, f"{what}: {', '.join(map(repr, names))}{hint}"))
            hint = ""
    return columns


def _agency(number: int, row: list[str], columns: list[str],
            errors: list[RowError]) -> Agency | None:
    if len(row) != len(columns):
        errors.append(RowError(number, None, f"has {len(row)} cells, the header has "
                               f"{len(columns)}"))
        return None
    values: dict[str, Any] = {}
    bad = False
    for column, cell in zip(columns, row, strict=True):
        try:
            values[column] = _READ.get(column, str.strip)(plain_cell(cell))
        except DirectoryError as error:
            errors.append(RowError(number, column, str(error)))
            bad = True
    if bad:
        return None
    try:
        return Agency(**values)
    except DirectoryError as error:
        errors.append(RowError(number, error.field, str(error)))
        return None


def read_file(path: Path) -> list[Agency]:
    """Agencies from a CSV file; a file that cannot be read is a CsvError too."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CsvError(str(path), [RowError(None, None, f"cannot read ({error.strerror})")]) \
            from None
    return read_bytes(data, source=str(path))


def read_bytes(data: bytes, source: str = "CSV") -> list[Agency]:
    """Agencies from UTF-8 CSV bytes (a BOM allowed); other encodings are refused by line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        byte = data[error.start:error.start + 1].hex()
        raise CsvError(source, [RowError(None, None, f"not UTF-8 text: byte 0x{byte} on line "
                                         f"{line}; save the file as UTF-8")]) from None
    return read_agencies(text, source=source)


def format_agencies(agencies: Iterable[Agency]) -> str:
    """CSV text with the header and one row per agency, sorted by ORI."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for agency in sorted(agencies, key=lambda a: a.ori):
        writer.writerow([spreadsheet_cell(_WRITE.get(c, str)(getattr(agency, c)))
                         for c in COLUMNS])
    return out.getvalue()


def export_file(directory: Directory, path: Path) -> Snapshot:
    """Write every agency to a CSV file, replaced whole so a reader never sees half of it.

    Answers the snapshot written, so the caller can say which version the file holds.
    """
    snapshot = directory.snapshot()
    text = format_agencies(snapshot.agencies.values())
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise DirectoryError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise DirectoryError(f"cannot write {path}: {error.strerror}") from None
    return snapshot
