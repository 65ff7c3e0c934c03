"""Does the layer choice hang on which 2,000 rows its silhouette reads?

    python -m experiments.validity_sample_probe [--sets a,b] [--seeds 42,7,0]
    python -m experiments.validity_sample_probe --evaluate

``ThemeModel`` compares PLSCAN's layers by the cosine silhouette of each layer's final themes,
read on ``VALIDITY_SAMPLE`` (2,000) assigned rows drawn with the fit's ``random_state``, with a
standard error over themes (``density.choose_layer``). On HWU64 at UMAP seed 0 the product kept
119 themes while ``between_layers_probe``, the same layers scored with another sample seed, kept
47 (granularity.md, stop 51): the sample, not the data, decided. For every layer this probe reads
the separation on five 2,000-row samples (seeds 0-4), on larger samples, and on every assigned
row, with the layer's accuracy against the fine labels. ``--evaluate`` applies the product's rule
to each reading and says how often the chosen layer moves with the sample seed and what each
reading would have scored. Rows go to ``results/validity_sample_probe.jsonl``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.between_layers_probe import DEFAULT_SETS
from experiments.layer_rule_probe import emit, layers_of, layouts, probe_main, scored_layer
from rca.cluster.density import Separation, choose_layer
from rca.cluster.model import ThemeModel

ROWS = Path(__file__).resolve().parent / "results" / "validity_sample_probe.jsonl"
SAMPLE_SEEDS = (0, 1, 2, 3, 4)
SIZES = (2000, 5000)


def separation(model: ThemeModel, unit: np.ndarray, size: int | None, seed: int) -> Separation:
    """``model``'s separation as ``ThemeModel._separation`` reads it, on a ``size``-row sample
    drawn with ``seed`` (every assigned row for None)."""
    import rca.cluster.model as model_module

    kept, original = model.random_state, model_module.VALIDITY_SAMPLE
    model.random_state, model_module.VALIDITY_SAMPLE = seed, size or len(unit)
    try:
        return model._separation(unit)
    finally:
        model.random_state, model_module.VALIDITY_SAMPLE = kept, original


def run(names: list[str], seeds: list[int]) -> None:
    for name, seed, _X, y, unit, coords in layouts(names, seeds):
        for index, (dense, _) in enumerate(layers_of(coords)):
            model, row = scored_layer(name, seed, index, dense, unit, y)
            for size in SIZES:
                for s in SAMPLE_SEEDS if size == SIZES[0] else SAMPLE_SEEDS[:2]:
                    sep = separation(model, unit, size, s)
                    row[f"v{size}_{s}"], row[f"se{size}_{s}"] = sep
            started = time.perf_counter()
            sep = separation(model, unit, None, 0)
            row["v_all"], row["se_all"] = sep
            row["seconds_all"] = time.perf_counter() - started
            emit(row, ROWS)


def pick(rows: list[dict], key: str) -> dict:
    shares = [r["share"] for r in rows]
    index = choose_layer(shares, lambda i: Separation(rows[i][f"v{key}"], rows[i][f"se{key}"]))
    return rows[index]


def evaluate() -> None:
    frame = pd.read_json(ROWS, lines=True).drop_duplicates(["set", "seed", "index"], keep="last")
    keys = [f"{SIZES[0]}_{s}" for s in SAMPLE_SEEDS] + [f"{SIZES[1]}_{s}" for s in SAMPLE_SEEDS[:2]]
    keys.append("_all")
    print(
        "| set (true k) | UMAP seed | layers | 2,000 rows, sample seeds 0-4 | 5,000 rows, 0-1 "
        "| all rows |"
    )
    print("|---|---|---|---|---|---|")
    means: dict[str, dict[str, list[float]]] = {}
    for (name, seed), group in frame.groupby(["set", "seed"], sort=False):
        rows = group.sort_values("index").to_dict("records")
        picks = {k: pick(rows, k) for k in keys}
        cells = [
            " / ".join(f"{picks[k]['themes']}: {picks[k]['accuracy']:.3f}" for k in ks)
            for ks in (keys[:5], keys[5:7], keys[7:])
        ]
        layers = ", ".join(str(r["themes"]) for r in rows)
        print(f"| {name} ({rows[0]['true_k']}) | {seed} | {layers} | {' | '.join(cells)} |")
        for k in keys:
            means.setdefault(name, {}).setdefault(k, []).append(picks[k]["accuracy"])
    print("\n| set | 2,000 rows (mean over sample seeds) | 5,000 rows | all rows |")
    print("|---|---|---|---|")
    for name, by_key in means.items():
        two = np.mean([np.mean(by_key[k]) for k in keys[:5]])
        five = np.mean([np.mean(by_key[k]) for k in keys[5:7]])
        print(f"| {name} | {two:.3f} | {five:.3f} | {np.mean(by_key['_all']):.3f} |")
    print(f"\nseconds for all rows: max {frame['seconds_all'].max():.1f}")


def main() -> None:
    probe_main(__doc__.splitlines()[0], run, evaluate, DEFAULT_SETS)


if __name__ == "__main__":
    main()
