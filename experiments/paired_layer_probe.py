"""Does comparing two PLSCAN layers on the same rows take the draw out of the layer choice?

    python -m experiments.paired_layer_probe [--sets ...] [--seeds 42,43,44,7,8,9,0,1,2]
    python -m experiments.paired_layer_probe --evaluate

The layer rule moves one layer coarser when the coarser layer's silhouette beats this one's by
more than its standard error (``density.choose_layer``). Each layer is scored on its own sample
of 2,000 rows with an error from the spread of its themes' means: on HWU64 as ``rca evaluate``
embeds it the coarser layer (~57 themes) scored higher than the finer one (~95-120) in every
layout, by 0.008-0.03, against errors of 0.014-0.02, so which layer a fit kept was a coin flip
(six of 18 layouts kept the finer one, and the vote of three followed them at seeds 42 and 7).

Here the two layers are compared on the *same* rows (assigned in both), the difference taken
row by row, and its error read over the coarser layer's themes (the finer layer's themes nest
in them): a theme the finer layer does not split differs by next to nothing, one it splits into
near-duplicates shows the cost. On a set where the coarser layer holds only a few themes (CFPB:
14 themes against 2) the error over 2 themes is wide and the finer layer stays, as the unpaired
rule keeps it. For every layout the probe records each layer's themes and accuracy, the product's
choice (unpaired) and the paired one, and the smallest theme size each keeps (what the vote
reads). Rows go to ``results/paired_layer_probe.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_samples
from sklearn.utils import check_random_state

from experiments.epochs_probe import coords
from experiments.granularity_study import load_set
from experiments.layer_rule_probe import layers_of, probe_main
from rca.cluster import density as D
from rca.cluster.merge import merge_threshold
from rca.cluster.model import VALIDITY_SAMPLE, ThemeModel, _smallest_cluster, _unit_rows
from rca.cluster.quality import cluster_scores
from rca.cluster.separation import paired_gap

ROWS = Path(__file__).resolve().parent / "results" / "paired_layer_probe.jsonl"
VARIANTS = Path(__file__).resolve().parent / "results" / "paired_layer_variants.jsonl"
SETS = ("hwu64@product", "banking77-test", "bitext", "hwu64", "hwu64-30pc")
SETS += ("banking77-all-30pc", "banking77+hwu64-30pc", "cfpb", "bitext@product")
SETS += ("banking77-test@product",)


def gap_over(
    unit: np.ndarray, fine: np.ndarray, coarse: np.ndarray, seed: int, by: str = "coarser"
) -> D.Separation:
    """The product's paired gap (``separation.paired_gap``, the error over the coarser layer's
    themes), or with ``by="finer"`` the variant measured and not adopted: the same difference
    with its error over the finer layer's themes."""
    if by == "coarser":
        return paired_gap(unit, fine, coarse, seed)
    both = np.flatnonzero((fine >= 0) & (coarse >= 0))
    rows = both[check_random_state(seed).permutation(len(both))[:VALIDITY_SAMPLE]]
    if len(np.unique(fine[rows])) < 2 or len(np.unique(coarse[rows])) < 2:
        return D.Separation(float("nan"), float("nan"))
    diff = silhouette_samples(unit[rows], coarse[rows], metric="cosine") - silhouette_samples(
        unit[rows], fine[rows], metric="cosine"
    )
    _, theme_of = np.unique(fine[rows], return_inverse=True)
    per_theme = np.bincount(theme_of, weights=diff) / np.bincount(theme_of)
    return D.Separation(
        float(diff.mean()), float(np.std(per_theme, ddof=1) / np.sqrt(len(per_theme)))
    )


def run(name: str, seed: int) -> dict:
    _, X, levels = load_set(name)
    y = np.asarray(next(iter(levels.values())))
    unit = _unit_rows(X)
    layout = coords(name, X, seed, 0)[0]
    found = layers_of(layout, with_base=True)
    layers = [lay for lay, score in found if score > 0] or [found[0][0]]
    base = found[0][0] if found[0][1] <= 0 and len(found) > 1 else None
    similarity = merge_threshold(1.0)
    models, fields = [], []
    for dense in layers:
        m = ThemeModel(random_state=seed)
        m._assign(unit, m._merge(unit, dense))
        s = cluster_scores(y, m.labels_)
        models.append(m)
        fields.append({
            "themes": int(m.n_themes_), "accuracy": round(float(s["accuracy"]), 4),
            "smallest": int(_smallest_cluster(dense)),
            "share": round(D.oversplit_share(unit, dense, similarity), 4),
        })  # fmt: skip
    shares = [f["share"] for f in fields]
    seps = [m._separation(unit) for m in models]
    unpaired = D.choose_layer(shares, lambda i: seps[i])
    paired = D.choose_layer(shares, lambda i: seps[i], gap=lambda i, j: gap_over(
        unit, models[i].labels_, models[j].labels_, seed))  # fmt: skip
    variants = {
        f"{by}-{tag}": D.choose_layer(
            shares,
            lambda i: seps[i],
            gap=lambda i, j, by=by, rs=rs: gap_over(
                unit, models[i].labels_, models[j].labels_, rs, by
            ),
        )
        for by in ("coarser", "finer")
        for tag, rs in (("own", seed), ("s42", 42))
    }
    out = {"set": name, "seed": seed, "layers": fields, "unpaired": unpaired, "paired": paired,
           "variants": variants,
           "base_possible": base is not None,
           "validity": [[round(s.mean, 4), round(s.se, 4)] for s in seps]}  # fmt: skip
    if base is not None and 0 in (unpaired, paired):
        mb = ThemeModel(random_state=seed)
        mb._assign(unit, mb._merge(unit, base))
        earned = D.base_earned(D.oversplit_share(unit, base, similarity),
                               lambda: mb._separation(unit), seps[0])  # fmt: skip
        out["base_earned"] = bool(earned)
        if earned:
            s = cluster_scores(y, mb.labels_)
            out["base"] = {"themes": int(mb.n_themes_), "accuracy": round(float(s["accuracy"]), 4),
                           "smallest": int(_smallest_cluster(base))}  # fmt: skip
    with (VARIANTS if "variants" in out else ROWS).open("a") as f:
        f.write(json.dumps(out) + "\n")
    return out


def _pick(r: dict, way: str) -> dict:
    if r[way] == 0 and r.get("base_earned"):
        return r["base"]
    return r["layers"][r[way]]


def evaluate() -> None:
    frame = pd.read_json(ROWS, lines=True).drop_duplicates(["set", "seed"], keep="last")
    for name, group in frame.groupby("set", sort=False):
        cells = {"unpaired": [], "paired": []}
        for _, r in group.iterrows():
            for way in cells:
                p = _pick(r, way)
                cells[way].append((r["seed"], p["themes"], p["accuracy"]))
        line = [name]
        for way, picks in cells.items():
            accs = [a for _, _, a in picks]
            line.append(f"{way}: " + " / ".join(f"{t}: {a:.3f}" for _, t, a in picks)
                        + f" (mean {np.mean(accs):.3f})")  # fmt: skip
        print(" | ".join(line))


def run_all(names: list[str], seeds: list[int]) -> None:
    for name in names:
        for seed in seeds:
            r = run(name, seed)
            layers = [(f["themes"], f["accuracy"]) for f in r["layers"]]
            print(name, seed, layers, r["variants"], r["unpaired"], r["paired"], flush=True)


def main() -> None:
    probe_main(__doc__.splitlines()[0], run_all, evaluate, SETS, "42,43,44,7,8,9,0,1,2")


if __name__ == "__main__":
    main()
