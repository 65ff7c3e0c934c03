"""Which capitalised words a theme is about are places, nationalities or laws, not companies.

Theme names and notes single out the company a theme is about (``rca.cluster.labels``:
``theme_companies``, "Mostly one company"): a capitalised word in many of a theme's texts and
rare elsewhere. Capitals alone cannot tell a lender from a country: on Banking77, "China" (a
theme of cards used there) and "European" (cards from a European bank) were taken for the
theme's company, so the name "European bank card for top up" lost the word that says which
card, and a note would have called China a company. On the CFPB export, "Fair Credit Reporting
Act" and "Equal Credit Opportunity Act" were a theme's "companies". spaCy's named-entity
recogniser types what it finds (GPE, LOC, NORP, LAW against ORG, PRODUCT), and the small
pipeline the names' parse already loads carries one: a trained model, where a gazetteer of
countries and statutes would miss every town and regulation it does not list.

The small model misreads single words in a short context ("I got a call from Klarna": GPE), so
a word is read in several of its uses and counts as a place or a law only when most reads say
so; one that is never tagged, or tagged ORG, PRODUCT or PERSON, stays a company (the rule it
replaces). Only the few words that are already a theme's company are read: milliseconds a fit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

#: Texts in, ``[(start, end, label)]`` entities per text out (same order).
EntityReader = Callable[[list[str]], list[list[tuple[int, int, str]]]]

#: Entity types that are no company: countries, cities, regions (GPE, LOC), nationalities and
#: groups (NORP), languages, and laws ("Fair Credit Reporting Act").
NOT_COMPANY_KINDS = frozenset({"GPE", "LOC", "NORP", "LANGUAGE", "LAW"})
#: Uses of a word read (its first capitalised ones), and the share of reads that must agree.
READS_PER_WORD = 5
NOT_COMPANY_SHARE = 0.5
#: Characters of context before and after a use: enough for "in" / "from" / "under the".
BEFORE, AFTER = 80, 40


def entity_reader_from_settings(settings: Any) -> EntityReader | None:
    """The recogniser of ``Settings.name_parser_model`` (None when empty or not installed)."""
    return load_entity_reader(settings.name_parser_model)


@lru_cache(maxsize=2)
def load_entity_reader(model: str) -> EntityReader | None:
    """A reader over spaCy's ``model`` (None if empty or not installed: words then stay
    companies, as before). The pipeline loads on the first read, so a fit whose themes have no
    company pays nothing."""
    if not model:
        return None
    import spacy.util

    if not spacy.util.is_package(model):
        return None

    def read(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        nlp = _recogniser(model)
        return [
            [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            for doc in nlp.pipe(texts, batch_size=64)
        ]

    return read


@lru_cache(maxsize=2)
def _recogniser(model: str) -> Any:
    """``model`` with only what its recogniser needs (no parse, lemmas or sentences)."""
    import spacy

    nlp = spacy.load(model, exclude=["parser", "lemmatizer", "senter"])
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy pipeline {model!r} has no named-entity recogniser")
    return nlp


def remembered(read: EntityReader) -> EntityReader:
    """``read`` that reads each distinct window once: a fit asks about a theme's companies for
    its names and again for its notes, mostly over the same windows."""
    seen: dict[str, list[tuple[int, int, str]]] = {}

    def read_once(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        new = sorted({t for t in texts if t not in seen})
        if new:
            seen.update(zip(new, read(new), strict=True))
        return [seen[t] for t in texts]

    return read_once


def _uses(word: str, texts: Iterable[str], limit: int) -> list[tuple[str, int, int]]:
    """Windows around the first ``limit`` capitalised uses of ``word`` (one per text), with the
    word's range inside each."""
    pattern = re.compile(r"(?<![\w@])" + re.escape(word) + r"(?![\w])", re.IGNORECASE)
    found: list[tuple[str, int, int]] = []
    for text in texts:
        for m in pattern.finditer(text):
            if not m.group(0)[:1].isupper():
                continue
            lo, hi = max(0, m.start() - BEFORE), min(len(text), m.end() + AFTER)
            found.append((text[lo:hi], m.start() - lo, m.end() - lo))
            break
        if len(found) >= limit:
            break
    return found


def not_companies(
    texts_of: Mapping[str, Sequence[str]],
    read: EntityReader,
    *,
    reads_per_word: int = READS_PER_WORD,
) -> frozenset[str]:
    """The words of ``texts_of`` (lower-case word -> texts it is written in) that the
    recogniser reads as a place, nationality, language or law (``NOT_COMPANY_KINDS``) in at
    least ``NOT_COMPANY_SHARE`` of its uses read; a word inside a longer entity takes that
    entity's type ("American" in "American Express" is a company). Deterministic."""
    windows: list[str] = []
    owners: list[tuple[str, int, int]] = []
    for word in sorted(texts_of):
        for window, lo, hi in _uses(word, texts_of[word], reads_per_word):
            windows.append(window)
            owners.append((word, lo, hi))
    if not windows:
        return frozenset()
    reads: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for (word, lo, hi), entities in zip(owners, read(windows), strict=True):
        reads[word] += 1
        kinds = [label for start, end, label in entities if start <= lo and hi <= end]
        hits[word] += bool(kinds) and kinds[0] in NOT_COMPANY_KINDS
    return frozenset(w for w in reads if hits[w] > 0 and hits[w] >= NOT_COMPANY_SHARE * reads[w])
