"""Whether a phrase stands on its own in the sentences customers wrote it in.

Theme names are phrases of adjacent words cut from customers' texts (``rca.cluster.labels``).
Adjacency alone cuts sentences in the wrong places: "what's the weather supposed to be" gives
"Weather supposed", "I received another email from Affirm stating that I owe" gives "Received
another email from Affirm stating", "I topped up but the app still shows" gives "Topped up but
the app", and "what hours can I call" gives "Hours can call". A dependency parse says what a
reader hears as missing: a verb whose object or clause was cut off, two fragments of different
clauses, or an object asked about before its verb. The parse is spaCy's (the same installed
pipeline the display redaction uses, ``Settings.redact_ner_model``): a maintained, trained
parser, where rules over word lists would chase every wording.

Pure over parsed ``Doc`` objects; the parser is passed in (``Parser``), so callers without one
(tests, a missing model) skip the check rather than guess.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

#: Texts in, parsed spaCy ``Doc`` objects out (same order).
Parser = Callable[[list[str]], list[Any]]

#: Dependents a head cannot do without: cutting one to the right of the phrase leaves the
#: phrase asking for it ("stating [that ...]", "supposed [to be]", "reach [my account]").
COMPLEMENTS = frozenset({"dobj", "obj", "pobj", "xcomp", "ccomp", "attr", "acomp", "oprd", "pcomp"})
#: Dependents the parser may hang on the verb before a phrase rather than on the phrase's noun
#: ("[leave] feedback | for a service", "[turn] the volume | up", "[use a] card for top | up"):
#: a phrase may hold them beside its head when both hang on that one verb.
ATTACHED = frozenset({"prep", "prt", "advmod"})
#: An object before its own head in the phrase is a question's word order ("hours [I] can
#: call", "what alarms do I have set"): the name reads as half a question.
FRONTED = frozenset({"dobj", "attr"})
#: An auxiliary before its verb's subject is a question's word order too.
AUXILIARIES = frozenset({"aux", "auxpass"})
SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl"})
#: How many of a phrase's sentences are parsed; the phrase stands when at least half do.
SENTENCES_CHECKED = 3
#: A sentence is cut at this many characters before parsing: long narratives state a phrase
#: within a sentence, and parsing a whole letter costs ~30 ms.
MAX_SENTENCE_CHARS = 400
#: Parsed sentences a loaded parser keeps (about 2,000 per 2,500-contact fit; ~5 KB each).
PARSES_KEPT = 20_000

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD_RE = re.compile(r"(?u)\b(?=\w*[^\W\d_])\w{2,}\b")
# What the phrase builder drops before counting words: the verb of a negated contraction
# ("does" in "doesn't", read "not"), clitics ('s, 're, ...), one-letter words ("I", "a").
_NEGATED_VERBS = frozenset(
    {"ca", "wo", "do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "could"}
    | {"would", "should", "ai"}
)
_BREAK = "\x00"
_NO_TENSOR = np.zeros((0, 0), dtype=np.float32)


def parser_from_settings(settings: Any) -> Parser | None:
    """The parser ``Settings.name_parser_model`` names (None when empty or not installed)."""
    return load_parser(settings.name_parser_model)


@lru_cache(maxsize=2)
def load_parser(model: str) -> Parser | None:
    """spaCy's ``model`` with only what a dependency parse needs; None if empty or not
    installed (names then go unchecked)."""
    if not model:
        return None
    import spacy.util

    if not spacy.util.is_package(model):
        return None
    import spacy

    nlp = spacy.load(model, disable=["ner", "lemmatizer"])
    return _RememberedParses(nlp)


class _RememberedParses:
    """A parser that keeps its last ``PARSES_KEPT`` sentences' parses: a refit, a split
    preview and the parent names judge many of the sentences the fit before them judged, and
    parsing was 4 of a 2,500-contact refit's 14.5 s. Only the parse is kept (``Doc.tensor``,
    the pipeline's token vectors, is dropped: the checks read heads and tags)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self._kept: dict[str, Any] = {}

    def __call__(self, texts: list[str]) -> list[Any]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._kept]
        for text, doc in zip(todo, self.nlp.pipe(todo, batch_size=64), strict=True):
            doc.tensor = _NO_TENSOR
            self._kept[text] = doc
        if len(self._kept) > PARSES_KEPT:
            for old in list(self._kept)[: len(self._kept) - PARSES_KEPT]:
                del self._kept[old]
        return [self._kept[t] if t in self._kept else self.nlp(t) for t in texts]


def _norm(tokens: Sequence[Any], breaks: frozenset[str]) -> list[tuple[int, str]]:
    """``(token index, word)`` as the phrase builder counts words; ``_BREAK`` where no phrase
    runs through (punctuation, a person's name)."""
    out: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        low = tok.text.lower().replace("’", "'")
        if low in "-–" and not tok.whitespace_ and i and not tokens[i - 1].whitespace_:
            continue  # "top-up" is "top up" to the phrase builder
        if tok.is_punct or tok.is_space or low in breaks:
            out.append((i, _BREAK))
        elif low in ("n't", "nt", "not"):
            out.append((i, "not"))
        elif not _dropped(tokens, i, low):
            out.append((i, low))
    return out


def _dropped(tokens: Sequence[Any], i: int, low: str) -> bool:
    """Whether the phrase builder drops token ``i`` (lower-cased ``low``)."""
    nxt = tokens[i + 1].text.lower().replace("’", "'") if i + 1 < len(tokens) else ""
    if nxt == "n't" and low in _NEGATED_VERBS:
        return True
    return low.startswith("'") or not _WORD_RE.fullmatch(low)


