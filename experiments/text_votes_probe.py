"""Does a name that more of the theme's central texts pick say the right reason code more often
than the name nearest the theme's centroid?

    python -m experiments.text_votes_probe [--sets a,b] [--seeds 42,7,0]

A broad theme's most central phrase can be one narrow case ("Removed from my credit report" for
1,194 CFPB complaints about credit and account information): long phrases sit close to the mean
of long narratives. Here each of the theme's central texts (the ones the product reads its
candidates from) votes for the candidate nearest to it, and a candidate scores its share of the
votes (the product's score breaks ties). ``votes, contrast`` votes by the product's own score
with the text in place of the centroid (its cosine to the text less ``NAME_CONTRAST`` times its
cosine to the nearest other theme's centroid). Same fits, sets and scoring as
``mean_contrast_probe``; rows go to ``results/text_votes_probe.jsonl``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import rca.cluster.labels as labels_module
from experiments.mean_contrast_probe import SETS, Named, prepare, score_names

ROWS = Path(__file__).resolve().parent / "results" / "text_votes_probe.jsonl"


def _central_rows(fit: Named) -> dict[int, np.ndarray]:
    """Each theme's central rows, chosen as ``problem_names`` chooses them."""
    unit = fit.X / np.maximum(np.linalg.norm(fit.X, axis=1, keepdims=True), 1e-12)
    cents = fit.centroids / np.maximum(np.linalg.norm(fit.centroids, axis=1, keepdims=True), 1e-12)
    out = {}
    for t in sorted(int(t) for t in np.unique(fit.labels) if t >= 0):
        members = np.flatnonzero(fit.labels == t)
        sims = unit[members] @ cents[t]
        out[t] = unit[members[np.lexsort((members, -sims))][: labels_module.NAME_CENTRAL_TEXTS]]
    return out


def run(name: str, seed: int) -> None:
    fit = prepare(name, seed)
    central = _central_rows(fit)
    product = labels_module._phrase_similarity
    for mode in ("votes", "votes, contrast"):

        def scored(embed_, flat, centroids_, *, contrast=0.0, mode=mode):
            base = product(embed_, flat, centroids_, contrast=contrast)
            vecs = np.asarray(embed_([p for _, p in flat]), dtype=np.float64)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            # the product's contrast term alone: base = own - contrast * nearest other
            own = np.einsum("ij,ij->i", vecs, centroids_[[t for t, _ in flat]])
            penalty = own - base if mode == "votes, contrast" else np.zeros(len(flat))
            share = np.zeros(len(flat))
            theme = np.array([t for t, _ in flat])
            for t in np.unique(theme):
                at = np.flatnonzero(theme == t)
                fit_ = central[int(t)] @ vecs[at].T - penalty[at]  # texts x candidates
                votes = np.bincount(fit_.argmax(axis=1), minlength=len(at))
                share[at] = votes / len(central[int(t)])
            return share + 1e-3 * base

        score_names(fit, scored, {"mode": mode}, ROWS)
    score_names(fit, product, {"mode": "product"}, ROWS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default="42,7,0")
    args = parser.parse_args()
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed)


if __name__ == "__main__":
    main()
