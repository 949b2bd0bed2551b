"""How a Stateline process writes its log: plain text lines, or one JSON object a line for a
log collector (`--log-format json`, inherited by the processes it starts through
STATELINE_LOG_FORMAT).

Each line names the process's role and states (from its environment under a supervisor) and
its pid, so lines from many processes can be told apart once gathered in one place.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TextIO

from .errors import RequesterError
from .roles.status import this_role

FORMAT_ENV = "STATELINE_LOG_FORMAT"
"""`text` or `json`: how the processes a command starts write their logs."""


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogFormatError(RequesterError):
    """A log format other than those `LogFormat` names."""


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, role, states,
    pid, and the exception's traceback as text when there is one."""

    def __init__(self) -> None:
        super().__init__()
        role, states = this_role()
        self._role, self._states = role or None, list(states)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "role": self._role,
            "states": self._states,
            "pid": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Text(logging.Formatter):
    def __init__(self) -> None:
        role, states = this_role()
        where = f"{role}:{','.join(states)}" if states else role
        super().__init__(f"%(asctime)s %(levelname)s {where or 'stateline'}[%(process)d] "
                         "%(name)s: %(message)s")


_FORMATTERS: dict[str, type[logging.Formatter]] = {LogFormat.TEXT: _Text,
                                                   LogFormat.JSON: JsonLines}
_NAMES = ", ".join(LogFormat)


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a line is written, as Python's own last-resort
    handler does, so a test runner or a command runner that swaps stderr still gets the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """The stream is always the current sys.stderr."""


def configure(format: str = LogFormat.TEXT, level: int | str = logging.WARNING) -> None:
    """Send the root logger's records at `level` and above to stderr in `format`; calling it
    again replaces what an earlier call set up, and leaves other handlers alone."""
    if format not in _FORMATTERS:
        raise LogFormatError(f"log format {format!r}: use one of {_NAMES}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(_FORMATTERS[format]())
    root.addHandler(handler)
    root.setLevel(level)


def configure_from_environment(level: int | str = logging.WARNING) -> None:
    """`configure` as STATELINE_LOG_FORMAT says, for the processes a command starts: text
    when it is not set, and text with a warning when it names no format (a process is not
    kept from starting by how it would log)."""
    given = os.environ.get(FORMAT_ENV, LogFormat.TEXT)
    configure(given if given in _FORMATTERS else LogFormat.TEXT, level)
    if given not in _FORMATTERS:
        logging.getLogger(__name__).warning("%s=%r names no log format (%s): writing text",
                                            FORMAT_ENV, given, _NAMES)


__all__ = ["FORMAT_ENV", "JsonLines", "LogFormat", "LogFormatError", "configure",
           "configure_from_environment"]
