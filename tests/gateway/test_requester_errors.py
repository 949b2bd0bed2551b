"""A requester's unsearchable terms are answered as a reject naming the field, and audited;
never "try again later", which would send the operator to repeat the same mistake."""

from __future__ import annotations

import pytest

from stateline.datadir import DataDir
from stateline.gateway import Gateway
from stateline.protocol import Field, Message, Outcome
from stateline.sim.nation import build_nation

IN_STATE = "WASPD0100"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("terms"))
    build_nation(data, ("WA",), residents=40, seed=2)
    return data


@pytest.mark.parametrize(("key", "fields", "code", "named"), [
    ("RNQ", (Field("NAM", "DOE,JANE"), Field("DOB", "19901340")), ".05.", "DOB/19901340"),
    ("DQ", (Field("NAM", "DOE,JANE"),), ".14.", "DQ NEEDS OLN OR NAM AND DOB"),
    ("RQ", (Field("LIC", "ABC123"),), ".14.", "RQ NEEDS VIN"),
])
def test_bad_terms_are_rejected_naming_the_field(nation: DataDir, key: str,
                                                 fields: tuple[Field, ...], code: str,
                                                 named: str) -> None:
    with Gateway(nation, "WA") as gateway:
        result = gateway.handle(Message(key, IN_STATE, ("WA",), "C1", fields))
        entry = gateway.log.entry(result.seq).body
    text = str(result.response.body)
    assert text.startswith(code) and named in text
    assert "TRY AGAIN" not in text
    assert result.response.destinations == (IN_STATE,) and result.response.key != "ER"
    assert result.outcome is Outcome.ERROR
    assert entry["outcome"] == "error" and entry["reject"] == code
    assert entry["error"].startswith("requester: ") and entry["records"] == []
