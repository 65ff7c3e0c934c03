"""Do names ranked by how much closer they are to their own theme than to the nearest other
theme (contrast) say the right reason code more often than names ranked by closeness alone?

    python -m experiments.naming_probe [--sets a,b] [--seeds 42,7,0] [--contrast 0,0.5,1]

Same protocol as ``granularity_study --labels`` (the product's PLSCAN fine level on cached UMAP
coordinates, ``label_score`` against every gold level): for each contrast weight c a candidate
phrase scores ``cos(phrase, own centroid) - c * max cos(phrase, other centroid)`` instead of the
first term alone (c = 0 is the product at stop 30; ``rca.cluster.labels.NAME_CONTRAST`` is the
product's weight now). Phrase vectors are computed once per set and
reused across weights. Rows go to ``results/naming_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import rca.cluster.labels as labels_module
from experiments.granularity_study import _coords, _encode, _fit_on_coords, load_set
from rca.cluster.quality import label_score

ROWS = Path(__file__).resolve().parent / "results" / "naming_probe.jsonl"


def run(name: str, seed: int, contrasts: list[float]) -> None:
    texts, X, levels = load_set(name)
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
    labels = model.labels_
    keywords = labels_module.theme_keywords(texts, labels)
    cache: dict[str, np.ndarray] = {}

    def embed(phrases: list[str]) -> np.ndarray:
        missing = [p for p in phrases if p not in cache]
        if missing:
            for p, v in zip(missing, _encode(missing), strict=True):
                cache[p] = v
        return np.vstack([cache[p] for p in phrases])

    for c in contrasts:
        default = labels_module.NAME_CONTRAST
        labels_module.NAME_CONTRAST = c
        try:
            names = labels_module.problem_names(
                texts, labels, X, model.centroids_, keywords=keywords, embed=embed
            )
        finally:
            labels_module.NAME_CONTRAST = default
        for level, y in levels.items():
            row = {"set": name, "seed": seed, "level": level, "contrast": c,
                   "themes": model.n_themes_, "score": label_score(names, y, labels, _encode),
                   "examples": [names[t] for t in sorted(names)[:10]]}  # fmt: skip
            with ROWS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{name} seed {seed} {level} contrast {c}: {row['score']:.3f}", flush=True)
            print("   ", row["examples"][:6], flush=True)


def run_groups(name: str, seed: int) -> None:
    """Parent-group names: today's (c-TF-IDF over the members' keywords, a one-theme group
    takes the theme's name) against the phrase ``problem_names`` finds when each group is
    treated as one theme (its contacts, its centroid, its own keywords), scored on the coarse
    gold levels with each contact counted under its group."""
    from rca.cluster import hierarchy
    from rca.cluster.model import _unit_rows

    texts, X, levels = load_set(name)
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
    labels, k = model.labels_, model.n_themes_
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    groups = hierarchy.parent_groups(model.centroids_, sizes)
    if not hierarchy.has_parent_level(groups):
        print(f"{name} seed {seed}: no parent level", flush=True)
        return
    named = labels_module.label_themes(texts, labels).set_index("theme")
    keyword_lists = {t: list(named.loc[t, "keywords"]) for t in range(k) if t in named.index}
    theme_names = labels_module.problem_names(
        texts, labels, X, model.centroids_, keywords=keyword_lists, embed=_encode
    )
    today = hierarchy.group_labels(
        groups, keyword_lists, sizes, theme_names=[theme_names.get(t, "") for t in range(k)]
    )
    parent = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
    n_groups = int(groups.max()) + 1
    unit = _unit_rows(X)
    centroids = np.vstack([unit[parent == g].mean(axis=0) for g in range(n_groups)])
    phrase = labels_module.problem_names(texts, parent, X, centroids, embed=_encode)
    # the member theme whose name is nearest the group's centroid
    vecs = _encode([theme_names[t] for t in range(k)])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    central = {}
    for g in range(n_groups):
        members = np.flatnonzero(groups == g)
        best = members[np.argmax(vecs[members] @ (centroids[g] / np.linalg.norm(centroids[g])))]
        central[g] = theme_names[int(best)]
    ctfidf = hierarchy.group_labels(
        groups, keyword_lists, sizes, theme_names=[str(named.loc[t, "label"]) for t in range(k)]
    )
    terms = hierarchy.group_terms(groups, keyword_lists, sizes)
    unit_c = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def contrast_pick(cands: dict[int, list[str]]) -> dict[int, str]:
        out = {}
        for g, cs in cands.items():
            if not cs:
                out[g] = f"Group {g}"
                continue
            v = _encode(cs)
            v = v / np.linalg.norm(v, axis=1, keepdims=True)
            sims = v @ unit_c.T
            own = sims[:, g]
            other = np.delete(sims, g, axis=1).max(axis=1) if n_groups > 1 else 0.0
            out[g] = labels_module.format_name(cs[int(np.argmax(own - 0.5 * other))])
        return out

    term_only = contrast_pick({g: [t for t, _ in terms[g]] for g in range(n_groups)})
    term_theme = contrast_pick(
        {
            g: [t for t, _ in terms[g]] + [theme_names[int(m)] for m in np.flatnonzero(groups == g)]
            for g in range(n_groups)
        }
    )
    kinds = (("today", today), ("c-TF-IDF labels", ctfidf), ("group phrase", phrase),
             ("central theme", central), ("contrast term", term_only),
             ("contrast term or theme name", term_theme))  # fmt: skip
    for level, y in levels.items():
        if level not in ("category", "scenario", "sub-product"):
            continue
        for kind, names in kinds:
            row = {"set": name, "seed": seed, "level": f"{level} (parent groups)", "kind": kind,
                   "themes": n_groups, "score": label_score(names, y, parent, _encode),
                   "examples": [names[g] for g in sorted(names)[:10]]}  # fmt: skip
            with ROWS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{name} seed {seed} {level} groups {kind}: {row['score']:.3f}", flush=True)
            print("   ", row["examples"][:8], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="cfpb,bitext,hwu64,banking77-test")
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--contrast", default="0,0.5,1")
    parser.add_argument("--groups", action="store_true", help="parent-group names instead")
    args = parser.parse_args()
    if args.groups:
        for name in args.sets.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                run_groups(name, seed)
        return
    contrasts = [float(c) for c in args.contrast.split(",")]
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed, contrasts)


if __name__ == "__main__":
    main()
