"""Generate tests/data/pii_realtext.jsonl: PII planted into REAL complaint and support text.

The first evaluation set (``make_pii_eval``) was written alongside the redactor and flatters it.
This one starts from text nobody here wrote: CFPB payday-loan narratives (``../shared/data/cfpb``,
sentences as written, the CFPB's own ``XXXX`` masks included), Banking77 and Bitext utterances.
Into each picked passage one value is planted by category, at the positions such values take in
real contacts: an introduction before the text ("My name is ..."), contact details or a signature
after it, or a clause between two of its sentences. Values are generated, not listed: Luhn-valid
cards in five writing styles, IBANs with computed mod-97 check digits for six countries, phones in
nine national formats, names drawn from several cultures, US and UK street addresses.

Hard negatives come from the same real text: every legal citation (U.S.C., CFR, "Section N") and
amount that the narratives contain, kept verbatim, plus real sentences with an app version, a
date of an event or a short product code planted in (these are too rare in the corpora to take
as they are). A row records what it protects, so over-redaction is measured per category.

Run: ``python -m experiments.make_pii_realtext [--seed 17]`` (deterministic for a seed; the
committed jsonl is what tests and ``experiments.redaction_eval`` read).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT_PATH = REPO / "tests" / "data" / "pii_realtext.jsonl"
CFPB_PATH = REPO.parent / "shared" / "data" / "cfpb" / "payday_loan_complaints_2023.csv"
DATA_DIR = REPO / "data"
DEFAULT_SEED = 17
PLANTED_PER_KIND = 120
NEGATIVES_PER_REAL_KIND = 150
NEGATIVES_PER_PLANTED_KIND = 60
SENTENCE_MIN_CHARS, SENTENCE_MAX_CHARS = 30, 260

# ---------------------------------------------------------------------------------------------
# Real text
# ---------------------------------------------------------------------------------------------

_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|\n+")


def real_passages(cfpb_path: Path = CFPB_PATH, data_dir: Path = DATA_DIR) -> list[str]:
    """Real sentences: CFPB narrative sentences, Banking77 and Bitext utterances."""
    narratives = pd.read_csv(cfpb_path)["Consumer complaint narrative"].dropna().astype(str)
    sentences = [
        s.strip()
        for text in narratives
        for s in _SENTENCE_SPLIT_RE.split(text)
        if SENTENCE_MIN_CHARS <= len(s.strip()) <= SENTENCE_MAX_CHARS
    ]
    banking = pd.concat(pd.read_csv(p) for p in sorted((data_dir / "banking77").glob("*.csv")))
    bitext = pd.concat(pd.read_csv(p) for p in sorted((data_dir / "bitext").glob("*.csv")))
    return (
        sentences + banking["text"].astype(str).tolist() + bitext["utterance"].astype(str).tolist()
    )


def cfpb_narratives(cfpb_path: Path = CFPB_PATH) -> list[str]:
    return pd.read_csv(cfpb_path)["Consumer complaint narrative"].dropna().astype(str).tolist()


# ---------------------------------------------------------------------------------------------
# Value generators
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = (  # noqa: SIM905
    "David Kevin Maria Priya Wei Ahmed Fatima Olumide Siobhan Tomasz José Zoë Hiroshi"
    " Aisha Connor Mei Rahul Chloe Dmitri Lucia Kwame Ingrid Mohammed Ana Brandon Keisha"
    " Thanh Samuel Elena Tyrone Yusuf Grace"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Simons Drayne Garcia Sharma Zhang Hassan Okafor Murphy Kowalski Núñez Tanaka Patel"
    " Nguyen O'Brien Ivanova Fernández Mensah Johansson Rahman Silva Washington Brown Tran"
    " Cohen Rossi Martinez Abdullah Kim Jackson Williams Lopez"
).split()
STREETS = (  # noqa: SIM905
    "Palmer Maple Oak Elm Cedar Washington Lincoln Highland Church Mill Park Victoria"
    " King Station Green Lake Sunset Willow Meadow Bridge"
).split()
STREET_SUFFIXES = (  # noqa: SIM905
    "Road Street Avenue Lane Drive Court Blvd Way Rd St Ave Terrace Close"
).split()
US_TOWNS = (
    ("Enfield", "NH"),
    ("Springfield", "IL"),
    ("Houston", "TX"),
    ("Columbus", "OH"),
    ("Fresno", "CA"),
    ("Tampa", "FL"),
    ("Atlanta", "GA"),
    ("Mesa", "AZ"),
)
UK_TOWNS = (
    ("Enfield", "EN1 3PB"),
    ("Leeds", "LS6 2AB"),
    ("London", "SW1A 1AA"),
    ("Bristol", "BS8 4QT"),
)
EMAIL_DOMAINS = (  # noqa: SIM905
    "gmail.com yahoo.com outlook.com hotmail.co.uk icloud.com proton.me aol.com"
).split()
SHORTENERS = ["bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "rb.gy", "cutt.ly"]
LABELS_ACCOUNT = (
    "account number",
    "Account Number :",
    "acct #",
    "account no.",
    "loan account number",
    "Account number:",
    "my account is",
)
LABELS_ID = ("order #", "case number", "ticket #", "reference number", "loan number", "Order ID:")
IBAN_FORMATS = {  # country: BBAN pattern (n = digit, a = upper letter, c = alphanumeric)
    "GB": "aaaannnnnnnnnnnnnn",
    "DE": "nnnnnnnnnnnnnnnnnn",
    "FR": "nnnnnnnnnnccccccccccnnn",
    "NL": "aaaannnnnnnnnn",
    "ES": "nnnnnnnnnnnnnnnnnnnn",
    "IT": "annnnnnnnnnccccccccccccc",
}


def luhn_complete(prefix_and_body: str) -> str:
    """Append the Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(prefix_and_body)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return prefix_and_body + str((10 - total % 10) % 10)


