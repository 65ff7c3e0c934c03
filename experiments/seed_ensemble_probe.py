"""Does joining the UMAP coordinates of several seeds steady the fine level? (measured, not adopted)

    python -m experiments.seed_ensemble_probe [--sets hwu64,bitext,hwu64-30pc,banking77+hwu64-30pc]

The fine-level bar of issue #19 is missed on 6 of 21 set-and-seed pairs because PLSCAN's layers
move with the UMAP seed (granularity.md, stop 28). One way to take the seed out is to cluster
the coordinates of several UMAP runs side by side (k x 5 dimensions: squared distances add, so
two texts are close when they are close in most runs). For each set this fits the product's
rule (`ThemeModel(min_cluster_size="plscan")`, its merge and noise assignment) on the cached
coordinates of each single seed (42, 7, 0, 1, 2, 3) and of two triples (42+7+0, 1+2+3), and
prints one JSON row per fit (themes, NMI, ARI, accuracy, unassigned share). Figures only.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from experiments.granularity_study import _coords, _fit_on_coords, load_set
from rca.cluster.quality import cluster_scores

RUNS = ((42,), (7,), (0,), (1,), (2,), (3,), (42, 7, 0), (1, 2, 3))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="hwu64,bitext,hwu64-30pc,banking77+hwu64-30pc")
    args = parser.parse_args()
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = next(iter(levels.values()))
        for seeds in RUNS:
            coords = np.hstack([_coords(name, X, s) for s in seeds])
            started = time.perf_counter()
            model = _fit_on_coords(X, coords, min_cluster_size="plscan")
            scores = cluster_scores(y, model.labels_)
            row = {"set": name, "seeds": list(seeds), "fit_s": time.perf_counter() - started}
            row |= {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
