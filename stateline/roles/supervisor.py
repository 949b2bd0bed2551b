"""The supervisor of `stateline serve`: it starts the roles as processes of their own (the
gateways first, then the switch, then the web front), restarts any that dies, keeps
`<run>/roles.json` current, and stops them in the reverse order, so the switch finishes its
deliveries while the gateways still answer, and every gateway signs its log's head last.

The run folder holds the sockets that join the roles. It is made private to the user who runs
the network (mode 0700): a process that could reach a gateway's socket could ask it anything,
so nothing else on the machine may.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..datadir import DataDir
from ..operations import metrics
from .processes import STANDBY_ENV, WEB_FILE
from .status import ROLE_ENV, RUN_ENV, SUPERVISOR_ENV, RoleStatus, standby_mark, write_roles

log = logging.getLogger("stateline.roles")

START_SECONDS = 60.0
"""How long a role may take to come up at the first start before serving is given up."""
STOP_SECONDS = 60.0
"""How long a role may take to stop cleanly before it is killed."""
CHECK_SECONDS = 0.01
QUICK_RESTARTS = 5
"""Restarts in a row within BACKOFF_WINDOW before the next waits: a role that cannot start
(a broken config) is not restarted in a tight loop."""
BACKOFF_WINDOW = 10.0
BACKOFF_SECONDS = 2.0


@dataclass(slots=True)
class Role:
    """One supervised process: what it is, how it is started, how it is doing."""

    name: str
    role: str
    states: tuple[str, ...]
    argv: list[str]
    socket: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    up: bool = False
    restarts: int = 0
    deaths: list[float] = field(default_factory=list)
    due: float = 0.0
    """When a role waiting out a backoff is started again."""
    standby: subprocess.Popen[bytes] | None = None
    """A gateway's standby: loaded, waiting to take over when this role's process dies."""

    standby_ready: bool = False
    standby_started: float = 0.0

    def status(self) -> RoleStatus:
        pid = self.process.pid if self.process is not None else 0
        return RoleStatus(self.name, self.role, self.states, pid, self.up, self.restarts,
                          self.standby_ready)


class StartFailed(RuntimeError):
    """A role did not come up at the first start: what it was and how it ended."""


def gateway_groups(states: Sequence[str], processes: int | None) -> list[tuple[str, ...]]:
    """States shared among `processes` gateway processes (None: one process per state)."""
    count = len(states) if not processes else max(1, min(processes, len(states)))
    groups: list[list[str]] = [[] for _ in range(count)]
    for place, state in enumerate(sorted(states)):
        groups[place % count].append(state)
    return [tuple(group) for group in groups if group]


class Supervisor:
    """Roles for a data folder: the gateways of `groups`, a switch and a web front."""

    def __init__(self, data: DataDir, groups: Sequence[tuple[str, ...]], *, host: str,
                 port: int, dashboard: bool, trusted: Sequence[str] = (),
                 standby: bool = True) -> None:
        self.data = data
        self.standby = standby
        self._held = hold_folder(data)
        try:
            self.listener = _listen(host, port)
        except BaseException:
            self._held.close()
            raise
        self.port: int = self.listener.getsockname()[1]
        """Where the web front listens; the socket is this process's, lent to each web front."""
        _sweep()
        self.run = Path(tempfile.mkdtemp(prefix=RUN_PREFIX))
        os.chmod(self.run, 0o700)
        (self.run / PID_FILE).write_text(str(os.getpid()))
        (self.run / "metrics").mkdir()
        self._metrics_back = metrics.write_to(self.run / "metrics")
        """Every role's values, and the restarts counted here, go to the run folder."""
        module = [sys.executable, "-m", "stateline.roles"]
        root = str(data.root)
        names = [f"gateway-{group[0]}" if len(group) == 1 else f"gateway-{n}"
                 for n, group in enumerate(groups, 1)]  # a socket's path fits in 108 bytes
        self.gateways = [
            Role(name, "gateway", group,
                 [*module, "gateway", *group, "--data", root, "--socket",
                  str(self.run / f"{name}.sock")], self.run / f"{name}.sock")
            for name, group in zip(names, groups, strict=True)]
        switch_socket = self.run / "switch.sock"
        routes = [f"{g.socket}={','.join(g.states)}" for g in self.gateways]
        self.switch = Role("switch", "switch", (),
                           [*module, "switch", "--data", root, "--socket", str(switch_socket),
                            *(arg for route in routes for arg in ("--gateway", route))],
                           switch_socket)
        web = [*module, "web", "--data", root, "--socket", str(switch_socket),
               "--fd", str(self.listener.fileno())]
        web += [] if dashboard else ["--no-dashboard"]
        web += [arg for proxy in trusted for arg in ("--trusted-proxy", proxy)]
        self.web = Role("web", "web", (), web)
        self.roles = [*self.gateways, self.switch, self.web]
        self.env = {**os.environ, RUN_ENV: str(self.run), SUPERVISOR_ENV: str(os.getpid())}
        self.stopping = False
        self.on_restart: Callable[[Role], None] | None = None

    @property
    def switch_socket(self) -> Path:
        assert self.switch.socket is not None
        return self.switch.socket

    def start(self) -> None:
        """Start every role and wait until each is up; StartFailed (everything stopped) if
        one does not come up."""
        try:
            for group in (self.gateways, [self.switch], [self.web]):
                for role in group:
                    self._spawn(role)
                deadline = time.monotonic() + START_SECONDS
                for role in group:
                    self._wait_up(role, deadline)
        except BaseException:
            self.stop()
            raise

    def tend(self) -> None:
        """Look at every role once: restart the dead (or note when one waiting is due),
        mark the started ones up when they answer."""
        changed = False
        for role in self.roles:
            process = role.process
            if process is not None and process.poll() is not None:
                changed = True
                self._died(role, process.returncode)
            elif process is None and role.due and time.monotonic() >= role.due:
                role.due = 0.0
                self._spawn(role)
                changed = True
            elif process is not None and not role.up and self._answers(role):
                role.up, changed = True, True
                log.info("%s is up (pid %d)", role.name, process.pid)
            if role.up and role.role == "gateway" and not self.stopping:
                self._stand_by(role)
                changed = self._standby_ready(role) or changed
        if changed:
            self._write()

    def serve_until(self, stopped: Callable[[], bool]) -> None:
        while not stopped():
            self.tend()
            time.sleep(CHECK_SECONDS)

    def stop(self) -> None:
        """Web front, then switch, then gateways: each asked to stop, killed if it will not."""
        self.stopping = True
        for role in self.gateways:
            self._dismiss(role)
        for group in ([self.web], [self.switch], self.gateways):
            for role in group:
                if role.process is not None and role.process.poll() is None:
                    role.process.send_signal(signal.SIGTERM)
            for role in group:
                if role.process is None:
                    continue
                try:
                    role.process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    log.error("%s did not stop in %g s: killed", role.name, STOP_SECONDS)
                    role.process.kill()
                    role.process.wait()
                role.up = False
        self._write()
        self._metrics_back()
        self.listener.close()
        shutil.rmtree(self.run, ignore_errors=True)
        self._held.close()

    def _spawn(self, role: Role) -> None:
        if role.socket is not None:
            role.socket.unlink(missing_ok=True)
        if role is self.web:
            (self.run / WEB_FILE).unlink(missing_ok=True)
        standby, role.standby, role.standby_ready = role.standby, None, False
        if standby is not None and standby.poll() is None and standby.stdin is not None:
            try:
                standby.stdin.write(b"go\n")
                standby.stdin.close()
            except OSError:
                standby.kill()
            else:
                role.process, role.up = standby, False
                self._write()
                return
        role.process = self._popen(role, subprocess.DEVNULL)
        role.up = False
        self._write()

    def _popen(self, role: Role, stdin: int, **extra: str) -> subprocess.Popen[bytes]:
        env = {**self.env, ROLE_ENV: f"{role.role}:{','.join(role.states)}", **extra}
        lent = (self.listener.fileno(),) if role is self.web else ()
        return subprocess.Popen(role.argv, env=env, stdin=stdin, start_new_session=True,
                                pass_fds=lent)

    def _stand_by(self, role: Role) -> None:
        """Keep a loaded standby beside a gateway that is up (started only then, so it never
        competes with the process it stands in for while that one starts)."""
        if not self.standby or (role.standby is not None and role.standby.poll() is None):
            return
        if time.monotonic() - role.standby_started < BACKOFF_SECONDS:
            return  # a standby that died as it started is not started again at once
        role.standby_ready, role.standby_started = False, time.monotonic()
        role.standby = self._popen(role, subprocess.PIPE, **{STANDBY_ENV: "1"})

    def _standby_ready(self, role: Role) -> bool:
        """Note a standby that has said it is loaded; True when that is news."""
        if role.standby_ready or role.standby is None:
            return False
        mark = standby_mark(self.run, role.standby.pid)
        if mark.exists():
            mark.unlink()
            role.standby_ready = True
            return True
        return False

    def _dismiss(self, role: Role) -> None:
        standby, role.standby, role.standby_ready = role.standby, None, False
        if standby is not None:
            with contextlib.suppress(OSError):
                if standby.stdin is not None:
                    standby.stdin.close()  # end of input: the standby leaves
            try:
                standby.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                standby.kill()
                standby.wait()

    def _died(self, role: Role, code: int) -> None:
        if role.process is not None:
            metrics.process_gone(role.process.pid)
        role.up, role.process = False, None
        if self.stopping:
            return
        now = time.monotonic()
        role.deaths = [t for t in role.deaths if now - t < BACKOFF_WINDOW] + [now]
        role.restarts += 1
        metrics.restarted(role.role, role.name)
        log.warning("%s stopped (exit %s): restarting", role.name, _exit(code))
        if self.on_restart is not None:
            self.on_restart(role)
        if len(role.deaths) > QUICK_RESTARTS:
            role.due = now + BACKOFF_SECONDS
            return
        self._spawn(role)

    def _answers(self, role: Role) -> bool:
        if role.socket is None:
            return (self.run / WEB_FILE).is_file()
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(role.socket))
            except OSError:
                return False
        return True

    def _wait_up(self, role: Role, deadline: float) -> None:
        while not role.up:
            process = role.process
            if process is None or process.poll() is not None:
                code = process.returncode if process is not None else None
                raise StartFailed(f"{role.name} ({' '.join(role.states) or role.role}) "
                                  f"stopped as it started (exit {_exit(code)})")
            if time.monotonic() > deadline:
                raise StartFailed(f"{role.name} did not come up in {START_SECONDS:g} s")
            if self._answers(role):
                role.up = True
                self._write()
                break
            time.sleep(CHECK_SECONDS)

    def _write(self) -> None:
        with contextlib.suppress(OSError):
            write_roles(self.run, [role.status() for role in self.roles])


RUN_PREFIX = "stateline-"
PID_FILE = "supervisor.pid"


def _sweep() -> None:
    """Remove run folders of this user whose supervisor is dead (killed with SIGKILL, it
    could not remove its own)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        with contextlib.suppress(OSError, ValueError):
            if folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / PID_FILE).read_text())
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)


class FolderServed(StartFailed):
    """Another supervisor runs the network on this data folder."""


def hold_folder(data: DataDir) -> IO[bytes]:
    """An exclusive lock on DIR/serve.lock for as long as the returned file stays open: two
    networks on one folder would be two writers of every log (the kernel lets go of the
    lock however this process ends)."""
    handle = (data.root / "serve.lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise FolderServed(f"{data.root} is already served by another stateline serve "
                           "(DIR/serve.lock is held)") from None
    return handle


class PortTaken(StartFailed):
    """The web front's address cannot be listened on."""


def _listen(host: str, port: int) -> socket.socket:
    """The web front's listening socket, opened here once for every web front to come."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        raise PortTaken(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _exit(code: int | None) -> str:
    if code is None:
        return "unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-code).name
    return str(code)
