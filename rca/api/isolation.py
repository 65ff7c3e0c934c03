"""Cold answers computed in a forked child process, at a lower CPU priority.

A cold answer (a period nobody asked before) is seconds of pandas and statsmodels work. On a
thread of the serving process it holds the interpreter lock in long stretches, so warm
requests — microseconds of work each — queue behind it (a 10-minute soak at 100 req/s saw warm
p99 of 7.9 s). A forked child shares the snapshot's memory copy-on-write, needs no protocol to
name the question (it runs the very closure the request built), competes with the server only
for CPU, where the kernel can be told to prefer the server (`os.nice`), and returns whatever
garbage its computation made to the system when it exits.

The fork hazards are handled where they arise: the child resets the signal handlers the server
installed (so SIGTERM and SIGINT kill it), dies with its parent (`PR_SET_PDEATHSIG` on Linux),
never runs the parent's exit handlers (`os._exit`), and is killed when it runs past its time
limit (a lock held by another thread at the moment of the fork can never be released in the
child; the limit bounds what such a hang can cost to one answer).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from rca.errors import RcaError

log = logging.getLogger("rca.api")
PR_SET_PDEATHSIG = 1
_children: set[int] = set()
_children_lock = threading.Lock()


def available() -> bool:
    """Forking is possible (POSIX); elsewhere cold answers stay on threads."""
    return hasattr(os, "fork")


class ChildFailedError(RcaError):
    """The computation's process ended without an answer (killed, crashed or timed out)."""


class NotPicklableError(Exception):
    """The child computed an answer that cannot be sent back; the caller computes it itself."""


def run_forked(fn: Callable[[], Any], *, timeout_s: float, nice: int = 10) -> Any:
    """`fn()` evaluated in a forked child.

    The child's exception is raised here (an exception that does not pickle arrives as an
    `RcaError` with its text; a value that does not pickle as `NotPicklableError`). The
    caller's thread blocks in `select`, not holding the GIL.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without running anything of the parent's
        code = 0
        try:
            os.close(read_fd)
            _become_worker(nice)
            payload = _outcome(fn)
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with _children_lock:
        _children.add(pid)
    data = None
    try:
        data = _read_until_eof(read_fd, time.monotonic() + timeout_s)
    finally:
        os.close(read_fd)
        status = _reap(pid, kill=data is None)
    if data is None:
        raise ChildFailedError(f"the answer took longer than {timeout_s:.0f} s and was abandoned")
    if not data:
        raise ChildFailedError(f"the process computing the answer ended ({_describe(status)})")
    ok, value = pickle.loads(data)
    if ok is None:
        raise NotPicklableError(value)
    if not ok:
        raise value
    return value


def kill_children() -> None:
    """Stop every computation in progress (the service is shutting down)."""
    with _children_lock:
        pids = list(_children)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _become_worker(nice: int) -> None:
    """Undo what the server set up for itself: signal handlers, wakeup fd; lower priority."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    if nice:
        os.nice(nice)
    with contextlib.suppress(OSError, AttributeError):  # Linux only; best effort elsewhere
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(1)


def _outcome(fn: Callable[[], Any]) -> bytes:
    """(True, value), (False, exception) or (None, why the value does not pickle)."""
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001 - handed to the parent to raise
        if not isinstance(exc, RcaError):
            log.exception("computing an answer failed")
        try:
            return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            return pickle.dumps((False, RcaError(f"{type(exc).__name__}: {exc}")))
    try:
        return pickle.dumps((True, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - the parent computes it itself instead
        return pickle.dumps((None, f"{type(exc).__name__}: {exc}"))


def _read_until_eof(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes, or None when it is still writing at `deadline`."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int, *, kill: bool) -> int:
    """Wait for the child (killed first when it is abandoned); its wait status."""
    try:
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        return status
    finally:
        with _children_lock:
            _children.discard(pid)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
