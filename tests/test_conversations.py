"""Conversations on hand-made frames: a reply is never a repeat, a new conversation can be."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.repeats.conversations import through_context
from rca.repeats.detect import (
    CONTINUATION,
    FIRST,
    FLAGGED,
    REPEAT,
    SMALL_TALK,
    detect_repeats,
)
from rca.repeats.drivers import theme_period_figures
from rca.repeats.examples import example_cases

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


def social(rows: list[tuple]) -> pd.DataFrame:
    """(id, customer, hours after T0, theme, text, channel) → a frame without thread ids."""
    frame = pd.DataFrame(
        rows, columns=["contact_id", "customer_id", "hours", "theme_id", "text", "channel"]
    )
    frame["created_at"] = T0 + pd.to_timedelta(frame.pop("hours"), unit="h")
    return frame


def test_messaging_channels_keep_a_conversation_over_hours_other_channels_do_not() -> None:
    frame = social([
        ("S1", "U1", 0, "T1", "@Bank my card is blocked", "social"),
        ("S2", "U1", 5, "T1", "@Bank card still blocked", "social"),  # 5 h later: a turn
        ("S3", "U1", 30, "T1", "@Bank blocked card again", "social"),  # next day: a repeat
        ("P1", "U2", 0, "T1", "my card is blocked", "phone"),
        ("P2", "U2", 5, "T1", "card still blocked", "phone"),  # a call 5 h later: a repeat
    ])  # fmt: skip
    assert statuses(frame) == {
        "S1": FIRST, "S2": CONTINUATION, "S3": REPEAT, "P1": FIRST, "P2": REPEAT,
    }  # fmt: skip


def test_small_talk_neither_opens_a_problem_nor_repeats() -> None:
    frame = social([
        ("M1", "U1", 0, "", "@Bank hi 👋", "social"),
        ("M2", "U1", 0.1, "T1", "@Bank my transfer has not arrived", "social"),
        ("M3", "U1", 30, "", "thanks @Bank!! 🙏", "social"),   # next day: thanks, no repeat
        ("M4", "U1", 60, "", "thanks again @Bank", "social"),  # and again: still none
    ])  # fmt: skip
    marked = detect_repeats(frame).set_index("contact_id")
    assert marked["repeat_status"].to_dict() == {
        "M1": SMALL_TALK, "M2": FIRST, "M3": SMALL_TALK, "M4": SMALL_TALK,
    }  # fmt: skip
    assert marked["chain_id"].isna().all()


def test_an_account_with_implausible_volume_is_flagged_and_out_of_repeats() -> None:
    # a contest posted hourly (one long session: 60 messages) and a bot calling 5-hourly
    # (25 conversations in five days); a customer calling twice is still counted
    rows = [(f"B{k:02d}", "Promo", k, "T9", f"@Bank win a voucher {k}", "social")
            for k in range(60)]  # fmt: skip
    rows += [(f"D{k:02d}", "Bot", 5 * k, "T8", f"order {k} status", "phone")
             for k in range(25)]  # fmt: skip
    rows += [("C1", "U1", 0, "T1", "card blocked", "phone"), ("C2", "U1", 30, "T1", "blocked",
             "phone")]  # fmt: skip
    marked = detect_repeats(social(rows))
    assert set(marked.loc[marked["customer_id"] == "Promo", "repeat_status"]) == {FLAGGED}
    assert set(marked.loc[marked["customer_id"] == "Bot", "repeat_status"]) == {FLAGGED}
    assert marked.attrs["flagged_accounts"] == ["Bot", "Promo"]
    assert marked.set_index("contact_id").loc["C2", "repeat_status"] == REPEAT
    figures = theme_period_figures(marked, weeks_of(marked))
    assert "T9" not in set(figures["theme_id"])  # kept out of every repeat rate


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_same_problem_is_judged_on_whole_conversations() -> None:
    frame = social([
        # U1 states a problem twice; two days later opens again in other words, twice
        ("A1", "U1", 0, "T1", "@Bank my transfer has not arrived", "social"),
        ("A2", "U1", 1, "T1", "@Bank the money never reached the account", "social"),
        ("A3", "U1", 48, "T2", "@Bank where are my funds", "social"),
        ("A4", "U1", 49, "T2", "@Bank still no money on my account", "social"),
        # U2 follows up on one problem, then opens another two days later
        ("B1", "U2", 0, "T3", "@Bank how do I freeze my card", "social"),
        ("B2", "U2", 1, "T9", "@Bank still not working", "social"),
        ("B3", "U2", 48, "T4", "@Bank my card is not working at shops", "social"),
    ])  # fmt: skip
    vectors = np.stack([
        unit(1, 0, 0, 0), unit(0, 1, 0, 0),            # A1, A2: one problem, two wordings
        unit(0.3, 0.3, 0.906, 0), unit(0.5, 0.5, 0.707, 0),  # A3 is 0.3 from A1 and from A2
        unit(1, 0, 0, 0), unit(0, 0, 0.6, 0.8),        # B2: a short follow-up ...
        unit(0, 0, 0.6, 0.8) * 0.6 + unit(0, 1, 0, 0) * 0.8,  # ... worded like B3's new problem
    ])  # fmt: skip
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    threshold = detect_repeats(frame).attrs["repeat_rules"].similarity_threshold
    assert (vectors[2] @ vectors[:2].T < threshold).all()  # no one message of A1/A2 is close
    assert vectors[6] @ vectors[5] >= threshold  # a message-by-message test says repeat
    marked = detect_repeats(frame, vectors).set_index("contact_id")["repeat_status"]
    # A3..A4 are the same problem as A1..A2: compared as conversations, they are close
    assert marked["A3"] == REPEAT
    # B3 is another problem: the follow-up B2 is about B1's problem, not a problem of its own
    assert marked["B3"] == FIRST


def test_replies_to_the_companys_messages_point_at_what_those_answered() -> None:
    context = pd.DataFrame({"message_id": ["A1", "A2"], "in_reply_to": ["M1", "A1"]})
    replies = pd.Series(["A1", "A2", None, "X9"])
    resolved = through_context(replies, context)
    assert resolved.fillna("-").tolist() == ["M1", "M1", "-", "X9"]


def weeks_of(frame: pd.DataFrame) -> list:
    from rca.periods import periods_between

    stamps = pd.to_datetime(frame["created_at"], utc=True)
    return periods_between(stamps.min(), stamps.max(), "week", ZoneInfo("UTC"))


def test_a_conversation_is_one_example_case_and_a_chain_shows_each_opener() -> None:
    frame = social([
        ("S1", "U1", 0, "T1", "@Bank my card is blocked", "social"),
        ("S2", "U1", 1, "T1", "@Bank card still blocked, please help", "social"),  # a turn
        ("S3", "U1", 30, "T1", "@Bank blocked card again", "social"),  # a repeat
        ("S4", "U1", 31, "T1", "@Bank still blocked!!", "social"),  # its turn
    ])  # fmt: skip
    marked = detect_repeats(frame)
    recent = example_cases(marked, "T1", kind="recent", n=10)
    assert recent["contact_id"].tolist() == ["S3", "S1"]
    chains = example_cases(marked, "T1", kind="repeat", n=10)
    assert chains["contact_id"].tolist() == ["S1", "S3"]
