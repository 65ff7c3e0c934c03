"""The dashboard's "Themes" page: a period's themes, or their parent groups (each with its
themes under it), from the same snapshot figures as `GET /v1/themes?granularity=…`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from rca.api.deps import SnapshotDep, granularity_level
from rca.api.routes.themes import NO_PARENT_LEVEL
from rca.api.schemas import Granularity, clean
from rca.api.web.routes import SessionDep, _common, _render

router = APIRouter(prefix="/ui", include_in_schema=False)
LEVEL_NAMES = {Granularity.fine: "Themes", Granularity.parent: "Parent groups"}


@router.get("/themes", response_class=HTMLResponse)
def themes_page(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    level: Annotated[Granularity, Depends(granularity_level())],
    period: Annotated[str, Query(max_length=32)] = "latest",
) -> HTMLResponse:
    ctx = _common(snapshot, session, period)
    chosen = ctx["period"]
    fine = snapshot.theme_rows(chosen)
    hidden = fine["hidden"]
    if level is Granularity.fine:
        rows = fine.loc[~hidden].sort_values(["volume", "theme_id"], ascending=[False, True])
    else:
        rows = snapshot.group_rows(chosen)
    ctx |= {
        "active": "themes",
        "granularity": level.value,
        "levels": [(lv.value, name) for lv, name in LEVEL_NAMES.items()],
        "level_name": LEVEL_NAMES[level],
        "rows": clean(rows.to_dict("records")),
        "volume": snapshot.period_volume(chosen),
        "has_customers": snapshot.measures()["has_customers"],
        "hidden_themes": int(hidden.sum()),
        "hidden_volume": int(fine.loc[hidden, "volume"].sum()),
        "note": "; ".join(
            n
            for n in (
                snapshot.period_note(chosen),
                NO_PARENT_LEVEL
                if level is Granularity.parent and not snapshot.has_parent_groups
                else "",
            )
            if n
        ),
    }
    return _render(request, "themes.html", ctx)
