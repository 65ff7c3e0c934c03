"""Generate tests/data/pii_eval.jsonl, the labelled PII evaluation set for rca.text.redact.

Templates x fake-but-valid values (Luhn-valid test cards, valid-checksum example IBANs,
example.com addresses, 555/Ofcom drama phone numbers), paired deterministically so every value
appears in several positions and every kind in several formats. Hard negatives (amounts, dates,
versions, card tails, error codes, help-page URLs) carry no PII and measure false positives.

Run: ``python -m experiments.make_pii_eval`` (the committed jsonl is what tests read).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT_PATH = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_eval.jsonl"

#: Sentences per kind (ACCOUNT rows are listed explicitly); templates and values cycle
#: independently, and each count is at least the number of values so every value is used.
SENTENCES_PER_KIND = {
    "EMAIL": 14,
    "PHONE": 18,
    "CARD": 16,
    "IBAN": 12,
    "URL": 12,
    "ID": 18,
    "IP": 5,
}

VALUES: dict[str, list[str]] = {
    "EMAIL": [
        "john.doe@example.com",
        "jane_smith+orders@example.co.uk",
        "a.b-c@mail.example.org",
        "support.user99@example.net",
        "MARY.JONES@EXAMPLE.COM",
        "li.wei@sub.example.com",
        "o'neil@example.ie",
    ],
    "PHONE": [
        "+44 20 7946 0958",
        "(415) 555-2671",
        "415.555.2671",
        "07700 900123",
        "+1 415 555 2671",
        "020 7946 0958",
        "+33 1 23 45 67 89",
        "+49 30 901820",
        "1-800-555-0199",
        "07700900123",
        "+447700900123",
        "415-555-0134",
        "0161 496 0000",
        "+91 98765 43210",
        "+1 (212) 555-0187",
    ],
    "CARD": [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",
        "5555555555554444",
        "3782 822463 10005",
        "378282246310005",
        "6011 1111 1111 1117",
        "4012888888881881",
        "2223 0031 2200 3222",
        "4000 0566 5566 5556",
        "3530 1113 3330 0000",
        "3622 720627 1667",
        "4242-4242-4242-4242",
    ],
    "IBAN": [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00",
        "ES91 2100 0418 4502 0005 1332",
        "IT60 X054 2811 1010 0000 0123 456",
        "BE68 5390 0754 7034",
        "CH93 0076 2011 6238 5295 7",
        "IE29 AIBK 9311 5212 3456 78",
        "AT611904300234573201",
        "PL61 1090 1014 0000 0712 1981 2874",
    ],
    "URL": [
        "https://example.com/reset?token=8f3k2j9s",
        "http://track.example.com/parcel/123456789",
        "www.example.com/orders/40981234/invoice",
        "https://example.com/account/verify#code=Zx81Ka",
        "https://example.com/s/aB3dE5fG7hJ9kL1mN2",
        "example.com/track?id=XY12",
        "https://shop.example.com/checkout?session=abc&step=2",
        "https://example.org/u/9f8e7d6c5b4a39281706",
    ],
    "ID": [
        "00123842",
        "113542617735902",
        "1Z999AA10123456784",
        "TBA123456789000",
        "732201349959",
        "4098123",
        "AB123456789GB",
        "RMA20240057",
        "000123456",
        "9834712",
        "1Z12345E0205271688",
        "4111111111111112",
    ],
    "IP": ["192.168.1.24", "10.0.0.5", "203.0.113.42", "172.16.254.1", "198.51.100.7"],
}

TEMPLATES: dict[str, list[str]] = {
    "EMAIL": [
        "Please reply to {v} instead of my old address.",
        "{v} is the email on the account but I never get the codes.",
        "I changed my email to {v} yesterday and now I can't log in",
        "send the invoice to {v}, thanks",
        "Customer wrote from {v} asking about a refund.",
        "my login is {v} - password reset mail never arrives",
    ],
    "PHONE": [
        "Please call me back on {v} after 5pm.",
        "{v} is my mobile, the courier never rang it.",
        "The seller's number {v} goes straight to voicemail",
        "you can reach me at {v} or by email",
        "I updated my phone number to {v} but the SMS code still goes to the old one.",
        "Phone: {v}",
    ],
    "CARD": [
        "My card {v} was declined at the checkout.",
        "{v} is the card I used, please refund it.",
        "I was charged twice on card number {v} yesterday",
        "Payment failed with {v} even though the balance is fine.",
        "please remove the card {v} from my account",
    ],
    "IBAN": [
        "Please send the refund to my IBAN {v}.",
        "{v} is my new bank account, update it please",
        "I entered {v} for the payout but it bounced back",
        "Seller payout account: {v}",
        "Can you confirm the transfer to {v} went through?",
    ],
    "ACCOUNT": [
        "My account number is {v} and the transfer never arrived.",
        "sort code {v}, please check the direct debit",
        "acct no. {v} shows a negative balance",
        "The routing number {v} was rejected",
        "IBAN: {v} (I may have mistyped it)",
    ],
    "URL": [
        "I clicked {v} and it said the link expired.",
        "{v} shows an error page",
        "The tracking link {v} does not load on my phone",
        "Here is the link: {v}",
    ],
    "ID": [
        "Where is my order {v}? It was due last week.",
        "Order {v} arrived damaged.",
        "{v} still says in transit",
        "tracking number {v} hasn't updated in 4 days",
        "I want to cancel purchase {v}",
        "Refund for order #{v} please",
    ],
    "IP": [
        "Someone logged in from {v} and it wasn't me.",
        "{v} is blocked by your firewall",
        "The login alert shows IP address {v}",
    ],
}

#: Account numbers have no checksum, so each is planted after the label its template carries.
ACCOUNT_ROWS: list[tuple[int, str]] = [
    (0, "12345678"),
    (1, "12-34-56"),
    (2, "87654321"),
    (3, "021000021"),
    (4, "GB00 WEST 1234 5698 7654 32"),
    (0, "1122 3344"),
    (1, "40-11-62"),
    (2, "99887766"),
]

MULTI_PII: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Hi, I'm jane@example.com, phone (415) 555-2671, order 732201349959 never came.",
        [("EMAIL", "jane@example.com"), ("PHONE", "(415) 555-2671"), ("ID", "732201349959")],
    ),
    (
        "Card 4111 1111 1111 1111 charged £25.00 twice for order 00123842 on 12/03/2024",
        [("CARD", "4111 1111 1111 1111"), ("ID", "00123842")],
    ),
    (
        "Refund to GB82 WEST 1234 5698 7654 32 or call +44 20 7946 0958",
        [("IBAN", "GB82 WEST 1234 5698 7654 32"), ("PHONE", "+44 20 7946 0958")],
    ),
    (
        "tracking 1Z999AA10123456784 via https://track.example.com/t?n=1Z999AA10123456784",
        [
            ("ID", "1Z999AA10123456784"),
            ("URL", "https://track.example.com/t?n=1Z999AA10123456784"),
        ],
    ),
    (
        "Logged in from 203.0.113.42 with bob.smith@example.org and card 5555555555554444.",
        [
            ("IP", "203.0.113.42"),
            ("EMAIL", "bob.smith@example.org"),
            ("CARD", "5555555555554444"),
        ],
    ),
    (
        "Account number 12345678, sort code 40-11-62, phone 07700 900123.",
        [("ACCOUNT", "12345678"), ("ACCOUNT", "40-11-62"), ("PHONE", "07700 900123")],
    ),
    (
        "order113542617735902 was cancelled but the amount of $1,299.99 was taken",
        [("ID", "113542617735902")],
    ),
    (
        "Visa 4111111111111111 exp 12/26, I paid v5.12.3 app, ref TBA123456789000",
        [("CARD", "4111111111111111"), ("ID", "TBA123456789000")],
    ),
]

#: Messier formats found while probing the redactor by hand after the first run.
MESSY_PII: list[tuple[str, str, str]] = [
    ("tel +44 (0)20 7946 0958 anytime", "PHONE", "+44 (0)20 7946 0958"),
    ("my no is 07700-900-123", "PHONE", "07700-900-123"),
    ("call 212-555-0147 x 22", "PHONE", "212-555-0147"),
    ("call me on +353 87 123 4567 after work", "PHONE", "+353 87 123 4567"),
    ("(020) 7946 0958 is the office line", "PHONE", "(020) 7946 0958"),
    ("cc: 5105-1051-0510-5100 exp 09/27", "CARD", "5105-1051-0510-5100"),
    ("IBAN DE89370400440532013000, BIC COBADEFFXXX", "IBAN", "DE89370400440532013000"),
    ("iban de89 3704 0044 0532 0130 00", "IBAN", "de89 3704 0044 0532 0130 00"),
    ("Acc No: 12345678 is frozen", "ACCOUNT", "12345678"),
    ("https://bit.ly/3xYz9Ab was in the sms", "URL", "https://bit.ly/3xYz9Ab"),
    (
        "Open http://example.com/verify?u=john@example.com now",
        "URL",
        "http://example.com/verify?u=john@example.com",
    ),
    ("Order #112-3456789-1234567 (Amazon) is late", "ID", "112-3456789-1234567"),
    ("tracking: 9400111899223197428490", "ID", "9400111899223197428490"),
    ("My customer ID is CUST-00123456", "ID", "CUST-00123456"),
    ("Invoice 2024-000123 is wrong", "ID", "2024-000123"),
    ("SSN 123-45-6789 was on the form", "ID", "123-45-6789"),
    ("from 8.8.8.8 yesterday", "IP", "8.8.8.8"),
    ("Contact: <jane@example.com>", "EMAIL", "jane@example.com"),
]

HARD_NEGATIVES: list[str] = [
    "I was charged £25.00 twice on 12/03/2024.",
    "The refund of $1,299.99 hasn't arrived since 2024-03-12.",
    "App version 5.12.3 crashes at 10:30 every morning.",
    "My card ending 1234 was declined for 25 euros.",
    "I've waited 2 days and 3 hours for a reply.",
    "Update v5.12 broke login and 45% of my transfers fail.",
    "See https://example.com/help for the returns policy.",
    "I topped up €1,000 on 03.12.2024 at 14:45.",
    "Invoice #00108 shows the wrong VAT amount.",
    "Order placed 3 weeks ago, item 2 of 5 is missing.",
    "I paid 100 USD on 1 March 2024 and nothing happened.",
    "Your line is open between 9am and 5pm only?",
    "Card expiry 12/26 and the CVV is correct but it still fails.",
    "iOS 17.4.1 on an iPhone 15 Pro, the app freezes.",
    "Error 0x80070005 when I open the statement.",
    "Got error code 500 and then 404 on the orders page.",
    "It has been 14 days since 12 Mar 2024.",
    "Payment of £2,500,000 for the house deposit is blocked?",
    "The timestamp says 2024-03-12T10:30:00Z but I paid earlier.",
    "I exchanged 0.0015 BTC and got 3.5% less than quoted.",
    "Reference 12345 on the letter.",
    "Tracking shows 3 of 4 parcels delivered.",
    "We ordered 2019-2024 statements for the audit.",
    "version 2.3.4.5 of the app keeps logging me out",
    "Model SM-G991B with Android 14 cannot scan the card.",
    "The card with last four digits 4242 was charged $49.99.",
    "I withdrew 200 euros at 10:15 on 5/6/2024 and got 150.",
    "Exchange rate 1.1734 applied instead of 1.18.",
    "Go to www.example.com and click Help > Refunds.",
    "My daughter is 16 and needs a card.",
    "Fees went up from 0.5% to 1.25% in 2023.",
    "I sent 1,500 GBP on Monday 10/06 and it's still pending.",
    "Used the PIN 3 times and the card got blocked.",
    "The delivery window was 08:00-12:00 but nobody came.",
    "Top-up limit is £5,000 per 24 hours?",
    "Transfer of 1.000,50 EUR from my German account is missing.",
    "Windows 11 22H2, Chrome 123.0.6312.86, page won't load.",
    "Bought 3 items for $19.99, $5.49 and $120.00.",
    "My statement for Q1 2024 shows 12 transactions.",
    "I was charged 25 dollars on 2024/03/12 and again on 2024/03/13.",
    "Verification code expired after 10 minutes.",
    "Cash withdrawal of 300 at ATM 5 was declined.",
    "Please refund £1299.00 for the TV.",
    "Room 101, floor 3, building B.",
    "The app shows 99+ notifications.",
    "It says 1 of 3 refunds processed on 21.04.2024.",
    "Pricing page example.com/pricing lists 3 plans.",
    "Delivery between 1-2 pm on 3/4.",
    "Card ending in 0004 expired in 11/2023.",
    "I have 2 cards and 1 account since 2015.",
    "Transaction at 23:59:59 on 31/12/2023 is missing.",
    "The fee was 2.9% + 30p per payment.",
    "Android app 8.4.0 (build 2024.03) crashes.",
    "My order arrived on 20240312 in a damaged box.",
    "Cashback of €7.50 on €150 spend not credited.",
    "Thanks for nothing, I waited 45 minutes on hold.",
    "Chapter 11 of the terms says 30 days notice.",
    "Please allow 3-5 business days for the refund.",
    "https://example.com/help/returns explains nothing about 2 day shipping.",
    "Ticket escalated at 09:15, promised reply in 24h.",
    "The total was 123456 yen after conversion.",
    "I got 100000 points but they expired.",
    "I paid 1.234,56 € last week.",
    "On 2024-03-12 10:30:15 UTC the payment failed.",
    "visa ending in 1111 charged 1111.11",
    "Visit https://help.example.com/articles/how-to-return-items for help.",
]


def _kind_rows(kind: str, count: int) -> list[dict[str, Any]]:
    templates = TEMPLATES[kind]
    values = VALUES[kind]
    rows = []
    for index in range(count):
        template = templates[index % len(templates)]
        value = values[index % len(values)]
        rows.append(_row(template.format(v=value), [(kind, value)]))
    return rows


def _account_rows() -> list[dict[str, Any]]:
    templates = TEMPLATES["ACCOUNT"]
    return [
        _row(templates[index].format(v=value), [("ACCOUNT", value)])
        for index, value in ACCOUNT_ROWS
    ]


def _row(text: str, pii: list[tuple[str, str]]) -> dict[str, Any]:
    for _, value in pii:
        if value not in text:
            raise ValueError(f"planted value {value!r} missing from {text!r}")
    return {"text": text, "pii": [{"kind": kind, "value": value} for kind, value in pii]}


def build_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for kind, count in SENTENCES_PER_KIND.items():
        rows.extend(_kind_rows(kind, count))
    rows.extend(_account_rows())
    rows.extend(_row(text, pii) for text, pii in MULTI_PII)
    rows.extend(_row(text, [(kind, value)]) for text, kind, value in MESSY_PII)
    rows.extend(_row(text, []) for text in HARD_NEGATIVES)
    return rows


def main() -> None:
    rows = build_rows()
    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    with OUT_PATH.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = sum(bool(row["pii"]) for row in rows)
    print(f"wrote {len(rows)} rows ({positives} with PII) to {OUT_PATH}")


if __name__ == "__main__":
    main()
