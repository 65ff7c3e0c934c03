"""A realistic marketplace contact stream built from real support texts, with planted events.

Why: themes, spikes, root causes and repeat complaints can only be evaluated against known
answers. The *texts* are real (Banking77, Bitext); everything around them (timestamps,
customers, channels, markets, app versions, outcomes) is synthetic and made here. The true
intent and every planted event go to a separate ``truth`` frame and a manifest, never into
``contacts``, so that root-cause mining cannot see the answer.

How, in one pass of vectorised numpy:

1. *Primary* contacts (one per issue) are spread over (day, intent) cells by a multinomial:
   day volume has a weekly cycle and ~1 %/week growth, intent popularity is Zipf-like, and
   planted events add their own components (burst, slow rise, new theme).
2. Some primaries become heads of *repeat chains* (2-4 contacts, same problem, different
   paraphrase, 1-6 days apart). Heads are taken in order of ``u / p_intent`` until the
   follow-ups fill their budget: close to a Bernoulli draw with the intent's repeat rate,
   but hitting an exact row count.
3. A few primaries get a *continuation* (a transfer 2-10 minutes later: not a repeat), and
   some customers come back about a *different* issue (within a week, or weeks later).
4. Outcomes (escalation, handle time, resolution, CSAT) and light text decoration are drawn
   last, from the intent's difficulty, the channel and the contact's place in a chain.

Truth columns: ``chain_id``/``chain_pos`` describe repeat chains only (``R000001``, positions
1-4; empty/0 elsewhere). ``planted`` holds one label: ``burst``, ``slow_rise``, ``new_theme``
(the event's extra contacts and their follow-ups), ``continuation`` (the transferred contact;
its original is in the manifest), ``different_issue`` / ``returning_customer`` (the second
contact of a customer who came back about another intent), or empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.demo.corpus import BITEXT_SOURCE, load_corpus

# --- calendar -------------------------------------------------------------------------------
MIN_WEEKS = 6  # the planted events use the last 4 weeks and need a baseline before them
MIN_CONTACTS = 100
WEEKLY_GROWTH = 0.01
#: Monday..Sunday; weekend is ~45 % of a weekday.
DOW_FACTOR = np.array([1.12, 1.06, 1.0, 0.98, 0.9, 0.42, 0.36])
DAY_NOISE_SHAPE = 150.0  # gamma shape: ~8 % day-to-day noise
CELL_NOISE_SHAPE = 40.0  # gamma shape: ~16 % noise per (day, intent)
#: Local hour-of-day weights: office hours busy, nights quiet; weekends flatter and later.
HOURLY_WEEKDAY = np.array(
    [0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.7, 1.2, 1.8, 2.0, 2.0,
     1.7, 1.8, 1.9, 1.8, 1.6, 1.2, 0.9, 0.8, 0.7, 0.6, 0.45, 0.3]
)  # fmt: skip
HOURLY_WEEKEND = np.array(
    [0.25, 0.18, 0.12, 0.1, 0.1, 0.12, 0.2, 0.35, 0.6, 0.9, 1.1, 1.2,
     1.2, 1.2, 1.15, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.55, 0.4]
)  # fmt: skip

# --- attributes -----------------------------------------------------------------------------
CHANNELS = ("email", "chat", "phone", "web_form", "app")
#: Channel mix by intent difficulty (easy, medium, hard): hard problems go to the phone.
CHANNEL_P = np.array(
    [
        [0.28, 0.36, 0.08, 0.12, 0.16],
        [0.30, 0.33, 0.13, 0.10, 0.14],
        [0.28, 0.30, 0.22, 0.08, 0.12],
    ]
)
FOLLOWUP_CHANNEL_P = np.array([0.25, 0.25, 0.35, 0.05, 0.10])
FOLLOWUP_SWITCH_P = 0.6
TRANSFER_CHANNEL_P = np.array([0.2, 0.3, 0.5, 0.0, 0.0])
TRANSFER_SWITCH_P = 0.5
MARKETS = ("UK", "DE", "FR", "ES", "US", "IT", "NL")
MARKET_P = np.array([0.34, 0.18, 0.13, 0.10, 0.12, 0.08, 0.05])
SELLER_TIERS = ("bronze", "silver", "gold", "platinum")
SELLER_TIER_P = np.array([0.58, 0.25, 0.12, 0.05])
APP_VERSIONS = ("5.10.0", "5.11.0", "5.12.1", "5.13.0", "5.14.0", "5.14.2")
#: Release of each version in days before `end` (the oldest is everywhere from the start).
APP_RELEASE_DAYS_BEFORE_END = (10_000, 104, 82, 60, 38, 20)
APP_ADOPTION_CAP = 0.9  # some users never upgrade
APP_ADOPTION_LAG_DAYS = 14.0
APP_ADOPTION_SCALE_DAYS = 8.0
AREA_NOISE_P = 0.07  # agents pick the wrong product area now and then

# --- planted events -------------------------------------------------------------------------
BURST_INTENT = "b77:card_payment_not_recognised"
BURST_MARKET = "DE"
BURST_APP_VERSION = "5.14.2"
BURST_WEEKS = 2
BURST_MULTIPLIER = 3.5
BURST_MARKET_P = 0.85
BURST_APP_VERSION_P = 0.9
SLOW_RISE_INTENT = "bitext:delivery_period"
SLOW_RISE_WEEKS = 4
SLOW_RISE_GROWTH = 0.3  # compounding per week: x1.3, x1.69, x2.2, x2.86
NEW_THEME_INTENT = "b77:virtual_card_not_working"
#: Share of the day's base volume in each of the last weeks (ramping up).
NEW_THEME_SHARE = (0.05, 0.075, 0.10)
WORST_REPEAT_INTENT = "b77:Refund_not_showing_up"
WORST_REPEAT_RATE = 0.35
PLANTED_INTENTS = (BURST_INTENT, SLOW_RISE_INTENT, NEW_THEME_INTENT, WORST_REPEAT_INTENT)
#: Popularity rank within the dataset (0 = most common) forced on planted intents.
FORCED_RANKS = {WORST_REPEAT_INTENT: 1, BURST_INTENT: 4, SLOW_RISE_INTENT: 2}
ZIPF_OFFSET = 4.0
ZIPF_EXPONENT = 1.1
#: Volume share per dataset (a marketplace hears about orders and refunds as much as money).
SOURCE_SHARE = {"banking77": 0.6, "bitext": 0.4}

LABELS = (
    "",
    "burst",
    "slow_rise",
    "new_theme",
    "continuation",
    "different_issue",
    "returning_customer",
)
PLAIN, BURST, SLOW_RISE, NEW_THEME, CONTINUATION, DIFFERENT_ISSUE, RETURNING = range(7)

# --- customers, chains, continuations -------------------------------------------------------
EASY, MEDIUM, HARD = 0, 1, 2
REPEAT_RATE = np.array([0.04, 0.08, 0.15])  # share of an intent's issues that come back
CHAIN_FOLLOWUPS_P = np.array([0.62, 0.26, 0.12])  # 1, 2 or 3 follow-ups: chains of 2-4
GAP_DAYS_P = np.array([0.35, 0.25, 0.18, 0.12, 0.10])  # 1..5 days (+ time of day): 1-6 days
CONTINUATION_RATE = 0.015
CONTINUATION_GAP_S = (120, 600)
CONTINUATION_SAME_TEXT_P = 0.55
DIFFERENT_ISSUE_RATE = 0.03
DIFFERENT_ISSUE_GAP_S = (2 * 3600, 7 * 86400)
RETURNING_RATE = 0.05
RETURNING_GAP_S = (14 * 86400, 56 * 86400)
NO_CUSTOMER_RATE = 0.03
CUSTOMER_ID_WIDTH = 7
CHAIN_ID_WIDTH = 6

# --- outcomes -------------------------------------------------------------------------------
ESC_BASE = -3.8
ESC_DIFFICULTY = 0.9
ESC_CHANNEL = np.array([0.0, 0.2, 0.5, -0.2, -0.1])
ESC_TIER = np.array([0.0, 0.1, 0.25, 0.45])
ESC_PER_FOLLOWUP = 0.7
ESC_CONTINUATION = 1.2
ESC_WORST = 0.5
ESC_NOISE = 0.4
HANDLE_MEDIAN_S = np.array([360.0, 540.0, 720.0, 300.0, 420.0])  # by channel: phone longest
HANDLE_DIFFICULTY = 0.25  # log-scale step per difficulty level
HANDLE_ESCALATED = 1.6
HANDLE_FOLLOWUP = 1.15
HANDLE_SIGMA = 0.55
HANDLE_BOUNDS_S = (15, 4 * 3600)
RESOLUTION_P = 0.4
ESCALATED_NOTE = "Escalated to specialist team"
ESCALATED_NOTE_P = 0.5
CSAT_P = 0.3
CSAT_BASE = 4.3
CSAT_DIFFICULTY = -0.35
CSAT_ESCALATED = -1.1
CSAT_FOLLOWUP = -0.6
CSAT_CONTINUATION = -0.3
CSAT_NOISE = 1.0

# --- text decoration ------------------------------------------------------------------------
GREETINGS = ("Hi team, ", "Hello, ", "Hi there, ", "Good morning, ", "Hey, ")
GREETING_P = np.array([0.25, 0.03, 0.0, 0.25, 0.02])  # by channel
SIGNOFFS = (
    "\n\nThanks,\n{first}",
    "\n\nRegards,\n{first} {last}",
    "\n\nCheers,\n{first}",
    "\n\nKind regards,\n{first}",
)
SIGNOFF_P = np.array([0.3, 0.0, 0.0, 0.1, 0.0])
FOLLOWUP_PREFIX_P = 0.5
FOLLOWUP_PREFIXES_SECOND = (
    "Still waiting on this. ",
    "Second time asking: ",
    "Following up on my earlier message. ",
    "I contacted you about this already. ",
)
FOLLOWUP_PREFIXES_LATER = (
    "This is the third time I'm asking. ",
    "Still no answer. ",
    "Nobody has fixed this yet. ",
    "Chasing again: ",
)
PII_P = 0.03
PII_KINDS = ("email", "phone", "order", "card")
PII_KIND_P = np.array([0.35, 0.3, 0.25, 0.1])
FAKE_CARD = "4111 1111 1111 1111"
FIRST_NAMES = ("Sam", "Alex", "Priya", "Jonas", "Marie", "Lucia", "Tom", "Aisha", "Marco",
               "Eva", "Noah", "Chloe", "Ravi", "Ines")  # fmt: skip
LAST_NAMES = ("Smith", "Patel", "Muller", "Dubois", "Garcia", "Rossi", "Visser", "Jones",
              "Khan", "Novak")  # fmt: skip

# --- intents: product area, difficulty, resolution notes ------------------------------------
AREA_INTENTS: dict[str, tuple[str, ...]] = {
    "cards": tuple("b77:" + i for i in (
        "card_arrival", "card_linking", "card_delivery_estimate", "card_not_working",
        "lost_or_stolen_card", "pin_blocked", "contactless_not_working", "getting_virtual_card",
        "get_physical_card", "visa_or_mastercard", "disposable_card_limits", "compromised_card",
        "change_pin", "getting_spare_card", "order_physical_card", "virtual_card_not_working",
        "get_disposable_virtual_card", "activate_my_card", "card_about_to_expire",
        "apple_pay_or_google_pay", "card_swallowed", "card_acceptance",
        "supported_cards_and_currencies",
    )),
    "payments": tuple("b77:" + i for i in (
        "extra_charge_on_statement", "card_payment_fee_charged", "card_payment_not_recognised",
        "direct_debit_payment_not_recognised", "pending_card_payment", "declined_card_payment",
        "transaction_charged_twice", "reverted_card_payment?", "card_payment_wrong_exchange_rate",
        "exchange_rate", "fiat_currency_support", "exchange_via_app", "exchange_charge",
    )) + ("bitext:check_payment_methods", "bitext:payment_issue"),
    "transfers": tuple("b77:" + i for i in (
        "cancel_transfer", "transfer_not_received_by_recipient", "declined_transfer",
        "pending_transfer", "transfer_timing", "beneficiary_not_allowed", "transfer_fee_charged",
        "receiving_money", "failed_transfer", "transfer_into_account",
        "balance_not_updated_after_bank_transfer",
    )),
    "top_up": tuple("b77:" + i for i in (
        "automatic_top_up", "top_up_by_bank_transfer_charge", "pending_top_up", "top_up_limits",
        "top_up_reverted", "topping_up_by_card", "verify_top_up", "top_up_by_cash_or_cheque",
        "top_up_failed", "top_up_by_card_charge",
        "balance_not_updated_after_cheque_or_cash_deposit",
    )),
    "cash": tuple("b77:" + i for i in (
        "pending_cash_withdrawal", "wrong_amount_of_cash_received", "atm_support",
        "declined_cash_withdrawal", "wrong_exchange_rate_for_cash_withdrawal",
        "cash_withdrawal_not_recognised", "cash_withdrawal_charge",
    )),
    "account": tuple("b77:" + i for i in (
        "age_limit", "edit_personal_details", "passcode_forgotten", "lost_or_stolen_phone",
        "terminate_account", "country_support",
    )) + tuple("bitext:" + i for i in (
        "create_account", "delete_account", "edit_account", "recover_password",
        "registration_problems", "switch_account", "newsletter_subscription",
    )),
    "verification": tuple("b77:" + i for i in (
        "why_verify_identity", "unable_to_verify_identity", "verify_source_of_funds",
        "verify_my_identity",
    )),
    "refunds": ("b77:request_refund", "b77:Refund_not_showing_up", "bitext:check_refund_policy",
                "bitext:get_refund", "bitext:track_refund"),
    "orders": tuple("bitext:" + i for i in (
        "cancel_order", "change_order", "place_order", "check_cancellation_fee",
    )),
    "delivery": tuple("bitext:" + i for i in (
        "track_order", "change_shipping_address", "set_up_shipping_address", "delivery_options",
        "delivery_period",
    )),
    "invoices": ("bitext:check_invoice", "bitext:get_invoice"),
    "feedback": ("bitext:complaint", "bitext:review"),
    "support": ("bitext:contact_customer_service", "bitext:contact_human_agent"),
}  # fmt: skip
OTHER_AREA = "other"
AREAS = (*AREA_INTENTS, OTHER_AREA)
#: Intents that take investigation, money back or a new card; everything else not EASY is medium.
HARD_INTENTS = tuple("b77:" + i for i in (
    "compromised_card", "card_payment_not_recognised", "transaction_charged_twice",
    "direct_debit_payment_not_recognised", "cash_withdrawal_not_recognised",
    "Refund_not_showing_up", "lost_or_stolen_card", "wrong_amount_of_cash_received",
    "transfer_not_received_by_recipient", "unable_to_verify_identity", "card_swallowed",
    "lost_or_stolen_phone", "failed_transfer", "top_up_reverted",
)) + ("bitext:complaint", "bitext:payment_issue", "bitext:track_refund", "bitext:get_refund",
      "bitext:contact_human_agent")  # fmt: skip
#: Questions answered from a help article.
EASY_INTENTS = tuple("b77:" + i for i in (
    "exchange_rate", "fiat_currency_support", "age_limit", "visa_or_mastercard",
    "supported_cards_and_currencies", "country_support", "card_delivery_estimate",
    "top_up_limits", "disposable_card_limits", "why_verify_identity", "apple_pay_or_google_pay",
    "getting_virtual_card", "get_physical_card", "getting_spare_card", "order_physical_card",
)) + tuple("bitext:" + i for i in (
    "check_payment_methods", "check_refund_policy", "check_cancellation_fee", "delivery_options",
    "newsletter_subscription", "review", "check_invoice", "get_invoice", "create_account",
    "place_order",
))  # fmt: skip
AREA_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "cards": ("Card re-sent", "Card frozen and replacement ordered", "Explained card activation",
              "Card unblocked"),
    "payments": ("Explained pending payment", "Payment dispute opened", "Merchant details shared",
                 "Explained exchange rates"),
    "transfers": ("Transfer traced", "Explained transfer timings", "Transfer resubmitted",
                  "Beneficiary details corrected"),
    "top_up": ("Top-up reversed", "Explained top-up limits", "Top-up credited manually"),
    "cash": ("ATM claim raised", "Explained withdrawal fees", "Cash difference refunded"),
    "account": ("Account details updated", "Passcode reset", "Explained eligibility"),
    "verification": ("Explained verification steps", "Documents re-requested",
                     "Verification approved"),
    "refunds": ("Refund issued", "Refund status shared", "Explained refund policy"),
    "orders": ("Order cancelled", "Order amended", "Explained cancellation fee"),
    "delivery": ("Tracking link sent", "Address updated", "Explained delivery options",
                 "Courier claim raised"),
    "invoices": ("Invoice re-sent", "Invoice corrected"),
    "feedback": ("Complaint logged", "Apology and goodwill credit", "Review link sent"),
    "support": ("Callback scheduled", "Transferred to agent", "Contact hours shared"),
    OTHER_AREA: ("Advice given", "No action needed"),
}  # fmt: skip
INTENT_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "b77:card_arrival": ("Card re-sent", "Delivery estimate shared"),
    "b77:lost_or_stolen_card": ("Card cancelled and replaced",),
    "b77:compromised_card": ("Card cancelled and replaced", "Fraud case opened"),
    "b77:card_payment_not_recognised": ("Merchant details shared", "Chargeback raised",
                                        "Card frozen pending review"),
    "b77:transaction_charged_twice": ("Duplicate charge reversed", "Explained pending hold"),
    "b77:Refund_not_showing_up": ("Refund traced with merchant", "Refund issued",
                                  "Explained refund timings"),
    "b77:request_refund": ("Refund issued", "Chargeback raised"),
    "b77:pin_blocked": ("PIN unblocked",),
    "b77:passcode_forgotten": ("Passcode reset",),
    "b77:verify_my_identity": ("Explained verification steps",),
    "b77:unable_to_verify_identity": ("Explained verification steps", "Documents re-requested"),
    "b77:terminate_account": ("Account closure processed",),
    "b77:virtual_card_not_working": ("Virtual card reissued", "Known issue: fix in progress"),
    "bitext:get_refund": ("Refund issued",),
    "bitext:track_refund": ("Refund status shared",),
    "bitext:track_order": ("Tracking link sent",),
    "bitext:delivery_period": ("Delivery estimate shared", "Courier chased"),
    "bitext:cancel_order": ("Order cancelled",),
    "bitext:recover_password": ("Password reset link sent",),
    "bitext:delete_account": ("Account closure processed",),
    "bitext:complaint": ("Complaint logged", "Apology and goodwill credit"),
}  # fmt: skip

ATTRIBUTION = {
    "note": (
        "Texts are real dataset utterances; timestamps, customers, channels, attributes, "
        "outcomes and planted events are synthetic (rca.demo)."
    ),
    "banking77": (
        "Banking77, CC BY 4.0. Casanueva, Temcinas, Gerz, Henderson, Vulic. 'Efficient Intent "
        "Detection with Dual Sentence Encoders.' 2020. arXiv:2003.04807. "
        "https://github.com/PolyAI-LDN/task-specific-datasets"
    ),
    "bitext": (
        "Bitext customer-service intents (sample), Community Data License Agreement - "
        "Sharing 1.0 (CDLA-Sharing-1.0); see data/bitext/LICENSE_CDLA-Sharing-1.0.txt."
    ),
}
# --- who handled it (issue 20): three BPO vendors, 2-3 sites each, agents per site ------------
VENDOR_SITES = {
    "Northwind": ("Northwind-Manila", "Northwind-Cebu", "Northwind-Davao"),
    "Meridian": ("Meridian-Pune", "Meridian-Hyderabad"),
    "Keystone": ("Keystone-Lisbon", "Keystone-Porto"),
}
AGENTS_PER_SITE = 6
#: Planted: Meridian gets most of the hardest intents (worse raw repeat rate, normal adjusted).
HARD_MIX_VENDOR = "Meridian"
HARD_MIX_SHARE = 0.7  # of hard-intent contacts routed to it (others split the rest)
#: Planted: this site's resolutions of the worst-repeat intent bring twice the returns.
WEAK_SITE = "Northwind-Cebu"
WEAK_SITE_SHARE = 0.25  # of that intent's first contacts handled there
WEAK_SITE_FACTOR = 2.0
#: Planted: this site's handle time jumps in one week (counted back from the window's end).
AHT_JUMP_SITE = "Keystone-Porto"
AHT_JUMP_WEEKS_BEFORE_END = 3
AHT_JUMP_FACTOR = 1.8
#: Its own random stream, so adding handlers left every other column byte-identical.
HANDLER_SEED_SALT = 20

CONTACT_SCHEMA = {
    "contact_id": "string, unique, C + zero-padded number in time order",
    "created_at": "string, ISO 8601 local time of tz with UTC offset",
    "text": "string, contact text (real dataset utterance, sometimes decorated)",
    "customer_id": "string, empty when unknown",
    "channel": "string: " + "/".join(CHANNELS),
    "is_escalation": "bool",
    "handle_time_s": "int64, seconds",
    "resolution": "string, short note or empty",
    "csat": "Int64 1-5 or empty",
    "market": "string: " + "/".join(MARKETS),
    "seller_tier": "string: " + "/".join(SELLER_TIERS),
    "product_area": "string: " + "/".join(AREAS),
    "app_version": "string: " + "/".join(APP_VERSIONS),
    "vendor": "string: " + "/".join(VENDOR_SITES),
    "site": "string, the vendor's site",
    "agent_id": "string, agent id (pseudonymised when shown)",
}
TRUTH_SCHEMA = {
    "contact_id": "string, joins contacts",
    "intent": "string, true intent (b77:... or bitext:...)",
    "source": "string: banking77/bitext",
    "chain_id": "string, repeat chain id R000001..., empty when not in a repeat chain",
    "chain_pos": "int64, 1 = first contact of the chain, 2-4 follow-ups, 0 = not in a chain",
    "planted": "string: " + "/".join(label or "(empty)" for label in LABELS),
}


@dataclass(frozen=True)
class DemoConfig:
    """What to generate; the same config always gives byte-identical output."""

    n_contacts: int = 20_000
    weeks: int = 16
    seed: int = 0
    end: date = date(2026, 11, 22)  # a Sunday; the stream covers the `weeks` ISO weeks ending here
    tz: str = "Europe/London"
    sop_changes: bool = False  # plant `rca.demo.planted_sop`'s SOP changes (as `rca demo` does)

    @property
    def start(self) -> date:
        """The Monday that opens the window."""
        return self.end - timedelta(days=7 * self.weeks - 1)


@dataclass(frozen=True)
class _Pool:
    """Corpus texts grouped by intent (intents sorted by name) for vectorised sampling."""

    intents: np.ndarray  # intent names, sorted
    sources: np.ndarray  # source of each intent
    texts: np.ndarray  # object array, grouped by intent
    offset: np.ndarray  # first text of each intent
    count: np.ndarray  # texts per intent
    area: np.ndarray  # index into AREAS
    difficulty: np.ndarray  # EASY/MEDIUM/HARD

    def code(self, intent: str) -> int:
        return int(np.searchsorted(self.intents, intent))


def _pool(corpus: pd.DataFrame) -> _Pool:
    missing = [c for c in ("text", "intent", "source") if c not in corpus.columns]
    if missing:
        raise ValueError(f"corpus lacks columns {missing}")
    frame = corpus.loc[:, ["text", "intent", "source"]].astype(str)
    absent = [i for i in PLANTED_INTENTS if not (frame["intent"] == i).any()]
    if absent:
        raise ValueError(f"corpus lacks the planted intents {absent}")
    frame = frame.sort_values("intent", kind="stable")
    intents, offset, count = np.unique(
        frame["intent"].to_numpy(), return_index=True, return_counts=True
    )
    area_of = {i: a for a, members in AREA_INTENTS.items() for i in members}
    hard, easy = set(HARD_INTENTS), set(EASY_INTENTS)
    return _Pool(
        intents=intents.astype(str),
        sources=frame["source"].to_numpy()[offset].astype(str),
        texts=frame["text"].to_numpy(dtype=object),
        offset=offset,
        count=count,
        area=np.array([AREAS.index(area_of.get(i, OTHER_AREA)) for i in intents]),
        difficulty=np.array(
            [HARD if i in hard else EASY if i in easy else MEDIUM for i in intents]
        ),
    )


def _validate(config: DemoConfig) -> None:
    if config.n_contacts < MIN_CONTACTS:
        raise ValueError(f"n_contacts must be at least {MIN_CONTACTS}")
    if config.weeks < MIN_WEEKS:
        raise ValueError(f"weeks must be at least {MIN_WEEKS}")
    if config.end.weekday() != 6:
        raise ValueError(f"end must be a Sunday, got {config.end} ({config.end:%A})")
    ZoneInfo(config.tz)  # raises on an unknown zone


def _draw(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray | int) -> np.ndarray:
    """Categorical draws; ``probs`` is one vector, or a table indexed by ``rows``."""
    if probs.ndim == 1:
        size = rows if isinstance(rows, int) else len(rows)
        cdf = np.cumsum(probs / probs.sum())
        return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(probs) - 1)
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[rows]
    return np.minimum((rng.random(len(rows))[:, None] >= cdf).sum(axis=1), probs.shape[1] - 1)


def _epoch_day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _local_to_utc(local_s: np.ndarray, tz: str, dst: np.ndarray | None = None) -> np.ndarray:
    """Local wall-clock seconds to UTC epoch seconds.

    ``dst`` says which reading of the repeated hour at the end of summer time to take; a
    skipped hour at its start moves forward.
    """
    ambiguous = np.zeros(len(local_s), bool) if dst is None else dst
    idx = pd.DatetimeIndex(local_s.astype("datetime64[s]"))
    aware = idx.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")
    return aware.as_unit("s").asi8


def _utc_to_local(utc_s: np.ndarray, tz: str) -> np.ndarray:
    idx = pd.DatetimeIndex(utc_s.astype("datetime64[s]")).tz_localize("UTC").tz_convert(tz)
    return idx.tz_localize(None).as_unit("s").asi8


def _iso(utc_s: np.ndarray, tz: str) -> np.ndarray:
    """ISO 8601 strings with the zone's UTC offset, e.g. 2026-09-01T09:14:03+01:00."""
    local = _utc_to_local(utc_s, tz)
    stamp = np.datetime_as_string(local.astype("datetime64[s]"), unit="s")
    offsets, inverse = np.unique(local - utc_s, return_inverse=True)
    labels = np.array(
        [
            f"{'+' if o >= 0 else '-'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
            for o in offsets
        ],
        dtype=object,
    )
    return stamp.astype(object) + labels[inverse]


