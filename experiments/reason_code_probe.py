"""How well do a team's reason codes, seeded by name, take their contacts? (`rca taxonomy create`)

    python -m experiments.reason_code_probe [--sets cfpb,banking77-test,bitext,hwu64]

A created theme without examples is the embedding of its name and description, and takes every
contact at least ``threshold`` cosine-similar to it (`rca.cluster.taxonomy.route`). Here each
labelled set's gold class names (ids turned into words, as the label score reads them) stand in
for a team's reason codes, all seeded at once. For thresholds 0.3-0.7 it prints the share of
contacts some code takes and how many of those are the code's own class, when a contact goes to
the most similar code it passes (the product since stop 36) and, at 0.5, when it goes to the
last code created that it passes (the product before). ``--from-labels SHARE`` makes the codes
from a share of the labelled contacts instead (`rca taxonomy import --from-attribute`: the mean
of the contacts coded with each) and scores them on the rest. Figures only; printed.
"""

from __future__ import annotations

import argparse

import numpy as np

from experiments.granularity_study import load_set
from rca.cluster.quality import class_name_words
from rca.embed.encoder import encoder_from_settings
from rca.settings import Settings
from rca.text.normalise import normalise_for_embedding

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="cfpb,banking77-test,bitext,hwu64")
    parser.add_argument(
        "--from-labels", type=float, default=0.0, help="codes from this share of the contacts"
    )
    args = parser.parse_args()
    if args.from_labels:
        from_labels(args.sets.split(","), args.from_labels)
        return
    encoder = encoder_from_settings(Settings())
    for name in args.sets.split(","):
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values()))).astype(str)
        classes = sorted(set(y))
        codes = [normalise_for_embedding(class_name_words(c)) for c in classes]
        sims = _unit(X) @ _unit(encoder.encode(codes, progress=False)).T
        gold = np.searchsorted(classes, y)
        nearest, best = sims.argmax(1), sims.max(1)
        quantiles = " / ".join(f"{q:.2f}" for q in np.quantile(best, [0.1, 0.5, 0.9]))
        print(f"{name}: {len(y)} contacts, {len(classes)} codes; best similarity p10/p50/p90 "
              f"{quantiles}; nearest code right for {np.mean(nearest == gold):.3f}")  # fmt: skip
        for threshold in THRESHOLDS:
            taken = best >= threshold
            right = float(np.mean(nearest[taken] == gold[taken])) if taken.any() else float("nan")
            print(f"  {threshold}: takes {taken.mean():.3f}, nearest code right for {right:.3f}")
        last = np.full(len(y), -1)
        for j in range(len(classes)):  # the old routing: created in order, the last one wins
            last[sims[:, j] >= 0.5] = j
        taken = last >= 0
        right = float(np.mean(last[taken] == gold[taken])) if taken.any() else float("nan")
        print(f"  0.5, last code made wins: takes {taken.mean():.3f}, right for {right:.3f}")


def from_labels(sets: list[str], share: float) -> None:
    """Codes seeded from the contacts a team already coded (a CRM's disposition on a share of
    the contacts): each code is the mean of its coded contacts, its threshold a low quantile
    of their similarity to it; scored on the contacts not used to build it."""
    rng = np.random.default_rng(0)
    for name in sets:
        _, X, levels = load_set(name)
        y = np.asarray(next(iter(levels.values()))).astype(str)
        unit = _unit(X)
        coded = rng.random(len(y)) < share
        classes = sorted(set(y[coded]))
        gold = np.searchsorted(classes, y)
        known = np.isin(y, classes)
        centroids = _unit(np.stack([unit[coded & (y == c)].mean(0) for c in classes]))
        sims = unit @ centroids.T
        own = sims[np.flatnonzero(coded), gold[coded]]
        test = ~coded & known
        nearest, best = sims.argmax(1), sims.max(1)
        right = np.mean(nearest[test] == gold[test])
        print(f"{name}: {coded.sum()} coded contacts, {len(classes)} codes; scored on "
              f"{test.sum()}: nearest code right for {right:.3f}")  # fmt: skip
        for q in (0.05, 0.1, 0.25):
            per_code = np.array(
                [np.quantile(own[gold[coded] == j], q) for j in range(len(classes))]
            )
            passes = sims >= per_code[None, :]
            masked = np.where(passes, sims, -np.inf)
            pick, ok = masked.argmax(1), passes.any(1)
            t = test & ok
            print(f"  quantile {q}: takes {t.sum() / test.sum():.3f}, right for "
                  f"{np.mean(pick[t] == gold[t]):.3f}")  # fmt: skip
        for threshold in (0.5, 0.6):
            t = test & (best >= threshold)
            print(f"  fixed {threshold}: takes {t.sum() / test.sum():.3f}, right for "
                  f"{np.mean(nearest[t] == gold[t]):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
