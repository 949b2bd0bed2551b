"""Small-count protection as a reader would attack it: from the published counts, the totals,
the tables that share them and what the marks say, no withheld count can be worked out.

For single tables the attack is independent of the code under test: a search for another
table of whole numbers that publishes exactly the same thing but differs in the withheld count
(for a table with margins, a network matrix, one exists a step away whenever one exists at
all). For linked tables the library's own proof of movement is checked here, step by step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateline.transparency.derive import direction, exposed
from stateline.transparency.suppress import Equation, Suppression, suppress

Key = tuple[str, ...]


def table(cells: list[list[int]], name: str = "t", rows: str = "r") -> tuple[
        dict[Key, int], list[Equation[Key]]]:
    """A table with row totals, column totals and a grand total, as keyed cells."""
    values: dict[Key, int] = {}
    equations: list[Equation[Key]] = []
    cols = range(len(cells[0]))
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            values[(name, f"{rows}{r}", f"c{c}")] = value
        values[(name, f"{rows}{r}", "*")] = sum(row)
        equations.append(Equation((name, f"{rows}{r}", "*"),
                                  tuple((name, f"{rows}{r}", f"c{c}") for c in cols)))
    for c in cols:
        values[(name, "*", f"c{c}")] = sum(row[c] for row in cells)
        equations.append(Equation((name, "*", f"c{c}"),
                                  tuple((name, f"{rows}{r}", f"c{c}") for r in range(len(cells)))))
    values[(name, "*", "*")] = sum(map(sum, cells))
    equations.append(Equation((name, "*", "*"),
                              tuple((name, f"{rows}{r}", "*") for r in range(len(cells)))))
    equations.append(Equation((name, "*", "*"), tuple((name, "*", f"c{c}") for c in cols)))
    return values, equations


def alternative(values: Mapping[Key, int], equations: Iterable[Equation[Key]],
                result: Suppression[Key], target: Key) -> dict[Key, int] | None:
    """A change to the withheld counts, `target` included, that leaves every published count
    and every equation as it was and every mark true; None if the search finds none."""
    hidden = result.primary | result.secondary
    t = result.threshold

    def fits(key: Key, step: int) -> bool:
        """What the mark tells: <t is 1 to t-1; withheld is at least t, or at least 1 where
        a small count had to be shown as withheld."""
        value = values[key] + step
        if result.mark(key) == f"<{t}":
            return 1 <= value <= t - 1
        return value >= (t if values[key] >= t else 1)

    rows = []
    for eq in equations:
        row: dict[Key, int] = {}
        for sign, key in ((-1, eq.total), *((1, p) for p in eq.parts)):
            if key in hidden:
                row[key] = row.get(key, 0) + sign
        if row:
            rows.append(row)

    def search(steps: dict[Key, int]) -> dict[Key, int] | None:
        steps = dict(steps)
        changed = True
        while changed:  # an equation with one unknown step fixes it
            changed = False
            for row in rows:
                open_ = [k for k in row if k not in steps]
                known = sum(c * steps[k] for k, c in row.items() if k in steps)
                if not open_ and known:
                    return None
                if len(open_) == 1:
                    k = open_[0]
                    step, rest = divmod(-known, row[k])
                    if rest or not fits(k, step):
                        return None
                    steps[k] = step
                    changed = True
        free = [k for k in sorted(hidden) if k not in steps]
        if not free:
            return steps
        for step in (0, 1, -1):
            if fits(free[0], step) and (found := search({**steps, free[0]: step})):
                return found
        return None

    for first in (1, -1):
        if fits(target, first) and (found := search({target: first})):
            return found
    return None


def checked_direction(values: Mapping[Key, int], equations: Iterable[Equation[Key]],
                      result: Suppression[Key], target: Key) -> bool:
    """The library's proof that `target` can move, checked here: every equation still holds,
    `target` moves, and each count on a bound its mark reveals moves away from the bound."""
    shown_small = result.primary - result.masked
    withheld = (result.primary | result.secondary) - shown_small
    steps = direction(values, equations, shown_small, withheld, result.threshold, target)
    if steps is None or not steps.get(target):
        return False
    t = result.threshold
    for key, step in steps.items():
        low = 1 if key in shown_small or values[key] < t else t
        if values[key] == low and step < 0:
            return False
        if key in shown_small and values[key] == t - 1 and step > 0:
            return False
    return all(sum(steps.get(p, 0) for p in eq.parts) == steps.get(eq.total, 0)
               for eq in equations)


def assert_protected(values: Mapping[Key, int], equations: list[Equation[Key]],
                     result: Suppression[Key], whole_numbers: bool = True) -> None:
    """With `whole_numbers`, another integer table is searched for (complete for a single
    table); otherwise the library's direction of movement is checked."""
    hidden = result.primary | result.secondary
    assert result.primary == {k for k, v in values.items() if 0 < v < result.threshold}
    assert all(values[k] > 0 for k in hidden), "a zero was withheld"
    for eq in equations:
        assert sum(term in hidden for term in eq.terms) != 1, eq
    for key in sorted(hidden):
        if whole_numbers:
            assert alternative(values, equations, result, key) is not None, key
        else:
            assert checked_direction(values, equations, result, key), key


