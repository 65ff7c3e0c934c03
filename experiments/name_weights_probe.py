"""Do names ranked with more weight on how many central texts say the phrase, or with less
contrast against the nearest other theme, say the right reason code more often?

    python -m experiments.name_weights_probe [--sets a,b] [--seeds 42,7,0]
        [--prescore 0.05,0.1,0.2] [--contrast 0.5,0.25]

A candidate's score is ``cos(phrase, own centroid) - NAME_CONTRAST * max cos(phrase, other
centroid) + NAME_PRESCORE_WEIGHT * pre / top``, where ``pre`` is its support among the theme's
central texts weighted by its c-TF-IDF words (``labels.name_candidates``). Both weights were
set at stop 40-odd on Banking77 and Bitext; this probe re-reads them on the product's path
(``mean_contrast_probe.prepare``: each set as ``rca evaluate`` reads it, the product's fit,
names and label score), every pair of weights on the same cached fit. Rows go to
``results/name_weights_probe.jsonl`` with the c-TF-IDF labels' score beside them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import rca.cluster.labels as labels_module
from experiments.mean_contrast_probe import SETS, prepare, score_names

ROWS = Path(__file__).resolve().parent / "results" / "name_weights_probe.jsonl"


def run(name: str, seed: int, prescores: list[float], contrasts: list[float]) -> None:
    fit = prepare(name, seed)
    product = labels_module.NAME_PRESCORE_WEIGHT, labels_module.NAME_CONTRAST
    try:
        for prescore in prescores:
            for contrast in contrasts:
                labels_module.NAME_PRESCORE_WEIGHT = prescore
                labels_module.NAME_CONTRAST = contrast
                tag = {"prescore": prescore, "contrast": contrast}
                score_names(fit, labels_module._phrase_similarity, tag, ROWS)
    finally:
        labels_module.NAME_PRESCORE_WEIGHT, labels_module.NAME_CONTRAST = product


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS[:4]))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--prescore", default="0.05,0.1,0.2")
    parser.add_argument("--contrast", default="0.5,0.25")
    args = parser.parse_args()
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed, [float(w) for w in args.prescore.split(",")],
                [float(c) for c in args.contrast.split(",")])  # fmt: skip


if __name__ == "__main__":
    main()
