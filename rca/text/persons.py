"""Words that name people in a set of texts, so theme keywords and names never show them.

Theme keywords and names are counted from the texts themselves, and a name many customers write
("the bill from Anna Freeman", "Mr. Smith's invoice") scores like any other frequent word: the
100,000-contact demo had "anna freeman", "hawkings" and "smith" among an invoice theme's
keywords and a theme named "Bills from mr". Keywords and names reach the dashboard, the API and
the e-mail, where example cases are already redacted; the vocabulary must not be the leak.

The store holds pattern-redacted text, so the names left are the ones no pattern can see. The
same detector that redacts what a person reads decides (``rca.text.audience``: Presidio + spaCy
at the ``ner`` level, the context rules at ``patterns``), but on a budget: only words written
capitalised, only the most frequent per group, only a short window around a few of their uses
(a long complaint narrative costs no more than a chat line). A word counts as a person's when the
detector puts it inside a name in at least half of the windows read; the other words of those
names come with it ("Anna" with "Freeman"). Forms of address ("Mr", "Ms") are always left out:
they never state a problem and only ever sit next to a name.

Text written in lower case (chat, social media: HWU64's "email to john"; no word capitalised
mid-sentence) has no capitals to go by. There a word is checked when it is a common given name
(`rca.text.given_names`, which leaves out the names that are everyday words: "bill", "mark",
"grace"), title-cased in its windows, and counts when the detector reads that one word as a
person (no cue needed: the list is the cue). A name that cased texts of the same set write in
lower case more often than capitalised is a word there, and is left alone. The word after a
name found so is its surname ("john smith", "brad pitt") when the texts use that word mostly
there and the detector reads the two, title-cased, as one name.

The words the texts address someone by ("hey olly", "thanks, sarah": an assistant's wake word, an
agent's first name) come with them (`rca.text.addressees`): they say who was spoken to, not the
problem, and a lower-case wake word is no given name the detector could check.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from rca.text.addressees import addressed_words
from rca.text.casing import decased
from rca.text.given_names import GIVEN_NAMES
from rca.text.spans import NAME, PiiSpan


class NameFinder(Protocol):
    """Texts -> spans per text (only ``NAME`` spans are read): ``rca.text.audience.name_finder``.
    ``lone``: one word the model reads as a person counts without a cue (`find_entities`)."""

    def __call__(self, texts: list[str], *, lone: bool = False) -> list[list[PiiSpan]]: ...


HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "madam"})
#: Texts read per group (evenly spaced, so the cost is flat in the group's size).
SAMPLE_PER_GROUP = 60
#: A word must be written capitalised in this many sampled texts of one group to be checked:
#: a keyword needs two contacts, a name two central texts.
MIN_TEXTS = 2
#: At most this many words are checked, most widespread first, each in this many windows.
MAX_WORDS = 150
WINDOWS_PER_WORD = 3
#: Characters of context kept before and after a use ("... the invoice from Ms. Hawkings").
BEFORE, AFTER = 80, 40
PERSON_SHARE = 0.5
#: A word the same texts mostly write in lower case is a common word, whatever the tagger says
#: of one capitalised use: the CFPB export's "Title Max", "Money Lion" and "Good Leap" are
#: lenders that the small model reads as people, and "title", "money" and "good" must stay.
MIN_CAPITALISED_SHARE = 0.5

_CAPITALISED_RE = re.compile(r"(?<![\w@&'-])[A-Z][a-z]+(?:['’-][A-Za-z]+)*(?![\w&])")
#: A sentence opens after a full stop, but not the one of "Mr." / "Ms." / "Dr.".
_SENTENCE_START_RE = re.compile(r"(?:^|(?<![MD]r)(?<!Mrs)(?<!Ms)(?<!Mx)[.!?]\s+|\n)\s*[\"'“(]*")
_CLITIC_RE = re.compile(r"['’](?:s|re|ve|ll|d|m|t)$", re.IGNORECASE)
_NAME_WORD_RE = re.compile(r"[^\W\d_]+")
_LOWER_WORD_RE = re.compile(r"(?<![\w'’-])[a-z]{2,}(?![\w])")
#: Capitalised mid-sentence but never a person: calendar words (spaCy reads them as dates).
CALENDAR = frozenset(
    (
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december"),
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    )
)


def _capitalised_uses(text: str) -> dict[str, list[tuple[int, int]]]:
    """Capitalised words not opening a sentence, lower-cased, with their character ranges."""
    starts = {m.end() for m in _SENTENCE_START_RE.finditer(text)}
    uses: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m in _CAPITALISED_RE.finditer(text):
        if m.start() in starts:
            continue
        word = _CLITIC_RE.sub("", m.group(0)).lower()
        if len(word) < 2 or word in CALENDAR or word in HONORIFICS:
            continue
        uses[word].append((m.start(), m.start() + len(word)))
    return uses


def _window(text: str, start: int, end: int) -> tuple[str, int, int]:
    """A window around ``text[start:end]`` cut at spaces, with the word's range inside it."""
    lo = max(0, start - BEFORE)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    hi = min(len(text), end + AFTER)
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    return text[lo:hi], start - lo, end - lo


