"""Cuts between PLSCAN's layers: does the fine level gain from sizes PLSCAN's peaks skip?

    python -m experiments.between_layers_probe [--sets a,b] [--seeds 42,7,0] [--per-gap 2]
    python -m experiments.between_layers_probe --evaluate

PLSCAN keeps as layers only the smallest theme sizes where the total persistence peaks. On some
draws of the vectors no layer is near the true number of themes (Bitext seed 7: 107, 54 and 16
clusters for 27 intents; granularity.md, stop 49), so no rule over layers can find it. Here each
gap between adjacent layers gets ``--per-gap`` extra candidates: the condensed tree's leaves at
smallest sizes spaced geometrically between the two layers' smallest clusters (the cut a refit
already uses to reproduce a layer, ``density_clusters(selection="leaf")``). Every candidate is
merged, assigned and scored as ``ThemeModel.fit`` does (over-split share, cosine silhouette with
its standard error, themes, accuracy against the fine labels). ``--evaluate`` applies the
product's rule (``density.choose_layer``) to the layers alone and to layers with the cuts
between, per set and seed. Rows go to ``results/between_layers_probe.jsonl``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.layer_rule_probe import emit, fit_fields, layers_of, layouts
from rca.cluster.density import (
    MIN_CLUSTER_SIZE_FLOOR,
    Separation,
    choose_layer,
    density_clusters,
    oversplit_share,
)
from rca.cluster.merge import merge_threshold
from rca.cluster.model import ThemeModel
from rca.cluster.quality import cluster_scores

ROWS = Path(__file__).resolve().parent / "results" / "between_layers_probe.jsonl"
DEFAULT_SETS = (
    "banking77-test",
    "bitext",
    "hwu64",
    "cfpb",
    "banking77-all-30pc",
    "hwu64-30pc",
    "banking77+hwu64-30pc",
)


def smallest(dense: np.ndarray) -> int:
    """Smallest dense cluster's size (0 when all noise)."""
    kept = dense[dense >= 0]
    return int(np.bincount(kept).min()) if len(kept) else 0


def between_sizes(finer: int, coarser: int, per_gap: int) -> list[int]:
    """``per_gap`` smallest theme sizes spaced geometrically strictly between two layers'."""
    if coarser <= finer + 1:
        return []
    steps = np.geomspace(finer, coarser, per_gap + 2)[1:-1]
    return sorted({int(round(s)) for s in steps if finer < round(s) < coarser})


def candidates(coords: np.ndarray, per_gap: int) -> list[dict]:
    """PLSCAN's layers and the leaf cuts between them, finest first (by number of clusters)."""
    n = len(coords)
    floor = max(2, min(MIN_CLUSTER_SIZE_FLOOR, n // 2))
    samples = max(1, min(int(ThemeModel().min_samples or floor), n - 1))
    layers = layers_of(coords)
    found = [
        {"kind": "layer", "size": smallest(dense), "dense": dense, "persistence": p}
        for dense, p in layers
    ]
    sizes = [c["size"] for c in found]
    for finer, coarser in zip(sizes, sizes[1:], strict=False):
        for size in between_sizes(finer, coarser, per_gap):
            dense = density_clusters(coords, size, samples, "leaf")
            found.append({"kind": "between", "size": size, "dense": dense, "persistence": 0.0})
    for c in found:
        c["clusters"] = int(c["dense"].max() + 1)
    found.sort(key=lambda c: (-c["clusters"], c["kind"] != "layer"))
    unique, seen = [], set()
    for c in found:  # a cut that repeats a layer's cluster count adds nothing
        if c["clusters"] in seen or c["clusters"] < 1:
            continue
        seen.add(c["clusters"])
        unique.append(c)
    return unique


def run(names: list[str], seeds: list[int], per_gap: int) -> None:
    threshold = merge_threshold(1.0)
    for name, seed, _X, y, unit, coords in layouts(names, seeds):
        for index, c in enumerate(candidates(coords, per_gap)):
            model = ThemeModel(random_state=seed)
            model._assign(unit, model._merge(unit, c["dense"]))
            sep = model._separation(unit)
            scores = cluster_scores(y, model.labels_)
            row = {
                "set": name,
                "seed": seed,
                "per_gap": per_gap,
                "index": index,
                "kind": c["kind"],
                "size": c["size"],
                "clusters": c["clusters"],
                "true_k": int(len(np.unique(y))),
                "share": oversplit_share(unit, c["dense"], threshold),
                "validity": sep.mean,
                "validity_se": sep.se,
                **fit_fields(model, scores),
            }
            emit(row, ROWS)


def pick(rows: list[dict]) -> dict:
    """The row ``density.choose_layer`` keeps among ``rows`` (finest first)."""
    shares = [r["share"] for r in rows]
    index = choose_layer(shares, lambda i: Separation(rows[i]["validity"], rows[i]["validity_se"]))
    return rows[index]


def evaluate() -> None:
    frame = pd.read_json(ROWS, lines=True)
    frame = frame.drop_duplicates(["set", "seed", "per_gap", "clusters"], keep="last")
    print("| set (true k) | seed | layers | layers: rule | with cuts between: rule | best |")
    print("|---|---|---|---|---|---|")
    means: dict[str, list[tuple[float, float, float]]] = {}
    for (name, seed, _), group in frame.groupby(["set", "seed", "per_gap"], sort=False):
        rows = group.sort_values(["clusters"], ascending=False).to_dict("records")
        layers = [r for r in rows if r["kind"] == "layer"]
        a, b = pick(layers), pick(rows)
        best = max(rows, key=lambda r: r["accuracy"])
        listing = ", ".join(f"{r['themes']}" for r in layers)
        print(
            f"| {name} ({rows[0]['true_k']}) | {seed} | {listing} | "
            f"{a['themes']}: {a['accuracy']:.3f} | {b['themes']} ({b['kind']}): "
            f"{b['accuracy']:.3f} | {best['themes']}: {best['accuracy']:.3f} |"
        )
        means.setdefault(name, []).append((a["accuracy"], b["accuracy"], best["accuracy"]))
    print("\n| set | layers: mean | with cuts between: mean | best: mean |")
    print("|---|---|---|---|")
    for name, values in means.items():
        a, b, c = np.mean(values, axis=0)
        print(f"| {name} | {a:.3f} | {b:.3f} | {c:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--per-gap", type=int, default=2)
    parser.add_argument("--evaluate", action="store_true")
    args = parser.parse_args()
    if args.evaluate:
        evaluate()
        return
    run(args.sets.split(","), [int(s) for s in args.seeds.split(",")], args.per_gap)


if __name__ == "__main__":
    main()
