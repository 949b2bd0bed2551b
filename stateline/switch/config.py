"""The switch's settings in DIR/switch.toml: network members, regions, which keys each state
takes, how long queries wait, how long traffic is kept. A missing file is written with the
defaults and comments; a bad one is refused naming the file and the key."""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..datadir import DataDir
from ..protocol import KEYS, MULTI_STATE, STATES
from ..protocol.model import DESTINATION_PATTERN
from .errors import ConfigError

DMV_KEYS = frozenset(s.key for s in KEYS.values() if s.group and s.delivered_as is None)
"""The keys a state gateway answers: DQ DNQ KQ RQ RNQ RPQ (DQG and RQG arrive as DQ and RQ)."""

DEFAULT_REGIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "R1": ("CT", "MA", "ME", "NH", "RI", "VT"),
    "R2": ("DC", "DE", "MD", "NJ", "NY", "PA", "PR", "VI"),
    "R3": ("AL", "FL", "GA", "NC", "SC", "TN"),
    "R4": ("AR", "KY", "LA", "MS", "VA", "WV"),
    "R5": ("IL", "IN", "MI", "MN", "OH", "WI"),
    "R6": ("IA", "KS", "MO", "ND", "NE", "OK", "SD"),
    "R7": ("AZ", "CO", "NM", "NV", "TX", "UT"),
    "R8": ("AK", "CA", "GU", "HI", "ID", "MT", "OR", "WA", "WY"),
})
"""Eight regions, as Nlets has; the real codes and members are not public, so these are ours."""


@dataclass(frozen=True, slots=True)
class SwitchConfig:
    wait_seconds: float = 60.0
    """How long a query waits for state answers before the switch replies (Nlets MSQ: 60 s)."""
    retention_days: int = 365
    """How long the traffic log keeps a message (Nlets keeps one rolling year)."""
    retry_seconds: float = 5.0
    """How often held traffic is offered again to states in service."""
    states: tuple[str, ...] | None = None
    """States on the network; None means every state with a folder in the data folder."""
    regions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_REGIONS)
    default_keys: frozenset[str] = DMV_KEYS
    participation: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType({}))
    """Keys a state takes, where it differs from `default_keys`."""

    def takes(self, state: str) -> frozenset[str]:
        return self.participation.get(state, self.default_keys)

    def members(self, data: DataDir) -> frozenset[str]:
        return frozenset(self.states if self.states is not None else data.states())

    @classmethod
    def load(cls, data: DataDir) -> SwitchConfig:
        """The folder's settings; the commented defaults are written first if there are none."""
        path = data.switch_config
        if not path.exists():
            write_default(data)
        try:
            text = path.read_text()
        except OSError as error:
            raise ConfigError(f"{path}: cannot read it ({error.strerror})") from None
        return parse(text, path)


def write_default(data: DataDir) -> Path:
    path = data.switch_config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_text())
    return path


def default_text() -> str:
    regions = "\n".join(f"{code} = {json.dumps(list(members))}"
                        for code, members in DEFAULT_REGIONS.items())
    return f"""\
# Switch configuration (synthetic nation). Read when the switch starts.

[switch]
wait_seconds = 60        # how long a query waits for state answers before the switch replies
retention_days = 365     # how long the traffic log keeps a message
retry_seconds = 5        # how often held traffic is offered again to states in service
# states = ["WA", "OR"]  # states on the network; default: every state folder under states/

[regions]
# Region codes a query may address (DQG/RQG, or DQ/RQ): two characters, not a state code.
{regions}

[participation]
# Keys every network state takes, and states that differ. A state not listed takes `default`.
default = {json.dumps(sorted(DMV_KEYS))}
# NY = ["DQ", "KQ", "RQ", "RPQ"]   # e.g. a state that does not answer DNQ or RNQ
"""


def parse(text: str, source: Path | str = "switch.toml") -> SwitchConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML ({error})") from None
    _only(raw, {"switch", "regions", "participation"}, source, "")
    switch = _table(raw, "switch", source)
    _only(switch, {"wait_seconds", "retention_days", "retry_seconds", "states"}, source,
          "[switch] ")
    wait = _number(switch, "wait_seconds", 60.0, source, lowest=0.0)
    retry = _number(switch, "retry_seconds", 5.0, source, lowest=0.1)
    retention = _number(switch, "retention_days", 365, source, lowest=1)
    if retention != int(retention):
        raise ConfigError(f"{source}: [switch] retention_days: expected whole days, "
                          f"not {retention}")
    states = None
    if "states" in switch:
        states = _states(switch["states"], source, "[switch] states")
    regions = DEFAULT_REGIONS
    if "regions" in raw:
        regions = MappingProxyType({code: _states(members, source, f"[regions] {code}")
                                    for code, members in _table(raw, "regions", source).items()})
        for code in regions:
            if not DESTINATION_PATTERN.fullmatch(code) or len(code) != 2 or \
                    code in STATES or code == MULTI_STATE:
                raise ConfigError(f"{source}: [regions] {code}: a region code is two letters "
                                  "or digits and not a state code or NL")
    participation = dict(_table(raw, "participation", source))
    default = _keys(participation.pop("default", sorted(DMV_KEYS)), source, "default")
    takes = {}
    for state, keys in participation.items():
        if state not in STATES:
            raise ConfigError(f"{source}: [participation] {state}: not a state code")
        takes[state] = _keys(keys, source, state)
    return SwitchConfig(wait, int(retention), retry, states, regions, default,
                        MappingProxyType(takes))


def _only(table: Mapping[str, Any], allowed: set[str], source: Path | str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{source}: {where}{unknown[0]}: not a setting (expected one of "
                          f"{', '.join(sorted(allowed))})")


def _table(raw: Mapping[str, Any], name: str, source: Path | str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{name}]: expected a table")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, source: Path | str, *,
            lowest: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or value < lowest:
        raise ConfigError(f"{source}: [switch] {key}: expected a number of at least {lowest:g}, "
                          f"not {value!r}")
    return float(value)


def _states(value: object, source: Path | str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {where}: expected a list of state codes")
    codes = tuple(str(v).strip().upper() for v in value)
    unknown = [c for c in codes if c not in STATES]
    if unknown:
        raise ConfigError(f"{source}: {where}: {unknown[0]!r} is not a state code")
    return codes


def _keys(value: object, source: Path | str, state: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: [participation] {state}: expected a list of message keys")
    keys = frozenset(str(v).strip().upper() for v in value)
    unknown = sorted(keys - DMV_KEYS)
    if unknown:
        raise ConfigError(f"{source}: [participation] {state}: {unknown[0]!r} is not a key a "
                          f"state answers ({' '.join(sorted(DMV_KEYS))})")
    return keys
