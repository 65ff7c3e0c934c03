"""Granularity study: does the number of themes generalise across labelled sets?

    python -m experiments.granularity_study [--sets a,b] [--methods m1,m2] [--labels]

One protocol on every set: the same all-MiniLM-L6-v2 vectors; ThemeModel (today's n/150 size
rule; candidates that pick the minimum theme size by the themes' silhouette in the UMAP space or
by the condensed tree's persistence; ``evoclayer``: EVoC's most persistent cluster layer with
ThemeModel's merge and noise assignment on top; ``plscan``: PLSCAN's persistent layers of the
same UMAP coordinates, finest not over-split, ``plscanbase`` with PLSCAN's base layer a candidate
too), KMeans told the true k (UMAP and raw vectors),
EVoC and BERTopic defaults. Unassigned rows count as wrong for accuracy. Each row is appended to
``results/granularity.jsonl`` as soon as it is measured (the machine is shared and slow), and
``results/granularity.md`` is rendered from every row there. ``--labels`` scores theme names
(``label_score``) instead. ``--grid`` fits every size of ``GRID_SIZES`` on each set and records
the label-free criteria a size could be chosen by beside the accuracy each size reaches
(``results/granularity_grid.jsonl``), to see whether any criterion picks the right size on
every set, and how far the best size on the grid (chosen with the labels) gets.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from experiments.datasets import (
    CACHE_DIR,
    banking77,
    bitext,
    cfpb,
    embed_cached,
    hwu64,
    vectors_digest,
)
from rca.cluster import hierarchy
from rca.cluster.hierarchy import auto_n_groups, parent_groups
from rca.cluster.merge import merge_threshold
from rca.cluster.model import ThemeModel, _unit_rows
from rca.cluster.quality import cluster_scores
from rca.cluster.reduce import reduce

#: ThemeModel(min_cluster_size="plscan"): PLSCAN's layers of the same UMAP coordinates.
PLSCAN_METHOD = "ThemeModel plscan (PLSCAN persistent layers of UMAP, finest not over-split)"
PLSCAN_BASE_METHOD = "ThemeModel plscan + base layer (PLSCAN layers of UMAP, finest not over-split)"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROWS_PATH = RESULTS_DIR / "granularity.jsonl"
COORDS_DIR = Path("/tmp/rca-emb/coords")
SEED = 42
PER_CLASS = 30
# Candidate minimum theme sizes for the silhouette-chosen granularity.
SIZE_GRID = (8, 10, 15, 20, 30, 45, 60, 90, 135)
SILHOUETTE_SAMPLE = 3000
#: Label levels the parent groups are scored against (coarser than the first, fine level).
COARSE = ("category", "scenario", "sub-product")


def _per_class_rows(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in sorted(np.unique(labels).tolist()):
        idx = np.flatnonzero(labels == label)
        if len(idx) >= n:
            keep.extend(rng.choice(idx, n, replace=False).tolist())
    return np.sort(np.asarray(keep))


def product_vectors(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """``texts`` as ``rca evaluate`` reads them: redacted, normalised and embedded by the
    product's encoder (``RCA_EMBED_BACKEND``'s default, bf16 here), cached under
    ``RCA_EMB_CACHE``. The study's own vectors are the raw texts through sentence-transformers
    in float32: another draw of the same sets, on which the layer rule can land elsewhere."""
    from rca.jobs.evaluate import embed_with_file_cache
    from rca.settings import Settings
    from rca.text.normalise import normalise_series
    from rca.text.redact import redact_series

    settings = Settings(home=CACHE_DIR / "product-home")
    series = pd.Series(list(texts), dtype=str)
    read = normalise_series(redact_series(series, min_digit_run=settings.redact_min_digit_run))
    read = read.tolist()
    return read, embed_with_file_cache(settings, read)[0]


def load_set(name: str) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Texts, vectors and the label levels of one evaluation set (first level = fine); a name
    ending in ``@product`` is the same set read and embedded as ``rca evaluate`` does
    (:func:`product_vectors`)."""
    if name.endswith("@product"):
        texts, _, levels = load_set(name.removesuffix("@product"))
        read, vectors = product_vectors(texts)
        return read, vectors, levels
    if name == "banking77-test":
        ds = banking77("test")
        return ds.texts, embed_cached(ds.texts), {"intent": ds.labels}
    if name == "banking77-all":
        ds = banking77("all")
        return ds.texts, embed_cached(ds.texts), {"intent": ds.labels}
    if name == "bitext":
        ds, cat = bitext("all", "intent"), bitext("all", "category")
        return ds.texts, embed_cached(ds.texts), {"intent": ds.labels, "category": cat.labels}
    if name == "hwu64":
        ds, sc = hwu64("intent"), hwu64("scenario")
        return ds.texts, embed_cached(ds.texts), {"intent": ds.labels, "scenario": sc.labels}
    if name == "cfpb":  # 24 issues; 5 sub-products as the coarse level (not a tree of issues)
        ds, sub = cfpb("Issue"), cfpb("Sub-product")
        return ds.texts, embed_cached(ds.texts), {"issue": ds.labels, "sub-product": sub.labels}
    if name.endswith(f"-{PER_CLASS}pc"):
        base = name.removesuffix(f"-{PER_CLASS}pc")
        if base == "banking77+hwu64":  # 141 intents x 30: the shape of a 150 x 30 intent set
            parts = [load_set("banking77-all"), load_set("hwu64")]
        else:
            parts = [load_set(base)]
        texts: list[str] = []
        vecs, fine = [], []
        for t, X, levels in parts:
            y = next(iter(levels.values()))
            rows = _per_class_rows(y, PER_CLASS)
            texts += [t[i] for i in rows]
            vecs.append(X[rows])
            fine.append(y[rows])
        return texts, np.vstack(vecs), {"intent": np.concatenate(fine)}
    raise ValueError(f"unknown set {name!r}")


