"""Whether the network can take traffic, as a list of what stands in the way (empty: ready).

A `Ready` is asked at every /readyz: in one process, of the switch and the gateways it runs;
under a supervisor, of the roles in its roles.json. Either way each state's audit log must be
readable, since no query is answered before its entry is in it. Problems name roles and states
only: the answer is public.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from ..audit import read_state_log
from ..datadir import DataDir
from ..roles.status import read_roles, run_dir
from ..switch import Switch, SwitchError
from ..transport.inprocess import InProcessTransport

Ready = Callable[[], list[str]]
"""What stands in the way of taking traffic now, each as a short line; [] when ready."""

_log = logging.getLogger(__name__)


def in_process(data: DataDir, switch: Switch) -> Ready:
    """The switch started, every gateway of an in-process transport running, and each of its
    states' audit logs readable (the data folder's states for another transport)."""

    def ready() -> list[str]:
        problems = []
        try:
            _ = switch.stores  # raises until the switch is started, and after it closes
        except SwitchError:
            problems.append("switch: not started")
        transport = switch.transport
        if isinstance(transport, InProcessTransport):
            states = list(transport.states)
            problems += [f"gateway {s}: not running" for s in states
                         if not transport.running(s)]
        else:
            states = data.states()
        return problems + unreadable_logs(data, states)

    return ready


def supervised(data: DataDir, run: Path) -> Ready:
    """Every role in the supervisor's roles.json up, and each gateway state's audit log
    readable."""

    def ready() -> list[str]:
        roles = read_roles(run)
        if not roles:
            return ["supervisor: no roles on file"]
        problems = [f"{role.name}: not up" for role in roles if not role.up]
        states = sorted({s for role in roles if role.role == "gateway" for s in role.states})
        return problems + unreadable_logs(data, states)

    return ready


def default(data: DataDir, switch: Switch | None) -> Ready:
    """`in_process` for a switch in this process; else `supervised` by the run folder this
    process was started with; else never ready, since there is nothing to ask."""
    if switch is not None:
        return in_process(data, switch)
    run = run_dir()
    if run is not None:
        return supervised(data, run)
    return lambda: ["switch: in another process, with no supervisor's roles to ask"]


def unreadable_logs(data: DataDir, states: Iterable[str]) -> list[str]:
    """A line for each state whose audit log is missing or cannot be opened to read; the
    error itself goes to the log, not to the public answer."""
    problems = []
    for state in states:
        try:
            log = read_state_log(data, state)
        except Exception as error:
            _log.warning("readiness: cannot read the %s audit log: %s", state, error)
            problems.append(f"audit log {state}: cannot be read")
            continue
        if log is None:
            problems.append(f"audit log {state}: none")
        else:
            log.close()
    return problems


__all__ = ["Ready", "default", "in_process", "supervised", "unreadable_logs"]
