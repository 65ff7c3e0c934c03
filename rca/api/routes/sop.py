"""SOP changes: POST/GET /v1/sop-changes, GET /v1/sop-changes/{id} (the measured effect) and
GET /v1/sop-review (themes that need a procedure review).

Changes are read from the store on every request (a small table; a change recorded a moment
ago shows at once); their effects are computed over the snapshot and memoised per change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from rca.api.auth import Reader, Writer
from rca.api.deps import SettingsDep, SnapshotDep, StateDep
from rca.api.routes.common import READ_ERRORS, WRITE_ERRORS, check_max, problems
from rca.api.routes.themes import PeriodQuery
from rca.api.schemas import SopChange, SopChangeDetail, SopChangeIn, SopChangeList, SopReview, clean
from rca.api.snapshot import Snapshot
from rca.queries.sop_effects import load_changes, measure, review_queue
from rca.settings import Settings
from rca.sop.follow import covered_by

router = APIRouter(prefix="/v1", tags=["sop"], dependencies=[Reader])
ChangeIdPath = Annotated[str, Path(max_length=64, description="SOP-… (see GET /v1/sop-changes).")]


def record_change(settings: Settings, body: SopChangeIn, author: str | None) -> dict[str, Any]:
    """Store a change (the dashboard's form calls this too): its themes must exist in a model;
    a parent group stands for all of its themes in today's model."""
    from rca.store import Store
    from rca.store.sop import add_change, resolve_themes

    effective = body.effective_at
    if effective.tzinfo is None:
        effective = effective.replace(tzinfo=settings.tz)
    scope = {k: v.strip() for k, v in body.scope.model_dump().items() if v and v.strip()}
    with Store(settings.store_path).write() as con:
        themes = resolve_themes(con, [body.theme_id or "", *body.theme_ids], body.group)
        change = add_change(
            con, theme_ids=themes, group=(body.group or "").strip() or None,
            effective_at=effective, title=body.title,
            now=datetime.now(UTC), description=body.description or None,
            link=body.link or None, author=body.author or author, scope=scope,
        )  # fmt: skip
    return change.as_dict()


def change_detail(snapshot: Snapshot, change_id: str) -> dict[str, Any]:
    """The change, its audit trail, and its effects (memoised per change and snapshot)."""
    from rca.sop.follow import lineage_edges
    from rca.store import Store
    from rca.store.sop import audit_trail, get_change, lineage_rows

    with Store(snapshot.settings.store_path).read() as con:
        change = get_change(con, change_id)
        audit = audit_trail(con, change_id)
        edges = lineage_edges(lineage_rows(con))
    covered = covered_by(change.theme_ids, edges, snapshot.themes.index)

    def compute() -> dict[str, Any]:
        return clean(measure(snapshot.analysis, change, snapshot.settings, covered=covered))

    measured = snapshot.memo(("sop-change", change_id, tuple(covered)), compute)
    return {"change": change.as_dict(), "audit": clean(audit), "covered_themes": covered,
            **measured}  # fmt: skip


@router.post(
    "/sop-changes",
    response_model=SopChange,
    status_code=201,
    responses={**WRITE_ERRORS, **problems(422)},  # 422: e.g. a date outside 1970-2199
    dependencies=[Writer],
)
async def post_sop_change(
    body: SopChangeIn, request: Request, state: StateDep, settings: SettingsDep
) -> SopChange:
    """Record an SOP change on one or more themes or a parent group (writer role); kept with an
    audit trail, and measured on the union of its themes."""
    author = getattr(request.state, "api_key_name", None)
    row = await run_in_threadpool(record_change, settings, body, author)
    return SopChange(**row)


@router.get("/sop-changes", response_model=SopChangeList, responses=READ_ERRORS)
def list_sop_changes(
    settings: SettingsDep,
    include_retired: Annotated[bool, Query(description="Retired changes too.")] = False,
) -> SopChangeList:
    """The recorded changes, oldest first."""
    changes, _edges = load_changes(settings, include_retired=include_retired)
    return SopChangeList(changes=[SopChange(**c.as_dict()) for c in changes])


@router.get(
    "/sop-changes/{change_id}",
    response_model=SopChangeDetail,
    responses=problems(400, 401, 403, 404, 422, 503),
)
def get_sop_change(change_id: ChangeIdPath, snapshot: SnapshotDep) -> SopChangeDetail:
    """A change and what it did: the theme's repeat and escalation rates against the other
    themes, before vs after, with a 95 % interval, the contacts behind it, or 'too early'."""
    return SopChangeDetail(**change_detail(snapshot, change_id))


def review_payload(snapshot: Snapshot, period: str, weeks: int, top: int) -> dict[str, Any]:
    chosen = snapshot.period(period)
    changes, edges = load_changes(snapshot.settings)
    key = ("sop-review", chosen.name, weeks, top, tuple(c.change_id for c in changes))
    return snapshot.memo(
        key,
        lambda: clean(
            review_queue(
                snapshot.analysis, changes, edges, chosen, snapshot.settings, weeks=weeks, top=top
            )
        ),  # fmt: skip
    )


@router.get("/sop-review", response_model=SopReview, responses=READ_ERRORS)
def sop_review(
    snapshot: SnapshotDep,
    settings: SettingsDep,
    period: PeriodQuery = "latest",
    weeks: Annotated[
        int | None, Query(ge=1, le=104, description="Default RCA_SOP_REVIEW_WEEKS.")
    ] = None,
    top: Annotated[int, Query(ge=1, description="At most RCA_API_MAX_PAGE.")] = 20,
) -> SopReview:
    """The SOP review queue: themes with a repeat or escalation rate above all contacts' and
    no SOP change in the last `weeks`, ranked by the agent hours their repeats cost."""
    check_max("query", "top", top, settings.api_max_page)
    return SopReview(**review_payload(snapshot, period, weeks or settings.sop_review_weeks, top))
