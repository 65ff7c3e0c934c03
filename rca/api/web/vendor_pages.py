"""The dashboard's "Vendors" pages: the scorecard per level and period with O/E and intervals,
and a drill-down per vendor, site or team (where it falls short, with redacted repeat chains,
and its series with the periods tracking alerted on).

The agent level (personal data, even pseudonymised) needs a writer session, as in the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from rca.api.deps import SettingsDep, SnapshotDep
from rca.api.routes.vendors import AGENT_ROLE, alerts_answer, scorecard_answer
from rca.api.web.charts import ratio_svg, series_svg
from rca.api.web.routes import SessionDep, _common, _error_page, _render
from rca.queries.vendor_scorecard import handler_chains
from rca.vendors.scorecard import LEVELS

router = APIRouter(prefix="/ui", include_in_schema=False)
LEVEL_NAMES = {"vendor": "Vendors", "site": "Sites", "team": "Teams", "agent_id": "Agents"}
#: Periods a page's scorecard may cover, ending with the period picked. Four by default: the
#: newest week alone has most repeat windows still open, and a month is the usual review.
SPANS = (1, 4, 13)
DEFAULT_SPAN = 4
SpanParam = Annotated[int, Query(ge=1, le=104)]
#: Shortfall themes shown on a drill-down, and redacted chains read under each.
SHORTFALL_THEMES = 3
CHAINS_PER_THEME = 2
#: What each tracked metric is called on a page, and how its values print.
METRIC_CHARTS = (
    ("contacts", "Contacts", ".0f"),
    ("aht_s", "Average handle time (s)", ".0f"),
    ("repeat_rate", "Repeat rate (closed windows)", ".2f"),
)
ALERT_METRIC = {"contacts": "contacts", "aht_s": "aht", "repeat_rate": "repeat_rate"}


def _levels(session: Any) -> list[str]:
    return [lv for lv in LEVELS if lv != "agent_id" or session.can(AGENT_ROLE)]


def _refused(request: Request, session: Any, level: str) -> HTMLResponse | None:
    if level not in LEVELS:
        return _error_page(request, 422, "Unknown level", f"level must be one of {LEVELS}")
    if level == "agent_id" and not session.can(AGENT_ROLE):
        return _error_page(
            request, 403, "Agents need a writer key",
            f"The agent level needs a {AGENT_ROLE} key; this session's role is {session.role}.",
        )  # fmt: skip
    return None


@router.get("/vendors", response_class=HTMLResponse)
def vendors_page(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: Annotated[str, Query(max_length=32)] = "latest",
    level: Annotated[str, Query(max_length=16)] = "vendor",
    span: SpanParam = DEFAULT_SPAN,
) -> HTMLResponse:
    if (refused := _refused(request, session, level)) is not None:
        return refused
    ctx = _common(snapshot, session, period)
    chosen = ctx["period"]
    card = scorecard_answer(snapshot, settings, chosen.name, level, span)
    tracked = alerts_answer(snapshot, settings, chosen.name, level)
    handlers = card["handlers"]
    ctx |= {
        "active": "vendors",
        "span": span,
        "spans": sorted({*SPANS, span}),
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "levels": [(lv, LEVEL_NAMES[lv]) for lv in _levels(session)],
        "card": card,
        "handlers": handlers,
        "alerts": tracked["alerts"],
        "tracked": tracked,
        "chart": ratio_svg(
            [h[level] for h in handlers],
            [h.get("repeat_ratio") for h in handlers],
            [h.get("repeat_ratio_low") for h in handlers],
            [h.get("repeat_ratio_high") for h in handlers],
            flagged=[h.get("repeat_flag") or "" for h in handlers],
            title=f"Repeats, observed / expected by mix, {LEVEL_NAMES[level].lower()}, "
            f"{chosen.name}",
        ),
    }
    return _render(request, "vendors.html", ctx)


@router.get("/vendors/{level}/{name}", response_class=HTMLResponse)
def vendor_page(
    request: Request,
    level: str,
    name: str,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: Annotated[str, Query(max_length=32)] = "latest",
    span: SpanParam = DEFAULT_SPAN,
) -> HTMLResponse:
    if (refused := _refused(request, session, level)) is not None:
        return refused
    ctx = _common(snapshot, session, period)
    chosen = ctx["period"]
    card = scorecard_answer(snapshot, settings, chosen.name, level, span)
    rows = [h for h in card["handlers"] if str(h.get(level)) == name]
    if not rows:
        detail = f"No {level} {name!r} in {chosen.name}."
        return _error_page(request, 404, "Not found", detail)
    tracked = alerts_answer(snapshot, settings, chosen.name, level, name)
    cells = [c for c in card["shortfalls"] if str(c.get(level)) == name][:SHORTFALL_THEMES]

    def chains(theme_id: str) -> list[dict[str, Any]]:
        return snapshot.memo(
            ("vendor-chains", level, name, theme_id),
            lambda: handler_chains(
                settings, snapshot.analysis, level, name, theme_id, CHAINS_PER_THEME
            ),  # fmt: skip
        )

    series = tracked.get("series", [])
    alerted = {(a["metric"], chosen.name) for a in tracked["alerts"]}
    charts = []
    for key, title, fmt in METRIC_CHARTS:
        # a period with no value (no timed contact, no closed repeat window yet) is left out,
        # not drawn as a zero
        known = [p for p in series if p[key] is not None]
        labels = [p["period"] for p in known]
        svg = series_svg(
            labels,
            [float(p[key]) for p in known],
            flagged=[(ALERT_METRIC[key], label) in alerted for label in labels],
            title=f"{name}: {title} per {tracked['granularity']}",
            ident=f"chart-{key}",
            fmt=fmt,
            band=key == "contacts",
        )
        if svg:
            charts.append((title, svg))
    ctx |= {
        "active": "vendors",
        "span": span,
        "spans": sorted({*SPANS, span}),
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "name": name,
        "row": rows[0],
        "card": card,
        "shortfalls": [{**c, "chains": chains(c["problem_theme_id"])} for c in cells],
        "tracked": tracked,
        "charts": charts,
        "series": series,
    }
    return _render(request, "vendor.html", ctx)
