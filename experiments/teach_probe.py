"""What does a taught reassign file besides the contacts a person names?

    python -m experiments.teach_probe [--sets ...] [--k 3] [--thresholds 0.5,0.6,0.7]

`rca taxonomy reassign --teach` files the named contacts under a theme and also every contact
nearer to their mean than to its own theme's centre and at least ``threshold`` similar to it
(`rca.cluster.taxonomy._learn`). On labelled sets this simulates the person: the product's
themes are fitted (`plscan` on the cached seed-42 UMAP coordinates), each theme is read as its
majority class, and for every class with misfiled contacts (in a theme whose majority is
another class) ``k`` of them, drawn at random, are filed under the class's theme with what
they teach. Reported per set and threshold, over every such lesson:

- **fixed**: the share of the class's other misfiled contacts (not named) that the lesson
  brought into its theme (what teaching is for);
- **precision**: of the contacts the lesson moved besides the named ones, the share of that
  class (the rest were right where they were, or at least not of this class);
- **purity**: the share of contacts in a theme whose majority class is theirs (unassigned
  count wrong), before, after the lessons filed without teaching (the named contacts only),
  and after them taught.

"nearer" is the product's rule; "threshold only" drops the comparison with the contact's own
theme (what a created theme does), to show what the comparison buys. Figures only.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from experiments.granularity_study import _coords, _fit_on_coords, load_set
from rca.cluster.taxonomy import Edit, curate, route

SEED = 42


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="banking77-test,bitext,hwu64,cfpb")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--thresholds", default="0.5,0.6,0.7")
    parser.add_argument("--rules", default="nearer,threshold only")
    args = parser.parse_args()
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        model = _fit_on_coords(X, _coords(name, X, SEED), min_cluster_size="plscan")
        for threshold in (float(t) for t in args.thresholds.split(",")):
            for rule in args.rules.split(","):
                print(json.dumps(probe(name, X, y, model, args.k, threshold, rule)), flush=True)


def probe(name: str, X: np.ndarray, y: np.ndarray, model, k: int, threshold: float,
          rule: str) -> dict:  # fmt: skip
    """Every class's lesson at once (one edit each, in class order), as people would file."""
    labels = model.labels_
    ids = np.array([f"T{t + 1:04d}" if t >= 0 else "" for t in labels], dtype=object)
    themes = pd.DataFrame({
        "theme_id": [f"T{t + 1:04d}" for t in range(model.n_themes_)],
        "label": [f"theme {t}" for t in range(model.n_themes_)],
        "keywords": [[] for _ in range(model.n_themes_)],
        "parent_group": None,
        "size": model.sizes_,
        "centroid": list(model.centroids_) if rule.startswith("nearer") else None,
    })  # fmt: skip
    frame = pd.DataFrame({"theme": ids, "y": y})
    majority = frame[frame["theme"] != ""].groupby("theme")["y"].agg(lambda s: s.mode()[0])
    home = {c: t for t, c in majority.sort_index().items()}  # a class's theme (last wins)
    rng = np.random.default_rng(0)
    cids = np.array([f"c{i}" for i in range(len(X))], dtype=object)
    edits, named, misfiled = [], {}, {}
    for c in sorted(home, key=str):
        wrong = np.flatnonzero((y == c) & (ids != home[c]))
        if len(wrong) <= k:
            continue
        pick = rng.choice(wrong, k, replace=False)
        named[c], misfiled[c] = set(pick), set(wrong) - set(pick)
        centroid = X[pick].mean(axis=0)
        if rule == "nearer own-spread" and k > 1:  # how alike the lesson's own examples are
            threshold_c = max(threshold, _spread(X[pick]))
        else:
            threshold_c = threshold
        edits.append(Edit(f"E{len(edits) + 1:04d}", "reassign", home[c], {
            "contacts": [str(cids[i]) for i in pick], "teach": True,
            "centroid": centroid.tolist(), "threshold": threshold_c}))  # fmt: skip
    after = route(ids, X, curate(themes, edits), cids)
    plain = [Edit(e.edit_id, e.action, e.theme_id, {"contacts": e.params["contacts"]})
             for e in edits]  # fmt: skip
    named_only = route(ids, X, curate(themes, plain), cids)
    moved = np.flatnonzero(after != ids)
    all_named = set().union(*named.values()) if named else set()
    learnt = [i for i in moved if i not in all_named]
    target_class = {home[c]: c for c in named}
    right = sum(target_class.get(after[i]) == y[i] for i in learnt)
    fixed = sum(after[i] == home[c] for c in misfiled for i in misfiled[c])
    return {
        "set": name, "threshold": threshold, "rule": rule, "k": k, "lessons": len(edits),
        "named": len(all_named), "learnt": len(learnt),
        "precision": round(right / len(learnt), 3) if learnt else None,
        "fixed": round(fixed / max(1, sum(len(v) for v in misfiled.values())), 3),
        "purity_before": round(_purity(ids, y), 4),
        "purity_named_only": round(_purity(named_only, y), 4),
        "purity_taught": round(_purity(after, y), 4),
    }  # fmt: skip


def _spread(rows: np.ndarray) -> float:
    """The mean similarity of each example to the mean of the others (unit rows)."""
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    sims = []
    for i in range(len(unit)):
        rest = np.delete(unit, i, axis=0).mean(axis=0)
        sims.append(float(unit[i] @ rest / np.linalg.norm(rest)))
    return float(np.mean(sims))


def _purity(ids: np.ndarray, y: np.ndarray) -> float:
    """Share of contacts in a theme whose majority class is theirs (unassigned count wrong)."""
    frame = pd.DataFrame({"theme": ids, "y": y})
    held = frame[frame["theme"] != ""]
    majority = held.groupby("theme")["y"].agg(lambda s: s.mode()[0])
    return float((held["theme"].map(majority) == held["y"]).sum() / len(frame))


if __name__ == "__main__":
    main()