def test_zero_is_shown_small_counts_are_marked_large_ones_shown_when_safe() -> None:
    values, equations = table([[0, 12, 30], [15, 40, 22]])
    result = suppress(values, equations)
    assert not result.primary and not result.secondary
    values, equations = table([[0, 3, 30], [15, 40, 22]])
    result = suppress(values, equations)
    assert result.mark(("t", "r0", "c1")) == "<10"
    assert result.mark(("t", "r0", "c0")) is None and values[("t", "r0", "c0")] == 0
    assert {result.mark(k) for k in result.secondary} == {"withheld"}
    assert_protected(values, equations, result)


def test_the_threshold_is_configurable_but_never_below_three() -> None:
    values, equations = table([[4, 7, 30], [15, 40, 22]])
    result = suppress(values, equations, threshold=5)
    assert result.mark(("t", "r0", "c0")) == "<5" and ("t", "r0", "c1") not in result.primary
    assert_protected(values, equations, result)
    with pytest.raises(ValueError, match="at least 3"):
        suppress(values, equations, threshold=2)


def test_two_ones_in_a_row_are_not_given_away_by_their_sum() -> None:
    """Totals and the other cells leave 2 for two withheld counts that are at least 1 each:
    both would be 1. Row and column pairing alone misses this; the audit does not."""
    values, equations = table([[1, 1, 50], [30, 40, 20]])
    result = suppress(values, equations)
    assert_protected(values, equations, result)


def test_distinct_marks_leak_unless_the_audit_knows_them() -> None:
    """x + y = 11 with x marked <10 and y withheld (so at least 10): x = 1, y = 10."""
    values: dict[Key, int] = {("x",): 1, ("y",): 10, ("s",): 11}
    equations = [Equation(("s",), (("x",), ("y",)))]
    assert exposed(values, equations, {("x",)}, {("y",)}, 10).cells == {("x",), ("y",)}
    assert not exposed(values, equations, {("x",)}, {("y",), ("s",)}, 10).cells
    values[("y",)], values[("s",)] = 12, 13
    assert not exposed(values, equations, {("x",)}, {("y",)}, 10).cells


def test_a_small_total_of_ones_is_shown_as_withheld_rather_than_pin_them() -> None:
    """Nine counts of 1 adding up to a total shown as <10 must all be 1: the total is shown as
    withheld instead, which says nothing about its size."""
    values, equations = table([[1] * 9 + [0], [20] * 10])
    result = suppress(values, equations)
    assert result.mark(("t", "r0", "*")) == "withheld" and ("t", "r0", "*") in result.masked
    assert result.mark(("t", "r0", "c0")) == "<10"
    assert_protected(values, equations, result)