def _windows(
    texts: Sequence[str] | Mapping[int, str],
    widespread: dict[str, int],
    uses_of: dict[str, list[tuple[int, int, int]]],
    max_words: int,
    windows_per_word: int,
    *,
    title_case: bool = False,
) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Windows around the first uses of the ``max_words`` most widespread words (ties by
    word), with each window's ``(word, start, end)``; ``title_case`` capitalises each word of
    the use ("john smith" -> "John Smith")."""
    checked = sorted(widespread, key=lambda w: (-widespread[w], w))[:max_words]
    windows: list[str] = []
    owners: list[tuple[str, int, int]] = []
    for word in checked:
        for i, start, end in uses_of[word][:windows_per_word]:
            window, lo, hi = _window(texts[i], start, end)
            if title_case:
                window = window[:lo] + window[lo:hi].title() + window[hi:]
            windows.append(window)
            owners.append((word, lo, hi))
    return windows, owners


def _sample(groups: np.ndarray, per_group: int) -> list[int]:
    picked: list[int] = []
    for g in np.unique(groups[groups >= 0]):
        members = np.flatnonzero(groups == g)
        at = np.unique(np.linspace(0, len(members) - 1, per_group).astype(int))
        picked.extend(int(i) for i in members[at])
    return picked


def person_words(
    texts: Sequence[str],
    groups: Sequence[int] | np.ndarray,
    find_names: NameFinder,
    *,
    per_group: int = SAMPLE_PER_GROUP,
    max_words: int = MAX_WORDS,
    windows_per_word: int = WINDOWS_PER_WORD,
) -> frozenset[str]:
    """Lower-case words that name people in ``texts``, plus the forms of address and the words
    the texts address someone by (`addressed_words`).

    ``groups`` (theme per text, -1 for none) spreads the sample, so a name frequent in one small
    theme is read as surely as one spread over many. Only words the texts write capitalised at
    least ``MIN_CAPITALISED_SHARE`` of the time are candidates. Deterministic for fixed inputs.
    """
    groups_arr = np.asarray(groups, dtype=np.int64).ravel()
    if len(groups_arr) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(groups_arr)} groups")
    in_group: dict[str, Counter[int]] = defaultdict(Counter)
    uses_of: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    capitalised: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    lower_in_cased: Counter[str] = Counter()  # given names written in lower case, cased texts
    caseless_group: dict[str, Counter[int]] = defaultdict(Counter)
    caseless_uses: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    # a title's or a shout's capitals say nothing: such a text is read in lower case, as chat
    # written without capitals is (given names), and its windows are cut from that reading
    sampled = _sample(groups_arr, per_group)
    view = {i: decased(texts[i]) if isinstance(texts[i], str) else "" for i in sampled}
    for i in sampled:
        text = view[i]
        lower.update(_LOWER_WORD_RE.findall(text))
        capitalised_here = _capitalised_uses(text)
        for word, ranges in capitalised_here.items():
            in_group[word][int(groups_arr[i])] += 1
            uses_of[word].append((i, *ranges[0]))
            capitalised[word] += len(ranges)
        # a text whose writer capitalises some word mid-sentence; one whose only capital opens
        # it ("Olly email john") is as caseless as one without any
        cased = bool(capitalised_here)
        for m in _LOWER_WORD_RE.finditer(text):
            word = m.group(0)
            if word not in GIVEN_NAMES or word in CALENDAR:
                continue
            if cased:
                lower_in_cased[word] += 1
            elif not caseless_uses[word] or caseless_uses[word][-1][0] != i:
                caseless_group[word][int(groups_arr[i])] += 1
                caseless_uses[word].append((i, m.start(), m.end()))

    def proper(word: str) -> bool:  # seen capitalised mid-sentence, and mostly so
        seen = capitalised[word]
        return seen > 0 and seen >= MIN_CAPITALISED_SHARE * (seen + lower[word])

    widespread = {
        w: max(c.values())
        for w, c in in_group.items()
        if max(c.values()) >= MIN_TEXTS and proper(w)
    }
    windows, owners = _windows(view, widespread, uses_of, max_words, windows_per_word)
    found = find_names(windows) if windows else []
    hits: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    companions: dict[str, set[str]] = defaultdict(set)
    for window, (word, lo, hi), spans in zip(windows, owners, found, strict=True):
        reads[word] += 1
        for span in spans:
            if span.kind == NAME and span.start <= lo and hi <= span.end:
                hits[word] += 1
                name_words = _NAME_WORD_RE.findall(window[span.start : span.end].lower())
                companions[word].update(w for w in name_words if len(w) >= 2)
                break
    people = {w for w in reads if hits[w] >= PERSON_SHARE * reads[w] and hits[w] > 0}
    for word in list(people):
        people |= {w for w in companions[word] - HONORIFICS if proper(w)}
    given = _caseless_names(
        view, caseless_group, caseless_uses, capitalised, lower_in_cased, find_names,
        max_words=max_words, windows_per_word=windows_per_word,
    )  # fmt: skip
    people |= given | _caseless_surnames(
        texts, given, find_names, windows_per_word=windows_per_word
    )
    return frozenset(people | HONORIFICS | addressed_words(texts))


def _caseless_names(
    texts: Sequence[str] | Mapping[int, str],
    in_group: dict[str, Counter[int]],
    uses_of: dict[str, list[tuple[int, int, int]]],
    capitalised: Counter[str],
    lower_in_cased: Counter[str],
    find_names: NameFinder,
    *,
    max_words: int,
    windows_per_word: int,
) -> set[str]:
    """Given names in texts written in lower case that the detector reads as a person once
    title-cased. One sampled text is enough to be checked (the list is the prior, the detector
    confirms): a name in a few texts of a theme reaches its name as surely as a frequent one
    ("Mary birthday" became "Susan birthday" with two texts required). A name that cased texts
    write in lower case more often than capitalised is a word in this set and is not checked."""
    widespread = {
        w: max(c.values()) for w, c in in_group.items() if lower_in_cased[w] <= capitalised[w]
    }
    windows, owners = _windows(
        texts, widespread, uses_of, max_words, windows_per_word, title_case=True
    )
    if not windows:
        return set()
    return _read_as_lone_names(windows, owners, find_names)


def _caseless_surnames(
    texts: Sequence[str],
    given: set[str],
    find_names: NameFinder,
    *,
    windows_per_word: int,
) -> set[str]:
    """Surnames after the given names found in lower-case texts ("john smith", "brad pitt").

    The given-name check title-cases one word, so "smith" stayed a keyword beside a redacted
    "john". A word right after a found given name is a surname when most of the texts that use
    it use it there ("smith" 15 of 18 on HWU64; "birthday" follows "mary" in a few of hundreds),
    in at least ``MIN_TEXTS`` texts, and the detector, with both words title-cased, reads them
    as one person's name in at least half of the windows. Words the texts use elsewhere keep
    their own meaning. The count matters: in one text the small model reads almost any word
    after a name as a surname ("did sara Tried", "oscar Nominee"), and a word of one text is no
    keyword. All texts are read, not the sample: a surname is rarer than the given name before
    it, and two regular-expression passes cost little. A title's or a shout's words are read
    in lower case ("Refund From John Smith"), as in :func:`person_words`.
    """
    if not given:
        return set()
    raw = [t if isinstance(t, str) else "" for t in texts]
    lowered: dict[int, str] = {}

    def read(i: int, probe: re.Pattern[str]) -> str:
        """Text ``i`` as the passes read it, a title or a shout in lower case. The casing check
        reads every character (0.14 ms a complaint narrative), so only a text the pass's
        pattern finds in any case (``probe``) is checked: the others hold no match either way."""
        if i not in lowered:
            if not probe.search(raw[i]):
                return raw[i]
            lowered[i] = decased(raw[i])
        return lowered[i]

    names = "|".join(sorted(given, key=lambda w: (-len(w), w)))
    pair_re = re.compile(rf"(?<![\w'’-])(?:{names}) ([a-z]{{2,}})(?![\w'’-])")
    after: Counter[str] = Counter()
    pairs: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    pair_probe = re.compile(pair_re.pattern, re.IGNORECASE)
    for i in range(len(raw)):
        seen: set[str] = set()
        for m in pair_re.finditer(read(i, pair_probe)):
            word = m.group(1)
            if word in given or word in HONORIFICS or word in seen:
                continue
            seen.add(word)
            after[word] += 1
            pairs[word].append((i, m.start(), m.end()))
    frequent = [w for w, n in after.items() if n >= MIN_TEXTS]
    if not frequent:
        return set()
    word_re = re.compile(rf"(?<![\w'’-])(?:{'|'.join(sorted(frequent))})(?![\w'’-])")
    used: Counter[str] = Counter()
    word_probe = re.compile(word_re.pattern, re.IGNORECASE)
    for i in range(len(raw)):
        used.update(set(word_re.findall(read(i, word_probe))))
    mostly_there = {w: after[w] for w in frequent if after[w] >= PERSON_SHARE * used[w]}
    windows, owners = _windows(  # every pair was found in a text read() checked
        lowered, mostly_there, pairs, len(mostly_there), windows_per_word, title_case=True
    )
    if not windows:
        return set()
    return _read_as_lone_names(windows, owners, find_names)


def _read_as_lone_names(
    windows: list[str], owners: list[tuple[str, int, int]], find_names: NameFinder
) -> set[str]:
    """The words the detector puts inside a name (one word alone counts) in at least half of
    their windows: the lower-case passes, where the list or the pair is the cue."""
    hits: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    for (word, lo, hi), spans in zip(owners, find_names(windows, lone=True), strict=True):
        reads[word] += 1
        hits[word] += any(s.kind == NAME and s.start <= lo and hi <= s.end for s in spans)
    return {w for w in reads if hits[w] > 0 and hits[w] >= PERSON_SHARE * reads[w]}
