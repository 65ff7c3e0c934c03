"""Every parent cut of `rca evaluate`'s own fit, and where four label-free rules land on it.

    python -m experiments.parent_plateau_probe PATH TEXT_COL LABEL_COL PARENT_COL [SEEDS]

``parent_rule_probe`` reads the study's vectors of the raw texts on cached layouts; this reads
the set as ``rca evaluate`` does (redacted, normalised, the product's encoder and file cache,
the product's fit), cuts its themes' Ward tree into 2 .. k/2 groups and prints each cut's
accuracy against PARENT_COL and centroid silhouette (``x``: no parent level), then the cut the
product's rule picks (the finest within one paired standard error of the best silhouette), the
best, the coarsest and the middle of the cuts within that error, and the labels' ceiling
(granularity.md, stop 59). Example: ``... /work/shared/data/hwu64/hwu64.csv text intent
scenario 42,7,0``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.metrics import silhouette_samples

from rca.cluster import hierarchy as H
from rca.cluster.quality import clustering_accuracy
from rca.ingest.read import read_file
from rca.jobs.evaluate import embed_with_file_cache
from rca.jobs.fit import theme_model, theme_size_rule
from rca.settings import Settings
from rca.text.normalise import normalise_series
from rca.text.redact import redact_series


def main() -> None:
    path, text_col, label_col, parent_col = sys.argv[1:5]
    seeds = [int(s) for s in (sys.argv[5] if len(sys.argv) > 5 else "42,7,0").split(",")]
    settings = Settings()
    frame = read_file(Path(path)).frame
    usable = frame[(frame[text_col].str.strip() != "") & (frame[label_col].str.strip() != "")]
    redacted = redact_series(usable[text_col], min_digit_run=settings.redact_min_digit_run)
    texts = normalise_series(redacted).tolist()
    X, _ = embed_with_file_cache(settings, texts)
    y = usable[parent_col].to_numpy()
    for seed in seeds:
        model = theme_model(settings, seed, min_cluster_size=theme_size_rule(settings))
        model.fit(X, texts)
        lab, k = model.labels_, model.n_themes_
        sizes = np.bincount(lab[lab >= 0], minlength=k).astype(float)
        dist = H._cosine_distances(model.centroids_)
        tree = H.ward_tree(model.centroids_)
        rows = []
        for g in range(2, min(k // 2, H.MAX_SILHOUETTE_GROUPS) + 1):
            raw = fcluster(tree, t=g, criterion="maxclust")
            parent = np.where(lab >= 0, raw[np.maximum(lab, 0)], -1)
            per_theme = silhouette_samples(dist, raw, metric="precomputed")
            rows.append((g, clustering_accuracy(y, parent), H.is_parent_level(raw, sizes),
                         per_theme))  # fmt: skip
        ok = [r for r in rows if r[2] and r[3].mean() > H.MIN_GROUP_SILHOUETTE]
        sil = [r[3] for r in ok]
        best = int(np.argmax([float(np.mean(s)) for s in sil]))
        within = H.within_one_se(sil)
        accuracy = {g: a for g, a, _, _ in rows}
        picks = {
            "finest (product)": ok[within[-1]][0],
            "best": ok[best][0],
            "coarsest": ok[within[0]][0],
            "median": ok[within[len(within) // 2]][0],
        }
        ceiling = max(rows, key=lambda r: r[1])
        said = "; ".join(f"{n} {g}: {accuracy[g]:.3f}" for n, g in picks.items())
        print(f"seed {seed}: {k} themes; {said}; ceiling {ceiling[0]}: {ceiling[1]:.3f}")
        print("  " + " ".join(f"{g}:{a:.3f}/{p.mean():.3f}{'' if is_level else 'x'}"
                              for g, a, is_level, p in rows), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
