"""switch.toml: written with its defaults and comments on first use, read back equal, and a
bad value refused naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.switch import ConfigError, SwitchConfig
from stateline.switch.config import DEFAULT_REGIONS, DMV_KEYS, default_text, parse


def test_a_missing_file_is_written_with_the_defaults(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    config = SwitchConfig.load(data)
    assert data.switch_config.read_text() == default_text()
    assert (config.wait_seconds, config.retention_days) == (60.0, 365)
    assert dict(config.regions) == dict(DEFAULT_REGIONS)
    assert config.takes("WA") == DMV_KEYS == {"DQ", "DNQ", "KQ", "RQ", "RNQ", "RPQ"}


def test_every_state_and_territory_is_in_exactly_one_default_region() -> None:
    from stateline.protocol import STATES
    placed = [state for members in DEFAULT_REGIONS.values() for state in members]
    assert sorted(placed) == sorted(STATES)


def test_settings_are_read() -> None:
    config = parse("""
[switch]
wait_seconds = 2.5
retention_days = 30
states = ["wa", "OR"]
[regions]
W1 = ["WA", "OR"]
[participation]
default = ["DQ", "RQ"]
NY = ["DQ"]
""")
    assert (config.wait_seconds, config.retention_days, config.states) == (2.5, 30, ("WA", "OR"))
    assert dict(config.regions) == {"W1": ("WA", "OR")}
    assert config.takes("NY") == {"DQ"} and config.takes("WA") == {"DQ", "RQ"}


@pytest.mark.parametrize(("text", "problem"), [
    ("[switch]\nwait_seconds = 'soon'", "[switch] wait_seconds: expected a number"),
    ("[switch]\nwait_seconds = -1", "[switch] wait_seconds: expected a number of at least 0"),
    ("[switch]\nretention_days = 1.5", "[switch] retention_days: expected whole days"),
    ("[switch]\nwait = 5", "[switch] wait: not a setting"),
    ("[switch]\nstates = ['XX']", "[switch] states: 'XX' is not a state code"),
    ("[regions]\nWA = ['OR']", "[regions] WA: a region code is two letters"),
    ("[regions]\nNL = ['OR']", "[regions] NL: a region code"),
    ("[regions]\nR1 = ['ZZ']", "[regions] R1: 'ZZ' is not a state code"),
    ("[participation]\nNY = ['AM']", "[participation] NY: 'AM' is not a key a state answers"),
    ("[participation]\nQQ = ['DQ']", "[participation] QQ: not a state code"),
    ("[participation]\nNY = 'DQ'", "[participation] NY: expected a list of message keys"),
    ("[gateway]\nx = 1", "gateway: not a setting"),
    ("wait_seconds = ", "not valid TOML"),
])
def test_a_bad_file_is_refused_naming_file_and_key(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, "DIR/switch.toml")
    assert str(caught.value).startswith("DIR/switch.toml: ")
    assert problem in str(caught.value)


def test_members_default_to_the_state_folders(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    for state in ("WA", "NY"):
        data.state_dir(state).mkdir(parents=True)
    assert SwitchConfig().members(data) == {"WA", "NY"}
    assert SwitchConfig(states=("OR",)).members(data) == {"OR"}
