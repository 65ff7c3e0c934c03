"""Which linkage should the parent cut read? The product's rule on four trees of the themes.

    python -m experiments.linkage_probe

For HWU64 (18 scenarios) and Bitext (11 categories) at UMAP seeds 42 / 7 / 0: the product's fine
level on cached coordinates, then the tree of its theme centroids by average (the product's),
complete, weighted and Ward linkage (Ward on the unit centroids, whose Euclidean distance is a
function of the cosine, as ``hierarchy.ward_tree``), each cut among the parent-level cuts with a
positive silhouette by two rules: the finest cut within one standard error of the best
silhouette (``hierarchy.finest_within_one_se``, the product's rule, on the Ward tree since stop
49) and the best silhouette, and, for the ceiling, the cut the coarse labels would pick.
Figures only (printed).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import silhouette_samples

from experiments.granularity_study import COARSE, _coords, _fit_on_coords, load_set
from rca.cluster import hierarchy as H
from rca.cluster.quality import clustering_accuracy


def main() -> None:
    for name in ("hwu64", "bitext"):
        _, X, levels = load_set(name)
        y = [v for k, v in levels.items() if k in COARSE][0]
        for seed in (42, 7, 0):
            m = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
            lab, k = m.labels_, m.n_themes_
            sizes = np.bincount(lab[lab >= 0], minlength=k).astype(float)
            dist = H._cosine_distances(m.centroids_)
            out = []
            for method in ("average", "complete", "weighted", "ward"):
                if method == "ward":
                    tree = H.ward_tree(m.centroids_)
                else:
                    tree = linkage(squareform(dist, checks=False), method=method)
                cuts, sils, accs = [], [], {}
                for g in range(2, min(k // 2, 40) + 1):
                    raw = fcluster(tree, t=g, criterion="maxclust")
                    par = np.where(lab >= 0, raw[np.maximum(lab, 0)], -1)
                    a = clustering_accuracy(y, par)
                    accs[g] = a
                    if not H.is_parent_level(raw, sizes):
                        continue
                    ps = silhouette_samples(dist, raw, metric="precomputed")
                    if ps.mean() <= 0:
                        continue
                    cuts.append((g, a))
                    sils.append(ps)
                if cuts:
                    g, a = cuts[H.finest_within_one_se(sils)]
                    gb, ab = cuts[int(np.argmax([s.mean() for s in sils]))]
                    out.append(
                        f"{method}: one-SE {g}g {a:.3f} best-sil {gb}g {ab:.3f}"
                        f" ceiling {max(accs.values()):.3f}"
                    )
                else:
                    out.append(f"{method}: none")
            print(name, seed, k, " | ".join(out), flush=True)


if __name__ == "__main__":
    main()
