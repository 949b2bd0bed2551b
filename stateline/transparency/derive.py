"""Which withheld counts a reader could still work out exactly from what a report publishes.

The reader knows every published count, every equation between counts (a total is the sum of
its parts, across every table that shows them), and what the marks say: a `<10` count lies
between 1 and threshold-1, a count withheld to protect one is at least the threshold (smaller
ones are `<10` themselves, zeros are shown), or at least 1 where a small count had to be shown
as withheld. The withheld counts then lie in a polytope. A count is exposed when it has one
value on all of it, which happens exactly when its unit vector is a linear combination of the
equations and of the bounds that every point of the polytope meets with equality. Those bounds
are found with one linear program over the directions one can move in from the true counts;
equations are reduced exactly, in whole numbers. Floating point only searches for a direction,
which is then checked exactly, so a rounding error can only make the answer more cautious.

The polytope is the linear relaxation: a count that only whole numbers would pin (never the
case for a single table with margins, whose matrix is totally unimodular) is not looked for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from .suppress import Equation

K = TypeVar("K", bound=tuple[str, ...])

Row = dict[int, int]

_EPS = 1e-9
_MAX_PIVOTS = 100_000
_STALL = 50
"""Steps in a row without gain before the simplex switches to Bland's rule."""


@dataclass(frozen=True, slots=True)
class Exposure(Generic[K]):
    cells: frozenset[K]
    """Withheld counts with a single possible value."""
    pinned: frozenset[K]
    """Withheld counts held on a bound their mark reveals, wherever the others may move."""
    proofs: Mapping[K, frozenset[int]]
    """For each exposed count, the equations (by position) a reader combines to fix it."""


