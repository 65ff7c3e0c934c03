"""Could a fit suggest which of its themes a person should merge? (Measured at stop 60 and not
built: granularity.md "Suggested merges: three label-free signals, none precise enough".)

    python -m experiments.merge_suggestion_probe [--sets a,b] [--seeds 42,7,0]

Where themes outnumber the problems (about 100 for Banking77-test's 77 intents since stop 59),
the extra themes are mostly halves of one intent beside a neighbouring theme. A suggestion is
worth showing only if it is usually right, so each signal is scored by its **precision**: of
the pairs it proposes, how many share their majority gold class. Every pair a signal may
propose is a theme and its nearest other theme (cosine of centroids; the product already
merges centroids above ``MERGE_SIMILARITY``). The signals, all label-free:

- ``own halves``: the pair's two-way silhouette (cosine, raw vectors, up to ``CAP`` contacts a
  theme) is no higher than one theme's own KMeans halves, compared with the lower (``min``) or
  the mean (``mean``) of the two themes' halves, or with the median over all themes
  (``median``): "no more distinct than one theme cut in two";
- ``other seeds``: in the product's fits at the other two seeds, a contact of one theme and a
  contact of the other share a theme at least ``CROSS`` of the time (the lower of the two
  fits): the split is the seed's, not the data's;
- ``same phrase``: the two themes' best name candidates (``problem_names``' candidates ranked
  by cosine to the centroid plus the support pre-score) share a phrase among their best
  ``depth``.

Each set is read as ``rca evaluate`` reads it (``<set>@product``) and fitted by the product's
fit (``theme_model`` with the settings' size rule and vote), cached per set and seed under
``/tmp/rca-emb/merge_fits``. Rows go to ``results/merge_suggestion_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_samples

from experiments.granularity_study import CACHE_DIR, load_set
from rca.cluster import labels as names_module
from rca.cluster.quality import UNASSIGNED
from rca.embed.encoder import encoder_from_settings
from rca.jobs.fit import theme_model, theme_size_rule
from rca.settings import Settings

ROWS = Path(__file__).resolve().parent / "results" / "merge_suggestion_probe.jsonl"
FITS = CACHE_DIR / "merge_fits"
SETS = ("banking77-test", "hwu64", "bitext", "cfpb", "hwu64-30pc")
SEEDS = (42, 7, 0)
CAP = 300
CROSS = (0.05, 0.1, 0.3)


def _fit(
    name: str, seed: int, settings: Settings
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    texts, X, levels = load_set(f"{name}@product")
    y = np.asarray(next(iter(levels.values())))
    path = FITS / f"{name.replace('+', '_')}_{seed}.npz"
    if not path.exists():
        model = theme_model(settings, seed, min_cluster_size=theme_size_rule(settings))
        model.fit(X, texts)
        FITS.mkdir(parents=True, exist_ok=True)
        np.savez(path, labels=model.labels_, centroids=model.centroids_)
    got = np.load(path)
    return texts, X, y, got["labels"], got["centroids"]


def _two_way(unit: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Mean silhouette (cosine) of the partition ``a | b`` of their rows."""
    if len(a) < 2 or len(b) < 2:
        return 1.0
    side = np.r_[np.zeros(len(a)), np.ones(len(b))]
    return float(silhouette_samples(np.vstack([unit[a], unit[b]]), side, metric="cosine").mean())


def _cross(first: np.ndarray, second: np.ndarray) -> float:
    """P(a contact of one theme and one of the other share a theme in another fit)."""
    first, second = first[first != UNASSIGNED], second[second != UNASSIGNED]
    if not len(first) or not len(second):
        return 0.0
    n = int(max(first.max(), second.max())) + 1
    return float(np.bincount(first, minlength=n) @ np.bincount(second, minlength=n)
                 / (len(first) * len(second)))  # fmt: skip


