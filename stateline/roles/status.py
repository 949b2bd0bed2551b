"""What the supervisor tells the other processes about the roles it runs: one JSON file in the
run folder, rewritten whole (write, then rename) whenever a role starts, stops or is restarted,
so a reader never sees half of it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

RUN_ENV = "STATELINE_RUN_DIR"
"""Where a supervised process finds the run folder (sockets, this file, metrics files)."""
ROLE_ENV = "STATELINE_ROLE"
"""The role of a supervised process and its states, e.g. `gateway:WA,OR`, `switch`, `web`."""
SUPERVISOR_ENV = "STATELINE_SUPERVISOR"
"""The supervisor's pid: a role that finds another parent stops (its supervisor is gone)."""
FILE = "roles.json"


@dataclass(frozen=True, slots=True)
class RoleStatus:
    """One supervised process as the supervisor last saw it."""

    name: str
    """Unique within the run: `switch`, `web`, `gateway-WA` (or `gateway-1` for a pool)."""
    role: str
    """`switch`, `gateway` or `web`."""
    states: tuple[str, ...]
    pid: int
    up: bool
    """Started and answering (a gateway: its logs open and its socket listening)."""
    restarts: int
    standby: bool = False
    """A gateway's loaded standby is waiting to take over (see `roles.processes`)."""


def write_roles(run: Path, roles: Sequence[RoleStatus]) -> None:
    path = run / FILE
    spare = path.with_suffix(".tmp")
    spare.write_text(json.dumps({"roles": [asdict(r) for r in roles]}))
    os.replace(spare, path)


def read_roles(run: Path) -> list[RoleStatus]:
    """The roles on file; none when there is no file or it cannot be read."""
    try:
        rows = json.loads((run / FILE).read_text())["roles"]
        return [RoleStatus(str(r["name"]), str(r["role"]), tuple(map(str, r["states"])),
                           int(r["pid"]), bool(r["up"]), int(r["restarts"]),
                           bool(r.get("standby", False))) for r in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def standby_mark(run: Path, pid: int) -> Path:
    """The file a standby leaves once it is loaded and waiting."""
    return run / f"standby-{pid}.ready"


def run_dir() -> Path | None:
    """The run folder of the supervisor this process runs under, if any."""
    given = os.environ.get(RUN_ENV)
    return Path(given) if given else None


def this_role() -> tuple[str, tuple[str, ...]]:
    """This process's role and states from its environment: ("", ()) outside a supervisor."""
    role, _, states = os.environ.get(ROLE_ENV, "").partition(":")
    return role, tuple(s for s in states.split(",") if s)
