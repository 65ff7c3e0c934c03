"""GET /v1/vendors, GET /v1/vendors/{name} and GET /v1/vendor-alerts: the partner-operations
manager's scorecard and daily (or weekly) tracking.

Readers see vendors, sites and teams; the agent level (personal data, even pseudonymised)
needs a writer or admin key: the people who run the vendors, not everyone with a dashboard.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from rca.api.auth import Reader, require
from rca.api.deps import SettingsDep, SnapshotDep
from rca.api.routes.common import READ_ERRORS, problems
from rca.api.routes.themes import PeriodQuery
from rca.api.schemas import VendorAlertsResponse, VendorsResponse, clean
from rca.errors import NotFoundError
from rca.queries.vendor_scorecard import vendor_alerts_payload, vendors_payload
from rca.vendors.scorecard import LEVELS

router = APIRouter(prefix="/v1", tags=["vendors"], dependencies=[Reader])
LevelQuery = Annotated[str, Query(pattern="^(" + "|".join(LEVELS) + ")$")]
#: Periods a scorecard may cover, ending with `period` (two years of weeks at most).
MAX_SPAN = 104
SpanQuery = Annotated[
    int, Query(ge=1, le=MAX_SPAN, description="Periods covered, ending with `period`.")
]
#: The agent level is shown to this role and above.
AGENT_ROLE = "writer"


def _level_allowed(request: Request, level: str) -> None:
    if level == "agent_id":
        require(AGENT_ROLE)(request)


def alerts_answer(
    snapshot: Any, settings: Any, period: str, level: str, handler: str | None = None
) -> dict[str, Any]:
    chosen = snapshot.period(period)
    return snapshot.memo(
        ("vendor-alerts", chosen.name, level, handler),
        lambda: clean(
            vendor_alerts_payload(
                settings,
                period=chosen.name,
                level=level,
                handler=handler,
                analysis=snapshot.analysis,
            )  # fmt: skip
        ),
    )


def scorecard_answer(
    snapshot: Any, settings: Any, period: str, level: str, span: int = 1
) -> dict[str, Any]:
    chosen = snapshot.period(period)
    return snapshot.memo(
        ("vendors", chosen.name, level, span),
        lambda: clean(
            vendors_payload(
                settings, period=chosen.name, level=level, span=span, analysis=snapshot.analysis
            )
        ),
    )


@router.get("/vendors", response_model=VendorsResponse, responses=READ_ERRORS)
def vendors(
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: PeriodQuery = "latest",
    level: LevelQuery = "vendor",
    span: SpanQuery = 1,
) -> VendorsResponse:
    """One row per handler: contacts, AHT, escalations, repeats charged to the handler whose
    resolution the customer came back after, each against what its mix of problems predicts."""
    _level_allowed(request, level)
    return VendorsResponse(**scorecard_answer(snapshot, settings, period, level, span))


@router.get(
    "/vendors/{name}",
    response_model=VendorsResponse,
    responses=problems(400, 401, 403, 404, 422, 503),
)
def vendor(
    name: str,
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: PeriodQuery = "latest",
    level: LevelQuery = "vendor",
    span: SpanQuery = 1,
) -> VendorsResponse:
    """One handler's row, the themes it falls short on (the start of a deep dive), its jumps
    in the period and its series (day or week, as the period is named) up to it."""
    _level_allowed(request, level)
    answer = dict(scorecard_answer(snapshot, settings, period, level, span))
    rows = [h for h in answer["handlers"] if str(h.get(level)) == name]
    if not rows:
        raise NotFoundError(f"no {level} {name!r} in {answer['period']}")
    answer["handlers"] = rows
    answer["shortfalls"] = [c for c in answer["shortfalls"] if str(c.get(level)) == name]
    tracked = alerts_answer(snapshot, settings, period, level, name)
    answer["alerts"], answer["series"] = tracked["alerts"], tracked.get("series", [])
    return VendorsResponse(**answer)


@router.get("/vendor-alerts", response_model=VendorAlertsResponse, responses=READ_ERRORS)
def vendor_alerts(
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: PeriodQuery = "latest",
    level: LevelQuery = "site",
) -> VendorAlertsResponse:
    """Handlers whose contacts, handle time or repeat rate jumped in the period (a day or a
    week, as it is named) against their own history."""
    _level_allowed(request, level)
    return VendorAlertsResponse(**alerts_answer(snapshot, settings, period, level))
