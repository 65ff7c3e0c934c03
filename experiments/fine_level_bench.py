"""Cost of the fine level's density step at the 100,000-contact fit (issue #19).

    python -m experiments.fine_level_bench [--repeats 3]

`rca fit` on 100,000 demo contacts fits UMAP + the density step on a week-stratified sample of
``RCA_FIT_MAX_SAMPLES`` (25,000) contacts; only the density step differs between the minimum
size n/150 and a candidate such as ``min_cluster_size="plscan"``. This builds that sample from
the 100,000-contact demo stream (same seed as ``rca demo``), embeds it with the product's model
(cached), reduces it with ThemeModel's UMAP settings (seed 42, cached), then times each density
step in a fresh process, alternating, so each run pays what a fresh ``rca fit`` pays (the
library import and numba's on-disk compiled cache included) under the same machine load.
Prints one row per run and the median per method. "n/150, 4 jobs (before)" is the density
step as it was before ``density.CORE_DIST_JOBS``: HDBSCAN's default ``core_dist_n_jobs=4``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONTACTS = 100_000
COORDS = Path("/tmp/rca-emb/coords") / f"demo-{CONTACTS}-fitsample-42.npy"
UNIT = COORDS.with_name(f"demo-{CONTACTS}-fitsample-unit.npy")
METHODS = ("n/150, 4 jobs (before)", "n/150", "plscan")


def build() -> None:
    """The fit sample's unit vectors and UMAP coordinates, as ``rca fit`` would compute them."""
    import pandas as pd

    from experiments.datasets import embed_cached
    from rca.cluster.model import ThemeModel, _unit_rows
    from rca.cluster.reduce import reduce
    from rca.cluster.sample import stratified_sample
    from rca.demo import DemoConfig, write_demo
    from rca.settings import Settings

    if COORDS.exists() and UNIT.exists():
        return
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        csv, _, _ = write_demo(Path(tmp), settings.datasets_dir, DemoConfig(CONTACTS))
        frame = pd.read_csv(csv)
    weeks = pd.to_datetime(frame["created_at"], utc=True).dt.strftime("%G-W%V").to_numpy()
    rows = stratified_sample(weeks, len(frame), int(settings.fit_max_samples or CONTACTS), 42)
    texts = frame["text"].astype(str).to_numpy()[rows]
    distinct, inverse = np.unique(texts, return_inverse=True)
    unit = _unit_rows(embed_cached(distinct.tolist())[inverse])
    d = ThemeModel()
    coords = reduce(unit.astype(np.float32), d.n_neighbors, d.n_components, 42)
    COORDS.parent.mkdir(parents=True, exist_ok=True)
    np.save(UNIT, unit)
    np.save(COORDS, coords)


def one(method: str) -> dict[str, float]:
    """The density step alone, in this (fresh) process: import, first call, second call."""
    from rca.cluster.density import default_min_cluster_size
    from rca.cluster.merge import MERGE_SIMILARITY

    coords, unit = np.load(COORDS), np.load(UNIT)
    started = time.perf_counter()
    if method == "plscan":
        import fast_hdbscan  # noqa: F401

        from rca.cluster.density import plscan_clusters

        def step() -> np.ndarray:
            return plscan_clusters(coords, unit, 5, MERGE_SIMILARITY)
    elif method == "n/150":
        import hdbscan  # noqa: F401

        from rca.cluster.density import density_clusters

        size = default_min_cluster_size(len(coords))

        def step() -> np.ndarray:
            return density_clusters(coords, size, 5)
    else:  # before CORE_DIST_JOBS: hdbscan's default core_dist_n_jobs (joblib workers)
        import hdbscan

        size = default_min_cluster_size(len(coords))

        def step() -> np.ndarray:
            clusterer = hdbscan.HDBSCAN(
                min_cluster_size=size, min_samples=5, cluster_selection_method="eom"
            )
            return np.asarray(clusterer.fit_predict(coords), dtype=np.int64)

    imported = time.perf_counter()
    dense = step()
    first = time.perf_counter()
    step()
    second = time.perf_counter()
    return {
        "import_s": imported - started,
        "first_s": first - imported,
        "second_s": second - first,
        "dense_clusters": int(dense.max() + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    build()
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    for repeat in range(args.repeats):
        for method in METHODS:
            out = subprocess.run(
                [sys.executable, "-m", "experiments.fine_level_bench", "--one", method],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["load"] = os.getloadavg()[0]
            runs[method].append(row)
            print(repeat, method, row, flush=True)
    for method, rows in runs.items():
        med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
        print(
            f"{method}: import {med['import_s']:.2f} s, first call {med['first_s']:.2f} s, "
            f"second call {med['second_s']:.2f} s, {med['dense_clusters']:.0f} dense clusters "
            f"(median of {len(rows)}; load {med['load']:.1f})"
        )


if __name__ == "__main__":
    main()
