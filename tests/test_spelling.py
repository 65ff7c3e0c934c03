"""Typos found in an export's own words (rca.text.spelling), and names that do not repeat them."""

from __future__ import annotations

from collections import Counter

from rca.text.spelling import corrected, correction, word_counts

# An export that writes its own vocabulary many times and a few slips once or twice.
EXPORT = (
    ["I need assistance buying several of your products"] * 40
    + ["When will my order arrive?"] * 30
    + ["I paid with Klarna and the refund is missing"] * 12
    + ["I wasn't charged, and I didn't get a receipt"] * 30
    + ["assistancew buying several of your product", "waiting whem will it come"]
    + ["I wasnt told", "my booking is late", "a season ticket"]
    + ["I was looking at the reason"] * 30
)


def test_a_rare_word_one_edit_from_a_frequent_one_is_a_slip() -> None:
    counts = word_counts(EXPORT)
    assert correction("assistancew", counts) == "assistance"
    assert correction("whem", counts) == "when"
    assert correction("wasnt", counts) == "wasn't"  # a left-out apostrophe, not "want"


def test_real_words_the_export_vocabulary_and_inflections_are_not_slips() -> None:
    counts = word_counts(EXPORT)
    # real English words written rarely next to frequent neighbours ("looking", "reason")
    assert correction("booking", counts) is None
    assert correction("season", counts) is None
    # the export's own word, in no dictionary, written many times
    assert correction("klarna", counts) is None
    # an inflection of a frequent word, and words too short to judge
    assert correction("products", Counter({"product": 500, "products": 1})) is None
    assert correction("gbp", Counter({"gap": 500, "gbp": 1})) is None
    # a variant written about as often as the usual form is a spelling, not a slip
    assert correction("whem", Counter({"when": 10, "whem": 3})) is None


def test_corrected_keeps_a_capital_and_what_is_not_a_word() -> None:
    counts = word_counts(EXPORT)
    assert corrected("Assistancew buying several", counts) == "Assistance buying several"
    assert corrected("Waiting / Whem", counts) == "Waiting / When"
    assert corrected("Klarna refund", counts) == "Klarna refund"


def test_a_slip_is_no_keyword() -> None:
    """The demo's "Waiting / Whem" theme listed "whem" (written twice, "when" hundreds of
    times) among its keywords."""
    from rca.cluster.labels import theme_keywords

    waiting = ["still waiting whem will it arrive", "waiting whem does it come"] + [
        f"still waiting for my parcel {n}" for n in range(8)
    ]
    other = [f"when will my refund arrive {n}" for n in range(50)]
    labels = [0] * len(waiting) + [1] * len(other)
    keywords = theme_keywords(waiting + other, labels)
    words = {w for k, _ in keywords[0] for w in k.split()}
    assert "waiting" in words
    assert "whem" not in words, keywords[0]