def _best_phrases(texts: list[str], unit: np.ndarray, labels: np.ndarray, cents: np.ndarray,
                  embed, depth: int) -> dict[int, list[str]]:  # fmt: skip
    named = names_module.label_themes(texts, labels).set_index("theme")
    keywords = {int(t): list(v) for t, v in named["keywords"].items()}
    best: dict[int, list[str]] = {}
    for t in sorted(int(v) for v in np.unique(labels) if v != UNASSIGNED):
        rows = np.flatnonzero(labels == t)
        order = rows[np.lexsort((rows, -(unit[rows] @ cents[t])))]
        order = order[: names_module.NAME_CENTRAL_TEXTS]
        central = [names_module.decased(str(texts[i])) for i in order]
        cands = names_module.name_candidates(central, keywords.get(t, []))
        if not cands:
            continue
        sims = names_module._phrase_similarity(embed, [(t, p) for p, _ in cands], cents)
        pre = np.array([p for _, p in cands])
        score = sims + names_module.NAME_PRESCORE_WEIGHT * pre / max(pre.max(), 1e-12)
        best[t] = [cands[i][0] for i in np.argsort(-score)[:depth]]
    return best


def run(name: str, seeds: tuple[int, ...]) -> None:
    settings = Settings(home=CACHE_DIR / "product-home")
    encoder = encoder_from_settings(settings)
    fits = {s: _fit(name, s, settings) for s in seeds}
    for seed in seeds:
        texts, X, y, labels, centroids = fits[seed]
        unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        cents = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        themes = sorted(int(t) for t in np.unique(labels) if t != UNASSIGNED)
        rng = np.random.default_rng(0)
        rows = {}
        for t in themes:
            r = np.flatnonzero(labels == t)
            rows[t] = r if len(r) <= CAP else np.sort(rng.choice(r, CAP, replace=False))
        halves = {}
        for t in themes:
            cut = KMeans(2, n_init=3, random_state=0).fit_predict(unit[rows[t]])
            halves[t] = _two_way(unit, rows[t][cut == 0], rows[t][cut == 1])
        majority = {}
        for t in themes:
            values, counts = np.unique(y[labels == t], return_counts=True)
            majority[t] = values[np.argmax(counts)]
        sims = cents @ cents.T
        np.fill_diagonal(sims, -np.inf)
        pairs = sorted({tuple(sorted((t, int(np.argmax(sims[t]))))) for t in themes})
        median = float(np.median(list(halves.values())))
        others = [s for s in seeds if s != seed]
        proposed: dict[str, list[tuple[int, int]]] = {"min": [], "mean": [], "median": []}
        proposed |= {f"cross {c}": [] for c in CROSS}
        for a, b in pairs:
            s = _two_way(unit, rows[a], rows[b])
            proposed["min"] += [(a, b)] * (s <= min(halves[a], halves[b]))
            proposed["mean"] += [(a, b)] * (s <= (halves[a] + halves[b]) / 2)
            proposed["median"] += [(a, b)] * (s <= median)
            cross = min(_cross(fits[o][3][labels == a], fits[o][3][labels == b]) for o in others)
            for c in CROSS:
                proposed[f"cross {c}"] += [(a, b)] * (cross >= c)
        best = _best_phrases(texts, unit, labels, cents, encoder.encode, depth=3)
        for depth in (1, 2, 3):
            proposed[f"phrase {depth}"] = [
                (a, b) for a in best for b in best
                if a < b and set(best[a][:depth]) & set(best[b][:depth])
            ]  # fmt: skip
        row = {
            "set": name, "seed": seed, "themes": len(themes), "classes": len(set(y)),
            "nearest_pairs": len(pairs),
            "nearest_pairs_same": sum(majority[a] == majority[b] for a, b in pairs),
            "same_pairs_all": sum(majority[a] == majority[b] for a in themes for b in themes
                                  if a < b),
            "signals": {k: {"proposed": len(v), "right": sum(majority[a] == majority[b]
                                                              for a, b in v)}
                        for k, v in proposed.items()},
        }  # fmt: skip
        ROWS.parent.mkdir(parents=True, exist_ok=True)
        with ROWS.open("a") as fh:
            fh.write(json.dumps(row, default=int) + "\n")
        shown = ", ".join(f"{k} {v['right']}/{v['proposed']}" for k, v in row["signals"].items())
        same = f"{row['nearest_pairs_same']}/{row['nearest_pairs']}"
        print(f"{name} s{seed}: {row['themes']} themes, nearest pairs {same} same; {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    for name in args.sets.split(","):
        run(name, seeds)


if __name__ == "__main__":
    main()
