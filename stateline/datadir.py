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
from urllib.parse import urlsplit

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


UPSTREAM_SCHEMES = {"http": 80, "https": 443, "tcp": None}
"""How a gateway may reach an upstream DMV responder, and each scheme's default port."""
UPSTREAM_TIMEOUT = 2.0
UPSTREAM_CONNECTIONS = 4
_UPSTREAM_KEYS = ("upstream", "timeout", "connections", "field_map")
_TIMEOUTS = (0.01, 60.0)
_CONNECTIONS = (1, 64)


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    """config.toml `[dmv]`: the state's own DMV responder a gateway forwards allowed queries
    to, instead of reading a local store."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    timeout: float
    """Seconds a query waits for its answer, connecting included."""
    connections: int
    """Most queries in flight to the responder at once."""
    field_map: str
    """A field map shipped with Stateline by layout name (`prefixed`), or a TOML file."""
    folder: Path
    """The state's folder, which a relative field map path is read from."""


def upstream_settings(data: DataDir, state: str) -> UpstreamSettings | None:
    """The state's `[dmv]` upstream, or None when it answers from its local store; any setting
    that cannot be used is a ConfigFileError naming it, so a gateway never starts half-set."""
    table = state_config(data, state, "dmv")
    if not table:
        return None
    where = f"{data.config(state)}: [dmv]"
    unknown = sorted(set(table) - set(_UPSTREAM_KEYS))
    if unknown:
        raise ConfigFileError(f"{where} has no setting {', '.join(unknown)} (it takes "
                              f"{', '.join(_UPSTREAM_KEYS)})")
    url = table.get("upstream")
    if not isinstance(url, str) or not url.strip():
        raise ConfigFileError(f"{where} needs upstream = \"http://HOST:PORT/PATH\" or "
                              "\"tcp://HOST:PORT\" (the state's DMV responder)")
    scheme, host, port, path = _upstream_url(url.strip(), where)
    timeout = _number(table.get("timeout", UPSTREAM_TIMEOUT), _TIMEOUTS, where, "timeout",
                      "seconds")
    connections = table.get("connections", UPSTREAM_CONNECTIONS)
    if isinstance(connections, bool) or not isinstance(connections, int) or \
            not _CONNECTIONS[0] <= connections <= _CONNECTIONS[1]:
        raise ConfigFileError(f"{where} connections must be a whole number from "
                              f"{_CONNECTIONS[0]} to {_CONNECTIONS[1]}, not {connections!r}")
    field_map = table.get("field_map")
    if not isinstance(field_map, str) or not field_map.strip():
        raise ConfigFileError(f"{where} needs field_map: a shipped layout's name (prefixed, "
                              "labeled) or the path of a TOML file mapping the responder's "
                              "fields to data elements")
    return UpstreamSettings(url.strip(), scheme, host, port, path, float(timeout), connections,
                            field_map.strip(), data.state_dir(state))


def _upstream_url(url: str, where: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an upstream URL, or a ConfigFileError that shows the
    two forms it may take."""
    problem = (f"{where} upstream must be \"http://HOST:PORT/PATH\" or \"tcp://HOST:PORT\", "
               f"not {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigFileError(problem) from None
    scheme = parts.scheme.lower()
    if scheme not in UPSTREAM_SCHEMES or not parts.hostname or parts.username or \
            parts.password or parts.query or parts.fragment:
        raise ConfigFileError(problem)
    if scheme == "tcp" and (port is None or parts.path not in ("", "/")):
        raise ConfigFileError(problem)
    default = UPSTREAM_SCHEMES[scheme]
    port = port if port is not None else default
    if port is None or not 0 < port < 65536:
        raise ConfigFileError(problem)
    return scheme, parts.hostname, port, parts.path or "/"


def _number(value: object, bounds: tuple[float, float], where: str, name: str,
            unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not bounds[0] <= value <= bounds[1]:
        raise ConfigFileError(f"{where} {name} must be {unit} from {bounds[0]:g} to "
                              f"{bounds[1]:g}, not {value!r}")
    return float(value)
