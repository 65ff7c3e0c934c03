"""Measure rca.text.redact: per-kind recall, false positives and throughput.

Recall: a planted value counts as caught when one redaction span covers it completely, whatever
its kind (the PII is gone either way); the share caught with the right kind is reported beside it.
False positives: spans that overlap no planted value, per 100 sentences (on the hard negatives and
overall). Throughput: texts/s of ``redact`` over the Banking77 and Bitext text columns.

Run: ``python -m experiments.redaction_eval [path/to/pii_eval.jsonl]``
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rca.text.redact import PiiSpan, find_pii, redact

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_PATH = REPO_ROOT / "tests" / "data" / "pii_eval.jsonl"
DATA_DIR = REPO_ROOT / "data"
#: (folder, text column) of the public corpora used for throughput and the redaction sample.
CORPORA: tuple[tuple[str, str], ...] = (("banking77", "text"), ("bitext", "utterance"))
PER_HUNDRED = 100.0
SAMPLE_SIZE = 15
THROUGHPUT_REPEATS = 3


@dataclass(frozen=True)
class Planted:
    kind: str
    start: int
    end: int


def load_eval(path: Path | str = DEFAULT_EVAL_PATH) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _locate(text: str, pii: list[dict[str, str]]) -> list[Planted]:
    """Character ranges of the planted values (first occurrence each; values are unique)."""
    planted = []
    for item in pii:
        start = text.find(item["value"])
        if start < 0:
            raise ValueError(f"planted value {item['value']!r} not in {text!r}")
        planted.append(Planted(item["kind"], start, start + len(item["value"])))
    return planted


def _covering(spans: list[PiiSpan], target: Planted) -> PiiSpan | None:
    return next((s for s in spans if s.start <= target.start and s.end >= target.end), None)


def _overlaps_any(span: PiiSpan, planted: list[Planted]) -> bool:
    return any(span.start < p.end and p.start < span.end for p in planted)


def evaluate(path: Path | str = DEFAULT_EVAL_PATH) -> dict[str, Any]:
    """Score ``find_pii`` on the labelled set; the dict is what tests assert on."""
    rows = load_eval(path)
    planted_by_kind: Counter[str] = Counter()
    caught_by_kind: Counter[str] = Counter()
    right_kind_by_kind: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    false_positives: list[dict[str, str]] = []
    fp_negative = fp_total = n_negative = 0
    for row in rows:
        text = row["text"]
        spans = find_pii(text)
        planted = _locate(text, row["pii"])
        for target in planted:
            planted_by_kind[target.kind] += 1
            cover = _covering(spans, target)
            if cover is None:
                misses.append({"kind": target.kind, "text": text})
                continue
            caught_by_kind[target.kind] += 1
            right_kind_by_kind[target.kind] += cover.kind == target.kind
        extra = [s for s in spans if not _overlaps_any(s, planted)]
        false_positives.extend({"kind": s.kind, "value": text[s.start : s.end]} for s in extra)
        fp_total += len(extra)
        if not planted:
            n_negative += 1
            fp_negative += len(extra)
    n_planted = sum(planted_by_kind.values())
    return {
        "n_sentences": len(rows),
        "n_negative_sentences": n_negative,
        "n_planted": n_planted,
        "per_kind": {
            kind: {
                "n": planted_by_kind[kind],
                "recall": caught_by_kind[kind] / planted_by_kind[kind],
                "right_kind_recall": right_kind_by_kind[kind] / planted_by_kind[kind],
            }
            for kind in sorted(planted_by_kind)
        },
        "recall": sum(caught_by_kind.values()) / n_planted,
        "right_kind_recall": sum(right_kind_by_kind.values()) / n_planted,
        "fp_per_100_negatives": PER_HUNDRED * fp_negative / max(n_negative, 1),
        "fp_per_100_sentences": PER_HUNDRED * fp_total / max(len(rows), 1),
        "misses": misses,
        "false_positives": false_positives,
    }


def load_corpus_texts(data_dir: Path = DATA_DIR) -> list[str]:
    """All Banking77 and Bitext texts (every split), the realistic load for throughput."""
    texts: list[str] = []
    for folder, column in CORPORA:
        for csv_path in sorted((data_dir / folder).glob("*.csv")):
            texts.extend(pd.read_csv(csv_path)[column].dropna().astype(str).tolist())
    return texts


def throughput(texts: list[str], repeats: int = THROUGHPUT_REPEATS) -> float:
    """Best-of-``repeats`` texts per second of ``redact`` (best-of filters scheduler noise)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            redact(text)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def corpus_redactions(texts: Iterable[str]) -> tuple[Counter[str], list[tuple[str, str]]]:
    """Span counts per kind and (original, redacted) pairs for every text that changed."""
    counts: Counter[str] = Counter()
    changed: list[tuple[str, str]] = []
    for text in texts:
        spans = find_pii(text)
        counts.update(span.kind for span in spans)
        if spans:
            changed.append((text, redact(text)))
    return counts, changed


def _print_report(report: dict[str, Any]) -> None:
    print(
        f"eval set: {report['n_sentences']} sentences, {report['n_planted']} planted values, "
        f"{report['n_negative_sentences']} hard negatives"
    )
    print(f"{'kind':<8} {'n':>4} {'recall':>7} {'right-kind':>11}")
    for kind, stats in report["per_kind"].items():
        print(
            f"{kind:<8} {stats['n']:>4} {stats['recall']:>7.3f} {stats['right_kind_recall']:>11.3f}"
        )
    print(f"overall recall {report['recall']:.3f} (right kind {report['right_kind_recall']:.3f})")
    print(f"false positives per 100 negatives: {report['fp_per_100_negatives']:.2f}")
    print(f"false positives per 100 sentences: {report['fp_per_100_sentences']:.2f}")
    for miss in report["misses"]:
        print(f"  MISS {miss['kind']}: {miss['text']}")
    for fp in report["false_positives"]:
        print(f"  FP {fp['kind']}: {fp['value']!r}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    report = evaluate(args[0] if args else DEFAULT_EVAL_PATH)
    _print_report(report)

    texts = load_corpus_texts()
    rate = throughput(texts)
    print(f"\nthroughput: {rate:,.0f} texts/s over {len(texts):,} Banking77+Bitext texts")
    counts, changed = corpus_redactions(texts)
    print(f"corpus spans by kind: {dict(counts)}; texts changed: {len(changed):,}")
    for original, redacted in changed[:: max(1, len(changed) // SAMPLE_SIZE)][:SAMPLE_SIZE]:
        print(f"  {original!r}\n    -> {redacted!r}")


if __name__ == "__main__":
    main()
