"""Repeat complaints: which contacts are a customer coming back about a problem already raised.

A contact is a *repeat* when the same customer contacted before, within the repeat window
(default 7 days), about the same problem: the same theme, or texts whose embeddings are close
(cosine >= threshold) even when the theme model put them apart, because a customer who comes
back rephrases ("Still waiting on my refund" vs "the refund never reached my card"); with a
`ThemeMetric` (`rca.repeats.metric`), that cosine is taken in a space learnt from the fit's
own themes, where related-but-different problems are further apart. A contact
closer than the continuation interval (default 15 minutes) to the customer's previous one is a
transfer or reconnect, a *continuation*, never a repeat. When the export says which messages
belong together (`conversation_id`, `in_reply_to`: chat, messaging, social), every turn after
a conversation's first message is a continuation however long the exchange lasts, and a
repeat is a new conversation (`rca.repeats.conversations`); on messaging channels without
thread ids a customer's messages less than the session gap apart (8 hours) are one
conversation. A contact without a customer id cannot be linked to anything: it is counted
apart (`no_customer`), not as a first contact.

Two kinds of message are kept out of repeat figures altogether, each with its own status:
*small talk* that opens a conversation ("thanks!", "Happy halloween", emoji only:
`rca.text.smalltalk`) states no problem to repeat; and every message of an account that opens
more than `repeat_max_conversations_per_week` conversations (20) or sends more than
`repeat_max_messages_per_week` messages (50) in some 7 days (a contest, a bot, a reseller's
integration) is `flagged_account`: such volumes are not a customer coming back.

Each repeat points at the most recent earlier contact of the same problem (`repeat_of`); these
links form *chains* whose id is the first contact's id. A chain's problem is the first
contact's theme (`problem_theme_id`), so a paraphrased follow-up the model filed elsewhere is
still counted against the problem that caused it.

Contacts whose window has not closed by `as_of` may still be repeated: `window_closed` says so,
and rates that look forward (one-and-done) must leave them out rather than count them as
resolved.

Pure: a frame (and optionally its embeddings) in, frames out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rca.repeats.conversations import conversation_keys, has_threads
from rca.repeats.metric import ThemeMetric
from rca.settings import MESSAGING_CHANNELS, Settings
from rca.text.smalltalk import is_small_talk

FIRST, REPEAT, CONTINUATION, NO_CUSTOMER = "first", "repeat", "continuation", "no_customer"
SMALL_TALK, FLAGGED = "small_talk", "flagged_account"
STATUSES = (FIRST, REPEAT, CONTINUATION, NO_CUSTOMER, SMALL_TALK, FLAGGED)
#: Statuses left out of repeat rates (their contacts are neither attempts nor repeats).
EXCLUDED = (SMALL_TALK, FLAGGED)
#: Earlier contacts of one customer compared with each contact, at most. Keeps a very chatty
#: customer (a large seller) from making the pair count quadratic; far beyond any real chain.
MAX_LOOKBACK = 50
NO_ROW = -1
SECONDS_PER_DAY = 86_400.0
REQUIRED_COLUMNS = ("contact_id", "created_at", "customer_id", "theme_id")


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class RepeatRules:
    """The knobs of repeat detection (see Settings `repeat_*` and `messaging_channels`)."""

    window: timedelta
    continuation: timedelta
    similarity_threshold: float
    # defaulted (from Settings' own defaults) so rules built by hand need only the first three
    session_gap: timedelta = timedelta(minutes=_default("repeat_session_gap_minutes"))
    messaging_channels: frozenset[str] = frozenset(MESSAGING_CHANNELS)
    max_conversations_per_week: int = _default("repeat_max_conversations_per_week")
    max_messages_per_week: int = _default("repeat_max_messages_per_week")

    @classmethod
    def from_settings(cls, settings: Settings) -> RepeatRules:
        return cls(
            window=timedelta(days=settings.repeat_window_days),
            continuation=timedelta(minutes=settings.repeat_continuation_minutes),
            similarity_threshold=settings.repeat_similarity_threshold,
            session_gap=timedelta(minutes=settings.repeat_session_gap_minutes),
            messaging_channels=frozenset(c.casefold() for c in settings.messaging_channels),
            max_conversations_per_week=settings.repeat_max_conversations_per_week,
            max_messages_per_week=settings.repeat_max_messages_per_week,
        )

    def gaps(self, frame: pd.DataFrame) -> np.ndarray:
        """Seconds that may separate a row from its customer's previous one in one exchange."""
        gap = np.full(len(frame), self.continuation.total_seconds())
        if "channel" in frame.columns:
            channel = frame["channel"].astype("string").str.strip().str.casefold()
            messaging = channel.isin(self.messaging_channels).to_numpy(dtype=bool, na_value=False)
            gap[messaging] = max(self.session_gap, self.continuation).total_seconds()
        return gap


