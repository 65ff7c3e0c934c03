"""Periods: ISO weeks and days in the configured zone, relative words, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rca.errors import RcaError
from rca.periods import parse_period, periods_between

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_iso_week_boundaries_are_local_midnights() -> None:
    week = parse_period("2026-W46", kind="week", tz=LONDON, now=NOW)
    assert week.start == datetime(2026, 11, 9, tzinfo=LONDON)
    assert week.end == datetime(2026, 11, 16, tzinfo=LONDON)
    assert week.name == "2026-W46"


def test_relative_periods() -> None:
    assert parse_period("last-week", kind="week", tz=LONDON, now=NOW).name == "2026-W47"
    assert parse_period("this-week", kind="week", tz=LONDON, now=NOW).name == "2026-W48"
    assert parse_period("yesterday", kind="day", tz=LONDON, now=NOW).name == "2026-11-22"
    latest = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert parse_period("latest", kind="week", tz=LONDON, now=NOW, latest=latest).name == "2026-W47"


def test_week_across_dst_change_is_seven_local_days() -> None:
    week = parse_period("2026-W43", kind="week", tz=LONDON, now=NOW)  # clocks go back 25 Oct
    elapsed = week.end.astimezone(UTC) - week.start.astimezone(UTC)
    assert elapsed.total_seconds() == 7 * 24 * 3600 + 3600


@pytest.mark.parametrize("bad", ["2026-W54", "2026-13-01", "week 46", "", "2026-W4"])
def test_malformed_periods_are_clear_errors(bad: str) -> None:
    with pytest.raises(RcaError, match="period"):
        parse_period(bad, kind="week", tz=LONDON, now=NOW)


def test_periods_between_has_no_gaps() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    end = datetime(2026, 11, 22, tzinfo=UTC)
    weeks = periods_between(start, end, "week", LONDON)
    assert weeks[0].name == "2026-W40" and weeks[-1].name == "2026-W47"
    assert all(a.end == b.start for a, b in zip(weeks, weeks[1:], strict=False))
