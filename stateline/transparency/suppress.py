"""Small-count protection: no count from 1 to threshold-1 is published, and enough other counts
are withheld with them that no withheld count can be worked out from what is published.

Counts are keyed cells tied by equations (a total is the sum of its parts). Linked tables are
one system: a margin two tables share is one cell, and identities across tables (disclosures
are released plus partial decisions and reviews) are equations too, so a count hidden in one
table cannot be recovered from another. The steps, repeated until nothing changes:

1. primary: every count from 1 to threshold-1 is shown as `<threshold`;
2. complementary: any equation with exactly one withheld term gets a second: a published
   non-zero term, chosen to spare headline totals and to start as few new gaps as it can;
   never a `fixed` count (one published whatever happens, unless it is itself small), nor a
   count the fixed counts give away on their own (withholding it would hide nothing; such a
   count is shown even when small, and listed as `given`);
3. audit (`derive.exposed`): a withheld count that still has a single possible value, given
   the equations and the bounds the marks reveal, gets a partner withheld beside it; or, when
   the `<threshold` of a count is itself what pins it (nine counts of 1 adding up to a `<10`),
   that count is shown as `withheld` instead.

Zeros are never withheld (a zero is not sensitive, and a withheld zero could be pinned to 0).
Each round withholds a count or changes a mark, so the rounds end; should a count still be
exposed with every non-zero count withheld, `DisclosureError` is raised rather than publish it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import StatelineError
from .derive import Exposure, Unsure, exposed

K = TypeVar("K", bound=tuple[str, ...])

DEFAULT_THRESHOLD = 10
WITHHELD = "withheld"


class DisclosureError(StatelineError):
    """Counts that cannot be published safely: they do not add up, or no choice of withheld
    counts protects them."""

    code = "disclosure-error"


@dataclass(frozen=True, slots=True)
class Equation(Generic[K]):
    """`total` is the sum of `parts`, and every reader can know it."""

    total: K
    parts: tuple[K, ...]

    @property
    def terms(self) -> tuple[K, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True, slots=True)
class Suppression(Generic[K]):
    threshold: int
    primary: frozenset[K]
    """Every count from 1 to threshold-1."""
    secondary: frozenset[K]
    """Larger counts withheld so that no primary count can be worked out."""
    masked: frozenset[K] = frozenset()
    """Primary counts shown as withheld, because `<threshold` would pin them."""
    given: frozenset[K] = frozenset()
    """Counts from 1 to threshold-1 shown as they are, because counts that must be shown
    give them away (a requester's requests less its disclosures, where one outcome holds
    all the difference): a mark there would hide nothing."""

    def mark(self, key: K) -> str | None:
        """What a report shows instead of the count, or None when the count is shown."""
        if key in self.primary and key not in self.masked:
            return f"<{self.threshold}"
        if key in self.secondary or key in self.masked:
            return WITHHELD
        return None


def suppress(values: Mapping[K, int], equations: Sequence[Equation[K]],
             threshold: int = DEFAULT_THRESHOLD,
             keep: Mapping[K, int] | None = None,
             fixed: Collection[K] = ()) -> Suppression[K]:
    """Primary and complementary suppression over linked tables (see the module's steps).
    Counts in `keep` (headline totals, ranked by how much they matter) are withheld as
    little as the choices can manage, counting the counts each choice forces in turn.
    Counts in `fixed` are marked only when they are small themselves."""
    if threshold < 3:
        raise ValueError("the threshold must be at least 3 (with 2, '<2' would mean 1)")
    return _Suppressor(values, equations, threshold, keep or {}, fixed).run()


class _Suppressor(Generic[K]):
    """One run of the steps: which counts are withheld so far, and which marks changed."""

    def __init__(self, values: Mapping[K, int], equations: Sequence[Equation[K]],
                 threshold: int, keep: Mapping[K, int], fixed: Collection[K]) -> None:
        self.values, self.equations, self.threshold = values, equations, threshold
        self.keep = keep
        small = frozenset(k for k, v in values.items() if 0 < v < threshold)
        self.settled = self.given_away(frozenset(fixed) - small) if fixed else frozenset()
        self.given = small & self.settled
        self.primary = small - self.given
        self.hidden, self.masked = set(self.primary), set[K]()
        self.where: dict[K, list[Equation[K]]] = {}
        for eq in equations:
            for term in eq.terms:
                self.where.setdefault(term, []).append(eq)

    def given_away(self, shown: frozenset[K]) -> frozenset[K]:
        """The counts in `shown`, and those they give away whatever else is withheld: the
        counts a reader could still work out with every other non-zero count withheld (and
        every small one shown as withheld, which tells the least)."""
        rest = {k for k, v in self.values.items() if v > 0} - shown
        try:
            found = exposed(self.values, self.equations, (), rest, self.threshold, sure=True)
        except Unsure as error:
            raise DisclosureError(f"cannot tell which counts the fixed ones give away: "
                                  f"{error}") from None
        return shown | found.cells

    def run(self) -> Suppression[K]:
        values, primary, masked = self.values, self.primary, self.masked
        while True:
            self.complete()
            found = exposed(values, self.equations, primary - masked,
                            (self.hidden - primary) | masked, self.threshold)
            if not found.cells:
                return Suppression(self.threshold, primary,
                                   frozenset(self.hidden - primary), frozenset(masked),
                                   self.given)
            pinning = {k for k in found.pinned - masked
                       if k in primary and values[k] == self.threshold - 1}
            if pinning:
                masked.update(pinning)
            else:
                self.widen(found)

    def complete(self) -> None:
        """Step 2 until every equation has no withheld term or at least two."""
        pending = list(self.equations)
        while pending:
            eq = pending.pop()
            if sum(term in self.hidden for term in eq.terms) != 1:
                continue
            partner = self.partner(eq)
            if partner is None:
                raise DisclosureError(f"{eq.total} is not the sum of its parts")
            self.hidden.add(partner)
            pending.extend(self.where.get(partner, ()))

    def choices(self, terms: Iterable[K], also: Collection[K] = ()) -> list[K]:
        return [t for t in terms if t not in self.hidden and t not in also
                and t not in self.settled and self.values[t] > 0]

    def partner(self, eq: Equation[K]) -> K | None:
        """The equation's published non-zero term to withhold next, by `cost`."""
        return min(self.choices(eq.terms), key=lambda t: self.cost(t, eq), default=None)

    def cost(self, t: K, eq: Equation[K]) -> tuple[int, int, bool, int, bool, K]:
        """Lowest first: the least loss of `keep` counts, counting those that withholding
        `t` forces (`loss`); the fewest equations left with a lone withheld term, net of
        those it completes; a count above the threshold rather than on it (a withheld count
        of exactly the threshold sits on its bound, which tells a reader more); the
        smallest; a part before the total."""
        hidden = self.hidden
        alone = 0
        for other in self.where.get(t, ()):
            if other != eq:
                withheld = sum(u in hidden for u in other.terms)
                alone += 1 if withheld == 0 else -1 if withheld == 1 else 0
        value = self.values[t]
        return (self.loss(t, {t}, eq), alone, value == self.threshold, value,
                t == eq.total, t)

    def loss(self, t: K, taken: set[K], eq: Equation[K], depth: int = 8) -> int:
        """What withholding `t` costs in `keep` rank: its own, plus, for each equation it
        leaves with a lone withheld term, the least rank that equation can be completed with,
        followed further where only one count can complete it."""
        total = self.keep.get(t, 0)
        for other in self.where.get(t, ()):
            if other == eq or any(u in self.hidden or (u in taken and u != t)
                                  for u in other.terms):
                continue
            left = self.choices(other.terms, taken)
            if len(left) == 1 and depth:
                taken.add(left[0])
                total += self.loss(left[0], taken, other, depth - 1)
            else:
                total += min((self.keep.get(u, 0) for u in left), default=0)
        return total

    def widen(self, found: Exposure[K]) -> None:
        """Step 3: a partner in one of the equations a reader combines to fix each exposed
        count (once per such proof); failing that, beside each exposed count; failing both,
        the smallest published count tied to any withheld one."""
        hidden, equations = self.hidden, self.equations
        used: set[int] = set()
        for key in sorted(found.cells):
            proof = found.proofs.get(key, frozenset())
            if proof & used:
                continue
            options = [(self.cost(p, equations[n]), p) for n in sorted(proof)
                       if (p := self.partner(equations[n])) is not None]
            if options:
                hidden.add(min(options)[1])
                used |= proof
        if used:
            return
        for key in sorted(found.cells):
            options = [(self.cost(p, eq), p) for eq in self.where.get(key, ())
                       if (p := self.partner(eq)) is not None]
            if options:
                hidden.add(min(options)[1])
                return
        tied = {t for eq in equations if any(t in hidden for t in eq.terms) for t in eq.terms}
        choices = self.choices(tied)
        if not choices:
            raise DisclosureError(f"{len(found.cells)} counts stay exposed with every "
                                  "non-zero count withheld that may be")
        hidden.add(min(choices, key=lambda t: (self.keep.get(t, 0), self.values[t], t)))
