"""The policy a running gateway decides with: swapped for a new engine when the state's
policy file or the directory changes, so a change takes effect within a second, no restart."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType

from ..datadir import DataDir
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Directory
from .engine import Decision, PolicyEngine, Request
from .source import PolicyError, PolicySource, compile_policies
from .store import NO_POLICY, checked_state

log = logging.getLogger("stateline.policy")

CHECK_INTERVAL = 0.2
"""Seconds between a live policy's checks of its file and the directory version."""

FileKey = tuple[int, int, int] | None
"""Inode, modification time (ns) and size of the policy file; None when there is none."""


_PREPARED: dict[tuple[str, str, RuleTable], PolicyEngine] = {}
"""Engines built ahead of need, by directory path, state and rules (see `prepare`)."""


def prepare(data: DataDir, state: str, rules: RuleTable = DEFAULT_RULES) -> None:
    """Build the state's entity graph now, in a process that will open the state's gateway
    later (a gateway's standby): the graph is most of the cost of opening one (seconds for a
    few thousand agencies), and the standby's gateway then opens in a fraction of a second.
    A graph the directory has since outgrown is not used."""
    state = checked_state(data, state)
    with Directory.open(data, create=False) as directory:
        engine = PolicyEngine(state, compile_policies(NO_POLICY), directory.snapshot(), rules)
        _PREPARED[(str(directory.path), state, rules)] = engine


class LivePolicy:
    """The engine a running gateway decides with, replaced when the policy file or the
    directory changes: checked at most every `interval` seconds, so no restart is needed.

    A file that does not compile leaves the engine in force and sets `problem`; no file means
    the deny-all policy. Used in a `with` block, a watcher thread does the checks (and the
    rebuilds) off the request path; otherwise `decide` checks when one is due.
    """

    def __init__(self, data: DataDir, state: str, *, rules: RuleTable = DEFAULT_RULES,
                 interval: float = CHECK_INTERVAL) -> None:
        self.state = checked_state(data, state)
        self.problem: str | None = None
        self._path = data.policy(self.state)
        self._rules = rules
        self._interval = interval
        with Directory.open(data, create=False) as directory:
            path = directory.path
        # Its own connection, usable from the watcher thread, and one that never writes.
        reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        reader.execute("PRAGMA busy_timeout = 5000")
        self._directory = Directory(reader, path)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file = _file_key(self._path)
        self._due = 0.0
        source = self._read() or compile_policies(NO_POLICY)
        self._engine = self._ready(source)

    def _ready(self, source: PolicySource) -> PolicyEngine:
        """The engine for the directory as it is, with the graph a standby prepared when the
        directory has not changed since (`prepare`)."""
        kept = _PREPARED.pop((str(self._directory.path), self.state, self._rules), None)
        if kept is not None and kept.snapshot.version == self._directory.version:
            return kept.with_source(source)
        return PolicyEngine(self.state, source, self._directory.snapshot(), self._rules)

    @property
    def engine(self) -> PolicyEngine:
        return self._engine

    @property
    def version(self) -> str:
        """Policy digest and directory version of the engine in force."""
        return self._engine.version

    def decide(self, request: Request) -> Decision:
        if self._thread is None and time.monotonic() >= self._due:
            self.check()
        return self._engine.decide(request)

    def check(self) -> bool:
        """Swap in a new engine if the file or the directory changed; True when swapped."""
        with self._lock:
            self._due = time.monotonic() + self._interval
            engine = self._engine
            try:
                version = self._directory.version
                file = _file_key(self._path)
                if file == self._file and version == engine.snapshot.version:
                    return False
                source = engine.source
                if file != self._file:
                    self._file = file
                    source = self._read() or source
                if source.digest == engine.source.digest and \
                        version == engine.snapshot.version:
                    return False
                if version == engine.snapshot.version:
                    self._engine = engine.with_source(source)
                else:
                    snapshot = self._directory.snapshot()
                    self._engine = PolicyEngine(self.state, source, snapshot, self._rules)
            except (sqlite3.Error, OSError, ValueError) as error:
                self._trouble(f"cannot reload the {self.state} policy, the old one stays in "
                              f"force: {error}")
                return False
            log.info("%s policy in force: %s", self.state, self._engine.version)
            return True

    def _read(self) -> PolicySource | None:
        """The file's compiled policy (deny-all when absent); None when it does not compile."""
        try:
            text = self._path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            self.problem = None
            return compile_policies(NO_POLICY)
        except (OSError, UnicodeDecodeError) as error:
            self._trouble(f"cannot read {self._path}: {error}")
            return None
        try:
            source = compile_policies(text)
        except PolicyError as error:
            self._trouble(f"{self._path} does not compile, the old policy stays in force:\n"
                          f"{error}")
            return None
        self.problem = None
        return source

    def _trouble(self, text: str) -> None:
        self.problem = text
        log.warning("%s", text)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check()
            except Exception as error:  # the watcher must outlive any one bad reload
                self._trouble(f"{self.state} policy check failed: {error!r}")

    def __enter__(self) -> LivePolicy:
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name=f"policy-{self.state}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._directory.close()


def _file_key(path: Path) -> FileKey:
    """Read before the text, so a text read is never older than the key it is filed under."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size
