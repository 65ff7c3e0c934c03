"""Readable theme names from class-based TF-IDF keywords.

A theme is only useful to a program manager if its name says what the contacts are about. We use
the class-based TF-IDF of BERTopic (c-TF-IDF): every theme's texts are treated as one document, so
a term scores high when it is frequent inside the theme and rare across the other themes. The
keywords are then cleaned (placeholders stripped, support boilerplate removed, bigrams preferred
over the unigrams they contain, plural/singular duplicates dropped) and turned into a short label.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import partial
from itertools import groupby
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from rca.text.casing import decased, informative
from rca.text.name_kinds import EntityReader, not_companies
from rca.text.profanity import PROFANE_WORDS
from rca.text.spelling import corrected, correction, word_counts
from rca.text.syntax import Parser, PhraseCheck

Keyword = tuple[str, float]
KeywordLike = str | tuple[str, float]

UNASSIGNED = -1

# Typed placeholders left by redaction ([EMAIL], [PHONE], [CARD], [ACCOUNT_2], ...). They must be
# removed *before* tokenising: lowercasing would turn "[EMAIL]" into the real word "email" and the
# redactor's choices would surface as keywords.
PLACEHOLDER_RE = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
# Social handles (@brand) and an export's own masks (XXXX, XX/XX/XXXX) are never name material.
HANDLE_RE = re.compile(r"(?<![\w.])@\w+")
MASK_RE = re.compile(r"\b[xX]{2,}\b")

# Negation carries the meaning of most complaints ("card not arrived", "no refund"), so contracted
# and apostrophe-less negations are rewritten to "not" before tokenising.
_NEGATION_CONTRACTION_RE = re.compile(
    r"\b(?:can|won)[’']?t\b"
    r"|\b(?:do|does|did|is|are|was|were|has|have|had|could|would|should|ai)n[’']?t\b"
)
# Other clitics ('s, 're, 've, 'll, 'd, 'm) add nothing to a keyword; drop them so "I'm" does not
# leave a stray "im" behind.
_CLITIC_RE = re.compile(r"[’'](?:s|re|ve|ll|d|m)\b")

# A token is 2+ word characters with at least one letter: order numbers and amounts are noise for
# a theme name, while "3ds" or "2fa" are not.
TOKEN_RE = re.compile(r"(?u)\b(?=\w*[^\W\d_])\w{2,}\b")
# Phrases never span sentence or clause punctuation ("card broken. payment declined").
CLAUSE_SPLIT_RE = re.compile(r"[.!?;:,()\n\r\t]+|\s[-–—]+\s")

# Words sklearn's generic English list removes but that name support problems ("top up", "bill",
# "amount", "back", "call", "not arrived", "log out"...). They stay in the vocabulary.
KEEP_WORDS = frozenset(
    {
        "amount",
        "back",
        "bill",
        "call",
        "detail",
        "down",
        "empty",
        "fill",
        "find",
        "found",
        "full",
        "interest",
        "move",
        "name",
        "never",
        "no",
        "not",
        "off",
        "out",
        "system",
        "top",
        "up",
    }
)
# Greeting / politeness / filler / relative-time words that occur in every theme of support text.
SUPPORT_STOP_WORDS = frozenset(
    {
        "able",
        "advise",
        "ago",
        "afternoon",
        "appreciate",
        "asap",
        "assist",
        "assistance",
        "currently",
        "dear",
        "did",
        "does",
        "doing",
        "earlier",
        "evening",
        "going",
        "good",
        "got",
        "guys",
        "happen",
        "happened",
        "hello",
        "help",
        "helping",
        "hey",
        "hi",
        "hope",
        "im",
        "issue",
        "issues",
        "ive",
        "just",
        "kind",
        "kindly",
        "know",
        "let",
        "like",
        "madam",
        "make",
        "makes",
        "making",
        "morning",
        "need",
        "needed",
        "needs",
        "ok",
        "okay",
        "pls",
        "plz",
        "problem",
        "problems",
        "question",
        "questions",
        "really",
        "recently",
        "regards",
        "sir",
        "sorry",
        "team",
        "thank",
        "thanks",
        "thx",
        "today",
        "tomorrow",
        "tried",
        "trying",
        "want",
        "wanted",
        "wants",
        "wondering",
        "yeah",
        "yes",
        "yesterday",
    }
)
STOP_WORDS = frozenset((ENGLISH_STOP_WORDS - KEEP_WORDS) | SUPPORT_STOP_WORDS)

# Suffixes stripped by `stem` (first match wins, longest first) and the shortest stem we accept.
STEM_SUFFIXES = ("ings", "ing", "ions", "ion", "ed", "es", "s")
NOT_PLURAL_ENDINGS = ("ss", "us", "is")
MIN_STEM_CHARS = 3
# Two words sharing a prefix this long, covering this share of the shorter word, are one word for
# a label ("delivery"/"delivered"); 6 keeps "transfer"/"transaction" apart.
MIN_SHARED_PREFIX = 6
SHARED_PREFIX_SHARE = 0.75

# Words kept only so that phrases survive ("not arrived", "top up"); alone they say nothing.
NEGATIONS = frozenset({"not", "no", "never"})
PARTICLES = frozenset({"up", "out", "off", "down"})
PHRASE_ONLY_WORDS = NEGATIONS | PARTICLES
# Negations that need a subject in front of them ("card not arrived"), unlike "no refund".
PREDICATE_NEGATIONS = frozenset({"not", "never"})

# A unigram is redundant with a bigram that contains it when at least this share of the unigram's
# occurrences in the theme are inside that bigram: "card payment" then says everything "card" did.
BIGRAM_COVERAGE = 0.5
# Candidates examined per theme before de-duplication, as a multiple of top_n: cleaning can
# remove many of the raw top terms, so look a little deeper than we return.
CANDIDATE_FACTOR = 4
# A later keyword joins the label only if it scores at least this share of the best keyword;
# weaker ones are usually one-off phrasing, and a one-facet label is better than a noisy one.
MIN_RELATIVE_SCORE = 0.5
# Labels with more than two facets ("A / B / C") read as keyword lists rather than names.
MAX_LABEL_SEGMENTS = 2
# Upper-cased in labels because readers expect them that way.
ACRONYMS = frozenset(
    {
        "2fa",
        "3ds",
        "api",
        "atm",
        "aud",
        "cad",
        "chf",
        "dhl",
        "eu",
        "eur",
        "gbp",
        "faq",
        "fba",
        "iban",
        "id",
        "kyc",
        "otp",
        "pdf",
        "pin",
        "sepa",
        "sku",
        "sms",
        "swift",
        "uk",
        "usd",
        "usps",
        "vat",
    }
)
FALLBACK_LABEL = "Unlabelled theme"


def strip_placeholders(text: str) -> str:
    """Remove redaction placeholders so they can never become keywords."""
    return PLACEHOLDER_RE.sub(" ", text)


def preprocess(text: str) -> str:
    """Lower-case text for the vectoriser: placeholders out, negations normalised to "not".

    A placeholder becomes a clause break so no phrase is built across it.
    """
    text = _breaks_at_masks(text)
    text = _NEGATION_CONTRACTION_RE.sub(" not ", text)
    return _CLITIC_RE.sub("", text)


def _breaks_at_masks(text: str) -> str:
    """Lower-cased, with placeholders, masks and handles turned into line breaks."""
    return MASK_RE.sub("\n", HANDLE_RE.sub("\n", PLACEHOLDER_RE.sub("\n", text))).lower()


def stem(word: str) -> str:
    """Crude suffix stripper, only for spotting near-duplicate keywords.

    "card"/"cards", "charge"/"charged", "activate"/"activating"/"activation" share a stem. It may
    conflate a few unrelated words, which only costs a keyword, never a wrong one.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM_CHARS:
            if suffix == "s" and word.endswith(NOT_PLURAL_ENDINGS):  # "address", "status"
                continue
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) - 1 >= MIN_STEM_CHARS:
        word = word[:-1]
    if len(word) > MIN_STEM_CHARS and word[-1] == word[-2]:
        word = word[:-1]  # "cancelling"/"cancel", "billing"/"bill", "stopped"/"stop"
    return word


