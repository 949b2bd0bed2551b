"""The tables `stateline demo` prints: the nation's states and policies, what each state
answered, who asked for what, and the dashboard accounts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.table import Table
from rich.text import Text

from ..directory.categories import CATEGORIES
from ..policy.presets import presets
from ..sim.drive import DOWN, Tally
from ..sim.history import Imported
from ..sim.scenario import STATES, DemoState
from ..sim.summary import StateSummary

OUTCOME_STYLES = (("answered", "green"), ("denied", "red"), ("held", "yellow"), (DOWN, "cyan"),
                  ("rejected", "magenta"), ("error", "red"))
"""Words of the progress line: held is for the state's review, queued is held by the switch
while a state is out of service."""


def scenario_table(policies: dict[str, str]) -> Table:
    """Each state, the policy in force and what the state stands for in the demo."""
    table = Table(box=box.SIMPLE_HEAD, title="Eight states, eight sharing policies",
                  title_justify="left", pad_edge=False)
    table.add_column("state", no_wrap=True)
    table.add_column("policy in force", no_wrap=True)
    table.add_column("stands for", ratio=1)
    for state in STATES:
        table.add_row(state.code, *described(state, policies.get(state.code, "")))
    return table


def described(state: DemoState, name: str) -> tuple[str, str]:
    """The policy in force and what it stands for: the demo's words while it is the demo's
    preset, else the summary of what is in force now (changed in the dashboard, say)."""
    if name == state.preset:
        return name, state.echo
    summaries = {p.name: p.summary for p in presets()}
    now = summaries.get(name, "a policy written for the state, not a shipped preset")
    return f"{name} (demo: {state.preset})", f"{now} (changed since the demo set {state.preset})"


def history_line(done: Sequence[Imported], seconds: float, folder: Path) -> str:
    """What history the demo brought in: the years, the requests and how long it took."""
    added = [i for i in done if i.requests]
    if not added:
        return f"History: each state's files in {folder} were imported before; nothing added."
    first = min(i.written.span.first for i in added)
    last = max(i.written.span.last for i in added)
    years = first.year if first.year == last.year else f"{first.year}-{last.year}"
    requests = sum(i.requests for i in added)
    return (f"History: imported {requests:,} requests of {years} ({first.isoformat()} to "
            f"{last.isoformat()}) from {len(added)} states' switch records in {seconds:.1f} s; "
            f"the files are in {folder}.")


def progress_line(tally: Tally) -> Text:
    """The line under the progress bar: messages sent and what came back from the states."""
    line = Text(f"{tally.sent:,} sent")
    for word, style in OUTCOME_STYLES:
        count = tally.seen.get(word, 0)
        if count or word in ("answered", "denied"):
            line.append(" · ")
            line.append(f"{word} {count:,}", style=style)
    return line


def states_table(found: Sequence[StateSummary], policies: dict[str, str]) -> Table:
    caption = " · ".join(f"{s.state} {policies.get(s.state, '')}" for s in found)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", min_width=78,
                  title="What each state answered in this run (from its audit log)",
                  caption=f"Policies: {caption}.", caption_justify="left")
    for name in ("state", "requests", "answered", "denied", "held", "no record", "photos"):
        table.add_column(name, justify="left" if name == "state" else "right")
    for s in found:
        table.add_row(s.state, f"{s.requests:,}", f"{s.disclosed:,}",
                      _styled(s.denied, "red"), _styled(s.held, "yellow"),
                      f"{s.no_record:,}", f"{s.photos:,}")
    total = [sum(getattr(s, name) for s in found)
             for name in ("requests", "disclosed", "denied", "held", "no_record", "photos")]
    table.add_section()
    table.add_row("all", *(f"{n:,}" for n in total))
    return table


def categories_table(found: Sequence[StateSummary]) -> Table:
    """Rows: who asked (statistics category); columns: states; cells: requests/disclosures."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=0,
                  title="Requests/disclosures by who asked", title_justify="left",
                  caption="A disclosure is an answer with records, some elements perhaps "
                          "withheld; the other requests were denied, held or found no record "
                          "(a query to every state finds its person in one). Red: nothing "
                          "disclosed.", caption_justify="left")
    table.add_column("asked by", no_wrap=True)
    for s in found:
        table.add_column(s.state, justify="right", no_wrap=True)
    seen = {name for s in found for name in s.categories}
    order = [c for c in CATEGORIES if c in seen] + sorted(seen - set(CATEGORIES))
    for category in order:
        table.add_row(category, *(_cell(s.categories.get(category)) for s in found))
    return table


def _cell(counts: tuple[int, int] | None) -> Text:
    if not counts:
        return Text("·", style="dim")
    requests, disclosed = counts
    style = "red" if disclosed == 0 else "green" if disclosed == requests else ""
    return Text(f"{requests}/{disclosed}", style=style)


def _styled(count: int, style: str) -> Text:
    return Text(f"{count:,}", style=style if count else "")


def accounts_table(accounts: Sequence[tuple[str, str, str, str]], url: str) -> Table:
    table = Table("account", "role", "states", "password", box=box.SIMPLE_HEAD,
                  pad_edge=False, title_justify="left",
                  title=f"Dashboard accounts for {url} (passwords shown once; a re-run of the "
                        "demo sets new ones)")
    for row in accounts:
        table.add_row(*row)
    return table