SETS = (
    "banking77-test",
    "bitext",
    "hwu64",
    "banking77-all-30pc",
    "hwu64-30pc",
    "banking77+hwu64-30pc",
    "banking77-all",
    "cfpb",
)


def _coords(name: str, X: np.ndarray, seed: int = SEED) -> np.ndarray:
    """UMAP coordinates with ThemeModel's settings, cached (the slowest step on this machine)."""
    COORDS_DIR.mkdir(parents=True, exist_ok=True)
    path = COORDS_DIR / f"{name}-{len(X)}-{vectors_digest(X)}-{seed}.npy"
    if path.exists():
        return np.load(path)
    d = ThemeModel()
    coords = reduce(_unit_rows(X).astype(np.float32), d.n_neighbors, d.n_components, seed)
    np.save(path, coords)
    return coords


def _fit_on_coords(X: np.ndarray, coords: np.ndarray, **params: Any) -> ThemeModel:
    """ThemeModel.fit with the UMAP step replaced by the cached coordinates."""
    import rca.cluster.model as model_module

    original = model_module.reduce
    model_module.reduce = lambda *_a, **_k: coords
    try:
        return ThemeModel(random_state=SEED, **params).fit(X)
    finally:
        model_module.reduce = original


def silhouette_chosen(X: np.ndarray, coords: np.ndarray) -> tuple[ThemeModel, int]:
    """The candidate: the minimum size on SIZE_GRID whose themes have the best silhouette in
    the UMAP space (where density was judged), labels never seen."""
    rng = np.random.default_rng(0)
    best: tuple[float, ThemeModel, int] | None = None
    for size in SIZE_GRID:
        if size * 2 > len(X):
            break
        model = _fit_on_coords(X, coords, min_cluster_size=size)
        ok = np.flatnonzero(model.labels_ >= 0)
        if len(np.unique(model.labels_[ok])) < 2:
            continue
        pick = rng.choice(ok, min(SILHOUETTE_SAMPLE, len(ok)), replace=False)
        score = float(silhouette_score(coords[pick], model.labels_[pick]))
        if best is None or score > best[0]:
            best = (score, model, size)
    assert best is not None
    return best[1], best[2]


def silhouette_parents(model: ThemeModel, X: np.ndarray, how: str) -> np.ndarray:
    """Parent groups cut where the average-linkage tree of the theme centroids gives the best
    cosine silhouette: of the centroids themselves, or of a sample of contacts."""
    if how == "centroid silhouette":  # the product's default (rca.cluster.hierarchy)
        return parent_groups(model.centroids_, model.sizes_)
    k = model.n_themes_
    best: tuple[float, np.ndarray] | None = None
    unit = _unit_rows(X)
    rng = np.random.default_rng(0)
    ok = np.flatnonzero(model.labels_ >= 0)
    pick = rng.choice(ok, min(2000, len(ok)), replace=False)
    for g in range(2, min(k - 1, 40) + 1):
        groups = parent_groups(model.centroids_, model.sizes_, n_groups=g)
        if len(np.unique(groups)) < 2:
            continue
        if how == "centroid silhouette":
            score = silhouette_score(model.centroids_, groups, metric="cosine")
        else:
            lab = groups[model.labels_[pick]]
            score = silhouette_score(unit[pick], lab, metric="cosine")
        if best is None or score > best[0]:
            best = (float(score), groups)
    assert best is not None
    return best[1]


