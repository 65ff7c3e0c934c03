"""Clustering quality study: ThemeModel vs BERTopic defaults vs KMeans told the true k.

    python -m experiments.quality_study            # figures -> experiments/results/quality.*
    python -m experiments.quality_study --tuning   # the grid on the train splits (tuning.md)

All methods cluster the same all-MiniLM-L6-v2 embeddings. Labels are used only for scoring.
ThemeModel runs with its defaults, unchanged, on every data set; the defaults were chosen with
``--tuning`` on Banking77-train and Bitext-train only.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans

from experiments.datasets import LabelledSet, banking77, bitext, embed_set
from rca.cluster import ThemeModel
from rca.cluster import merge as merge_module
from rca.cluster import model as model_module
from rca.cluster.quality import cluster_scores, theme_agreement
from rca.cluster.reduce import reduce

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEED = 42
STABILITY_SEED = 7  # the "other" UMAP seed of the stability refit
KMEANS_INIT = 10
# Rows in the Banking77-train subsample that mirrors the test split's size (3,080) when tuning,
# so the n-dependent rules are checked at both 3k and 10k without touching the test split.
SMALL_SAMPLE = 3080


@dataclass
class Row:
    dataset: str
    method: str
    scores: dict[str, float | int]
    fit_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    labels = fn()
    return labels, time.perf_counter() - start


def _bertopic(texts: list[str], X: np.ndarray) -> np.ndarray:
    from bertopic import BERTopic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topics, _ = BERTopic(embedding_model=None).fit_transform(texts, embeddings=X)
    return np.asarray(topics, dtype=np.int64)


def _kmeans(X: np.ndarray, k: int) -> np.ndarray:
    return KMeans(k, n_init=KMEANS_INIT, random_state=SEED).fit_predict(X)


def _kmeans_umap(X: np.ndarray, k: int) -> np.ndarray:
    """KMeans on the same UMAP coordinates ThemeModel clusters (the strongest reference)."""
    defaults = ThemeModel()
    coords = reduce(X, defaults.n_neighbors, defaults.n_components, SEED)
    return _kmeans(coords, k)


def run_study() -> tuple[list[Row], list[dict[str, Any]]]:
    """Every method on every evaluation set, plus stability refits and a held-out check."""
    b77_test, b77_all = banking77("test"), banking77("all")
    bx_intent, bx_category = bitext("all", "intent"), bitext("all", "category")
    # (fit name, data, label sets scored against the same fit)
    fits: list[tuple[str, LabelledSet, list[tuple[str, LabelledSet]]]] = [
        ("banking77-test", b77_test, [("banking77-test", b77_test)]),
        ("banking77-all", b77_all, [("banking77-all", b77_all)]),
        (
            "bitext-all",
            bx_intent,
            [("bitext-intents", bx_intent), ("bitext-categories", bx_category)],
        ),
    ]
    rows: list[Row] = []
    stability: list[dict[str, Any]] = []
    for fit_name, data, targets in fits:
        X = embed_set(data)
        model = ThemeModel(random_state=SEED).fit(X, data.texts)
        other = ThemeModel(random_state=STABILITY_SEED).fit(X, data.texts)
        stability.append(
            {
                "dataset": fit_name,
                "seeds": [SEED, STABILITY_SEED],
                "agreement": theme_agreement(model.labels_, other.labels_),
                "n_themes": [model.n_themes_, other.n_themes_],
            }
        )
        print(f"{fit_name}: themes {model.n_themes_}, stability {stability[-1]['agreement']:.3f}")
        topics, bt_seconds = _timed(lambda X=X, data=data: _bertopic(data.texts, X))
        for name, target in targets:
            k = target.n_labels
            extra = {
                "fit_seconds_by_stage": model.fit_seconds_,
                "min_cluster_size": model.min_cluster_size_,
                "hdbscan_clusters": model.n_dense_clusters_,
                "hdbscan_noise": model.noise_fraction_,
                "assign_threshold": model.assign_threshold_,
                "validity_silhouette": model.validity_,
            }
            model_scores = cluster_scores(target.labels, model.labels_)
            rows.append(Row(name, "ThemeModel", model_scores, model.fit_seconds_["total"], extra))
            rows.append(
                Row(name, "BERTopic defaults", cluster_scores(target.labels, topics), bt_seconds)
            )
            for method, fn in (
                (f"KMeans true k={k} (UMAP)", _kmeans_umap),
                (f"KMeans true k={k} (raw)", _kmeans),
            ):
                labels, seconds = _timed(lambda fn=fn, X=X, k=k: fn(X, k))
                rows.append(Row(name, method, cluster_scores(target.labels, labels), seconds))
            for row in rows[-4:]:
                s = row.scores
                print(
                    f"  {name:18s} {row.method:26s} k={s['n_themes']:3d} "
                    f"nmi={s['nmi']:.3f} ari={s['ari']:.3f} acc={s['accuracy']:.3f}"
                )

    # Held-out: themes fitted on Banking77-train, test contacts assigned with predict().
    train, X_test = banking77("train"), embed_set(b77_test)
    model = ThemeModel(random_state=SEED).fit(embed_set(train), train.texts)
    held_out = cluster_scores(b77_test.labels, model.predict(X_test))
    rows.append(
        Row("banking77-test", "ThemeModel fit on train, predict", held_out, 0.0, {"held_out": True})
    )
    return rows, stability


def _fmt(row: Row) -> str:
    s = row.scores
    seconds = f"{row.fit_seconds:.1f}" if row.fit_seconds else "–"
    return (
        f"| {row.dataset} | {row.method} | {s['n_themes']} | {s['unassigned_fraction']:.1%} | "
        f"{s['nmi']:.3f} | {s['ari']:.3f} | {s['accuracy']:.3f} | {seconds} |"
    )


def write_results(rows: list[Row], stability: list[dict[str, Any]]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Clustering quality",
        "",
        "Generated by `python -m experiments.quality_study`. Same all-MiniLM-L6-v2 embeddings for"
        " every method; ThemeModel with its defaults (number of themes found automatically,"
        " defaults chosen on the train splits only); BERTopic 0.17 with default settings and"
        " precomputed embeddings; KMeans is *told* the true number of classes. Unassigned rows"
        " (ThemeModel -1, BERTopic outliers) count as wrong for accuracy. Fit seconds on 2 CPU"
        " cores, on a shared machine; the first ThemeModel fit of a process includes ~6 s of"
        " numba compilation.",
        "",
        "| dataset | method | n_themes | unassigned | NMI | ARI | accuracy | fit seconds |",
        "|---|---|---|---|---|---|---|---|",
        *[_fmt(row) for row in rows],
        "",
        "## Stability (ThemeModel refit with another UMAP seed)",
        "",
        "Share of contacts whose theme maps to the same theme after refitting with",
        f"`random_state={STABILITY_SEED}` instead of {SEED} (themes matched one-to-one by"
        " overlap).",
        "",
        "| dataset | agreement | n_themes (seed 42 / 7) |",
        "|---|---|---|",
        *[
            f"| {s['dataset']} | {s['agreement']:.3f} | {s['n_themes'][0]} / {s['n_themes'][1]} |"
            for s in stability
        ],
        "",
    ]
    (RESULTS_DIR / "quality.md").write_text("\n".join(lines))
    payload = {
        "rows": [row.__dict__ for row in rows],
        "stability": stability,
    }
    (RESULTS_DIR / "quality.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")


# --- tuning on the train splits -------------------------------------------------------------


@contextmanager
def _memoised_umap() -> Iterator[None]:
    """UMAP does not depend on the parameters tuned here, so compute it once per data and seed."""
    cache: dict[tuple[int, int, int, int, int], np.ndarray] = {}
    original = model_module.reduce

    def cached(X: np.ndarray, n_neighbors: int, n_components: int, seed: int) -> np.ndarray:
        key = (len(X), hash(X[:50].tobytes()), n_neighbors, n_components, seed)
        if key not in cache:
            cache[key] = original(X, n_neighbors, n_components, seed)
        return cache[key]

    model_module.reduce = cached
    try:
        yield
    finally:
        model_module.reduce = original


def _tuning_sets() -> list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]:
    train = banking77("train")
    X = embed_set(train)
    rng = np.random.default_rng(0)
    small = np.sort(rng.choice(len(X), SMALL_SAMPLE, replace=False))
    bx_i, bx_c = bitext("train", "intent"), bitext("train", "category")
    return [
        ("b77-train-3k", X[small], [("b77-train-3k", train.labels[small])]),
        ("b77-train", X, [("b77-train", train.labels)]),
        (
            "bitext-train",
            embed_set(bx_i),
            [("bx-intent", bx_i.labels), ("bx-category", bx_c.labels)],
        ),
    ]


def run_tuning() -> None:
    """Grid over minimum-size divisor, merge similarity and min_samples, two UMAP seeds each."""
    sets = _tuning_sets()
    grid = [
        (divisor, merge, min_samples)
        for divisor in (300, 200, 150, 100)
        for merge in (1.0, 0.9, 0.85, 0.8)
        for min_samples in (5, None)
    ]
    print("divisor merge min_samples | per set: k nmi/ari/acc (mean of seeds) | stability")
    default_merge = merge_module.MERGE_SIMILARITY
    with _memoised_umap():
        for divisor, merge, min_samples in grid:
            merge_module.MERGE_SIMILARITY = merge
            line = f"n/{divisor} merge={merge} ms={min_samples}"
            means = []
            for _, X, targets in sets:
                size = max(10, round(len(X) / divisor))
                fits = [
                    ThemeModel(
                        min_cluster_size=size, min_samples=min_samples, random_state=seed
                    ).fit(X)
                    for seed in (SEED, STABILITY_SEED)
                ]
                stab = theme_agreement(fits[0].labels_, fits[1].labels_)
                for name, y in targets:
                    s = [cluster_scores(y, f.labels_) for f in fits]
                    nmi, ari, acc = (
                        float(np.mean([d[m] for d in s])) for m in ("nmi", "ari", "accuracy")
                    )
                    means.append((nmi, ari, acc))
                    line += f" | {name} k={s[0]['n_themes']} {nmi:.3f}/{ari:.3f}/{acc:.3f}"
                line += f" stab={stab:.3f}"
            m = np.mean(means, axis=0)
            print(f"{line} || mean {m[0]:.3f}/{m[1]:.3f}/{m[2]:.3f}", flush=True)
    merge_module.MERGE_SIMILARITY = default_merge
    print("\ngranularity (defaults otherwise) | per set: k nmi/ari/acc, seed 42")
    with _memoised_umap():
        for granularity in (0.5, 1.0, 2.0):
            line = f"granularity={granularity}"
            for _, X, targets in sets:
                fit = ThemeModel(granularity=granularity, random_state=SEED).fit(X)
                for name, y in targets:
                    s = cluster_scores(y, fit.labels_)
                    line += (
                        f" | {name} k={s['n_themes']} un={s['unassigned_fraction']:.3f} "
                        f"{s['nmi']:.3f}/{s['ari']:.3f}/{s['accuracy']:.3f}"
                    )
            print(line, flush=True)


def log_to_mlflow(rows: list[dict[str, Any]], home: Path) -> list[str]:
    """One run per (dataset, method) in MLflow's `rca-evaluate` experiment under `home`."""
    from rca.jobs.tracking import log_evaluation
    from rca.settings import Settings

    settings = Settings(home=home)
    return [
        log_evaluation(
            settings,
            params={"input": f"quality_study/{r['dataset']}", "dataset": r["dataset"],
                    "method": r["method"], "seed": SEED},
            metrics={k: float(v) for k, v in r["scores"].items()}
            | {"fit_seconds": float(r["fit_seconds"])},
        )
        for r in rows
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", action="store_true", help="run the train-split grid instead")
    parser.add_argument("--home", type=Path, default=Path(".rca"), help="MLflow store's RCA_HOME")
    parser.add_argument(
        "--log-existing", action="store_true", help="only log results/quality.json to MLflow"
    )
    args = parser.parse_args()
    if args.tuning:
        run_tuning()
        return
    if not args.log_existing:
        rows, stability = run_study()
        write_results(rows, stability)
        print(f"wrote {RESULTS_DIR / 'quality.md'}")
    saved = json.loads((RESULTS_DIR / "quality.json").read_text())
    runs = log_to_mlflow(saved["rows"], args.home)
    print(f"logged {len(runs)} runs to MLflow under {args.home}")


if __name__ == "__main__":
    main()
