"""How many theme names ``labels.as_written`` respells, and how, on every labelled set.

    python -m experiments.spelling_probe [--sets bitext,hwu64,banking77-test,cfpb] [--seed 42]

Same protocol as ``parent_name_probe``: the product's fine level on cached UMAP coordinates,
``problem_names`` as ``rca fit`` calls it. Each name is shown as built from its lower-cased
phrase and as customers spell it. all-MiniLM-L6-v2 is uncased, so the label score cannot
move; the question is only which names change. Rows go to ``results/spelling_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rca.cluster.labels as labels_mod
from experiments.granularity_study import _coords, _encode, _fit_on_coords, load_set
from rca.cluster.labels import problem_names, theme_keywords
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.persons import person_words

ROWS = Path(__file__).resolve().parent / "results" / "spelling_probe.jsonl"


def run(name: str, seed: int) -> None:
    texts, X, _ = load_set(name)
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
    labels = model.labels_
    people = person_words(texts, labels, name_finder(RedactionPolicy()))
    kw = theme_keywords(texts, labels, person_words=people)
    args = (texts, labels, X, model.centroids_)
    spelt = problem_names(*args, keywords=kw, embed=_encode, person_words=people)
    product = labels_mod.as_written
    labels_mod.as_written = lambda name, texts: name  # the names as built, before this stop
    try:
        built = problem_names(*args, keywords=kw, embed=_encode, person_words=people)
    finally:
        labels_mod.as_written = product
    changed = [[built[t], spelt[t]] for t in sorted(spelt) if built[t] != spelt[t]]
    row = {"set": name, "seed": seed, "themes": len(spelt), "respelt": len(changed),
           "changes": changed}  # fmt: skip
    with ROWS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(f"{name} seed {seed}: {len(changed)} of {len(spelt)} names respelt", flush=True)
    for old, new in changed:
        print(f"  {old!r} -> {new!r}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="bitext,hwu64,banking77-test,cfpb")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    for name in a.sets.split(","):
        run(name, a.seed)


if __name__ == "__main__":
    main()