def evoc_layer_themes(X: np.ndarray) -> tuple[ThemeModel, int, int]:
    """Candidate: EVoC's cluster layers (its own persistence-layered cut of the hierarchy), the
    layer with the largest persistence score, then ThemeModel's merge and noise assignment on
    it (so unassigned stays within the product's rule). Returns the model, layer and layer count."""
    import evoc

    ev = evoc.EVoC(random_state=SEED)
    ev.fit(np.asarray(X, dtype=np.float32))
    layer = int(np.argmax(ev.persistence_scores_))
    dense = np.asarray(ev.cluster_layers_[layer], dtype=np.int64)
    model = ThemeModel(random_state=SEED)
    unit = _unit_rows(X)
    model._assign(unit, model._merge(unit, dense))
    return model, layer, len(ev.cluster_layers_)


def plscan_base_themes(X: np.ndarray, coords: np.ndarray) -> ThemeModel:
    """``min_cluster_size="plscan"`` with PLSCAN's base layer (the leaves at the floor size)
    kept as the finest candidate layer: the rule's first version."""
    from rca.cluster.density import plscan_clusters

    unit = _unit_rows(X)
    model = ThemeModel(random_state=SEED)
    dense = plscan_clusters(
        coords, unit, model.min_samples, merge_threshold(model.granularity), with_base=True
    )
    model._assign(unit, model._merge(unit, dense))
    return model


def _evoc(X: np.ndarray) -> np.ndarray:
    import evoc

    return np.asarray(evoc.EVoC(random_state=SEED).fit_predict(X), dtype=np.int64)


def _bertopic(texts: list[str], X: np.ndarray) -> np.ndarray:
    from bertopic import BERTopic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topics, _ = BERTopic(embedding_model=None).fit_transform(texts, embeddings=X)
    return np.asarray(topics, dtype=np.int64)


