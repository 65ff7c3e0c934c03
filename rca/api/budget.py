"""Bounded work per request: a few cold computations at once, and a time budget per request.

A cached answer costs microseconds; an answer not computed yet can cost seconds of CPU. So
that a handful of such requests cannot take the process over, a cold computation runs on its
own daemon thread only while one of `RCA_API_MAX_COLD` slots is free (otherwise the request is
answered 503 with Retry-After at once: no queue of CPU-bound work builds up), and a request
waits for it at most until its deadline (`RCA_API_REQUEST_BUDGET_S`), then gets a 503 too. The
computation carries on and its answer is memoised, so the retry is served from the cache.

Daemon threads (not a `ThreadPoolExecutor`, whose workers the interpreter joins at exit) let
SIGTERM stop the process without waiting for a computation in progress. The refresh thread,
which warms answers off the request path, computes inline (`computing_inline`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rca.errors import BusyError

#: The monotonic time by which the current request must be answered (None: no request).
DEADLINE: ContextVar[float | None] = ContextVar("rca_request_deadline", default=None)
_local = threading.local()


def running_inline() -> bool:
    """True on threads that compute directly: the refresh thread and the compute threads."""
    return bool(getattr(_local, "inline", False))


@contextmanager
def computing_inline() -> Iterator[None]:
    """Compute memoised answers on this thread, without slot or deadline (background work)."""
    before = running_inline()
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = before


class TooBusyError(BusyError):
    """Every compute slot is taken, or the answer took longer than the request's budget."""


class ComputeGate:
    """At most `max_cold` computations at once; requests wait within their deadline."""

    def __init__(self, max_cold: int, budget_s: float) -> None:
        self.max_cold = max_cold
        self.budget_s = budget_s
        self._slots = threading.BoundedSemaphore(max_cold)

    def start(self, work: Callable[[], None]) -> bool:
        """Run `work` on a daemon thread if a slot is free; False when all are taken."""
        if not self._slots.acquire(blocking=False):
            return False

        def run() -> None:
            _local.inline = True
            try:
                work()
            finally:
                self._slots.release()

        threading.Thread(target=run, name="rca-compute", daemon=True).start()
        return True

    def remaining(self) -> float:
        """Seconds left to the current request's deadline (the whole budget outside one)."""
        deadline = DEADLINE.get()
        if deadline is None:
            return self.budget_s
        return max(0.0, deadline - time.monotonic())


class RequestDeadline:
    """Pure-ASGI middleware: every request gets `budget_s` from its arrival to be answered."""

    def __init__(self, app, budget_s: float) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.budget_s = budget_s

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = DEADLINE.set(time.monotonic() + self.budget_s)
        try:
            await self.app(scope, receive, send)
        finally:
            DEADLINE.reset(token)