def same_word(a: str, b: str) -> bool:
    """Near-duplicate words for a label: same stem, or a long shared prefix.

    The prefix rule catches what the stemmer misses ("delivery"/"delivered",
    "withdrawal"/"withdraw") without conflating short words ("pay"/"payment").
    """
    if stem(a) == stem(b):
        return True
    shared = len(os.path.commonprefix([a, b]))
    return shared >= MIN_SHARED_PREFIX and shared >= SHARED_PREFIX_SHARE * min(len(a), len(b))


def _valid_ngram(words: Sequence[str], stop_words: frozenset[str]) -> bool:
    """Keep n-grams that can stand as a keyword: no stop word at either edge, no lone "not"."""
    if words[0] in stop_words or words[-1] in stop_words:
        return False
    if len(words) == 1:
        return words[0] not in PHRASE_ONLY_WORDS
    if all(w in PHRASE_ONLY_WORDS for w in words):
        return False
    if words[0] in PARTICLES or words[-1] in NEGATIONS:  # "up card", "card not"
        return False
    stems = [stem(w) for w in words]
    return len(set(stems)) == len(stems)  # "refund refunds" is one word said twice


def phrase_ngrams(
    text: str,
    *,
    ngram_range: tuple[int, int] = (1, 2),
    stop_words: frozenset[str] = STOP_WORDS,
    breaks: frozenset[str] = frozenset(),
) -> list[str]:
    """Analyzer for ``CountVectorizer``: n-grams of *adjacent* tokens within one clause.

    Unlike sklearn's default (drop stop words, then join what is left) a phrase must appear
    verbatim, so "how long does a top up take" yields "top up" but not "long top". Stop words may
    sit inside longer n-grams ("proof of address") but never at an edge. A word in ``breaks``
    (a person's name, ``rca.text.persons``) ends the clause like a mask: no phrase holds it.
    """
    lo, hi = ngram_range
    grams: list[str] = []
    for clause in CLAUSE_SPLIT_RE.split(preprocess(text)):
        words = TOKEN_RE.findall(clause)
        runs = [words]
        if breaks and not breaks.isdisjoint(words):
            runs = [list(g) for cut, g in groupby(words, key=breaks.__contains__) if not cut]
        for run in runs:
            for n in range(lo, hi + 1):
                for i in range(len(run) - n + 1):
                    gram = run[i : i + n]
                    if _valid_ngram(gram, stop_words):
                        grams.append(" ".join(gram))
    return grams


