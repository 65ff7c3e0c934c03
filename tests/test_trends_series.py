"""Theme series: zero-filled periods, unassigned contacts, partial periods, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from rca.periods import parse_period
from rca.trends.series import build_series, period_names

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def frame(rows: list[tuple[str, str | None]], **extra: list[object]) -> pd.DataFrame:
    """Contacts from (UTC timestamp, theme id) pairs."""
    out = pd.DataFrame(
        {
            "created_at": pd.to_datetime([r[0] for r in rows], utc=True),
            "theme_id": [r[1] for r in rows],
            "is_escalation": extra.get("is_escalation", [False] * len(rows)),
            "handle_time_s": extra.get("handle_time_s", [60.0] * len(rows)),
            "customer_id": extra.get("customer_id", [f"U{i}" for i in range(len(rows))]),
        }
    )
    return out


def test_zero_filled_periods_unassigned_in_total_and_zero_volume_themes() -> None:
    rows = [
        ("2026-11-02 10:00", "T1"),
        ("2026-11-03 10:00", "T1"),
        ("2026-11-17 10:00", "T1"),
        ("2026-11-17 11:00", None),
    ]
    series = build_series(frame(rows), "week", LONDON, themes=["T9"])
    assert series.names == ["2026-W45", "2026-W46", "2026-W47"]
    assert series.contacts.loc["T1"].tolist() == [2, 0, 1]
    assert series.contacts.loc["T9"].tolist() == [0, 0, 0]
    assert series.total.tolist() == [2, 0, 2]
    assert series.share.loc["T1"].tolist() == [1.0, 0.0, 0.5]
    long = series.long()
    assert len(long) == 6 and not long.isna()[["contacts", "share"]].any().any()


def test_aggregates_escalations_handle_time_and_unique_customers() -> None:
    rows = [("2026-11-02 10:00", "T1")] * 3
    series = build_series(
        frame(rows, is_escalation=[True, False, True], handle_time_s=[10.0, 20.0, 30.0],
              customer_id=["U1", "U1", "U2"]),
        "week",
        LONDON,
    )  # fmt: skip
    assert series.escalations.iloc[0, 0] == 2
    assert series.handle_time_s.iloc[0, 0] == 60.0
    assert series.customers.iloc[0, 0] == 2


def test_partial_last_period_and_same_length_window() -> None:
    rows = [("2026-11-02 10:00", "T1"), ("2026-11-06 10:00", "T1"), ("2026-11-10 09:00", "T1")]
    # data stops on Tuesday of W46: the week is partial
    series = build_series(frame(rows), "week", LONDON)
    assert series.last_partial and 0.1 < series.coverage < 0.3
    window = series.periods[-1].end - series.periods[-1].start
    assert not build_series(frame(rows), "week", LONDON, as_of=series.periods[-1].end).last_partial
    same = build_series(frame(rows), "week", LONDON, window=timedelta(days=1, hours=10))
    # only Monday 00:00 - Tuesday 10:00 of each week counts: Friday's contact drops out
    assert same.contacts.loc["T1"].tolist() == [1, 1]
    assert window == timedelta(days=7)


def test_complete_last_period_within_tolerance() -> None:
    rows = [("2026-11-02 10:00", "T1"), ("2026-11-08 23:50", "T1")]
    assert not build_series(frame(rows), "week", LONDON).last_partial


@pytest.mark.parametrize(
    ("moment", "zone", "kind", "expected"),
    [
        ("2026-11-15 23:30", "Europe/London", "week", "2026-W46"),  # Sunday night in London
        ("2026-11-15 23:30", "Europe/Berlin", "week", "2026-W47"),  # already Monday in Berlin
        ("2026-06-30 23:30", "Europe/London", "day", "2026-07-01"),  # BST: after midnight
        ("2026-06-30 23:30", "UTC", "day", "2026-06-30"),
        ("2027-01-01 12:00", "Europe/London", "week", "2026-W53"),  # ISO week across new year
        ("2026-03-29 00:30", "Europe/London", "day", "2026-03-29"),  # DST change night
    ],
)
def test_time_zones_around_midnight_and_week_boundaries(
    moment: str, zone: str, kind: str, expected: str
) -> None:
    created = pd.Series(pd.to_datetime([moment], utc=True))
    assert period_names(created, kind, ZoneInfo(zone)).iloc[0] == expected


def test_through_cuts_later_contacts_and_keeps_empty_trailing_periods() -> None:
    rows = [("2026-11-02 10:00", "T1"), ("2026-11-20 10:00", "T1")]
    through = parse_period("2026-W46", kind="week", tz=BERLIN, now=NOW)
    series = build_series(frame(rows), "week", BERLIN, through=through)
    assert series.names == ["2026-W45", "2026-W46"]
    assert series.contacts.loc["T1"].tolist() == [1, 0]
