"""How far the data reaches: which periods are complete, partial, or outside the data.

Why from the whole store and not from a period's own rows: a past day whose last contact came
at 20:49 is not "87 % complete" — the store holds later contacts, so that day is over. Only
the period holding the newest contact can be partial, and every command (spikes, drivers,
report, API) must judge it from the same moment, or they disagree about the same period.

Date-only exports (every timestamp at one clock time, e.g. CFPB's `Date received`) say
nothing about the time of day: a contact dated the 22nd covers the whole 22nd, so the data
reaches the end of the newest contact's day, and no analysis is finer than a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.periods import Period

#: Fewer distinct days than this cannot show that a source is date-only (one day of contacts
#: at midnight could be a coincidence of a tiny export).
MIN_DAYS_FOR_DATE_ONLY = 2


@dataclass(frozen=True)
class Coverage:
    """The span the data covers: `through` is the moment up to which it is complete."""

    first: datetime
    newest: datetime
    through: datetime
    date_only: bool

    def fraction(self, period: Period) -> float:
        """Share of `period` the data covers: 1 for every period but the newest one."""
        span = (period.end - period.start).total_seconds()
        covered = (min(self.through, period.end) - period.start).total_seconds()
        return float(min(max(covered / span, 0.0), 1.0))

    def before_data(self, period: Period) -> bool:
        return period.end <= self.first

    def after_data(self, period: Period) -> bool:
        return period.start >= self.through

    def outside(self, period: Period) -> bool:
        return self.before_data(period) or self.after_data(period)

    def empty_note(self, period: Period) -> str:
        """The plain sentence for a period the data does not reach ('' when it does)."""
        if self.after_data(period):
            return (
                f"no contacts in {period.name}: the newest contact is "
                f"{_day(self.newest, period)} — is ingestion behind?"
            )
        if self.before_data(period):
            return f"no contacts in {period.name}: the first contact is {_day(self.first, period)}"
        return ""

    def reach(self) -> str:
        """How far the data reaches, as a reader says it: a day for date-only sources."""
        if self.date_only:
            return (self.through - timedelta(days=1)).date().isoformat() + " (dates only)"
        return self.newest.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def compared_span(self, period: Period, tolerance: float) -> timedelta | None:
        """The span of a partial `period` the data covers (None for a whole period or one the
        data does not reach): its change is read against the same span of the period before,
        as the spike report reads a partial period, so four days are not set against seven."""
        if self.outside(period) or self.fraction(period) >= 1.0 - tolerance:
            return None
        return self.through - period.start

    def period_note(self, period: Period, tolerance: float) -> str:
        """What a list of `period`'s figures must say beside them ('' for a whole period).

        A period the data does not reach lists zeros, and a partial one (more than `tolerance`
        of it after the data's end) holds fewer days than the period before (its change reads
        `compared_span` of it): both read as whole periods unless the list says so.
        """
        if self.outside(period):
            return self.empty_note(period)
        share = self.fraction(period)
        if share < 1.0 - tolerance:
            return (
                f"{period.name} is partial: the data reaches {self.reach()}, {share:.0%} of the "
                "period, so its change compares it with the same span of the period before"
            )
        return ""


def in_first_span(created_at: pd.Series, period: Period, span: timedelta) -> np.ndarray:
    """Which contacts fall in the first `span` of `period`: the part of the period before a
    partial one that its figures are compared with (`Coverage.compared_span`)."""
    created = pd.to_datetime(created_at, utc=True)
    start = pd.Timestamp(period.start)
    return ((created >= start) & (created < start + pd.Timedelta(span))).to_numpy()


#: What `previous_words` says when the whole period before is compared: callers test for it.
WHOLE_PERIOD_BEFORE = "the period before"


def previous_words(span: timedelta | None) -> str:
    """What a partial period's previous figure counts, as a reader says it: "the period
    before", or "the first 3 days of the period before" (hours when not whole days)."""
    if span is None:
        return WHOLE_PERIOD_BEFORE
    days, rest = divmod(span, timedelta(days=1))
    if not rest:
        return f"the first {days} day{'s' if days != 1 else ''} of the period before"
    hours = round(span / timedelta(hours=1))
    return f"the first {hours} h of the period before"


def _day(moment: datetime, period: Period) -> str:
    return moment.astimezone(period.start.tzinfo).date().isoformat()


def coverage_of(created_at: pd.Series, tz: ZoneInfo) -> Coverage | None:
    """The data's coverage from every contact's timestamp (None when there are none)."""
    created = pd.to_datetime(created_at, utc=True).dropna()
    if created.empty:
        return None
    first, newest = created.min().to_pydatetime(), created.max().to_pydatetime()
    date_only = is_date_only(created, tz)
    through = newest
    if date_only:
        day = newest.astimezone(tz).date() + timedelta(days=1)
        through = datetime(day.year, day.month, day.day, tzinfo=tz)
    return Coverage(first=first, newest=newest, through=through, date_only=date_only)


def is_date_only(created_at: pd.Series, tz: ZoneInfo) -> bool:
    """Every timestamp at one local clock time (or one UTC clock time) over several days."""
    distinct = pd.Series(pd.to_datetime(created_at, utc=True).dropna().unique())
    if distinct.empty:
        return False
    for zone in (tz, "UTC"):
        local = distinct.dt.tz_convert(zone)
        clock = local.dt.hour * 3600 + local.dt.minute * 60 + local.dt.second
        clock = clock + local.dt.microsecond / 1e6
        if clock.nunique() == 1 and local.dt.date.nunique() >= MIN_DAYS_FOR_DATE_ONLY:
            return True
    return False
