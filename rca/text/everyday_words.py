"""Everyday English words: what a capitalised word in a title is, when it is no one's name.

A complaint title or an e-mail subject capitalises every word, and the small NER model then
reads "Can Ya Help Me", "Cancel Order" or "Switch Off The Plug Socket" as people
(`rca.text.ner`). Whether a word is a common word cannot be read from its capitals there; it can
be looked up. The list is SCOWL's size-35 American English list (Debian's `wamerican-small`
2020.12.07, the list `rca.text.given_names` already names its everyday names by), lower-case
entries only (contractions kept, possessives left to the word): 40,151 words and their
inflections, 105 KB gzipped, shipped in
``rca/text/data`` with its copyright notice (``SCOWL-COPYRIGHT.txt``: free to use, copy and
distribute with the notice). A list and not a frequency model: wordfreq's wheel is 57 MB, and
what is needed is "is this an ordinary word", not how ordinary.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """SCOWL size-35's lower-case words (loaded once, ~20 ms)."""
    data = resources.files("rca.text").joinpath("data", "scowl35_words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


_CLITIC_RE = re.compile(r"(?:n['’]t|['’](?:s|t|re|ve|ll|d|m))$")


def base(word: str) -> str:
    """``word`` in lower case without a clitic: "hasn't" -> "has", "customer's" -> "customer",
    "Doesn'T" (Python's ``str.title``) -> "does"."""
    return _CLITIC_RE.sub("", word.lower())


def is_everyday(word: str) -> bool:
    """Whether ``word`` (any case, clitics allowed) is an everyday English word."""
    words = everyday_words()
    low = word.lower()
    return low in words or base(low) in words
