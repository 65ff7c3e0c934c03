"""How far can a cut of the theme tree get on the coarse labels, on today's fine themes?

    python -m experiments.parent_cut_probe [--sets hwu64,bitext,cfpb] [--seeds 42,7,0]

For each set and UMAP seed: the product's fine level (PLSCAN layer on cached coordinates), then
every cut of the average-linkage tree of the theme centroids from 2 to k/2 groups, with its
centroid silhouette, whether it is a parent level (no group over half of the themes or contacts)
and its accuracy against the coarse labels (Hungarian matching, unassigned wrong). Shows the
cut the product takes (best silhouette among parent levels) beside the best cut chosen with the
labels: the ceiling any cut rule can reach on these themes. Figures only; rows printed.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import silhouette_samples, silhouette_score

from experiments.granularity_study import COARSE, _coords, _fit_on_coords, load_set
from rca.cluster import hierarchy
from rca.cluster.quality import clustering_accuracy


def run(name: str, seed: int) -> None:
    texts, X, levels = load_set(name)
    del texts
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
    labels, k = model.labels_, model.n_themes_
    sizes = np.bincount(labels[labels >= 0], minlength=k).astype(float)
    dist = hierarchy._cosine_distances(model.centroids_)
    tree = linkage(squareform(dist, checks=False), method="average")
    product = hierarchy.parent_groups(model.centroids_, sizes)
    for level, y in levels.items():
        if level not in COARSE:
            continue
        true_k = len(np.unique(y))

        def acc(groups: np.ndarray, y: np.ndarray = y) -> float:
            parent = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
            return clustering_accuracy(y, parent)

        rows = []
        for g in range(2, max(3, k // 2 + 1)):
            raw = fcluster(tree, t=g, criterion="maxclust")
            sil = float(silhouette_score(dist, raw, metric="precomputed"))
            rows.append((g, sil, hierarchy.is_parent_level(raw, sizes), acc(raw)))
        best = max(rows, key=lambda r: r[3])
        # candidate rule: the finest parent-level cut within one standard error of the best
        # silhouette (the standard error of the best cut's mean per-theme silhouette)
        ok = [r for r in rows if r[2]]
        if ok:
            top = max(ok, key=lambda r: r[1])
            raw = fcluster(tree, t=top[0], criterion="maxclust")
            per_theme = silhouette_samples(dist, raw, metric="precomputed")
            se = float(np.std(per_theme, ddof=1) / np.sqrt(len(per_theme)))
            one_se = max((r for r in ok if r[1] >= top[1] - se), key=lambda r: r[0])
            print(
                f"{name} seed {seed} {level}: one-SE rule (se {se:.3f}) {one_se[0]} groups "
                f"acc {one_se[3]:.3f}; best silhouette {top[0]} groups acc {top[3]:.3f}"
            )
        n_product = len(np.unique(product))
        print(
            f"{name} seed {seed} {level} (true {true_k}), {k} themes: product {n_product} groups "
            f"acc {acc(product):.3f}; best cut {best[0]} groups acc {best[3]:.3f} "
            f"(silhouette {best[1]:.3f}, parent level {best[2]})"
            + (f"; at true k: acc {rows[true_k - 2][3]:.3f}" if true_k - 2 < len(rows) else ""),
            flush=True,
        )
        for g, sil, ok, a in rows:
            print(f"    {g:3d} groups sil {sil:.3f} {'P' if ok else '-'} acc {a:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="hwu64,bitext,cfpb")
    parser.add_argument("--seeds", default="42,7,0")
    args = parser.parse_args()
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed)


if __name__ == "__main__":
    main()
