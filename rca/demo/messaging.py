"""The demo's messaging channel: customers write to brand accounts on a social network.

What makes it hard, on purpose (issue 18): a problem is a *conversation* of several messages,
some hours apart (the brand answers, the customer sends a DM, comes back after lunch); texts
open with the brand's @handle and carry emoji, hashtags and links; customers thank, greet
and wish a happy halloween; one promotional account floods the brand with a contest; a
customer sometimes raises a second problem in the same conversation; and only part of the
export has thread ids (replies and a thread id), the rest none, as when a social tool's export
drops them. The brand's replies are in the export too (`inbound` False), as in real ones.

The truth is computed from the generated messages by the definition, not planted flags: a
customer message is a *true repeat* when it opens a conversation and the same customer raised
the same intent in an earlier conversation whose last message on that intent (a follow-up such
as "still not working" is about its conversation's intent) is at most `WINDOW_DAYS` before it.
Continuation turns and small talk are never repeats.

Texts are Banking77's (a bank's customers; CC BY 4.0); everything else is synthetic.
Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rca.demo.corpus import B77_PREFIX

BRANDS = ("NeoBankHelp", "PayFastCare", "CardCoSupport")
WINDOW_DAYS = 7.0
THREADED_SHARE = 0.5
RETURN_SAME_P = 0.28  # a conversation the customer comes back about (1-6 days later)
RETURN_OTHER_P = 0.08  # back within the week about another problem
RETURN_LATE_P = 0.06  # back about the same problem after the window (10-25 days)
SECOND_PROBLEM_P = 0.06  # a second problem raised inside the conversation
SMALL_TALK_CONVERSATIONS = 0.06
CONTEST_MESSAGES = 56
TIME_FORMAT = "%a %b %d %H:%M:%S +0000 %Y"  # the public Twitter export's format (UTC)

SMALL_TALK = (
    "Happy halloween {brand} 🎃", "thanks {brand}!!", "{brand} love you guys ❤️", "🙏🙏",
    "{brand} good morning ☀️", "Merry christmas {brand} 🎄", "{brand} thank you so much 👍",
    "lol {brand} 😂", "{brand} ok thanks", "{brand} hi",
)  # fmt: skip
FOLLOW_UPS = (
    "{brand} DM sent", "{brand} still not working 😡", "{brand} ok thanks", "{brand} any news??",
    "{brand} done, sent you a DM", "{brand} still waiting…", "{brand} thanks, that helped 🙏",
    "{brand} 12 hours and nothing", "{brand} please hurry", "{brand} ok",
)  # fmt: skip
BRAND_REPLIES = (
    "{customer} Sorry to hear that! Please DM us and we'll take a look. ^{agent}",
    "{customer} Hi there, can you send us a DM with more details? ^{agent}",
    "{customer} Thanks for reaching out. We've replied to your DM. ^{agent}",
    "{customer} We're on it, thanks for your patience. ^{agent}",
)
AGENTS = ("JS", "MK", "AL", "RB", "TT")
DECORATIONS = ("", "", "", " 😡", " 🙄", " #fail", " #help", " https://t.co/x7Gq2", " 😤😤")
CONTEST = "{brand} RT and follow to win a £50 voucher! #giveaway #contest {n}"


@dataclass
class MessagingStream:
    """The export (one row per message, brand replies included), its truth and a manifest."""

    messages: pd.DataFrame
    truth: pd.DataFrame
    manifest: dict = field(default_factory=dict)


@dataclass
class _Message:
    message_id: int
    author: str
    inbound: bool
    at: float  # epoch seconds
    text: str
    reply_to: int | None
    thread: str | None
    conversation: int  # the generator's own conversation number (truth)
    intent: str  # "" for small talk, contest and brand replies
    turn: int  # 0 = the conversation's first message


def _intents(corpus: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    bank = corpus.loc[corpus["intent"].str.startswith(B77_PREFIX)]
    groups = {k: v.to_numpy(dtype=object) for k, v in bank.groupby("intent")["text"]}
    names = np.array(sorted(groups), dtype=object)
    return names, groups


def generate_messaging(
    corpus: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    conversations: int = 2_000,
    seed: int = 0,
) -> MessagingStream:
    """About `conversations` customer conversations between `start` and `end` (UTC)."""
    rng = np.random.default_rng(seed + 18)
    names, texts = _intents(corpus)
    popularity = rng.dirichlet(np.full(len(names), 0.6))
    t0, t1 = start.timestamp(), end.timestamp()
    messages: list[_Message] = []
    next_id = [1_000_001]
    conversation_no = [0]

    def new_id() -> int:
        next_id[0] += 1
        return next_id[0]

    def phrase(intent: str) -> str:
        pool = texts[intent]
        return str(pool[rng.integers(len(pool))])

    def conversation(author: str, at: float, intent: str, brand: str) -> float:
        """One problem conversation from `at`; returns the time of its last message."""
        conversation_no[0] += 1
        number = conversation_no[0]
        threaded = rng.random() < THREADED_SHARE
        thread = f"TH{number:06d}" if threaded else None
        first = new_id()
        deco = DECORATIONS[rng.integers(len(DECORATIONS))]
        text = f"@{brand} {phrase(intent)}{deco}"
        messages.append(_Message(first, author, True, at, text, None, thread, number, intent, 0))
        previous, t = first, at
        turns = int(rng.choice([1, 2, 3, 4, 5], p=[0.15, 0.35, 0.25, 0.15, 0.10]))
        second = rng.random() < SECOND_PROBLEM_P
        for k in range(turns):
            # the brand answers, then the customer; some pauses last hours
            t += float(rng.uniform(120, 2_400))
            reply = new_id()
            agent = AGENTS[rng.integers(len(AGENTS))]
            body = BRAND_REPLIES[rng.integers(len(BRAND_REPLIES))]
            messages.append(
                _Message(
                    reply, brand, False, t, body.format(customer=f"@{author}", agent=agent),
                    previous if threaded else None, thread, number, "", -1,
                )
            )  # fmt: skip
            pause = rng.random()
            t += float(
                rng.uniform(60, 1_800)
                if pause < 0.7
                else rng.uniform(1_800, 3 * 3_600)
                if pause < 0.95
                else rng.uniform(3 * 3_600, 6 * 3_600)
            )
            if second and k == 0:
                turn_intent = str(names[rng.choice(len(names), p=popularity)])
                text = f"@{brand} also, {phrase(turn_intent)}"
            elif rng.random() < 0.3:
                turn_intent = intent
                text = f"@{brand} {phrase(intent)}"
            else:
                turn_intent = ""
                text = FOLLOW_UPS[rng.integers(len(FOLLOW_UPS))].format(brand=f"@{brand}")
            previous = new_id()
            messages.append(
                _Message(
                    previous, author, True, t, text, reply if threaded else None, thread,
                    number, turn_intent, k + 1,
                )
            )  # fmt: skip
        return t

    n_customers = max(1, int(conversations / 1.45))
    for c in range(n_customers):
        author = str(700_000 + c * 7 + int(rng.integers(7)))
        brand = BRANDS[rng.integers(len(BRANDS))]
        at = float(rng.uniform(t0, t1 - 8 * 86_400))
        intent = str(names[rng.choice(len(names), p=popularity)])
        last = conversation(author, at, intent, brand)
        draw = rng.random()
        if draw < RETURN_SAME_P:
            for _ in range(int(rng.choice([1, 2], p=[0.8, 0.2]))):
                at = last + float(rng.uniform(1.0, 6.0)) * 86_400
                if at > t1:
                    break
                last = conversation(author, at, intent, brand)
        elif draw < RETURN_SAME_P + RETURN_OTHER_P:
            other = str(names[rng.choice(len(names), p=popularity)])
            at = last + float(rng.uniform(1.0, 6.0)) * 86_400
            if at < t1:
                conversation(author, at, other, brand)
        elif draw < RETURN_SAME_P + RETURN_OTHER_P + RETURN_LATE_P:
            at = last + float(rng.uniform(10.0, 25.0)) * 86_400
            if at < t1:
                conversation(author, at, intent, brand)
        if rng.random() < SMALL_TALK_CONVERSATIONS:
            # a greeting or a thanks of its own, a day or more later: never a problem
            conversation_no[0] += 1
            at = last + float(rng.uniform(1.0, 3.0)) * 86_400
            if at < t1:
                text = SMALL_TALK[rng.integers(len(SMALL_TALK))].format(brand=f"@{brand}")
                messages.append(
                    _Message(new_id(), author, True, at, text, None, None, conversation_no[0],
                             "", 0)
                )  # fmt: skip
    # the contest: one account, 56 posts over three days
    contest_start = float(rng.uniform(t0, t1 - 4 * 86_400))
    for k in range(CONTEST_MESSAGES):
        conversation_no[0] += 1
        at = contest_start + k * (3 * 86_400 / CONTEST_MESSAGES)
        text = CONTEST.format(brand=f"@{BRANDS[0]}", n=k + 1)
        messages.append(
            _Message(new_id(), "PromoDeals4U", True, at, text, None, None, conversation_no[0],
                     "", 0)
        )  # fmt: skip
    return _assemble(messages)


def _assemble(messages: list[_Message]) -> MessagingStream:
    frame = pd.DataFrame([m.__dict__ for m in messages]).sort_values(["at", "message_id"])
    frame = frame.reset_index(drop=True)
    stamps = pd.to_datetime(frame["at"], unit="s", utc=True)
    export = pd.DataFrame(
        {
            "tweet_id": frame["message_id"].astype(str),
            "author_id": frame["author"],
            "inbound": frame["inbound"].map({True: "True", False: "False"}),
            "created_at": stamps.dt.strftime(TIME_FORMAT),
            "text": frame["text"],
            "in_response_to_tweet_id": frame["reply_to"].map(
                lambda v: "" if pd.isna(v) else str(int(v))
            ),
            "thread_id": frame["thread"].fillna(""),
        }
    )
    truth = _truth(frame)
    customers = truth.loc[truth["kind"] != "contest"]
    manifest = {
        "brands": list(BRANDS),
        "messages": len(frame),
        "customer_messages": int(frame["inbound"].sum()),
        "brand_messages": int((~frame["inbound"]).sum()),
        "conversations": int(customers.loc[customers["turn"] == 0, "conversation"].nunique()),
        "threaded_share": THREADED_SHARE,
        "true_repeats": int(truth["is_repeat"].sum()),
        "continuation_turns": int((truth["turn"] > 0).sum()),
        "small_talk_conversations": int((truth["kind"] == "small_talk").sum()),
        "contest_account": {"author_id": "PromoDeals4U", "messages": CONTEST_MESSAGES},
        "window_days": WINDOW_DAYS,
        "definition": "a true repeat opens a conversation whose intent the same customer "
        "raised in an earlier conversation at most 7 days before",
    }
    return MessagingStream(export, truth, manifest)


def _truth(frame: pd.DataFrame) -> pd.DataFrame:
    """Per customer message: its conversation, turn, intent, kind and whether it repeats."""
    inbound = frame.loc[frame["inbound"]].copy()
    inbound["kind"] = np.where(
        inbound["author"] == "PromoDeals4U",
        "contest",
        np.where(inbound["intent"] == "", np.where(inbound["turn"] == 0, "small_talk", "turn"),
                 np.where(inbound["turn"] == 0, "opener", "turn")),
    )  # fmt: skip
    # a follow-up without a problem of its own ("still not working") is about its
    # conversation's problem: the window runs from the latest message about it
    opened = inbound.loc[inbound["turn"] == 0].set_index("conversation")["intent"]
    about = inbound["intent"].where(
        inbound["intent"] != "", inbound["conversation"].map(opened).fillna("")
    )
    is_repeat = np.zeros(len(inbound), bool)
    last_seen: dict[tuple[str, str], tuple[float, int]] = {}
    for i, (row, problem) in enumerate(zip(inbound.itertuples(index=False), about, strict=True)):
        key = (row.author, row.intent)
        if row.kind == "opener":
            seen = last_seen.get(key)
            if seen and seen[1] != row.conversation and row.at - seen[0] <= WINDOW_DAYS * 86_400:
                is_repeat[i] = True
        if problem:
            last_seen[(row.author, problem)] = (row.at, row.conversation)
    return pd.DataFrame(
        {
            "contact_id": inbound["message_id"].astype(str).to_numpy(),
            "conversation": inbound["conversation"].to_numpy(),
            "turn": inbound["turn"].to_numpy(),
            "intent": inbound["intent"].to_numpy(),
            "kind": inbound["kind"].to_numpy(),
            "threaded": inbound["thread"].notna().to_numpy(),
            "is_repeat": is_repeat,
        }
    )
