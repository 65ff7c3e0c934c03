"""How often a refit proposes a pinned name (``rca.cluster.pins.moved_pins``) when nothing but
the seed changed.

    python -m experiments.pin_probe [--sets bitext,hwu64,cfpb,banking77-test]

Every theme of a fit at UMAP seed a is pinned with its own fitted name (as if a reviewer had
accepted every name); the fit at seed b is matched to it by lineage
(``rca.cluster.lineage.match_themes``) and the pins lineage kept are checked. These are raw
fits, without the product's hysteresis and held themes, so themes change more than in a
``rca fit`` refit: a proposal here is either a false alarm or a theme whose contacts really
changed (the printed message says which). Rows go to ``results/pin_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from experiments.granularity_study import _coords, _encode, _fit_on_coords, load_set
from rca.cluster.labels import problem_names, theme_keywords
from rca.cluster.lineage import match_themes
from rca.cluster.pins import moved_pins

ROWS = Path(__file__).resolve().parent / "results" / "pin_probe.jsonl"
SEEDS = (42, 7, 0)


def run(name: str) -> None:
    texts, X, _ = load_set(name)
    fits = {}
    for seed in SEEDS:
        model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
        keywords = theme_keywords(texts, model.labels_)
        names = problem_names(
            texts, model.labels_, X, model.centroids_, keywords=keywords, embed=_encode
        )
        fits[seed] = (model, names)
    for a in SEEDS:
        for b in SEEDS:
            if a == b:
                continue
            (before, names_a), (after, names_b) = fits[a], fits[b]
            ids_a = [f"T{i:04d}" for i in range(before.n_themes_)]
            match = match_themes(
                ids_a, before.centroids_, before.labels_, after.centroids_, after.labels_,
                next_id=10_000,
            )  # fmt: skip
            ids_b = list(match.ids)
            pinned = {ids_a[t]: names_a[t] for t in range(before.n_themes_)}
            kept = [t for t in pinned if t in ids_b]
            proposals = moved_pins(
                pinned,
                (ids_a, before.centroids_),
                (ids_b, after.centroids_),
                embed=_encode,
                fitted_names={ids_b[t]: names_b[t] for t in range(after.n_themes_)},
            )
            row = {
                "set": name,
                "from_seed": a,
                "to_seed": b,
                "pins_kept": len(kept),
                "proposed": len(proposals),
                "messages": [p.message for p in proposals],
            }
            with ROWS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{name} {a}->{b}: {len(kept)} pins kept, {len(proposals)} proposed", flush=True)
            for p in proposals:
                print("    ", p.message, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="bitext,hwu64,cfpb,banking77-test")
    for name in ap.parse_args().sets.split(","):
        run(name)


if __name__ == "__main__":
    main()
