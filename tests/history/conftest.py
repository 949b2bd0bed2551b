"""A small nation built once for the history tests, copied for each test that imports into it,
so every test starts from a log of its own."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.sim.nation import build_nation

from .samples import STATE


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("history-nation") / "nation")
    build_nation(data, (STATE,), residents=100, seed=15)
    return data


@pytest.fixture
def nation(built: DataDir, tmp_path: Path) -> DataDir:
    """A nation of its own (the directory, WA's DMV and its log as the build left it)."""
    data = DataDir(tmp_path / "nation")
    shutil.copytree(built.root, data.root)
    return data


@pytest.fixture
def postgres_nation(nation: DataDir) -> Iterator[DataDir]:
    """The nation with WA's audit log in a PostgreSQL database of its own."""
    import psycopg

    base = os.environ["STATELINE_TEST_POSTGRES_URL"]
    name = f"history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    config = nation.config(STATE)
    config.write_text(config.read_text() + f'\n[audit]\nurl = "{base.rsplit("/", 1)[0]}/{name}"\n')
    try:
        yield nation
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
