"""rca.text.normalise: HTML, quoted replies, signatures, greetings, the never-empty fallback,
hashes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca.text.normalise import normalise_for_embedding, normalise_series, text_hash

BODY = "My card was declined at the shop."


@pytest.mark.parametrize(
    "text",
    [
        f"<p>{BODY}</p>",
        f"<html><head><style>p {{color: red}}</style><title>t</title></head><body><p>{BODY}"
        "</p><script>alert('x')</script></body></html>",
        "<div>My card was<br>declined at the shop.</div>",
        "<p>My card was</p><p>declined at the shop.</p>",
        "My card was declined at the&nbsp;shop.",
    ],
)
def test_html_to_text(text: str) -> None:
    assert normalise_for_embedding(text) == BODY


def test_html_entities_and_blockquote() -> None:
    text = "<p>Fees &amp; charges are wrong</p><blockquote>old reply from us</blockquote>"
    assert normalise_for_embedding(text) == "Fees & charges are wrong"


def test_plain_text_with_angle_brackets_is_not_parsed_as_html() -> None:
    assert normalise_for_embedding("price is < 5 and > 3") == "price is < 5 and > 3"


@pytest.mark.parametrize(
    "tail",
    [
        "\n\nOn Mon, 3 Jun 2024 at 10:00, Support <help@example.com> wrote:\n> We refunded it.",
        "\nOn 3 Jun 2024, at 10:00, Jane Doe\n<jane@example.com> wrote:\n\nold text",
        "\n-----Original Message-----\nFrom: Support\nSent: Monday\nold text",
        "\n\nFrom: Jane Doe <jane@example.com>\nSent: 3 June 2024 10:00\nTo: Support\nold text",
        "\nFrom: Support\nDate: 3 June 2024\nSubject: Re: card\nold text",
        "\n> quoted line one\n> quoted line two",
        "\n________________________________\nold text",
    ],
)
def test_quoted_replies_removed(tail: str) -> None:
    assert normalise_for_embedding(BODY + tail) == BODY


def test_quoted_lines_in_the_middle_are_dropped() -> None:
    text = "> you said it shipped\nIt did not arrive.\n> please wait\nStill nothing."
    assert normalise_for_embedding(text) == "It did not arrive. Still nothing."


@pytest.mark.parametrize(
    "tail",
    [
        "\n-- \nJohn Smith\nAcme Ltd",
        "\n\nSent from my iPhone",
        "\nSent from my Android",
        "\n\nGet Outlook for iOS",
        "\n\nThanks,\nJohn",
        "\nKind regards, Jane Doe",
        "\n\nBest,",
        "\nThank you so much!",
        " Cheers",
        "\n\nBest regards,\nJane Doe\nSenior Buyer\nAcme Ltd\n+44 20 7946 0958",
        "\n\nThanks,\nJohn\n\nSent from my iPhone",
    ],
)
def test_signatures_removed(tail: str) -> None:
    assert normalise_for_embedding(BODY + tail) == BODY


@pytest.mark.parametrize(
    "head",
    ["Hi team,\n", "Hello there! ", "Dear Support,\n\n", "Good morning,\n", "Hi, ", "hi john, "]
    + ["Dear Sir or Madam, ", "Hi team,\nGood morning,\n", "Hey Amazon team, "],
)
def test_greetings_removed(head: str) -> None:
    assert normalise_for_embedding(head + BODY) == BODY


def test_greeting_keeps_the_sentence_that_follows() -> None:
    assert normalise_for_embedding("Hello I need help with my card") == "I need help with my card"
    assert normalise_for_embedding("hi i need help") == "i need help"
    assert normalise_for_embedding("History of my payments is empty") == (
        "History of my payments is empty"
    )


def test_sign_off_words_inside_content_are_kept() -> None:
    text = "my card doesn't work\nthanks\nactually it was declined at the shop"
    assert normalise_for_embedding(text) == (
        "my card doesn't work thanks actually it was declined at the shop"
    )
    assert normalise_for_embedding("Thanks for nothing, still no refund") == (
        "Thanks for nothing, still no refund"
    )


def test_whole_email() -> None:
    text = (
        "<p>Hi team,</p><p>The app crashes when I open   payments.<br>It started after the "
        "update.</p><p>Thanks,<br>John</p><p>Sent from my iPhone</p>"
        "<div>On Mon, 3 Jun 2024 at 10:00, Support &lt;help@example.com&gt; wrote:</div>"
        "<blockquote>Please reinstall.</blockquote>"
    )
    assert normalise_for_embedding(text) == (
        "The app crashes when I open payments. It started after the update."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks, John", "Thanks, John"),
        ("Hi", "Hi"),
        ("<p>Thanks!</p>", "Thanks!"),
        ("> only a quote", "> only a quote"),
        ("Hi team,\n\nKind regards,\nJane", "Hi team, Kind regards, Jane"),
        ("   \n\t ", ""),
        ("", ""),
    ],
)
def test_never_empty_for_real_content(text: str, expected: str) -> None:
    assert normalise_for_embedding(text) == expected


def test_whitespace_collapsed() -> None:
    assert normalise_for_embedding("  card \t\n\n declined\r\n  again  ") == "card declined again"


def test_idempotent() -> None:
    for text in ["Hi team,\nMy card broke.\nThanks,\nJohn", f"<p>{BODY}</p>", "Thanks, John"]:
        once = normalise_for_embedding(text)
        assert normalise_for_embedding(once) == once


def test_text_hash_is_stable_and_case_insensitive() -> None:
    digest = text_hash("My card was declined")
    assert digest == text_hash("my card was DECLINED")
    assert digest != text_hash("My card was declined!")
    assert len(digest) == 32 and int(digest, 16) >= 0
    # Cache keys must not change between releases.
    assert text_hash("abc") == "cf4ab791c62b8d2b2109c90275287816"


def test_normalise_series_keeps_missing_values() -> None:
    s = pd.Series(["Hi team,\nCard broken", None, np.nan, "plain"], dtype=object)
    out = normalise_series(s)
    assert out[0] == "Card broken"
    assert out[3] == "plain"
    assert out.isna().tolist() == [False, True, True, False]


def test_social_markup_does_not_reach_the_embedding() -> None:
    from rca.text.normalise import addressed_to, normalise_for_embedding

    text = "RT @AmazonHelp my parcel never came 😡 #delivery https://t.co/abc123 [HANDLE]"
    assert normalise_for_embedding(text) == "my parcel never came delivery"
    assert addressed_to("@AmazonHelp where is it") == "amazonhelp"
    assert addressed_to("RT @Uber_Support: refund?") == "uber_support"
    assert addressed_to("email me @ 5pm") is None and addressed_to(None) is None
    # a message that is only a handle and an emoji keeps its visible text (never empty)
    assert normalise_for_embedding("@BrandHelp 👍")


def test_addressed_to_is_a_dimension_only_for_brands() -> None:
    import pandas as pd

    from rca.ingest.prepare import addressed_dimension

    brand = [f"@BrandHelp my order {i} is late" for i in range(6)]
    person = ["@john_smith92 thanks mate"]
    valid = pd.DataFrame({"contact_id": [f"C{i}" for i in range(7)],
                          "customer_id": [f"U{i}" for i in range(7)],
                          "text": brand + person})  # fmt: skip
    dim = addressed_dimension(valid, ())
    assert dim.tolist()[:6] == ["brandhelp"] * 6 and pd.isna(dim.iloc[6])
    assert addressed_dimension(valid.iloc[6:], ("@john_smith92",)).tolist() == ["john_smith92"]
    assert addressed_dimension(valid.assign(text="no handle here"), ()) is None