def c_tf_idf(
    counts: sp.spmatrix | np.ndarray,
    *,
    bm25_weighting: bool = False,
    reduce_frequent_words: bool = False,
) -> sp.csr_matrix:
    """Class-based TF-IDF of a (classes x terms) count matrix, as in BERTopic.

    tf is L1-normalised per class (so big themes do not dominate); idf is
    ``log(1 + A / f_t)`` with A the mean number of words per class and f_t the term's frequency
    over all classes, or the BM25-style ``log(1 + (A - f_t + 0.5) / (f_t + 0.5))`` which punishes
    ubiquitous terms harder. ``reduce_frequent_words`` square-roots tf to damp a term repeated
    many times inside one class.
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    term_freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = float(counts.sum(axis=1).mean()) if counts.shape[0] else 0.0
    safe_freq = np.maximum(term_freq, 1.0)
    if bm25_weighting:
        idf = np.log1p(np.maximum((avg_words - term_freq + 0.5) / (term_freq + 0.5), 0.0))
    else:
        idf = np.log1p(avg_words / safe_freq)
    row_sums = np.asarray(counts.sum(axis=1)).ravel()
    inv = np.divide(1.0, row_sums, out=np.zeros_like(row_sums), where=row_sums > 0)
    tf = sp.diags(inv) @ counts
    tf = sp.csr_matrix(tf)
    if reduce_frequent_words:
        tf.data = np.sqrt(tf.data)
    return sp.csr_matrix(tf @ sp.diags(idf))


def _clean_keywords(
    terms: np.ndarray, scores: np.ndarray, tf: np.ndarray, order: np.ndarray, top_n: int
) -> list[Keyword]:
    """Merge unigrams into covering bigrams and drop plural/word-order duplicates."""
    cand = [int(i) for i in order]
    best: dict[int, float] = {i: float(scores[i]) for i in cand}
    unigram_at = {stem(terms[i]): i for i in cand if " " not in terms[i]}
    absorbed: set[int] = set()
    for i in cand:
        words = terms[i].split()
        if len(words) < 2:
            continue
        for word_stem in {stem(w) for w in words}:
            u = unigram_at.get(word_stem)
            if u is None or u in absorbed or tf[u] <= 0:
                continue
            if tf[i] >= BIGRAM_COVERAGE * tf[u]:
                absorbed.add(u)
                best[i] = max(best[i], best[u])  # the phrase inherits the word's rank
    ranked = sorted((i for i in cand if i not in absorbed), key=lambda i: (-best[i], terms[i]))
    seen: set[tuple[str, ...]] = set()
    out: list[Keyword] = []
    for i in ranked:
        key = tuple(sorted(stem(w) for w in terms[i].split()))
        if key in seen:
            continue
        seen.add(key)
        out.append((str(terms[i]), round(best[i], 6)))
        if len(out) == top_n:
            break
    return out


def _as_text(value: object) -> str:
    """Missing texts (None, NaN from a DataFrame) count as empty, not as the word "nan"."""
    if isinstance(value, str):
        return value
    return "" if value is None or pd.isna(value) else str(value)


def _contact_term_counts(
    texts: Sequence[str],
    ngram_range: tuple[int, int],
    min_df: int | float,
    extra_stop_words: Iterable[str],
    person_words: frozenset[str] = frozenset(),
) -> tuple[sp.csr_matrix | None, np.ndarray]:
    """(contacts x terms) phrase counts and the sorted terms; ``None`` when no term survives.

    Each distinct text is tokenised once and its row repeated for every contact that carries it:
    real exports repeat texts (templates, copied messages), and the Python analyzer is the cost.
    ``min_df`` still counts contacts, as ``CountVectorizer`` would on the full list.
    """
    stop = STOP_WORDS | {w.lower() for w in extra_stop_words}
    codes, uniques = pd.factorize(pd.Series([_as_text(t) for t in texts], dtype=object))
    breaks = person_words | PROFANE_WORDS  # no keyword holds a person's name or a swear word
    vectorizer = CountVectorizer(
        analyzer=partial(phrase_ngrams, ngram_range=ngram_range, stop_words=stop, breaks=breaks)
    )
    try:
        unique_terms = sp.csr_matrix(vectorizer.fit_transform(list(uniques)))
    except ValueError:  # nothing but stop words
        return None, np.array([], dtype=object)
    doc_term = sp.csr_matrix(unique_terms[codes])
    n_docs = doc_term.shape[0]
    floor = int(min_df) if isinstance(min_df, Integral) else int(np.ceil(min_df * n_docs))
    doc_freq = np.bincount(doc_term.indices, minlength=doc_term.shape[1])
    keep = np.flatnonzero(doc_freq >= max(floor, 1))
    if keep.size == 0:  # too few texts for min_df
        return None, np.array([], dtype=object)
    return sp.csr_matrix(doc_term[:, keep]), vectorizer.get_feature_names_out()[keep]


def theme_keywords(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    top_n: int = 10,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int | float = 2,
    bm25_weighting: bool = False,
    reduce_frequent_words: bool = False,
    extra_stop_words: Iterable[str] = (),
    person_words: frozenset[str] = frozenset(),
    over_represented: bool = True,
) -> dict[int, list[Keyword]]:
    """Top c-TF-IDF keywords per theme: ``{theme: [(term, score), ...]}`` best first.

    ``min_df`` counts contacts, not themes, so a typo seen once is dropped while a term unique to
    one theme survives. Unassigned texts (label -1) form one extra background class: they are
    never labelled themselves but make words common everywhere score lower.
    Defaults follow BERTopic (plain idf, no sqrt damping): on Banking77 the damped variant let
    one-off phrasing ("restaurant today") outrank the intent's core words.
    No keyword holds a word of ``person_words`` (people's names, ``rca.text.persons``).

    ``over_represented``: a keyword is written in a larger share of the theme's contacts than of
    the other contacts. c-TF-IDF alone ranks a word every contact writes high in every theme of
    a one-domain export (CFPB payday loans: "loan", "credit", "company", "told", "paid" among
    most themes' keywords at lift 0.8-1.0); such a word says nothing about this theme. Short
    intent texts are untouched (Banking77: every top keyword is 4x over-represented or more).
    """
    labels_arr = np.asarray(labels, dtype=np.int64).ravel()
    if len(labels_arr) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(labels_arr)} labels")
    themes = sorted(int(t) for t in np.unique(labels_arr) if t != UNASSIGNED)
    if any(t < 0 for t in themes):
        raise ValueError("theme labels must be >= 0, or -1 for unassigned")
    result: dict[int, list[Keyword]] = {t: [] for t in themes}
    if not themes:
        return result

    doc_term, terms = _contact_term_counts(
        texts, ngram_range, min_df, extra_stop_words, person_words
    )
    if doc_term is None:
        return result

    # Class indicator (classes x docs): one row per theme, plus the background class at the end.
    rows = np.searchsorted(np.asarray(themes, dtype=np.int64), labels_arr)
    rows[labels_arr == UNASSIGNED] = len(themes)
    indicator = sp.csr_matrix(
        (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(themes) + 1, len(rows))
    )
    counts = sp.csr_matrix(indicator @ doc_term)
    if not np.any(labels_arr == UNASSIGNED):
        counts = counts[: len(themes)]
    weights = c_tf_idf(
        counts, bm25_weighting=bm25_weighting, reduce_frequent_words=reduce_frequent_words
    )
    n_cand = max(top_n * CANDIDATE_FACTOR, top_n + 10)
    shares = _Representation(doc_term, indicator, rows) if over_represented else None
    slipped = _slip_terms(texts, terms)
    for r, theme in enumerate(themes):
        scores = weights.getrow(r).toarray().ravel()
        tf = counts.getrow(r).toarray().ravel()
        scores[tf <= 0] = 0.0
        scores[slipped] = 0.0
        if shares is not None:
            scores[~shares.over(r)] = 0.0
        nonzero = np.flatnonzero(scores > 0)
        if nonzero.size == 0:
            continue
        # Highest score first, ties alphabetical (terms are sorted, so index order) for stability.
        order = nonzero[np.lexsort((nonzero, -scores[nonzero]))][:n_cand]
        result[theme] = _clean_keywords(terms, scores, tf, order, top_n)
    return result


def _slip_terms(texts: Sequence[str], terms: np.ndarray) -> np.ndarray:
    """Which terms hold a customer's slip (:mod:`rca.text.spelling`): "whem" written twice
    beside "when" written hundreds of times is no keyword of its theme."""
    counts = word_counts([_as_text(t) for t in texts])
    words = {w for term in terms for w in str(term).split()}
    slips = {w for w in words if correction(w, counts) is not None}
    return np.array([not slips.isdisjoint(str(t).split()) for t in terms], dtype=bool)


class _Representation:
    """Per theme, whether each term is written in a larger share of the theme's contacts than
    of all other contacts (unassigned ones included): one sparse product, a dense row at a time
    (themes x terms dense would be ~1 GB on 100,000 contacts)."""

    def __init__(self, doc_term: sp.csr_matrix, indicator: sp.csr_matrix, rows: np.ndarray) -> None:
        """``indicator`` is the classes x contacts matrix c-TF-IDF summed counts with (themes,
        then the background class); ``rows`` each contact's class row."""
        present = doc_term.copy().tocsr()
        present.data[:] = 1.0
        self.df = sp.csr_matrix(indicator @ present)  # contacts writing each term, per class
        self.total = np.asarray(present.sum(axis=0)).ravel()
        self.sizes = np.bincount(rows, minlength=indicator.shape[0]).astype(float)
        self.n = len(rows)

    def over(self, r: int) -> np.ndarray:
        rest = self.n - self.sizes[r]
        inside = self.df.getrow(r).toarray().ravel()
        if rest <= 0:
            return np.ones(len(inside), dtype=bool)
        return inside / max(self.sizes[r], 1.0) > (self.total - inside) / rest


def _keyword_text(keyword: KeywordLike) -> str:
    return keyword[0] if isinstance(keyword, tuple) else str(keyword)


def _format_word(word: str) -> str:
    return word.upper() if word in ACRONYMS else word


def _contains_phrase(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _keyword_parts(keyword: KeywordLike) -> tuple[list[str], float | None]:
    if isinstance(keyword, tuple):
        return keyword[0].lower().split(), float(keyword[1])
    return str(keyword).lower().split(), None


def _joining_phrase(
    phrases: Sequence[list[str]], segments: list[list[str]], words: list[str], max_words: int
) -> tuple[int, list[str]] | None:
    """A listed phrase that says an existing facet and ``words`` at once, best-ranked first."""
    n_words = sum(len(seg) for seg in segments)
    wanted = {stem(w) for w in words}
    for k, seg in enumerate(segments):
        need = wanted | {stem(w) for w in seg}
        budget = max_words - (n_words - len(seg))
        for phrase in phrases:
            if len(phrase) <= budget and {stem(w) for w in phrase} >= need:
                return k, phrase
    return None


def theme_label(
    keywords: Sequence[KeywordLike],
    *,
    max_words: int = 4,
    min_relative_score: float = MIN_RELATIVE_SCORE,
    fallback: str = FALLBACK_LABEL,
) -> str:
    """Short name from ranked keywords, e.g. "Card not arrived" or "Apple pay / Google pay".

    Keywords are read best first. The first one always starts the label; a later one is used only
    if it adds a word not already in the label (plurals and inflections count as the same word)
    and, when scores are given, scores at least ``min_relative_score`` of the best. A phrase that
    extends an earlier one replaces it ("refund" -> "refund status"); a "not ..." phrase attaches
    to the phrase before it ("card" + "not arrived" -> "Card not arrived"); any other phrase is a
    second facet joined with " / ". A facet ending in a word that a listed phrase follows with a
    particle gets the particle ("top" -> "top up"). At most ``max_words`` words and two facets.
    """
    parsed = [_keyword_parts(k) for k in keywords]
    phrases = [words for words, _ in parsed if len(words) > 1]
    segments: list[list[str]] = []
    used: list[str] = []
    top_score: float | None = None
    for words, score in parsed:
        if not words:
            continue
        if not segments:
            segments.append(words[:max_words])
            used.extend(segments[0])
            top_score = score
            continue
        if score is not None and top_score is not None and score < min_relative_score * top_score:
            break  # keywords are ranked: the rest are weaker still
        new_words = [w for w in words if not any(same_word(w, u) for u in used)]
        if all(w in PHRASE_ONLY_WORDS for w in new_words):
            continue  # adds nothing ("not refund" after "refund")
        n_words = sum(len(seg) for seg in segments)
        extended = next((k for k, seg in enumerate(segments) if _contains_phrase(words, seg)), None)
        if extended is not None:
            candidate = words
            n_after = n_words - len(segments[extended]) + len(words)
        else:
            n_after = n_words + len(words)
        if n_after > max_words:
            continue
        first = segments[0]
        has_predicate = any(w in PREDICATE_NEGATIONS for w in first)
        joined = _joining_phrase(phrases, segments, words, max_words)
        if extended is not None:
            segments[extended] = candidate
        elif joined is not None:
            k, phrase = joined
            segments[k] = phrase  # "change" + "pin" -> "change pin", if that phrase was listed
            n_after = sum(len(seg) for seg in segments)
        elif words[0] in PREDICATE_NEGATIONS and len(segments) == 1 and not has_predicate:
            first.extend(words)  # "card payment" + "not recognised"
        elif first[0] in PREDICATE_NEGATIONS and len(new_words) == len(words):
            segments[0] = words + first  # "not arrived" + "card" -> "card not arrived"
        elif len(segments) < MAX_LABEL_SEGMENTS:
            segments.append(words)
        else:
            continue
        used.extend(words)
        if n_after >= max_words:
            break
    if not segments:
        return fallback
    particle_after = {
        phrase[k]: phrase[k + 1]
        for phrase in reversed(phrases)  # best-ranked phrase wins
        for k in range(len(phrase) - 1)
        if phrase[k + 1] in PARTICLES
    }
    parts = []
    for seg in segments:
        if seg[-1] in particle_after and sum(len(x) for x in segments) < max_words:
            seg.append(particle_after[seg[-1]])  # "top" -> "top up", "log" -> "log out"
        text = " ".join(_format_word(w) for w in seg)
        parts.append(text[0].upper() + text[1:])
    return " / ".join(parts)


def label_themes(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    top_n: int = 10,
    max_words: int = 4,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int | float = 2,
    person_words: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """One row per theme: ``theme``, ``label``, ``keywords`` (list of str), ``size``.

    Two themes must not share a name in a report: colliding labels are rebuilt without the
    relative-score cut-off (so a second facet tells them apart), and any collision left gets the
    theme number appended.
    """
    labels_arr = np.asarray(labels, dtype=np.int64).ravel()
    keywords = theme_keywords(
        texts,
        labels_arr,
        top_n=top_n,
        ngram_range=ngram_range,
        min_df=min_df,
        person_words=person_words,
    )
    assigned = labels_arr[labels_arr != UNASSIGNED]
    sizes = (
        dict(zip(*np.unique(assigned, return_counts=True), strict=True)) if assigned.size else {}
    )
    names = {
        t: theme_label(kws, max_words=max_words, fallback=f"{FALLBACK_LABEL} {t}")
        for t, kws in keywords.items()
    }
    counts = Counter(names.values())
    for t, kws in keywords.items():
        if counts[names[t]] > 1 and kws:
            names[t] = theme_label(kws, max_words=max_words, min_relative_score=0.0)
    counts = Counter(names.values())
    names = {t: f"{n} (theme {t})" if counts[n] > 1 else n for t, n in names.items()}
    rows = [
        {
            "theme": theme,
            "label": names[theme],
            "keywords": [k for k, _ in kws],
            "size": int(sizes.get(theme, 0)),
        }
        for theme, kws in sorted(keywords.items())
    ]
    return pd.DataFrame(rows, columns=["theme", "label", "keywords", "size"])


def keywords_as_text(keywords: Mapping[int, Sequence[KeywordLike]]) -> dict[int, list[str]]:
    """Drop scores: ``{theme: ["card payment", ...]}``."""
    return {t: [_keyword_text(k) for k in kws] for t, kws in keywords.items()}


# --- names that state the problem ----------------------------------------------------------
# A name is a phrase customers themselves wrote ("card payment not recognised"), picked KeyBERT-
# style: candidate phrases of NAME_MIN_WORDS..NAME_MAX_WORDS adjacent words inside one clause of
# the theme's most central texts, found in at least NAME_MIN_SUPPORT of them, holding one of the
# theme's distinctive (c-TF-IDF) words; the NAME_CANDIDATES best by support x keyword weight are
# embedded and the one that best tells the theme apart wins: closest to the theme's centroid,
# less NAME_CONTRAST times its closeness to the nearest other theme's (support breaks
# near-ties). Central texts, not all members: they say what the theme is about; 40 keeps the
# cost flat in n.
NAME_CENTRAL_TEXTS = 40
NAME_MIN_WORDS = 2
NAME_MAX_WORDS = 6
NAME_MIN_SUPPORT = 2
NAME_CANDIDATES = 12
# Keywords whose words make a candidate distinctive; weight of keyword rank r is 1 / (1 + r).
NAME_KEYWORDS = 5
# Weight of the support/keyword pre-score beside the centroid similarity (a tie-breaker: the
# similarities of good candidates differ by ~0.05-0.2, the pre-score is scaled to [0, 1]).
NAME_PRESCORE_WEIGHT = 0.05
# Weight of the closeness to the nearest other theme, subtracted. Without it the most central
# phrase of a theme can be as central to its neighbour ("Pay off the loan" for a theme of
# unexpected interest charges, beside four other loan themes), and the name does not say which
# of them this is: c-TF-IDF's idea (distinctive, not just frequent) applied to whole phrases.
# Measured at 0, 0.5 and 1 on seven labelled sets x three UMAP seeds (label score,
# experiments/naming_probe.py, granularity.md "Names that tell themes apart"): 0.5 raised the
# mean on Banking77-test (0.703 -> 0.746), HWU64 intents and CFPB issues (0.111 -> 0.215) and
# cost at most 0.012 at the other fine levels (0.038 at CFPB's coarse sub-products); 1 cost
# Bitext's categories 0.065 and HWU64's scenarios 0.047.
NAME_CONTRAST = 0.5
# Subtracted from a phrase cut out of a longer one ("Weather supposed [to be]", "Hours [I] can
# call"; rca.text.syntax): a tie-breaker on the pre-score's scale, so a phrase that stands on
# its own wins when it is nearly as central, and a cut phrase far more central still names the
# theme. Measured at 0.02, 0.05 and 0.1 (experiments/syntax_probe.py, granularity.md stop 50):
# 0.1 let weak phrases in ("Section states I have the right"), 0.02 fixed fewer cuts.
NAME_CUT_PENALTY = NAME_PRESCORE_WEIGHT
# Subtracted from a phrase naming the theme's company (:func:`theme_companies`): the company
# pulls the phrase towards the centroid ("Affirm to purchase" on the real CFPB export), so a
# phrase without it wins when nearly as central; a brand far more central stays ("Top up with
# Apple Pay"). Measured in experiments/company_names_probe.py (granularity.md stop 51).
NAME_COMPANY_PENALTY = NAME_PRESCORE_WEIGHT
# A theme is a template campaign when this share of its texts is one wording (digits aside),
# and about one company when one capitalised name or @handle is in this share of its texts
# while in at most COMPANY_MAX_ELSEWHERE of the other themes' texts.
TEMPLATE_SHARE = 0.5
# ... or when that share of its texts quote one passage of PASSAGE_WORDS words in order (texts
# of at least PASSAGE_TEXT_FACTOR times that length; shorter ones count as not quoting): copied
# letters and legal boilerplate differ in their names, dates and masks, so no whole wording
# repeats. Six words in the same order is longer than the phrases customers share by chance
# ("took out a title loan", "i took out a loan" are five). On the real CFPB export the theme of
# credit-repair letters quotes "consumer reporting agency can not furnish" in 57 % of its texts;
# no other theme's most quoted six words reach 9 %.
PASSAGE_WORDS = 6
# Only a text at least this many times the passage's length quotes it: a six-word question
# ("how soon can i expect my refund") is a whole message, not a quotation, and short chat
# messages share openings like that by the dozen (rca demo's delivery theme: 64 %).
PASSAGE_TEXT_FACTOR = 3
PASSAGE_SHOWN = 12
# every word and number, contractions whole, so a passage reads as written
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Capitalised mid-sentence but never a company: forms of address ("Dear Sir or Madam").
NOT_COMPANY = frozenset({"sir", "madam", "mr", "mrs", "ms", "miss", "dr", "dear"})
COMPANY_SHARE = 0.6
COMPANY_MAX_ELSEWHERE = 0.2
# A company a theme's names leave out (:func:`theme_companies`): in this share of its texts,
# and in the other themes' at most this fraction as often.
NAME_COMPANY_SHARE = 0.2
NAME_COMPANY_LIFT = 0.2
NOTE_SAMPLE = 500
_NAME_TOKEN_RE = re.compile(r"(?<![\w@])(?:@\w+|[A-Z][\w&'-]+)")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?]\s+|\n)\s*(\S+)")
# A run of capitalised words ("Wells Fargo", "Credit One Bank"): how a company a theme is about
# is shown, though it is found by single words (a run's length varies from text to text).
_NAME_RUN_RE = re.compile(r"[A-Z][\w&'-]+(?:[ \t]+[A-Z][\w&'-]+)*")

# Words that may sit inside a name but never open one: the request around the problem ("tell
# me why my transfer failed", "[how] long does it take").
NAME_NOT_FIRST = frozenset(
    {
        "also",
        "explain",
        "give",
        "long",
        "many",
        "much",
        "please",
        "possible",
        "show",
        "still",
        "sure",
        "tell",
        "way",
    }
)

Embedder = Callable[[list[str]], np.ndarray]


def _candidate_phrases(
    texts: Sequence[str], person_words: frozenset[str] = frozenset()
) -> Counter[str]:
    """Phrases of 2-6 adjacent words within one clause, counted once per text."""
    support: Counter[str] = Counter()
    breaks = person_words | PROFANE_WORDS
    for text in texts:
        grams = phrase_ngrams(text, ngram_range=(NAME_MIN_WORDS, NAME_MAX_WORDS), breaks=breaks)
        support.update(set(grams))
    return support


def is_proper_name(phrase: str, texts: Sequence[str]) -> bool:
    """Whether customers write ``phrase`` as a title: every word but stop words capitalised in
    at least half of its occurrences in ``texts`` ("Equal Credit Opportunity Act", "Fair Credit
    Reporting Act", "Comcast Internet"). Such a phrase names a law, a company or a product a
    complaint cites, not the problem: on the real CFPB export "Equal credit opportunity act" and
    "Credit reporting act" named the themes of denied credit and credit-report disputes, whose
    narratives paste the statute. Sentence-initial capitals alone do not make a title (its
    other words stay lower case), and a phrase never written in its own words is not one."""
    words = phrase.split()
    pattern = re.compile(
        r"(?<![\w])" + r"[\W_]+".join(re.escape(w) for w in words) + r"(?![\w])", re.IGNORECASE
    )
    titled = seen = 0
    for text in texts:
        # a title or a shout capitalises every phrase (rca.text.casing): its lines say nothing
        for m in pattern.finditer(informative(text)):
            seen += 1
            written = _WORD_RE.findall(m.group(0))
            titled += all(w[:1].isupper() for w in written if w.lower() not in STOP_WORDS)
    return seen > 0 and titled * 2 >= seen


def format_name(phrase: str) -> str:
    """A candidate phrase as a name is shown: first letter capitalised, acronyms upper case."""
    text = " ".join(_format_word(w) for w in phrase.split())
    return text[:1].upper() + text[1:]


_SENTENCE_END_RE = re.compile(r"[.!?]\s*$|\n\s*$")


def as_written(name: str, texts: Sequence[str]) -> str:
    """``name`` with each word spelt as customers usually write it in ``texts``.

    Names are built from lower-cased phrases, so a company or product read "Loan with wells
    fargo" on the CFPB export. A word most of whose mid-sentence occurrences carry a capital
    ("Wells Fargo", "PayPal", "iPhone", "APR") takes its most common such spelling; a word
    opening a sentence says nothing (every word is capitalised there), nor does a shouted text.
    The name's first letter stays upper case unless the spelling starts lower case ("iPhone").
    """
    words = name.split()
    if not words:
        return name
    spelt: dict[str, Counter[str]] = {w.lower(): Counter() for w in words}
    seen: Counter[str] = Counter()
    for text in texts:
        text = informative(_as_text(text))  # a title or a shout says nothing of spelling
        for m in _WORD_RE.finditer(text):
            key = m.group(0).lower()
            if key not in spelt or _SENTENCE_END_RE.search(text[: m.start()] or "\n"):
                continue
            seen[key] += 1
            if any(c.isupper() for c in m.group(0)):
                spelt[key][m.group(0)] += 1
    out = []
    for i, word in enumerate(words):
        key = word.lower()
        forms = spelt[key]
        # a function word is no name, however a few texts wrote it ("card- Where can")
        if key in STOP_WORDS and i > 0:
            out.append(word)
            continue
        if seen[key] and sum(forms.values()) * 2 > seen[key]:
            word = min(forms, key=lambda f: (-forms[f], f))
        elif i == 0:
            word = word[:1].upper() + word[1:]
        out.append(word)
    return " ".join(out)


# "visa and mastercard", "apple pay or google pay": a choice between brands is the problem.
_CHOICE_WORDS = frozenset({"and", "or", "vs", "versus"})


def _names_a_company(words: Sequence[str], companies: Collection[str]) -> bool:
    """Whether ``words`` hold a word of ``companies`` ("loan with wells fargo") other than as
    one of two brands a customer chooses between ("choose between visa and mastercard")."""
    shape = "".join("T" if w in companies else "C" if w in _CHOICE_WORDS else "w" for w in words)
    return "T" in shape and re.fullmatch(r"[wC]*T+CT+[wC]*", shape) is None


def _ranked_candidates(
    central: Sequence[str],
    keywords: Sequence[KeywordLike],
    person_words: frozenset[str] = frozenset(),
    companies: Collection[str] = frozenset(),
) -> list[tuple[str, float]]:
    """``(phrase, pre-score)`` best first: support share x weight of the keyword words held.

    The name of the company the theme is about (``companies``, :func:`theme_companies`)
    weighs nothing: it is the theme's top keyword, and "Contacted Affirm" named a theme of the
    real CFPB export after the lender; a phrase needs a distinctive word of its own ("Top up
    with Apple Pay", "Loan with Wells Fargo" stay). Two brands a customer chooses between are
    the problem and weigh ("Choose between Visa and Mastercard", Banking77).

    A theme whose every candidate's distinctive word is its company's has nothing else to say,
    and its candidates are ranked with the company's words counted: Bitext's theme of
    "Platinum account" requests read the capitalised tier as its company, and without this it
    fell back to its keywords ("Platinum account / Creating platinum"). The company penalty
    in :func:`problem_names` still ranks these phrases after any that name the problem."""
    ranked = _ranked_by_keywords(central, keywords, person_words, companies)
    if not ranked and companies:
        ranked = _ranked_by_keywords(central, keywords, person_words, frozenset())
    return ranked


def _ranked_by_keywords(
    central: Sequence[str],
    keywords: Sequence[KeywordLike],
    person_words: frozenset[str],
    companies: Collection[str],
) -> list[tuple[str, float]]:
    weights: dict[str, float] = {}
    for rank, kw in enumerate(keywords[:NAME_KEYWORDS]):
        words = _keyword_text(kw).split()
        if companies and _names_a_company(words, companies):
            # "contacted affirm": a keyword about the company lends the other words nothing
            words = [w for w in words if w in companies]
        for word in words:
            if word not in PHRASE_ONLY_WORDS:
                weights.setdefault(stem(word), 1.0 / (1.0 + rank))
    out: list[tuple[str, float]] = []
    for phrase, count in _candidate_phrases(central, person_words).items():
        if count < min(NAME_MIN_SUPPORT, len(central)):
            continue
        if phrase.split()[0] in NAME_NOT_FIRST:
            continue
        words = phrase.split()
        if companies and _names_a_company(words, companies):
            words = [w for w in words if w not in companies]
        held = {stem(w) for w in words}
        weight = sum(weights.get(s, 0.0) for s in held)
        if weight <= 0:
            continue  # no distinctive word: a greeting, a company alone, boilerplate
        out.append((phrase, weight * count / len(central)))
    out.sort(key=lambda pc: (-pc[1], len(pc[0].split()), pc[0]))
    return out


def problem_names(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    centroids: np.ndarray,
    *,
    keywords: Mapping[int, Sequence[KeywordLike]] | None = None,
    embed: Embedder | None = None,
    person_words: frozenset[str] = frozenset(),
    reserved: Collection[str] = (),
    parse: Parser | None = None,
    entities: EntityReader | None = None,
    companies: Mapping[int, Collection[str]] | None = None,
) -> dict[int, str]:
    """``{theme: name}``: the phrase customers wrote that says the theme's problem best.

    ``vectors`` are the texts' embeddings and ``centroids`` the themes' (same space) to find each
    theme's central texts; ``embed`` (texts -> vectors in that space) ranks candidates by their
    similarity to the centroid less ``NAME_CONTRAST`` times that to the nearest other centroid;
    without it the support/keyword pre-score decides. A theme with
    no candidate (too few texts, nothing but stop words) keeps its c-TF-IDF label. Deterministic:
    ties break by support, then shorter, then alphabetical. Names are unique: a theme whose best
    phrase is taken by a closer theme takes its next one. No name holds a word of
    ``person_words`` (people's names, ``rca.text.persons``), and none repeats a ``reserved`` name
    (any case): names other themes already carry, which a part of one of them must not echo.
    With ``parse`` (``rca.text.syntax.load_parser``) a phrase that does not stand on its own
    where customers wrote it ("Weather supposed", "Hours can call") is no candidate.
    ``entities`` (``rca.text.name_kinds``) keeps places, nationalities and laws out of the
    theme's companies (:func:`theme_companies`), so they weigh in a name like any word;
    ``companies``: those companies, when the caller has read them (a fit reads them once).
    """
    labels_arr = np.asarray(labels, dtype=np.int64).ravel()
    kw = (
        keywords
        if keywords is not None
        else theme_keywords(texts, labels_arr, person_words=person_words)
    )
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    cents = np.asarray(centroids, dtype=np.float64)
    cents = cents / np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    themes = sorted(int(t) for t in np.unique(labels_arr) if t != UNASSIGNED)
    ranked: dict[int, list[tuple[str, float]]] = {}
    central: dict[int, list[str]] = {}
    cut: set[tuple[int, str]] = set()  # (theme, phrase) cut out of a longer one
    check_of: dict[int, PhraseCheck | None] = {}
    if companies is None:
        companies = theme_companies(texts, labels_arr, person_words=person_words, entities=entities)
    for t in themes:
        members = np.flatnonzero(labels_arr == t)
        sims = unit[members] @ cents[t]
        order = members[np.lexsort((members, -sims))][:NAME_CENTRAL_TEXTS]
        # a title's or a shout's capitals say nothing: read it as lower-case chat is read
        central[t] = [decased(_as_text(texts[i])) for i in order]
        check = None if parse is None else PhraseCheck(parse, person_words | PROFANE_WORDS)
        check_of[t] = check
        ranked[t] = name_candidates(
            central[t], kw.get(t, []), person_words, companies.get(t, frozenset())
        )
        if check is not None:
            # a negation is the problem ("refund not showing"): no grammar outweighs it
            cut |= {
                (t, p)
                for p, _ in ranked[t]
                if NEGATIONS.isdisjoint(p.split()) and not check.stands(p, central[t])
            }
    scored: dict[int, list[tuple[float, str]]] = {}
    flat = [(t, p) for t in themes for p, _ in ranked[t]]
    sims_to_centroid = (
        np.zeros(len(flat))
        if embed is None or not flat
        else _phrase_similarity(embed, flat, cents, contrast=NAME_CONTRAST)
    )
    at = 0
    for t in themes:
        top = max((pre for _, pre in ranked[t]), default=1.0) or 1.0
        rows = []
        for phrase, pre in ranked[t]:
            score = float(sims_to_centroid[at]) + NAME_PRESCORE_WEIGHT * pre / top
            score -= NAME_CUT_PENALTY * ((t, phrase) in cut)
            score -= NAME_COMPANY_PENALTY * _names_a_company(phrase.split(), companies.get(t, ()))
            rows.append((score, phrase))
            at += 1
        rows.sort(key=lambda sp_: (-round(sp_[0], 6), len(sp_[1].split()), sp_[1]))
        scored[t] = rows
    names: dict[int, str] = {}
    taken: set[str] = {r.lower() for r in reserved}
    counts = word_counts(texts)  # a slip two central texts share is not a name's spelling

    def spelt(phrase: str) -> str:
        return format_name(corrected(phrase, counts))

    # Themes with the most convincing best phrase choose first.
    for t in sorted(themes, key=lambda t: (-(scored[t][0][0] if scored[t] else -9.0), t)):
        check = check_of[t]
        name = ""
        for _, phrase in scored[t]:
            if spelt(phrase).lower() in taken:
                continue
            written = phrase if check is None else check.written(phrase, central[t])
            name = as_written(spelt(written), central[t])
            if name.lower() not in taken:
                taken.add(spelt(phrase).lower())  # "card not work" as "Card doesn't work"
                break
            name = ""
        if not name:
            name = corrected(theme_label(kw.get(t, []), fallback=f"{FALLBACK_LABEL} {t}"), counts)
            name = name if name.lower() not in taken else f"{name} (theme {t})"
        taken.add(name.lower())
        names[t] = name
    return names


def name_candidates(
    central: Sequence[str],
    keywords: Sequence[KeywordLike],
    person_words: frozenset[str] = frozenset(),
    companies: Collection[str] = frozenset(),
) -> list[tuple[str, float]]:
    """The NAME_CANDIDATES best ``(phrase, pre-score)`` of ``central`` texts for a name, best
    first: phrases holding a distinctive word (``keywords``) besides the theme's
    ``companies`` (:func:`theme_companies`), titles of laws and products left out
    (:func:`is_proper_name`)."""
    kept: list[tuple[str, float]] = []
    for cand in _ranked_candidates(central, keywords, person_words, companies):
        if len(kept) >= NAME_CANDIDATES:  # a title is checked only until the list is full
            break
        if not is_proper_name(cand[0], central):
            kept.append(cand)
    return kept


def _phrase_similarity(
    embed: Embedder,
    flat: Sequence[tuple[int, str]],
    centroids: np.ndarray,
    *,
    contrast: float = 0.0,
) -> np.ndarray:
    """Cosine of each ``(theme, phrase)`` to that theme's centroid, less ``contrast`` times its
    cosine to the nearest other theme's centroid (each phrase embedded once)."""
    phrases = sorted({p for _, p in flat})
    vecs = np.asarray(embed(phrases), dtype=np.float64)
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    at = {p: i for i, p in enumerate(phrases)}
    theme = np.array([t for t, _ in flat])
    sims = (vecs @ centroids.T)[[at[p] for _, p in flat]]  # one row per (theme, phrase)
    rows = np.arange(len(flat))
    own = sims[rows, theme]
    if sims.shape[1] < 2:
        return own
    sims[rows, theme] = -np.inf  # the nearest *other* centroid
    return own - contrast * sims.max(axis=1)


def _normalised_wording(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(TOKEN_RE.findall(preprocess(text))))


def _shared_passage(texts: Sequence[str]) -> tuple[float, str]:
    """(share of ``texts`` quoting it, passage): the PASSAGE_WORDS-word run most texts contain,
    shown as the longest stretch of such runs in the first text that quotes it (at most
    PASSAGE_SHOWN words). Masks, placeholders and handles break runs."""
    n = PASSAGE_WORDS
    segments_of: list[list[list[str]]] = []
    quoted: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        segments = [_WORD_RE.findall(seg) for seg in _breaks_at_masks(text).split("\n")]
        if sum(map(len, segments)) < PASSAGE_TEXT_FACTOR * n:
            segments = []  # too short to quote anything (still counted in the share's base)
        segments_of.append(segments)
        quoted.update({tuple(w[i : i + n]) for w in segments for i in range(len(w) - n + 1)})
    if not quoted:
        return 0.0, ""
    top = max(quoted.values())
    best: list[str] = []
    for segments in segments_of:  # the first text that quotes a most-quoted run
        for words in segments:
            at = 0  # consecutive most-quoted runs overlap into one stretch of words
            for hit, group in groupby(
                quoted[tuple(words[i : i + n])] == top for i in range(len(words) - n + 1)
            ):
                runs = len(list(group))
                if hit and runs + n - 1 > len(best):
                    best = words[at : at + runs + n - 1]
                at += runs
        if best:
            break
    shown = " ".join(best[:PASSAGE_SHOWN])
    return top / len(texts), shown


def _proper_names(text: str) -> set[str]:
    """Capitalised words and @handles, leaving out sentence-initial words ("Please", "My"),
    short all-capital acronyms and their plurals, redaction placeholders and "I'm". A text
    written in Title Case or in capitals has none: every word is capitalised there."""
    text = informative(text)  # a title's or a shout's lines (a ticket's subject) have none
    starts = {m.start(1) for m in _SENTENCE_START_RE.finditer(text)}
    found = set()
    for m in _NAME_TOKEN_RE.finditer(text):
        word = m.group(0)
        if word.lower() in NOT_COMPANY or re.match(r"I['’]", word):
            continue  # "I'm", "I've": the pronoun is always capitalised
        if text[m.start() - 1 : m.start()] == "[" and text[m.end() : m.end() + 1] == "]":
            continue  # a redaction's placeholder ("[EMAIL]", "[REDACTED]")
        bare = re.sub(r"['’]?s$", "", word)  # "ATMs", "ATM's"
        if m.start() in starts or bare.lower() in ACRONYMS or (bare.isupper() and len(bare) <= 4):
            continue  # "ATM", "PIN", "SMS": terms of the trade, not a company
        found.add(word.lower())
    return found


def _full_name(word: str, texts: Sequence[str]) -> str:
    """The company name ``word`` belongs to, as these texts most often write it: "Fargo" is
    shown as "Wells Fargo" (ties: the shorter run, then alphabetical)."""
    runs: Counter[str] = Counter()
    for text in texts:
        # "Wells Fargo Closed My Account" is no run of one name
        for m in _NAME_RUN_RE.finditer(informative(text)):
            words = m.group(0).split()
            while len(words) > 1 and words[0].lower() in ENGLISH_STOP_WORDS:
                words = words[1:]  # "The Wells Fargo" at a sentence's start
            if word in (w.lower() for w in words):
                runs[" ".join(words)] += 1
    if not runs:
        return word.title()
    return min(runs.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


class NameReads(NamedTuple):
    """The capitalised names and handles of each theme's texts (:func:`read_names`), read once
    per fit for both the names' companies and the notes."""

    raw: list[str]
    #: ``(theme, sampled member rows, names' counts in them, sampled rows of the other themes)``
    themes: list[tuple[int, np.ndarray, Counter[str], int]]
    #: names' counts over every theme's sampled rows
    overall: Counter[str]


def read_names(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    person_words: frozenset[str] = frozenset(),
) -> NameReads:
    """What :func:`theme_companies` and :func:`theme_descriptions` count: a fit reads it once
    and hands it to both. Shares are read on at most NOTE_SAMPLE texts per theme, evenly spaced
    (cost flat in n)."""
    labels_arr = np.asarray(labels, dtype=np.int64).ravel()
    raw = [_as_text(t) for t in texts]
    sampled: dict[int, np.ndarray] = {}
    for t in sorted(int(x) for x in np.unique(labels_arr[labels_arr != UNASSIGNED])):
        members = np.flatnonzero(labels_arr == t)
        sampled[t] = members[np.unique(np.linspace(0, len(members) - 1, NOTE_SAMPLE).astype(int))]
    n_sampled = sum(len(m) for m in sampled.values())
    overall: Counter[str] = Counter()
    themes = []
    for t, members in sampled.items():
        inside: Counter[str] = Counter()
        for i in members:
            inside.update(_proper_names(raw[i]) - person_words)
        overall.update(inside)
        themes.append((t, members, inside, n_sampled - len(members)))
    return NameReads(raw, themes, overall)


def _without_places(
    found: Mapping[int, Sequence[str]],
    raw: Sequence[str],
    members_of: Mapping[int, np.ndarray],
    entities: EntityReader | None,
) -> dict[int, list[str]]:
    """``found`` (theme -> company words, best first) less the words the recogniser reads as
    places, nationalities or laws in the themes' texts (:func:`rca.text.name_kinds.not_companies`;
    nothing is dropped without a recogniser)."""
    if entities is None or not any(found.values()):
        return {t: list(words) for t, words in found.items()}
    texts_of: dict[str, list[str]] = {}
    for t, words in found.items():
        for word in words:
            texts_of.setdefault(word.lstrip("@"), []).extend(raw[i] for i in members_of[t])
    dropped = not_companies(texts_of, entities)
    return {t: [w for w in words if w.lstrip("@") not in dropped] for t, words in found.items()}


def theme_companies(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    person_words: frozenset[str] = frozenset(),
    entities: EntityReader | None = None,
    reads: NameReads | None = None,
) -> dict[int, frozenset[str]]:
    """``{theme: words}`` of the companies or brands a theme is about: a capitalised name or
    @handle (:func:`_proper_names`) in ``NAME_COMPANY_SHARE`` of its texts and at most
    ``NAME_COMPANY_LIFT`` times as common in the others'. They weigh nothing in a name's
    candidates; looser than the note's one company (``COMPANY_SHARE``), since complaints name
    their lender as often as not (the real CFPB export's Affirm theme: 39% of texts, 0.9% of
    the others). With ``entities`` (:mod:`rca.text.name_kinds`) a word the recogniser reads
    as a place, nationality or law is no company ("China", "European", "Fair Credit Reporting
    Act"). ``reads``: :func:`read_names` of the same texts, labels and ``person_words``, when
    the caller has it."""
    raw, themes, overall = reads or read_names(texts, labels, person_words=person_words)
    found = {
        t: sorted(
            name
            for name, n_in in inside.items()
            if name not in STOP_WORDS
            and n_in >= NAME_COMPANY_SHARE * len(members)
            and (overall[name] - n_in) * len(members) <= NAME_COMPANY_LIFT * n_in * others
        )
        for t, members, inside, others in themes
    }
    members_of = {t: members for t, members, _inside, _others in themes}
    kept = _without_places(found, raw, members_of, entities)
    return {t: frozenset(w.lstrip("@") for w in words) for t, words in kept.items() if words}


def theme_descriptions(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    person_words: frozenset[str] = frozenset(),
    entities: EntityReader | None = None,
    reads: NameReads | None = None,
) -> dict[int, str]:
    """``{theme: note}`` for themes a manager should read differently: a template campaign (one
    wording holds most of the texts) or a theme about one company (one name or handle in most of
    its texts and rare elsewhere; a person's name, ``person_words``, is never called a company,
    nor, with ``entities``, a place, nationality or law). Themes with nothing to say are left
    out. ``reads`` as for :func:`theme_companies`."""
    raw, themes, overall = reads or read_names(texts, labels, person_words=person_words)
    one_company: dict[int, list[str]] = {}
    for t, members, inside, others in themes:
        one_company[t] = [
            name
            for name, n_in in inside.most_common(3)
            if n_in >= COMPANY_SHARE * len(members)
            and ((overall[name] - n_in) / others if others else 0.0) <= COMPANY_MAX_ELSEWHERE
        ]
    members_of = {t: members for t, members, _inside, _others in themes}
    one_company = _without_places(one_company, raw, members_of, entities)
    notes: dict[int, str] = {}
    for t, members, inside, _others in themes:
        parts: list[str] = []
        wording, count = Counter(_normalised_wording(raw[i]) for i in members).most_common(1)[0]
        if wording and count >= TEMPLATE_SHARE * len(members) and len(members) > 1:
            parts.append(
                f"Template campaign: {count / len(members):.0%} of its texts share one wording"
            )
        else:
            share, passage = _shared_passage([raw[i] for i in members])
            if share >= TEMPLATE_SHARE and len(members) > 1:
                parts.append(
                    f"Template text: {share:.0%} of its texts quote the passage “{passage} …”"
                )
        for name in one_company[t][:1]:
            written = [raw[i] for i in members]
            shown = name if name.startswith("@") else _full_name(name, written)
            parts.append(
                f"Mostly one company: {shown} ({inside[name] / len(members):.0%} of its texts)"
            )
        if parts:
            notes[t] = "; ".join(parts)
    return notes
