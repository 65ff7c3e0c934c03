"""Would a longer UMAP layout, or another shape of it, take the seed draw out of the fine level?

    python -m experiments.epochs_probe [--sets ...] [--seeds 42,7,0] [--epochs 0,1000]
        [--shapes 15x5,30x5,15x10]

The six set-and-seed pairs under issue #19's fine-level bar pass at the next UMAP seed
(granularity.md, stops 36-37). With ``init="pca"`` the start is the same for every seed; the
seed only drives the layout's stochastic gradient steps (negative sampling). umap-learn runs
500 epochs below 10,000 rows and 200 above (HWU64's 10,020 texts get 200), so a layout that has
not settled keeps more of its seed. This fits the product's rule (``min_cluster_size="plscan"``,
merge and noise assignment) on coordinates laid out with umap-learn's default epochs (``0``)
and with more, at each seed, and counts the pairs that meet the bar. `--shapes` varies the
layout's neighbours and dimensions instead (n_neighbors x n_components; the product's 15 x 5
were never measured against others). Figures only (JSON rows).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import warnings

import numpy as np

from experiments.datasets import vectors_digest
from experiments.granularity_study import COORDS_DIR, _fit_on_coords, _unit_rows, load_set
from experiments.seed_choice_probe import BARS, MAX_UNASSIGNED
from rca.cluster.model import ThemeModel
from rca.cluster.quality import cluster_scores
from rca.cluster.reduce import INIT, MIN_DIST, cache_umap_kernels, exact_cosine_knn

#: Banking77-all (13,083 texts): 0.95 x KMeans told k = 77 on UMAP vectors (0.673, quality.md)
EXTRA_BARS = {"banking77-all": 0.639}


def coords(
    name: str, X: np.ndarray, seed: int, epochs: int, neighbors: int = 0, components: int = 0
) -> tuple[np.ndarray, float]:
    """The product's UMAP layout with ``epochs`` (0: umap-learn's default; -1: the budget rule
    measured in stop 42, 500 up to 10,000 rows then 5,000,000 / rows, at least 200), cached;
    seconds."""
    if epochs == -1:
        epochs = max(200, min(500, 5_000_000 // len(X)))
    COORDS_DIR.mkdir(parents=True, exist_ok=True)
    d = ThemeModel()
    neighbors, components = neighbors or d.n_neighbors, components or d.n_components
    shape = "" if (neighbors, components) == (d.n_neighbors, d.n_components) else (
        f"-k{neighbors}-c{components}")  # fmt: skip
    path = COORDS_DIR / f"{name}-{len(X)}-{vectors_digest(X)}-{seed}-e{epochs}{shape}.npy"
    if path.exists():
        return np.load(path), float("nan")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        import umap

        cache_umap_kernels()
        unit = _unit_rows(X).astype(np.float32)
        k = max(2, min(neighbors, len(X) - 1))
        start = time.perf_counter()
        out = umap.UMAP(
            n_neighbors=k, n_components=components, min_dist=MIN_DIST, metric="cosine",
            random_state=seed, init=INIT, n_epochs=epochs or None,
            precomputed_knn=exact_cosine_knn(unit, k),
        ).fit_transform(unit)  # fmt: skip
        seconds = time.perf_counter() - start
    out = np.asarray(out, dtype=np.float64)
    np.save(path, out)
    return out, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(BARS))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument(
        "--shapes",
        default="15x5",
        help="UMAP n_neighbors x n_components pairs, e.g. 15x5,30x5,15x10",
    )
    parser.add_argument("--epochs", default="0,1000", help="0: umap's default, -1: the budget rule")
    args = parser.parse_args()
    met: dict[str, list[int]] = {}
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        bar = {**BARS, **EXTRA_BARS}[name]
        for shape, epochs in itertools.product(
            args.shapes.split(","), (int(e) for e in args.epochs.split(","))
        ):
            neighbors, components = (int(v) for v in shape.split("x"))
            for seed in (int(s) for s in args.seeds.split(",")):
                xy, seconds = coords(name, X, seed, epochs, neighbors, components)
                model = _fit_on_coords(X, xy, min_cluster_size="plscan")
                s = cluster_scores(y, model.labels_)
                ok = s["accuracy"] >= bar and s["unassigned_fraction"] <= MAX_UNASSIGNED
                tally = met.setdefault(f"{shape}/{epochs}", [0, 0])
                tally[0] += int(ok)
                tally[1] += 1
                print(json.dumps({
                    "set": name, "shape": shape, "epochs": epochs, "seed": seed,
                    "themes": int(model.n_themes_),
                    "accuracy": round(s["accuracy"], 4), "bar": bar, "met": bool(ok),
                    "unassigned": round(s["unassigned_fraction"], 4),
                    "umap_seconds": round(seconds, 1),
                }), flush=True)  # fmt: skip
    print(json.dumps({"met": met}), flush=True)


if __name__ == "__main__":
    main()
