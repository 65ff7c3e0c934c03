"""Issue 17: context rules, export masks, citations, the NER level and the real-text targets.

The real-text set (tests/data/pii_realtext.jsonl, `python -m experiments.make_pii_realtext`)
plants PII into CFPB, Banking77 and Bitext text; these tests hold the issue's targets on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from rca.text.audience import NER, PATTERNS, RedactionPolicy, for_people
from rca.text.redact import find_pii, redact
from rca.text.spans import PiiSpan, merge_adjacent

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from experiments.redaction_realtext_eval import (  # noqa: E402
    MAX_OVER_REDACTION,
    TARGETS,
    load_rows,
    policy_finder,
    score,
)

PATTERN_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "ACCOUNT", "URL")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Account Number : 15306", "Account Number : [ACCOUNT]"),
        ("order #A12-77 never came", "order #[ID] never came"),
        ("Reference 12345 on the letter.", "Reference [ID] on the letter."),
        ("ping @15913 or @john_smith92", "ping [HANDLE] or [HANDLE]"),
        ("see bit.ly/abc and t.co/xyz", "see [URL] and [URL]"),
        ("DOB: 12/03/1985, paid on 12/03/2023", "DOB: [DOB], paid on 12/03/2023"),
        ("I was born on March 3, 1985.", "I was born on [DOB]."),
        ("call +62 812-3456-7890", "call [PHONE]"),
        ("(415) 555-0134 ext. 12 after 5", "[PHONE] after 5"),
        ("mobile 138 0013 8000", "mobile [PHONE]"),
        ("card 4111.1111.1111.1111", "card [CARD]"),
        ("card 4111  1111  1111  1111", "card [CARD]"),
        ("mail josé.núñez@correo.es", "mail [EMAIL]"),
        ("from 2001:db8:85a3::8a2e:370:7334 at 10:30:00", "from [IP] at 10:30:00"),
        ("Full name: David Simons", "Full name: [NAME]"),
        ("my name is Kevin Drayne and", "my name is [NAME] and"),
        ("I live at 95 Palmer Road, Enfield NH 03748 now", "I live at [ADDRESS] now"),
        ("Flat 3, 12 High Street, London SW1A 1AA", "[ADDRESS]"),
        ("paid {$1400.00} on XX/XX/XXXX to XXXX XXXX", "paid $1400.00 on [DATE] to [REDACTED]"),
    ],
)
def test_pattern_level(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_brand_handle_is_kept() -> None:
    assert redact("thanks @AcmeBank and @jo_82", keep_handles=["@acmebank"]) == (
        "thanks @AcmeBank and [HANDLE]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "violated 15usc1681c and 15USC1666B",
        "under 15 U.S.C. 1691 and 15 U.S.C 1681s-2(a)",
        "Section 110401 of the Heroes Act",
        "12 CFR 1026.13 and 12 C.F.R. § 1002.9",
        "Pub. L. No. 116-136",
        "App version 5.12.3 after the 2023-04-01 update, W-2 and UCC-1 forms",
        "my account is 3 years old; order placed 3 weeks ago; a loan of 500",
        "Invoice #00108 for $1,299.99",
        "a lower-case xxxx is not a mask",
    ],
)
def test_citations_and_negatives_stay(text: str) -> None:
    assert find_pii(text) == [], find_pii(text)


def test_merge_adjacent_addresses() -> None:
    text = "12 Baker Street, Springfield"
    spans = [PiiSpan(0, 15, "ADDRESS"), PiiSpan(17, 28, "ADDRESS")]
    assert merge_adjacent(text, spans, "ADDRESS") == [PiiSpan(0, 28, "ADDRESS")]


def test_ner_level_names_addresses_and_what_stays() -> None:
    texts = [
        "I spoke to Maria Lopez at the branch.",
        "Please help.\nTan khai wah",
        "Still waiting.\r\nThanks, Zoë",
        "Sent to 12 Baker Street, Springfield yesterday",
        "I moved to Germany and the transfer failed on XX/XX/XXXX.",
        "Greensky violated 15 U.S.C 1691. [NAME] called XXXX XXXX.",
    ]
    assert RedactionPolicy().redact(texts) == [
        "I spoke to [NAME] at the branch.",
        "Please help.\n[NAME]",
        "Still waiting.\r\nThanks, [NAME]",
        "Sent to [ADDRESS] yesterday",
        "I moved to Germany and the transfer failed on [DATE].",
        "Greensky violated 15 U.S.C 1691. [NAME] called [REDACTED].",
    ]


def test_patterns_level_skips_ner_and_series_keep_missing_values() -> None:
    policy = RedactionPolicy(level=PATTERNS)
    assert policy.redact(["I spoke to Maria Lopez"]) == ["I spoke to Maria Lopez"]
    s = pd.Series(["I spoke to Maria Lopez, mail a@b.com", None], index=[7, 9], dtype=object)
    out = RedactionPolicy(level=NER).redact_series(s)
    assert out.tolist() == ["I spoke to [NAME], mail [EMAIL]", None]
    assert out.index.tolist() == [7, 9]
    assert for_people([]) == []


def test_settings_choose_the_level_per_audience(settings) -> None:
    custom = settings.model_copy(update={"redact_keep_handles": ["AcmeBank"]})
    assert RedactionPolicy.from_settings(custom, "ingest").level == PATTERNS
    people = RedactionPolicy.from_settings(custom, "people")
    assert people.level == NER and people.keep_handles == ("AcmeBank",)


@pytest.fixture(scope="module")
def realtext() -> list[dict]:
    return load_rows()


def test_realtext_patterns_meet_the_targets(realtext: list[dict]) -> None:
    result = score(realtext, policy_finder(RedactionPolicy(level=PATTERNS)))
    for kind in PATTERN_KINDS:
        assert result["recall"][kind] >= TARGETS[kind], (kind, result["misses"][:5])
    for category, rate in result["over_redaction"].items():
        assert rate <= MAX_OVER_REDACTION, (category, result["over"][:5])


def test_realtext_ner_names_and_addresses(realtext: list[dict]) -> None:
    rows = [r for r in realtext if any(p["kind"] in ("NAME", "ADDRESS") for p in r["pii"])]
    rows += [r for r in realtext if r["protected"]][::4]
    result = score(rows, policy_finder(RedactionPolicy(level=NER)))
    for kind in ("NAME", "ADDRESS"):
        assert result["recall"][kind] >= TARGETS[kind], (kind, result["misses"][:5])
    for category, rate in result["over_redaction"].items():
        assert rate <= MAX_OVER_REDACTION, (category, result["over"][:5])


def test_export_masks_never_reach_keywords() -> None:
    from rca.cluster.labels import preprocess

    stored = redact("On XX/XX/XXXX XXXX XXXX charged me {$1400.00} for XXXX")
    assert stored == "On [DATE] [REDACTED] charged me $1400.00 for [REDACTED]"
    assert "xx" not in preprocess(stored)


def test_names_are_found_without_importing_transformers_which_still_imports_after() -> None:
    """Presidio's transformers engine (3 s of import) is hidden while Presidio loads, in a fresh
    process as a CLI command starts; names are still found and transformers still imports."""
    import subprocess

    code = (
        "import sys\n"
        "from rca.text.audience import RedactionPolicy\n"
        "spans = RedactionPolicy().find(['the bill from Anna Freeman came'])[0]\n"
        "assert [s.kind for s in spans] == ['NAME'], spans\n"
        "assert 'transformers' not in sys.modules\n"
        "from transformers import AutoTokenizer\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def _cased(row: dict, case) -> dict:
    """A real-text row written as a title or in capitals, its planted values with it."""
    return {
        **row,
        "text": case(row["text"]),
        "pii": [{**p, "value": case(p["value"])} for p in row["pii"]],
        "protected": [{**p, "value": case(p["value"])} for p in row["protected"]],
    }


def _title(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


def test_titles_and_shouts_name_people_and_not_their_words() -> None:
    """A title's capitals are no cue: title words are not people, and people are still found,
    in capitals too (stop 54: the small model found no one in capitals)."""
    texts = [
        "Can Ya Help Me To Cancel Purchase",
        "Cancel Order",
        "Switch Off The Plug Socket",
        "My Transfer To Be Declined",
        "This Is Chloe Sharma Writing About My Loan",
        "I SPOKE WITH PRIYA SHARMA ON THE PHONE ABOUT MY XXXX LOAN",
        "Invoice From Ms. Hawkings",
        "Chat With Kwame A. Drayne About The Card",
        "What Can I Do If Contactless Doesn'T Work?",  # an export's str.title()
        "Cancel Order\n\nHi, I want to cancel my order. I spoke with Anna Freeman",  # subject
        "Card Declined\n\nmy card got declined at the shop",
        "Payout Not Received Since Monday\n\nMy payout has not arrived.\nThanks\nTan khai wah",
    ]
    assert RedactionPolicy().redact(texts) == [
        "Can Ya Help Me To Cancel Purchase",
        "Cancel Order",
        "Switch Off The Plug Socket",
        "My Transfer To Be Declined",
        "This Is [NAME] Writing About My Loan",
        "I SPOKE WITH [NAME] ON THE PHONE ABOUT MY [REDACTED] LOAN",
        "Invoice From Ms. [NAME]",
        "Chat With [NAME] About The Card",
        "What Can I Do If Contactless Doesn'T Work?",
        "Cancel Order\n\nHi, I want to cancel my order. I spoke with [NAME]",
        "Card Declined\n\nmy card got declined at the shop",
        "Payout Not Received Since Monday\n\nMy payout has not arrived.\nThanks\n[NAME]",
    ]


@pytest.mark.parametrize("case", [_title, str.upper], ids=["title", "capitals"])
def test_realtext_names_in_titles_and_capitals(realtext: list[dict], case) -> None:
    """The real-text set's names written as titles (0.917 before stop 54) and in capitals
    (0.158) are found as in prose (0.992): experiments/results/titled_redaction.md."""
    rows = [_cased(r, case) for r in realtext if any(p["kind"] == "NAME" for p in r["pii"])]
    result = score(rows, policy_finder(RedactionPolicy(level=NER)))
    assert result["recall"]["NAME"] >= TARGETS["NAME"], result["misses"][:5]
