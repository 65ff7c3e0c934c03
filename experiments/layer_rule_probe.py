"""Which PLSCAN layer should the fine level take? Every layer's figures, so rules can be compared.

    python -m experiments.layer_rule_probe [--sets a,b] [--seeds 42,7,0]
    python -m experiments.layer_rule_probe --evaluate

For each labelled set of the granularity study (and a 5,000-contact demo stream with its 104
intents) and each UMAP seed, PLSCAN's persistent layers of ThemeModel's coordinates are listed
with their number of clusters, over-split share (``rca.cluster.density.oversplit_share``), the
number of themes after ThemeModel's merge and noise assignment, and that fit's accuracy against
the fine labels. A layer rule is a function of the label-free columns; the accuracy column says
what each rule would have scored, so candidates are compared on every set and seed at once
without refitting. Rows are appended to ``results/layer_rule_probe.jsonl``. ``--evaluate`` reads
them and prints, for the product's rule at a grid of over-split thresholds, each set's mean
accuracy over the seeds, the layer chosen with the labels (the ceiling of any layer rule), and a
leave-one-set-out choice of the threshold (chosen on the other sets, scored on the held-out one).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from experiments.granularity_study import SETS, _coords, load_set
from rca.cluster.density import MIN_CLUSTER_SIZE_FLOOR, choose_layer, oversplit_share
from rca.cluster.merge import merge_threshold
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores

ROWS = Path(__file__).resolve().parent / "results" / "layer_rule_probe.jsonl"


def fit_fields(model: ThemeModel, scores: dict) -> dict:
    """A fitted candidate's themes, accuracy and unassigned share, as the probes' rows hold them."""
    return {
        "themes": int(model.n_themes_),
        "accuracy": float(scores["accuracy"]),
        "unassigned": float(np.mean(model.labels_ < 0)),
    }


def emit(row: dict, path: Path) -> None:
    """Print ``row`` and append it to ``path`` (JSON lines), so an interrupted probe keeps it."""
    print(json.dumps(row), flush=True)
    with path.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


DEMO = "demo-5000"
SAMPLE = 3000
#: Merge similarities looser than the product's 0.85, for the over-split share at each.
LOOSER_MERGES = (0.70, 0.75, 0.78, 0.80, 0.82)


def demo_set(
    n_contacts: int = 5000, seed: int | None = None
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """The demo stream's texts and true intents (5,000 contacts as in granularity.md; ``seed``
    None = the demo's default)."""
    from experiments.datasets import embed_cached
    from rca.demo import DemoConfig, write_demo
    from rca.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        config = DemoConfig(n_contacts) if seed is None else DemoConfig(n_contacts, seed=seed)
        contacts, truth, _ = write_demo(Path(tmp), Settings().datasets_dir, config)
        frame = pd.read_csv(contacts).merge(pd.read_csv(truth), on="contact_id")
    texts = frame["text"].astype(str).tolist()
    return texts, embed_cached(texts), {"intent": frame["intent"].to_numpy()}


def probe_set(name: str) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """A granularity-study set, or ``demo-N`` (the demo stream of N contacts) or ``demo-N-sS``
    (demo seed S: the test suite's fitted store is ``demo-2500-s1``)."""
    if not name.startswith("demo-"):
        return load_set(name)
    parts = name.split("-")
    seed = int(parts[2].removeprefix("s")) if len(parts) > 2 else None
    return demo_set(int(parts[1]), seed)


def layouts(names: list[str], seeds: list[int]):
    """``(name, seed, X, y, unit, coords)`` for every set and UMAP seed: the vectors, the fine
    labels, the unit rows and the cached UMAP layout the layer probes score."""
    for name in names:
        _, X, levels = probe_set(name)
        y = next(iter(levels.values()))
        unit = _unit_rows(X)
        for seed in seeds:
            yield name, seed, X, y, unit, _coords(name, X, seed)


