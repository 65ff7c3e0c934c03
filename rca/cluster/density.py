"""Density clustering of the reduced coordinates: how many themes, and which.

The default (``RCA_FIT_THEME_SIZE=plscan``, ``plscan_clusters``) reads PLSCAN's persistence
layers of the UMAP coordinates and keeps the finest one the centroid merge would not still
over-split. Measured on eight labelled sets at three UMAP seeds against the old size rule
(``default_min_cluster_size``, n/150, still ``ThemeModel``'s own default and ``size``): at least
as accurate on 22 of 24 set-and-seed pairs (experiments/results/granularity.md). Its choice moves
with the seed (shallow persistence peaks), so ``rca fit`` stores it and refits keep it
(``rca.cluster.granularity``: HDBSCAN's leaves at the chosen smallest size,
``density_clusters(selection="leaf")``); a first fit takes the median of three layouts' choices
(``ThemeModel._voted_size``). EVoC's layers (``layer_clusters``) and the persistence
size (``size_by_persistence``) stay opt-in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import NamedTuple

import numpy as np

# A theme must hold at least 1/MIN_SIZE_DIVISOR of the contacts (at granularity 1). Scaling with n
# keeps the number of themes readable (at most MIN_SIZE_DIVISOR, 50-70 in practice) for 3k and
# 100k contacts alike. 150 gave the best mean score over Banking77-train (3k and 10k) and
# Bitext-train (intents, categories) among settings meeting the Banking77 targets (tuning.md).
MIN_SIZE_DIVISOR = 150
# Below this a "theme" is an anecdote, not a recurring issue; also keeps tiny fits sensible.
MIN_CLUSTER_SIZE_FLOOR = 10
# Ceiling so that very large fits still surface themes of ~0.1-1% of contacts.
MIN_CLUSTER_SIZE_CEILING = 1000


def default_min_cluster_size(n_rows: int, granularity: float = 1.0) -> int:
    """Minimum theme size for ``n_rows`` contacts: ``n / (150 * granularity)``, within bounds."""
    size = round(n_rows / (MIN_SIZE_DIVISOR * granularity))
    return int(np.clip(size, MIN_CLUSTER_SIZE_FLOOR, MIN_CLUSTER_SIZE_CEILING))


# HDBSCAN's core distances in this process: its default (4 jobs) starts joblib workers on a
# fit's first call, 8-12 s on this busy 2-core machine for the 100,000-contact fit's 25,000
# rows against 0.5 s in process, with identical labels on all eight coordinate sets measured
# (experiments/fine_level_bench.py).
CORE_DIST_JOBS = 1

# Candidate minimum theme sizes when the size is chosen by the hierarchy's own stability.
PERSISTENCE_SIZE_GRID = (8, 10, 15, 20, 30, 45, 60, 90, 135)


def size_by_persistence(
    coords: np.ndarray, min_samples: int | None, grid: tuple[int, ...] = PERSISTENCE_SIZE_GRID
) -> int:
    """The minimum theme size whose HDBSCAN selection holds the most total persistence.

    For each size, HDBSCAN's excess-of-mass selection reports how long each chosen cluster
    persists in the condensed tree; the sum over clusters is the stability of that flat cut.
    Too small a size cuts real themes into short-lived pockets, too large merges them into few
    clusters: the total peaks in between, wherever the data put it (measured against a fixed
    n/150 in experiments/results/granularity.md). Ties go to the smaller size.
    """
    import hdbscan

    n = len(coords)
    sizes = [s for s in grid if 2 * s <= n] or [max(2, n // 2)]
    ms = None if min_samples is None else max(1, min(min_samples, n - 1))
    best_size, best_total = sizes[0], -1.0
    for size in sizes:
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=size,
            min_samples=ms,
            cluster_selection_method="eom",
            core_dist_n_jobs=CORE_DIST_JOBS,
        ).fit(coords)
        total = float(np.sum(clusterer.cluster_persistence_))
        if total > best_total + 1e-12:
            best_size, best_total = size, total
    return best_size


# A layer is over-split when the centroid merge would still join more than this share of its
# clusters; the next coarser layer is then taken (EVoC layers, ``layer_clusters``).
LAYER_OVERSPLIT_SHARE = 0.10


def layer_clusters(unit: np.ndarray, random_state: int, merge_similarity: float) -> np.ndarray:
    """Dense clusters from EVoC's persistence layers of the (unit) embeddings; -1 = noise.

    EVoC builds a hierarchy of cluster layers and scores each by its persistence; the most
    persistent layer is taken, then coarser ones while the centroid merge (at
    ``merge_similarity``) would join more than ``LAYER_OVERSPLIT_SHARE`` of a layer's clusters,
    i.e. while the layer still cuts themes into pockets of one wording. Measured on seven
    labelled sets and three seeds in experiments/results/granularity.md; opt-in (needs the
    ``evoc`` package).
    """
    import evoc  # optional; only for min_cluster_size="layers"

    ev = evoc.EVoC(random_state=random_state)
    ev.fit(np.asarray(unit, dtype=np.float32))
    layers = [np.asarray(layer, dtype=np.int64) for layer in ev.cluster_layers_]
    if not layers:
        return np.full(len(unit), -1, dtype=np.int64)
    index = int(np.argmax(ev.persistence_scores_))
    while index + 1 < len(layers):
        if oversplit_share(unit, layers[index], merge_similarity) <= LAYER_OVERSPLIT_SHARE:
            break
        index += 1
    return layers[index]


def oversplit_share(unit: np.ndarray, labels: np.ndarray, merge_similarity: float) -> float:
    """Share of a layer's clusters the centroid merge (at ``merge_similarity``) would join into
    another: high when the layer cuts themes into pockets of one wording. 0 for < 2 clusters."""
    from rca.cluster.merge import merge_groups
    from rca.cluster.model import label_sums

    k = int(labels.max() + 1)
    if k < 2:
        return 0.0
    sums = label_sums(unit, labels, k)
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return (k - int(merge_groups(centroids, merge_similarity).max() + 1)) / k


class Separation(NamedTuple):
    """How well a layer's final themes are separated: the fit's cosine silhouette (``mean``) and
    its standard error over the themes (``se``); NaN when it cannot be scored."""

    mean: float
    se: float


def plscan_clusters(
    coords: np.ndarray,
    unit: np.ndarray,
    min_samples: int | None,
    merge_similarity: float,
    *,
    with_base: bool = False,
    validity: Callable[[np.ndarray], float | Separation] | None = None,
    gap: Callable[[np.ndarray, np.ndarray], Separation] | None = None,
) -> np.ndarray:
    """Dense clusters from PLSCAN's persistence layers of the UMAP coordinates; -1 = noise.

    fast_hdbscan's PLSCAN builds HDBSCAN's hierarchy of ``coords`` once and keeps, as layers,
    the minimum cluster sizes where the clusters' total persistence peaks (finest first). The
    finest persistent layer is taken, then coarser ones while the centroid merge would join
    more than ``LAYER_OVERSPLIT_SHARE`` of a layer's clusters and the coarser layer is less
    over-split (coarsening that does not reduce the over-split is not resolving wording
    pockets), or while ``validity`` (the fit's score of a layer's final themes, higher better:
    ThemeModel passes its cosine silhouette with its standard error) is higher on the coarser
    layer by more than its standard error (see ``choose_layer``; with ``gap``, which ThemeModel
    passes beside ``validity``, the two layers are compared on the same rows instead:
    ``separation.paired_gap``, stop 57). The second
    condition catches layers that split themes into near-duplicates the centroid merge does
    not join: HWU64's finest layer (92-119 themes for 64 intents, over-split share 0.05-0.09)
    is less accurate (0.597) and less separated than the next one (0.649; measured on every
    set in experiments/results/granularity.md, stop 30).
    PLSCAN's base layer (the leaves at the floor size, no persistence peak) is no candidate of
    its own: as one (``with_base``) the rule sat on the 10 % edge between it and the next layer
    on Banking77-test. It is taken only when the rule stays at the finest persistent layer and
    the base layer earns its detail (``base_earned``): not over-split, and the persistent
    layer not better separated by more than the error (stop 59). Where classes are about
    as small as the floor (30 texts an intent) the finest persistent layer can hold far fewer
    themes than there are (36 for HWU64's 64 at one UMAP seed, 99-125 for 141); stop 52 in
    experiments/results/granularity.md. Deterministic given the coordinates (one thread, see
    below); the default fit's rule (``RCA_FIT_THEME_SIZE``).
    """
    import fast_hdbscan  # imported here: numba compiles on first use
    import numba

    n = len(coords)
    floor = max(2, min(MIN_CLUSTER_SIZE_FLOOR, n // 2))
    samples = floor if min_samples is None else max(1, min(min_samples, n - 1))
    # One numba thread: PLSCAN's parallel Boruvka races between threads unless it runs its
    # "reproducible" variant, which took 23-87 s on the 100,000-contact fit's 25,000 rows
    # against 1.3-1.7 s for one thread (same layers; experiments/fine_level_bench.py).
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        clusterer = fast_hdbscan.PLSCAN(
            min_samples=int(samples), base_min_cluster_size=int(floor)
        ).fit(np.asarray(coords, dtype=np.float64))
    finally:
        numba.set_num_threads(threads)
    found = [
        (np.asarray(layer, dtype=np.int64), float(score))
        for layer, score in zip(
            clusterer.cluster_layers_, clusterer.layer_persistence_scores_, strict=True
        )
    ]
    layers = [layer for layer, score in found if with_base or score > 0] or [found[0][0]]
    base = found[0][0] if not with_base and found[0][1] <= 0 and len(found) > 1 else None
    shares = [oversplit_share(unit, layer, merge_similarity) for layer in layers]
    if validity is None:
        return layers[choose_layer(shares, lambda _: np.nan)]
    score = cache(lambda i: validity(layers[i]))  # each layer's fit is scored once
    paired = None if gap is None else (lambda i, j: gap(layers[i], layers[j]))
    index = choose_layer(shares, score, gap=paired)
    if (
        index == 0
        and base is not None
        and base_earned(
            oversplit_share(unit, base, merge_similarity),
            lambda: validity(base),
            score(0),
            gap=None if gap is None else (lambda: gap(base, layers[0])),
        )
    ):
        return base
    return layers[index]


def _as_separation(value: float | Separation) -> Separation:
    """A validity reading as a ``Separation`` (no standard error: 0); NaN scores lowest."""
    mean, se = value if isinstance(value, tuple) else (float(value), 0.0)
    if not np.isfinite(mean):
        return Separation(-np.inf, 0.0)
    return Separation(float(mean), float(se) if np.isfinite(se) else 0.0)


def base_earned(
    share: float,
    base: Callable[[], float | Separation],
    finest: float | Separation,
    threshold: float = LAYER_OVERSPLIT_SHARE,
    *,
    gap: Callable[[], Separation] | None = None,
) -> bool:
    """Whether PLSCAN's base layer (no persistence peak) replaces the finest persistent layer:
    it must not be over-split (share at most ``threshold``), and the persistent layer must not
    separate better by more than the error. That is ``choose_layer``'s rule read towards
    detail: a coarser layer the data cannot tell from a finer one hides distinctions for
    nothing. ``base`` scores it only once the share allows: scoring a layer assigns every fit
    row to its hundreds of leaves (0.3-0.4 s on 10,000-13,000 rows), and on most data the base
    is over-split.

    With ``gap`` (the persistent layer's score less the base's on the same rows, with the
    error of that difference: ``separation.paired_gap``; ThemeModel passes it) the test reads
    it; without, the two layers' own scores and the persistent layer's error. NaN: not earned.

    Until stop 59 the burden sat on the base (better by more than its own error). Where
    classes are about as small as the floor the persistent layers merge them, and the two
    layers' silhouettes tie: HWU64 at 30 texts an intent, as ``rca evaluate`` reads it, kept
    35-54 themes for 64 intents (0.508-0.656) where the base holds 60-61 (0.668-0.675). Over 13
    sets x 3 seeds the fine-level bar is met at 36 fits against 33; Banking77-test (40 texts an
    intent) takes its base at ~100 themes for 77 (0.639-0.666) and misses its product-vector
    bar at two seeds (experiments/results/granularity.md, stop 59).
    """
    if share > threshold:
        return False
    if gap is not None:
        g = gap()
        return bool(np.isfinite(g.mean)) and not g.mean - g.se > 0
    here, there = _as_separation(base()), _as_separation(finest)
    return here.mean > -np.inf and not there.mean - there.se > here.mean


def choose_layer(
    shares: Sequence[float],
    validity: Callable[[int], float | Separation],
    threshold: float = LAYER_OVERSPLIT_SHARE,
    *,
    gap: Callable[[int, int], Separation] | None = None,
) -> int:
    """Index of the layer ``plscan_clusters`` keeps, given each layer's over-split share (finest
    first) and a validity score by index (higher better; NaN = cannot be scored), optionally
    with its standard error (a ``Separation``).

    Starting at the finest, move one layer coarser while the layer is over-split (share above
    ``threshold``, the product's ``LAYER_OVERSPLIT_SHARE``; experiments try others) and the
    coarser one less so, or while the coarser layer scores higher by more than its standard
    error. The second is the parent cut's one-standard-error rule read towards detail
    (``hierarchy.finest_within_one_se``): a coarser layer the data cannot tell from this one
    would hide distinctions for nothing. On long narratives every layer's silhouette is near
    0.04 (CFPB: 0.038 for 14 themes, 0.043 for 2, a standard error over themes of about 0.01)
    and a plain comparison gave a manager 2 themes for 2,827 complaints
    (experiments/results/granularity.md, stop 44). ``validity`` is only called for the layers
    compared. With ``gap`` (finer index, coarser index -> the coarser layer's score less the
    finer's on the same rows, with the error of that difference: ``separation.paired_gap``)
    the separation test reads it instead of the two layers' own scores (stop 57).
    """

    def score(i: int) -> Separation:
        return _as_separation(validity(i))

    def better(i: int) -> bool:
        """Whether the layer after ``i`` separates better by more than the error."""
        if gap is not None:
            g = gap(i, i + 1)
            return bool(g.mean - g.se > 0)  # NaN: not shown better
        here, there = score(i), score(i + 1)
        return bool(there.mean - there.se > here.mean)

    index = 0
    while index + 1 < len(shares):
        share, coarser = shares[index], shares[index + 1]
        oversplit = share > threshold and coarser < share
        if not oversplit and not better(index):
            break
        index += 1
    return index


def density_clusters(
    coords: np.ndarray, min_cluster_size: int, min_samples: int | None, selection: str = "eom"
) -> np.ndarray:
    """HDBSCAN labels of ``coords``; ``-1`` marks points in no dense region.

    ``selection="eom"`` (excess of mass) for a size rule; ``"leaf"`` for a refit that keeps a
    layered rule's granularity: the condensed tree's leaves at the layer's smallest theme size
    reproduce a PLSCAN layer (experiments/results/granularity.md).
    """
    import hdbscan  # heavy import; only needed when fitting

    min_samples = None if min_samples is None else max(1, min(min_samples, len(coords) - 1))
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=max(2, min(min_cluster_size, len(coords))),
        min_samples=min_samples,
        cluster_selection_method=selection,
        core_dist_n_jobs=CORE_DIST_JOBS,
    )
    return np.asarray(clusterer.fit_predict(coords), dtype=np.int64)