def _format_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, built from digit bytes (f-strings are slow at 1M)."""
    width = max(width, len(str(int(numbers.max())))) if len(numbers) else width
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (np.abs(numbers)[:, None] // powers % 10 + ord("0")).astype(np.uint8)
    head = np.broadcast_to(
        np.frombuffer(prefix.encode("ascii"), np.uint8), (len(numbers), len(prefix))
    )
    raw = np.ascontiguousarray(np.concatenate([head, digits], axis=1))
    size = len(prefix) + width
    return raw.view(f"S{size}").ravel().astype(f"U{size}").astype(object)


def _time_of_day(rng: np.random.Generator, weekend: np.ndarray) -> np.ndarray:
    """Seconds after local midnight following the hourly profiles."""
    hour = np.where(
        weekend,
        _draw(rng, HOURLY_WEEKEND, len(weekend)),
        _draw(rng, HOURLY_WEEKDAY, len(weekend)),
    )
    return hour * 3600 + rng.integers(0, 3600, len(weekend))


def _popularity(pool: _Pool, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like share per intent, ranked within each dataset, then weighted by SOURCE_SHARE.

    Ranks are random except FORCED_RANKS, which keep the planted intents visible. Ranking
    within a dataset stops the 77 banking intents from drowning the 27 e-commerce ones.
    """
    share = np.zeros(len(pool.intents))
    sources = np.unique(pool.sources)
    forced_codes = {pool.code(i): rank for i, rank in FORCED_RANKS.items()}
    new_theme = pool.code(NEW_THEME_INTENT)
    for source in sources:
        members = np.flatnonzero(pool.sources == source)
        members = members[members != new_theme]
        order = [int(c) for c in rng.permutation(members) if int(c) not in forced_codes]
        for code, rank in sorted(forced_codes.items(), key=lambda item: item[1]):
            if pool.sources[code] == source:
                order.insert(min(rank, len(order)), code)
        weight = (np.arange(1, len(order) + 1) + ZIPF_OFFSET) ** -ZIPF_EXPONENT
        target = SOURCE_SHARE.get(str(source), len(members) / len(pool.intents))
        share[np.array(order)] = target * weight / weight.sum()
    return share / share.sum()