def scored_layer(
    name: str, seed: int, index: int, dense: np.ndarray, unit: np.ndarray, y: np.ndarray
) -> tuple[ThemeModel, dict]:
    """A layer merged and assigned as ``ThemeModel.fit`` does, and the row fields every layer
    probe writes for it (set, seed, index, clusters, true k, over-split share, accuracy)."""
    model = ThemeModel(random_state=seed)
    model._assign(unit, model._merge(unit, dense))
    row = {
        "set": name,
        "seed": seed,
        "index": index,
        "clusters": int(dense.max() + 1),
        "true_k": int(len(np.unique(y))),
        "share": oversplit_share(unit, dense, merge_threshold(1.0)),
        **fit_fields(model, cluster_scores(y, model.labels_)),
    }
    return model, row


def probe_main(
    description: str, run, evaluate, default_sets: tuple[str, ...], default_seeds: str = "42,7,0"
) -> None:
    """The layer probes' command line: ``--sets``, ``--seeds``, or ``--evaluate`` the rows."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sets", default=",".join(default_sets))
    parser.add_argument("--seeds", default=default_seeds)
    parser.add_argument("--evaluate", action="store_true")
    args = parser.parse_args()
    if args.evaluate:
        evaluate()
        return
    run(args.sets.split(","), [int(s) for s in args.seeds.split(",")])


def layers_of(coords: np.ndarray, with_base: bool = False) -> list[tuple[np.ndarray, float]]:
    """PLSCAN's persistent layers, finest first, exactly as ``plscan_clusters`` sees them (with
    its base layer, the leaves at the floor size, when ``with_base``)."""
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
        (np.asarray(layer, dtype=np.int64), float(score))
        for layer, score in zip(
            clusterer.cluster_layers_, clusterer.layer_persistence_scores_, strict=True
        )
        if with_base or score > 0
    ] or [(np.asarray(clusterer.cluster_layers_[0], dtype=np.int64), 0.0)]


def nearest_centroid_similarity(unit: np.ndarray, dense: np.ndarray) -> float:
    """Median cosine similarity of each cluster's centroid to its nearest other centroid."""
    from rca.cluster.model import label_sums

    k = int(dense.max() + 1)
    if k < 2:
        return float("nan")
    sums = label_sums(unit, dense, k)
    cent = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    sims = cent @ cent.T
    np.fill_diagonal(sims, -1.0)
    return float(np.median(sims.max(axis=1)))


