"""Refit stability: how many contacts keep their theme id when the refit uses another seed.

`python -m experiments.refit_stability` fits ThemeModel with seed 42, refits with seed 7,
gives the refit's themes ids by lineage (`match_themes`), then applies the refit hysteresis
(`reconcile`, margin 0.05 as in `RCA_REFIT_MARGIN`). Prints the share of contacts whose id is
unchanged with lineage only and with hysteresis, and NMI against the true labels for both, so
stability is never bought with quality.
"""

from __future__ import annotations

import numpy as np

from experiments.datasets import LabelledSet, banking77, bitext, embed_set
from rca.cluster import ThemeModel
from rca.cluster.lineage import format_theme_id, match_themes
from rca.cluster.quality import cluster_scores
from rca.cluster.stability import reconcile

FIRST_SEED, SECOND_SEED = 42, 7
MARGIN = 0.05


def study(ds: LabelledSet, **params: object) -> dict[str, float]:
    X = embed_set(ds)
    first = ThemeModel(random_state=FIRST_SEED, **params).fit(X)
    first_ids = [format_theme_id(i + 1) if i >= 0 else "" for i in first.labels_]
    second = ThemeModel(random_state=SECOND_SEED, **params).fit(X)
    match = match_themes(
        [format_theme_id(i + 1) for i in range(first.n_themes_)],
        first.centroids_,
        first.labels_,
        second.centroids_,
        second.labels_,
        next_id=first.n_themes_ + 1,
    )
    lineage_ids = [match.ids[i] if i >= 0 else "" for i in second.labels_]
    final = reconcile(
        X,
        lineage_ids,
        first_ids,
        margin=MARGIN,
        min_size=second.min_cluster_size_,
        threshold=float(second.assign_threshold_),
    )
    final_ids = [final.theme_ids[i] if i >= 0 else "" for i in final.labels]
    return {
        "lineage_only": float(np.mean(np.array(lineage_ids) == np.array(first_ids))),
        "with_hysteresis": float(np.mean(np.array(final_ids) == np.array(first_ids))),
        "nmi_refit": cluster_scores(ds.labels, second.labels_)["nmi"],
        "nmi_reconciled": cluster_scores(ds.labels, final.labels)["nmi"],
    }


def main() -> None:
    import sys

    # ``--layers``: the opt-in fine level from EVoC's layers (min_cluster_size="layers").
    # ``--plscan``: PLSCAN's layers of the UMAP coordinates (min_cluster_size="plscan").
    params: dict[str, object] = {}
    for option in ("layers", "plscan"):
        if f"--{option}" in sys.argv:
            params = {"min_cluster_size": option}
    sets = {
        "banking77-test": banking77("test"),
        "banking77-all": banking77("all"),
        "bitext-all": bitext("all"),
    }
    print("| dataset | same id, lineage only | same id, hysteresis | NMI refit | NMI reconciled |")
    print("|---|---|---|---|---|")
    for name, ds in sets.items():
        r = study(ds, **params)
        print(
            f"| {name} | {r['lineage_only']:.3f} | {r['with_hysteresis']:.3f} | "
            f"{r['nmi_refit']:.3f} | {r['nmi_reconciled']:.3f} |"
        )


if __name__ == "__main__":
    main()
