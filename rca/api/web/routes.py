"""The dashboard's pages under /ui: this week, a theme, classify, the model; login and logout.

Server-rendered (Jinja2) with inline SVG charts, so every page reads without JavaScript and
ships no third-party assets. Pages read the same snapshot as the JSON API; their data needs a
session (an API key exchanged for a signed cookie); forms carry a CSRF token.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from rca.api.deps import SnapshotDep, StateDep, granularity_level
from rca.api.routes.common import cases_csv
from rca.api.schemas import Granularity
from rca.api.snapshot import Snapshot
from rca.api.web.charts import series_svg
from rca.api.web.model_facts import metric_sections
from rca.api.web.session import COOKIE, LOGIN_CSRF_COOKIE, Session, SessionCodec, same_token
from rca.repeats.drivers import component_ceilings, scored_components
from rca.repeats.examples import KINDS
from rca.text.counted import counted
from rca.text.excerpt import split_excerpt
from rca.text.moments import moment_text
from rca.trends.coverage import previous_words

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
MISSING = "—"


def num(value: Any, fmt: str = "%s", missing: str = MISSING) -> str:
    """A figure for a page: `missing` (a dash) where it is unknown, never `nan` or `None`."""
    if value is None:
        return missing
    try:
        if not math.isfinite(float(value)):
            return missing
        return fmt % value
    except (TypeError, ValueError):
        return str(value)


templates.env.filters["num"] = num
templates.env.filters["when"] = moment_text  # {{ e.at | when(tz) }}: "2026-12-04 16:45 GMT"
templates.env.filters["counted"] = counted  # {{ n | counted("contact") }}: "1 contact"
templates.env.filters["excerpt"] = split_excerpt  # a long case: (first read, the rest)
router = APIRouter(prefix="/ui", include_in_schema=False)
PICKER_PERIODS = 26
CSV_CASES = 50


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login page, back here afterwards."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _codec(request: Request) -> SessionCodec:
    return request.app.state.ui_codec


def page_session(request: Request, state: StateDep) -> Session:
    session = _codec(request).read(request.cookies.get(COOKIE), state.keyring())
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return session


SessionDep = Annotated[Session, Depends(page_session)]


def _render(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _safe_next(value: str | None) -> str:
    """Only same-site paths under /ui: never an open redirect."""
    if value and value.startswith("/ui") and not value.startswith("//"):
        return value
    return "/ui/"


# -- login and logout -------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/ui/") -> HTMLResponse:  # noqa: A002
    import secrets

    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", {"csrf": token, "next": _safe_next(next)})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/ui")
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    state: StateDep,
    api_key: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "/ui/",  # noqa: A002
) -> Response:
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        return _render(request, "login.html",
                       {"csrf": csrf, "next": _safe_next(next),
                        "error": "The form expired; please try again."}, 400)  # fmt: skip
    issued = _codec(request).issue(api_key.strip(), state.keyring())
    if issued is None:
        return _render(request, "login.html",
                       {"csrf": csrf, "next": _safe_next(next),
                        "error": "That key is not valid."}, 401)  # fmt: skip
    value, _session = issued
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        value,
        max_age=_codec(request).max_age,
        httponly=True,
        secure=state.settings.ui_cookie_secure,
        samesite="lax",
        path="/ui",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    if not same_token(session.csrf, csrf):
        return Response("bad CSRF token", status_code=400)
    _codec(request).end(session)  # a copy of the cookie is refused from now on
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


# -- pages ------------------------------------------------------------------------------------
def _common(snapshot: Snapshot, session: Session, period: str) -> dict[str, Any]:
    chosen = snapshot.period(period)
    names = [p.name for p in snapshot.analysis.periods][::-1][:PICKER_PERIODS]
    if chosen.name not in names:
        names.insert(0, chosen.name)
    return {
        "session": session,
        "period": chosen,
        "periods": names,
        "model_version": snapshot.model.model_version,
        "tz": snapshot.settings.tz,
        # a date-only export's contacts have a day, not a time: "2023-05-09", not "00:00"
        "dates_only": bool(getattr(snapshot.analysis.coverage, "date_only", False)),
    }


@router.get("/", response_class=HTMLResponse)
def this_week(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    granularity: Annotated[Granularity, Depends(granularity_level())],
    period: Annotated[str, Query(max_length=32)] = "latest",
) -> HTMLResponse:
    ctx = _common(snapshot, session, period)
    chosen = ctx["period"]
    level = granularity.value  # of the drivers
    report = snapshot.spikes(chosen)
    spikes = report.spikes if report is not None else []
    totals = snapshot.totals(chosen)
    labels = [t["period"] for t in totals]
    total_alert = bool(report and (report.total or {}).get("alert"))
    drivers = snapshot.drivers(chosen, 10, granularity=level)
    names = dict(zip(snapshot.themes["theme_id"], snapshot.themes["label"], strict=True))
    members = {  # a parent group's themes, named, for the drivers table
        d["theme_id"]: [(t, names.get(t, t)) for t in d.get("theme_ids") or []]
        for d in drivers["drivers"]
    }
    scored = scored_components(drivers["basis"], drivers["measured"])
    ctx |= {
        "drivers_granularity": level,
        "driver_members": members,
        "drivers": drivers["drivers"],
        "drivers_basis": drivers["basis"],
        "drivers_heading": drivers["heading"],
        "scored": scored,
        # the most each bar can reach: the score is the weighted mean of what the store measures
        "ceilings": component_ceilings(drivers["settings"]["weights"], scored),
        "spikes": [s for s in spikes if s["kind"] != "new_theme"],
        "new_themes": [s for s in spikes if s["kind"] == "new_theme"],
        "total": report.total if report is not None else {},
        "notes": [report.note] if report is not None and report.note else [],
        "drivers_note": _without_partial(drivers.get("note", ""), snapshot, chosen, report),
        "volume": snapshot.period_volume(chosen),
        "total_chart": series_svg(
            labels,
            [t["volume"] for t in totals],
            flagged=[total_alert and label == chosen.name for label in labels],
            title=f"All contacts per period up to {chosen.name}",
        ),
    }
    return _render(request, "week.html", ctx)


@router.get("/themes/{theme_id}", response_class=HTMLResponse)
def theme_page(
    request: Request,
    theme_id: str,
    session: SessionDep,
    snapshot: SnapshotDep,
    period: Annotated[str, Query(max_length=32)] = "latest",
    kind: Annotated[str, Query(max_length=32)] = "representative",
) -> HTMLResponse:
    theme = snapshot.require_theme(theme_id)
    ctx = _common(snapshot, session, period)
    chosen = ctx["period"]
    kind = kind if kind in KINDS else "representative"
    series = snapshot.series(theme_id, chosen)
    names = [p["period"] for p in series]
    from rca.api.web.sop_pages import theme_sop

    ctx |= theme_sop(snapshot, theme_id, names)
    ctx |= {
        "theme": theme,
        "figures": snapshot.theme_figures(theme_id, chosen),
        "previous_words": previous_words(snapshot.compared_span(chosen)),
        "series": series,
        "chart": series_svg(
            names,
            [p["volume"] for p in series],
            flagged=snapshot.flagged(theme_id, names),
            title=f"{theme['label']}: contacts per period",
            marks=ctx["sop_marks"],
        ),
        "root_cause": snapshot.root_cause(theme_id, chosen),
        "repeats": snapshot.repeat_figures(theme_id, chosen),
        "measures": snapshot.measures(),
        "chains": snapshot.cases(theme_id, "repeat", 3),
        "kind": kind,
        "kinds": KINDS,
        "cases": snapshot.cases(theme_id, kind, 10),
        "lineage": snapshot.lineage(theme_id),
        "csv_url": f"/ui/themes/{quote(theme_id)}/examples.csv?kind={kind}",
    }
    return _render(request, "theme.html", ctx)


@router.get("/themes/{theme_id}/examples.csv")
def theme_csv(
    theme_id: str,
    session: SessionDep,
    snapshot: SnapshotDep,
    kind: Annotated[str, Query(max_length=32)] = "representative",
) -> Response:
    return cases_csv(snapshot, theme_id, kind, CSV_CASES)  # checks the theme and the kind


@router.get("/classify", response_class=HTMLResponse)
def classify_form(request: Request, session: SessionDep, snapshot: SnapshotDep) -> HTMLResponse:
    ctx = _common(snapshot, session, "latest") | {"text": "", "result": None}
    return _render(request, "classify.html", ctx)


@router.post("/classify", response_class=HTMLResponse)
def classify_page(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    text: Annotated[str, Form(max_length=10_000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> HTMLResponse:
    from rca.api.routes.classify import classify_vectors

    ctx = _common(snapshot, session, "latest") | {"text": text, "result": None}
    if not same_token(session.csrf, csrf):
        return _render(request, "classify.html", ctx | {"error": "The form expired."}, 400)
    if not session.can("writer"):
        message = f"Classifying needs a writer key; this session's role is {session.role}."
        return _render(request, "classify.html", ctx | {"error": message}, 403)
    if not text.strip():
        return _render(request, "classify.html", ctx | {"error": "Paste a contact text."}, 422)
    out, vectors = classify_vectors(state, snapshot, [text])
    result = out.results[0].model_dump()
    nearest = []
    if result["theme_id"]:
        nearest = snapshot.nearest_cases(result["theme_id"], vectors[0], 3)
    ctx |= {"result": result, "nearest": nearest, "threshold": out.threshold}
    return _render(request, "classify.html", ctx)


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, session: SessionDep, snapshot: SnapshotDep) -> HTMLResponse:
    ctx = _common(snapshot, session, "latest")
    ctx |= {"model": snapshot.model, "catalog": snapshot.catalog, "fits": snapshot.fits(),
            "metric_sections": metric_sections(snapshot.model.metrics)}  # fmt: skip
    return _render(request, "model.html", ctx)


def _without_partial(note: str, snapshot: Snapshot, period: Any, report: Any) -> str:
    """The drivers' note less its "partial period" clause where the spike report above it
    already says the period is partial: the week page said it twice, in two wordings."""
    if report is None or not getattr(report, "partial", False):
        return note
    tolerance = snapshot.settings.spike_partial_tolerance
    partial = snapshot.analysis.coverage.period_note(period, tolerance)
    if not partial:
        return note
    return "; ".join(part for part in note.split("; ") if part != partial)


def _error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return _render(request, "error.html", {"title": title, "detail": detail}, status)


def install(app: FastAPI, codec: SessionCodec) -> None:
    """Mount the pages, their stylesheet and the login redirect on `app`."""
    app.state.ui_codec = codec
    app.state.html_error = _error_page
    from rca.api.web import sop_pages

    app.include_router(router)
    app.include_router(sop_pages.router)
    from rca.api.web import taxonomy_pages  # its pages import this module's helpers

    app.include_router(taxonomy_pages.router)
    from rca.api.web.vendor_pages import router as vendor_router  # imports this module

    app.include_router(vendor_router)
    from rca.api.web.theme_pages import router as themes_router  # imports this module

    app.include_router(themes_router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/ui/login?next={quote(exc.next_url)}", status_code=303)

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)
