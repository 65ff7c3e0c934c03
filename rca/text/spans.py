"""The redaction vocabulary: kinds of personal data, their placeholders, spans and how they merge.

Every detector of rca (the regular expressions in `redact`, the context rules in `context`, the
export masks in `premask`, the named-entity pass in `ner`) speaks in `PiiSpan`s over one set of
kinds, so one overlap rule and one splice produce the text a person sees, whichever detectors
ran. Pure: no detector lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EMAIL = "EMAIL"
URL = "URL"
IBAN = "IBAN"
ACCOUNT = "ACCOUNT"
CARD = "CARD"
PHONE = "PHONE"
IP = "IP"
DOB = "DOB"
ADDRESS = "ADDRESS"
ID = "ID"
HANDLE = "HANDLE"
NAME = "NAME"
#: Masks an export already applied (CFPB's XXXX, XX/XX/XXXX, {$1400.00}): normalised, not
#: detected. They are placeholders for what was hidden, so a person and the labels see one form.
REDACTED = "REDACTED"
DATE = "DATE"
AMOUNT = "AMOUNT"

#: Overlap tie-break after earliest start and longest span: lower index wins.
KIND_PRIORITY: tuple[str, ...] = (
    EMAIL,
    URL,
    IBAN,
    ACCOUNT,
    CARD,
    PHONE,
    IP,
    DOB,
    ADDRESS,
    ID,
    HANDLE,
    NAME,
    DATE,
    REDACTED,
    AMOUNT,
)
_PRIORITY_RANK = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}
#: Kinds that only rewrite an export's own mask; they hide nothing new.
MASK_KINDS = frozenset({REDACTED, DATE, AMOUNT})

PLACEHOLDER_BY_KIND: dict[str, str] = {kind: f"[{kind}]" for kind in KIND_PRIORITY}
PLACEHOLDERS: frozenset[str] = frozenset(PLACEHOLDER_BY_KIND.values())


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """A half-open character range ``[start, end)`` of a text holding PII of ``kind``.

    ``replacement`` overrides the typed placeholder where the normal form is not a placeholder
    (an export's ``{$1400.00}`` becomes ``$1400.00``: the amount is evidence, only the braces go).
    """

    start: int
    end: int
    kind: str
    replacement: str | None = None

    @property
    def placeholder(self) -> str:
        return self.replacement if self.replacement is not None else PLACEHOLDER_BY_KIND[self.kind]


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Earliest start wins, then the longest span, then ``KIND_PRIORITY``; the rest are dropped."""
    ordered = sorted(spans, key=lambda s: (s.start, s.start - s.end, _PRIORITY_RANK[s.kind]))
    chosen: list[PiiSpan] = []
    covered_until = -1
    for span in ordered:
        if span.start >= covered_until:
            chosen.append(span)
            covered_until = span.end
    return chosen


def merge_adjacent(text: str, spans: list[PiiSpan], kind: str, glue: str = " ,") -> list[PiiSpan]:
    """Join sorted spans of ``kind`` separated only by ``glue`` characters: a street and its town
    found by two detectors read as one ``[ADDRESS]``, not ``[ADDRESS], [ADDRESS]``."""
    merged: list[PiiSpan] = []
    for span in spans:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind == kind == span.kind
            and not text[last.end : span.start].strip(glue)
        ):
            merged[-1] = PiiSpan(last.start, span.end, kind)
        else:
            merged.append(span)
    return merged


def splice(text: str, spans: list[PiiSpan]) -> str:
    """``text`` with each of the sorted, non-overlapping ``spans`` replaced by its placeholder."""
    if not spans:
        return text
    pieces: list[str] = []
    cursor = 0
    for span in spans:
        pieces.append(text[cursor : span.start])
        pieces.append(span.placeholder)
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
