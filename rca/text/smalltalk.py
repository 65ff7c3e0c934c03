"""Small talk: messages that state no problem ("thanks!", "Happy halloween 🎃", "DM sent").

Social and messaging channels are full of them. Clustered, they become themes nobody can act
on ("Happy / Halloween") and, matched by embedding, a "thanks" followed by a "thanks" looks
like a repeat complaint. A message is small talk when, once handles, links, emoji, hashtag
marks and punctuation are gone, nothing is left, or every word is a greeting, a thanks, an
acknowledgement, an occasion or a filler, in at most `MAX_WORDS` words. A word list, not a
model: it is predictable, explainable in one sentence, and errs toward keeping a message,
since one content word ("refund", "waiting", "card") makes it a problem statement.

Pure: texts in, booleans out.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rca.text.normalise import strip_social

#: Longer messages are never small talk: a greeting that goes on says something.
MAX_WORDS = 8
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_WORDS = """
    hi hello hey heya hiya yo howdy morning afternoon evening night good day gm gn
    thanks thank thx ty tysm tyvm cheers appreciate appreciated appreciation grateful
    much so very lot lots soooo sooo you u ya your you're youre all guys team folks everyone
    ok okay okey k kk sure yes yeah yep yup no nope np noted alright right fine
    great awesome cool nice perfect amazing love lovely brilliant wonderful fantastic excellent
    super fab best top legend legends sweet
    happy merry christmas xmas halloween easter new year years birthday holidays holiday
    weekend thanksgiving valentines valentine's diwali eid ramadan hanukkah
    lol lmao haha hahaha hehe omg wow yay woohoo
    bye goodbye later see soon take care welcome again
    the a an and to for of it is that this was are we i me my just really too
    regards kind dm dms sent done followed follow back received got it's its that's
    gracias hola buenos buenas dias días feliz navidad bien vale merci bonjour danke
    """
SMALL_TALK_WORDS = frozenset(_WORDS.split())


def is_small_talk_text(text: object) -> bool:
    """Does this one message state no problem? (See the module docstring for the rule.)"""
    if not isinstance(text, str):
        return False
    words = _WORD_RE.findall(strip_social(text).casefold())
    if not words:
        # only handles, links, emoji, numbers or punctuation: nothing to act on, unless the
        # message had no visible character at all (an empty text is not a message)
        return bool(text.strip())
    return len(words) <= MAX_WORDS and all(w in SMALL_TALK_WORDS for w in words)


def is_small_talk(texts: pd.Series | list[str]) -> np.ndarray:
    """`is_small_talk_text` over many texts, as a boolean array aligned with them."""
    values = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
    if not values:
        return np.zeros(0, dtype=bool)
    # Exports repeat texts (templates, "thanks", a copied message): judge each distinct text once.
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    verdicts = np.fromiter((is_small_talk_text(t) for t in uniques), dtype=bool, count=len(uniques))
    return verdicts[codes]
