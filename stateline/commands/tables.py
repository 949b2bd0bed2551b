"""CLI tables that never cut an identifier, and counts that agree in number.

An ORI, OLN, VIN, plate, reference, message id or date is only useful whole: a user copies it
into the next command. Rich, short of width, cuts every column with an ellipsis; here the
identifier columns keep their full width, the other columns wrap, and when the identifiers
leave them no room they are left out with a note saying which. When even the identifiers do not
fit side by side, each row is printed as a block of labelled lines instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

GAPS = (2, 1)
"""Characters between two columns (the box's blank divider, then padding): the roomier one
unless the narrower one shows more columns."""

READABLE = 10
"""The fewest characters a wrapping column gets before it is left out instead."""

LONG_WORD = 24
"""A word longer than this (a free-text query, say) is folded rather than kept whole."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: identifiers are never wrapped or cut; other columns give way to them."""

    header: str
    identifier: bool = False
    justify: Literal["left", "right"] = "left"


def ident(header: str, justify: Literal["left", "right"] = "left") -> Column:
    return Column(header, identifier=True, justify=justify)


def text(header: str, justify: Literal["left", "right"] = "left") -> Column:
    return Column(header, justify=justify)


def print_table(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]],
                *, title: str | None = None,
                styles: Sequence[str | None] | None = None) -> None:
    """Print rows under `columns` in the console's width, every identifier whole; `styles`
    gives each row a Rich style (e.g. red for an overdue notice)."""
    layouts = [found for gap in GAPS if (found := fitting(columns, rows, console.width, gap))]
    if not layouts:
        _print_blocks(console, columns, rows, title)
        return
    layout = max(layouts, key=lambda found: len(found.widths))
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, layout.gap - 1, 0, 0), title_justify="left")
    for index, width in layout.widths.items():
        column = columns[index]
        table.add_column(column.header, justify=column.justify, width=width,
                         no_wrap=column.identifier, overflow="fold")
    for number, row in enumerate(rows):
        table.add_row(*(Text(row[index]) for index in layout.widths),
                      style=styles[number] if styles else None)
    console.print(table)
    left_out = [column.header for index, column in enumerate(columns)
                if index not in layout.widths]
    if left_out:
        console.print(Text(f"({plural(len(left_out), 'column')} left out at this width: "
                           f"{', '.join(left_out)})"))


def _print_blocks(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]],
                  title: str | None) -> None:
    if title:
        console.print(Text(title))
    for number, row in enumerate(rows):
        block = Table.grid(padding=(0, 2, 0, 0))
        block.add_column(no_wrap=True)
        block.add_column(overflow="fold")
        for column, value in zip(columns, row, strict=True):
            block.add_row(Text(column.header), Text(value))
        if number:
            console.print()
        console.print(block)


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown, in order, each with its width; `gap` characters between them."""

    widths: dict[int, int]
    gap: int


def fitting(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int,
            gap: int) -> Layout | None:
    """The layout at `width` with `gap` between columns: every identifier at its full width,
    then the other columns from the left for as long as each still gets its `least_width`, the
    room left shared among them; None if the identifiers alone are too wide to sit side by side."""
    natural = [natural_width(column, rows, index) for index, column in enumerate(columns)]
    identifiers = [i for i, column in enumerate(columns) if column.identifier]
    used = sum(natural[i] for i in identifiers) + gap * (len(identifiers) - 1)
    if used > width:
        return None
    least: dict[int, int] = {}
    for index in (i for i, column in enumerate(columns) if not column.identifier):
        needs = least_width(columns[index], rows, index)
        if used + gap + needs > width:
            break  # the columns are in order of worth: none after this one is kept either
        least[index] = needs
        used += gap + needs
    shares = _shared(width - used, {i: natural[i] for i in least}, least)
    widths = {i: natural[i] for i in identifiers} | shares
    return Layout(dict(sorted(widths.items())), gap)


def _shared(room: int, wanted: dict[int, int], least: dict[int, int]) -> dict[int, int]:
    """Each column its least width, then the spare room one character at a time to every
    column still short of what it wants, so no column starves while another is padded."""
    widths = dict(least)
    while room > 0:
        short = [i for i in widths if widths[i] < wanted[i]]
        if not short:
            break
        for index in short[:room]:
            widths[index] += 1
        room -= min(room, len(short))
    return widths


def least_width(column: Column, rows: Sequence[Sequence[str]], index: int) -> int:
    """The narrowest a wrapping column may be: its longest word (up to `LONG_WORD`), at least
    `READABLE`, never more than the column needs unwrapped."""
    words = (cell_len(word) for value in (column.header, *(row[index] for row in rows))
             for word in value.split())
    longest = min(max(words, default=0), LONG_WORD)
    return min(natural_width(column, rows, index), max(READABLE, longest))


def natural_width(column: Column, rows: Sequence[Sequence[str]], index: int) -> int:
    """The width a column takes unwrapped: its longest line of a value, or its header."""
    return max(cell_len(line) for value in (column.header, *(row[index] for row in rows))
               for line in value.splitlines() or [""])


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and the noun agreeing with it: "1 court order", "2 court orders",
    "1,204 entries". `many` spells an irregular plural."""
    return f"{count:,} {noun if count == 1 else many or plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The regular English plural of a noun phrase (its last word changes)."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"
