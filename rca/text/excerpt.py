"""A long case cut to a first read and the rest, for pages that list several cases.

A complaint narrative runs to thousands of characters (the CFPB export's median is 785, its
longest 17,097), and its theme page, listing five in full, was 8,476 pixels tall: a reader saw
one case per screen. Pages show the first ``EXCERPT_CHARS`` and keep the rest one
click away (``<details>``), so nothing is hidden for good and no script is needed.
"""

from __future__ import annotations

#: Characters of a listed case shown before "Read the rest": about five lines of a page.
EXCERPT_CHARS = 600
#: A tail shorter than this share of the limit is shown, not folded away behind a click.
FOLD_MIN_SHARE = 0.25


def split_excerpt(text: str, limit: int = EXCERPT_CHARS) -> tuple[str, str]:
    """``(head, rest)`` of ``text``, cut at the last space at or before ``limit`` characters;
    ``rest`` is empty when the text is short or its tail would be a few words."""
    text = str(text or "")
    if len(text) <= limit * (1 + FOLD_MIN_SHARE):
        return text, ""
    cut = text.rfind(" ", 0, limit + 1)
    cut = cut if cut > limit // 2 else limit  # one very long token: cut inside it
    return text[:cut].rstrip(), text[cut:].lstrip()
