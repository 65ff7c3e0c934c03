"""Every error as `application/problem+json` (RFC 9457), and the mapping from rca's errors.

Clients get one shape for every failure: `type`, `title`, `status`, `detail`, plus `errors`
(field paths) on 422. Handled errors map by kind (`rca.errors`): bad input 400, unknown thing
404, store or model not there yet / busy 503 with Retry-After. Anything else is a 500 whose
detail says nothing about internals; the traceback goes to the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from rca.api.auth import AuthError
from rca.errors import BusyError, InvalidInputError, NotFoundError, NotReadyError, RcaError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("rca.api")
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    loc: str
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem(
    status: int,
    detail: str = "",
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=instance,
        errors=[FieldError(**e) for e in errors] if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status, headers=headers, media_type=PROBLEM_JSON
    )


def _respond(
    request: Request,
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """problem+json, or the dashboard's HTML error page for its own paths."""
    html = getattr(request.app.state, "html_error", None)
    if html is not None and request.url.path.startswith("/ui"):
        return html(request, status, TITLES.get(status, "Error"), detail)
    return problem(status, detail, instance=request.url.path, errors=errors, headers=headers)


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _status_for(exc: RcaError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, NotReadyError | BusyError):
        return 503
    return 400  # InvalidInputError and other handled errors are about what was asked


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        return _respond(request, exc.status, exc.detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "loc": _loc(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        return _respond(request, 422, f"{first['loc']}: {first['msg']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _respond(request, exc.status_code, str(exc.detail or ""), headers=exc.headers)

    @app.exception_handler(RcaError)
    async def _rca(request: Request, exc: RcaError) -> Response:
        status = _status_for(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        return _respond(request, status, str(exc), headers=headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "unexpected error; see the server log")


__all__ = ["PROBLEM_JSON", "Problem", "install", "problem", "InvalidInputError"]
