"""Masks an export already applied, rewritten to rca's typed placeholders.

Public complaint exports (the CFPB's, many CRMs') hide personal data before they are shared:
``XXXX`` for a name or a number, ``XX/XX/XXXX`` or ``XX/XX/2023`` for a date, and they wrap
amounts in braces (``{$1400.00}``). Left alone, ``XXXX`` is a word: it reaches theme labels
("Inquiries / Xxxx"), keywords and the embedding, and example cases read ``XXXX XXXX XXXX``.
So a run of masks becomes one ``[REDACTED]``, a masked date ``[DATE]``, and a braced amount its
plain form ``$1400.00`` (the amount was never hidden: it is evidence an SOP author needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rca.text.spans import AMOUNT, DATE, REDACTED, PiiSpan

#: Upper case only: a lower-case "xxxx" is as often a typed kiss or a filler as a mask.
_X_RUN = r"X{2,}"
#: XX/XX/XXXX, XX/XX/2023, 12/XX/2023, XXXX-XX-XX: a date with at least one masked part.
_MASKED_DATE_RE = re.compile(
    r"(?<![\w/])(?=[\d/]*X)(?:X{1,2}|\d{1,2})/(?:X{1,2}|\d{1,2})/(?:X{2,4}|\d{2,4})(?![\w/])"
    r"|(?<![\w-])X{4}-X{2}-X{2}(?![\w-])"
)
#: Runs of masks separated by spaces, dashes or dots are one hidden value: "XXXX XXXX". A slash
#: belongs to a masked date, which is its own [DATE], so no run starts or continues across one.
_X_RUN_RE = re.compile(rf"(?<![A-Za-z/]){_X_RUN}(?:[ \t.-]{{1,3}}{_X_RUN})*(?![A-Za-z/])")
_BRACED_AMOUNT_RE = re.compile(r"\{(\s*[$£€]?\s*\d[\d,]*(?:\.\d+)?\s*)\}")


def find_masks(text: str) -> Iterator[PiiSpan]:
    """Spans of masks already in ``text``; cheap when there is no ``X`` and no ``{``."""
    if "X" in text:
        for match in _MASKED_DATE_RE.finditer(text):
            yield PiiSpan(match.start(), match.end(), DATE)
        for match in _X_RUN_RE.finditer(text):
            yield PiiSpan(match.start(), match.end(), REDACTED)
    if "{" in text:
        for match in _BRACED_AMOUNT_RE.finditer(text):
            yield PiiSpan(match.start(), match.end(), AMOUNT, replacement=match.group(1).strip())
