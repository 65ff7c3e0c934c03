"""What several routers share: documented error responses and limit checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from rca.api.problems import PROBLEM_JSON, Problem
from rca.api.snapshot import Snapshot
from rca.repeats.examples import cases_to_csv


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem+json errors a route can answer."""
    return {
        s: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Problem details"}
        for s in statuses
    }


READ_ERRORS = problems(400, 401, 403, 503)
WRITE_ERRORS = problems(400, 401, 403, 413, 503)


def check_max(where: str, name: str, value: int, maximum: int) -> None:
    """A configured limit (RCA_API_MAX_*) broken: 422 with the field path, like any other."""
    if value > maximum:
        raise RequestValidationError(
            [{"loc": (where, name), "msg": f"at most {maximum}", "type": "less_than_equal"}]
        )


def cached_json(
    snapshot: Snapshot, key: tuple[Any, ...], build: Callable[[], BaseModel]
) -> Response:
    """The answer's JSON bytes, built and validated once per snapshot and question.

    Reads repeat all week until the data changes; serialising a drivers page with its cases
    costs tens of milliseconds, handing over cached bytes well under one.
    """
    body = snapshot.memo(("json", *key), lambda: build().model_dump_json().encode())
    return Response(body, media_type="application/json")


def cases_csv(snapshot: Snapshot, theme_id: str, kind: str, n: int) -> Response:
    """A theme's cases as a spreadsheet-safe CSV download (UTF-8 with BOM), built once per
    snapshot; the API's `format=csv` and the dashboard's download link both answer with it."""
    body = snapshot.memo(
        ("csv", theme_id, kind, n),
        lambda: cases_to_csv(
            snapshot.examples(theme_id, kind, n), bom=True, tz=snapshot.settings.tz
        ),
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{theme_id}-{kind}.csv"'},
    )