def phrase_spans(doc: Any, words: Sequence[str], breaks: frozenset[str] = frozenset()) -> list:
    """The spans of ``doc`` that read as ``words`` once dropped words are skipped ("card doesn't
    work" for ``["card", "not", "work"]``)."""
    seq = _norm(doc, breaks)
    n = len(words)
    spans = []
    for at in range(len(seq) - n + 1):
        if all(seq[at + j][1] == words[j] for j in range(n)):
            spans.append(doc[seq[at][0] : seq[at + n - 1][0] + 1])
    return spans


def stands_alone(span: Any) -> bool:
    """Whether ``span`` is a phrase on its own: one head (the rest depends on it), or one head
    and ``ATTACHED`` words that hang on the same word before the span, no required dependent
    cut off to its right, and no question word order (an object before its verb, an auxiliary
    before its subject).

    Two heads outside otherwise mean two fragments ("topped up but the app [still shows]") or a
    modifier whose noun was cut ("early termination [fees]")."""
    inside = range(span.start, span.end)
    roots = [t for t in span if t.head.i not in inside or t.head.i == t.i]
    shared = {t.head.i for t in roots}
    attached = sum(t.dep_ in ATTACHED for t in roots)
    if len(roots) > 1 and not (
        len(shared) == 1 and min(shared) < span.start and attached >= len(roots) - 1
    ):
        return False
    for tok in span:
        if tok.dep_ in FRONTED and tok.head.i in inside and tok.head.i > tok.i:
            return False
        if tok.dep_ in AUXILIARIES and any(
            c.dep_ in SUBJECTS and c.i > tok.i and c.i in inside for c in tok.head.children
        ):
            return False  # "[how] soon can I expect", "[what] alarms do I have set"
        if any(c.i >= span.end and c.dep_ in COMPLEMENTS for c in tok.rights):
            return False
    return True


def _sentences_with(phrase: str, texts: Iterable[str], limit: int) -> list[str]:
    """Up to ``limit`` sentences of ``texts`` whose words hold ``phrase``."""
    pattern = re.compile(r"\b" + r"\W+(?:\w+\W+)??".join(map(re.escape, phrase.split())) + r"\b")
    found: list[str] = []
    for text in texts:
        for sentence in _SENTENCE_RE.split(text):
            if pattern.search(sentence.lower().replace("n't", " not")):
                found.append(sentence[:MAX_SENTENCE_CHARS])
                if len(found) >= limit:
                    return found
    return found


class PhraseCheck:
    """Judges candidate phrases of one set of texts, parsing each sentence once."""

    def __init__(self, parse: Parser, breaks: frozenset[str] = frozenset()) -> None:
        self.parse = parse
        self.breaks = breaks
        self._docs: dict[str, Any] = {}
        self._verdicts: dict[tuple[str, int], bool] = {}

    def _docs_of(self, sentences: list[str]) -> list[Any]:
        todo = [s for s in dict.fromkeys(sentences) if s not in self._docs]
        if todo:
            self._docs.update(zip(todo, self.parse(todo), strict=True))
        return [self._docs[s] for s in sentences]

    def stands(self, phrase: str, texts: Sequence[str]) -> bool:
        """True unless most of the phrase's parsed occurrences do not stand alone; a phrase
        whose words cannot be found in a parse (an unusual spelling) is not judged."""
        key = (phrase, id(texts))
        if key not in self._verdicts:
            self._verdicts[key] = self._stands(phrase, texts)
        return self._verdicts[key]

    def _spans(self, phrase: str, texts: Sequence[str]) -> list[Any]:
        words = phrase.split()
        return [
            span
            for doc in self._docs_of(_sentences_with(phrase, texts, SENTENCES_CHECKED))
            for span in phrase_spans(doc, words, self.breaks)[:1]
        ]

    def _stands(self, phrase: str, texts: Sequence[str]) -> bool:
        verdicts = [stands_alone(span) for span in self._spans(phrase, texts)]
        return not verdicts or 2 * sum(verdicts) >= len(verdicts)

    def written(self, phrase: str, texts: Sequence[str]) -> str:
        """``phrase`` as most of its parsed occurrences write it, the words the phrase builder
        drops put back ("card doesn't work" for "card not work", "took out a title loan",
        "top-up"), lower case but "I", numbers it left out still out; ``phrase`` itself where
        no occurrence is found."""
        forms = Counter(_as_said(span, set(phrase.split())) for span in self._spans(phrase, texts))
        return min(forms, key=lambda f: (-forms[f], f)) if forms else phrase


def _as_said(span: Any, words: set[str]) -> str:
    """A span's text as written, spacing kept, lower case but the pronoun "I"; a token with a
    digit that is no word of the phrase ("a rebate of 1499 dollars") left out, and a leading
    "n't" given back its verb ("doesn't really matter"), and a leading "not" or "never"
    before a bare verb its auxiliary ("did not refund", "will not refund"; "not received"
    reads as it is)."""
    doc = span.doc
    start = span.start
    if start and (
        span[0].lower_ in ("n't", "n’t")
        or (
            span[0].lower_ in ("not", "never")
            and len(span) > 1
            and span[1].tag_ == "VB"
            and doc[start - 1].pos_ == "AUX"
        )
    ):
        start -= 1  # "doesn't really matter"; "did not refund", where "not refund" is no English
    out = []
    for tok in doc[start : span.end]:
        if any(c.isdigit() for c in tok.text) and tok.lower_ not in words:
            continue
        text = "I" if tok.lower_ == "i" else tok.lower_
        out.append(text + (tok.whitespace_ and " "))
    return re.sub(r"\s+", " ", "".join(out)).strip()
