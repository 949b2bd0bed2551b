"""What an import read and wrote, file by file, counted by year, category and outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Cell = tuple[str, str, str]
"""(year, category, outcome)."""


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One file: its digest, what was read from it and what became of it."""

    path: Path
    sha256: str
    format: str
    records: int
    """Requests read, duplicates skipped included."""
    skipped: int
    """Duplicates left out (`skip_duplicates`): the first of each was kept."""
    counts: Mapping[Cell, int]
    """Requests imported (or to be imported) by year, category and outcome."""
    first: str
    last: str
    """The earliest and latest time among them (UTC, ISO 8601)."""
    seqs: range | None = None
    """The audit entries written for it; None in a dry run."""

    @property
    def imported(self) -> int:
        return self.records - self.skipped

    def as_json(self) -> dict[str, Any]:
        return {"file": str(self.path), "sha256": self.sha256, "format": self.format,
                "records": self.records, "skipped_duplicates": self.skipped,
                "imported": self.imported, "first": self.first, "last": self.last,
                "entries": None if self.seqs is None else [self.seqs.start, self.seqs.stop],
                "counts": [{"year": y, "category": c, "outcome": o, "requests": n}
                           for (y, c, o), n in sorted(self.counts.items())]}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """Every file of one import, in the order they were (or would be) appended."""

    state: str
    day: str
    """The day of the import: the senders' attributes are the directory's that day."""
    dry_run: bool
    files: tuple[FileSummary, ...]

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    def counts(self) -> dict[Cell, int]:
        """Requests by (year, category, outcome) over every file."""
        total: Counter[Cell] = Counter()
        for f in self.files:
            total.update(f.counts)
        return dict(sorted(total.items()))

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "day": self.day, "dry_run": self.dry_run,
                "records": self.records, "imported": self.imported,
                "skipped_duplicates": self.skipped,
                "files": [f.as_json() for f in self.files]}
