"""Would splitting a theme whose halves are as distinct as themes are take the collapse out?

    python -m experiments.split_probe [--sets ...] [--seeds 42,7,0] [--engine kmeans,umap]
    python -m experiments.split_probe --halves [--sets ...]   # one row per theme, no refit

The set-and-seed pairs under issue #19's fine-level bar are mostly under-split: PLSCAN's finest
persistent layer already joins intents the layout put side by side (HWU64-30pc seed 0: 37
clusters for 64 intents; the 141 x 30 set: 100-128; Bitext seed 7: 16 for 27; see
layer_rule_probe.jsonl), so no choice among layers can separate them, and votes over runs
(consensus_probe) only side with the runs. This asks each theme instead: cut it in two
(2-means of its unit vectors, or HDBSCAN of its own UMAP coordinates) and keep the cut when the
two parts are at least as well separated as the fit's themes are from one another (the cut's
cosine silhouette on the theme's rows >= the fit's ``validity_``), each part holds at least the
product's smallest theme (10) and their centroids stay under the merge threshold (the merge
would join them back otherwise). Parts are cut again the same way. No labels are read, and the
bar each theme must clear is the fit's own separation, so the rule carries no tuned number.
Then the product's assignment (``ThemeModel._assign``) on the new cores. Figures only.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from experiments.epochs_probe import EXTRA_BARS, coords
from experiments.granularity_study import _fit_on_coords, load_set
from experiments.seed_choice_probe import BARS, MAX_UNASSIGNED
from rca.cluster.density import MIN_CLUSTER_SIZE_FLOOR
from rca.cluster.merge import merge_threshold
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores

SAMPLE = 2000  # silhouette rows per cut, as the fit's own validity sample


def _halves(unit: np.ndarray, xy: np.ndarray, engine: str) -> np.ndarray | None:
    """Two-way labels of one theme's rows (0/1; -1 = left to the assignment), or None."""
    if engine == "kmeans":
        return KMeans(2, n_init=4, random_state=0).fit_predict(unit)
    import hdbscan

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        lab = hdbscan.HDBSCAN(
            min_cluster_size=MIN_CLUSTER_SIZE_FLOOR, cluster_selection_method="eom",
            core_dist_n_jobs=1,
        ).fit_predict(xy)  # fmt: skip
    if lab.max() < 1:
        return None
    # The two largest dense parts; the rest is left to the assignment.
    big = np.argsort(-np.bincount(lab[lab >= 0]))[:2]
    return np.select([lab == big[0], lab == big[1]], [0, 1], -1)


def split_theme(
    unit: np.ndarray, xy: np.ndarray, bar: float, merge_at: float, engine: str, depth: int = 0
) -> np.ndarray:
    """Labels 0..m-1 of one theme's rows after recursive accepted cuts (-1 = assignment)."""
    n = len(unit)
    out = np.zeros(n, dtype=np.int64)
    if n < 2 * MIN_CLUSTER_SIZE_FLOOR or depth >= 6:
        return out
    half = _halves(unit, xy, engine)
    if half is None:
        return out
    sizes = np.array([np.sum(half == 0), np.sum(half == 1)])
    if sizes.min() < MIN_CLUSTER_SIZE_FLOOR:
        return out
    c = np.stack([unit[half == h].mean(axis=0) for h in (0, 1)])
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    if float(c[0] @ c[1]) >= merge_at:
        return out
    rows = np.flatnonzero(half >= 0)
    pick = rows if len(rows) <= SAMPLE else np.random.default_rng(0).choice(rows, SAMPLE, False)
    sil = float(silhouette_score(unit[pick], half[pick], metric="cosine"))
    if not sil >= bar:
        return out
    out[:] = -1
    top = 0
    for h in (0, 1):
        part = np.flatnonzero(half == h)
        sub = split_theme(unit[part], xy[part], bar, merge_at, engine, depth + 1)
        out[part] = np.where(sub >= 0, sub + top, -1)
        top += int(sub.max()) + 1
    return out


