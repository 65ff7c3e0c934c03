"""Keywords and labels for themes: c-TF-IDF, cleaning, and human-readable names."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rca.cluster.labels import (
    c_tf_idf,
    label_themes,
    phrase_ngrams,
    preprocess,
    same_word,
    stem,
    strip_placeholders,
    theme_keywords,
    theme_label,
)

CARD_NOT_ARRIVED = [
    "Hi, my new card has not arrived yet, it was ordered two weeks ago.",
    "My card hasn't arrived and I need it for my trip. Contact me at [EMAIL]",
    "Hello, still waiting for my card, it has not arrived. Please help",
    "The replacement card has not arrived, can you send a new card?",
    "My debit card still has not arrived after 10 days. Call me on [PHONE]",
    "Card not arrived. I ordered it a month ago, my email is [EMAIL]",
    "Where is my card? It hasn't arrived in the post.",
    "I was told the card would be delivered in 5 days but my card has not arrived.",
    "My physical card has not arrived, can you track the card delivery?",
    "Thanks, but my card still hasn't arrived. Reach me at [EMAIL] please",
    "Why has my card not arrived? I have been waiting for ages.",
    "card not arrived yet, ordered it last week, phone [PHONE]",
    "Hey, the card you sent has not arrived at my address.",
    "My new card hasn't arrived, I need the card to pay for things.",
    "Please check why my card has not arrived, account [ACCOUNT]",
    "I ordered a card 3 weeks ago and the card has not arrived.",
    "Hi team, card delivery is late, my card has not arrived.",
    "Still no card. It has not arrived and I need help, email [EMAIL]",
    "The card I requested hasn't arrived. What is the card delivery time?",
    "My card has not arrived, can you cancel it and send a new card?",
]
REFUND_STATUS = [
    "Hi, what is the status of my refund? I returned the item last week.",
    "I am still waiting for my refund, order [ID]. Please help",
    "When will I get my refund? The refund status says pending.",
    "My refund has not been processed yet, email me at [EMAIL]",
    "Can you check the refund status for my order [ID]?",
    "I returned the product two weeks ago and I have no refund yet.",
    "Hello, where is my refund? The seller accepted the return.",
    "Refund still pending after 10 days, card [CARD]",
    "How long does a refund take? My refund status has not changed.",
    "I was promised a refund but the money is not back on my card [CARD]",
    "Please update me on my refund, the refund status is unclear.",
    "Missing refund for order [ID], I sent the item back.",
    "Thanks, any news on the refund? It has been a month.",
    "The refund status page shows an error, can you check my refund?",
    "My refund was approved but I have not received the money.",
    "Hey, I need my refund, the return was delivered to you.",
    "What is happening with my refund? Order [ID] was cancelled.",
    "Refund not received yet for the returned item, IBAN [IBAN]",
    "I want to know the refund status of my cancelled order.",
    "Still no refund for my return, please check the refund status.",
]
PASSWORD_RESET = [
    "Hi, I forgot my password and the reset link does not work.",
    "I can't reset my password, the reset email never arrives at [EMAIL]",
    "Hello, how do I reset my password? I am locked out.",
    "Password reset link expired, please send a new password reset link.",
    "I need to reset my password but I don't get the reset email.",
    "My password reset is not working, I keep getting an error at [URL]",
    "Forgot password, can you help me reset it? Email [EMAIL]",
    "The password reset page says my account does not exist.",
    "Please reset my password, I cannot log in to my account.",
    "Thanks, I tried the password reset three times and it failed.",
    "How can I change my password? The reset link is broken.",
    "Hey, password reset email goes to my old address [EMAIL]",
    "I reset my password but the new password is not accepted.",
    "Locked out after a password reset, please help, phone [PHONE]",
    "Reset password link not received, my email is [EMAIL]",
    "Can you reset the password on my account? I forgot it.",
    "The password reset code never comes to my phone [PHONE]",
    "I want to reset my password, the link from [URL] is not working.",
    "My password reset keeps failing with an error message.",
    "Password reset not working again, I need access to my account.",
]
TEXTS = CARD_NOT_ARRIVED + REFUND_STATUS + PASSWORD_RESET
LABELS = np.repeat([0, 1, 2], 20)


def _words(keywords: list[tuple[str, float]]) -> set[str]:
    return {w for term, _ in keywords for w in term.split()}


@pytest.fixture(scope="module")
def keywords() -> dict[int, list[tuple[str, float]]]:
    return theme_keywords(TEXTS, LABELS)


def test_keywords_name_the_themes(keywords: dict[int, list[tuple[str, float]]]) -> None:
    assert set(keywords) == {0, 1, 2}
    top = {t: _words(kws[:3]) for t, kws in keywords.items()}
    assert {"card", "arrived"} <= top[0]
    assert "refund" in top[1]
    assert {"password", "reset"} <= top[2]


def test_keywords_are_sorted_and_capped(keywords: dict[int, list[tuple[str, float]]]) -> None:
    for kws in keywords.values():
        assert 0 < len(kws) <= 10
        scores = [s for _, s in kws]
        assert scores == sorted(scores, reverse=True)
    assert all(len(kws) <= 3 for kws in theme_keywords(TEXTS, LABELS, top_n=3).values())


def test_placeholders_never_become_keywords() -> None:
    # Every text carries placeholders whose lower-cased names would otherwise top theme 0.
    placeholder_words = {"email", "phone", "iban", "url", "ip", "card", "account", "id"}
    tags = " ".join(f"[{w.upper()}]" for w in sorted(placeholder_words))
    pattern = re.compile(r"\b(?:" + "|".join(placeholder_words) + r")\b", re.IGNORECASE)
    texts = [f"{tags} {pattern.sub('', t)} {tags}" for t in CARD_NOT_ARRIVED + REFUND_STATUS]
    kws = theme_keywords(texts, LABELS[:40])
    assert all(kws.values())
    for theme_kws in kws.values():
        assert not _words(theme_kws) & placeholder_words
        assert not any("[" in term or "]" in term for term, _ in theme_kws)


def test_support_boilerplate_is_not_a_keyword(keywords: dict[int, list[tuple[str, float]]]) -> None:
    boilerplate = {"hi", "hello", "hey", "thanks", "please", "help", "need", "want", "just"}
    for kws in keywords.values():
        assert not _words(kws) & boilerplate


def test_bigram_absorbs_its_unigrams() -> None:
    texts = ["card payment declined at the shop"] * 6 + ["card payment failed online"] * 4
    texts += ["refund status unknown"] * 10
    kws = theme_keywords(texts, [0] * 10 + [1] * 10, top_n=5)
    terms = [t for t, _ in kws[0]]
    assert terms[0] == "card payment"
    assert "card" not in terms and "payment" not in terms


def test_near_duplicate_keywords_are_dropped() -> None:
    texts = ["my refund is late", "two refunds missing", "refund please", "refunds are slow"] * 3
    texts += ["password reset broken"] * 12
    terms = [t for t, _ in theme_keywords(texts, [0] * 12 + [1] * 12)[0]]
    assert ("refund" in terms) != ("refunds" in terms)


def test_negations_survive_as_phrases() -> None:
    grams = phrase_ngrams("My card hasn't arrived, and I can't log in")
    assert "not arrived" in grams
    assert "not" not in grams  # never alone
    assert "card not" not in grams  # a phrase does not end on a negation


def test_phrases_do_not_span_placeholders_or_punctuation() -> None:
    grams = phrase_ngrams("Refund sent to [EMAIL] support. Payment failed")
    assert "refund" in grams and "support" in grams
    assert "email" not in grams
    assert "support payment" not in grams


def test_preprocess_and_strip() -> None:
    assert "[EMAIL]" not in strip_placeholders("mail [EMAIL] now")
    assert "email" not in preprocess("Mail [EMAIL] now")
    assert "not" in preprocess("It DOESN'T work").split()


def test_stem_groups_inflections() -> None:
    assert stem("cards") == stem("card")
    assert stem("activation") == stem("activate") == stem("activating")
    assert stem("cancelling") == stem("cancel")
    assert stem("address") == stem("addresses")
    assert same_word("delivery", "delivered") and same_word("withdrawal", "withdraw")
    assert not same_word("transfer", "transaction") and not same_word("pay", "payment")


def test_unassigned_texts_are_background_only() -> None:
    labels = np.concatenate([LABELS[:40], np.full(20, -1)])
    kws = theme_keywords(TEXTS, labels)
    assert set(kws) == {0, 1}


def test_too_little_text_gives_empty_keywords() -> None:
    assert theme_keywords(["hi"], [0]) == {0: []}
    assert theme_keywords([], []) == {}
    with pytest.raises(ValueError):
        theme_keywords(["a", "b"], [0])


def test_c_tf_idf_prefers_distinctive_terms() -> None:
    counts = np.array([[10, 5, 0], [10, 0, 5]])  # term 0 is everywhere, 1 and 2 are distinctive
    w = c_tf_idf(counts).toarray()
    assert w[0, 1] > w[0, 0] and w[1, 2] > w[1, 0]
    assert w[0, 2] == 0
    bm25 = c_tf_idf(counts, bm25_weighting=True, reduce_frequent_words=True).toarray()
    assert bm25[0, 1] > bm25[0, 0]


def test_labels_name_the_themes(keywords: dict[int, list[tuple[str, float]]]) -> None:
    labels = {t: theme_label(kws) for t, kws in keywords.items()}
    assert "card" in labels[0].lower() and "arrived" in labels[0].lower()
    assert "refund" in labels[1].lower()
    assert "password" in labels[2].lower() and "reset" in labels[2].lower()
    for label in labels.values():
        assert label[0].isupper()
        assert len(label.replace(" / ", " ").split()) <= 4


def test_label_composition_rules() -> None:
    assert theme_label([("card payment", 1.0), ("not recognised", 0.9)]) == (
        "Card payment not recognised"
    )
    assert theme_label([("not arrived", 1.0), ("card", 0.8)]) == "Card not arrived"
    assert theme_label([("refund status", 1.0), ("missing refund", 0.8)]) == (
        "Refund status / Missing refund"
    )
    # A phrase extending an earlier word replaces it; repeats and weak keywords are left out.
    assert theme_label([("refund", 1.0), ("refund status", 0.9), ("refunds", 0.8)]) == (
        "Refund status"
    )
    assert theme_label([("refund", 1.0), ("not refund", 0.9)]) == "Refund"
    assert theme_label([("refund", 1.0), ("parcel", 0.1)]) == "Refund"
    # Two unigrams that a listed phrase says at once become that phrase.
    assert theme_label([("change", 1.0), ("pin", 0.9), ("change pin", 0.3)]) == "Change PIN"
    assert theme_label(["apple pay", "google pay"]) == "Apple pay / Google pay"
    # Inflections count as the same word; a particle completes the word it belongs to.
    assert theme_label([("delivery", 1.0), ("delivered", 0.9)]) == "Delivery"
    assert theme_label([("top", 1.0), ("auto top", 0.3), ("top up", 0.2)]) == "Top up"
    assert theme_label([]) == "Unlabelled theme"
    assert len(theme_label(["a b c", "d e", "f g"], max_words=4).split()) <= 5


def test_label_themes_frame() -> None:
    labels = np.concatenate([LABELS, [-1, -1]])
    df = label_themes([*TEXTS, "random noise text", "another unassigned text"], labels)
    assert list(df.columns) == ["theme", "label", "keywords", "size"]
    assert df["theme"].tolist() == [0, 1, 2]
    assert df["size"].tolist() == [20, 20, 20]
    assert all(isinstance(k, list) and all(isinstance(w, str) for w in k) for k in df["keywords"])
    assert df["label"].str.len().gt(0).all()


def test_label_themes_never_repeats_a_label() -> None:
    app_texts = ["the app", "app again", "app"] * 4
    texts = app_texts + ["app crash", "crash app"] + app_texts + ["app slow", "slow app"]
    texts += ["refund late"] * 14
    df = label_themes(texts, np.repeat([0, 1, 2], 14))
    assert df["label"].is_unique
    assert df["label"].tolist()[:2] == ["App / Crash", "App / Slow"]


def test_keywords_are_deterministic() -> None:
    assert theme_keywords(TEXTS, LABELS) == theme_keywords(list(TEXTS), LABELS.copy())


def test_keyword_min_df_counts_contacts_when_texts_repeat() -> None:
    """A phrase in one text sent twice passes min_df=2; each distinct text is tokenised once."""
    texts = ["parcel stuck in customs"] * 2 + ["refund never arrived", "card declined at till"]
    kws = theme_keywords(texts, [0, 0, 1, 1], min_df=2)
    assert "customs" in {term for term, _ in kws[0]}
    assert kws[1] == []  # each of theme 1's phrases is in one contact only
    share = theme_keywords(texts, [0, 0, 1, 1], min_df=0.5)
    assert share == kws


def test_a_word_every_theme_writes_is_no_theme_keyword() -> None:
    """A one-domain export (CFPB payday loans) writes "loan" in almost every contact: c-TF-IDF
    still ranked it among most themes' keywords. A keyword must be written in a larger share of
    the theme's contacts than of the others."""
    fees = [f"they charged a fee of {n} dollars on my loan" for n in range(12)]
    late = [f"my payment was marked late, day {n} of my loan" for n in range(12)]
    texts, labels = fees + late, [0] * 12 + [1] * 12
    ranked = theme_keywords(texts, labels)
    assert ranked[0] and ranked[1]
    for theme in (0, 1):
        assert "loan" not in {term for term, _ in ranked[theme]}
    assert any("fee" in term for term, _ in ranked[0])  # "loan fee": a phrase may hold it
    assert any("late" in term for term, _ in ranked[1])
    plain = theme_keywords(texts, labels, over_represented=False)  # c-TF-IDF alone: "loan"
    assert "loan" in {term for term, _ in plain[0]}