def gen_card(rng: random.Random) -> str:
    issuer = rng.choice(["4", "51", "52", "55", "2221", "6011", "34", "37"])
    length = 15 if issuer in ("34", "37") else 16
    body = issuer + "".join(rng.choice(string.digits) for _ in range(length - len(issuer) - 1))
    digits = luhn_complete(body)
    if length == 15:
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i : i + 4] for i in range(0, 16, 4)]
    return rng.choice([" ", "-", ".", "  ", ""]).join(groups)


def gen_iban(rng: random.Random) -> str:
    country, pattern = rng.choice(sorted(IBAN_FORMATS.items()))
    alphabet = {
        "n": string.digits,
        "a": string.ascii_uppercase,
        "c": string.ascii_uppercase + string.digits,
    }
    bban = "".join(rng.choice(alphabet[c]) for c in pattern)
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    compact = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if rng.random() < 0.5:
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def gen_phone(rng: random.Random) -> str:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    area = str(rng.randint(201, 989))
    return rng.choice(
        [
            f"({area}) 555-{d(4)}",
            f"{area}-555-{d(4)}",
            f"{area}.555.{d(4)}",
            f"+1 {area} 555 {d(4)}",
            f"({area}) 555-{d(4)} ext. {rng.randint(1, 999)}",
            f"+44 20 7946 {d(4)}",
            f"07700 900{d(3)}",
            f"+62 812-{d(4)}-{d(4)}",
            f"+91 98{d(3)} {d(5)}",
            f"138 {d(4)} {d(4)}",
            f"+49 30 {d(6)}",
            f"1-800-555-{d(4)}",
        ]
    )


def gen_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return rng.choice(
        [
            f"{first} {last}",
            f"{first} {last}",
            f"{first} {rng.choice(string.ascii_uppercase)}. {last}",
        ]
    )


def gen_address(rng: random.Random) -> str:
    street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}"
    if rng.random() < 0.6:
        town, state = rng.choice(US_TOWNS)
        return (
            f"{street}, {town}, {state} {rng.randint(10000, 99999)}"
            if rng.random() < 0.7
            else f"{street}, {town} {state}"
        )
    town, postcode = rng.choice(UK_TOWNS)
    return f"{street}, {town} {postcode}"


def gen_email(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES).lower()
    last = rng.choice(LAST_NAMES).lower().replace("'", "")
    local = rng.choice(
        [f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{first}_{last}"]
    )
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def gen_url(rng: random.Random) -> str:
    code = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(3, 7)))
    token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(12))
    return rng.choice(
        [
            f"{rng.choice(SHORTENERS)}/{code}",
            f"https://{rng.choice(SHORTENERS)}/{code}",
            f"https://secure.lender.com/pay?token={token}",
            f"https://www.lender.com/account/{rng.randint(100000, 9999999)}/statement",
            f"http://track.example.com/p/{token}",
        ]
    )


def gen_account(rng: random.Random) -> str:
    return "".join(rng.choice(string.digits) for _ in range(rng.randint(4, 12)))


def gen_labelled_id(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(0, 3)))
    digits = "".join(rng.choice(string.digits) for _ in range(rng.randint(2, 8)))
    return rng.choice([f"{letters}{digits}", f"{letters}{digits[:2]}-{digits[2:] or '7'}"]).lstrip(
        "-"
    )


