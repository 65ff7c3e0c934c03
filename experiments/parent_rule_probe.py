"""Which label-free rule should cut the parent level of the *voted* fine themes?

    python -m experiments.parent_rule_probe [--sets hwu64,bitext,cfpb] [--seeds 42,7,0,1,2,3]

Stop 55's vote moved HWU64's fine level to ~60 themes, and the parent cut (the Ward tree's
finest cut within one standard error of the best centroid silhouette) turned them into 25-30
groups for 18 scenarios: the parent bar fell from 4 to 2 of 6 pairs. This refits each set's
voted fine level on cached layouts (``size_vote_probe``'s recorded vote) and scores every Ward
cut from 2 to 40 groups against the coarse labels, then what each rule would pick:

- ``one_se``: the product's rule (finest within one SE of the best centroid silhouette);
- ``best``: the best centroid silhouette;
- ``weighted``: the same silhouette with each theme weighted by its contacts, one-SE;
- ``layouts``: the cut whose groups the voting layouts reproduce: the fine themes' centroids
  in the two other UMAP layouts (seeds s+1, s+2) are cut by their own Ward trees into the same
  number of groups, and the mean adjusted Rand index with the embedding cut is read; the
  finest cut within one SE of the best agreement;
- ``paired``: the finest cut whose silhouette is within one *paired* standard error of the
  best (the per-theme differences between the two cuts of the same themes);
- ``paired_coarsest`` / ``paired_median``: the coarsest, or the middle one, of the cuts within
  one paired standard error of the best (stop 59);
- ``gap``: the cut below the Ward tree's largest relative jump in merge height.

Rows go to ``results/parent_rule_probe.jsonl``; figures printed.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from experiments.epochs_probe import coords
from experiments.granularity_study import COARSE, _fit_on_coords, load_set
from rca.cluster import hierarchy as H
from rca.cluster.model import MIN_SAMPLES
from rca.cluster.quality import clustering_accuracy

ROWS = Path(__file__).resolve().parent / "results" / "parent_rule_probe.jsonl"
VOTES = Path(__file__).resolve().parent / "results" / "size_vote_probe.jsonl"
BARS = {"hwu64": 0.653, "bitext": 0.762, "cfpb": 0.347}


def _voted(name: str, seed: int) -> int:
    """The vote ``size_vote_probe`` recorded for this set and seed at the model's
    ``MIN_SAMPLES`` and three layouts (rows before stop 58 carry neither: ``min_samples`` 5)."""
    out = None
    for line in VOTES.read_text().splitlines():
        r = json.loads(line)
        at = r.get("min_samples") or 5, r.get("votes") or 3
        if r["set"] == name and r["seed"] == seed and r["rows"] == 0 and at == (MIN_SAMPLES, 3):
            out = int(r["voted"])
    if out is None:
        raise SystemExit(f"no vote recorded for {name} seed {seed}: run size_vote_probe")
    return out


def _centroids(points: np.ndarray, lab: np.ndarray, k: int) -> np.ndarray:
    return np.stack([points[lab == t].mean(axis=0) for t in range(k)])


def _one_se(means: list[float], spreads: list[np.ndarray]) -> int:
    best = int(np.argmax(means))
    s = spreads[best]
    se = float(np.std(s, ddof=1) / math.sqrt(len(s))) if len(s) > 1 else 0.0
    return max(i for i, m in enumerate(means) if m >= means[best] - se)


def voted_fit(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, object]:
    """The set's vectors, coarse labels and its voted fine level refitted on the cached layout
    at ``seed`` (the vote ``size_vote_probe`` recorded)."""
    _, X, levels = load_set(name)
    y = np.asarray([v for k, v in levels.items() if k in COARSE][0])
    own = coords(name, X, seed, 0)[0]
    voted = _voted(name, seed)
    main = _fit_on_coords(X, own, min_cluster_size="plscan")
    if int(main.min_cluster_size_) != voted:
        main = _fit_on_coords(X, own, min_cluster_size=voted, cluster_selection="leaf")
    return X, y, main


def run(name: str, seed: int) -> dict:
    X, y, main = voted_fit(name, seed)
    lab, k = main.labels_, main.n_themes_
    sizes = np.bincount(lab[lab >= 0], minlength=k).astype(float)
    dist = H._cosine_distances(main.centroids_)
    tree = H.ward_tree(main.centroids_)
    others = []
    for extra in (seed + 1, seed + 2):
        layout = coords(name, X, extra, 0)[0]
        others.append(H.ward_tree(_centroids(layout, lab, k)))
    heights = tree[:, 2]
    cuts = []
    for g in range(2, min(k // 2, 40) + 1):
        raw = fcluster(tree, t=g, criterion="maxclust")
        par = np.where(lab >= 0, raw[np.maximum(lab, 0)], -1)
        row = {"g": g, "acc": round(clustering_accuracy(y, par), 4)}
        row["parent_level"] = bool(H.is_parent_level(raw, sizes))
        ps = silhouette_samples(dist, raw, metric="precomputed")
        row["sil"] = float(ps.mean())
        row["wsil"] = float(np.average(ps, weights=sizes))
        row["_ps"] = ps
        agree = [adjusted_rand_score(raw, fcluster(t, t=g, criterion="maxclust")) for t in others]
        row["ari"] = float(np.mean(agree))
        # the merge that makes g groups from g + 1 over the one that makes g - 1 from g
        row["jump"] = float(heights[k - g] / max(heights[k - g - 1], 1e-12))
        cuts.append(row)
    ok = [c for c in cuts if c["parent_level"] and c["sil"] > 0]
    picks = {}
    if ok:
        picks["one_se"] = ok[_one_se([c["sil"] for c in ok], [c["_ps"] for c in ok])]["g"]
        picks["best"] = ok[int(np.argmax([c["sil"] for c in ok]))]["g"]
        wmeans = [c["wsil"] for c in ok]
        wspread = [c["_ps"] for c in ok]
        picks["weighted"] = ok[_one_se(wmeans, wspread)]["g"]
        aris = [c["ari"] for c in ok]
        b = int(np.argmax(aris))
        picks["layouts_best"] = ok[b]["g"]
        picks["layouts"] = ok[max(i for i, a in enumerate(aris) if a >= aris[b] - 0.05)]["g"]
        qualified = H.within_one_se([c["_ps"] for c in ok])
        picks["paired"] = ok[qualified[-1]]["g"]
        picks["paired_coarsest"] = ok[qualified[0]]["g"]
        picks["paired_median"] = ok[qualified[len(qualified) // 2]]["g"]
        picks["gap"] = ok[int(np.argmax([c["jump"] for c in ok]))]["g"]
    by_g = {c["g"]: c for c in cuts}
    out = {
        "set": name, "seed": seed, "themes": int(k), "classes": int(len(np.unique(y))),
        "ceiling": max((c["acc"], c["g"]) for c in cuts),
        "picks": {r: [g, by_g[g]["acc"]] for r, g in picks.items()},
        "curve": [{kk: (round(v, 4) if isinstance(v, float) else v) for kk, v in c.items()
                   if kk != "_ps"} for c in cuts],
    }  # fmt: skip
    with ROWS.open("a") as f:
        f.write(json.dumps(out) + "\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="hwu64,bitext,cfpb")
    p.add_argument("--seeds", default="42,7,0,1,2,3")
    a = p.parse_args()
    for name in a.sets.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            r = run(name, seed)
            picks = "  ".join(f"{k} {g}:{acc:.3f}" for k, (g, acc) in r["picks"].items())
            print(f"{name} s{seed} k={r['themes']} ceiling {r['ceiling']}  {picks}", flush=True)


if __name__ == "__main__":
    main()
