"""Routing with many created themes (reason codes): the batched path against the one-by-one one.

Every taxonomy edit, import and assignment routes all contacts through the created themes
(`rca.cluster.taxonomy.route`). Draws N unit-length vectors (384 dimensions, as
all-MiniLM-L6-v2) around K code centres, makes K created themes with thresholds 0.3-0.6, and
times `route` (one BLAS product per run of created themes, near ties decided again the
elementwise way) against the elementwise replay it replaced, checking that both give the same
answer for every contact. Also times `nearest` (served catalog, assignment) against the
elementwise argmax.

    python -m experiments.bench_route --contacts 115000 --codes 24,100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from rca.cluster.model import cosine_to_centroids, nearest
from rca.cluster.taxonomy import Edit, _replay, curate, route

DIMS = 384


def draw(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, list[Edit]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, DIMS))
    label = rng.integers(0, k, n)
    X = centres[label] * rng.uniform(0.3, 1.2, (n, 1)) + rng.normal(size=(n, DIMS))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    codes = [
        Edit(f"E{j:04d}", "create", f"T{1000 + j:04d}",
             {"label": f"code {j}", "centroid": centres[j].tolist(),
              "threshold": float(rng.choice([0.3, 0.4, 0.5, 0.6]))})
        for j in range(k)
    ]  # fmt: skip
    return X, codes


def _themes() -> pd.DataFrame:
    return pd.DataFrame({
        "theme_id": ["T0001", "T0002"], "label": ["a", "b"], "keywords": [["a"], ["b"]],
        "parent_group": ["g", "g"], "size": [1, 1],
        "centroid": list(np.eye(2, DIMS, dtype=np.float32)),
    })  # fmt: skip


def best_of(runs: int, fn, *args, **kwargs) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - started)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=115_000)
    parser.add_argument("--codes", default="24,100")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| codes | contacts | taken | route now (s) | one by one (s) | same answer |")
    print("|---|---|---|---|---|---|")
    for k in (int(c) for c in args.codes.split(",")):
        X, codes = draw(args.contacts, k)
        view = curate(_themes(), codes, strict=True)
        fitted = np.array(["T0001", "T0002"] * (len(X) // 2) + ["T0001"] * (len(X) % 2),
                          dtype=object)  # fmt: skip
        fast_s, fast = best_of(args.runs, route, fitted, X, view)
        slow_s, slow = best_of(1, _replay, fitted, X, view, fast=False)
        slow = slow[0]
        taken = int(np.sum(fast != fitted))
        print(f"| {k} | {len(X):,} | {taken:,} | {fast_s:.2f} | {slow_s:.2f} | "
              f"{bool(np.array_equal(fast, slow))} |")  # fmt: skip
    print()
    print("| centroids | rows | `nearest` (s) | elementwise argmax (s) | same answer |")
    print("|---|---|---|---|---|")
    X, codes = draw(args.contacts, 100, seed=1)
    unit = X.astype(np.float64)
    C = np.asarray([c.params["centroid"] for c in codes])
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    near_s, (best, score) = best_of(args.runs, nearest, unit, C)
    slow_s, sims = best_of(1, cosine_to_centroids, unit, C)
    same = np.array_equal(best, np.argmax(sims, 1)) and np.array_equal(
        score, sims[np.arange(len(unit)), best]
    )
    print(f"| {len(C)} | {len(unit):,} | {near_s:.2f} | {slow_s:.2f} | {same} |")


if __name__ == "__main__":
    main()
