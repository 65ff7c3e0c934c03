"""The dashboard's SOP and escalation pages (issue 21): the theme page's SOP section and its
form, an escalation's deep dive, and a period's escalations by theme.

The form posts with the session's CSRF token and needs a writer key, like classify; it stores
the change through the same function as `POST /v1/sop-changes` and returns to the theme page.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from rca.api.deps import SettingsDep, SnapshotDep
from rca.api.routes.escalations import deep_dive_payload, escalations_payload
from rca.api.routes.sop import change_detail, record_change
from rca.api.schemas import SopChangeIn, SopScope
from rca.api.snapshot import Snapshot
from rca.api.web.charts import series_svg
from rca.api.web.routes import SessionDep, _common, _render, same_token
from rca.errors import InvalidInputError
from rca.queries.sop_effects import changes_on_theme, load_changes

router = APIRouter(prefix="/ui", include_in_schema=False)
METRICS = ("repeat rate", "escalation rate")


def theme_sop(snapshot: Snapshot, theme_id: str, names: list[str]) -> dict[str, Any]:
    """The SOP section of a theme page: its changes with their measured effects and a rate
    chart each, and marks for the volume chart (index into `names`, the chart's periods)."""
    changes, edges = load_changes(snapshot.settings)
    mine = changes_on_theme(changes, edges, theme_id)
    starts = {p.name: p for p in snapshot.analysis.periods}
    rows, marks = [], []
    for change in mine:
        detail = change_detail(snapshot, change.change_id)
        series = [p for p in detail["series"] if p["repeat_rate"] is not None]
        at = next((i for i, p in enumerate(series) if p["side"] != "before"), len(series) - 1)
        chart = series_svg(
            [p["period"] for p in series],
            [100 * p["repeat_rate"] for p in series],
            marks=[(max(at, 0), change.title)] if series else [],
            title=f"{change.title}: repeat rate per period (%)",
        )
        rows.append({"change": change, "effects": detail["effects"], "chart": chart,
                     "covered": detail["covered_themes"]})  # fmt: skip
        effective = change.effective_at
        for i, name in enumerate(names):
            period = starts.get(name)
            if period is not None and period.start <= effective < period.end:
                marks.append((i, change.title))
    return {"sop_changes": rows, "sop_marks": marks, "metrics": METRICS}


@router.post("/themes/{theme_id}/sop-changes", response_class=HTMLResponse)
def add_sop_change(
    request: Request,
    theme_id: str,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    effective: Annotated[str, Form(max_length=32)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    link: Annotated[str, Form(max_length=2_000)] = "",
    market: Annotated[str, Form(max_length=128)] = "",
    channel: Annotated[str, Form(max_length=128)] = "",
    vendor: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    snapshot.require_theme(theme_id)
    back = f"/ui/themes/{quote(theme_id)}"
    if not same_token(session.csrf, csrf):
        return _error(request, 400, "The form expired; open the theme page again.", back)
    if not session.can("writer"):
        return _error(request, 403, f"Recording an SOP change needs a writer key; this "
                      f"session's role is {session.role}.", back)  # fmt: skip
    try:
        moment = datetime.fromisoformat(effective)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(effective), time())
        except ValueError:
            return _error(request, 422, "Give the date the change took effect.", back)
    try:
        body = SopChangeIn(
            theme_id=theme_id, effective_at=moment, title=title, description=description,
            link=link, scope=SopScope(market=market, channel=channel, vendor=vendor),
        )  # fmt: skip
        change = record_change(settings, body, session.name)
    except (ValidationError, InvalidInputError) as exc:
        return _error(request, 422, f"The change was not recorded: {exc}", back)
    return RedirectResponse(f"{back}?recorded={quote(change['change_id'])}#sop", status_code=303)


def _error(request: Request, status: int, detail: str, back: str) -> HTMLResponse:
    return _render(request, "error.html",
                   {"title": "SOP change not recorded", "detail": detail, "back": back},
                   status)  # fmt: skip


@router.get("/contacts/{contact_id:path}", response_class=HTMLResponse)  # ids may hold "/"
def deep_dive_page(
    request: Request, contact_id: str, session: SessionDep, snapshot: SnapshotDep
) -> HTMLResponse:
    ctx = _common(snapshot, session, "latest")
    ctx |= {"dive": deep_dive_payload(snapshot, contact_id), "active": "escalations"}
    return _render(request, "deep_dive.html", ctx)


@router.get("/escalations", response_class=HTMLResponse)
def escalations_page(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    period: Annotated[str, Query(max_length=32)] = "latest",
) -> HTMLResponse:
    ctx = _common(snapshot, session, period)
    ctx |= {"report": escalations_payload(snapshot, ctx["period"].name), "active": "escalations"}
    return _render(request, "escalations.html", ctx)
