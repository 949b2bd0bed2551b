"""Where a nation's files live inside its data folder; every room finds its files here.

    DIR/nation.toml             what was built: seed, states, residents
    DIR/nation.db               the agency directory (SQLite)
    DIR/states/WA/dmv.db        Washington's DMV store (SQLite, WAL)
    DIR/states/WA/config.toml   Washington's gateway configuration
    DIR/states/WA/policy.cedar  Washington's sharing policy in force (Cedar)
    DIR/states/WA/state.db      its history of changes, court orders, attestations (SQLite, WAL)
    DIR/states/WA/audit.db      its audit log (SQLite, WAL; or PostgreSQL by [audit] url)
    DIR/states/WA/audit-key.pub the log's pinned public keys, first key first; the private key
                                is kept apart ([audit] signing_key, $STATELINE_AUDIT_KEYS), or
                                beside the log as audit-key.pem where neither is set
    DIR/switch.toml             the switch's regions, participation, wait and retention
    DIR/switch.db               agency credentials, state status, held traffic, submissions
    DIR/traffic.db              the switch's traffic log (one year)
    DIR/credentials.json        simulation only: each synthetic agency's token (mode 0600)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RequesterError

DEFAULT_DATA = "./stateline-data"
DATA_ENV = "STATELINE_DATA"


@dataclass(frozen=True, slots=True)
class DataDir:
    root: Path

    @classmethod
    def resolve(cls, given: str | Path | None) -> DataDir:
        """The folder named on the command line, else $STATELINE_DATA, else ./stateline-data."""
        return cls(Path(given or os.environ.get(DATA_ENV) or DEFAULT_DATA))

    @property
    def manifest(self) -> Path:
        return self.root / "nation.toml"

    @property
    def nation_db(self) -> Path:
        return self.root / "nation.db"

    def state_dir(self, state: str) -> Path:
        return self.root / "states" / state.upper()

    def dmv_db(self, state: str) -> Path:
        return self.state_dir(state) / "dmv.db"

    def dmv_url(self, state: str) -> str:
        return f"sqlite:///{self.dmv_db(state)}"

    def config(self, state: str) -> Path:
        return self.state_dir(state) / "config.toml"

    def policy(self, state: str) -> Path:
        return self.state_dir(state) / "policy.cedar"

    def policy_lock(self, state: str) -> Path:
        """Held while a policy is applied, so two applies never interleave."""
        return self.state_dir(state) / "policy.lock"

    def state_db(self, state: str) -> Path:
        return self.state_dir(state) / "state.db"

    @property
    def switch_config(self) -> Path:
        return self.root / "switch.toml"

    @property
    def switch_db(self) -> Path:
        return self.root / "switch.db"

    @property
    def traffic_db(self) -> Path:
        return self.root / "traffic.db"

    @property
    def credentials_file(self) -> Path:
        return self.root / "credentials.json"

    def states(self) -> list[str]:
        """States that have a folder here, in order."""
        folder = self.root / "states"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir())


class ConfigFileError(RequesterError):
    """A state's config.toml that cannot be read, or a section of it that is not a table."""

    code, status = "config-error", 422


def state_config(data: DataDir, state: str, section: str) -> dict[str, Any]:
    """One section of a state's config.toml ({} when the file or the section is absent); a file
    that is not UTF-8 TOML, or a section that is not a table, is a ConfigFileError."""
    path = data.config(state)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigFileError(f"cannot read {path}: {error}") from None
    table = config.get(section, {})
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: [{section}] must be a table, not {table!r}")
    return table
