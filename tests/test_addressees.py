"""A word the texts address someone by never names a theme (HWU64's assistant "Olly").

HWU64 had themes named "Olly will you cancel" and "Olly / Musch appreciated": its utterances
speak to an assistant called Olly, in lower case, so the name detector never saw it.
"""

from __future__ import annotations

import numpy as np

from rca.cluster.labels import label_themes
from rca.text.addressees import addressed_words
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.persons import person_words

OLLY = [
    "hey olly cancel that please",
    "olly, stop talking",
    "that's enough, olly.",
    "hi olly please stop",
    "olly please cancel",
    "ok olly cancel it",
    "stop it now, olly!",
    "olly stop the music",
]
#: Discourse words open texts before a comma as often as a name does, but nobody greets them.
DISCOURSE = [
    "unfortunately, my card was declined",
    "unfortunately, the refund did not arrive",
    "yes, my card was declined again",
    "however, the refund never came",
    "unfortunately, my card is blocked",
    "unfortunately, the transfer failed",
    "also, the refund is missing",
    "unfortunately, still no refund",
]


def test_a_word_written_where_one_addresses_someone_is_an_addressee() -> None:
    assert addressed_words(OLLY) == frozenset({"olly"})
    assert addressed_words(DISCOURSE) == frozenset()
    # where it sits in address position in under half of its texts, it is a word
    topic = [f"the olly app crashed {n}" for n in range(10)]
    assert addressed_words(OLLY + topic) == frozenset()
    # too few texts to tell
    assert addressed_words(OLLY[:4]) == frozenset()


def test_an_addressee_never_reaches_a_themes_name_or_keywords() -> None:
    texts = OLLY + DISCOURSE
    labels = np.array([0] * len(OLLY) + [1] * len(DISCOURSE))
    words = person_words(texts, labels, name_finder(RedactionPolicy()))  # as `rca fit` does
    assert "olly" in words
    named = label_themes(texts, labels, person_words=words).set_index("theme")
    assert "olly" not in named.loc[0, "label"].lower()
    assert not any("olly" in k for k in named.loc[0, "keywords"])
    before = label_themes(texts, labels).set_index("theme")  # the test can fail: it did before
    assert any("olly" in k for k in before.loc[0, "keywords"])
