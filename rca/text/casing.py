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
from collections.abc import Callable, Collection

from rca.text.everyday_words import base

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
_LINE_RE = re.compile(r"[^\n]+")
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


def every_word_capitalised(text: str) -> bool:
    """Whether ``text`` has at least two words and every one is capitalised ("Cancel Order",
    "Funny Story"): a title too short for `titled` to count, minor words and acronyms aside."""
    words = [w for w in _WORD_RE.findall(text) if len(w) > 1 and w.lower() not in MINOR_WORDS]
    return len(words) >= 2 and all(w[0].isupper() for w in words)


def case_says_nothing(text: str) -> bool:
    """Whether ``text``'s capitals carry no information (titled or shouted). Cheap for prose:
    a text with fewer than three capitals is neither."""
    if len(_CAPITAL_RE.findall(text, 0, 2000)) < 3:
        return False
    bare = _PLACEHOLDER_RE.sub(" ", text)
    return shouted(bare) or titled(bare)


def _line_counts(line: str) -> tuple[int, int, int, int]:
    """(words counted, of them capitalised, upper-case letters, lower-case letters) of a line,
    placeholders left out: what `titled` and `shouted` decide by, summable over lines."""
    bare = _PLACEHOLDER_RE.sub(" ", line)
    counted = capitalised = 0
    for sentence in _SENTENCE_RE.split(bare):
        for word in _WORD_RE.findall(sentence)[1:]:
            if len(word) < 2 or word.lower() in MINOR_WORDS or word.isupper():
                continue
            counted += 1
            capitalised += word[0].isupper()
    return counted, capitalised, sum(map(str.isupper, bare)), sum(map(str.islower, bare))


def _says_nothing(counted: int, capitalised: int, upper: int, lower: int) -> bool:
    if upper > SHOUTED_SHARE * (upper + lower) and upper > 0:
        return True
    if counted >= 2 and capitalised == counted:
        return True
    return counted >= TITLED_MIN_WORDS and capitalised >= TITLED_SHARE * counted


def quiet_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text`` whose capitals say nothing: all of it when the whole text is
    a title or a shout (`case_says_nothing`), else each line that is one. A ticket exported as
    its subject and its description ("Card Payment Declined Twice", a blank line, then prose)
    has a title for its first line and prose after it: the title's capitals are set aside, the
    prose's read (Banking77-test so written: 73 of 77 themes had a title word for a "company",
    11 a false "Mostly one company: Card Doesn't Work" note; experiments/results/
    granularity.md, stop 54)."""
    capitals = len(_CAPITAL_RE.findall(text, 0, 2000))
    if capitals < 2:  # a two-word subject has two
        return []
    lines = [(m.start(), m.end(), _line_counts(m.group(0))) for m in _LINE_RE.finditer(text)]
    if capitals >= 3 and _says_nothing(*(sum(c[i] for *_, c in lines) for i in range(4))):
        return [(0, len(text))]  # as `case_says_nothing`
    if len(lines) < 2:
        return []
    last = len(lines) - 1  # a short last line of capitals is a signature ("Thanks, Anna Lee")
    return [
        (start, end)
        for i, (start, end, counts) in enumerate(lines)
        if _says_nothing(*counts)
        and (i < last or counts[0] >= TITLED_MIN_WORDS or _says_nothing(0, 0, *counts[2:]))
        # a short subject above the rest ("Card Declined", "Refund Request")
        or i == 0 < last
        and every_word_capitalised(_PLACEHOLDER_RE.sub(" ", text[start:end]))
    ]


def title_spans(text: str) -> list[tuple[int, int]]:
    """`quiet_spans`, or the whole of a text too short for them whose every word is capitalised
    ("Cancel Order"): what a reader that *finds* people (display redaction, ``rca.text.ner``)
    reads as a title. Readers that name themes keep `quiet_spans`, where a lone two-word text
    may be a brand's name."""
    if every_word_capitalised(_PLACEHOLDER_RE.sub(" ", text)):
        return [(0, len(text))]
    return quiet_spans(text)


def decased(text: str) -> str:
    """``text`` with its title and shouted lines (`quiet_spans`) in lower case, the rest as is;
    redaction placeholders ("[NAME]", "[REDACTED]") stay as they are, for what reads them."""
    return _rewritten(text, quiet_spans(text), str.lower)


def informative(text: str) -> str:
    """``text`` with its title and shouted lines blanked (spaces, lines kept): for a reader of
    capitals (companies, titles of laws, spellings) such a line says nothing."""
    return _rewritten(text, quiet_spans(text), lambda part: " " * len(part))


def _rewritten(text: str, spans: list[tuple[int, int]], write: Callable[[str], str]) -> str:
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        parts = _PLACEHOLDER_RE.split(text[start:end])  # text, placeholder, text, ...
        out.append(text[at:start])
        out.append("".join(part if i % 2 else write(part) for i, part in enumerate(parts)))
        at = end
    out.append(text[at:])
    return "".join(out)


_LETTERS_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


_MASK_RE = re.compile(r"[Xx]{2,}")
_MASKS_RE = re.compile(r"\b[Xx]{2,}\b")


def _lower(word: str) -> str:
    """``word`` in lower case, letter for letter (a letter whose lower case is longer stays)."""
    return "".join(low if len(low := char.lower()) == 1 else char for char in word)


def recased(text: str, everyday: Collection[str], names: Collection[str]) -> str:
    """``text`` (a title or a shout) written as prose would write it, for a reader that goes by
    capitals (the NER model): a word of ``everyday`` (lower case) in lower case unless it opens a
    sentence or is one of ``names`` (given names, lower case); any other word capitalised, as a
    name or a brand would be ("I SPOKE WITH PRIYA SHARMA" -> "I spoke with Priya Sharma").
    Letters change one for one, so offsets into it are offsets into ``text``."""
    opening = {m.end() for m in re.finditer(r"(?:^|[.!?\n])\W*", text)}
    shout = shouted(_MASKS_RE.sub(" ", _PLACEHOLDER_RE.sub(" ", text)))  # they say nothing
    out: list[str] = []
    at = 0
    for m in _LETTERS_RE.finditer(text):
        word = m.group(0)
        low = _lower(word)
        if len(word) == 1 or word.isupper() and not shout or _MASK_RE.fullmatch(word):
            continue  # an initial ("A."), an acronym in a title ("ATM"), a mask ("XXXX") stay
        if m.start() > 0 and text[m.start() - 1] == "[" and text[m.end() : m.end() + 1] == "]":
            continue  # a placeholder ("[NAME]")
        first = m.start() in opening
        stem = base(low)  # "hasn't" -> "has", "customer's" -> "customer"
        keep_low = (low in everyday or stem in everyday) and stem not in names and not first
        new = low if keep_low else word[:1] + low[1:]
        out.append(text[at : m.start()] + new)
        at = m.end()
    out.append(text[at:])
    return "".join(out)
