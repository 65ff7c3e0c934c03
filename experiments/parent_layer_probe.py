"""Parent groups from PLSCAN's coarser layers instead of the centroid tree (measured, not adopted).

    python -m experiments.parent_layer_probe [--sets hwu64,bitext,cfpb]

Issue #19 suggests persistence layers for both levels. The product takes its fine themes from one
PLSCAN layer and cuts its parent groups from the average-linkage tree of the theme centroids
(`rca.cluster.hierarchy.parent_groups`). Here each coarser PLSCAN layer of the same UMAP
coordinates becomes a parent level instead: every fine theme joins the coarse cluster holding
most of its contacts (a theme wholly in the layer's noise keeps a group of its own), so the
groups are real merges of the fine themes. For UMAP seeds 42, 7 and 0 it prints, per set, the
product's cut (groups, accuracy against the coarse labels, centroid silhouette) and each coarser
layer's grouping (the layer's clusters, groups, accuracy, largest group's share of themes and of
contacts, centroid silhouette). Figures only.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.metrics import silhouette_samples

from experiments.granularity_study import _coords, _fit_on_coords, load_set
from experiments.layer_rule_probe import layers_of
from rca.cluster.hierarchy import _cosine_distances, parent_groups
from rca.cluster.quality import cluster_scores


def layer_groups(labels: np.ndarray, layer: np.ndarray, k: int) -> np.ndarray:
    """Each fine theme's coarse cluster: the one holding most of its contacts."""
    groups = np.full(k, -1)
    for t in range(k):
        held = layer[(labels == t) & (layer >= 0)]
        groups[t] = np.bincount(held).argmax() if len(held) else -1
    alone = np.flatnonzero(groups < 0)
    groups[alone] = groups.max() + 1 + np.arange(len(alone))
    return np.unique(groups, return_inverse=True)[1]


def scored(groups: np.ndarray, labels: np.ndarray, dist: np.ndarray, coarse: np.ndarray) -> dict:
    """Groups, accuracy against the coarse labels, largest shares, centroid silhouette."""
    k = len(groups)
    contacts = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
    sizes = np.bincount(groups)
    sil = None
    if 1 < len(sizes) < k:
        sil = round(float(silhouette_samples(dist, groups, metric="precomputed").mean()), 3)
    assigned = contacts[contacts >= 0]
    return {
        "groups": int(len(sizes)),
        "accuracy": round(cluster_scores(coarse, contacts)["accuracy"], 3),
        "theme_share": round(float(sizes.max() / k), 2),
        "contact_share": round(float(np.bincount(assigned).max() / len(assigned)), 2),
        "silhouette": sil,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="hwu64,bitext,cfpb")
    args = parser.parse_args()
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        coarse = list(levels.values())[1]
        for seed in (42, 7, 0):
            coords = _coords(name, X, seed)
            model = _fit_on_coords(X, coords, min_cluster_size="plscan")
            labels, k = model.labels_, int(model.labels_.max() + 1)
            dist = _cosine_distances(model.centroids_)
            fit = (labels, dist, coarse)

            row = {"set": name, "seed": seed, "themes": k}
            row["product"] = scored(parent_groups(model.centroids_, model.sizes_), *fit)
            row["layers"] = [
                {"clusters": int(layer.max() + 1), **scored(layer_groups(labels, layer, k), *fit)}
                for layer, _ in layers_of(coords)
                if 2 <= int(layer.max() + 1) < k
            ]
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