def _app_version_share(n_days: int) -> np.ndarray:
    """Per day, the share of each app version: each release spreads along a logistic curve."""
    days_before_end = (n_days - 1 - np.arange(n_days))[:, None]
    since = np.array(APP_RELEASE_DAYS_BEFORE_END)[None, :] - days_before_end
    at_least = APP_ADOPTION_CAP / (
        1 + np.exp(-(since - APP_ADOPTION_LAG_DAYS) / APP_ADOPTION_SCALE_DAYS)
    )
    at_least = np.where(since >= 0, at_least, 0.0)
    at_least[:, 0] = 1.0
    return at_least - np.append(at_least[:, 1:], np.zeros((n_days, 1)), axis=1)


def _intensity(
    pool: _Pool, config: DemoConfig, weekday: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected primary volume per (component, day); components are intents plus events."""
    n_days, n_int = 7 * config.weeks, len(pool.intents)
    week = np.arange(n_days) // 7
    day_volume = (1 + WEEKLY_GROWTH) ** (np.arange(n_days) / 7) * DOW_FACTOR[weekday]
    day_volume *= rng.gamma(DAY_NOISE_SHAPE, 1 / DAY_NOISE_SHAPE, n_days)
    share = _popularity(pool, rng)
    base = share[:, None] * day_volume[None, :]
    base *= rng.gamma(CELL_NOISE_SHAPE, 1 / CELL_NOISE_SHAPE, base.shape)

    weeks_left = config.weeks - week  # 1 in the last week
    burst = np.where(weeks_left <= BURST_WEEKS, BURST_MULTIPLIER - 1, 0.0)
    rise_k = np.where(weeks_left <= SLOW_RISE_WEEKS, SLOW_RISE_WEEKS + 1 - weeks_left, 0)
    rise = (1 + SLOW_RISE_GROWTH) ** rise_k - 1
    new_share = np.zeros(n_days)
    for k, s in enumerate(NEW_THEME_SHARE):
        new_share[weeks_left == len(NEW_THEME_SHARE) - k] = s
    extra = np.stack(
        [
            base[pool.code(BURST_INTENT)] * burst,
            base[pool.code(SLOW_RISE_INTENT)] * rise,
            base.sum(axis=0) * new_share,
        ]
    )
    lam = np.concatenate([base, extra])
    comp_intent = np.concatenate(
        [
            np.arange(n_int),
            [pool.code(i) for i in (BURST_INTENT, SLOW_RISE_INTENT, NEW_THEME_INTENT)],
        ]
    )
    comp_label = np.concatenate([np.full(n_int, PLAIN), [BURST, SLOW_RISE, NEW_THEME]])
    return lam, comp_intent, comp_label


def _repeat_rate(pool: _Pool) -> np.ndarray:
    rate = REPEAT_RATE[pool.difficulty]
    rate[pool.code(WORST_REPEAT_INTENT)] = WORST_REPEAT_RATE
    return np.where(pool.count >= 2, rate, 0.0)


def _link_returns(
    rng: np.random.Generator,
    utc: np.ndarray,
    intent: np.ndarray,
    pickable: np.ndarray,
    partnerable: np.ndarray,
    n_pick: int,
    gap_s: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (earlier, later) of primaries: the later one is the same customer, other intent."""
    cand = np.flatnonzero(pickable)
    pick = np.sort(rng.choice(cand, size=min(n_pick, len(cand)), replace=False))
    target = utc[pick] - rng.integers(gap_s[0], gap_s[1], len(pick))
    pool = np.flatnonzero(partnerable & ~np.isin(np.arange(len(utc)), pick))
    pool = pool[np.argsort(utc[pool], kind="stable")]
    if len(pool) == 0 or len(pick) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = np.minimum(np.searchsorted(utc[pool], target), len(pool) - 1)
    partner = pool[pos]
    gap = utc[pick] - utc[partner]
    ok = (gap >= gap_s[0]) & (gap <= gap_s[1]) & (intent[partner] != intent[pick])
    pick, partner = pick[ok], partner[ok]
    _, first = np.unique(partner, return_index=True)
    keep = np.sort(first)
    return partner[keep], pick[keep]


def _choose_heads(
    rng: np.random.Generator,
    p: np.ndarray,
    eligible: np.ndarray,
    followups: np.ndarray,
    budget: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Chain heads and their follow-up counts, filling ``budget`` follow-ups exactly if possible.

    Taking primaries in order of ``u / p`` until the budget is met selects each with
    probability ~``c * p`` for a common ``c`` near 1: Bernoulli-like, with an exact total.
    """
    with np.errstate(divide="ignore"):
        key = np.where(eligible & (p > 0), rng.random(len(p)) / p, np.inf)
    order = np.argsort(key, kind="stable")[: int(np.isfinite(key).sum())]
    cum = np.cumsum(followups[order])
    n_follow = followups.copy()
    if budget <= 0 or len(order) == 0:
        return np.zeros(0, np.int64), n_follow
    if cum[-1] <= budget:
        return np.sort(order), n_follow
    h = int(np.searchsorted(cum, budget))
    heads = order[: h + 1]
    n_follow[heads[-1]] -= int(cum[h] - budget)
    return np.sort(heads), n_follow


def _pick_text(
    rng: np.random.Generator, pool: _Pool, intent: np.ndarray, avoid: np.ndarray | None
) -> np.ndarray:
    """Local text index within the intent; different from ``avoid`` when it is given."""
    n = pool.count[intent]
    if avoid is None:
        return (rng.random(len(intent)) * n).astype(np.int64)
    step = 1 + (rng.random(len(intent)) * np.maximum(n - 1, 1)).astype(np.int64)
    return (avoid + step) % n


def _decorate(
    rng: np.random.Generator,
    base: np.ndarray,
    channel: np.ndarray,
    pos: np.ndarray,
    has_orders: np.ndarray,
) -> np.ndarray:
    """Greetings, sign-offs, follow-up phrases and rare fake PII around the real texts.

    Order numbers are only planted where the intent has orders (e-commerce texts).
    """
    n = len(base)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    greet = rng.random(n) < GREETING_P[channel]
    greeting = np.array(GREETINGS, dtype=object)[rng.integers(0, len(GREETINGS), n)]
    sign = rng.random(n) < SIGNOFF_P[channel]
    signoff_tpl = rng.integers(0, len(SIGNOFFS), n)
    prefix_on = (pos >= 2) & (rng.random(n) < FOLLOWUP_PREFIX_P)
    second = np.array(FOLLOWUP_PREFIXES_SECOND, dtype=object)
    later = np.array(FOLLOWUP_PREFIXES_LATER, dtype=object)
    prefix_pick = rng.integers(0, len(second), n)
    pii = rng.random(n) < PII_P
    pii_kind = _draw(rng, PII_KIND_P, n)
    pii_num = rng.integers(0, 10**8, n)

    head = np.full(n, "", dtype=object)
    head[greet] = greeting[greet]
    picked = prefix_pick[prefix_on]
    head[prefix_on] = np.where(pos[prefix_on] == 2, second[picked], later[picked % len(later)])
    tail = np.full(n, "", dtype=object)
    for i in np.flatnonzero(pii):
        fn, ln, num = FIRST_NAMES[first[i]], LAST_NAMES[last[i]], int(pii_num[i])
        kind = PII_KINDS[pii_kind[i]]
        if kind == "email":
            extra = f"My email is {fn.lower()}.{ln.lower()}{num % 100}@example.com."
        elif kind == "phone":
            extra = f"You can call me on +1 202 555 01{num % 100:02d}."
        elif kind == "order" and has_orders[i]:
            extra = f"Order number ORD-{num:08d}."
        elif kind == "card":
            extra = f"My card number is {FAKE_CARD}."
        else:
            extra = f"My email is {fn.lower()}{num % 1000}@example.com."
        tail[i] = (" " if base[i].endswith((".", "?", "!")) else ". ") + extra
    for i in np.flatnonzero(sign):
        tail[i] += SIGNOFFS[signoff_tpl[i]].format(
            first=FIRST_NAMES[first[i]], last=LAST_NAMES[last[i]]
        )
    return head + base + tail


def _resolution_table(pool: _Pool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat notes plus per-intent offset and count, for vectorised note picking."""
    notes: list[str] = []
    offset, count = [], []
    for intent, area in zip(pool.intents, pool.area, strict=True):
        choices = INTENT_RESOLUTIONS.get(str(intent), AREA_RESOLUTIONS[AREAS[area]])
        offset.append(len(notes))
        count.append(len(choices))
        notes.extend(choices)
    return np.array(notes, dtype=object), np.array(offset), np.array(count)


@dataclass
class _Primaries:
    """One row per issue: the first contact a customer makes about it."""

    intent: np.ndarray
    label: np.ndarray
    day: np.ndarray
    tod: np.ndarray  # local seconds after midnight
    utc: np.ndarray
    market: np.ndarray
    tier: np.ndarray
    channel: np.ndarray
    version: np.ndarray
    text: np.ndarray  # text index within the intent


@dataclass(frozen=True)
class _Extra:
    """Follow-ups (kind 1) or continuations (kind 2), each derived from a primary ``src``."""

    src: np.ndarray
    pos: np.ndarray
    utc: np.ndarray
    channel: np.ndarray
    text: np.ndarray


@dataclass(frozen=True)
class DemoStream:
    """Everything one generation produces: the stream, its ground truth and the manifest."""

    contacts: pd.DataFrame
    truth: pd.DataFrame
    manifest: dict


def _primaries(
    rng: np.random.Generator,
    pool: _Pool,
    config: DemoConfig,
    n_primary: int,
    lam: np.ndarray,
    comp_intent: np.ndarray,
    comp_label: np.ndarray,
) -> _Primaries:
    """Spread ``n_primary`` issues over (component, day) cells and draw their attributes."""
    n_days = 7 * config.weeks
    first_day = _epoch_day(config.start)
    weekday = (first_day + np.arange(n_days) + 3) % 7  # 1970-01-01 was a Thursday
    cells = rng.multinomial(n_primary, (lam / lam.sum()).ravel())
    component, day = np.divmod(np.repeat(np.arange(cells.size), cells), n_days)
    intent, label = comp_intent[component], comp_label[component]
    tod = _time_of_day(rng, weekday[day] >= 5)
    dst = rng.random(n_primary) < 0.5
    utc = _local_to_utc((first_day + day) * 86400 + tod, config.tz, dst)
    market = _draw(rng, MARKET_P, n_primary)
    tier = _draw(rng, SELLER_TIER_P, n_primary)
    channel = _draw(rng, CHANNEL_P, pool.difficulty[intent])
    version = _draw(rng, _app_version_share(n_days), day)
    is_burst = label == BURST
    market[is_burst & (rng.random(n_primary) < BURST_MARKET_P)] = MARKETS.index(BURST_MARKET)
    to_version = is_burst & (rng.random(n_primary) < BURST_APP_VERSION_P)
    version[to_version] = APP_VERSIONS.index(BURST_APP_VERSION)
    text = _pick_text(rng, pool, intent, None)
    return _Primaries(intent, label, day, tod, utc, market, tier, channel, version, text)


def _chains(
    rng: np.random.Generator, pool: _Pool, prim: _Primaries, window_end: int, budget: int
) -> tuple[np.ndarray, _Extra]:
    """Chain heads and their follow-ups: same problem, another paraphrase, 1-6 days apart."""
    n = len(prim.intent)
    followups = _draw(rng, CHAIN_FOLLOWUPS_P, n) + 1
    gap_days = np.stack([_draw(rng, GAP_DAYS_P, n) + 1 for _ in range(3)], axis=1)
    weekdays = np.zeros(n, bool)
    tods = np.stack([prim.tod] + [_time_of_day(rng, weekdays) for _ in range(3)], axis=1)
    gaps = gap_days * 86400 + np.diff(tods, axis=1)
    gaps = np.where(gaps < 86400, gaps + 86400, gaps)
    span = np.cumsum(gaps, axis=1)
    fits = prim.utc + span[np.arange(n), followups - 1] <= window_end
    rate = _repeat_rate(pool)[prim.intent]
    heads, n_follow = _choose_heads(rng, rate, fits, followups, budget)
    counts = n_follow[heads]
    src = np.repeat(heads, counts)
    pos = np.arange(len(src)) - np.repeat(np.cumsum(counts) - counts, counts) + 2
    switch = rng.random(len(src)) < FOLLOWUP_SWITCH_P
    channel = np.where(switch, _draw(rng, FOLLOWUP_CHANNEL_P, len(src)), prim.channel[src])
    text = _pick_text(rng, pool, prim.intent[src], prim.text[src])
    return heads, _Extra(src, pos, prim.utc[src] + span[src, pos - 2], channel, text)


def _continuations(
    rng: np.random.Generator,
    pool: _Pool,
    prim: _Primaries,
    taken: np.ndarray,
    n_cont: int,
    window_end: int,
) -> _Extra:
    """Transfers and reconnects minutes after the original: same issue, not a repeat."""
    ok = np.flatnonzero(~taken & (prim.utc <= window_end - CONTINUATION_GAP_S[1]))
    if len(ok) < n_cont:
        raise ValueError("n_contacts is too small for this window")
    src = np.sort(rng.choice(ok, size=n_cont, replace=False))
    utc = prim.utc[src] + rng.integers(CONTINUATION_GAP_S[0], CONTINUATION_GAP_S[1] + 1, n_cont)
    switch = rng.random(n_cont) < TRANSFER_SWITCH_P
    channel = np.where(switch, _draw(rng, TRANSFER_CHANNEL_P, n_cont), prim.channel[src])
    same = rng.random(n_cont) < CONTINUATION_SAME_TEXT_P
    other = _pick_text(rng, pool, prim.intent[src], prim.text[src])
    text = np.where(same, prim.text[src], other)
    return _Extra(src, np.zeros(n_cont, np.int64), utc, channel, text)


def _customers(
    rng: np.random.Generator, prim: _Primaries, taken: np.ndarray, n_contacts: int
) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Customer number per primary (-1 = unknown); links customers who come back.

    Returning customers raise a *different* intent, so every same-intent recontact within
    days is a planted chain. Mutates ``prim.label/market/tier`` of the returning contacts.
    """
    n = len(prim.intent)
    free = ~taken
    parent = np.arange(n)
    pairs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for kind, rate, gap_s in (
        (DIFFERENT_ISSUE, DIFFERENT_ISSUE_RATE, DIFFERENT_ISSUE_GAP_S),
        (RETURNING, RETURNING_RATE, RETURNING_GAP_S),
    ):
        pickable = free & (prim.label == PLAIN)
        earlier, later = _link_returns(
            rng, prim.utc, prim.intent, pickable, free, round(rate * n), gap_s
        )
        parent[later] = earlier
        prim.label[later] = kind
        prim.market[later], prim.tier[later] = prim.market[earlier], prim.tier[earlier]
        free[earlier] = free[later] = False
        pairs[kind] = (earlier, later)
    roots = np.flatnonzero(parent == np.arange(n))
    number = np.full(n, -1)
    number[roots] = rng.permutation(len(roots)) + 1
    number = number[parent]
    singles = np.flatnonzero(free)
    n_none = min(round(NO_CUSTOMER_RATE * n_contacts), len(singles))
    number[np.sort(rng.choice(singles, size=n_none, replace=False))] = -1
    return number, pairs


def _outcomes(
    rng: np.random.Generator,
    pool: _Pool,
    intent: np.ndarray,
    channel: np.ndarray,
    tier: np.ndarray,
    pos: np.ndarray,
    continuation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Escalation, handle time, resolution note, CSAT and product area of every row."""
    n = len(intent)
    diff = pool.difficulty[intent]
    worst = intent == pool.code(WORST_REPEAT_INTENT)
    followup = pos >= 2
    logit = (
        ESC_BASE
        + ESC_DIFFICULTY * diff
        + ESC_CHANNEL[channel]
        + ESC_TIER[tier]
        + ESC_PER_FOLLOWUP * np.maximum(pos - 1, 0)
        + ESC_CONTINUATION * continuation
        + ESC_WORST * worst
        + rng.normal(0.0, ESC_NOISE, n)
    )
    escalated = rng.random(n) < 1 / (1 + np.exp(-logit))
    handle = (
        HANDLE_MEDIAN_S[channel]
        * np.exp(HANDLE_DIFFICULTY * diff)
        * np.where(escalated, HANDLE_ESCALATED, 1.0)
        * np.where(followup, HANDLE_FOLLOWUP, 1.0)
        * rng.lognormal(0.0, HANDLE_SIGMA, n)
    )
    handle = np.clip(np.rint(handle), *HANDLE_BOUNDS_S).astype(np.int64)
    notes, note_off, note_cnt = _resolution_table(pool)
    note = notes[note_off[intent] + (rng.random(n) * note_cnt[intent]).astype(np.int64)]
    note = np.where(escalated & (rng.random(n) < ESCALATED_NOTE_P), ESCALATED_NOTE, note)
    resolution = np.where(rng.random(n) < RESOLUTION_P, note, "").astype(object)
    latent = (
        CSAT_BASE
        + CSAT_DIFFICULTY * diff
        + CSAT_ESCALATED * escalated
        + CSAT_FOLLOWUP * followup
        + CSAT_CONTINUATION * continuation
        + rng.normal(0.0, CSAT_NOISE, n)
    )
    score = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    csat = pd.array(score, dtype="Int64")
    csat[~(rng.random(n) < CSAT_P)] = pd.NA
    # a wrong area is still a plausible one: that of another intent from the same dataset
    by_source = np.argsort(pool.sources, kind="stable")
    _, src_start, src_count = np.unique(pool.sources[by_source], return_index=True,
                                        return_counts=True)  # fmt: skip
    src_code = np.searchsorted(np.unique(pool.sources), pool.sources[intent])
    other = by_source[src_start[src_code] + (rng.random(n) * src_count[src_code]).astype(int)]
    area = np.where(rng.random(n) < AREA_NOISE_P, pool.area[other], pool.area[intent])
    return escalated, handle, resolution, csat, area


def _handlers(
    config: DemoConfig,
    hard: np.ndarray,
    weak_intent: np.ndarray,
    is_head: np.ndarray,
    first_contact: np.ndarray,
    jump_week: np.ndarray,
    handle: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vendor, site and agent of every row, and its handle time with the AHT jump planted.

    Routing, not outcomes, carries two truths: hard intents go mostly to HARD_MIX_VENDOR
    (its resolutions are as good as anyone's), and the worst-repeat intent's chain heads go to
    WEAK_SITE more often than its other first contacts, so that site's returns on that intent
    are WEAK_SITE_FACTOR times the other sites'. Chain heads are the contacts customers came
    back after, which is what a scorecard charges.
    """
    rng = np.random.default_rng([config.seed, HANDLER_SEED_SALT])
    n = len(hard)
    vendors = np.array(list(VENDOR_SITES), dtype=object)
    others = vendors[vendors != HARD_MIX_VENDOR]
    to_hard = rng.random(n) < np.where(hard, HARD_MIX_SHARE, 1 / len(vendors))
    vendor = np.where(to_hard, HARD_MIX_VENDOR, rng.choice(others, size=n))
    pick = rng.random(n)
    site = np.array(
        [VENDOR_SITES[v][int(u * len(VENDOR_SITES[v]))] for v, u in zip(vendor, pick, strict=True)],
        dtype=object,
    )
    # the weak site: among the worst intent's first contacts, heads land there more often
    firsts = weak_intent & first_contact
    rate = float(is_head[firsts].mean()) if firsts.any() else 0.0
    share, factor = WEAK_SITE_SHARE, WEAK_SITE_FACTOR
    weak_rate = factor * rate / (1 + share * (factor - 1))  # the other sites: weak_rate / factor
    p_head = weak_rate * share / rate if rate > 0 else share
    p_other = (1 - weak_rate) * share / (1 - rate) if rate < 1 else share
    weak = firsts & (rng.random(n) < np.where(is_head, p_head, p_other))
    site = np.where(weak, WEAK_SITE, site)
    # the intent's other first contacts stay away from the weak site (its share is planted)
    site = np.where(firsts & ~weak & (site == WEAK_SITE), "Northwind-Manila", site)
    owner = {s: v for v, sites in VENDOR_SITES.items() for s in sites}
    vendor = np.array([owner[s] for s in site], dtype=object)
    number = rng.integers(1, AGENTS_PER_SITE + 1, size=n)
    agent = np.array(
        [f"{s.split('-')[1][:3].upper()}{k:02d}" for s, k in zip(site, number, strict=True)],
        dtype=object,
    )
    jumped = (site == AHT_JUMP_SITE) & jump_week
    handle = np.where(jumped, np.round(handle * AHT_JUMP_FACTOR), handle).astype(handle.dtype)
    return vendor, site, agent, handle


def generate_demo(corpus: pd.DataFrame, config: DemoConfig) -> DemoStream:
    """Generate contacts, their truth and the manifest from ``corpus`` (see module docstring)."""
    _validate(config)
    rng = np.random.default_rng(config.seed)
    pool = _pool(corpus)
    n_days = 7 * config.weeks
    first_day = _epoch_day(config.start)
    weekday = (first_day + np.arange(n_days) + 3) % 7
    # last second of the window: local midnight after `end`, in UTC, minus one
    window_end = int(_local_to_utc(np.array([first_day + n_days]) * 86400, config.tz)[0]) - 1

    # how many primaries leave room for the expected follow-ups and continuations
    lam, comp_intent, comp_label = _intensity(pool, config, weekday, rng)
    followups_mean = float(np.dot(np.arange(1, 4), CHAIN_FOLLOWUPS_P))
    head_rate = float((lam.sum(axis=1) * _repeat_rate(pool)[comp_intent]).sum() / lam.sum())
    n_primary = round(config.n_contacts / (1 + head_rate * followups_mean + CONTINUATION_RATE))
    n_cont_target = round(CONTINUATION_RATE * n_primary)

    prim = _primaries(rng, pool, config, n_primary, lam, comp_intent, comp_label)
    budget = config.n_contacts - n_primary - n_cont_target
    heads, follow = _chains(rng, pool, prim, window_end, budget)
    taken = np.zeros(n_primary, bool)
    taken[heads] = True
    n_cont = config.n_contacts - n_primary - len(follow.src)
    cont = _continuations(rng, pool, prim, taken, n_cont, window_end)
    taken[cont.src] = True
    customer, pairs = _customers(rng, prim, taken, config.n_contacts)

    # every row: primaries, then follow-ups, then continuations
    src = np.concatenate([np.arange(n_primary), follow.src, cont.src])
    kind = np.repeat([0, 1, 2], [n_primary, len(follow.src), n_cont])
    is_head = np.zeros(n_primary, bool)
    is_head[heads] = True
    pos = np.concatenate([is_head.astype(np.int64), follow.pos, cont.pos])
    utc = np.concatenate([prim.utc, follow.utc, cont.utc])
    channel = np.concatenate([prim.channel, follow.channel, cont.channel])
    intent = prim.intent[src]
    text_idx = pool.offset[intent] + np.concatenate([prim.text, follow.text, cont.text])
    label = np.concatenate([prim.label, prim.label[follow.src], np.full(n_cont, CONTINUATION)])
    tier = prim.tier[src]
    escalated, handle, resolution, csat, area = _outcomes(
        rng, pool, intent, channel, tier, pos, kind == 2
    )
    has_orders = pool.sources[intent] == BITEXT_SOURCE
    text = _decorate(rng, pool.texts[text_idx], channel, pos, has_orders)

    hard_rate = REPEAT_RATE[pool.difficulty][intent] >= REPEAT_RATE.max()
    jump_start = window_end + 1 - 7 * 86_400 * AHT_JUMP_WEEKS_BEFORE_END
    jump_week = (utc >= jump_start) & (utc < jump_start + 7 * 86_400)
    vendor, site, agent, handle = _handlers(
        config,
        hard=hard_rate,
        weak_intent=intent == pool.code(WORST_REPEAT_INTENT),
        is_head=pos == 1,
        first_contact=kind == 0,
        jump_week=jump_week,
        handle=handle,
    )

    n = len(src)
    order = np.lexsort((np.arange(n), utc))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    width = max(6, len(str(n)))
    cid = _format_ids("C", np.arange(1, n + 1), width)
    row_id = cid[rank]
    cust = customer[src]
    cust_str = np.where(cust >= 0, _format_ids("U", cust, CUSTOMER_ID_WIDTH), "")
    contacts = pd.DataFrame(
        {
            "contact_id": cid,
            "created_at": _iso(utc[order], config.tz),
            "text": text[order],
            "customer_id": cust_str[order],
            "channel": np.array(CHANNELS, dtype=object)[channel[order]],
            "is_escalation": escalated[order],
            "handle_time_s": handle[order],
            "resolution": resolution[order],
            "csat": csat[order],
            "market": np.array(MARKETS, dtype=object)[prim.market[src][order]],
            "seller_tier": np.array(SELLER_TIERS, dtype=object)[tier[order]],
            "product_area": np.array(AREAS, dtype=object)[area[order]],
            "app_version": np.array(APP_VERSIONS, dtype=object)[prim.version[src][order]],
            "vendor": vendor[order],
            "site": site[order],
            "agent_id": agent[order],
        }
    )

    # chains are numbered in the order of their first contact
    in_chain = pos >= 1
    head_rank = rank[src[in_chain]]  # a chain row's src is its head, whose row is src
    chain_no = np.zeros(n, np.int64)
    chain_no[in_chain] = np.searchsorted(np.unique(head_rank), head_rank) + 1
    chain_id = np.where(chain_no > 0, _format_ids("R", chain_no, CHAIN_ID_WIDTH), "")
    truth = pd.DataFrame(
        {
            "contact_id": cid,
            "intent": pool.intents.astype(object)[intent[order]],
            "source": pool.sources.astype(object)[intent[order]],
            "chain_id": chain_id[order],
            "chain_pos": pos[order].astype(np.int64),
            "planted": np.array(LABELS, dtype=object)[label[order]],
        }
    )

    chain_rows = np.flatnonzero(in_chain)
    chain_rows = chain_rows[np.lexsort((pos[chain_rows], chain_no[chain_rows]))]
    cuts = np.flatnonzero(np.diff(chain_no[chain_rows])) + 1
    parts = np.split(row_id[chain_rows], cuts) if len(chain_rows) else []
    chains = [part.tolist() for part in parts]
    cont_rows = np.arange(n_primary + len(follow.src), n)
    cont_pairs = np.stack([row_id[cont.src], row_id[cont_rows]], axis=1)
    cont_pairs = cont_pairs[np.argsort(rank[cont.src], kind="stable")]
    linked = {
        LABELS[k]: sorted(zip(row_id[e].tolist(), row_id[lt].tolist(), strict=True))
        for k, (e, lt) in pairs.items()
    }
    worst = prim.intent == pool.code(WORST_REPEAT_INTENT)
    stats = {
        "n_primary": n_primary,
        "customers": int(len(np.unique(customer[customer >= 0]))),
        "worst_repeat_rate": float(is_head[worst].mean()) if worst.any() else 0.0,
        "repeat_rate": float(is_head.mean()),
    }
    manifest = _manifest(config, contacts, truth, chains, cont_pairs.tolist(), linked, stats)
    if config.sop_changes:
        from rca.demo.planted_sop import plant_sop_changes

        contacts, truth, manifest = plant_sop_changes(
            contacts, truth, manifest, end=config.end, seed=config.seed,
            escalated_note=ESCALATED_NOTE, handle_escalated=HANDLE_ESCALATED,
        )  # fmt: skip
    return DemoStream(contacts=contacts, truth=truth, manifest=manifest)


def _window(end: date, weeks: int) -> dict[str, str]:
    return {"start": (end - timedelta(days=7 * weeks - 1)).isoformat(), "end": end.isoformat()}


def _manifest(
    config: DemoConfig,
    contacts: pd.DataFrame,
    truth: pd.DataFrame,
    chains: list[list[str]],
    continuations: list[list[str]],
    linked: dict[str, list[tuple[str, str]]],
    stats: dict,
) -> dict:
    """The JSON-able description of what was generated and planted, in a fixed key order."""
    planted = truth["planted"].to_numpy()
    intent = truth["intent"].to_numpy()
    burst = planted == "burst"
    new_theme = intent == NEW_THEME_INTENT
    local_day = contacts["created_at"].str.slice(0, 10).to_numpy()
    weekday = pd.to_datetime(local_day).day_of_week.to_numpy()
    per_day = pd.Series(weekday).value_counts().reindex(range(7), fill_value=0).to_numpy()
    n_weeks = config.weeks
    worst_rows = intent == WORST_REPEAT_INTENT
    chain_pos = truth["chain_pos"].to_numpy()
    return {
        "generator": "rca.demo",
        "config": {
            "seed": config.seed,
            "n_contacts": config.n_contacts,
            "weeks": config.weeks,
            "start": config.start.isoformat(),
            "end": config.end.isoformat(),
            "tz": config.tz,
        },
        "schema": {"contacts": CONTACT_SCHEMA, "truth": TRUTH_SCHEMA},
        "counts": {
            "contacts": len(contacts),
            "primary_contacts": stats["n_primary"],
            "customers": stats["customers"],
            "contacts_without_customer": int((contacts["customer_id"] == "").sum()),
            "repeat_chains": len(chains),
            "repeat_followups": int((chain_pos >= 2).sum()),
            "continuations": len(continuations),
            "different_issue_returns": len(linked["different_issue"]),
            "returning_customers": len(linked["returning_customer"]),
            "escalations": int(contacts["is_escalation"].sum()),
            "with_resolution": int((contacts["resolution"] != "").sum()),
            "with_csat": int(contacts["csat"].notna().sum()),
            "weekend_to_weekday_ratio": round(float(per_day[5:].mean() / per_day[:5].mean()), 3),
            "by_source": {
                str(k): int(v) for k, v in truth["source"].value_counts().sort_index().items()
            },
        },
        "burst": {
            "intent": BURST_INTENT,
            "window": _window(config.end, BURST_WEEKS),
            "attributes": {"market": BURST_MARKET, "app_version": BURST_APP_VERSION},
            "multiplier": BURST_MULTIPLIER,
            "affected_contacts": int(burst.sum()),
            "attribute_share": {
                "market": _share(contacts["market"].to_numpy()[burst] == BURST_MARKET),
                "app_version": _share(
                    contacts["app_version"].to_numpy()[burst] == BURST_APP_VERSION
                ),
            },
        },
        "slow_rise": {
            "intent": SLOW_RISE_INTENT,
            "window": _window(config.end, SLOW_RISE_WEEKS),
            "attributes": {},
            "weekly_growth": SLOW_RISE_GROWTH,
            "multiplier": round((1 + SLOW_RISE_GROWTH) ** SLOW_RISE_WEEKS, 4),
            "affected_contacts": int((planted == "slow_rise").sum()),
        },
        "new_theme": {
            "intent": NEW_THEME_INTENT,
            "window": _window(config.end, len(NEW_THEME_SHARE)),
            "attributes": {},
            "first_seen": str(local_day[new_theme][0]) if new_theme.any() else None,
            "affected_contacts": int(new_theme.sum()),
        },
        "worst_repeat": {
            "intent": WORST_REPEAT_INTENT,
            "window": _window(config.end, n_weeks),
            "attributes": {},
            "repeat_rate_target": WORST_REPEAT_RATE,
            "repeat_rate": round(stats["worst_repeat_rate"], 4),
            "overall_repeat_rate": round(stats["repeat_rate"], 4),
            "affected_contacts": int((worst_rows & (chain_pos >= 1)).sum()),
        },
        "vendors": {
            "sites": {v: list(s) for v, s in VENDOR_SITES.items()},
            "hard_mix_vendor": {
                "vendor": HARD_MIX_VENDOR,
                "share_of_hard_intents": HARD_MIX_SHARE,
                "expect": "worse raw repeat rate, not flagged once adjusted for its mix",
            },
            "weak_site": {
                "site": WEAK_SITE,
                "intent": WORST_REPEAT_INTENT,
                "repeat_factor": WEAK_SITE_FACTOR,
                "share_of_intent": WEAK_SITE_SHARE,
            },
            "aht_jump": {
                "site": AHT_JUMP_SITE,
                "week": _window(
                    config.end - timedelta(days=7 * (AHT_JUMP_WEEKS_BEFORE_END - 1)), 1
                ),  # fmt: skip
                "factor": AHT_JUMP_FACTOR,
            },
        },
        "worst_repeat_intent": WORST_REPEAT_INTENT,
        "repeat_chains": chains,
        "continuations": continuations,
        "different_issue_pairs": [list(p) for p in linked["different_issue"]],
        "returning_customer_pairs": [list(p) for p in linked["returning_customer"]],
        "attribution": ATTRIBUTION,
    }


def _share(flags: np.ndarray) -> float:
    return round(float(flags.mean()), 4) if len(flags) else 0.0


def generate_stream(corpus: pd.DataFrame, config: DemoConfig) -> tuple[pd.DataFrame, dict]:
    """Returns (contacts, manifest); use `generate_demo` when the truth frame is needed too."""
    stream = generate_demo(corpus, config)
    return stream.contacts, stream.manifest


def write_demo(out_dir: Path, data_dir: Path, config: DemoConfig) -> tuple[Path, Path, Path]:
    """Writes contacts.csv, truth.csv and manifest.json; returns their paths."""
    stream = generate_demo(load_corpus(Path(data_dir)), config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    contacts_path, truth_path, manifest_path = (
        out / "contacts.csv",
        out / "truth.csv",
        out / "manifest.json",
    )
    stream.contacts.to_csv(contacts_path, index=False, lineterminator="\n")
    stream.truth.to_csv(truth_path, index=False, lineterminator="\n")
    manifest_path.write_text(json.dumps(stream.manifest, indent=2) + "\n", encoding="utf-8")
    return contacts_path, truth_path, manifest_path
