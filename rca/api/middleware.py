"""Two pure-ASGI middlewares: a request body limit (413) and Prometheus request metrics.

Pure ASGI rather than `BaseHTTPMiddleware`: no extra task per request, and the body limit can
stop a chunked upload as soon as it passes the limit instead of after buffering it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rca.api.problems import PROBLEM_JSON, TITLES

#: Latency buckets (seconds) around the 50 ms target for cached reads.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _TooLarge(StarletteHTTPException):
    """Raised from `receive`: FastAPI re-raises HTTP exceptions from body parsing as they are,
    so the app's problem+json handler answers 413 (any other exception would become a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


async def _send_413(send: Send, limit: int, path: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": TITLES[413],
            "status": 413,
            "detail": f"request body over {limit} bytes",
            "instance": path,
        }  # fmt: skip
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        path = scope.get("path", "")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_413(send, self.max_bytes, path)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, self.max_bytes, path)


class Metrics:
    """Request counts and latencies by method, route template and status (bounded labels)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "rca_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "rca_http_request_duration_seconds",
            "Time to the end of the response, by method and route.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_template(scope)
            method = scope.get("method", "")
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: dict[str, Any]) -> str:
    """`/v1/themes/{theme_id}`, not the raw path: raw paths would explode the label set."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


#: The dashboard ships its own stylesheet and inline SVG, no scripts and no third-party assets,
#: so everything else is refused; the score bars' widths are the only inline style attributes.
UI_CSP = (
    "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """Headers every response carries, and those the dashboard's pages need.

    All: `nosniff` and no referrer outside the site. Data (the JSON API and dashboard pages,
    which hold customer text): `Cache-Control: no-store`, so no shared or browser cache keeps
    it after logout. Dashboard pages: a CSP that also forbids framing (clickjacking).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if path.startswith("/ui") and not path.startswith("/ui/static"):
            extra += [
                (b"content-security-policy", UI_CSP.encode()),
                (b"x-frame-options", b"DENY"),
            ]
        if path.startswith(("/ui", "/v1")) and not path.startswith("/ui/static"):
            extra.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in extra if k not in names),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
