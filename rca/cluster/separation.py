"""How much better one layer's themes separate the same contacts than another's.

The layer rule (``density.choose_layer``) moves one PLSCAN layer coarser when the coarser
layer's themes are better separated by more than the error of that comparison. Scoring each
layer on its own sample, with an error from the spread of its own themes, made the choice a
coin flip where the difference was real but small: on HWU64 as ``rca evaluate`` embeds it the
~57-theme layer beat the ~110-theme one in every layout by 0.008-0.03, against errors of
0.012-0.02, and a fit kept the finer, less accurate layer in six layouts of eighteen
(experiments/results/granularity.md, stop 57). Here both layers are read on the *same* rows and
the difference is taken row by row; its error is the spread over the coarser layer's themes (a
finer layer's themes nest in them: a theme it does not split differs by next to nothing, one it
splits into near-duplicates shows the cost), so a coarser layer of a handful of themes (CFPB:
14 themes against 2) still has a wide error and the finer layer stays.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import silhouette_samples
from sklearn.utils import check_random_state

from rca.cluster.density import Separation

#: Rows read per comparison: as many as a layer's own validity reads (``model.VALIDITY_SAMPLE``).
GAP_SAMPLE = 2000


def paired_gap(
    unit: np.ndarray,
    finer: np.ndarray,
    coarser: np.ndarray,
    random_state: int | None,
    sample: int = GAP_SAMPLE,
) -> Separation:
    """Mean cosine silhouette of ``coarser``'s themes less ``finer``'s over the same sampled
    rows (assigned in both, ``-1`` = unassigned), with its standard error over ``coarser``'s
    themes (the spread of their mean differences over the square root of their number). NaN
    when either side has fewer than two themes among the rows, or ``coarser`` fewer than two
    themes to read an error over. ``unit``: the rows' unit vectors."""
    finer, coarser = np.asarray(finer), np.asarray(coarser)
    both = np.flatnonzero((finer >= 0) & (coarser >= 0))
    rows = both[check_random_state(random_state).permutation(len(both))[:sample]]
    nan = Separation(float("nan"), float("nan"))
    if len(np.unique(finer[rows])) < 2 or len(np.unique(coarser[rows])) < 2:
        return nan
    points = unit[rows]
    diff = silhouette_samples(points, coarser[rows], metric="cosine") - silhouette_samples(
        points, finer[rows], metric="cosine"
    )
    _, theme_of = np.unique(coarser[rows], return_inverse=True)
    per_theme = np.bincount(theme_of, weights=diff) / np.bincount(theme_of)
    se = float(np.std(per_theme, ddof=1) / np.sqrt(len(per_theme)))
    return Separation(float(diff.mean()), se)
