"""What a name fix changes, on the same themes with and without it: slips
(``rca.text.spelling``, stop 49).

    python -m experiments.name_fix_probe [--sets banking77-test,bitext,hwu64,cfpb] [--seeds 42]

For each labelled set and UMAP seed: the product's fine level on cached coordinates, its
problem names as ``rca fit`` builds them, then the same with the fix turned off; prints the
label score of each against every gold level (``quality.label_score``) and every name that
changed. Figures only (printed).
"""

from __future__ import annotations

import argparse

import numpy as np

import rca.cluster.labels as labels_module
from experiments.granularity_study import _coords, _encode, _fit_on_coords, load_set
from rca.cluster.labels import problem_names, theme_keywords
from rca.cluster.quality import label_score
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.persons import person_words


def names_of(texts, labels, X, centroids, people, fixed: bool) -> dict[int, str]:
    saved = labels_module.corrected
    if not fixed:
        labels_module.corrected = lambda phrase, _counts: phrase
    try:
        keywords = theme_keywords(texts, labels, person_words=people)
        return problem_names(
            texts, labels, X, centroids, keywords=keywords, embed=_encode, person_words=people
        )
    finally:
        labels_module.corrected = saved


def fits(description: str):
    """``(head, texts, X, levels, model, people)`` for every set and seed the command line
    names: the product's fine level on cached coordinates (shared by the name probes)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sets", default="banking77-test,bitext,hwu64,cfpb")
    parser.add_argument("--seeds", default="42")
    args = parser.parse_args()
    for name in args.sets.split(","):
        texts, X, levels = load_set(name)
        for seed in (int(s) for s in args.seeds.split(",")):
            model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
            people = person_words(texts, model.labels_, name_finder(RedactionPolicy()))
            head = f"{name} seed {seed}: {model.n_themes_} themes"
            yield head, texts, X, levels, model, people


def main() -> None:
    for head, texts, X, levels, model, people in fits(__doc__.splitlines()[0]):
        labels = model.labels_
        before = names_of(texts, labels, X, model.centroids_, people, fixed=False)
        after = names_of(texts, labels, X, model.centroids_, people, fixed=True)
        compare(head, before, after, levels, labels)


def compare(head: str, before: dict, after: dict, levels: dict, labels, tail: str = "") -> None:
    """Print how many names changed, the label score of both at every gold level, and each
    changed name (shared by the name probes)."""
    changed = [(before[t], after[t]) for t in sorted(after) if before[t] != after[t]]
    scores = " | ".join(
        f"{level}: {label_score(before, y, labels, _encode):.3f} -> "
        f"{label_score(after, y, labels, _encode):.3f}"
        for level, y in levels.items()
    )
    print(f"{head}, {len(changed)} names changed; {scores}{tail}", flush=True)
    for old, new in changed:
        print("   ", old, "->", new, flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