def test_a_cell_recoverable_only_through_another_table_is_protected() -> None:
    """Alone, table a withholds its row totals to protect its 8; table b shows the same row
    totals as sums of counts it publishes, which would give the 8 away."""
    a_values, a_equations = table([[0, 44], [32, 8]], name="a")
    b_values, b_equations = table([[22, 22], [20, 20]], name="b")
    shared = {("b", "r0", "*"): ("a", "r0", "*"), ("b", "r1", "*"): ("a", "r1", "*"),
              ("b", "*", "*"): ("a", "*", "*")}
    values = {**a_values, **{k: v for k, v in b_values.items() if k not in shared}}
    equations = a_equations + [Equation(shared.get(e.total, e.total),
                                        tuple(shared.get(p, p) for p in e.parts))
                               for e in b_equations]
    alone = suppress(a_values, a_equations)
    assert ("a", "r1", "*") in alone.secondary
    assert alternative(values, equations, alone, ("a", "r1", "c1")) is None
    linked = suppress(values, equations)
    assert_protected(values, equations, linked, whole_numbers=False)
    assert any(key[0] == "b" for key in linked.secondary)


small_or_large = st.one_of(st.integers(0, 12), st.integers(0, 40))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4).flatmap(
    lambda cols: st.lists(st.lists(small_or_large, min_size=cols, max_size=cols),
                          min_size=1, max_size=4)),
       st.sampled_from([3, 5, 10]))
def test_random_tables_leave_no_withheld_count_determined(cells: list[list[int]],
                                                          threshold: int) -> None:
    values, equations = table(cells)
    assert_protected(values, equations, suppress(values, equations, threshold))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 3).flatmap(
    lambda rows: st.tuples(
        st.lists(st.lists(small_or_large, min_size=3, max_size=3), min_size=rows,
                 max_size=rows),
        st.lists(st.lists(small_or_large, min_size=rows, max_size=rows), min_size=2,
                 max_size=3))))
def test_a_month_series_linked_to_period_totals_leaves_nothing_determined(
        tables: tuple[list[list[int]], list[list[int]]]) -> None:
    """A category-by-outcome table and a month-by-category series that must add up to the
    same category totals: the report's hierarchy in small."""
    by_outcome, by_month = tables
    for category, row in enumerate(by_outcome):  # the months add up to each category
        gap = sum(month[category] for month in by_month) - sum(row)
        if gap >= 0:
            row[0] += gap
        else:
            by_month[0][category] -= gap
    a_values, a_equations = table(by_outcome, name="a")
    m_values, m_equations = table(by_month, name="m", rows="m")
    link = {("m", "*", f"c{r}"): ("a", f"r{r}", "*") for r in range(len(by_outcome))}
    link[("m", "*", "*")] = ("a", "*", "*")
    values = {**a_values, **{k: v for k, v in m_values.items() if k not in link}}
    equations = a_equations + [Equation(link.get(e.total, e.total),
                                        tuple(link.get(p, p) for p in e.parts))
                               for e in m_equations]
    for eq in equations:
        assert values[eq.total] == sum(values[p] for p in eq.parts)
    result = suppress(values, equations)
    assert_protected(values, equations, result, whole_numbers=False)


def test_fixed_counts_are_never_withheld_and_what_they_give_away_is_shown() -> None:
    """A headline count is published whatever happens; a small count it gives away with the
    zeros beside it is shown rather than marked, and the rest is still protected."""
    values, equations = table([[19, 4, 0], [30, 3, 25]])
    fixed = [("t", "r0", "*"), ("t", "r0", "c0")]
    result = suppress(values, equations, fixed=fixed)
    assert result.given == {("t", "r0", "c1")}
    assert all(result.mark(k) is None for k in (*fixed, ("t", "r0", "c1")))
    assert result.mark(("t", "r1", "c1")) == "<10"
    assert not exposed(values, equations, result.primary - result.masked,
                       result.secondary | result.masked, result.threshold).cells
