"""Per theme x period series from the analysis frame: counts, share, escalations, handle time.

Why a dense matrix: spike scoring needs every period, including the ones where a theme had no
contacts (a zero is data, a gap is not), and vectorised models over all themes at once. Periods
are ISO weeks or days in the configured zone (`rca.periods`), so a contact at 23:30 UTC on a
Sunday belongs to Monday's week in a zone east of UTC. The last period may be partial: its
coverage is recorded, and `window` rebuilds every period from its first `window` only, so a
partial period can be compared with same-length slices of the earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.periods import Period, period_of, periods_between

#: Used when a caller does not say how much of a period may be missing before it is partial.
DEFAULT_PARTIAL_TOLERANCE = 0.02


@dataclass(frozen=True)
class ThemeSeries:
    """Dense theme x period matrices (rows: theme ids, columns: period names, oldest first)."""

    kind: str
    periods: tuple[Period, ...]
    contacts: pd.DataFrame
    escalations: pd.DataFrame
    handle_time_s: pd.DataFrame  # summed: the workload a theme costs
    customers: pd.DataFrame  # unique customers
    first_at: pd.DataFrame  # earliest contact per cell, NaT where none
    total: pd.Series  # every contact per period, unassigned included
    coverage: float  # share of the last period that the data covers
    last_partial: bool
    window: timedelta | None = None  # every period cut to its first `window` (same-length)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.periods]

    @property
    def themes(self) -> list[str]:
        return list(self.contacts.index)

    @property
    def share(self) -> pd.DataFrame:
        """Each theme's share of all contacts in the period (0 where the period is empty)."""
        total = self.total.replace(0, np.nan)
        return self.contacts.div(total, axis=1).fillna(0.0)

    def long(self) -> pd.DataFrame:
        """One row per theme and period, the form the API and reports print."""
        idx = pd.MultiIndex.from_product([self.themes, self.names], names=["theme_id", "period"])
        out = pd.DataFrame(index=idx).reset_index()
        for name, wide in (
            ("contacts", self.contacts),
            ("share", self.share),
            ("escalations", self.escalations),
            ("handle_time_s", self.handle_time_s),
            ("customers", self.customers),
        ):
            out[name] = wide.to_numpy().reshape(-1)
        out["partial"] = self.last_partial & (out["period"] == self.names[-1])
        return out


def period_names(created_at: pd.Series, kind: str, tz: ZoneInfo) -> pd.Series:
    """The period name of each timestamp, computed once per distinct local date."""
    local_day = created_at.dt.tz_convert(tz).dt.date
    names = {d: period_of(datetime(d.year, d.month, d.day, 12, tzinfo=tz), kind, tz).name
             for d in local_day.unique()}  # fmt: skip
    return local_day.map(names)


def build_series(
    frame: pd.DataFrame,
    kind: str,
    tz: ZoneInfo,
    *,
    through: Period | None = None,
    since: datetime | None = None,
    as_of: datetime | None = None,
    window: timedelta | None = None,
    themes: Sequence[str] | None = None,
    partial_tolerance: float = DEFAULT_PARTIAL_TOLERANCE,
) -> ThemeSeries:
    """Series from the first contact (or `since`) to `through` (default: the newest contact).

    `as_of` is when the data stops (default: the newest contact up to `through`); the last
    period is partial when more than `partial_tolerance` of it lies after `as_of`.
    `themes` adds themes with no contacts at all as rows of zeros.
    """
    created = frame["created_at"]
    if through is not None:
        keep = created < through.end
        frame, created = frame.loc[keep], created[keep]
    if since is not None:
        keep = created >= since
        frame, created = frame.loc[keep], created[keep]
    if created.empty and through is None:
        raise ValueError("no contacts to build a series from")
    last = through or period_of(created.max().to_pydatetime(), kind, tz)
    first_moment = since or (created.min().to_pydatetime() if len(created) else last.start)
    periods = tuple(periods_between(first_moment, last.start, kind, tz))
    stop = as_of or (created.max().to_pydatetime() if len(created) else last.start)
    span = (last.end - last.start).total_seconds()
    coverage = float(np.clip((stop - last.start).total_seconds() / span, 0.0, 1.0))
    names = [p.name for p in periods]

    rows = frame.assign(period=period_names(created, kind, tz).to_numpy())
    if window is not None:
        starts = pd.Series({p.name: pd.Timestamp(p.start) for p in periods})
        elapsed = rows["created_at"] - rows["period"].map(starts)
        rows = rows.loc[(elapsed < pd.Timedelta(window)).to_numpy()]
    total = rows.groupby("period").size().reindex(names, fill_value=0).astype(np.int64)
    assigned = rows.loc[rows["theme_id"].notna()]
    theme_ids = sorted(set(assigned["theme_id"]) | set(themes or ()))
    grid = pd.MultiIndex.from_product([theme_ids, names], names=["theme_id", "period"])
    grouped = assigned.groupby(["theme_id", "period"])

    def wide(values: pd.Series, fill: object = 0) -> pd.DataFrame:
        out = values.reindex(grid).unstack("period").reindex(index=theme_ids, columns=names)
        return out if fill is None else out.fillna(fill)

    contacts = wide(grouped.size()).astype(np.int64)
    escalations = wide(grouped["is_escalation"].sum()).astype(np.int64)
    handle = wide(grouped["handle_time_s"].sum()).astype(float)
    customers = wide(grouped["customer_id"].nunique()).astype(np.int64)
    first_at = wide(grouped["created_at"].min(), fill=None)
    return ThemeSeries(
        kind=kind,
        periods=periods,
        contacts=contacts,
        escalations=escalations,
        handle_time_s=handle,
        customers=customers,
        first_at=first_at,
        total=total,
        coverage=coverage,
        last_partial=coverage < 1.0 - partial_tolerance,
        window=window,
    )
