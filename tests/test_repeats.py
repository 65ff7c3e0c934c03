"""Repeat detection on hand-made frames: every rule of `rca.repeats.detect` in isolation."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from rca.repeats.detect import (
    CONTINUATION,
    FIRST,
    NO_CUSTOMER,
    REPEAT,
    RepeatRules,
    default_rules,
    detect_repeats,
    repeat_chains,
    repeat_summary,
)

T0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")  # a Monday


def contacts(*rows: tuple) -> pd.DataFrame:
    """Rows of (customer, hours after T0, theme, channel[, escalated])."""
    records = []
    for i, row in enumerate(rows):
        customer, hours, theme, channel, *rest = row
        records.append(
            {
                "contact_id": f"C{i:03d}",
                "created_at": T0 + pd.Timedelta(hours=hours),
                "customer_id": customer,
                "channel": channel,
                "is_escalation": bool(rest[0]) if rest else False,
                "handle_time_s": 600.0,
                "resolution": None,
                "text": f"text {i}",
                "theme_id": theme,
            }
        )
    return pd.DataFrame(records)


def status(frame: pd.DataFrame, vectors: np.ndarray | None = None) -> list[str]:
    return detect_repeats(frame, vectors)["repeat_status"].tolist()


def test_defaults_come_from_settings() -> None:
    rules = default_rules()
    assert rules.window == timedelta(days=7)
    assert rules.continuation == timedelta(minutes=15)
    assert 0 < rules.similarity_threshold < 1


def test_same_customer_same_theme_within_window_is_a_repeat() -> None:
    frame = contacts(("U1", 0, "T1", "chat"), ("U1", 48, "T1", "phone"), ("U2", 50, "T1", "chat"))
    marked = detect_repeats(frame)
    assert marked["repeat_status"].tolist() == [FIRST, REPEAT, FIRST]
    assert marked.loc[1, "repeat_of"] == "C000"
    assert marked.loc[1, "days_since_previous"] == pytest.approx(2.0)
    assert bool(marked.loc[1, "channel_hop"])
    assert marked["chain_id"].fillna("").tolist() == ["C000", "C000", ""]
    assert marked["chain_pos"].tolist() == [1, 2, 0]


def test_outside_the_window_or_another_problem_is_not_a_repeat() -> None:
    frame = contacts(
        ("U1", 0, "T1", "chat"),
        ("U1", 24 * 8, "T1", "chat"),  # 8 days later: a new issue
        ("U2", 0, "T1", "chat"),
        ("U2", 24, "T2", "chat"),  # next day, another theme, no vectors
    )
    assert status(frame) == [FIRST, FIRST, FIRST, FIRST]


def test_customers_without_ids_cannot_repeat_and_are_counted_apart() -> None:
    frame = contacts(
        (None, 0, "T1", "chat"),
        (None, 1, "T1", "chat"),
        ("", 2, "T1", "chat"),
        ("  ", 3, "T1", "chat"),
        ("U1", 4, "T1", "chat"),
    )
    marked = detect_repeats(frame)
    assert marked["repeat_status"].tolist() == [NO_CUSTOMER] * 4 + [FIRST]
    assert marked["chain_id"].isna().all()
    summary = repeat_summary(marked)
    assert summary[NO_CUSTOMER] == 4 and summary[REPEAT] == 0 and summary[FIRST] == 1


def test_transfer_inside_15_minutes_is_a_continuation_not_a_repeat() -> None:
    frame = contacts(
        ("U1", 0, "T1", "chat"),
        ("U1", 5 / 60, "T1", "phone"),  # transferred 5 minutes later
        ("U1", 14.9 / 60, "T1", "phone"),  # and again, 9.9 minutes after that
        ("U2", 0, "T1", "chat"),
        ("U2", 16 / 60, "T1", "chat"),  # 16 minutes: outside the interval, a repeat
    )
    marked = detect_repeats(frame)
    assert marked["repeat_status"].tolist() == [
        FIRST,
        CONTINUATION,
        CONTINUATION,
        FIRST,
        REPEAT,
    ]
    assert marked.loc[1, "continuation_of"] == "C000"
    assert marked.loc[2, "continuation_of"] == "C001"
    assert marked.loc[:2, "chain_id"].isna().all()  # no repeat yet: no chain


def test_a_repeat_after_a_transfer_chains_the_whole_episode() -> None:
    frame = contacts(
        ("U1", 0, "T1", "chat"),
        ("U1", 0.1, "T1", "phone"),  # continuation, 6 minutes
        ("U1", 30, "T1", "email", True),  # back the next day
    )
    marked = detect_repeats(frame)
    assert marked["repeat_status"].tolist() == [FIRST, CONTINUATION, REPEAT]
    assert marked.loc[2, "repeat_of"] == "C001"  # the most recent contact of the problem
    assert marked["chain_id"].tolist() == ["C000"] * 3
    chain = repeat_chains(marked).iloc[0]
    assert chain["contact_ids"] == ["C000", "C001", "C002"]
    assert chain["follow_up_ids"] == ["C002"]
    assert chain["n_repeats"] == 1 and chain["escalated"]
    assert chain["channels"] == ["chat", "phone", "email"] and chain["channel_hops"] == 2


def test_custom_rules_change_the_window_and_interval() -> None:
    frame = contacts(("U1", 0, "T1", "chat"), ("U1", 0.4, "T1", "chat"), ("U1", 24 * 9, "T1", "x"))
    assert status(frame) == [FIRST, REPEAT, FIRST]  # 24 minutes; 9 days
    rules = RepeatRules(
        window=timedelta(days=10), continuation=timedelta(minutes=30), similarity_threshold=0.9
    )
    marked = detect_repeats(frame, rules=rules)
    assert marked["repeat_status"].tolist() == [FIRST, CONTINUATION, REPEAT]


def test_semantically_close_texts_repeat_even_across_themes() -> None:
    frame = contacts(
        ("U1", 0, "T1", "chat"),
        ("U1", 24, "T2", "chat"),  # paraphrase the model filed elsewhere
        ("U2", 0, "T1", "chat"),
        ("U2", 24, "T3", "chat"),  # another problem
        ("U3", 0, None, "chat"),
        ("U3", 24, None, "chat"),  # both unassigned: only the text can tell
    )
    a = np.array([1.0, 0.0, 0.0])
    close = np.array([0.8, 0.6, 0.0])
    far = np.array([0.0, 0.0, 1.0])
    vectors = np.stack([a, close, a, far, a, close]).astype(np.float32)
    marked = detect_repeats(frame, vectors)
    assert marked["repeat_status"].tolist() == [FIRST, REPEAT, FIRST, FIRST, FIRST, REPEAT]
    # the paraphrase counts against the problem that caused it
    assert marked.loc[1, "problem_theme_id"] == "T1"
    assert pd.isna(marked.loc[5, "problem_theme_id"])
    # unassigned contacts never match each other by theme
    assert status(frame.iloc[4:].reset_index(drop=True)) == [FIRST, FIRST]


def test_chains_cross_period_boundaries_and_consecutive_gaps_count() -> None:
    # Saturday, then Tuesday and the Monday after: 10 days end to end, each gap within 7.
    frame = contacts(
        ("U1", 24 * 5, "T1", "chat"),
        ("U1", 24 * 8, "T1", "phone"),
        ("U1", 24 * 14, "T1", "phone", True),
    )
    marked = detect_repeats(frame)
    assert marked["repeat_status"].tolist() == [FIRST, REPEAT, REPEAT]
    chain = repeat_chains(marked).iloc[0]
    assert chain["days_between"] == [3.0, 6.0]
    assert chain["span_days"] == pytest.approx(9.0)
    assert chain["channel_hops"] == 1 and chain["escalated"]


def test_row_order_does_not_matter() -> None:
    frame = contacts(("U1", 0, "T1", "a"), ("U2", 1, "T1", "a"), ("U1", 30, "T1", "b"))
    shuffled = frame.iloc[[2, 0, 1]]
    marked = detect_repeats(shuffled)
    assert marked["repeat_status"].tolist() == [REPEAT, FIRST, FIRST]
    assert list(marked.index) == [2, 0, 1]


def test_the_last_window_is_open() -> None:
    frame = contacts(("U1", 0, "T1", "a"), ("U2", 24 * 6, "T1", "a"), ("U3", 24 * 8, "T1", "a"))
    marked = detect_repeats(frame)
    assert marked["window_closed"].tolist() == [True, False, False]
    as_of = T0 + pd.Timedelta(days=30)
    assert detect_repeats(frame, as_of=as_of.to_pydatetime())["window_closed"].all()
    assert repeat_summary(marked)["open_windows"] == 2


def test_open_chain_and_empty_input() -> None:
    marked = detect_repeats(contacts(("U1", 0, "T1", "a"), ("U1", 24, "T1", "a")))
    assert bool(repeat_chains(marked).iloc[0]["open"])
    single = detect_repeats(contacts(("U1", 0, "T1", "a")))
    assert repeat_chains(single).empty
    empty = detect_repeats(contacts(("U1", 0, "T1", "a")).iloc[:0])
    assert empty.empty and repeat_summary(empty)["contacts"] == 0


def test_bad_input_is_a_clear_error() -> None:
    frame = contacts(("U1", 0, "T1", "a"))
    with pytest.raises(ValueError, match="lacks columns"):
        detect_repeats(frame.drop(columns="customer_id"))
    with pytest.raises(ValueError, match="vectors"):
        detect_repeats(frame, np.zeros((2, 3)))
