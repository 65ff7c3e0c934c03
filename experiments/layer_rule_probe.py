"""Which PLSCAN layer should the fine level take? Every layer's figures, so rules can be compared.

    python -m experiments.layer_rule_probe [--sets a,b] [--seeds 42,7,0]

For each labelled set of the granularity study (and a 5,000-contact demo stream with its 104
intents) and each UMAP seed, PLSCAN's persistent layers of ThemeModel's coordinates are listed
with their number of clusters, over-split share (``rca.cluster.density.oversplit_share``), the
number of themes after ThemeModel's merge and noise assignment, and that fit's accuracy against
the fine labels. A layer rule is a function of the label-free columns; the accuracy column says
what each rule would have scored, so candidates are compared on every set and seed at once
without refitting. Rows are appended to ``results/layer_rule_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.granularity_study import SETS, _coords, load_set
from rca.cluster.density import MIN_CLUSTER_SIZE_FLOOR, oversplit_share
from rca.cluster.merge import merge_threshold
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores

ROWS = Path(__file__).resolve().parent / "results" / "layer_rule_probe.jsonl"
DEMO = "demo-5000"


def demo_set() -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """The demo stream's texts and true intents (5,000 contacts, as in granularity.md)."""
    from experiments.datasets import embed_cached
    from rca.demo import DemoConfig, write_demo

    with tempfile.TemporaryDirectory() as tmp:
        contacts, truth, _ = write_demo(Path(tmp), Path(tmp) / "datasets", DemoConfig(5000))
        frame = pd.read_csv(contacts).merge(pd.read_csv(truth), on="contact_id")
    texts = frame["text"].astype(str).tolist()
    return texts, embed_cached(texts), {"intent": frame["intent"].to_numpy()}


def layers_of(coords: np.ndarray) -> list[np.ndarray]:
    """PLSCAN's persistent layers, finest first, exactly as ``plscan_clusters`` sees them."""
    import fast_hdbscan
    import numba

    n = len(coords)
    floor = max(2, min(MIN_CLUSTER_SIZE_FLOOR, n // 2))
    samples = max(1, min(int(ThemeModel().min_samples or floor), n - 1))
    numba.set_num_threads(1)
    clusterer = fast_hdbscan.PLSCAN(min_samples=samples, base_min_cluster_size=floor).fit(
        np.asarray(coords, dtype=np.float64)
    )
    return [
        np.asarray(layer, dtype=np.int64)
        for layer, score in zip(
            clusterer.cluster_layers_, clusterer.layer_persistence_scores_, strict=True
        )
        if score > 0
    ] or [np.asarray(clusterer.cluster_layers_[0], dtype=np.int64)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join((*SETS, DEMO)))
    parser.add_argument("--seeds", default="42,7,0")
    args = parser.parse_args()
    threshold = merge_threshold(1.0)
    for name in args.sets.split(","):
        texts, X, levels = demo_set() if name == DEMO else load_set(name)
        y = next(iter(levels.values()))
        unit = _unit_rows(X)
        for seed in (int(s) for s in args.seeds.split(",")):
            coords = _coords(name, X, seed)
            for index, dense in enumerate(layers_of(coords)):
                model = ThemeModel(random_state=seed)
                model._assign(unit, model._merge(unit, dense))
                scores = cluster_scores(y, model.labels_)
                row = {
                    "set": name,
                    "seed": seed,
                    "layer": index,
                    "true_k": int(len(np.unique(y))),
                    "clusters": int(dense.max() + 1),
                    "noise": float(np.mean(dense < 0)),
                    "share": oversplit_share(unit, dense, threshold),
                    "themes": int(model.n_themes_),
                    "accuracy": float(scores["accuracy"]),
                    "unassigned": float(np.mean(model.labels_ < 0)),
                }
                print(json.dumps(row), flush=True)
                with ROWS.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
