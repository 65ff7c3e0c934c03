"""Parent headings over a single theme: leave them, or file each under its nearest theme's?

    python -m experiments.singleton_parent_probe [--sets hwu64,bitext,cfpb] [--seeds 42,7,0]

On the real CFPB export the parent cut (the Ward tree's finest cut within one paired standard
error of the best centroid silhouette) left 4 of 8 headings over one theme each: two
one-company themes, a template and "Loan for solar panels". Issue #19 names "a parent over a
single theme" as a sign of useless parent groups. This refits each set's voted fine level on
cached layouts (as ``parent_rule_probe``) and scores, against the coarse labels:

- ``product``: the product's cut before stop 61 (the silhouette cut alone);
- ``joined``: the same, then each single-theme group filed under the group of its nearest
  theme by centroid cosine, while no group passes the cut's share bounds (the product since
  stop 61: :func:`rca.cluster.hierarchy.file_lone_themes`);
- ``joined_close``: the same, only where that nearest theme is closer than the median
  distance of a theme to its nearest groupmate within the cut (a singleton as near to a group
  as its members are to each other).

Rows go to ``results/singleton_parent_probe.jsonl``; figures printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from experiments.parent_rule_probe import voted_fit
from rca.cluster import hierarchy as H
from rca.cluster.quality import clustering_accuracy

ROWS = Path(__file__).resolve().parent / "results" / "singleton_parent_probe.jsonl"


def joined(groups: np.ndarray, dist: np.ndarray, sizes: np.ndarray, *, close: bool) -> np.ndarray:
    """``groups`` with each single-theme group filed under its nearest theme's group."""
    out = groups.copy()
    counts = np.bincount(out)
    d = dist.copy()
    np.fill_diagonal(d, np.inf)
    mates = [d[i, (out == out[i])].min() for i in range(len(out)) if counts[out[i]] > 1]
    limit = float(np.median(mates)) if mates else 0.0
    for i in np.argsort(d.min(axis=1)):  # the nearest singletons first
        if np.bincount(out)[out[i]] != 1:
            continue
        j = int(np.argmin(d[i]))
        if close and d[i, j] > limit:
            continue
        trial = out.copy()
        trial[i] = out[j]
        if H.is_parent_level(trial, sizes):
            out = trial
    return out


def run(name: str, seed: int) -> dict:
    _, y, main = voted_fit(name, seed)
    lab, k = main.labels_, main.n_themes_
    sizes = np.bincount(lab[lab >= 0], minlength=k).astype(float)
    dist = H._cosine_distances(main.centroids_)
    product = H._silhouette_cut(main.centroids_, dist, sizes)
    variants = {"product": product}
    if H.has_parent_level(product):
        variants["joined"] = H.parent_groups(main.centroids_, sizes)
        assert len(np.unique(joined(product, dist, sizes, close=False))) == len(
            np.unique(variants["joined"])
        )
        variants["joined_close"] = joined(product, dist, sizes, close=True)
    out = {"set": name, "seed": seed, "themes": int(k), "classes": int(len(np.unique(y)))}
    for v, g in variants.items():
        par = np.where(lab >= 0, g[np.maximum(lab, 0)], -1)
        out[v] = {
            "groups": int(len(np.unique(g))),
            "singletons": int((np.bincount(g) == 1).sum()),
            "acc": round(clustering_accuracy(y, par), 4),
        }
    with ROWS.open("a") as f:
        f.write(json.dumps(out) + "\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="hwu64,bitext,cfpb")
    p.add_argument("--seeds", default="42,7,0")  # the seeds with a recorded vote for every set
    a = p.parse_args()
    for name in a.sets.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            r = run(name, seed)
            cells = "  ".join(
                f"{v} {r[v]['groups']}g/{r[v]['singletons']}s:{r[v]['acc']:.3f}"
                for v in ("product", "joined", "joined_close")
                if v in r
            )
            print(f"{name} s{seed} k={r['themes']}/{r['classes']}  {cells}", flush=True)


if __name__ == "__main__":
    main()
