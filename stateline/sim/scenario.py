"""The demo's nation: eight states under eight different sharing policies, a court order, a
New-York-style notice duty and a state that goes out of service for a moment.

The states echo what the landscape notes report (policy-landscape.md §2) without claiming to
be those states' real configurations. The scenario is put in place once, when the nation is
built (or first found without it), and marked in DIR/demo.toml; a later run reuses the nation
as it stands, so policy edits and reviews made in the dashboard survive a re-run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..datadir import DataDir
from ..directory.store import Directory
from ..dmv import open_store
from ..dmv.store import Sample
from ..notices.config import new_york_style_notices
from ..policy.presets import preset, presets
from ..policy.registry import Registry, Subject
from ..policy.store import apply, current_text
from .nation import Manifest, NationError, Progress, build_nation, read_manifest
from .traffic import Focus, Setting

WHO = "demo"
SEED = 1
RESIDENTS = 5_000
SAMPLES = 400
"""Records per state the traffic asks about."""


@dataclass(frozen=True, slots=True)
class DemoState:
    code: str
    preset: str
    echo: str
    """What the state stands for in the demo, in a few words."""
    notices: bool = False


STATES = (
    DemoState("WA", "block-ice", "cut ICE off at its switch in 2025; CBP kept access"),
    DemoState("OR", "block-dhs-immigration-except-court-order",
              "DHS immigration agencies only with a court order (one on file for ICE)"),
    DemoState("NY", "block-ice-review-hsi",
              "Green Light Law: ICE refused, HSI reviewed, the person told within 3 days",
              notices=True),
    DemoState("IL", "block-ice-hsi", "no release to immigration agents (2023 law)"),
    DemoState("CA", "block-federal-name-and-partial-plate",
              "federal agencies check known plates and licenses, never search by name"),
    DemoState("AZ", "block-ice-and-287g", "ICE and 287(g) partners refused"),
    DemoState("TX", "cj-baseline", "answers every criminal-justice agency"),
    DemoState("FL", "withhold-ssn-credential-out-of-state",
              "shares photos with every agency that asks, as 41 states do"),
)
CODES = tuple(s.code for s in STATES)

OUT_OF_SERVICE = "TX"
"""The state whose system goes down for a few seconds mid-run."""

ORDER_STATE, ORDER_HOLDER = "OR", "VTICE0900"
ORDER_REFERENCE = "OR-CV-2025-0142"
"""A court order Oregon has on file: ICE's Law Enforcement Support Center may see one
subject's records (the first of Oregon's sample records)."""
ORDER_SHARE = 0.002
"""How often that office asks Oregon about the subject: enough to show answered ICE rows."""


@dataclass(frozen=True, slots=True)
class Prepared:
    manifest: Manifest
    built: bool
    """False when an existing nation was reused."""
    scenario_applied: bool
    """True when this run put the demo's policies, court order and notices in place."""


def prepare(data: DataDir, residents: int = RESIDENTS, *, rebuild: bool = False,
            progress: Progress | None = None) -> Prepared:
    """Build the demo nation, or reuse the one in the folder when it has the demo's states.
    A folder holding another nation is left alone (NationError) unless `rebuild`."""
    built = False
    try:
        manifest = read_manifest(data)
    except NationError:
        if data.root.exists() and any(data.root.iterdir()) and not rebuild:
            raise NationError(f"{data.root} holds files but no nation: use another --data "
                              "folder, or --rebuild to replace its contents") from None
        manifest = _build(data, residents, progress)
        built = True
    else:
        if rebuild or sorted(manifest.states) != sorted(CODES):
            if not rebuild:
                raise NationError(
                    f"{data.root} holds a nation of {', '.join(manifest.states)}, not the "
                    f"demo's {', '.join(CODES)}: use another --data folder, or --rebuild to "
                    "replace it")
            manifest = _build(data, residents, progress)
            built = True
    applied = not _marked(data)
    if applied:
        apply_scenario(data)
    return Prepared(manifest, built, applied)


def _build(data: DataDir, residents: int, progress: Progress | None) -> Manifest:
    return build_nation(data, CODES, residents, SEED, force=True, progress=progress)


def _marked(data: DataDir) -> bool:
    path = data.root / "demo.toml"
    try:
        return tomllib.loads(path.read_text()).get("states") == list(CODES)
    except (OSError, tomllib.TOMLDecodeError):
        return False


def apply_scenario(data: DataDir, today: datetime | None = None) -> None:
    """Each state's preset (where another policy is in force), Oregon's court order and New
    York's notice duty, each recorded as made by "demo"; then the mark that they are done."""
    for state in STATES:
        text = preset(state.preset).text()
        if current_text(data, state.code) != text:
            apply(data, state.code, text, who=WHO, note=f"preset {state.preset}")
        config = data.config(state.code)
        if state.notices and "[notices]" not in config.read_text():
            with config.open("a") as out:
                out.write(new_york_style_notices())
    day = (today or datetime.now(UTC)).date()
    with Registry(data, ORDER_STATE) as registry:
        if all(order.reference != ORDER_REFERENCE for order in registry.orders()):
            subject = samples(data, ORDER_STATE)[0]
            registry.add_order(ORDER_REFERENCE, Subject(oln=subject.oln),
                               day - timedelta(days=30), day + timedelta(days=365),
                               ori=ORDER_HOLDER, who=WHO)
    states = ", ".join(f'"{code}"' for code in CODES)
    (data.root / "demo.toml").write_text(
        "# `stateline demo` put its policies, court order and notices in place here.\n"
        f"states = [{states}]\napplied = \"{datetime.now(UTC).isoformat(timespec='seconds')}\"\n")


def samples(data: DataDir, state: str, n: int = SAMPLES) -> list[Sample]:
    """The state's records the traffic asks about; the same ones every run."""
    store = open_store(data.dmv_url(state))
    try:
        return store.sample(n, seed=SEED)
    finally:
        store.close()


def setting(data: DataDir) -> Setting:
    """What the traffic generator needs: every agency, each state's sample records, and the
    court-ordered subject ICE keeps asking Oregon about."""
    with Directory.open(data, create=False) as directory:
        agencies = tuple(directory.agencies())
    found = {code: samples(data, code) for code in CODES}
    focus = Focus(ORDER_HOLDER, ORDER_STATE, found[ORDER_STATE][0], ORDER_SHARE,
                  "ICE (court order)")
    return Setting(CODES, agencies, found, (focus,))


def policy_in_force(data: DataDir, state: str) -> str:
    """The preset whose text is in force, or "edited policy"."""
    text = current_text(data, state)
    return next((p.name for p in presets() if p.text() == text), "edited policy")
