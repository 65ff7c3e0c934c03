"""Swear words, which never become a theme's keyword, name or parent-group name.

Angry customers swear, and a swear word is as distinctive of an angry theme as any other word,
so c-TF-IDF ranks it high: the 100,000-contact demo showed "damn bill", "bloody bills" and a
theme named "Helped / Damn bil". A manager reads those names in the weekly e-mail and on the
dashboard; the customer's text itself is left as written (the cases are quotes).

The words *break* a phrase, as a mask or a person's name does (`rca.cluster.labels.
phrase_ngrams`): "my damn card never arrived" still yields "card never arrived". Whole tokens
only, so there is no Scunthorpe problem ("class", "hello", "assessment" are untouched). A short
list written here rather than a library: the Python packages for this (`profanity`,
`better-profanity`) are unmaintained and censor substrings; what matters here is the everyday
swearing of complaint text, with the inflections the tokeniser keeps apart. A word that can
name a product or a problem is left out ("hell", "prick", "dick" alone, which is also a name).
"""

from __future__ import annotations

_STEMS = {
    "fuck": ("", "s", "ed", "er", "ers", "ing", "in", "ings", "up", "wit"),
    "shit": ("", "s", "ty", "tier", "e", "head", "hole", "show", "load"),
    "bullshit": ("",),
    "horseshit": ("",),
    "motherfuck": ("er", "ers", "ing", "in"),
    "damn": ("", "ed", "it", "n"),
    "goddamn": ("", "ed", "it"),
    "crap": ("", "py", "s"),
    "bastard": ("", "s"),
    "bitch": ("", "es", "ing", "y"),
    "asshole": ("", "s"),
    "arsehole": ("", "s"),
    "arse": ("",),
    "ass": ("",),
    "dick": ("head", "heads"),
    "piss": ("", "ed", "ing"),
    "wank": ("", "er", "ers", "ing"),
    "bollock": ("s",),
    "twat": ("", "s"),
    "cunt": ("", "s"),
    "bloody": ("",),
    "frigging": ("",),
    "freaking": ("",),
    "effing": ("",),
    "wtf": ("",),
    "stfu": ("",),
    "ffs": ("",),
}

#: Lower-case whole tokens; `rca.cluster.labels` breaks phrases at them.
PROFANE_WORDS: frozenset[str] = frozenset(
    stem + ending for stem, endings in _STEMS.items() for ending in endings
)