def _record(row: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with ROWS_PATH.open("a") as fh:
        fh.write(json.dumps(row, default=float) + "\n")
    print(
        f"{row['set']:24s} {row['level']:9s} {row['method']:34s} k={row['n_themes']:4d}/"
        f"{row['true_k']:3d} un={row['unassigned_fraction']:.3f} acc={row['accuracy']:.3f}",
        flush=True,
    )


def _rows(
    name: str, method: str, labels: np.ndarray, levels: dict[str, np.ndarray], seconds: float
) -> None:
    for level, y in levels.items():
        s = cluster_scores(y, labels)
        _record(
            {
                "set": name,
                "level": level,
                "method": method,
                "true_k": int(len(np.unique(y))),
                "n": len(y),
                "seconds": round(seconds, 1),
                **s,
            }
        )


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_set(name: str, methods: set[str]) -> None:
    texts, X, levels = load_set(name)
    fine = next(iter(levels.values()))
    k = int(len(np.unique(fine)))
    coords, _ = _timed(lambda: _coords(name, X))
    if "themes" in methods:
        model, s = _timed(lambda: _fit_on_coords(X, coords))
        _rows(name, "ThemeModel n/150 (today)", model.labels_, {**levels}, s)
        coarse = {lv: y for lv, y in levels.items() if lv in COARSE}
        if coarse:
            k_sqrt = auto_n_groups(model.n_themes_)
            groups = parent_groups(model.centroids_, model.sizes_, n_groups=k_sqrt)
            parent = np.where(model.labels_ >= 0, groups[np.maximum(model.labels_, 0)], -1)
            _rows(name, "ThemeModel n/150 parents (sqrt k)", parent, coarse, 0.0)
            for how in ("centroid silhouette", "contact silhouette"):
                groups = silhouette_parents(model, X, how)
                parent = np.where(model.labels_ >= 0, groups[np.maximum(model.labels_, 0)], -1)
                _rows(name, f"ThemeModel n/150 parents ({how})", parent, coarse, 0.0)
            # before the share bound (issue 19): the best silhouette whatever a group holds
            bound = hierarchy.MAX_GROUP_SHARE
            hierarchy.MAX_GROUP_SHARE = 1.0
            try:
                groups = parent_groups(model.centroids_, model.sizes_)
            finally:
                hierarchy.MAX_GROUP_SHARE = bound
            parent = np.where(model.labels_ >= 0, groups[np.maximum(model.labels_, 0)], -1)
            _rows(name, "ThemeModel n/150 parents (centroid silhouette, no share bound)", parent,
                  coarse, 0.0)  # fmt: skip
    if "silhouette" in methods:
        (model, size), s = _timed(lambda: silhouette_chosen(X, coords))
        _rows(name, f"ThemeModel silhouette size ({size})", model.labels_, levels, s)
    if "persistence" in methods:
        model, s = _timed(lambda: _fit_on_coords(X, coords, min_cluster_size="persistence"))
        label = f"ThemeModel persistence size ({model.min_cluster_size_})"
        _rows(name, label, model.labels_, levels, s)
    if "layers" in methods:
        model, s = _timed(lambda: _fit_on_coords(X, coords, min_cluster_size="layers"))
        _rows(name, "ThemeModel layers (EVoC, coarser while over-split)", model.labels_, levels, s)
    if "plscan" in methods:
        model, s = _timed(lambda: _fit_on_coords(X, coords, min_cluster_size="plscan"))
        _rows(name, PLSCAN_METHOD, model.labels_, levels, s)
    if "plscanbase" in methods:  # the first version: PLSCAN's base layer a candidate too
        model, s = _timed(lambda: plscan_base_themes(X, coords))
        _rows(name, PLSCAN_BASE_METHOD, model.labels_, levels, s)
    if "evoclayer" in methods:
        (model, layer, n_layers), s = _timed(lambda: evoc_layer_themes(X))
        label = f"ThemeModel EVoC layer (most persistent: {layer} of {n_layers})"
        _rows(name, label, model.labels_, levels, s)
    if "kmeans" in methods:
        for lv, y in levels.items():
            kk = int(len(np.unique(y)))
            for space, V in (("UMAP", coords), ("raw", X)):
                lab, s = _timed(
                    lambda V=V, kk=kk: KMeans(kk, n_init=10, random_state=SEED).fit_predict(V)
                )
                _rows(name, f"KMeans true k ({space})", lab, {lv: y}, s)
    if "evoc" in methods:
        lab, s = _timed(lambda: _evoc(X))
        _rows(name, "EVoC defaults", lab, levels, s)
    if "bertopic" in methods:
        lab, s = _timed(lambda: _bertopic(texts, X))
        _rows(name, "BERTopic defaults", lab, levels, s)
    del k


def _encode(texts: list[str]) -> np.ndarray:
    from experiments.datasets import _model

    return np.asarray(_model().encode(texts, batch_size=64, normalize_embeddings=True))


def label_set(name: str, seed: int = SEED, rule: str = "plscan") -> None:
    """Label score of today's c-TF-IDF labels and of the problem names, on the same themes.

    Coarse gold levels are scored twice: the fine themes' names against the coarse class names
    (a theme "set an alarm" should be nearest to `alarm`), and the parent groups' names, built
    as ``rca fit`` builds them, against the same names, each contact counted under its group
    (what a manager reads at ``--granularity parent``).
    """
    from rca.cluster.labels import label_themes, problem_names, theme_descriptions, theme_keywords
    from rca.cluster.quality import label_score
    from rca.text.audience import RedactionPolicy, name_finder
    from rca.text.persons import person_words

    texts, X, levels = load_set(name)
    size: int | str | None = None if rule == "size" else rule  # ThemeModel's None is n/150
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size=size)
    labels = model.labels_
    k = model.n_themes_
    # people's names out of both, as `rca fit` does (rca.text.persons, the display detector)
    people = person_words(texts, labels, name_finder(RedactionPolicy()))
    named = label_themes(texts, labels, person_words=people).set_index("theme")
    old = named["label"].to_dict()
    start = time.perf_counter()
    keywords = theme_keywords(texts, labels, person_words=people)
    new = problem_names(
        texts, labels, X, model.centroids_, keywords=keywords, embed=_encode, person_words=people
    )
    seconds = time.perf_counter() - start
    notes = theme_descriptions(texts, labels, person_words=people)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    groups = parent_groups(model.centroids_, sizes)
    keyword_lists = {
        t: list(named.loc[t, "keywords"]) if t in named.index else [] for t in range(k)
    }
    parent = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
    group_names = {
        kind: hierarchy.group_labels(groups, keyword_lists, sizes, theme_names=theme_names)
        for kind, theme_names in (("old", [old.get(t, "") for t in range(k)]),
                                  ("new", [new.get(t, "") for t in range(k)]))
    } if hierarchy.has_parent_level(groups) else {}  # fmt: skip
    scored = [(level, y, labels, old, new) for level, y in levels.items()]
    if group_names:
        scored += [(f"{level} (parent groups)", y, parent, group_names["old"], group_names["new"])
                   for level, y in levels.items() if level in COARSE]  # fmt: skip
    for level, y, pred, old_names, new_names in scored:
        row = {
            "set": name,
            "level": level,
            "seed": seed,
            "rule": rule,
            "kind": "label_score",
            "n_themes": int(len(np.unique(pred[pred >= 0]))),
            "old": label_score(old_names, y, pred, _encode),
            "new": label_score(new_names, y, pred, _encode),
            "name_seconds": round(seconds, 1),
            "described": len(notes),
            "examples": [[old_names[t], new_names[t]] for t in sorted(new_names)[:8]],
        }
        with (RESULTS_DIR / "granularity_labels.jsonl").open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"{name} {level} seed {seed}: {row['n_themes']} themes, "
              f"label score old {row['old']:.3f} new {row['new']:.3f}", flush=True)  # fmt: skip
        for pair in row["examples"]:
            print("   ", pair)


