"""What an import refuses, and the bounds it reads every file within.

A refused import lists every problem found, each by file, line (or CSV row) and column, as
`directory import` lists a CSV's; nothing is written when there is even one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ServiceError, Side

MAX_FILE_BYTES = 2 << 30
"""A file larger than 2 GiB is refused unread: split the export by month or by year."""
MAX_LINE = 10_000
"""Characters in one line; a longer one is not a switch's record, whatever the format."""
MAX_PROBLEMS = 100
"""Problems listed per import; past that, how many more were found."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file: where (line or CSV row, and column) and what."""

    file: str
    line: int | None
    """The line (text, JSONL) or the row (CSV, the header is row 1); None for the whole file."""
    column: str | None
    """A CSV column or JSON key by name, or a character position in a text line."""
    text: str
    row: bool = False
    """`line` counts CSV rows, not lines."""

    def __str__(self) -> str:
        place = [self.file]
        if self.line is not None:
            place.append(f"{'row' if self.row else 'line'} {self.line}")
        where = " ".join(place)
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.text}"


class HistoryError(ServiceError):
    """Files an import refused, with every problem found; the log was not touched."""

    code, status, side = "invalid-history", 422, Side.REQUESTER

    def __init__(self, problems: Sequence[Problem], more: int = 0) -> None:
        self.problems = tuple(problems)
        self.more = more
        count = len(self.problems) + more
        lines = [f"{count} problem{'s' if count != 1 else ''}, nothing imported",
                 *map(str, self.problems)]
        if more:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class Earlier:
    """A file the log already holds: when it went in, and its first entry."""

    file: str
    sha256: str
    day: str
    seq: int


class AlreadyImported(HistoryError):
    """Files whose bytes the log already holds: importing them again would count them twice."""

    code, status = "already-imported", 409

    def __init__(self, earlier: Sequence[Earlier]) -> None:
        self.earlier = tuple(earlier)
        super().__init__([Problem(e.file, None, None, f"already imported on {e.day} "
                                  f"(SHA-256 {e.sha256}, audit entry {e.seq}); a file is "
                                  "imported once") for e in self.earlier])


class Problems:
    """The problems of one import as they are found, the first `MAX_PROBLEMS` kept."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.more = 0

    def add(self, problem: Problem) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def __len__(self) -> int:
        return len(self.kept) + self.more

    def raise_any(self) -> None:
        if self.kept:
            raise HistoryError(self.kept, self.more)