def default_rules() -> RepeatRules:
    """The documented defaults, without reading the environment."""
    return RepeatRules.from_settings(Settings.model_construct())


def _missing_customer(customer: pd.Series) -> np.ndarray:
    text = customer.astype("string")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)


def _same_problem(
    theme: np.ndarray,
    vectors: np.ndarray | None,
    rows: np.ndarray,
    earlier: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Same theme (both assigned), or cosine of their embeddings >= threshold (a zero row, no
    vector, matches by theme only)."""
    same = (theme[rows] == theme[earlier]) & (theme[rows] != "")
    if vectors is not None and len(rows):
        cosine = np.einsum("ij,ij->i", vectors[rows], vectors[earlier])
        same |= (cosine >= threshold) & (cosine != 0.0)
    return same


def _problems(
    conversation: np.ndarray,
    status: np.ndarray,
    theme: np.ndarray,
    vectors: np.ndarray | None,
    small_talk: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row, the theme and vector its same-problem test uses: its conversation's problem.

    A conversation states its problem in its opener (the row still `first` here) and often
    restates it in later turns ("my transfer still says pending"): a turn is a restatement when
    it is the same problem as the opener (same theme, or cosine >= threshold). The
    conversation's vector is the mean of the opener's and the restatements' vectors, so a
    customer who comes back is compared on everything they said about the problem, not on the
    wording of one message; a paraphrase the embedding puts far from one message is often near
    the mean of three. The opener, its restatements and the turns no theme took ("any news?")
    carry the conversation's theme and vector. Any other turn is a follow-up filed under a
    theme of its own ("still waiting", "not working") or another problem ("also, my card was
    stolen"): it keeps its theme, so a later conversation about that theme repeats it, but no
    vector (a zero row), because a short follow-up's wording near a new problem's is no
    evidence that the customer is back about it (measured on the messaging channel:
    experiments/results/messaging_eval.md).
    """
    n = len(status)
    heads = np.flatnonzero(status == FIRST)
    keys, codes = np.unique(conversation, return_inverse=True)
    head = np.full(len(keys), NO_ROW)
    head[codes[heads]] = heads
    head = head[codes]  # per row: its conversation's opener (NO_ROW: none states a problem)
    turns = np.flatnonzero((status == CONTINUATION) & (head != NO_ROW))
    restates = np.zeros(n, bool)
    restates[heads] = True
    restates[turns] = ~small_talk[turns] & _same_problem(
        theme, vectors, turns, head[turns], threshold
    )
    about = restates.copy()
    about[turns] |= theme[turns] == ""
    p_theme = np.where(about, theme[np.maximum(head, 0)], theme)
    if vectors is None:
        return p_theme, None
    summed = np.zeros((len(keys), vectors.shape[1]), np.float64)
    np.add.at(summed, codes[restates], vectors[restates])
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    mean = np.divide(summed, norms, out=np.zeros_like(summed), where=norms > 0)
    p_vectors = np.zeros(vectors.shape, np.float64)
    p_vectors[about] = mean[codes[about]]
    others = (status != CONTINUATION) & ~about  # no conversation of their own to speak of
    p_vectors[others] = vectors[others]
    return p_theme, p_vectors


def _roots(parent: np.ndarray) -> np.ndarray:
    """Follow parent pointers (always to an earlier row) to each row's chain root."""
    root = np.where(parent == NO_ROW, np.arange(len(parent)), parent)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def detect_repeats(
    frame: pd.DataFrame,
    vectors: np.ndarray | None = None,
    *,
    rules: RepeatRules | None = None,
    as_of: datetime | None = None,
    metric: ThemeMetric | None = None,
) -> pd.DataFrame:
    """`frame` with each contact's repeat status and chain, in the frame's row order.

    `vectors` (optional) are L2-normalised embeddings aligned with `frame`'s rows; zero rows
    mean "no vector" and only ever match by theme. Added columns: `repeat_status` (first |
    repeat | continuation | no_customer), `repeat_of` / `continuation_of` (contact id of the
    earlier contact), `days_since_previous`, `channel_hop`, `chain_id` (first contact's id, for
    every contact of a chain that has at least one repeat), `chain_pos` (1 = first), and
    `problem_theme_id`, `window_closed` (its repeat window ended by `as_of`, default: the newest
    contact).

    `metric` (optional, `rca.repeats.metric.fit_theme_metric`) judges whether a new
    conversation is about an earlier one's problem across themes by cosine in a space learnt
    from the fit's themes, at its own threshold, instead of raw cosine at the rules' threshold.
    Turns of one conversation are always compared by raw cosine.
    """
    rules = rules or default_rules()
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    if vectors is not None and len(vectors) != len(frame):
        raise ValueError(f"{len(vectors)} vectors for {len(frame)} rows")
    n = len(frame)
    created = pd.to_datetime(frame["created_at"], utc=True)
    seconds = (created - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    no_customer = _missing_customer(frame["customer_id"])
    customer = frame["customer_id"].astype("string").fillna("").to_numpy(dtype=object)
    theme = frame["theme_id"].astype("string").fillna("").to_numpy(dtype=object)
    ids = frame["contact_id"].astype(str).to_numpy(dtype=object)

    # customers' contacts in time order (ties by contact id), unknown customers left out
    order = np.lexsort((ids, seconds, customer))
    order = order[~no_customer[order]]
    cust_sorted, t_sorted = customer[order], seconds[order]
    window_s = rules.window.total_seconds()

    status = np.full(n, FIRST, dtype=object)
    status[no_customer] = NO_CUSTOMER
    gap_s = rules.gaps(frame)
    repeat_of = np.full(n, NO_ROW)
    continuation_of = np.full(n, NO_ROW)
    continuation_matches = np.zeros(n, bool)

    small_talk = _small_talk(frame)
    if has_threads(frame):
        # turns of one conversation (thread id, reply links, or the session gap) continue it
        conversation = conversation_keys(
            frame, session_gap=gap_s, customer=customer, seconds=seconds
        )
    else:
        # the session rule alone: a customer's contacts closer than the gap are one exchange
        conversation = np.arange(n, dtype=np.int64) + n  # every row its own, customers' below
        if len(order):
            opens = np.r_[True, (cust_sorted[1:] != cust_sorted[:-1])]
            opens[1:] |= (t_sorted[1:] - t_sorted[:-1]) > gap_s[order[1:]]
            conversation[order] = np.cumsum(opens)
    by_turn = np.lexsort((ids, seconds, conversation))
    opener = _openers(conversation[by_turn], small_talk[by_turn] | no_customer[by_turn])
    same = conversation[by_turn][1:] == conversation[by_turn][:-1]
    rows, earlier = by_turn[1:][same], by_turn[:-1][same]
    turn = ~no_customer[rows] & ~opener[1:][same]
    rows, earlier = rows[turn], earlier[turn]
    continuation_of[rows] = earlier
    status[rows] = CONTINUATION
    continuation_matches[rows] = _same_problem(
        theme, vectors, rows, earlier, rules.similarity_threshold
    )

    # small talk before a conversation's first problem statement (or a conversation of
    # nothing else) is no attempt at anything; the statement opens the conversation
    status[small_talk & (status == FIRST)] = SMALL_TALK
    opens = np.isin(status[order], (FIRST, SMALL_TALK))
    flagged = _busy_accounts(
        cust_sorted, t_sorted, order, opens, rules.max_conversations_per_week, n
    ) | _busy_accounts(
        cust_sorted, t_sorted, order, np.ones(len(order), bool), rules.max_messages_per_week, n
    )
    status[flagged] = FLAGGED
    continuation_of[flagged] = NO_ROW
    continuation_matches[flagged] = False
    # neither side of a repeat: no problem stated, or an account whose volume is no customer's
    comparable = ~small_talk & ~flagged
    # what each contact is about, judged on its whole conversation (see `_problems`)
    p_theme, p_vectors = _problems(
        conversation, status, theme, vectors, small_talk, rules.similarity_threshold
    )

    # a new conversation against earlier ones: in the learnt space when there is one
    judged, judge_threshold = p_vectors, rules.similarity_threshold
    if metric is not None and p_vectors is not None:
        judged, judge_threshold = metric.transform(p_vectors), metric.threshold

    # lags 1..K: the most recent earlier contact of the same problem within the window
    for lag in range(1, min(MAX_LOOKBACK, len(order) - 1) + 1):
        later, before = order[lag:], order[:-lag]
        in_window = (cust_sorted[lag:] == cust_sorted[:-lag]) & (
            t_sorted[lag:] - t_sorted[:-lag] <= window_s
        )
        if not in_window.any():
            break
        todo = (
            in_window & (status[later] == FIRST) & (repeat_of[later] == NO_ROW) & comparable[before]
        )
        rows, earlier = later[todo], before[todo]
        match = _same_problem(p_theme, judged, rows, earlier, judge_threshold)
        repeat_of[rows[match]] = earlier[match]
    status[repeat_of != NO_ROW] = REPEAT

    parent = np.where(repeat_of != NO_ROW, repeat_of, NO_ROW)
    parent = np.where(continuation_matches, continuation_of, parent)
    root = _roots(parent)
    has_repeat = np.zeros(n, bool)
    has_repeat[root[status == REPEAT]] = True
    in_chain = has_repeat[root]

    out = frame.copy()
    out["repeat_status"] = status
    out["repeat_of"] = _ids_or_none(ids, repeat_of)
    out["continuation_of"] = _ids_or_none(ids, continuation_of)
    previous = np.where(repeat_of != NO_ROW, repeat_of, continuation_of)
    has_prev = previous != NO_ROW
    days = np.full(n, np.nan)
    days[has_prev] = (seconds[has_prev] - seconds[previous[has_prev]]) / SECONDS_PER_DAY
    out["days_since_previous"] = days
    if "channel" in frame.columns:
        channel = frame["channel"].astype("string").fillna("").to_numpy(dtype=object)
        hop = np.zeros(n, bool)
        hop[has_prev] = channel[has_prev] != channel[previous[has_prev]]
        out["channel_hop"] = hop
    out["chain_id"] = np.where(in_chain, ids[root], None)
    out["chain_pos"] = _chain_positions(root, in_chain, seconds, ids)
    root_theme = theme[root]
    problem = np.where(root_theme != "", root_theme, theme)
    out["problem_theme_id"] = np.where(problem != "", problem, None)
    end = seconds.max() if as_of is None and n else _epoch_seconds(as_of)
    out["window_closed"] = seconds + window_s <= end if n else np.zeros(0, bool)
    out.attrs.update(frame.attrs)
    out.attrs["repeat_rules"] = rules
    # plain values: pandas compares attrs when frames are combined (arrays would not compare)
    out.attrs["repeat_metric"] = metric.summary() if metric is not None else None
    out.attrs["flagged_accounts"] = sorted(set(customer[flagged].tolist()))
    out.attrs["as_of"] = (
        pd.Timestamp(end, unit="s", tz="UTC") if n else (pd.Timestamp(as_of) if as_of else None)
    )
    return out


def _openers(conversation: np.ndarray, no_statement: np.ndarray) -> np.ndarray:
    """Per row, in turn order: does it open its conversation? The first row that states a
    problem does, and so does every row before it (small talk, nothing to continue); a
    conversation with no statement is opened by its first row."""
    n = len(conversation)
    if n == 0:
        return np.zeros(0, bool)
    starts = np.flatnonzero(np.r_[True, conversation[1:] != conversation[:-1]])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    position = np.arange(n)
    first_statement = np.minimum.reduceat(np.where(no_statement, n, position), starts)
    limit = np.where(first_statement < n, first_statement, starts)
    return position <= limit[group]


def _small_talk(frame: pd.DataFrame) -> np.ndarray:
    """The frame's `small_talk` column, else judged from its `text` (none without either)."""
    if "small_talk" in frame.columns:
        return frame["small_talk"].fillna(False).to_numpy(dtype=bool)
    if "text" in frame.columns:
        return is_small_talk(frame["text"])
    return np.zeros(len(frame), bool)


def _busy_accounts(
    cust_sorted: np.ndarray,
    t_sorted: np.ndarray,
    order: np.ndarray,
    counted: np.ndarray,
    limit: int,
    n: int,
) -> np.ndarray:
    """Rows (of `n`) of accounts with more than `limit` counted rows within some 7 days.

    `counted` (aligned with `order`) picks what counts: conversation openers (small talk
    included: a contest's posts are small talk as often as not), or every message. Counts in
    a window starting at each counted row, per customer.
    """
    flagged = np.zeros(n, bool)
    if counted.sum() <= limit:
        return flagged
    cust, t = cust_sorted[counted], t_sorted[counted]
    code = pd.factorize(cust)[0].astype(np.float64)
    # one sortable key: customers far apart on the line, time within a customer
    span = float(t.max() - t.min()) + 8 * SECONDS_PER_DAY
    key = code * span + (t - t.min())
    ends = np.searchsorted(key, key + 7 * SECONDS_PER_DAY, side="left")
    counts = ends - np.arange(len(key))
    busy = np.unique(cust[counts > limit])
    if busy.size:
        flagged[order] = np.isin(cust_sorted, busy)
    return flagged


def _epoch_seconds(moment: datetime | None) -> float:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return (stamp - pd.Timestamp(0, tz="UTC")).total_seconds()


def _ids_or_none(ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(len(rows), None, dtype=object)
    linked = rows != NO_ROW
    out[linked] = ids[rows[linked]]
    return out


def _chain_positions(
    root: np.ndarray, in_chain: np.ndarray, seconds: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """1-based place of each chain member by time (0 outside chains)."""
    pos = np.zeros(len(root), np.int64)
    members = np.flatnonzero(in_chain)
    if members.size:
        ranked = members[np.lexsort((ids[members], seconds[members], root[members]))]
        starts = np.r_[True, root[ranked][1:] != root[ranked][:-1]]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(ranked)), 0))
        pos[ranked] = np.arange(len(ranked)) - group_start + 1
    return pos


def repeat_chains(marked: pd.DataFrame) -> pd.DataFrame:
    """One row per chain of `detect_repeats` output: the first contact, its follow-ups and how.

    Columns: chain_id, customer_id, problem_theme_id, first_contact_id, first_at, last_at,
    contact_ids (in order, continuations included), follow_up_ids (the repeats), n_contacts,
    n_repeats, days_between (between consecutive repeats and what they repeat), span_days,
    channels, channel_hops, escalated, handle_time_s, open (the last contact's window has not
    closed: the chain may still grow).
    """
    chained = marked.loc[marked["chain_id"].notna()].sort_values(["chain_id", "chain_pos"])
    columns = [
        "chain_id", "customer_id", "problem_theme_id", "first_contact_id", "first_at", "last_at",
        "contact_ids", "follow_up_ids", "n_contacts", "n_repeats", "days_between", "span_days",
        "channels", "channel_hops", "escalated", "handle_time_s", "open",
    ]  # fmt: skip
    if chained.empty:
        return pd.DataFrame(columns=columns)
    is_repeat = chained["repeat_status"] == REPEAT
    chained = chained.assign(
        _created=pd.to_datetime(chained["created_at"], utc=True),
        _escalated=chained["is_escalation"].fillna(False).astype(bool)
        if "is_escalation" in chained.columns
        else False,
        _hop=chained["channel_hop"] if "channel_hop" in chained.columns else False,
        _channel=chained["channel"] if "channel" in chained.columns else None,
        _handle=chained["handle_time_s"] if "handle_time_s" in chained.columns else np.nan,
    )
    chains = (
        chained.groupby("chain_id", sort=False)
        .agg(
            customer_id=("customer_id", "first"),
            problem_theme_id=("problem_theme_id", "first"),
            first_contact_id=("contact_id", "first"),
            first_at=("_created", "first"),
            last_at=("_created", "last"),
            contact_ids=("contact_id", list),
            n_contacts=("contact_id", "size"),
            channels=("_channel", list),
            channel_hops=("_hop", "sum"),
            escalated=("_escalated", "any"),
            handle_time_s=("_handle", "sum"),
            _closed=("window_closed", "last"),
        )
        .reset_index()
    )
    repeats = chained.loc[is_repeat].groupby("chain_id", sort=False)
    follow_ups = repeats["contact_id"].agg(list)
    gaps = repeats["days_since_previous"].agg(lambda s: [round(float(d), 2) for d in s])
    chains["follow_up_ids"] = chains["chain_id"].map(follow_ups)
    chains["n_repeats"] = chains["follow_up_ids"].str.len().astype(np.int64)
    chains["days_between"] = chains["chain_id"].map(gaps)
    chains["span_days"] = (
        (chains["last_at"] - chains["first_at"]).dt.total_seconds() / SECONDS_PER_DAY
    ).round(2)
    chains["channel_hops"] = chains["channel_hops"].astype(np.int64)
    chains["open"] = ~chains["_closed"].astype(bool)
    return chains[columns].sort_values("first_at", kind="stable").reset_index(drop=True)


def repeat_summary(marked: pd.DataFrame) -> dict[str, int]:
    """Counts by status, and how many contacts have a still-open repeat window."""
    counts = marked["repeat_status"].value_counts()
    summary = {status: int(counts.get(status, 0)) for status in STATUSES}
    summary["contacts"] = len(marked)
    summary["chains"] = int(marked["chain_id"].nunique())
    summary["open_windows"] = int((~marked["window_closed"]).sum())
    return summary