GRID_SIZES = (8, 11, 15, 21, 30, 42, 60, 85, 120, 170, 240)
GRID_PATH = RESULTS_DIR / "granularity_grid.jsonl"
# Label-free criteria read over the grid (largest wins, ties to the larger size).
GRID_CRITERIA = {
    "total persistence": "persistence",
    "relative validity (DBCV)": "dbcv",
    "silhouette, UMAP space": "silhouette_umap",
    "silhouette, original space (final themes)": "silhouette_raw",
}


def grid_set(name: str) -> None:
    """Every minimum size of GRID_SIZES on one set: themes, accuracy and label-free criteria."""
    import hdbscan

    _, X, levels = load_set(name)
    y = next(iter(levels.values()))
    coords = _coords(name, X)
    unit = _unit_rows(X)
    rng = np.random.default_rng(0)
    for size in GRID_SIZES:
        if 2 * size > len(X):
            break
        start = time.perf_counter()
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=size,
            min_samples=ThemeModel().min_samples,
            cluster_selection_method="eom",
            gen_min_span_tree=True,
        ).fit(coords)
        dense = np.asarray(clusterer.labels_, dtype=np.int64)
        model = ThemeModel(random_state=SEED)
        model._assign(unit, model._merge(unit, dense))
        ok = np.flatnonzero(dense >= 0)
        pick = rng.choice(ok, min(SILHOUETTE_SAMPLE, len(ok)), replace=False)
        s = cluster_scores(y, model.labels_)
        row = {
            "set": name,
            "size": size,
            "n": len(X),
            "true_k": int(len(np.unique(y))),
            "n_dense": int(dense.max() + 1),
            "persistence": float(np.sum(clusterer.cluster_persistence_)),
            "dbcv": float(clusterer.relative_validity_),
            "silhouette_umap": float(silhouette_score(coords[pick], dense[pick]))
            if dense.max() > 0
            else float("nan"),
            "silhouette_raw": model._silhouette(unit),
            "seconds": round(time.perf_counter() - start, 1),
            **s,
        }
        with GRID_PATH.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(name, size, s["n_themes"], f"{s['accuracy']:.3f}", flush=True)


