"""Which contacts a large fit learns its themes from: a sample spread evenly over time.

UMAP costs O(n log n) time and a lot of memory (510 s and 1.2 GB for 100k contacts on two
cores), while themes are visible in far fewer contacts. Sampling each period (week) in
proportion to its volume keeps every week in the fit, so a theme that only exists in a few
weeks keeps its share of the sample instead of depending on the luck of a uniform draw.
"""

from __future__ import annotations

import numpy as np


def stratified_sample(
    strata: np.ndarray | None, n_rows: int, size: int, random_state: int
) -> np.ndarray:
    """Sorted row indices of a sample of ``size`` rows, allocated to strata by their share.

    Allocation is proportional with largest remainders, so the per-stratum counts add up to
    ``size`` exactly and every stratum with rows gets at least one. ``strata=None`` is one
    stratum (a uniform sample). Deterministic for a given ``random_state``.
    """
    if size >= n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    if strata is None:
        return np.sort(rng.choice(n_rows, size, replace=False))
    _, codes = np.unique(np.asarray(strata), return_inverse=True)
    counts = np.bincount(codes)
    exact = counts * (size / n_rows)
    quota = np.minimum(np.maximum(np.floor(exact).astype(np.int64), 1), counts)
    short = size - int(quota.sum())
    while short < 0:  # the one-per-stratum floor overshot: take back from the largest
        quota[int(np.argmax(quota))] -= 1
        short += 1
    if short > 0:  # hand the remaining rows to the largest remainders that still have rows
        order = np.argsort(-(exact - np.floor(exact)), kind="stable")
        for s in order:
            if short == 0:
                break
            if quota[s] < counts[s]:
                quota[s] += 1
                short -= 1
    picked = [
        rng.choice(np.flatnonzero(codes == s), int(q), replace=False)
        for s, q in enumerate(quota)
        if q > 0
    ]
    return np.sort(np.concatenate(picked))
