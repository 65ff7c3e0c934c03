"""rca.text.redact: every PII kind, validators, the must-not-redact list, overlaps, the eval set."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rca.text.redact import (
    KIND_PRIORITY,
    PLACEHOLDERS,
    PiiSpan,
    _resolve_overlaps,
    find_pii,
    iban_valid,
    luhn_valid,
    redact,
    redact_series,
)

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `experiments` is a top-level folder, not an installed package
    sys.path.insert(0, str(REPO))

from experiments.redaction_eval import evaluate, load_corpus_texts  # noqa: E402

EVAL_PATH = Path(__file__).parent / "data" / "pii_eval.jsonl"
DATA_DIR = REPO / "data"
MIN_RECALL = 0.95
MAX_FP_PER_100_NEGATIVES = 2.0
INGEST_TEXTS = 20_000
INGEST_BUDGET_S = 5.0
PLACEHOLDER_RE = re.compile(r"\[[A-Z]+\]")


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Reply to john.doe+orders@example.com please", "john.doe+orders@example.com", "EMAIL"),
        ("MARY.JONES@EXAMPLE.CO.UK is my login", "MARY.JONES@EXAMPLE.CO.UK", "EMAIL"),
        ("Call +44 20 7946 0958 today", "+44 20 7946 0958", "PHONE"),
        ("Call (415) 555-2671 today", "(415) 555-2671", "PHONE"),
        ("Call 415.555.2671 today", "415.555.2671", "PHONE"),
        ("Call 07700 900123 today", "07700 900123", "PHONE"),
        ("Call 07700900123 today", "07700900123", "PHONE"),
        ("Call 1-800-555-0199 today", "1-800-555-0199", "PHONE"),
        ("Call (020) 7946 0958 today", "(020) 7946 0958", "PHONE"),
        ("my phone is 555-0134", "555-0134", "PHONE"),
        ("Card 4111 1111 1111 1111 declined", "4111 1111 1111 1111", "CARD"),
        ("Card 4111-1111-1111-1111 declined", "4111-1111-1111-1111", "CARD"),
        ("Card 5555555555554444 declined", "5555555555554444", "CARD"),
        ("Amex 3782 822463 10005 declined", "3782 822463 10005", "CARD"),
        ("Pay to GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32", "IBAN"),
        ("Pay to GB82WEST12345698765432.", "GB82WEST12345698765432", "IBAN"),
        ("Pay to DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00", "IBAN"),
        ("account number 12345678 is frozen", "12345678", "ACCOUNT"),
        ("sort code 12-34-56 is wrong", "12-34-56", "ACCOUNT"),
        ("IBAN: GB00 WEST 1234 5698 7654 32 bounced", "GB00 WEST 1234 5698 7654 32", "ACCOUNT"),
        (
            "Open https://example.com/reset?token=abc123",
            "https://example.com/reset?token=abc123",
            "URL",
        ),
        (
            "See www.example.com/orders/40981234/invoice",
            "www.example.com/orders/40981234/invoice",
            "URL",
        ),
        ("See https://bit.ly/3xYz9Ab now", "https://bit.ly/3xYz9Ab", "URL"),
        ("Where is order 00123842?", "00123842", "ID"),
        ("Where is order 113542617735902?", "113542617735902", "ID"),
        ("Tracking 1Z999AA10123456784 stuck", "1Z999AA10123456784", "ID"),
        ("Tracking TBA123456789000 stuck", "TBA123456789000", "ID"),
        ("Order #112-3456789-1234567 late", "112-3456789-1234567", "ID"),
        ("Login from 192.168.1.24 was not me", "192.168.1.24", "IP"),
    ],
)
def test_each_kind_is_found(text: str, value: str, kind: str) -> None:
    assert (value, kind) in spans_of(text)
    assert redact(text) == text.replace(value, f"[{kind}]")


@pytest.mark.parametrize(
    "text",
    [
        "It cost £25.00, then $1,299.99 and 25 euros.",
        "On 12/03/2024 or 2024-03-12 at 10:30, maybe 12.03.2024.",
        "Since 2019 I have used it; in 2024 it broke.",
        "It took 2 days and 3 hours.",
        "My card ending 1234 was declined.",
        "App v5.12.3 and version 5.12, also version 2.3.4.5.",
        "45% of payments and 3.5% fees.",
        "Error 0x80070005 on the statement page.",
        "Invoice #00108 is wrong.",
        "See https://example.com/help and example.com for details.",
        "The total was 123456 yen and I got 100000 points.",
        "My order arrived on 20240312.",
        "I paid 1.234,56 € and £2,500,000 is blocked.",
        "The timestamp is 2024-03-12T10:30:00Z.",
        "Just an ordinary complaint about a late parcel.",
    ],
)
def test_must_not_redact(text: str) -> None:
    assert find_pii(text) == []
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_luhn_failing_run_is_an_id_not_a_card() -> None:
    assert spans_of("card 4111111111111112 failed") == [("4111111111111112", "ID")]
    assert spans_of("card 4111 1111 1111 1112 failed") == [("4111 1111 1111 1112", "ID")]


def test_card_needs_an_issuer_prefix() -> None:
    # Luhn-valid but starting with 0: an order id, not a card.
    assert luhn_valid("0000000000000000")
    assert spans_of("order 0000000000000000") == [("0000000000000000", "ID")]


def test_card_next_to_other_numbers() -> None:
    text = "card 4111 1111 1111 1111 12/26 cvv 123"
    assert spans_of(text) == [("4111 1111 1111 1111", "CARD")]


def test_iban_checksum() -> None:
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB83WEST12345698765432")
    assert not iban_valid("GB82")


def test_bad_checksum_iban_is_not_an_iban_unless_labelled() -> None:
    assert all(kind != "IBAN" for _, kind in spans_of("ref GB83 WEST 1234 5698 7654 32"))
    assert spans_of("iban GB83 WEST 1234 5698 7654 32") == [
        ("GB83 WEST 1234 5698 7654 32", "ACCOUNT")
    ]


def test_iban_does_not_swallow_following_words() -> None:
    assert spans_of("IBAN GB82 WEST 1234 5698 7654 32 PLEASE HURRY") == [
        ("GB82 WEST 1234 5698 7654 32", "IBAN")
    ]


def test_url_rule() -> None:
    assert find_pii("https://example.com/help") == []
    assert find_pii("https://help.example.com/articles/how-to-return-items") == []
    assert spans_of("https://example.com/s/aB3dE5fG7hJ9kL1mN2.") == [
        ("https://example.com/s/aB3dE5fG7hJ9kL1mN2", "URL")
    ]
    assert spans_of("go to example.com/track?id=XY12") == [("example.com/track?id=XY12", "URL")]


def test_glued_word_keeps_the_word() -> None:
    assert redact("cancel order113542617735902 now") == "cancel order[ID] now"


def test_min_digit_run_is_configurable() -> None:
    assert redact("parcel 12345 late") == "parcel 12345 late"
    assert redact("parcel 12345 late", min_digit_run=5) == "parcel [ID] late"
    assert redact("parcel 1234567 late", min_digit_run=8) == "parcel 1234567 late"
    with pytest.raises(ValueError):
        find_pii("x", min_digit_run=0)


def test_overlap_url_beats_email_inside_it() -> None:
    text = "open http://example.com/verify?u=john@example.com now"
    assert spans_of(text) == [("http://example.com/verify?u=john@example.com", "URL")]


def test_overlap_same_span_uses_kind_priority() -> None:
    assert spans_of("account number 12345678") == [("12345678", "ACCOUNT")]
    assert spans_of("phone: 12345678") == [("12345678", "PHONE")]


def test_resolve_overlaps_order() -> None:
    spans = [
        PiiSpan(5, 10, "ID"),
        PiiSpan(0, 4, "ID"),
        PiiSpan(0, 8, "PHONE"),
        PiiSpan(0, 8, "CARD"),
        PiiSpan(12, 20, "ID"),
        PiiSpan(12, 20, "EMAIL"),
    ]
    assert _resolve_overlaps(spans) == [PiiSpan(0, 8, "CARD"), PiiSpan(12, 20, "EMAIL")]
    assert _resolve_overlaps(reversed(spans)) == _resolve_overlaps(spans)


def test_placeholders() -> None:
    assert {f"[{kind}]" for kind in KIND_PRIORITY} == PLACEHOLDERS
    assert {"[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[URL]", "[ID]"} <= PLACEHOLDERS
    assert PiiSpan(0, 1, "EMAIL").placeholder == "[EMAIL]"


def _eval_texts() -> list[str]:
    with EVAL_PATH.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


def test_idempotent_and_only_known_placeholders() -> None:
    for text in _eval_texts():
        once = redact(text)
        assert redact(once) == once, text
        assert set(PLACEHOLDER_RE.findall(once)) <= PLACEHOLDERS


def test_redact_series_keeps_missing_values() -> None:
    s = pd.Series(["mail a@example.com", None, np.nan, "no pii"], dtype=object)
    out = redact_series(s, min_digit_run=6)
    assert out[0] == "mail [EMAIL]"
    assert out[3] == "no pii"
    assert out.isna().tolist() == [False, True, True, False]
    assert out.index.equals(s.index)


def test_redact_empty() -> None:
    assert redact("") == ""
    assert find_pii("") == []


def test_eval_set_shape() -> None:
    with EVAL_PATH.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    positives = [row for row in rows if row["pii"]]
    kinds = {item["kind"] for row in positives for item in row["pii"]}
    assert len(rows) >= 150 and len(positives) >= 100 and len(rows) - len(positives) >= 50
    assert {"EMAIL", "PHONE", "CARD", "IBAN", "URL", "ID"} <= kinds


def test_eval_recall_and_false_positives() -> None:
    report = evaluate(EVAL_PATH)
    assert report["recall"] >= MIN_RECALL, report["misses"]
    assert report["fp_per_100_negatives"] <= MAX_FP_PER_100_NEGATIVES, report["false_positives"]
    for kind, stats in report["per_kind"].items():
        assert stats["recall"] >= MIN_RECALL, kind


corpora_present = pytest.mark.skipif(
    not (DATA_DIR / "banking77").is_dir() or not (DATA_DIR / "bitext").is_dir(),
    reason="Banking77/Bitext data not checked out",
)


@corpora_present
def test_banking77_amounts_and_dates_untouched() -> None:
    texts = pd.concat(pd.read_csv(p) for p in sorted((DATA_DIR / "banking77").glob("*.csv")))
    changed = [t for t in texts["text"] if redact(t) != t]
    assert changed == []


@corpora_present
def test_bitext_order_ids_are_redacted() -> None:
    frame = pd.concat(pd.read_csv(p) for p in sorted((DATA_DIR / "bitext").glob("*.csv")))
    orders = frame[frame["entity_type"] == "order_id"]
    assert len(orders) > 0
    for text, value in zip(orders["utterance"], orders["entity_value"].astype(str), strict=True):
        assert value not in redact(text), text
        assert "[ID]" in redact(text)


@corpora_present
def test_redaction_is_fast_enough_for_ingest() -> None:
    texts = (load_corpus_texts() * 2)[:INGEST_TEXTS]
    started = time.perf_counter()
    redact_series(pd.Series(texts))
    assert time.perf_counter() - started < INGEST_BUDGET_S


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Still waiting. Regards, Alex Novak", "Still waiting. Regards, [NAME]"),
        ("Second time asking. Cheers, Ines", "Second time asking. Cheers, [NAME]"),
        ("Card declined.\nKind regards\nMaría José", "Card declined.\nKind regards\n[NAME]"),
        ("Call me back. Best, J. Smith", "Call me back. Best, [NAME]"),
        ("thank you very much", "thank you very much"),
        ("Thanks a lot!", "Thanks a lot!"),
        ("I bought it at Best Buy", "I bought it at Best Buy"),
        ("Thanks, Support Team", "Thanks, Support Team"),
        ("Thank you in advance", "Thank you in advance"),
    ],
)
def test_sign_off_names(text: str, expected: str) -> None:
    assert redact(text) == expected
