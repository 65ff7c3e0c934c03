"""Conversations: which messages are turns of one exchange, so that a reply is never a repeat.

Chat, messaging and social channels deliver one problem as many messages: "still not
working", "thanks", a DM request answered. A repeat complaint is a customer opening a *new*
conversation about a problem already raised; turns inside one are continuations. Messages
join one conversation when:

- they carry the same `conversation_id` *and* the same customer (an id reused by another
  customer is another conversation: exports recycle ticket and thread numbers);
- one replies to the other (`in_reply_to` is the other's `contact_id`), or both reply to the
  same message (two customer replies to one agent message that is not itself a contact); a
  reply whose parent is not in the data continues the customer's latest conversation;
- they carry neither field and follow the same customer's previous message within the
  session gap: `repeat_session_gap_minutes` (8 hours) on messaging channels, where one
  exchange goes on for hours; `repeat_continuation_minutes` (15 minutes) elsewhere, a
  transfer or a reconnect, the contact-centre convention of not counting a transfer as a
  repeat. The caller passes the gap per row (the later message's channel decides).

Pure: a frame in, one integer conversation key per row out (union-find over the rules).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

THREAD_COLUMNS = ("conversation_id", "in_reply_to")


def has_threads(frame: pd.DataFrame) -> bool:
    """Does the frame carry any conversation or reply information at all?"""
    return any(c in frame and _present(frame[c]).any() for c in THREAD_COLUMNS)


def conversation_keys(
    frame: pd.DataFrame,
    *,
    session_gap: timedelta | np.ndarray,
    customer: np.ndarray,
    seconds: np.ndarray,
) -> np.ndarray:
    """A conversation number per row (rows of one conversation share it).

    `customer` (object array, "" = unknown) and `seconds` (epoch seconds) are the caller's,
    aligned with `frame`'s rows; a row without a customer is a conversation of its own unless
    an explicit reply links it. `session_gap` is one gap, or seconds per row (the gap that
    may precede that row).
    """
    n = len(frame)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: np.ndarray, b: np.ndarray) -> None:
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)

    explicit = np.zeros(n, bool)
    if "conversation_id" in frame:
        conv = frame["conversation_id"]
        known = _present(conv) & (customer != "")
        explicit |= known
        keys = pd.Series(list(zip(customer, conv.astype("string").fillna(""), strict=True)))
        _union_groups(keys.where(known), union)
    if "in_reply_to" in frame:
        reply = frame["in_reply_to"].astype("string").reset_index(drop=True)
        known = _present(reply)
        explicit |= known
        position = pd.Series(np.arange(n), index=frame["contact_id"].astype(str).to_numpy())
        position = position[~position.index.duplicated()]
        target = reply.map(position)
        linked = known & target.notna()
        union(np.flatnonzero(linked), target[linked].astype(np.int64).to_numpy())
        _union_groups(reply.where(known), union)  # siblings: replies to one message
        orphan = known & ~linked.to_numpy()
    else:
        orphan = np.zeros(n, bool)
    # the session rule for rows with no thread information; and a reply whose parent is not
    # in the data (an agent's message) is a turn of the customer's latest conversation: a
    # reply never opens a new one
    order = np.lexsort((seconds, customer))
    same = customer[order][1:] == customer[order][:-1]
    later, earlier = order[1:], order[:-1]
    gap = (
        np.full(n, session_gap.total_seconds())
        if isinstance(session_gap, timedelta)
        else np.asarray(session_gap, dtype=np.float64)
    )
    close = (seconds[later] - seconds[earlier]) <= gap[later]
    session = same & (customer[later] != "") & ((close & ~explicit[later]) | orphan[later])
    union(later[session], earlier[session])
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def _present(values: pd.Series) -> np.ndarray:
    text = values.astype("string")
    return (text.notna() & (text.str.strip() != "")).to_numpy(dtype=bool, na_value=False)


def _union_groups(keys: pd.Series, union: object) -> None:
    """Join every row sharing a non-null key with the group's first row."""
    valid = keys.dropna()
    if valid.empty:
        return
    codes = pd.factorize(valid)[0]
    rows = valid.index.to_numpy()
    first = pd.Series(rows).groupby(codes).transform("first").to_numpy()
    union(rows, first)  # type: ignore[operator]


#: Reply hops followed through the company's own messages (customer -> agent -> customer ...).
MAX_CONTEXT_HOPS = 10


def through_context(in_reply_to: pd.Series, context: pd.DataFrame) -> pd.Series:
    """Replies to the company's messages re-pointed at the customer message those answered.

    In a mixed export a customer's "still broken" replies to the agent's "please DM us", which
    replied to the customer's first message; `context` (message_id, in_reply_to of outbound
    messages, kept out of the contacts) closes that gap so both customer messages are one
    conversation. A reply whose chain leaves the data keeps its original target.
    """
    if context.empty or in_reply_to.isna().all():
        return in_reply_to
    parent = dict(
        zip(context["message_id"].astype(str), context["in_reply_to"].astype(str), strict=True)
    )
    values = pd.Series(in_reply_to.astype(object).to_numpy(copy=True), index=in_reply_to.index,
                       name=in_reply_to.name, dtype=object)  # fmt: skip
    for _ in range(MAX_CONTEXT_HOPS):
        hop = values.map(parent)  # NaN where the target is no outbound message
        moved = hop.notna().to_numpy(dtype=bool)
        if not moved.any():
            break
        values[moved] = hop[moved]
    return values
