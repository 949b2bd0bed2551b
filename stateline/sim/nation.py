"""Build a synthetic nation in a data folder: the directory, a switch credential for every
agency, the switch's configuration, each chosen state's DMV store, its gateway configuration
and default sharing policy, and a manifest saying what was built."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ..datadir import DataDir
from ..directory.store import Directory
from ..dmv import open_store
from ..dmv.store import Batch
from ..errors import RequesterError
from ..policy.source import PolicyError
from ..policy.store import StateError, apply, default_policy
from ..protocol import STATES
from ..switch.config import write_default as write_switch_config
from ..switch.credentials import issue_for_nation
from .agencies import generate_agencies
from .residents import generate_residents

DEFAULT_STATES = ("WA", "OR", "NY", "TX", "AZ")
DEFAULT_RESIDENTS = 10_000

Progress = Callable[[str, int], None]
"""Told what is being built and how many residents were just added."""


class NationError(RequesterError):
    """A nation cannot be built or read as asked; the message says what to do."""

    code, status = "nation-error", 409


@dataclass(frozen=True, slots=True)
class Manifest:
    seed: int
    states: tuple[str, ...]
    residents: int
    agencies: int
    built: str

    def to_toml(self) -> str:
        states = ", ".join(f'"{s}"' for s in self.states)
        return (
            "# What `stateline nation init` built here. Synthetic data only.\n"
            f"seed = {self.seed}\nstates = [{states}]\nresidents = {self.residents}\n"
            f"agencies = {self.agencies}\nbuilt = \"{self.built}\"\n"
        )


def parse_states(text: str) -> tuple[str, ...]:
    """`WA,or, NY` → ('WA', 'OR', 'NY'); an unknown or repeated code is an error."""
    codes = tuple(code.strip().upper() for code in text.split(",") if code.strip())
    unknown = [code for code in codes if code not in STATES]
    if unknown:
        raise NationError(f"not a state code: {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        raise NationError("a state is named twice")
    if not codes:
        raise NationError("name at least one state, e.g. --states WA,OR")
    return codes


def read_manifest(data: DataDir) -> Manifest:
    if not data.manifest.is_file():
        raise NationError(f"no nation at {data.root}: run `stateline nation init {data.root}`")
    try:
        raw = tomllib.loads(data.manifest.read_text())
        return Manifest(int(raw["seed"]), tuple(raw["states"]), int(raw["residents"]),
                        int(raw["agencies"]), str(raw["built"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise NationError(f"{data.manifest} is damaged ({error}); rebuild with --force") from None


def build_nation(
    data: DataDir,
    states: tuple[str, ...] = DEFAULT_STATES,
    residents: int = DEFAULT_RESIDENTS,
    seed: int = 1,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Manifest:
    """Write a whole nation into the data folder; the same arguments build the same nation."""
    if residents < 1:
        raise NationError("a state needs at least one resident")
    if data.root.exists() and any(data.root.iterdir()):
        if not force:
            raise NationError(f"{data.root} is not empty: use --force to rebuild it")
        shutil.rmtree(data.root)
    data.root.mkdir(parents=True, exist_ok=True)
    tell = progress or (lambda _what, _n: None)
    agencies = generate_agencies(seed)
    tell("directory", 0)
    with Directory.open(data) as directory:
        directory.put_many(agencies)
    issue_for_nation(data, [agency.ori for agency in agencies])
    write_switch_config(data)
    policy = default_policy()
    for state in states:
        data.state_dir(state).mkdir(parents=True, exist_ok=True)
        data.config(state).write_text(state_config(state))
        try:
            apply(data, state, policy, who="nation init", note="default policy")
        except (PolicyError, StateError) as error:
            raise NationError(f"cannot install {state}'s default policy: {error}") from None
        store = open_store(data.dmv_url(state))
        try:
            store.load(_told(generate_residents(state, residents, seed), state, tell))
        finally:
            store.close()
    manifest = Manifest(seed, states, residents, len(agencies),
                        datetime.now(UTC).isoformat(timespec="seconds"))
    data.manifest.write_text(manifest.to_toml())
    return manifest


def _told(batches: Iterator[Batch], state: str, tell: Progress) -> Iterator[Batch]:
    for batch in batches:
        yield batch
        tell(state, len(batch.people))


def state_config(state: str) -> str:
    """A state's gateway configuration as a coordinator first sees it: commented TOML."""
    return f"""\
# Gateway configuration for {STATES[state]} ({state}).
# Synthetic nation: edit freely; later sections are added as capabilities land.

[state]
code = "{state}"
name = "{STATES[state]}"

[gateway]
# ORIs the state's answers come from: driver records and vehicle records.
driver_ori = "{state}OLN0000"
vehicle_ori = "{state}LIC0000"

[search]
# Most hits a name-only or owner-name query returns, and a partial-plate query returns.
name_limit = 20
partial_plate_limit = 50
"""
