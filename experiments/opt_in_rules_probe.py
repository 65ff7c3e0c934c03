"""The opt-in size rules at HDBSCAN's present ``min_samples``, on the fine-level sets.

    python -m experiments.opt_in_rules_probe [--sets ...] [--seeds 42,7,0]

``RCA_FIT_THEME_SIZE=size`` (n/150, ``ThemeModel``'s own default) and ``persistence``
(``density.size_by_persistence``) changed with stop 58's ``min_samples`` (5 -> the floor, 10)
without being measured again. This fits each on the study's cached UMAP layouts (seeds 42 / 7 /
0, one layout each: neither rule votes) and scores themes and accuracy against
``size_vote_probe.FRESH_BARS``, beside the default (``plscan``, one layout, no vote). Rows go to
``results/opt_in_rules_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from experiments.epochs_probe import coords
from experiments.granularity_study import _fit_on_coords, load_set
from experiments.size_vote_probe import FRESH_BARS, MAX_UNASSIGNED
from rca.cluster.model import MIN_SAMPLES
from rca.cluster.quality import cluster_scores

ROWS = Path(__file__).resolve().parent / "results" / "opt_in_rules_probe.jsonl"
SETS = ("banking77-test", "bitext", "hwu64", "cfpb", "banking77-all-30pc", "hwu64-30pc")
SETS += ("banking77+hwu64-30pc",)
RULES = {"size": None, "persistence": "persistence", "plscan": "plscan"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default="42,7,0")
    args = parser.parse_args()
    met = {rule: 0 for rule in RULES}
    fits = 0
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values())))
        for seed in (int(s) for s in args.seeds.split(",")):
            layout = coords(name, X, seed, 0)[0]
            row: dict = {"set": name, "seed": seed, "min_samples": MIN_SAMPLES}
            for rule, size in RULES.items():
                model = _fit_on_coords(X, layout, min_cluster_size=size)
                s = cluster_scores(y, model.labels_)
                unassigned = s["unassigned_fraction"]
                ok = s["accuracy"] >= FRESH_BARS[name] and unassigned <= MAX_UNASSIGNED
                met[rule] += ok
                row[rule] = {
                    "themes": int(model.n_themes_),
                    "accuracy": round(s["accuracy"], 4),
                    "unassigned": round(unassigned, 4),
                    "met": bool(ok),
                }
            fits += 1
            with ROWS.open("a") as out:
                out.write(json.dumps(row) + "\n")
            cells = "  ".join(
                f"{r} {row[r]['themes']}: {row[r]['accuracy']:.3f}{'*' if row[r]['met'] else ''}"
                for r in RULES
            )
            print(f"{name} s{seed} (bar {FRESH_BARS[name]}): {cells}", flush=True)
    print("met: " + ", ".join(f"{r} {n} of {fits}" for r, n in met.items()))


if __name__ == "__main__":
    main()
