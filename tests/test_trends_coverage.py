"""How far the data reaches: one moment for every command, dates-only sources recognised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.periods import day_of, week_of
from rca.trends.coverage import coverage_of, is_date_only, previous_words
from rca.trends.spikes import SpikeConfig, grade, growth_lower_bound

LONDON = ZoneInfo("Europe/London")


def test_only_the_period_holding_the_newest_contact_is_partial() -> None:
    stamps = pd.Series(pd.to_datetime(["2026-11-02 09:00", "2026-11-10 20:49"], utc=True))
    coverage = coverage_of(stamps, LONDON)
    assert not coverage.date_only
    # a past day whose last contact came at 09:00 is complete: the store holds later contacts
    assert coverage.fraction(day_of(date(2026, 11, 2), LONDON)) == 1.0
    newest = coverage.fraction(day_of(date(2026, 11, 10), LONDON))
    assert 0.86 < newest < 0.88
    after = week_of(date(2026, 11, 23), LONDON)
    assert coverage.after_data(after) and "is ingestion behind" in coverage.empty_note(after)
    before = week_of(date(2026, 10, 19), LONDON)
    assert coverage.before_data(before) and "first contact is 2026-11-02" in (
        coverage.empty_note(before)
    )


def test_a_themes_list_says_when_its_period_is_empty_or_partial() -> None:
    """Zeros after the data and a partial week's drop read as real figures unless said."""
    days = pd.to_datetime(["2023-03-01", "2023-03-20", "2023-03-22"])
    coverage = coverage_of(pd.Series(days.tz_localize(LONDON)), LONDON)
    whole = week_of(date(2023, 3, 13), LONDON)
    assert coverage.period_note(whole, 0.02) == ""
    partial = week_of(date(2023, 3, 20), LONDON)  # Monday to Wednesday of 7 days
    note = coverage.period_note(partial, 0.02)
    assert note.startswith(f"{partial.name} is partial") and "2023-03-22 (dates only)" in note
    assert "43%" in note
    assert coverage.period_note(partial, 0.6) == ""  # within the tolerance: whole
    # its change reads the same three days of the week before, not the whole week
    assert "same span of the period before" in note
    assert coverage.compared_span(partial, 0.02) == timedelta(days=3)
    assert previous_words(timedelta(days=3)) == "the first 3 days of the period before"
    assert previous_words(timedelta(hours=77)) == "the first 77 h of the period before"
    assert previous_words(None) == "the period before"
    for whole_or_outside in (whole, week_of(date(2023, 4, 3), LONDON)):
        assert coverage.compared_span(whole_or_outside, 0.02) is None
    assert coverage.compared_span(partial, 0.6) is None
    after = week_of(date(2023, 4, 3), LONDON)
    assert coverage.period_note(after, 0.02) == coverage.empty_note(after) != ""
    before = week_of(date(2023, 2, 6), LONDON)
    assert "first contact is 2023-03-01" in coverage.period_note(before, 0.02)


def test_a_date_only_source_covers_its_newest_day_whole() -> None:
    days = pd.to_datetime(["2023-03-20", "2023-03-21", "2023-03-22"])
    stamps = pd.Series(days.tz_localize(LONDON))
    assert is_date_only(stamps, LONDON)
    coverage = coverage_of(stamps, LONDON)
    assert coverage.date_only
    assert coverage.fraction(day_of(date(2023, 3, 22), LONDON)) == 1.0
    assert coverage.through == datetime(2023, 3, 23, tzinfo=LONDON)
    # one day at midnight proves nothing; varied clock times are not dates only
    assert not is_date_only(stamps.iloc[:1], LONDON)
    mixed = pd.Series(pd.to_datetime(["2023-03-20 00:00", "2023-03-21 13:05"], utc=True))
    assert not is_date_only(mixed, LONDON)
    assert coverage_of(pd.Series([], dtype="datetime64[ns, UTC]"), LONDON) is None


def test_severity_is_monotone_in_size_and_in_certainty() -> None:
    config = SpikeConfig()
    expected = np.full(40, 10.0)
    observed = np.arange(10, 90, 2, dtype=float)
    order = {"low": 0, "medium": 1, "high": 2}
    ranks = [order[g] for g in grade(observed, expected, expected * 1.5, config)]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 2
    # the same ratio is surer, so never graded lower, on a larger base
    small = grade(np.array([16.0]), np.array([2.0]), np.array([2.5]), config)[0]
    large = grade(np.array([800.0]), np.array([100.0]), np.array([125.0]), config)[0]
    assert order[large] >= order[small]
    bound = growth_lower_bound(np.array([800.0]), np.array([100.0]), np.array([100.0]), 0.01)
    assert 7.0 < bound[0] < 8.0


def test_coverage_depends_on_the_data_alone() -> None:
    """Coverage is a function of the data alone: no clock (the same answer every day)."""
    stamps = pd.Series([datetime(2026, 1, 5, 10, tzinfo=UTC)] * 2)
    assert coverage_of(stamps, LONDON).through == datetime(2026, 1, 5, 10, tzinfo=UTC)