@dataclass(frozen=True, slots=True)
class _System(Generic[K]):
    """The equations over the withheld counts (published counts are constants), and which of
    them sit on a bound the reader knows from the marks: +1 a lower bound, -1 an upper."""

    hidden: list[K]
    rows: list[Row]
    sources: list[int]
    """The position of each row's equation."""
    tight: dict[int, int]

    @classmethod
    def of(cls, values: Mapping[K, int], equations: Iterable[Equation[K]],
           small: Collection[K], withheld: Collection[K], threshold: int) -> _System[K]:
        hidden = sorted({*small, *withheld})
        index = {key: i for i, key in enumerate(hidden)}
        tight: dict[int, int] = {}
        for key, i in index.items():
            value = values[key]
            if value == 1 or (value == threshold and key not in small):
                tight[i] = 1
            elif value == threshold - 1 and key in small:
                tight[i] = -1
        rows = [(n, row) for n, eq in enumerate(equations) if (row := _row(eq, index))]
        return cls(hidden, [row for _, row in rows], [n for n, _ in rows], tight)

    def parts(self) -> Iterator[_System[K]]:
        """The system cut where no equation joins two withheld counts, each part on its own
        columns: a reader gains nothing by combining equations that share no withheld count,
        and small systems solve much faster. A count in no equation is free to move."""
        parent = list(range(len(self.hidden)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for row in self.rows:
            first, *rest = row
            for other in rest:
                parent[find(other)] = find(first)
        members: dict[int, list[int]] = {}
        for i in range(len(self.hidden)):
            members.setdefault(find(i), []).append(i)
        rows: dict[int, list[int]] = {}
        for n, row in enumerate(self.rows):
            rows.setdefault(find(next(iter(row))), []).append(n)
        for root, found in rows.items():
            local = {c: j for j, c in enumerate(members[root])}
            yield _System([self.hidden[c] for c in members[root]],
                          [{local[c]: v for c, v in self.rows[n].items()} for n in found],
                          [self.sources[n] for n in found],
                          {local[c]: side for c, side in self.tight.items() if c in local})


class Unsure(RuntimeError):
    """The linear program could not settle which counts can move (it ran too long, or its
    rounded answer left the polytope), where a caution the other way would publish a count."""


def exposed(values: Mapping[K, int], equations: Iterable[Equation[K]],
            small: Collection[K], withheld: Collection[K], threshold: int,
            sure: bool = False) -> Exposure[K]:
    """Which withheld counts have a single possible value. `small` are shown as `<threshold`
    (1 to threshold-1); `withheld` as withheld: at least the threshold, or at least 1 for a
    small count that had to be shown as withheld (the strongest reader knows which). Where
    the program cannot settle a count, it is taken as exposed (the cautious answer for
    withholding more), or with `sure`, Unsure is raised (for a caller that would publish
    what is exposed)."""
    cells: set[K] = set()
    pinned: set[K] = set()
    proofs: dict[K, frozenset[int]] = {}
    for part in _System.of(values, equations, small, withheld, threshold).parts():
        found = _exposed(part, sure)
        cells |= found.cells
        pinned |= found.pinned
        proofs.update(found.proofs)
    return Exposure(frozenset(cells), frozenset(pinned), proofs)


def _exposed(system: _System[K], sure: bool) -> Exposure[K]:
    pivots = reduce(system.rows)
    tight = system.tight
    pinned = set(tight) - movable(pivots, tight, sure) if tight else set()
    bounds = [{i: 1} for i in sorted(pinned)]
    if pinned:
        pivots = reduce(bounds, start=pivots)
    hidden = system.hidden
    fixed = [col for col, row in pivots.items() if len(row) == 1]
    proofs: dict[K, frozenset[int]] = {}
    if fixed:
        # Again with each row tagged by its equation (a column past the counts), so the
        # combination that fixes each count can be read off its row.
        size = len(hidden)
        tagged = [{**row, size + n: 1} for row, n in zip(system.rows, system.sources,
                                                         strict=True)]
        traced = reduce([*tagged, *bounds], size)
        proofs = {hidden[col]: frozenset(c - size for c in traced[col] if c >= size)
                  for col in fixed}
    return Exposure(frozenset(hidden[col] for col in fixed),
                    frozenset(hidden[i] for i in pinned), proofs)


def direction(values: Mapping[K, int], equations: Iterable[Equation[K]],
              small: Collection[K], withheld: Collection[K], threshold: int,
              target: K) -> dict[K, Fraction] | None:
    """A proof that `target` is protected: a way to move the withheld counts, `target` among
    them, that keeps every equation and (for a small enough step) every mark true. None when
    `target` has a single possible value."""
    system = _System.of(values, equations, small, withheld, threshold)
    pivots = reduce(system.rows)
    t = system.hidden.index(target)
    for sign in (1, -1):
        if system.tight.get(t, sign) != sign:
            continue
        signs = {**system.tight, t: sign}
        order = sorted(signs)
        basis = _basis(pivots, order)
        used = sorted({f for entry in basis for f in entry})
        witness = _direction(basis, used, [signs[i] for i in order]) if used else None
        if witness is None:
            continue
        free = {c: witness.get(c, Fraction(0)) for c in range(len(system.hidden))
                if c not in pivots}
        steps = {**free, **{p: -sum((v * free[f] for f, v in row.items() if f != p),
                                    Fraction(0)) / row[p] for p, row in pivots.items()}}
        if steps[t] * sign > 0 and all(steps[i] * s >= 0 for i, s in system.tight.items()):
            return {system.hidden[i]: step for i, step in steps.items() if step}
    return None


def _basis(pivots: Mapping[int, Row], order: Sequence[int]) -> list[dict[int, Fraction]]:
    """Each listed count's step as a combination of the free counts' steps: 1 for a free
    count itself, -row[f] for a pivot."""
    return [{f: Fraction(-v, pivots[i][i]) for f, v in pivots[i].items() if f != i}
            if i in pivots else {i: Fraction(1)} for i in order]


def _row(eq: Equation[K], index: Mapping[K, int]) -> Row:
    """The equation over withheld counts only; published counts are constants."""
    row: dict[int, int] = {}
    for sign, key in ((-1, eq.total), *((1, part) for part in eq.parts)):
        i = index.get(key)
        if i is not None:
            row[i] = row.get(i, 0) + sign
    return {i: c for i, c in row.items() if c}


def reduce(rows: Iterable[Row], columns: int | None = None,
           start: Mapping[int, Row] | None = None) -> dict[int, Row]:
    """Reduced row echelon form, sparse and in whole numbers: each pivot column to its row,
    in which no other pivot column appears (divide by the pivot for the usual form).
    Variable j is fixed by the rows exactly when its row has no other entry. Columns from
    `columns` on are carried along but never made pivots (they record where a row came
    from). `start`, a reduced form already made, is extended by the rows."""
    pivots: dict[int, Row] = {}
    holders: dict[int, set[int]] = {}
    """For each column, the pivots whose rows hold it."""
    for lead, row in (start or {}).items():
        pivots[lead] = row
        for c in row:
            holders.setdefault(c, set()).add(lead)

    def put(lead: int, row: Row) -> None:
        for c in pivots.get(lead, ()):
            holders[c].discard(lead)
        pivots[lead] = row
        for c in row:
            holders.setdefault(c, set()).add(lead)

    for given in rows:
        row = dict(given)
        for col in [c for c in row if c in pivots]:
            row = _eliminate(row, col, pivots[col])
        real = [c for c in row if columns is None or c < columns]
        if not real:
            continue
        col = min(real)
        if row[col] < 0:
            row = {c: -v for c, v in row.items()}
        for lead in sorted(holders.get(col, ())):
            put(lead, _eliminate(pivots[lead], col, row, lead))
        put(col, row)
    return pivots


def _eliminate(row: Row, col: int, pivot: Row, lead: int | None = None) -> Row:
    """`row` with `col` cleared by a multiple of `pivot`, divided by its common factor (and
    with its own `lead` kept positive)."""
    a, b = pivot[col], row[col]
    out = {c: v * a for c, v in row.items()}
    for c, v in pivot.items():
        value = out.get(c, 0) - b * v
        if value:
            out[c] = value
        else:
            out.pop(c, None)
    common = gcd(*out.values()) if out else 1
    if lead is not None and out.get(lead, 1) < 0:
        common = -common
    return {c: v // common for c, v in out.items()}


def movable(pivots: Mapping[int, Row], tight: Mapping[int, int],
            sure: bool = False) -> set[int]:
    """The tight counts that some point of the polytope moves off their bound: those with a
    direction d, A d = 0, that keeps every tight count on its side and moves them strictly.

    Directions form a cone, so two that each keep the counts on their sides add up to one
    that does; and a count one direction moves strictly can be kept on its side under any
    other by adding enough of the first. So steps along one free count at a time are tried
    first, each checked only on the counts nothing has moved yet, until none moves more;
    the linear program then looks only at the counts still held."""
    order = sorted(tight)
    basis = _basis(pivots, order)
    steps: dict[int, list[tuple[int, Fraction]]] = {}
    for i, entry in zip(order, basis, strict=True):
        for f, v in entry.items():
            steps.setdefault(f, []).append((i, v))
    moved: set[int] = set()
    grown = True
    while grown:
        grown = False
        for touched in steps.values():
            for sign in (1, -1):
                held = [(i, tight[i] * sign * v) for i, v in touched if i not in moved]
                if held and all(step >= 0 for _, step in held) and any(
                        step > 0 for _, step in held):
                    moved.update(i for i, step in held if step > 0)
                    grown = True
    stuck = [n for n, i in enumerate(order) if i not in moved]
    if not stuck:
        return moved
    held_basis = [basis[n] for n in stuck]
    used = sorted({f for entry in held_basis for f in entry})
    if not used:
        return moved
    witness = _direction(held_basis, used, [tight[order[n]] for n in stuck])
    if witness is None:
        if sure:
            raise Unsure("the linear program found no answer")
        return moved
    found: set[int] = set()
    for n, entry in zip(stuck, held_basis, strict=True):
        i = order[n]
        step = tight[i] * sum((v * witness.get(f, 0) for f, v in entry.items()), Fraction(0))
        if step < 0:
            if sure:
                raise Unsure("the program's rounded direction leaves the polytope")
            return moved  # the rounded direction leaves the polytope: claim no more
        if step > 0:
            found.add(i)
    return moved | found


def _direction(basis: Sequence[Mapping[int, Fraction]], used: Sequence[int],
               signs: Sequence[int]) -> dict[int, Fraction] | None:
    """Maximise sum(s) with sign_i * (M z)_i >= s_i, 0 <= s_i <= 1, z free: at the optimum
    s_i > 0 for every tight count that can move at all (directions form a cone, so one that
    moves count i can be added to any other without undoing it)."""
    b, f = len(basis), len(used)
    column = {c: n for n, c in enumerate(used)}
    m = np.zeros((b, f))
    for i, entry in enumerate(basis):
        for c, v in entry.items():
            m[i, column[c]] = signs[i] * float(v)
    # Columns: z+ (f), z- (f), s (b), slack e (b), slack w (b); rows: b cone rows, b caps.
    a = np.zeros((2 * b, 2 * f + 3 * b))
    a[:b, :f], a[:b, f:2 * f] = -m, m
    eye = np.eye(b)
    a[:b, 2 * f:2 * f + b] = eye
    a[:b, 2 * f + b:2 * f + 2 * b] = eye
    a[b:, 2 * f:2 * f + b] = eye
    a[b:, 2 * f + 2 * b:] = eye
    rhs = np.concatenate([np.zeros(b), np.ones(b)])
    cost = np.zeros(2 * f + 3 * b)
    cost[2 * f:2 * f + b] = 1
    x = maximise(a, rhs, cost, list(range(2 * f + b, 2 * f + 3 * b)))
    if x is None:
        return None
    z = x[:f] - x[f:2 * f]
    return {c: Fraction(float(z[n])).limit_denominator(1_000_000) for c, n in column.items()
            if abs(z[n]) > _EPS}


def maximise(a: np.ndarray, rhs: np.ndarray, cost: np.ndarray,
             basis: list[int]) -> np.ndarray | None:
    """The simplex method: maximise cost.x subject to a x = rhs, x >= 0, from a feasible
    basis whose columns are the identity. The steepest reduced cost enters; after a run of
    steps that gain nothing, Bland's rule takes over, which cannot cycle. None if the
    program is unbounded or runs too long."""
    cols = a.shape[1]
    table = np.hstack([a, rhs[:, None]]).astype(float)
    reduced = cost.astype(float).copy()
    stalled = 0
    for _ in range(_MAX_PIVOTS):
        entering = np.flatnonzero(reduced > _EPS)
        if entering.size == 0:
            x = np.zeros(cols)
            x[basis] = table[:, -1]
            return x
        bland = stalled > _STALL
        j = int(entering[0] if bland else entering[np.argmax(reduced[entering])])
        candidates = np.flatnonzero(table[:, j] > _EPS)
        if candidates.size == 0:
            return None
        ratios = table[candidates, -1] / table[candidates, j]
        best = ratios.min()
        ties = candidates[ratios <= best + _EPS]
        i = int(min(ties, key=lambda r: basis[int(r)]))
        stalled = stalled + 1 if best <= _EPS else 0
        table[i] /= table[i, j]
        others = np.flatnonzero(table[:, j])
        others = others[others != i]
        table[others] -= np.outer(table[others, j], table[i])
        reduced -= reduced[j] * table[i, :cols]
        basis[i] = j
    return None

