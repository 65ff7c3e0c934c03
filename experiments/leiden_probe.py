"""Leiden communities of the contacts' k-nearest-neighbour graph, against the fine-level bar.

    python -m experiments.leiden_probe [--sets ...] [--seeds 42,7,0] [--resolutions 1.0]

Every fine-level rule measured for issue #19 so far clusters UMAP coordinates, and the pairs
that miss the bar are UMAP draws (granularity.md, stops 36-37). Single-cell analysis, which
faces the same "how many groups" question on embeddings, clusters the k-NN graph itself with
Leiden (scanpy's default). Here the graph is UMAP's own fuzzy k-NN graph of the raw unit
vectors (exact cosine neighbours, ThemeModel's n_neighbors, so it does not depend on a seed),
and Leiden maximises modularity (resolution 1: its standard, label-free setting); only
Leiden's own seed varies. Every row gets a community (no unassigned). Figures only; needs
``pip install leidenalg igraph`` (not a dependency of the product).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from experiments.granularity_study import load_set
from experiments.seed_choice_probe import BARS, MAX_UNASSIGNED
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores
from rca.cluster.reduce import exact_cosine_knn


def knn_graph(X: np.ndarray, n_neighbors: int):  # -> igraph.Graph
    """UMAP's fuzzy simplicial set of the exact cosine k-NN, as a weighted igraph graph."""
    import igraph as ig
    from umap.umap_ import fuzzy_simplicial_set

    unit = _unit_rows(X).astype(np.float32)
    indices, dists = exact_cosine_knn(unit, n_neighbors)[:2]
    graph, _, _ = fuzzy_simplicial_set(
        unit, n_neighbors, np.random.RandomState(0), "cosine",
        knn_indices=indices, knn_dists=dists,
    )  # fmt: skip
    graph = graph.tocoo()
    keep = graph.row < graph.col  # symmetric: one edge per pair
    g = ig.Graph(n=unit.shape[0], edges=list(zip(graph.row[keep], graph.col[keep], strict=True)))
    g.es["weight"] = graph.data[keep].tolist()
    return g


def leiden(g, seed: int, resolution: float) -> np.ndarray:
    import leidenalg

    part = leidenalg.find_partition(
        g, leidenalg.RBConfigurationVertexPartition, weights="weight",
        resolution_parameter=resolution, seed=seed, n_iterations=-1,
    )  # fmt: skip
    return np.asarray(part.membership, dtype=np.int64)


def _merged(X: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """The communities through ThemeModel's centroid merge (0.85) and assignment threshold, as
    the product treats PLSCAN's clusters."""
    model = ThemeModel(random_state=seed)
    unit = _unit_rows(X)
    model._assign(unit, model._merge(unit, labels))
    return model.labels_


def _label_free(X: np.ndarray, g, labels: np.ndarray, seed: int, resolution: float) -> dict:
    """Two scores a rule could read without labels: the communities' cosine silhouette (the
    product's ``validity_``) and their mean ARI with Leiden at two other seeds."""
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    sil = float("nan")
    if len(np.unique(labels)) > 1:
        sil = silhouette_score(
            _unit_rows(X), labels, metric="cosine", sample_size=2000, random_state=0
        )
    others = [leiden(g, seed + k, resolution) for k in (101, 202)]
    return {
        "silhouette": float(sil),
        "seed_ari": float(np.mean([adjusted_rand_score(labels, o) for o in others])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(BARS))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--resolutions", default="1.0")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="then ThemeModel's centroid merge and assignment, as after PLSCAN",
    )
    parser.add_argument("--choose", action="store_true",
                        help="also print label-free scores per resolution (silhouette, "
                        "agreement with two other Leiden seeds)")  # fmt: skip
    args = parser.parse_args()
    met = total = 0
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        started = time.perf_counter()
        g = knn_graph(X, ThemeModel().n_neighbors)
        graph_s = time.perf_counter() - started
        for resolution in (float(r) for r in args.resolutions.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                started = time.perf_counter()
                labels = leiden(g, seed, resolution)
                if args.merge:
                    labels = _merged(X, labels, seed)
                scores = cluster_scores(y, labels)
                if args.choose:
                    scores.update(_label_free(X, g, labels, seed, resolution))
                ok = scores["accuracy"] >= BARS[name] and (
                    scores["unassigned_fraction"] <= MAX_UNASSIGNED
                )
                met += ok
                total += 1
                print(json.dumps({
                    "set": name, "true": int(len(np.unique(y))), "resolution": resolution,
                    "seed": seed, "themes": scores["n_themes"],
                    "accuracy": round(scores["accuracy"], 3), "bar": BARS[name], "met": bool(ok),
                    "nmi": round(scores["nmi"], 3),
                    **{k: round(scores[k], 3) for k in ("silhouette", "seed_ari")
                       if k in scores},
                    "graph_s": round(graph_s, 1),
                    "leiden_s": round(time.perf_counter() - started, 1),
                }), flush=True)  # fmt: skip
    print(json.dumps({"met": met, "of": total}))


if __name__ == "__main__":
    main()