def gen_handle(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES).lower()
    return rng.choice(
        [
            f"@{first}_{rng.choice(LAST_NAMES).lower().replace(chr(39), '')}{rng.randint(1, 99)}",
            f"@{rng.randint(1000, 99999)}",
            f"@{first}{rng.randint(1, 999)}",
        ]
    )


def gen_dob(rng: random.Random) -> str:
    year, month, day = rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28)
    months = (  # noqa: SIM905
        "January February March April May June July August September October November December"
    ).split()
    return rng.choice(
        [
            f"{month:02d}/{day:02d}/{year}",
            f"{year}-{month:02d}-{day:02d}",
            f"{months[month - 1]} {day}, {year}",
        ]
    )


# ---------------------------------------------------------------------------------------------
# Where values go: (position, frame). {v} is the value; the frame joins the real passage.
# ---------------------------------------------------------------------------------------------

PREFIX, SUFFIX, MIDDLE = "prefix", "suffix", "middle"
FRAMES: dict[str, list[tuple[str, str]]] = {
    "NAME": [
        (PREFIX, "My name is {v}."),
        (PREFIX, "Full name: {v}\n"),
        (PREFIX, "This is {v} writing about my loan."),
        (SUFFIX, "\nThanks,\n{v}"),
        (SUFFIX, "\n{v}"),
        (SUFFIX, "Regards, {v}"),
        (MIDDLE, "I spoke with {v} on the phone."),
        (MIDDLE, "Your agent {v} told me it would be fixed."),
        (PREFIX, "Account holder: {v}."),
    ],
    "ADDRESS": [
        (MIDDLE, "I live at {v}."),
        (SUFFIX, "My address is {v}."),
        (MIDDLE, "They sent the letter to {v} instead."),
        (SUFFIX, "Address: {v}"),
        (PREFIX, "Mailing address {v}."),
    ],
    "EMAIL": [
        (SUFFIX, "You can reach me at {v}."),
        (PREFIX, "{v} is the email on the account."),
        (MIDDLE, "I emailed them from {v} twice."),
        (SUFFIX, "Email: {v}"),
    ],
    "PHONE": [
        (SUFFIX, "Please call me at {v}."),
        (MIDDLE, "They kept calling {v} every day."),
        (SUFFIX, "Phone: {v}"),
        (PREFIX, "My number is {v}."),
    ],
    "CARD": [
        (MIDDLE, "They charged my card {v} again."),
        (SUFFIX, "The card I used was {v}."),
        (PREFIX, "Card {v} was debited without permission."),
    ],
    "IBAN": [
        (SUFFIX, "Please refund to {v}."),
        (MIDDLE, "The payment came from my account {v} abroad."),
        (SUFFIX, "IBAN: {v}"),
    ],
    "ACCOUNT": [(MIDDLE, "{label} {v}."), (SUFFIX, "{label} {v}"), (PREFIX, "Re: {label} {v}.")],
    "ID": [
        (MIDDLE, "My {label}{v} is still open."),
        (SUFFIX, "{label} {v}"),
        (PREFIX, "Re {label}{v}:"),
    ],
    "URL": [
        (MIDDLE, "The text message had a link {v} in it."),
        (SUFFIX, "I clicked {v} and paid."),
        (SUFFIX, "Link: {v}"),
    ],
    "HANDLE": [
        (SUFFIX, "DM me at {v}."),
        (MIDDLE, "I posted about it as {v} on Twitter."),
        (SUFFIX, "{v}"),
    ],
    "DOB": [
        (MIDDLE, "My date of birth is {v}."),
        (PREFIX, "DOB: {v}."),
        (SUFFIX, "I was born on {v}."),
    ],
}
GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "NAME": gen_name,
    "ADDRESS": gen_address,
    "EMAIL": gen_email,
    "PHONE": gen_phone,
    "CARD": gen_card,
    "IBAN": gen_iban,
    "ACCOUNT": gen_account,
    "ID": gen_labelled_id,
    "URL": gen_url,
    "HANDLE": gen_handle,
    "DOB": gen_dob,
}


def _plant(rng: random.Random, passages: list[str], kind: str) -> dict[str, Any]:
    position, frame = rng.choice(FRAMES[kind])
    value = GENERATORS[kind](rng)
    if kind in ("ACCOUNT", "ID"):
        label = rng.choice(LABELS_ACCOUNT if kind == "ACCOUNT" else LABELS_ID)
        frame = frame.replace(
            "{label}", label if kind == "ACCOUNT" or label.endswith(("#", ":")) else label + " "
        )
    clause = frame.replace("{v}", value)
    base = rng.choice(passages)
    if position == PREFIX:
        text = clause + ("" if clause.endswith("\n") else " ") + base
    elif position == SUFFIX:
        text = base + ("" if clause.startswith("\n") else " ") + clause
    else:
        second = rng.choice(passages)
        text = f"{base} {clause} {second}"
    return {
        "text": text,
        "pii": [{"kind": kind, "value": value}],
        "protected": [],
        "source": "planted",
    }


