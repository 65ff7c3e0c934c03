"""Repeat detection and driver ranking against the demo stream's ground truth.

A *true repeat* is a contact the generator planted as a follow-up of a repeat chain
(`truth.chain_pos >= 2`): the same customer, the same intent, another paraphrase, 1-6 days after
the chain's previous contact. Everything else is a true non-repeat, including the traps:
continuations (the same issue 2-10 minutes later), customers back within a week about another
intent (`different_issue`) and customers back weeks later (`returning_customer`).

    python -m experiments.repeat_eval --home /tmp/repeats-home

Prints precision and recall (overall, on follow-ups the theme model filed under another theme
than the chain's first contact, i.e. the paraphrases only the embedding links), what became of
each trap, a sweep of the similarity threshold, the driver ranking of the latest period and the
worst offender's rank in every week.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rca.queries.repeat_drivers import drivers_payload, load_repeat_analysis
from rca.repeats.detect import REPEAT, detect_repeats
from rca.repeats.drivers import rank_drivers, theme_period_figures
from rca.settings import get_settings

SWEEP = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
TOP = 5


def precision_recall(actual: pd.Series, found: pd.Series) -> tuple[float, float, int, int]:
    hits = int((actual & found).sum())
    return hits / max(int(found.sum()), 1), hits / max(int(actual.sum()), 1), hits, int(found.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("RCA_HOME", ".rca")))
    args = parser.parse_args()
    settings = get_settings(args.home)
    analysis = load_repeat_analysis(settings)
    truth = pd.read_csv(args.home / "demo" / "truth.csv", keep_default_na=False)
    manifest = json.loads((args.home / "demo" / "manifest.json").read_text())
    marked = analysis.marked.merge(truth, on="contact_id", suffixes=("", "_truth"))
    actual = marked["chain_pos_truth"] >= 2
    found = marked["repeat_status"] == REPEAT

    p, r, hits, n_found = precision_recall(actual, found)
    print(f"contacts {len(marked)}, planted follow-ups {int(actual.sum())}, found {n_found}")
    print(f"repeat precision {p:.3f}  recall {r:.3f}  (true positives {hits})")
    head_theme = marked.groupby("chain_id_truth")["theme_id"].transform("first")
    moved = actual & (marked["theme_id"].fillna("") != head_theme.fillna(""))
    print(
        f"paraphrased follow-ups in another theme than their chain's first contact: "
        f"{int(moved.sum())}, found {int((moved & found).sum())} "
        f"(recall {(moved & found).sum() / max(moved.sum(), 1):.3f})"
    )
    for label in ("continuation", "different_issue", "returning_customer"):
        rows = marked["planted"] == label
        by = marked.loc[rows, "repeat_status"].value_counts().to_dict()
        print(f"  {label:20s} {int(rows.sum()):5d} contacts -> {by}")

    print("\nsimilarity threshold sweep (same theme OR cosine >= threshold):")
    frame = analysis.marked[[c for c in analysis.marked.columns if not c.startswith("repeat")]]
    vectors = _vectors(analysis, settings)
    for threshold in SWEEP:
        rules = dataclasses.replace(analysis.rules, similarity_threshold=threshold)
        swept = detect_repeats(frame, vectors, rules=rules)["repeat_status"] == REPEAT
        sp, sr, _, _ = precision_recall(actual, swept.to_numpy())
        flag = "  <- default" if threshold == analysis.rules.similarity_threshold else ""
        print(f"  {threshold:.2f}: precision {sp:.3f}  recall {sr:.3f}{flag}")

    payload = drivers_payload(settings, period="latest", top=TOP, analysis=analysis)
    worst = manifest["worst_repeat_intent"]
    worst_theme = marked.loc[marked["intent"] == worst, "theme_id"].mode().iloc[0]
    print(f"\nworst repeat offender {worst} -> theme {worst_theme}")
    print(f"top {TOP} drivers, {payload['period']} (incomplete={payload['incomplete']}):")
    for d in payload["drivers"]:
        print(
            f"  {d['rank']}. {d['theme_id']} {d['label']!r} score {d['score']:.3f}: {d['summary']}"
        )

    figures = theme_period_figures(analysis.marked, analysis.periods)
    ranks = []
    for period in analysis.periods:
        ranked = rank_drivers(figures, period.name, weights=None, themes=analysis.themes)
        position = ranked.index[ranked["theme_id"] == worst_theme]
        ranks.append(int(position[0]) + 1 if len(position) else None)
    weeks_first = sum(1 for x in ranks if x == 1)
    print(f"worst offender's rank per period: {ranks} (first in {weeks_first}/{len(ranks)})")


def _vectors(analysis, settings) -> np.ndarray | None:  # noqa: ANN001 - experiment helper
    from rca.queries.repeat_drivers import _linkable_rows, _vectors_for
    from rca.store import Store

    with Store(settings.store_path).read() as con:
        return _vectors_for(
            con, analysis.model_id, analysis.marked["text_hash"], _linkable_rows(analysis.marked)
        )


if __name__ == "__main__":
    main()
