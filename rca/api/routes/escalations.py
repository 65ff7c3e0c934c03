"""GET /v1/escalations (a period's escalations by theme) and GET /v1/contacts/{id}/deep-dive
(one escalation's deep dive, the same answer as `rca escalation ID`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from rca.api.auth import Reader
from rca.api.deps import SnapshotDep
from rca.api.routes.common import READ_ERRORS, problems
from rca.api.routes.themes import PeriodQuery
from rca.api.schemas import DeepDive, EscalationsResponse, clean
from rca.api.snapshot import Snapshot
from rca.queries.escalation import deep_dive, period_escalations

router = APIRouter(prefix="/v1", tags=["escalations"], dependencies=[Reader])
ContactIdPath = Annotated[str, Path(max_length=256, description="A contact id.")]


def escalations_payload(snapshot: Snapshot, period: str) -> dict[str, Any]:
    chosen = snapshot.period(period)
    return snapshot.memo(
        ("escalations", chosen.name),
        lambda: clean(period_escalations(snapshot.analysis, chosen)),
    )


def deep_dive_payload(snapshot: Snapshot, contact_id: str) -> dict[str, Any]:
    return snapshot.memo(
        ("deep-dive", contact_id),
        lambda: clean(deep_dive(snapshot.settings, contact_id, analysis=snapshot.analysis)),
    )


@router.get("/escalations", response_model=EscalationsResponse, responses=READ_ERRORS)
def escalations(snapshot: SnapshotDep, period: PeriodQuery = "latest") -> EscalationsResponse:
    """The period's escalations grouped by theme, most costly (agent hours) first."""
    return EscalationsResponse(**escalations_payload(snapshot, period))


@router.get(
    # :path: a contact id may hold "/" ("CASE/2026/0001"); without it such an id was a bare
    # "Not Found" that never reached the handler
    "/contacts/{contact_id:path}/deep-dive",
    response_model=DeepDive,
    responses=problems(400, 401, 403, 404, 422, 503),
)
def contact_deep_dive(contact_id: ContactIdPath, snapshot: SnapshotDep) -> DeepDive:
    """The case (redacted), its theme and how typical, the customer's chain, what
    over-explains the theme's escalations, similar earlier escalations with resolutions, and
    the SOP changes in force."""
    return DeepDive(**deep_dive_payload(snapshot, contact_id))