# ---------------------------------------------------------------------------------------------
# Hard negatives
# ---------------------------------------------------------------------------------------------

CITATION_RE = re.compile(
    r"\b\d{1,2}\s*U\.?\s?S\.?\s?(?:C\b\.?|Code\b)\s*§*\s*\d+[A-Za-z]{0,2}(?:-\d+)?"
    r"|\b\d{1,2}usc\d+[a-z]?\b|\b\d{1,2}\s*C\.?F\.?R\.?\s*(?:part\s*|§\s*)?\d+(?:\.\d+)*"
    r"|\bSection\s+\d+[A-Za-z]?(?:\s*\(\s*[a-z0-9]+\s*\))*",
    re.IGNORECASE,
)
AMOUNT_RE = re.compile(r"\{\$[\d,]+(?:\.\d{2})?\}|[$£€]\s?\d[\d,]*(?:\.\d{2})?")
VERSIONS = [
    "5.12.3",
    "v2.4",
    "14.2.1",
    "version 8.0",
    "iOS 17.4.1",
    "Android 14",
    "3.1.0 (build 412)",
]
VERSION_FRAMES = [
    "After updating the app to {v} it keeps crashing.",
    "The app {v} will not load my balance.",
]
DATES = [
    "March 3, 2023",
    "03/15/2023",
    "2023-04-01",
    "last Friday, June 2",
    "12 Jan 2023",
    "on 7/14",
]
DATE_FRAMES = ["The payment was due on {v}.", "I paid in full on {v} and they still charged me."]
CODES = ["W-2", "HJR-192", "UCC-1", "Form 1099-C", "SM-G991B", "A12", "T-Mobile", "Plan B2"]
CODE_FRAMES = ["They asked me for a {v} again.", "I sent the {v} they requested."]


def _real_negatives(
    rng: random.Random, narratives: list[str], pattern: re.Pattern[str], kind: str
) -> list[dict[str, Any]]:
    candidates = []
    for text in narratives:
        for sentence in _SENTENCE_SPLIT_RE.split(text):
            sentence = sentence.strip()
            if not SENTENCE_MIN_CHARS <= len(sentence) <= 2 * SENTENCE_MAX_CHARS:
                continue
            found = [m.group().strip() for m in pattern.finditer(sentence)]
            if found:
                candidates.append((sentence, found))
    rng.shuffle(candidates)
    return [
        {
            "text": s,
            "pii": [],
            "protected": [{"kind": kind, "value": v} for v in found],
            "source": "real",
        }
        for s, found in candidates[:NEGATIVES_PER_REAL_KIND]
    ]


def _planted_negatives(
    rng: random.Random, passages: list[str], kind: str, values: list[str], frames: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for _ in range(NEGATIVES_PER_PLANTED_KIND):
        value = rng.choice(values)
        clause = rng.choice(frames).replace("{v}", value)
        rows.append(
            {
                "text": f"{rng.choice(passages)} {clause}",
                "pii": [],
                "protected": [{"kind": kind, "value": value}],
                "source": "planted",
            }
        )
    return rows


def build_rows(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    passages = real_passages()
    # passages with digits of their own would blur what a span overlapped; keep those for negatives
    clean = [p for p in passages if not re.search(r"\d|@|www\.|https?:", p)]
    rows = [_plant(rng, clean, kind) for kind in GENERATORS for _ in range(PLANTED_PER_KIND)]
    narratives = cfpb_narratives()
    rows += _real_negatives(rng, narratives, CITATION_RE, "CITATION")
    rows += _real_negatives(rng, narratives, AMOUNT_RE, "AMOUNT")
    rows += _planted_negatives(rng, clean, "VERSION", VERSIONS, VERSION_FRAMES)
    rows += _planted_negatives(rng, clean, "DATE", DATES, DATE_FRAMES)
    rows += _planted_negatives(rng, clean, "CODE", CODES, CODE_FRAMES)
    for row in rows:
        for item in row["pii"] + row["protected"]:
            if item["value"] not in row["text"]:
                raise ValueError(f"{item['value']!r} not in {row['text']!r}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args(argv)
    rows = build_rows(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    planted = sum(bool(row["pii"]) for row in rows)
    print(
        f"wrote {len(rows)} rows ({planted} with planted PII, "
        f"{len(rows) - planted} hard negatives) to {args.out}"
    )


if __name__ == "__main__":
    main()
