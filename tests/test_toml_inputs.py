"""Every TOML file a coordinator writes (switch.toml, a state's config.toml with its [gateway],
[audit] and [notices] sections, category rules) is hostile input: any text, any bytes, any
wrong type gives a clear error of the project's one error model, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateline.audit import audit_url
from stateline.datadir import DataDir
from stateline.directory.categories import parse_rules
from stateline.errors import StatelineError
from stateline.gateway.pipeline import gateway_oris
from stateline.notices.config import parse_duty
from stateline.switch.config import parse as parse_switch

PIECES = st.sampled_from([
    "[switch]\n", "[regions]\n", "[participation]\n", "[gateway]\n", "[audit]\n",
    "[notices]\n", "[[category]]\n", "[[group]]\n", "switch = 5\n", "gateway = 5\n",
    "audit = \"x\"\n", "notices = []\n", "wait_seconds = ", "retention_days = ", "states = ",
    "default = ", "url = ", "driver_ori = ", "name = ", "component = ", "home = ", "days = ",
    "categories = ", "outcomes = ", "calendar = ", "exceptions = ", "timezone = ", "level = ",
    "5\n", "-1\n", "0\n", "1e400\n", "inf\n", "nan\n", "true\n", "\"x\"\n", "\"\"\n",
    "[1, \"a\"]\n", "[]\n", "{ not = 5 }\n", "{ not = [\"ICE\"] }\n", "\"postgresql://x\"\n",
    "9999-12-31\n", "\"\ud800\"\n", "\"\U0001f693\"\n", "=", "\n", "[", "\"", "#",
])
TEXTS = st.one_of(st.lists(PIECES, max_size=30).map("".join), st.text(max_size=200))


def _no_traceback(parse: object, *args: object) -> None:
    try:
        parse(*args)  # type: ignore[operator]
    except StatelineError as error:
        assert error.text


@given(text=TEXTS)
@settings(max_examples=300, deadline=None)
def test_any_text_as_switch_toml_rules_or_notices_is_read_or_refused_clearly(text: str) -> None:
    _no_traceback(parse_switch, text)
    _no_traceback(parse_rules, text)
    _no_traceback(parse_duty, text, "NY")


@pytest.fixture(scope="module")
def state_folder(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("toml"))
    data.state_dir("WA").mkdir(parents=True)
    return data


@given(content=st.one_of(TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")),
                         st.binary(max_size=200)))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_as_a_states_config_toml_are_read_or_refused_clearly(
        state_folder: DataDir, content: bytes) -> None:
    Path(state_folder.config("WA")).write_bytes(content)
    _no_traceback(audit_url, state_folder, "WA")
    _no_traceback(gateway_oris, state_folder, "WA")