def split_fit(model: ThemeModel, unit: np.ndarray, xy: np.ndarray, engine: str) -> ThemeModel:
    """The fit with every theme cut as ``split_theme`` accepts, then assigned as the product."""
    bar = float(model.validity_)
    merge_at = merge_threshold(model.granularity)
    dense = np.full(len(unit), -1, dtype=np.int64)
    top = 0
    for t in range(model.n_themes_):
        rows = np.flatnonzero(model.labels_ == t)
        if not len(rows):
            continue
        sub = split_theme(unit[rows], xy[rows], bar, merge_at, engine)
        dense[rows] = np.where(sub >= 0, sub + top, -1)
        top += int(sub.max()) + 1
    trial = ThemeModel(**model.get_params())
    trial._assign(unit, dense)
    return trial


def halves_rows(name: str, seed: int, model: ThemeModel, unit: np.ndarray, y: np.ndarray):
    """Per theme of 20+ rows: its 2-means halves' centroid cosine and silhouette, its centroid's
    nearest other theme (cosine), and its two largest gold classes' shares (a theme whose second
    class holds 30 % or more joins two intents; one whose first holds 80 % is pure)."""
    cents = model.centroids_ @ model.centroids_.T
    np.fill_diagonal(cents, -1.0)
    for t in range(model.n_themes_):
        rows = np.flatnonzero(model.labels_ == t)
        if len(rows) < 2 * MIN_CLUSTER_SIZE_FLOOR:
            continue
        half = _halves(unit[rows], unit[rows], "kmeans")
        c = np.stack([unit[rows][half == h].mean(axis=0) for h in (0, 1)])
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        shares = np.sort(np.unique(y[rows], return_counts=True)[1])[::-1] / len(rows)
        yield {
            "set": name, "seed": seed, "theme": t, "n": len(rows),
            "half_cos": float(c[0] @ c[1]),
            "silhouette": float(silhouette_score(unit[rows], half, metric="cosine")),
            "nearest_theme": float(cents[t].max()), "first": float(shares[0]),
            "second": float(shares[1]) if len(shares) > 1 else 0.0,
        }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(BARS))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--engine", default="kmeans,umap")
    parser.add_argument("--halves", action="store_true", help="per-theme rows only")
    args = parser.parse_args()
    if args.halves:
        for name in args.sets.split(","):
            _, X, levels = load_set(name)
            y = np.asarray(next(iter(levels.values())))
            for seed in (int(s) for s in args.seeds.split(",")):
                model = _fit_on_coords(X, coords(name, X, seed, 0)[0], min_cluster_size="plscan")
                for row in halves_rows(name, seed, model, _unit_rows(X), y):
                    print(json.dumps(row), flush=True)
        return
    engines = args.engine.split(",")
    met = {k: 0 for k in ("one", *engines)}
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        bar = {**BARS, **EXTRA_BARS}[name]
        unit = _unit_rows(X)
        for seed in (int(s) for s in args.seeds.split(",")):
            xy, _ = coords(name, X, seed, 0)
            model = _fit_on_coords(X, xy, min_cluster_size="plscan")
            row = {"set": name, "seed": seed, "bar": bar, "validity": model.validity_}
            fits = {"one": model} | {e: split_fit(model, unit, xy, e) for e in engines}
            for kind, fit in fits.items():
                s = cluster_scores(y, fit.labels_)
                ok = s["accuracy"] >= bar and s["unassigned_fraction"] <= MAX_UNASSIGNED
                met[kind] += ok
                row[kind] = {
                    "themes": int(fit.n_themes_), "accuracy": round(s["accuracy"], 4),
                    "unassigned": round(s["unassigned_fraction"], 4), "met": bool(ok),
                }  # fmt: skip
            print(json.dumps(row), flush=True)
    print(json.dumps({"met": met}), flush=True)


if __name__ == "__main__":
    main()
