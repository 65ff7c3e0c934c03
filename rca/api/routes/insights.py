"""GET /v1/drivers and GET /v1/spikes: the weekly questions of a program manager."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from rca.api.auth import Reader
from rca.api.deps import SettingsDep, SnapshotDep, granularity_level
from rca.api.routes.common import READ_ERRORS, cached_json, check_max
from rca.api.routes.themes import PeriodQuery
from rca.api.schemas import DriversResponse, Granularity, Severity, SpikesResponse, clean
from rca.trends.spikes import SEVERITIES

router = APIRouter(prefix="/v1", tags=["insights"], dependencies=[Reader])


@router.get("/drivers", response_model=DriversResponse, responses=READ_ERRORS)
def drivers(
    snapshot: SnapshotDep,
    settings: SettingsDep,
    granularity: Annotated[
        Granularity,
        Depends(
            granularity_level(
                "parent: the parent groups ranked, each the sum of its themes (`theme_id` is "
                "the group's name, `theme_ids` its themes). Default RCA_GRANULARITY."
            )
        ),
    ],
    period: PeriodQuery = "latest",
    top: Annotated[
        int, Query(ge=1, description="How many drivers (at most RCA_API_MAX_PAGE).")
    ] = 10,
) -> Response:
    """Repeat-complaint drivers ranked by score, each with its explanation and two cases."""
    check_max("query", "top", top, settings.api_max_page)
    chosen = snapshot.period(period)
    level = granularity.value
    return cached_json(
        snapshot,
        ("drivers", chosen.name, top, level),
        lambda: DriversResponse(**clean(snapshot.drivers(chosen, top, granularity=level))),
    )


@router.get("/spikes", response_model=SpikesResponse, responses=READ_ERRORS)
def spikes(
    snapshot: SnapshotDep,
    settings: SettingsDep,
    granularity: Annotated[
        Granularity,
        Depends(
            granularity_level(
                "parent: spikes of the parent groups' series (`theme_id` is the group's name, "
                "`theme_ids` its themes). Default RCA_GRANULARITY."
            )
        ),
    ],
    period: PeriodQuery = "latest",
    min_severity: Severity = Severity.low,
) -> SpikesResponse:
    """Emerging spikes and new themes of a period with their root-cause attribution."""
    chosen = snapshot.period(period)
    parent = granularity is Granularity.parent
    report = snapshot.group_spikes(chosen) if parent else snapshot.spikes(chosen)
    keep = SEVERITIES[SEVERITIES.index(min_severity.value) :]
    if report is None:
        return SpikesResponse(
            period=chosen.name, period_start=chosen.start, period_end=chosen.end,
            model_version=snapshot.model.model_version, partial=False, scored=False,
            method="", note=f"{chosen.name} cannot be scored: no contacts up to its end",
            total={}, spikes=[],
        )  # fmt: skip
    payload = clean(report.payload())
    payload["spikes"] = [
        {
            **s,
            "links": {
                "theme": f"/v1/themes/{s['theme_id']}",
                "examples": f"/v1/themes/{s['theme_id']}/examples",
            }
            if not parent
            else {"group": f"/v1/themes?granularity=parent&period={chosen.name}"},
        }  # fmt: skip
        for s in payload["spikes"]
        if s["severity"] in keep
    ]
    payload["method"] = str(payload.get("method") or "")
    return SpikesResponse(**payload)
