"""Policy work run in a child process with limits, for servers: a coordinator's text that
crashes the Cedar engine (it is native code), loops or eats memory stops that child alone,
and the server answers with a clear error instead of going down with every state it serves.
"""

from __future__ import annotations

import copyreg
import multiprocessing
import resource
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import MappingProxyType
from typing import Any, TypeVar, cast

from ..errors import StatelineError

T = TypeVar("T")

TIMEOUT = 120.0
"""Seconds a child may take, from its start to its answer."""
MEMORY = 4 << 30
"""Bytes of address space a child may map."""

_CONTEXT = multiprocessing.get_context("forkserver")
"""Children come from a single-threaded server process: forking a threaded web server would
copy its locks mid-use."""


def _proxy(contents: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(contents)


copyreg.pickle(MappingProxyType, lambda proxy: (_proxy, (dict(proxy),)))
"""Read-only views (a test case's agency, a directory snapshot) cross as their contents."""


class IsolatedFailure(StatelineError):
    """The child did not answer: it crashed, ran out of time or memory, or raised."""

    code = "policy-engine-failed"


def run_isolated(function: Callable[..., T], *args: Any, timeout: float = TIMEOUT) -> T:
    """`function(*args)` in a child process under limits; its result, or IsolatedFailure. The
    function and its arguments and result cross by pickle, so the function is module-level."""
    reader, writer = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_child, args=(writer, function, args, timeout), daemon=True)
    child.start()
    writer.close()
    answer: tuple[str, Any] | None
    try:
        if reader.poll(timeout):
            try:
                answer = reader.recv()
            except (EOFError, OSError):
                answer = None
        else:
            answer = ("late", None)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        reader.close()
    if answer is None:
        raise IsolatedFailure(_death(child.exitcode))
    kind, value = answer[0], answer[1]
    if kind == "late":
        raise IsolatedFailure(f"the policy engine took longer than {timeout:g} seconds and "
                              "was stopped")
    if kind == "raised":
        raise IsolatedFailure(str(value))
    return cast(T, value)


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the policy engine crashed ({name}) on this text; nothing was changed"
    return f"the policy engine stopped without an answer (exit status {code}); nothing was " \
           "changed"


def _child(writer: Connection, function: Callable[..., Any], args: tuple[Any, ...],
           timeout: float) -> None:
    _lower(resource.RLIMIT_CPU, int(timeout) + 1)
    _lower(resource.RLIMIT_AS, MEMORY)
    _lower(resource.RLIMIT_CORE, 0)
    try:
        answer: tuple[str, Any] = ("ok", function(*args))
    except Exception as error:  # the parent gets every failure as one clear message
        answer = ("raised", f"{type(error).__name__}: {error}")
    try:
        writer.send(answer)
    except Exception as error:  # a result that cannot cross is a failure, said once
        writer.send(("raised", f"the answer could not be sent back: {error}"))
    writer.close()


def _lower(kind: int, value: int) -> None:
    """Set a limit, never above the one already in force."""
    _soft, hard = resource.getrlimit(kind)
    limit = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (limit, limit))
