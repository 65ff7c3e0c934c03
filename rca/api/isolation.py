"""Cold answers computed in forked child processes, at a lower CPU priority.

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

Forking is not free: the kernel copies the page tables of an 800 MB server in 20-40 ms, during
which no thread of the server runs, and every page the server then writes is copied again. At
a few cold answers a second that alone put warm requests over 50 ms. So a `WorkerPool` forks
its children once (after each data change) and sends them questions: a closure pickled by
value (cloudpickle), in which large shared objects such as the snapshot are named by a token
(`share`) instead of copied; the worker, forked after they existed, has them already.
`run_forked` (a child per answer) remains for questions that do not pickle.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import pickle
import queue
import select
import signal
import struct
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import cloudpickle

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
    return _result(data)


def _result(data: bytes) -> Any:
    """The value `_outcome` packed, or its exception raised (NotPicklableError for a value
    that could not be sent)."""
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


class QuestionNotPicklableError(NotPicklableError):
    """The question itself cannot be sent to a worker (it holds a lock, a file, ...)."""


class _Worker:
    """A forked child evaluating the questions written to it, one at a time, until its pipe
    closes; `known` are the shared tokens that existed when it was forked."""

    def __init__(self, pool: WorkerPool) -> None:
        self.known = frozenset(pool.shared_tokens())
        self.generation = pool.generation
        self.answers = 0
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns from here
            code = 0
            try:
                os.close(self._write)
                os.close(self._read)
                _become_worker(pool.nice)
                pool.serve(to_child, from_child)
            except BaseException:  # noqa: BLE001 - nothing may escape a forked child
                code = 1
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_child)
        self.pid = pid
        with _children_lock:
            _children.add(pid)

    def ask(self, question: bytes, timeout_s: float) -> bytes:
        """The worker's answer (pickled outcome); ChildFailedError when it ends or runs over
        its time (it is killed then)."""
        try:
            _write_frame(self._write, question)
            data = _read_frame(self._read, time.monotonic() + timeout_s)
        except OSError:
            data = b""
        if data is None:
            self.close()
            raise ChildFailedError(
                f"the answer took longer than {timeout_s:.0f} s and was abandoned"
            )
        if not data:
            status = self.close()
            raise ChildFailedError(f"the process computing the answer ended ({status})")
        self.answers += 1
        return data

    def close(self) -> str:
        """End the worker; how it ended. It is killed, not asked to leave: workers forked later
        hold copies of its pipe, so closing ours would not reach it."""
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            return _describe(_reap(self.pid, kill=True))
        except ChildProcessError:  # reaped already
            return "ended"


class WorkerPool:
    """Up to `size` long-lived forked workers for cold answers (see the module docstring).

    Workers are forked on demand (or by `prefork`) and reused; one is replaced after
    `max_answers` answers (its heap only grows), after a time-out or a crash, and once a new
    generation starts (`renew`, at each data change: it holds the old data's pages).
    """

    def __init__(self, size: int, *, nice: int = 10, max_answers: int = 500) -> None:
        self.size = size
        self.nice = nice
        self.max_answers = max_answers
        self.generation = 0
        self._shared: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
        self._tokens: dict[int, str] = {}
        self._idle: list[_Worker] = []
        self._busy = 0
        self._lock = threading.Lock()
        self._forker: tuple[threading.Thread, queue.SimpleQueue[Future[_Worker] | None]] | None
        self._forker = None

    def _fork(self) -> _Worker:
        """A new worker, forked by the pool's own thread: Linux sends PDEATHSIG when the
        *thread* that forked a child ends, and the compute threads end after each answer."""
        with self._lock:
            if self._forker is None or not self._forker[0].is_alive():
                requests: queue.SimpleQueue[Future[_Worker] | None] = queue.SimpleQueue()
                thread = threading.Thread(
                    target=self._fork_loop, args=(requests,), name="rca-fork", daemon=True
                )
                thread.start()
                self._forker = (thread, requests)
            requests = self._forker[1]
        forked: Future[_Worker] = Future()
        requests.put(forked)
        return forked.result()

    def _fork_loop(self, requests: queue.SimpleQueue[Future[_Worker] | None]) -> None:
        while (forked := requests.get()) is not None:
            try:
                forked.set_result(_Worker(self))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                forked.set_exception(exc)

    # -- what questions may name ------------------------------------------------------------
    def share(self, token: str, obj: Any) -> None:
        """Let questions name `obj` by `token` instead of carrying a copy of it."""
        with self._lock:
            self._shared[token] = obj
            self._tokens[id(obj)] = token
        weakref.finalize(obj, self._forget, id(obj))

    def _forget(self, key: int) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def shared_tokens(self) -> list[str]:
        return list(self._shared.keys())

    # -- asking ----------------------------------------------------------------------------
    def run(self, fn: Callable[[], Any], *, timeout_s: float) -> Any:
        """`fn()` evaluated by a worker: its value, or its exception raised here.

        QuestionNotPicklableError when `fn` does not pickle, NotPicklableError when its value
        does not (the caller computes it some other way). The calling thread waits in
        `select`, not holding the GIL.
        """
        question, tokens = self._dumps(fn)
        worker = self._take(tokens)
        try:
            data = worker.ask(question, timeout_s)
        except ChildFailedError:
            self._gone(worker)
            raise
        except BaseException:
            self._gone(worker, close=True)
            raise
        self._give_back(worker)
        return _result(data)

    def _dumps(self, fn: Callable[[], Any]) -> tuple[bytes, set[str]]:
        named: set[str] = set()
        tokens = self._tokens

        class Pickler(cloudpickle.Pickler):
            def persistent_id(self, obj: Any) -> str | None:  # type: ignore[override]
                token = tokens.get(id(obj))
                if token is not None:
                    named.add(token)
                return token

        buffer = io.BytesIO()
        try:
            Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(fn)
        except Exception as exc:  # noqa: BLE001 - e.g. a lock or an open file in the closure
            raise QuestionNotPicklableError(f"{type(exc).__name__}: {exc}") from exc
        return buffer.getvalue(), named

    def _take(self, tokens: set[str]) -> _Worker:
        """An idle worker that knows `tokens`, or a newly forked one (a caller holds one of
        the compute gate's slots, so there are never more than `size` busy)."""
        stale: list[_Worker] = []
        chosen = None
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.generation == self.generation and tokens <= worker.known:
                    chosen = worker
                    break
                stale.append(worker)
            self._busy += 1
        for worker in stale:
            worker.close()
        return chosen or self._fork()

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy -= 1
            keep = (
                worker.generation == self.generation
                and worker.answers < self.max_answers
                and len(self._idle) < self.size
            )
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def _gone(self, worker: _Worker, *, close: bool = False) -> None:
        with self._lock:
            self._busy -= 1
        if close:
            with contextlib.suppress(OSError):
                worker.close()

    def prefork(self) -> None:
        """Fork the idle workers now (after a data change), not on the first cold request."""
        with self._lock:
            missing = self.size - len(self._idle) - self._busy
        for _ in range(max(0, missing)):
            worker = self._fork()
            with self._lock:
                self._idle.append(worker)

    def renew(self) -> None:
        """A new generation (the data changed): idle workers end now, busy ones when done."""
        with self._lock:
            self.generation += 1
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    def close(self) -> None:
        """End the idle workers and the forking thread (busy workers die with it)."""
        with self._lock:
            idle, self._idle = self._idle, []
            forker, self._forker = self._forker, None
        for worker in idle:
            worker.close()
        if forker is not None:
            forker[1].put(None)

    # -- in the worker ---------------------------------------------------------------------
    def serve(self, read_fd: int, write_fd: int) -> None:
        """The worker's loop: read a question, write its outcome, until the pipe closes."""
        shared = self._shared

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, token: Any) -> Any:
                return shared[token]  # `_take` sends only what this worker was forked with

        while True:
            question = _read_frame(read_fd, None)
            if not question:
                return
            # a question that fails to load is an error for its caller, not the worker's end
            _write_frame(write_fd, _outcome(lambda q=question: Unpickler(io.BytesIO(q)).load()()))


_FRAME = struct.Struct(">Q")


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_frame(fd: int, deadline: float | None) -> bytes | None:
    """One length-prefixed message; b"" at end of file, None when `deadline` passes first."""
    head = _read_exactly(fd, _FRAME.size, deadline)
    if not head:
        return head
    return _read_exactly(fd, _FRAME.unpack(head)[0], deadline)


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes | None:
    chunks: list[bytes] = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
