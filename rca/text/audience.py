"""One redaction pipeline, two levels: what is stored, and what a person reads.

``patterns`` (rca's regular expressions, validators, context rules and export masks; ~0.05 ms a
text) runs on everything at ingest. ``ner`` adds Presidio + spaCy names and addresses (~5 ms a
text): too slow for every contact at ingest (20,000 demo contacts would add ~100 s; see
experiments/results/redaction_eval.md), cheap for the handful of cases a person is shown. So the
store holds pattern-redacted text and every example case passes ``for_people`` on its way out
(``rca.repeats.examples`` is the one choke point the CLI, API, dashboard and e-mail share).
Either level is a setting (``RCA_REDACT_INGEST_LEVEL``, ``RCA_REDACT_DISPLAY_LEVEL``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import pandas as pd

from rca.text.ner import DEFAULT_NER_MODEL, NerUnavailable, batch_analyzer, find_entities
from rca.text.persons import NameFinder
from rca.text.redact import DEFAULT_MIN_DIGIT_RUN, find_pii
from rca.text.spans import ADDRESS, PiiSpan, merge_adjacent, resolve_overlaps, splice

log = logging.getLogger(__name__)
Level = Literal["patterns", "ner"]
PATTERNS: Level = "patterns"
NER: Level = "ner"


@dataclass(frozen=True)
class RedactionPolicy:
    """How hard to redact: the level, the NER model, the digit-run length, handles to keep."""

    level: Level = NER
    ner_model: str = DEFAULT_NER_MODEL
    min_digit_run: int = DEFAULT_MIN_DIGIT_RUN
    keep_handles: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any, audience: Literal["ingest", "people"]) -> RedactionPolicy:
        """The policy ``rca.settings.Settings`` sets for storing (``ingest``) or showing text."""
        ingest = audience == "ingest"
        return cls(
            level=settings.redact_ingest_level if ingest else settings.redact_display_level,
            ner_model=settings.redact_ner_model,
            min_digit_run=settings.redact_min_digit_run,
            keep_handles=tuple(settings.redact_keep_handles),
        )

    def find(self, texts: Sequence[str], *, lone_names: bool = False) -> list[list[PiiSpan]]:
        """Resolved spans per text: pattern spans, plus entity spans at the ``ner`` level
        (``lone_names``: see `rca.text.ner.find_entities`)."""
        found = [
            find_pii(t, min_digit_run=self.min_digit_run, keep_handles=self.keep_handles)
            for t in texts
        ]
        if self.level == NER:
            entities = find_entities(texts, model=self.ner_model, lone_names=lone_names)
            found = [
                merge_adjacent(text, resolve_overlaps([*a, *b]), ADDRESS)
                for text, a, b in zip(texts, found, entities, strict=True)
            ]
        return found

    def redact(self, texts: Sequence[str]) -> list[str]:
        return [splice(t, spans) for t, spans in zip(texts, self.find(texts), strict=True)]

    def redact_series(self, s: pd.Series) -> pd.Series:
        """Redact a column; missing values and non-strings pass through, the index is kept."""
        is_text = s.map(lambda value: isinstance(value, str)).to_numpy(dtype=bool)
        out = s.copy()
        if is_text.any():  # positional, so a repeated index label cannot misalign the texts
            out.iloc[is_text] = self.redact(s.iloc[is_text].tolist())
        return out


def for_people(texts: Sequence[str], policy: RedactionPolicy | None = None) -> list[str]:
    """Texts as a person may read them; the default policy is the strictest level."""
    return (policy or RedactionPolicy()).redact(texts)


def name_finder(policy: RedactionPolicy) -> NameFinder:
    """The policy's detector, for ``rca.text.persons``: what redacts a case decides a name.

    A missing spaCy model must not stop a fit: the context rules (``patterns``) stand in, with a
    warning, and the display pass will raise its own clear error when a case is shown. The model
    loads on the first call (seconds), so a caller with nothing to check pays nothing.
    """

    def find(texts: list[str], *, lone: bool = False) -> list[list[PiiSpan]]:
        used = policy
        if policy.level == NER:
            try:
                batch_analyzer(policy.ner_model)
            except NerUnavailable as error:
                log.warning(
                    "person names in theme keywords are checked by patterns only: %s", error
                )
                used = replace(policy, level=PATTERNS)
        return used.find(texts, lone_names=lone)

    return find


def people_name_finder(settings: Any) -> NameFinder:
    """``name_finder`` at the level that redacts what a person reads (the display settings)."""
    return name_finder(RedactionPolicy.from_settings(settings, "people"))
