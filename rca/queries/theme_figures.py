"""Per-theme figures for one period and per-period series of one theme: the themes listing.

A program manager's first question each week is "which themes were big, which came back, which
grew". These pure functions answer it from the repeat-marked analysis frame
(`rca.queries.repeat_drivers.RepeatAnalysis.marked`), counting each contact under its own theme
(the spike view), with repeats as marked by `rca.repeats.detect`. Growth is a ratio, as in
every figure named growth: (now + 1) / (previous + 1), defined for a theme that had no
contacts before; 2.0 means "doubled".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from rca.periods import Period
from rca.repeats.detect import REPEAT
from rca.repeats.drivers import (
    has_customer_ids,
    measured_components,
    period_index,
    theme_note,
)
from rca.trends.coverage import in_first_span

TABLE_COLUMNS = [
    "theme_id",
    "label",
    "description",
    "keywords",
    "parent_group",
    "volume",
    "share",
    "previous_volume",
    "growth",
    "repeat_contacts",
    "repeat_rate",
    "escalated",
    "escalation_rate",
    "spike_status",
    "hidden",
    "pinned",
]


def _counts(marked: pd.DataFrame, periods: Sequence[Period]) -> pd.DataFrame:
    """(period_idx, theme_id) -> volume, repeat_contacts, escalated; assigned contacts only."""
    frame = pd.DataFrame(
        {
            "period_idx": period_index(marked["created_at"], periods),
            "theme_id": marked["theme_id"].astype(object).to_numpy(),
            "repeat": (marked["repeat_status"] == REPEAT).to_numpy(dtype=bool)
            if "repeat_status" in marked
            else False,
            "escalated": marked["is_escalation"].astype("boolean").fillna(False).to_numpy(bool)
            if "is_escalation" in marked
            else False,
        }
    )
    frame = frame.loc[(frame["period_idx"] >= 0) & frame["theme_id"].notna()]
    return frame.groupby(["period_idx", "theme_id"]).agg(
        volume=("repeat", "size"), repeat_contacts=("repeat", "sum"), escalated=("escalated", "sum")
    )


#: The figures a store without customer ids (no repeats can be seen) or without an escalation
#: flag does not hold: listed as None, never as 0.
NEEDS_CUSTOMERS = ("repeat_contacts", "repeat_rate")
NEEDS_ESCALATION_FLAG = ("escalated", "escalation_rate")


def not_measured(marked: pd.DataFrame) -> tuple[str, ...]:
    """The columns of NEEDS_CUSTOMERS and NEEDS_ESCALATION_FLAG that `marked` cannot fill."""
    return (() if has_customer_ids(marked) else NEEDS_CUSTOMERS) + (
        () if "escalation" in measured_components(marked) else NEEDS_ESCALATION_FLAG
    )


def _of_period(counts: pd.DataFrame, idx: int) -> pd.DataFrame | None:
    """`_counts`'s rows of period `idx` by theme (None: no contacts in it)."""
    return counts.xs(idx, level="period_idx") if idx in counts.index.levels[0] else None


