"""Would a majority vote of three UMAP runs take the seed draw out of the fine level?

    python -m experiments.consensus_probe [--sets ...] [--bases 42,7,0] [--runs 3]

The set-and-seed pairs under issue #19's fine-level bar pass at the next UMAP seed: one layout
collapses two intents (Bitext seed 7: 16 themes for 27) or splits one, and the next does not
(granularity.md, stops 36-37, 42). Keeping one run of three by a score (seed_choice_probe) or
clustering the runs' coordinates side by side (seed_ensemble_probe) did not remove the draw.
This asks for what most runs agree on instead (evidence accumulation, Fred & Jain 2005): fit the
product's rule on each run, split the texts into cells by their tuple of themes (one per run),
then join cells by average linkage of how often their themes agree, cut at a majority (two
runs of three). A collapse in one run is outvoted by the two that separate; a split in one run
by the two that join. Cells smaller than the fit's ``min_samples`` are left to the product's
noise assignment, as HDBSCAN's noise is. Then the product's merge and assignment, as in
``ThemeModel.fit``. Figures only (JSON rows).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from experiments.epochs_probe import EXTRA_BARS, coords
from experiments.granularity_study import _fit_on_coords, load_set
from experiments.seed_choice_probe import BARS, MAX_UNASSIGNED, ROW_BUDGET
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores

#: Average disagreement below which cells join: under half the runs disagree.
MAJORITY = 0.5


def consensus(runs: list[np.ndarray], min_cell: int, cut: float = MAJORITY) -> np.ndarray:
    """Dense labels (-1 = left to the assignment) from several runs' theme labels."""
    table = np.stack(runs, axis=1)
    cells, cell_of, sizes = np.unique(table, axis=0, return_inverse=True, return_counts=True)
    cell_of = np.asarray(cell_of).ravel()
    big = np.flatnonzero(sizes >= min_cell)
    if len(big) < 2:
        return np.where(np.isin(cell_of, big), 0, -1)
    keys = cells[big].astype(float)
    # Hamming distance between cells' tuples; a -1 (unassigned) never agrees.
    keys[keys < 0] = np.nan
    dist = pdist(keys, lambda a, b: float(np.mean(~(a == b))))
    groups = fcluster(linkage(dist, method="average"), t=cut, criterion="distance") - 1
    label_of_cell = np.full(len(cells), -1)
    label_of_cell[big] = groups
    return label_of_cell[cell_of]


#: The cuts compared: a majority of runs (``MAJORITY``) and every run (``INTERSECTION``: no two
#: distinct cells are joined, the product's centroid merge alone joins what was split).
INTERSECTION = 0.2
#: The smallest cell kept as a theme's core: the product's smallest theme
#: (``MIN_CLUSTER_SIZE_FLOOR``).
MIN_CELL = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(BARS))
    parser.add_argument("--bases", default="42,7,0")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--budget", type=int, default=ROW_BUDGET,
        help="as many runs as fit in this many UMAP rows, at most --runs; 0: always --runs",
    )  # fmt: skip
    args = parser.parse_args()
    kinds = ("one", "majority", "intersection")
    met = {kind: [0, 0] for kind in kinds}
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        bar = {**BARS, **EXTRA_BARS}[name]
        unit = _unit_rows(X)
        runs = args.runs if not args.budget else max(1, min(args.runs, args.budget // len(X)))
        fits: dict[int, ThemeModel] = {}
        for base in (int(b) for b in args.bases.split(",")):
            seeds = [base + i for i in range(runs)]
            for seed in seeds:
                if seed not in fits:
                    xy, _ = coords(name, X, seed, 0)
                    fits[seed] = _fit_on_coords(X, xy, min_cluster_size="plscan")
            rows = {}
            for kind in kinds:
                if kind == "one":
                    labels, k = fits[base].labels_, fits[base].n_themes_
                else:
                    cut = MAJORITY if kind == "majority" else INTERSECTION
                    dense = consensus([fits[s].labels_ for s in seeds], MIN_CELL, cut)
                    model = ThemeModel(random_state=base)
                    model._assign(unit, model._merge(unit, dense))
                    labels, k = model.labels_, model.n_themes_
                s = cluster_scores(y, labels)
                ok = s["accuracy"] >= bar and s["unassigned_fraction"] <= MAX_UNASSIGNED
                met[kind][0] += int(ok)
                met[kind][1] += 1
                rows[kind] = [int(k), round(s["accuracy"], 4), bool(ok)]
            each = [
                [int(fits[s].n_themes_), round(cluster_scores(y, fits[s].labels_)["accuracy"], 3)]
                for s in seeds
            ]
            print(json.dumps({"set": name, "base": base, "bar": bar, "runs": each, **rows}),
                  flush=True)  # fmt: skip
    print(json.dumps({"met": met}), flush=True)


if __name__ == "__main__":
    main()
