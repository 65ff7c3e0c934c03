"""Does the display redaction stop calling title words people, without missing real names?

    python -m experiments.titled_redaction_probe [--realtext]

A complaint title or an e-mail subject capitalises every word, and the small NER model then reads
"Can Ya Help Me" or "Cancel Order" as a person (`rca.text.ner._title_words`). Two checks, each
with the rule switched off ("before") and on ("after"), at the ``ner`` display level:

1. Intent sets written in Title Case (800 evenly spaced texts of Banking77-test, Bitext, HWU64):
   texts with a [NAME], and every PERSON span dropped by the rule (judge them by eye: a real
   name among them is a leak).
2. The real-text PII set (tests/data/pii_realtext.jsonl, 1,800 rows: names planted in Banking77,
   Bitext and CFPB texts, and real CFPB narratives) as written and in Title Case: NAME recall
   (a span covers the whole planted value) and spans that touch nothing planted.

Printout: results/titled_redaction_probe.txt; figures in results/titled_redaction.md.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import rca.text.ner as ner
from experiments.granularity_study import load_set
from rca.text.audience import RedactionPolicy
from rca.text.casing import case_says_nothing
from rca.text.spans import NAME

REALTEXT = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_realtext.jsonl"
SETS = ("banking77-test", "bitext", "hwu64")
SAMPLE = 800


def title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


#: before: the text as written only, every PERSON span a name (stop 53); words: title words
#: dropped; whole: that, and a title or a shout also read recased (3f6520a: whole texts only);
#: now: the same for a ticket's title or shouted lines too (`rca.text.ner._casual_spans`).
VARIANTS = ("before", "words", "whole", "now")
FORMS = {
    "as written": lambda t: t,
    "Title Case": lambda t: title(t),
    "capitals": str.upper,
    "subject + body": lambda t: subject(t) + "\n\n" + t,
}


def subject(text: str) -> str:
    """A ticket's subject line: the text's first six words in Title Case."""
    return title(" ".join(text.split()[:6]))


_CASUAL = ner._casual_spans


def _whole_only(text: str) -> list[tuple[int, int]]:
    spans = _CASUAL(text)
    return spans if spans == [(0, len(text))] else []


def spans(texts: Sequence[str], variant: str) -> list[list]:
    words, readings, casual = ner._title_words, ner._readings, ner._casual_spans
    if variant == "before":
        ner._title_words = lambda value: False
    if variant in ("before", "words"):
        ner._readings = lambda text, quiet: [text, text] if quiet and variant == "words" else [text]
    if variant in ("before", "words", "whole"):
        ner._casual_spans = _whole_only
    try:
        return RedactionPolicy().find(texts)
    finally:
        ner._title_words, ner._readings, ner._casual_spans = words, readings, casual


def intent_sets() -> None:
    for name in SETS:
        texts = load_set(name)[0]
        step = max(1, len(texts) // SAMPLE)
        for form in ("Title Case", "capitals", "subject + body"):
            sample = [FORMS[form](str(t)) for t in texts[::step]][:SAMPLE]
            found = {v: spans(sample, v) for v in VARIANTS}
            named = {v: sum(any(s.kind == NAME for s in row) for row in found[v]) for v in found}
            counts = " / ".join(f"{v} {named[v]}" for v in VARIANTS)
            print(f"{name} in {form}: texts with [NAME] {counts} of {len(sample)}")
            for v in ("before", "now"):
                shown = [
                    text[s.start : s.end]
                    for text, row in zip(sample, found[v], strict=True)
                    for s in row
                    if s.kind == NAME
                ]
                print(f"  {v} ({len(shown)}): {shown}")


def realtext() -> None:
    rows = [json.loads(line) for line in REALTEXT.read_text().splitlines() if line.strip()]
    for form, cased in FORMS.items():
        texts = [cased(r["text"]) for r in rows]
        # a ticket's subject repeats the text's first words: its names are found where written
        value_of = (lambda v: v) if form == "subject + body" else cased
        values = [[value_of(p["value"]) for p in r["pii"]] for r in rows]
        kinds = [[p["kind"] for p in r["pii"]] for r in rows]
        titled = sum(case_says_nothing(t) for t in texts)
        for variant in VARIANTS:
            found = spans(texts, variant)
            planted = caught = stray = 0
            missed: list[str] = []
            strays: list[str] = []
            for text, vals, ks, row in zip(texts, values, kinds, found, strict=True):
                ranges = []
                for value, kind in zip(vals, ks, strict=True):
                    at = text.find(value)
                    if at < 0:
                        continue
                    ranges.append((at, at + len(value)))
                    if kind != NAME:
                        continue
                    planted += 1
                    if any(s.start <= at and at + len(value) <= s.end for s in row):
                        caught += 1
                    else:
                        missed.append(value)
                for s in row:
                    if s.kind == NAME and not any(s.start < e and b < s.end for b, e in ranges):
                        stray += 1
                        strays.append(text[s.start : s.end])
            recall = f"{caught}/{planted} = {caught / max(planted, 1):.3f}"
            print(f"pii_realtext {form} (titled or shouted {titled} of {len(texts)}), {variant}: "
                  f"NAME recall {recall}; [NAME] spans on nothing planted {stray}")  # fmt: skip
            print(f"  missed: {missed[:40]}")
            if variant == "now":
                print(f"  on nothing planted: {strays[:60]}")


if __name__ == "__main__":
    if "--realtext" not in sys.argv:
        intent_sets()
    realtext()
