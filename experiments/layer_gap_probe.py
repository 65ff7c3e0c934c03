"""Every PLSCAN layer of one cached layout, scored as the fit scores it, and the paired gaps.

    python -m experiments.layer_gap_probe SET SEEDS [MIN_SAMPLES]

For each layer of ``fast_hdbscan.PLSCAN`` on the study's cached UMAP layout of SET at each seed
(base layer first): its clusters, smallest size, noise, persistence, over-split share, and,
with the layer merged and assigned as ``ThemeModel`` does, its themes, cosine silhouette with
its unpaired error, and accuracy; then ``separation.paired_gap`` between neighbouring layers
(coarser less finer, on the same rows). Example: ``banking77+hwu64-30pc 42,43,7`` (the
base layer's test read both ways; granularity.md, stop 59).
"""

from __future__ import annotations

import sys

import fast_hdbscan
import numba
import numpy as np

from experiments.epochs_probe import coords as layout
from experiments.granularity_study import load_set
from rca.cluster.density import MIN_CLUSTER_SIZE_FLOOR, oversplit_share
from rca.cluster.merge import merge_threshold
from rca.cluster.model import MIN_SAMPLES, ThemeModel, _unit_rows
from rca.cluster.quality import clustering_accuracy
from rca.cluster.separation import paired_gap


def main() -> None:
    name, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else MIN_SAMPLES
    _texts, X, levels = load_set(name)
    y = np.asarray(next(iter(levels.values())))
    unit = _unit_rows(X)
    numba.set_num_threads(1)  # as the product runs PLSCAN (density.plscan_clusters)
    for seed in seeds:
        coords = np.asarray(layout(name, X, seed, 0)[0], dtype=np.float64)
        found = fast_hdbscan.PLSCAN(
            min_samples=samples, base_min_cluster_size=MIN_CLUSTER_SIZE_FLOOR
        ).fit(coords)
        model = ThemeModel(random_state=seed, min_samples=samples)
        print(f"== {name} seed {seed} min_samples {samples}")
        trials = []
        for layer, persistence in zip(
            found.cluster_layers_, found.layer_persistence_scores_, strict=True
        ):
            layer = np.asarray(layer, dtype=np.int64)
            sizes = np.bincount(layer[layer >= 0])
            share = oversplit_share(unit, layer, merge_threshold(1.0))
            trial = model._layer_trial(unit, layer)
            sep = trial._separation(unit)
            trials.append(trial)
            print(f"  layer k={layer.max() + 1} smallest={sizes.min()} "
                  f"noise={np.mean(layer < 0):.3f} persistence={persistence:.1f} "
                  f"share={share:.3f} themes={trial.labels_.max() + 1} "
                  f"silhouette={sep.mean:.4f}+-{sep.se:.4f} "
                  f"accuracy={clustering_accuracy(y, trial.labels_):.3f}")  # fmt: skip
        for i in range(len(trials) - 1):
            g = paired_gap(unit, trials[i].labels_, trials[i + 1].labels_, seed)
            print(f"  gap {i} -> {i + 1}: {g.mean:.4f} +- {g.se:.4f}", flush=True)


if __name__ == "__main__":
    main()