def silhouettes(unit: np.ndarray, coords: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Silhouette of the assigned rows' themes in the UMAP space and in cosine (3,000 rows)."""
    ok = np.flatnonzero(labels >= 0)
    if len(np.unique(labels[ok])) < 2:
        return float("nan"), float("nan")
    pick = np.random.default_rng(0).choice(ok, min(SAMPLE, len(ok)), replace=False)
    return (
        float(silhouette_score(coords[pick], labels[pick])),
        float(silhouette_score(unit[pick], labels[pick], metric="cosine")),
    )


def pick_layer(layers: list[dict], threshold: float, with_validity: bool = False) -> int:
    """``density.choose_layer`` on probe rows at ``threshold``; ``with_validity`` adds the
    separation test (the product since stop 30), otherwise the share alone decides."""
    validity = (lambda i: layers[i].get("validity", np.nan)) if with_validity else None
    shares = [layer["share"] for layer in layers]
    return choose_layer(shares, validity or (lambda _: np.nan), threshold)


def evaluate() -> None:
    """Mean accuracy of the rule per set and threshold, the label ceiling, leave-one-set-out."""
    frame = pd.read_json(ROWS, lines=True).sort_values(["set", "seed", "layer"])
    runs = {key: group.to_dict("records") for key, group in frame.groupby(["set", "seed"])}
    sets = sorted(frame["set"].unique())
    grid = [round(0.03 + 0.01 * i, 2) for i in range(14)]

    def chosen(name: str, threshold: float | None, with_validity: bool = False) -> list[dict]:
        picks = []
        for (set_name, _), layers in runs.items():
            if set_name != name:
                continue
            if threshold is None:  # the best layer, chosen with the labels
                picks.append(max(layers, key=lambda layer: layer["accuracy"]))
            else:
                picks.append(layers[pick_layer(layers, threshold, with_validity)])
        return picks

    def mean_accuracy(name: str, threshold: float | None, with_validity: bool = False) -> float:
        return float(np.mean([p["accuracy"] for p in chosen(name, threshold, with_validity)]))

    def cell(name: str, threshold: float | None, with_validity: bool = False) -> str:
        picks = chosen(name, threshold, with_validity)
        counts = "/".join(str(p["themes"]) for p in picks)
        accs = " / ".join(f"{p['accuracy']:.3f}" for p in picks)
        return f"{counts}: {accs} (mean {np.mean([p['accuracy'] for p in picks]):.3f})"

    print("| set | seeds | share only (stop 28) | share or validity (stop 30, the product) |")
    print("|---|---|---|---|")
    for name in sets:
        seeds = "/".join(str(s) for (n, s) in runs if n == name)
        print(f"| {name} | {seeds} | {cell(name, 0.10)} | {cell(name, 0.10, True)} |")
    print("\nThemes: accuracy per seed. The best layer chosen with the labels:\n")
    print("| set | best layer |")
    print("|---|---|")
    for name in sets:
        print(f"| {name} | {cell(name, None)} |")
    print()

    print("| set | " + " | ".join(f"T={t:.2f}" for t in grid) + " | best layer (labels) |")
    print("|---" * (len(grid) + 2) + "|")
    for name in sets:
        cells = [f"{mean_accuracy(name, t):.3f}" for t in grid]
        print(f"| {name} | " + " | ".join(cells) + f" | {mean_accuracy(name, None):.3f} |")
    print("\n| held-out set | threshold chosen on the others | held-out accuracy | at 0.10 |")
    print("|---|---|---|---|")
    for held in sets:
        others = [s for s in sets if s != held]
        best = max(
            grid, key=lambda t: (np.mean([mean_accuracy(s, t) for s in others]), -abs(t - 0.10))
        )
        print(
            f"| {held} | {best:.2f} | {mean_accuracy(held, best):.3f} | "
            f"{mean_accuracy(held, 0.10):.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join((*SETS, DEMO)))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--evaluate", action="store_true", help="score layer rules on the rows")
    args = parser.parse_args()
    if args.evaluate:
        evaluate()
        return
    threshold = merge_threshold(1.0)
    for name in args.sets.split(","):
        texts, X, levels = demo_set() if name == DEMO else load_set(name)
        y = next(iter(levels.values()))
        unit = _unit_rows(X)
        for seed in (int(s) for s in args.seeds.split(",")):
            coords = _coords(name, X, seed)
            for index, (dense, persistence) in enumerate(layers_of(coords)):
                model = ThemeModel(random_state=seed)
                model._assign(unit, model._merge(unit, dense))
                scores = cluster_scores(y, model.labels_)
                sil_umap, sil_cos = silhouettes(unit, coords, model.labels_)
                row = {
                    "set": name,
                    "seed": seed,
                    "layer": index,
                    "true_k": int(len(np.unique(y))),
                    "clusters": int(dense.max() + 1),
                    "persistence": persistence,
                    "smallest": int(np.bincount(dense[dense >= 0]).min())
                    if dense.max() >= 0
                    else 0,
                    "sil_umap": sil_umap,
                    "sil_cos": sil_cos,
                    "validity": float(model._silhouette(unit)),
                    "noise": float(np.mean(dense < 0)),
                    "share": oversplit_share(unit, dense, threshold),
                    **{f"share_{t:.2f}": oversplit_share(unit, dense, t) for t in LOOSER_MERGES},
                    "nn_similarity": nearest_centroid_similarity(unit, dense),
                    **fit_fields(model, scores),
                }
                emit(row, ROWS)


if __name__ == "__main__":
    main()
