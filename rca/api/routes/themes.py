"""GET /v1/themes, /v1/themes/{theme_id} and /v1/themes/{theme_id}/examples."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Response

from rca.api.auth import Reader
from rca.api.deps import SettingsDep, SnapshotDep, StateDep, granularity_level
from rca.api.pagination import Cursor, decode_cursor, encode_cursor
from rca.api.routes.common import READ_ERRORS, cached_json, cases_csv, check_max, problems
from rca.api.schemas import (
    CaseFormat,
    ExampleKind,
    ExamplesResponse,
    Granularity,
    ThemeDetail,
    ThemeGroup,
    ThemePage,
    ThemeSort,
    ThemeSummary,
    clean,
)
from rca.api.snapshot import Snapshot
from rca.errors import InvalidInputError

router = APIRouter(prefix="/v1/themes", tags=["themes"], dependencies=[Reader])

SORT_COLUMN = {ThemeSort.volume: "volume", ThemeSort.repeats: "repeat_contacts",
               ThemeSort.growth: "growth"}  # fmt: skip
PeriodQuery = Annotated[
    str,
    Query(
        max_length=32,
        description="An ISO week (2026-W46), a day (2026-11-20), this-week, last-week, today, "
        "yesterday or latest; anything else is a 400 problem.",
    ),
]
ThemeIdPath = Annotated[str, Path(max_length=64, description="A theme id such as T0007.")]


NO_PARENT_LEVEL = "no useful parent level in this model: each theme is its own group"


def _sorted(rows: pd.DataFrame, sort: ThemeSort) -> pd.DataFrame:
    """Largest first; ties by theme id (a group's name) so the order is total and pages are
    stable."""
    column = SORT_COLUMN[sort]
    return rows.assign(_key=-rows[column].astype(float)).sort_values(
        ["_key", "theme_id"], kind="stable"
    )


@router.get("", response_model=ThemePage, responses=READ_ERRORS)
def list_themes(
    snapshot: SnapshotDep,
    state: StateDep,
    settings: SettingsDep,
    level: Annotated[
        Granularity,
        Depends(
            granularity_level(
                "fine: themes (`items`); parent: parent groups (`groups`), each the sum of its "
                "visible themes. Default RCA_GRANULARITY."
            )
        ),
    ],
    period: PeriodQuery = "latest",
    sort: ThemeSort = ThemeSort.volume,
    limit: Annotated[int, Query(ge=1, description="Page size (at most RCA_API_MAX_PAGE).")] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Themes (or parent groups) of a period with volume, share, repeats, escalations, growth
    and spike status."""
    check_max("query", "limit", limit, settings.api_max_page)
    chosen = snapshot.period(period)
    if sort is ThemeSort.repeats and not snapshot.measures()["has_customers"]:
        raise InvalidInputError(
            "sort=repeats: this store has no customer ids, so repeat contacts are not seen; "
            "sort by volume or growth"
        )
    position = decode_cursor(cursor) if cursor else None
    order = sort.value if level is Granularity.fine else f"{sort.value}:parent"
    pinned = None
    if position is not None:
        if (position.period, position.sort) != (chosen.name, order):
            raise InvalidInputError("cursor belongs to another period, sort order or granularity")
        pinned = state.by_id(position.snapshot)
    source = pinned or snapshot

    def build() -> ThemePage:
        listed = source.period(chosen.name)
        if level is Granularity.fine:
            rows = _sorted(source.theme_rows(listed), sort)
        else:  # a group's name is its id for ties and cursors
            groups = source.group_rows(listed)
            rows = _sorted(groups.assign(theme_id=groups["label"]), sort)
        start = 0
        if pinned is not None:
            start = position.offset
        elif position is not None:  # its snapshot is gone: continue after the last key
            key = (-position.last_value, position.last_id)
            later = [(k, t) > key for k, t in zip(rows["_key"], rows["theme_id"], strict=True)]
            start = later.index(True) if True in later else len(rows)
        page = rows.iloc[start : start + limit]
        next_cursor = None
        if start + limit < len(rows):
            last = page.iloc[-1]
            next_cursor = encode_cursor(
                Cursor(
                    snapshot=source.id,
                    period=chosen.name,
                    sort=order,
                    offset=start + limit,
                    last_value=float(-last["_key"]),
                    last_id=str(last["theme_id"]),
                )
            )
        records = page.drop(columns=["_key"]).to_dict("records")
        fine = level is Granularity.fine
        return ThemePage(
            period=chosen.name,
            period_start=chosen.start,
            period_end=chosen.end,
            model_version=source.model.model_version,
            sort=sort,
            granularity=level,
            total_themes=len(rows) if fine else int(rows["theme_ids"].map(len).sum()),
            total_groups=None if fine else len(rows),
            total_volume=source.period_volume(chosen),
            items=[ThemeSummary(**clean(r)) for r in records] if fine else [],
            groups=[] if fine else [ThemeGroup(**clean(r)) for r in records],
            note="; ".join(
                n
                for n in (
                    source.period_note(chosen),
                    "" if fine or source.has_parent_groups else NO_PARENT_LEVEL,
                )
                if n
            )
            or None,
            next_cursor=next_cursor,
        )

    key = ("themes", chosen.name, order, limit, cursor or "")
    return cached_json(source, key, build)


def _links(theme_id: str) -> dict[str, str]:
    return {
        "self": f"/v1/themes/{theme_id}",
        "examples": f"/v1/themes/{theme_id}/examples",
    }


@router.get("/{theme_id}", response_model=ThemeDetail, responses=problems(400, 401, 403, 404, 503))
def theme_detail(
    theme_id: ThemeIdPath, snapshot: SnapshotDep, period: PeriodQuery = "latest"
) -> Response:
    """One theme: figures, series over recent periods, root cause, repeats and lineage."""
    theme = snapshot.require_theme(theme_id)
    chosen = snapshot.period(period)

    def build() -> ThemeDetail:
        figures = snapshot.theme_figures(theme_id, chosen)
        return ThemeDetail(
            period=chosen.name,
            period_start=chosen.start,
            period_end=chosen.end,
            model_version=snapshot.model.model_version,
            theme_id=theme_id,
            label=str(theme["label"]),
            description=clean(theme.get("description")),
            keywords=list(theme["keywords"] if theme["keywords"] is not None else []),
            parent_group=clean(theme["parent_group"]),
            fit_size=_fit_size(snapshot, theme_id),
            figures=ThemeSummary(**clean(figures)),
            series=snapshot.series(theme_id, chosen),
            root_cause=clean(snapshot.root_cause(theme_id, chosen)),
            repeats=snapshot.repeat_figures(theme_id, chosen),
            lineage=snapshot.lineage(theme_id),
            links=_links(theme_id),
        )

    return cached_json(snapshot, ("theme", theme_id, chosen.name), build)


def _fit_size(snapshot: Snapshot, theme_id: str) -> int:
    catalog = snapshot.catalog
    if theme_id in catalog.theme_ids:
        return int(catalog.sizes[catalog.theme_ids.index(theme_id)])
    return 0


@router.get(
    "/{theme_id}/examples",
    response_model=ExamplesResponse,
    responses={
        **problems(400, 401, 403, 404, 503),
        200: {"content": {"text/csv": {}}, "description": "Cases as JSON, or CSV"},
    },
)
def theme_examples(
    theme_id: ThemeIdPath,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    n: Annotated[int, Query(ge=1, description="Cases (chains for kind=repeat).")] = 10,
    kind: ExampleKind = ExampleKind.representative,
    format: CaseFormat = CaseFormat.json,  # noqa: A002 - the public query parameter's name
) -> ExamplesResponse | Response:
    """Redacted example cases an SOP author can lift: representative, recent, escalated,
    repeat chains. `format=csv` downloads them (spreadsheet-safe, UTF-8 with BOM)."""
    check_max("query", "n", n, settings.api_max_page)
    snapshot.require_theme(theme_id)
    if format is CaseFormat.json:
        return cached_json(
            snapshot,
            ("examples", theme_id, kind.value, n),
            lambda: ExamplesResponse(
                model_version=snapshot.model.model_version,
                theme_id=theme_id,
                kind=kind,
                n=n,
                items=clean(snapshot.cases(theme_id, kind.value, n)),
            ),
        )
    return cases_csv(snapshot, theme_id, kind.value, n)
