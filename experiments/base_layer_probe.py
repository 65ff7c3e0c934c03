"""PLSCAN's base layer as a candidate again, now that refits keep the chosen granularity.

    python -m experiments.base_layer_probe [--sets a,b] [--seeds 42,7,0]
    python -m experiments.base_layer_probe --evaluate

``plscan_clusters`` leaves out PLSCAN's base layer (the condensed tree's leaves at the floor size,
10, where the persistence has no peak). Stop 27 dropped it because a refit that re-derived the
layer flipped between 124 and 89 clusters on Banking77-test (0.858 of ids kept), but since stop
28 a refit keeps the first fit's smallest theme size, so that reason is gone. What is left is
whether the layer choice (``density.choose_layer``: over-split share, then the silhouette with
its standard error) picks better with the base layer on the list: on the 30-per-class sets the
finest persistent layer holds fewer themes than there are classes (HWU64-30pc at UMAP seed 0:
36 for 64; the 141 x 30 set: 99-125). Every layer, the base included, is merged, assigned and
scored as ``ThemeModel.fit`` does; the silhouette sample is drawn with the UMAP seed (as ``rca
fit`` draws it with its one ``random_state``) and with 42 (as ``fresh_bars`` does). Rows go to
``results/base_layer_probe.jsonl``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.between_layers_probe import DEFAULT_SETS
from experiments.layer_rule_probe import DEMO, emit, layers_of, layouts, probe_main, scored_layer
from experiments.validity_sample_probe import separation
from rca.cluster.density import Separation, base_earned, choose_layer
from rca.cluster.model import VALIDITY_SAMPLE

ROWS = Path(__file__).resolve().parent / "results" / "base_layer_probe.jsonl"
SAMPLE_SEEDS = ("umap", 42)


def run(names: list[str], seeds: list[int]) -> None:
    for name, seed, _X, y, unit, coords in layouts(names, seeds):
        persistent = {int(d.max() + 1) for d, _ in layers_of(coords)}
        for index, (dense, _) in enumerate(layers_of(coords, with_base=True)):
            model, row = scored_layer(name, seed, index, dense, unit, y)
            row["base"] = row["clusters"] not in persistent
            row["smallest"] = int(np.bincount(dense[dense >= 0]).min()) if row["clusters"] else 0
            for s in SAMPLE_SEEDS:
                sep = separation(model, unit, VALIDITY_SAMPLE, seed if s == "umap" else s)
                row[f"v_{s}"], row[f"se_{s}"] = sep
            emit(row, ROWS)


def pick(rows: list[dict], sample: str | int) -> dict:
    """The row ``choose_layer`` keeps among ``rows`` (finest first) on one sample's readings."""
    index = choose_layer(
        [r["share"] for r in rows],
        lambda i: Separation(rows[i][f"v_{sample}"], rows[i][f"se_{sample}"]),
    )
    return rows[index]


def earned(rows: list[dict], sample: str | int) -> dict:
    """The row the product keeps (``plscan_clusters``): the rule over the persistent layers,
    then the base layer instead of the finest if ``base_earned``."""
    layers = [r for r in rows if not r["base"]]
    kept = pick(layers, sample)
    base = [r for r in rows if r["base"]]
    if base and kept is layers[0]:
        b, f = base[0], layers[0]
        if base_earned(
            b["share"],
            lambda: Separation(b[f"v_{sample}"], b[f"se_{sample}"]),
            Separation(f[f"v_{sample}"], f[f"se_{sample}"]),
        ):
            return b
    return kept


def evaluate() -> None:
    frame = pd.read_json(ROWS, lines=True).drop_duplicates(["set", "seed", "index"], keep="last")
    print(
        "| set (true k) | UMAP seed | base layer: clusters, share | without base (sample: UMAP "
        "seed / 42) | base as a candidate | base when earned (product) | best layer |"
    )
    print("|---|---|---|---|---|---|---|")
    means: dict[str, list[list[float]]] = {}
    for (name, seed), group in frame.groupby(["set", "seed"], sort=False):
        rows = group.sort_values("index").to_dict("records")
        layers = [r for r in rows if not r["base"]]
        base = [r for r in rows if r["base"]]
        cells, accs = [], []
        for chooser, candidates in ((pick, layers), (pick, rows), (earned, rows)):
            picked = [chooser(candidates, s) for s in SAMPLE_SEEDS]
            cells.append(" / ".join(f"{p['themes']}: {p['accuracy']:.3f}" for p in picked))
            accs.extend(p["accuracy"] for p in picked)
        best = max(rows, key=lambda r: r["accuracy"])
        about = f"{base[0]['clusters']}, {base[0]['share']:.3f}" if base else "-"
        print(
            f"| {name} ({rows[0]['true_k']}) | {seed} | {about} | {' | '.join(cells)} | "
            f"{best['themes']}: {best['accuracy']:.3f} |"
        )
        means.setdefault(name, []).append(accs)
    print(
        "\n| set | without base: mean (UMAP seed / 42) | base as a candidate | base when earned |"
    )
    print("|---|---|---|---|")
    for name, values in means.items():
        m = np.mean(values, axis=0)
        print(
            f"| {name} | {m[0]:.3f} / {m[1]:.3f} | {m[2]:.3f} / {m[3]:.3f} | "
            f"{m[4]:.3f} / {m[5]:.3f} |"
        )


def main() -> None:
    probe_main(__doc__.splitlines()[0], run, evaluate, (*DEFAULT_SETS, DEMO))


if __name__ == "__main__":
    main()
