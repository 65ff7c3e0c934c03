"""Words a set of texts addresses someone by ("hey olly ...", "... thank you, olly."), so theme
names and keywords never show them.

An assistant's wake word, an agent's first name or a brand the customer talks to is written
in most of its texts in an address position, and it says who was spoken to, not the problem:
HWU64 (utterances to a voice assistant called Olly) had themes named "Olly will you cancel" and
"Olly / Musch appreciated". The name detector (`rca.text.persons`) cannot see it: it is written
in lower case and is no common given name. A word counts when, in at least ``MIN_TEXTS`` texts
and in at least half of the texts that write it, it sits where one addresses someone: right
after an opening greeting ("hey olly", "thanks sarah"), alone after the last comma ("..., olly.")
or alone before the first one ("olly, ..."), and at least ``MIN_GREETED`` of those uses follow a
greeting. The greeting is what tells an addressee from a discourse word that also opens texts
before a comma ("unfortunately, ...", "yes, ..."): nobody writes "hi unfortunately".

Only the first and last ``EDGE_CHARS`` characters of a text are read: address sits at the edges,
and a long complaint narrative then costs what a chat line does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

MIN_TEXTS = 5
MIN_GREETED = 2
ADDRESS_SHARE = 0.5
EDGE_CHARS = 80
GREETINGS = frozenset(
    {"hey", "hi", "hello", "hiya", "dear", "thanks", "thank", "ok", "okay", "yo", "good", "morning"}
    | {"afternoon", "evening", "bye", "goodbye", "cheers", "sorry", "you", "please", "yes", "no"}
)
_WORD = r"([a-z][a-z'’-]*[a-z])"
_GREETING = (
    r"(?:hey|hi|hello|hiya|dear|yo|ok|okay|thanks|thank you|good (?:morning|afternoon|evening))"
)
_GREETED_RE = re.compile(rf"^\W*{_GREETING}\s*,?\s+{_WORD}\b(?!['’-])")
_LAST_RE = re.compile(rf",\s*{_WORD}\s*[.!?]*\s*$")
_FIRST_RE = re.compile(rf"^\W*{_WORD}\s*,")
_WORDS_RE = re.compile(r"[a-z][a-z'’-]*[a-z]")


def addressed_words(texts: Sequence[str]) -> frozenset[str]:
    """Lower-case words ``texts`` mostly use to address someone (module docstring)."""
    written: Counter[str] = Counter()
    addressed: Counter[str] = Counter()
    greeted: Counter[str] = Counter()
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        low = text.lower()
        head, tail = low[:EDGE_CHARS], low[-EDGE_CHARS:]
        written.update(set(_WORDS_RE.findall(head + " " + tail)))
        here: set[str] = set()
        if m := _GREETED_RE.search(head):
            greeted[m.group(1)] += 1
            here.add(m.group(1))
        for pattern, part in ((_LAST_RE, tail), (_FIRST_RE, head)):
            if m := pattern.search(part):
                here.add(m.group(1))
        addressed.update(here)
    return frozenset(
        word
        for word, n in addressed.items()
        if n >= MIN_TEXTS
        and greeted[word] >= MIN_GREETED
        and n >= ADDRESS_SHARE * written[word]
        and word not in ENGLISH_STOP_WORDS
        and word not in GREETINGS
    )
