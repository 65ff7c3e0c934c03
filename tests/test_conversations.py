"""Conversations on hand-made frames: a reply is never a repeat, a new conversation can be."""

from __future__ import annotations

import pandas as pd

from rca.repeats.detect import CONTINUATION, FIRST, REPEAT, detect_repeats

T0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")


def messages(rows: list[tuple]) -> pd.DataFrame:
    """(id, customer, hours after T0, theme, conversation_id, in_reply_to) → a frame."""
    frame = pd.DataFrame(
        rows,
        columns=["contact_id", "customer_id", "hours", "theme_id", "conversation_id",
                 "in_reply_to"],
    )  # fmt: skip
    frame["created_at"] = T0 + pd.to_timedelta(frame.pop("hours"), unit="h")
    return frame


def statuses(frame: pd.DataFrame) -> dict[str, str]:
    marked = detect_repeats(frame)
    return dict(zip(marked["contact_id"], marked["repeat_status"], strict=True))


def test_turns_of_a_long_thread_are_continuations_and_a_new_thread_is_a_repeat() -> None:
    frame = messages([
        ("M1", "U1", 0, "T1", "conv-1", None),
        ("M2", "U1", 3, "T1", "conv-1", None),    # hours later, same thread: still one contact
        ("M3", "U1", 9, "T1", "conv-1", None),
        ("M4", "U1", 48, "T1", "conv-2", None),   # two days later, a new thread: a repeat
    ])  # fmt: skip
    assert statuses(frame) == {"M1": FIRST, "M2": CONTINUATION, "M3": CONTINUATION, "M4": REPEAT}


def test_reply_chains_link_across_the_window_boundary_without_becoming_repeats() -> None:
    frame = messages([
        ("M1", "U1", 0, "T1", None, None),
        ("M2", "U1", 24 * 8, "T1", None, "M1"),   # a reply, 8 days on: past the 7-day window
        ("M3", "U1", 24 * 9, "T1", None, None),   # new message, no thread: a new conversation
    ])  # fmt: skip
    marked = detect_repeats(frame).set_index("contact_id")
    assert marked.loc["M2", "repeat_status"] == CONTINUATION
    assert marked.loc["M2", "continuation_of"] == "M1"
    # M3 is within 7 days of M2 (the last turn of the earlier conversation): a repeat of it
    assert marked.loc["M3", "repeat_status"] == REPEAT and marked.loc["M3", "repeat_of"] == "M2"


def test_two_problems_in_one_conversation_are_not_a_repeat() -> None:
    frame = messages([
        ("M1", "U1", 0, "T1", "conv-1", None),
        ("M2", "U1", 1, "T2", "conv-1", None),   # a second problem, same conversation
        ("M3", "U1", 30, "T2", "conv-2", None),  # the second problem again, new conversation
    ])  # fmt: skip
    assert statuses(frame) == {"M1": FIRST, "M2": CONTINUATION, "M3": REPEAT}


def test_a_conversation_id_reused_by_another_customer_is_another_conversation() -> None:
    frame = messages([
        ("M1", "U1", 0, "T1", "42", None),
        ("M2", "U2", 5, "T1", "42", None),   # the export recycled thread 42
        ("M3", "U2", 6, "T1", "42", None),
    ])  # fmt: skip
    assert statuses(frame) == {"M1": FIRST, "M2": FIRST, "M3": CONTINUATION}


def test_mixed_exports_use_the_session_gap_where_there_is_no_thread() -> None:
    frame = messages([
        ("M1", "U1", 0, "T1", "conv-1", None),
        ("M2", "U1", 30, "T1", None, None),        # no thread info, a day later: new
        ("M3", "U1", 30.1, "T1", None, None),      # six minutes later: the same session
        ("M4", "U1", 50, "T1", None, None),        # hours later, no thread: new again
    ])  # fmt: skip
    assert statuses(frame) == {"M1": FIRST, "M2": REPEAT, "M3": CONTINUATION, "M4": REPEAT}


def test_replies_to_one_agent_message_share_its_conversation() -> None:
    # the agent's message A1 is not a contact; both customer replies point at it
    frame = messages([
        ("M1", "U1", 0, "T1", None, None),
        ("M2", "U1", 2, "T1", None, "A1"),
        ("M3", "U1", 4, "T1", None, "A1"),
    ])  # fmt: skip
    marked = statuses(frame)
    assert marked["M3"] == CONTINUATION and marked["M2"] != REPEAT