def theme_table(
    marked: pd.DataFrame,
    themes: pd.DataFrame,
    periods: Sequence[Period],
    period: Period,
    *,
    spike_status: Mapping[str, str] | None = None,
    compared_span: timedelta | None = None,
) -> pd.DataFrame:
    """Every theme of the model (zero-volume ones too) with its figures for `period`.

    `compared_span` (a partial period's covered span, `Coverage.compared_span`) counts the
    previous period over its first `compared_span` only, so growth compares like with like.

    `themes` has theme_id, label, keywords, parent_group (and description); `periods` is the
    store's period list (the chosen period may lie outside it: then every volume is 0). Share is
    of all contacts in the period, unassigned included, so shares of a busy week with many
    unassigned sum below 1.
    """
    names = [p.name for p in periods]
    idx = names.index(period.name) if period.name in names else -1
    counts = _counts(marked, periods)
    created = pd.to_datetime(marked["created_at"], utc=True)
    now, before = _of_period(counts, idx), _of_period(counts, idx - 1)
    if compared_span is not None and idx >= 1:
        early = in_first_span(marked["created_at"], periods[idx - 1], compared_span)
        before = _of_period(_counts(marked.loc[early], periods), idx - 1)
    in_period = (created >= pd.Timestamp(period.start)) & (created < pd.Timestamp(period.end))
    total = int(in_period.sum())
    table = themes[["theme_id", "label", "keywords", "parent_group"]].copy()
    # the fit's note (template campaign, one company) or a person's description, else None
    # (as plain objects: a page printed "nan" for every theme without a note once one had one)
    notes = themes["description"].tolist() if "description" in themes else [None] * len(themes)
    table["description"] = pd.Series(map(theme_note, notes), index=table.index, dtype=object)
    ids = table["theme_id"]

    def pick(frame: pd.DataFrame | None, column: str) -> np.ndarray:
        if frame is None:
            return np.zeros(len(ids), dtype=np.int64)
        return frame[column].reindex(ids).fillna(0).to_numpy(dtype=np.int64)

    table["volume"] = pick(now, "volume")
    table["previous_volume"] = pick(before, "volume")
    table["repeat_contacts"] = pick(now, "repeat_contacts")
    table["escalated"] = pick(now, "escalated")
    volume = table["volume"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = volume / total if total else 0.0
        table["repeat_rate"] = np.where(volume > 0, table["repeat_contacts"] / volume, np.nan)
        table["escalation_rate"] = np.where(volume > 0, table["escalated"] / volume, np.nan)
    # growth is a ratio everywhere (docs/json.md): +1 on both sides keeps a new theme finite
    table["growth"] = (volume + 1) / (table["previous_volume"].to_numpy(float) + 1)
    table["spike_status"] = ids.map(dict(spike_status or {})).astype(object)
    unmeasured = not_measured(marked)
    table = table.astype({c: object for c in ("repeat_rate", "escalation_rate", *unmeasured)})
    for column in ("repeat_rate", "escalation_rate"):
        table[column] = table[column].where(pd.notna(table[column]), None)
    for column in unmeasured:  # absent is not zero: an export without customer ids has no 0%
        table[column] = None
    table["spike_status"] = table["spike_status"].where(table["spike_status"].notna(), None)
    for flag in ("hidden", "pinned"):  # the taxonomy's (rca.cluster.taxonomy); False without
        table[flag] = (
            themes[flag].fillna(False).astype(bool).to_numpy() if flag in themes else False
        )
    return table[TABLE_COLUMNS].reset_index(drop=True)


def period_volume(marked: pd.DataFrame, period: Period) -> int:
    """Every contact of `period`, unassigned included: the denominator of every share."""
    created = pd.to_datetime(marked["created_at"], utc=True)
    return int(
        ((created >= pd.Timestamp(period.start)) & (created < pd.Timestamp(period.end))).sum()
    )


def theme_series(
    marked: pd.DataFrame, periods: Sequence[Period], theme_id: str, *, last: int
) -> list[dict[str, object]]:
    """The theme's `last` periods (ending with the newest) with volume, repeats, escalations."""
    counts = _counts(marked, periods)
    mine = counts.xs(theme_id, level="theme_id") if theme_id in counts.index.levels[1] else None
    out = []
    for i, period in list(enumerate(periods))[-last:]:
        row = mine.loc[i] if mine is not None and i in mine.index else None
        out.append(
            {
                "period": period.name,
                "start": period.start,
                "volume": int(row["volume"]) if row is not None else 0,
                "repeat_contacts": int(row["repeat_contacts"]) if row is not None else 0,
                "escalated": int(row["escalated"]) if row is not None else 0,
            }
        )
    return out


# -- the parent level: groups of themes (rca.cluster.hierarchy), as people curated them
GROUP_COLUMNS = [
    "parent_group",
    "label",
    "theme_ids",
    "volume",
    "share",
    "previous_volume",
    "growth",
    "repeat_contacts",
    "repeat_rate",
    "escalated",
    "escalation_rate",
    "spike_status",
    "themes",
]
#: What each fine theme listed under its group shows.
MEMBER_COLUMNS = ["theme_id", "label", "description", "volume", "share", "growth", "repeat_rate"]


def parent_keys(themes: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """(visible theme id → its group's key, key → the group's name).

    The key is the parent group's name (a `move` edit names groups by name); a theme with no
    group (a model with no useful parent level, a created theme) is a group of its own, keyed
    by its id and named by its label. Hidden themes belong to no group.
    """
    hidden = themes["hidden"].fillna(False).astype(bool) if "hidden" in themes else False
    keys: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in themes.loc[~hidden].itertuples(index=False):
        group = row.parent_group if isinstance(row.parent_group, str) else ""
        group = group.strip()
        key = group or str(row.theme_id)
        keys[str(row.theme_id)] = key
        names[key] = group or str(row.label)
    return keys, names


def group_members(keys: Mapping[str, str]) -> dict[str, list[str]]:
    """Group key → its themes, from `parent_keys`'s theme → key map (themes in its order)."""
    members: dict[str, list[str]] = {}
    for theme, key in keys.items():
        members.setdefault(key, []).append(theme)
    return members


def has_parent_groups(themes: pd.DataFrame) -> bool:
    """Whether any visible group holds two or more themes: else the parent level is the fine
    level (the fit found no useful cut, `rca.cluster.hierarchy.has_parent_level`)."""
    keys, _ = parent_keys(themes)
    return len(set(keys.values())) < len(keys)


def group_table(
    table: pd.DataFrame,
    themes: pd.DataFrame,
    *,
    spike_status: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per parent group from the fine `theme_table`: each figure is the sum over its
    visible themes (share too, so it has the fine table's denominator: every contact of the
    period), rates and growth recomputed from those sums; the themes listed largest first.

    `themes` (the curated themes) says which group each theme is in; hidden themes are in none,
    so a group's contacts are those of the themes a person sees under it. `spike_status` is
    keyed by group key (`parent_keys`). Largest group first, ties by name.
    """
    keys, names = parent_keys(themes)
    fine = table.loc[table["theme_id"].isin(keys)].copy()
    fine["_key"] = fine["theme_id"].map(keys)
    fine = fine.sort_values(["volume", "theme_id"], ascending=[False, True])
    rows = []
    for key, members in fine.groupby("_key", sort=False):
        volume = int(members["volume"].sum())
        previous = int(members["previous_volume"].sum())
        repeats = _total(members["repeat_contacts"])
        escalated = _total(members["escalated"])
        grouped = key not in set(members["theme_id"])  # else a theme with no group
        rows.append(
            {
                "parent_group": names[key] if grouped else None,
                "label": names[key],
                "theme_ids": members["theme_id"].tolist(),
                "volume": volume,
                "share": float(members["share"].sum()),
                "previous_volume": previous,
                # growth is a ratio everywhere (docs/json.md), +1 on both sides as for themes
                "growth": (volume + 1) / (previous + 1),
                "repeat_contacts": repeats,
                "repeat_rate": repeats / volume if volume and repeats is not None else None,
                "escalated": escalated,
                "escalation_rate": escalated / volume if volume and escalated is not None else None,
                "spike_status": (spike_status or {}).get(str(key)),
                "themes": [
                    {c: _scalar(r.get(c)) for c in MEMBER_COLUMNS}
                    for r in members.to_dict(orient="records")
                ],
            }
        )
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    if out.empty:
        return out
    order = np.lexsort((out["label"].to_numpy(str), -out["volume"].to_numpy(np.int64)))
    return out.iloc[order].reset_index(drop=True)


def _total(values: pd.Series) -> int | None:
    """A group's sum of a count its themes list, None when the store does not hold it."""
    return None if values.isna().all() and len(values) else int(values.sum())


def _scalar(value: object) -> object:
    """numpy scalars to Python, NaN to None: member rows travel as JSON."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
