"""Typos customers made, found in their own words, so a theme's name does not repeat them.

A name is a phrase customers wrote; when two central texts carry the same slip ("assistancew
buying several of your product", "waiting whem") the name carries it too, and a manager reads
the slip in every report. What a slip should have been is read off the export's own word
counts, not a dictionary's suggestions: company, product and plan names ("TitleMax", "GoodLeap",
"Freemium") are in no dictionary but are written the same way many times. A word is a slip of
another when it is no English word, it is rare, it is one edit (Norvig's deletes, transposes,
replaces and inserts) from a word the export writes far more often, and it is not an inflection
of it ("loans" of "loan").

The English words come from pyspellchecker's dictionary (MIT, maintained): without it, real
words an export writes rarely were "slips" of frequent neighbours ("held" of "help", "booking"
of "looking", "heather" of "weather": 63 of Banking77-test's 1,404 words, most of them real).
Its own corrections are not used: they follow general English and would "correct" the
export's vocabulary ("Klarna", "zelle", "signup"); the export's counts say what its writers
usually write.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import cache

# A slip is written at most this many times in the export's sample and at most this share of
# the word it is a slip of (a variant written half as often as the usual form is a spelling,
# "cheque" / "check", not a typo).
MAX_TYPO_COUNT = 5
MAX_TYPO_SHARE = 0.05
# Short words are one edit from many others ("gbp" / "gap", "aud" / "and"): not judged.
MIN_TYPO_CHARS = 4
# Texts counted: the sample keeps the cost flat on a 100,000-contact fit (two typed letters in
# 20,000 texts is still rare next to a word written hundreds of times).
COUNT_SAMPLE = 20_000

# An apostrophe is a letter here, so "didnt" is one insert from "didn't".
_LETTERS = "abcdefghijklmnopqrstuvwxyz'"
_WORD_RE = re.compile(r"[a-z]+(?:['’][a-z]+)*")


@cache
def _english() -> frozenset[str]:
    """pyspellchecker's English word list (loaded once; about 0.3 s)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())


def word_counts(texts: Sequence[str], sample: int = COUNT_SAMPLE) -> Counter[str]:
    """How often each lower-case word is written in (an evenly spaced sample of) ``texts``."""
    step = max(1, len(texts) // sample) if sample > 0 else 1
    counts: Counter[str] = Counter()
    for text in texts[::step]:
        counts.update(_WORD_RE.findall(str(text).lower().replace("’", "'")))
    return counts


def _edits1(word: str) -> set[str]:
    """Every string one delete, adjacent transpose, replace or insert away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | transposes | replaces | inserts) - {word}


def _inflection(a: str, b: str) -> bool:
    """Whether one word is the other with an ending ("loan" / "loans", "charge" / "charged")."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and long[len(short) :] in {"s", "d", "r", "es", "ed", "er"}


def correction(word: str, counts: Counter[str]) -> str | None:
    """The word ``word`` is a slip of in the export (``counts`` from :func:`word_counts`), or
    None when it is none: it is written often, is short, or no near word dominates it."""
    key = word.lower()
    seen = counts.get(key, 0)
    if len(key) < MIN_TYPO_CHARS or not key.isalpha() or seen > MAX_TYPO_COUNT:
        return None
    if key in _english():
        return None
    best, best_count = None, 0
    for other in _edits1(key):
        n = counts.get(other, 0)
        # a left-out apostrophe first ("wasnt" is "wasn't", not "want")
        if "'" in other and n and seen <= MAX_TYPO_SHARE * n:
            return other
        if n > best_count or (n == best_count and best is not None and other < best):
            best, best_count = other, n
    if best is None or best_count == 0 or seen > MAX_TYPO_SHARE * best_count:
        return None
    if _inflection(key, best):
        return None
    return best


def corrected(phrase: str, counts: Counter[str]) -> str:
    """``phrase`` with each slip replaced by the word it is a slip of (a capital kept)."""
    out = []
    for word in phrase.split(" "):
        fix = correction(word, counts)
        if fix is not None and word[:1].isupper():
            fix = fix[:1].upper() + fix[1:]
        out.append(fix or word)
    return " ".join(out)
