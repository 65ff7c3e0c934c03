"""Reporting periods: ISO weeks or days in the configured time zone.

Every command that takes `--period` accepts `2026-W46` (ISO week), `2026-11-20` (a day),
`last-week` / `this-week` / `yesterday` / `today`, or `latest` (the period holding the newest
contact). Boundaries are local midnights converted to UTC, so a week is 7 local days even
across a daylight-saving change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rca.errors import InvalidInputError, NotReadyError

ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
ISO_DAY = re.compile(r"^(\d{4})-\d{2}-\d{2}$")
#: Years a named period may fall in: wide for support data, narrow enough that every
#: boundary, window and timestamp computed from a period stays representable (pandas stops at
#: 2262, `date` at 9999: `9999-W52` and `0001-01-01` overflowed into 500s).
YEARS = range(1900, 2201)


@dataclass(frozen=True)
class Period:
    name: str  # "2026-W46" or "2026-11-20"
    kind: str  # "week" | "day"
    start: datetime  # inclusive, tz-aware
    end: datetime  # exclusive, tz-aware

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def week_of(day: date, tz: ZoneInfo) -> Period:
    monday = day - timedelta(days=day.isoweekday() - 1)
    year, week, _ = monday.isocalendar()
    return Period(
        f"{year}-W{week:02d}",
        "week",
        _local_midnight(monday, tz),
        _local_midnight(monday + timedelta(days=7), tz),
    )


def day_of(day: date, tz: ZoneInfo) -> Period:
    return Period(
        day.isoformat(), "day", _local_midnight(day, tz), _local_midnight(day + timedelta(1), tz)
    )


def period_of(moment: datetime, kind: str, tz: ZoneInfo) -> Period:
    local = moment.astimezone(tz).date()
    return week_of(local, tz) if kind == "week" else day_of(local, tz)


def parse_period(
    text: str, *, kind: str, tz: ZoneInfo, now: datetime, latest: datetime | None = None
) -> Period:
    """A period from its name or a relative word; a malformed one is a clear RcaError."""
    value = text.strip()
    today = now.astimezone(tz).date()
    if (match := ISO_WEEK.match(value) or ISO_DAY.match(value)) and int(match[1]) not in YEARS:
        raise InvalidInputError(
            f"period {value!r}: outside the years {YEARS.start}-{YEARS.stop - 1} this tool reads"
        )
    if match := ISO_WEEK.match(value):
        year, week = int(match.group(1)), int(match.group(2))
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise InvalidInputError(f"period {value!r}: no such ISO week") from exc
        return week_of(monday, tz)
    if ISO_DAY.match(value):
        try:
            return day_of(date.fromisoformat(value), tz)
        except ValueError as exc:
            raise InvalidInputError(f"period {value!r}: no such day") from exc
    relative = {
        "this-week": lambda: week_of(today, tz),
        "last-week": lambda: week_of(today - timedelta(days=7), tz),
        "today": lambda: day_of(today, tz),
        "yesterday": lambda: day_of(today - timedelta(days=1), tz),
    }
    if value in relative:
        return relative[value]()
    if value == "latest":
        if latest is None:
            raise NotReadyError("period 'latest': the store has no contacts")
        return period_of(latest, kind, tz)
    raise InvalidInputError(
        f"period {value!r}: use an ISO week (2026-W46), a day (2026-11-20), "
        "this-week, last-week, today, yesterday or latest"
    )


def periods_between(start: datetime, end: datetime, kind: str, tz: ZoneInfo) -> list[Period]:
    """Every period from the one holding `start` to the one holding `end`, gaps included."""
    first = period_of(start, kind, tz)
    out = [first]
    while out[-1].end <= end:
        nxt = out[-1].end.astimezone(tz).date()
        out.append(week_of(nxt, tz) if kind == "week" else day_of(nxt, tz))
    return out