def _grid_table(bars: dict[str, float]) -> list[str]:
    """Per set: the size each criterion picks (themes, accuracy, bar met) and the best size."""
    if not GRID_PATH.exists():
        return []
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for line in GRID_PATH.read_text().splitlines():
        r = json.loads(line)
        rows[(r["set"], r["size"])] = r
    heads = ["best size on the grid (labels)", "nearest n/150", *GRID_CRITERIA]
    out = [
        "Criteria over the size grid (`--grid`), fine level; each cell: minimum size: themes,"
        " accuracy, bar met.",
        "",
        "| set | n / true | " + " | ".join(heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    order = {name: i for i, name in enumerate(SETS)}
    for name in sorted({n for n, _ in rows}, key=lambda n: order.get(n, 99)):
        rs = [
            r
            for (n, _), r in rows.items()
            if n == name and r["silhouette_raw"] == r["silhouette_raw"]
        ]
        n = rs[0]["n"]
        picks = [
            max(rs, key=lambda r: (r["accuracy"], r["size"])),
            min(rs, key=lambda r: abs(r["size"] - n / 150)),
            *(max(rs, key=lambda r, k=k: (r[k], r["size"])) for k in GRID_CRITERIA.values()),
        ]
        cells = []
        for r in picks:
            met = (
                r["accuracy"] >= bars.get(name, np.inf)
                and r["unassigned_fraction"] <= MAX_UNASSIGNED
            )
            cells.append(
                f"{r['size']}: {r['n_themes']}, {r['accuracy']:.3f}, {'yes' if met else 'no'}"
            )
        out.append(f"| {name} | {n} / {rs[0]['true_k']} | " + " | ".join(cells) + " |")
    return out


BAR = 0.95  # the bar: accuracy >= 0.95 x KMeans told the true k (best of raw, UMAP)
MAX_UNASSIGNED = 0.05


def _bar_table(rows: dict[tuple[str, str, str], dict[str, Any]]) -> list[str]:
    """One line per set and level: the product's level against the issue's bar."""

    def acc(name: str, level: str, prefix: str) -> float | None:
        found = [
            v["accuracy"]
            for (n, lv, m), v in rows.items()
            if (n, lv) == (name, level) and m.startswith(prefix)
        ]
        return max(found) if found else None

    out = [
        "| set | level | product level: themes / true | unassigned | accuracy | 0.95 x KMeans"
        " best | BERTopic | EVoC | bar met | persistence size: themes, accuracy | EVoC layer +"
        " product assignment: themes, accuracy, bar met | `layers` (coarser while over-split):"
        " themes, accuracy, bar met | `plscan` (PLSCAN layers of the UMAP coordinates):"
        " themes, accuracy, bar met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {name: i for i, name in enumerate(SETS)}
    keys = sorted({(n, lv) for n, lv, _ in rows}, key=lambda k: (order.get(k[0], 99), k[1]))
    for name, level in keys:
        coarse = level in COARSE
        method = (
            "ThemeModel n/150 parents (centroid silhouette)"
            if coarse
            else "ThemeModel n/150 (today)"
        )
        r = rows.get((name, level, method))
        km = acc(name, level, "KMeans")
        if r is None or km is None:
            continue
        bt, ev = acc(name, level, "BERTopic"), acc(name, level, "EVoC")
        pers = [
            v for (n, lv, m), v in rows.items() if (n, lv) == (name, level) and "persistence" in m
        ]
        cand = "–" if coarse or not pers else f"{pers[0]['n_themes']}, {pers[0]['accuracy']:.3f}"
        cells = []
        for marker in ("EVoC layer", "ThemeModel layers", "ThemeModel plscan ("):
            found = [
                v for (n, lv, m), v in rows.items() if (n, lv) == (name, level) and marker in m
            ]
            if coarse or not found:
                cells.append("–")
                continue
            lr = found[0]
            lay_met = (
                lr["accuracy"] >= BAR * km
                and (bt is None or lr["accuracy"] >= bt)
                and (ev is None or lr["accuracy"] >= ev)
                and lr["unassigned_fraction"] <= MAX_UNASSIGNED
            )
            cells.append(f"{lr['n_themes']}, {lr['accuracy']:.3f}, {'yes' if lay_met else 'no'}")
        lay = " | ".join(cells)
        met = (
            r["accuracy"] >= BAR * km
            and (bt is None or r["accuracy"] >= bt)
            and (ev is None or r["accuracy"] >= ev)
            and r["unassigned_fraction"] <= MAX_UNASSIGNED
        )
        out.append(
            f"| {name} | {level}{' (parents)' if coarse else ''} | {r['n_themes']} / "
            f"{r['true_k']} | {r['unassigned_fraction']:.1%} | {r['accuracy']:.3f} | "
            f"{BAR * km:.3f} | {'–' if bt is None else f'{bt:.3f}'} | "
            f"{'–' if ev is None else f'{ev:.3f}'} | {'yes' if met else 'no'} | {cand} | {lay} |"
        )
    return out


def _label_tables(rows: list[dict[str, Any]]) -> list[str]:
    """The label-score tables: the n/150 rows (one seed, stop 27) and the PLSCAN rows (each
    seed, and the mean), the last row of each set, level and seed kept."""
    out = [
        "| set | gold level | themes | label score, c-TF-IDF labels | label score, problem"
        " names | naming seconds |",
        "|---|---|---|---|---|---|",
    ]
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if "rule" not in r:
            seen[(r["set"], r["level"])] = r
    for r in seen.values():
        out.append(
            f"| {r['set']} | {r['level']} | {r['n_themes']} | {r['old']:.3f} | "
            f"{r['new']:.3f} | {r['name_seconds']} |"
        )
    per_seed: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in rows:
        if r.get("rule") == "plscan":
            per_seed.setdefault((r["set"], r["level"]), {})[r["seed"]] = r
    if per_seed:
        out += [
            "",
            "| set | gold level | themes (seeds 42 / 7 / 0) | c-TF-IDF labels | problem names |"
            " mean, c-TF-IDF | mean, problem names | new beats old |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for (name, level), by_seed in per_seed.items():
            rs = [by_seed[s] for s in (42, 7, 0) if s in by_seed]
            old = np.mean([r["old"] for r in rs])
            new = np.mean([r["new"] for r in rs])
            verdict = "yes" if new > old else "tie" if new == old else "no"
            themes = " / ".join(str(r["n_themes"]) for r in rs)
            olds = " / ".join(format(r["old"], ".3f") for r in rs)
            news = " / ".join(format(r["new"], ".3f") for r in rs)
            out.append(
                f"| {name} | {level} | {themes} | {olds} | {news} | {old:.3f} | {new:.3f} | "
                f"{verdict} |"
            )
    return out


def render() -> str:
    """granularity.md from every measured row (the last measurement of a row wins)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line in ROWS_PATH.read_text().splitlines():
        r = json.loads(line)
        rows[(r["set"], r["level"], r["method"])] = r
    bars: dict[str, float] = {}
    for (n, lv, m), v in rows.items():
        if lv in COARSE:  # the fine level only (CFPB's sub-products were counted before)
            continue
        need = BAR * v["accuracy"] if m.startswith("KMeans") else v["accuracy"]
        if m.startswith(("KMeans", "BERTopic", "EVoC defaults")):
            bars[n] = max(bars.get(n, 0.0), need)
    out = _bar_table(rows) + [
        "",
        "| set | level | method | themes / true | unassigned | NMI | ARI | accuracy | vs KMeans"
        " best | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {name: i for i, name in enumerate(SETS)}
    for (name, level, method), r in sorted(
        rows.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1], kv[0][2])
    ):
        kms = [
            v["accuracy"]
            for (n2, l2, m2), v in rows.items()
            if n2 == name and l2 == level and m2.startswith("KMeans")
        ]
        ratio = f"{r['accuracy'] / max(kms):.2f}" if kms else "–"
        out.append(
            f"| {name} | {level} | {method} | {r['n_themes']} / {r['true_k']} | "
            f"{r['unassigned_fraction']:.1%} | {r['nmi']:.3f} | {r['ari']:.3f} | "
            f"{r['accuracy']:.3f} | {ratio} | {r['seconds']} |"
        )
    grid = _grid_table(bars)
    if grid:
        out += ["", *grid]
    labels_path = RESULTS_DIR / "granularity_labels.jsonl"
    if labels_path.exists():
        out += ["", *_label_tables([json.loads(x) for x in labels_path.read_text().splitlines()])]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--methods", default="themes,kmeans,silhouette,evoc,bertopic")
    parser.add_argument("--labels", action="store_true", help="score theme names instead")
    parser.add_argument("--render", action="store_true", help="print the tables of all rows")
    parser.add_argument("--grid", action="store_true", help="criteria over GRID_SIZES instead")
    parser.add_argument("--seeds", default=str(SEED), help="UMAP seeds for --labels")
    parser.add_argument("--rule", default="plscan", help="fine level for --labels: plscan, size")
    args = parser.parse_args()
    if args.render:
        print(render())
        return
    if args.labels:
        for name in args.sets.split(","):
            for seed in (int(x) for x in args.seeds.split(",")):
                label_set(name, seed, args.rule)
        return
    if args.grid:
        for name in args.sets.split(","):
            grid_set(name)
        return
    methods = set(args.methods.split(","))
    for name in args.sets.split(","):
        run_set(name, methods)


if __name__ == "__main__":
    main()
