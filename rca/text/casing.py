"""Texts whose capitals say nothing: titles written in Title Case, and shouting.

Theme names read capitals as a signal: a word customers capitalise mid-sentence is a company
(``cluster.labels.theme_companies``) or a person (``text.persons``), a phrase written as a
title is a law or a product (``labels.is_proper_name``), and a name keeps the spelling most
texts give a word (``labels.as_written``). That holds for prose. Complaint titles, e-mail
subject lines and ticket summaries are written in Title Case ("Refund Not Showing On
Statement"), and some customers write in capitals: there every word is capitalised, so every
word was a company, every phrase a title, and names fell back to keyword pairs or came out as
"Not much Money Left" (Banking77's test split written in Title Case: 41 of 77 names were
keyword pairs; as a ticket export, 53 of 80 themes noted "Mostly one company"; measured in
experiments/results/granularity.md, stop 53). Such a text is read in lower case instead, as a
chat message written without capitals is: its people are then found by the given-name list, its
acronyms by the acronym list, and nothing else is taken for a name.

A text is titled when most of its words that prose writes in lower case (not opening a
sentence, not the minor words Title Case leaves in lower case, not acronyms) are capitalised;
shouted when most of its letters are capitals. Pure functions over strings.
"""

from __future__ import annotations

import re

#: A text with more upper-case letters than this share of its letters is shouted.
SHOUTED_SHARE = 0.5
#: A text is titled when at least this share of its words after a sentence's first (minor
#: words not counted) start with a capital, counting at least TITLED_MIN_WORDS words, or when
#: every one of at least two does: prose capitalises names, a few words in a sentence ("I
#: contacted Affirm about a refund": 1 of 4); a title capitalises all of them ("Refund Not
#: Showing On Statement": 3 of 3). A short text of two capitalised words after the first
#: ("Loan with Wells Fargo") is read as a title too: a title's shape, and only that text's
#: capitals are set aside.
TITLED_SHARE = 0.75
TITLED_MIN_WORDS = 3

#: The minor words Title Case leaves in lower case (articles, short conjunctions and
#: prepositions): they say nothing either way, so they are not counted. Every other word
#: counts, pronouns and auxiliaries included: Title Case capitalises them, so a lower-case
#: "you" or "do" is prose ("Do you do Visa or Mastercard?": 2 of 4, not a title).
MINOR_WORDS = frozenset(
    re.findall(
        r"\w+", "a an the and but or nor for so yet as at by in of on per to via vs from with into"
    )
)

_CAPITAL_RE = re.compile(r"[^\W\d_a-z]")  # a letter that is not lower-case ASCII: a capital
#: A redaction placeholder as rca.text.spans writes it: neither a title nor a shout.
_PLACEHOLDER_RE = re.compile(r"(\[[A-Z][A-Z0-9_]*\])")
_SENTENCE_RE = re.compile(r"[.!?\n]+")
_WORD_RE = re.compile(r"[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?")


def shouted(text: str) -> bool:
    """Whether most of ``text``'s letters are capitals ("MY LOAN WAS DENIED")."""
    upper = lower = 0
    for char in text:
        if char.isupper():
            upper += 1
        elif char.islower():
            lower += 1
    return upper > SHOUTED_SHARE * (upper + lower) and upper > 0


def titled(text: str) -> bool:
    """Whether ``text`` is written in Title Case ("Card Payment Not Recognised Twice"): of the
    words after each sentence's first, every one of at least two, or TITLED_SHARE of at least
    TITLED_MIN_WORDS, capitalised; acronyms ("ATM") and minor words ("of", "the") are not
    counted."""
    capitalised = counted = 0
    for sentence in _SENTENCE_RE.split(text):
        words = _WORD_RE.findall(sentence)
        for word in words[1:]:
            if len(word) < 2 or word.lower() in MINOR_WORDS or word.isupper():
                continue
            counted += 1
            capitalised += word[0].isupper()
    if counted >= 2 and capitalised == counted:
        return True
    return counted >= TITLED_MIN_WORDS and capitalised >= TITLED_SHARE * counted


def case_says_nothing(text: str) -> bool:
    """Whether ``text``'s capitals carry no information (titled or shouted). Cheap for prose:
    a text with fewer than three capitals is neither."""
    if len(_CAPITAL_RE.findall(text, 0, 2000)) < 3:
        return False
    bare = _PLACEHOLDER_RE.sub(" ", text)
    return shouted(bare) or titled(bare)


def decased(text: str) -> str:
    """``text`` in lower case when its capitals say nothing (`case_says_nothing`), else as is;
    redaction placeholders ("[NAME]", "[REDACTED]") stay as they are, for what reads them."""
    if not case_says_nothing(text):
        return text
    parts = _PLACEHOLDER_RE.split(text)  # text, placeholder, text, ...
    return "".join(part if i % 2 else part.lower() for i, part in enumerate(parts))
