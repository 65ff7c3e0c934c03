"""Dimension reduction: cosine UMAP of sentence embeddings to a few dimensions for HDBSCAN.

Density clustering does not work in 384 dimensions (all distances look alike), so embeddings are
first mapped to a handful of dimensions with UMAP, which keeps local neighbourhoods intact.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache

import numpy as np

# UMAP's recommendation for clustering: let points pack tightly so dense regions stay dense.
MIN_DIST = 0.0
# Below this many rows an exact cosine kNN (blocked BLAS, O(n^2 d), ~4 s for 13k rows on two cores)
# is faster than pynndescent's first-call JIT compilation (~25 s) plus its run, and is exact.
EXACT_KNN_MAX_ROWS = 30_000
# PCA initialisation: same quality and seed-stability as UMAP's default spectral init on the train
# splits, but bounded cost; spectral init (ARPACK eigsh, also "tswspectral") stalled for >20 min
# on a 100k-contact set with many small graph components.
INIT = "pca"
# Rows per block in the exact kNN, bounding the similarity block to BLOCK_ROWS x n floats.
BLOCK_ROWS = 1024


def exact_cosine_knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine distances of each row's ``k`` nearest rows (itself included).

    ``X`` must be L2-normalised. Within a row, equal similarities are ordered by the lower row
    index so results are stable. The block product and the top-k run in torch when it is
    installed (it is, with sentence-transformers): its ``topk`` is multi-threaded, where numpy's
    ``argpartition`` over a 1024 x 25k block took 40% of a 100k-contact fit.
    """
    n = len(X)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    top = _torch_topk(X, k) if _has_torch() else None
    for start in range(0, n, BLOCK_ROWS):
        if top is not None:
            part_sims, part = top(start)
        else:
            sims = X[start : start + BLOCK_ROWS] @ X.T
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            part_sims = np.take_along_axis(sims, part, axis=1)
        # similarity descending, then row index ascending
        order = np.lexsort((part, -part_sims), axis=1) if part.size else part
        indices[start : start + BLOCK_ROWS] = np.take_along_axis(part, order, axis=1)
        best = np.take_along_axis(part_sims, order, axis=1)
        distances[start : start + BLOCK_ROWS] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:  # a lean install without the embedding extra still clusters
        return False
    return True


def _torch_topk(X: np.ndarray, k: int) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """A function from a block's first row to that block's (similarities, indices) top-k."""
    import torch

    full = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))

    def block(start: int) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            sims = full[start : start + BLOCK_ROWS] @ full.T
            values, idx = torch.topk(sims, k, dim=1, largest=True, sorted=False)
        return values.numpy(), idx.numpy()

    return block


@lru_cache(maxsize=1)
def cache_umap_kernels() -> int:
    """Switch on numba's on-disk cache for umap-learn's kernels that ship without it.

    umap-learn 0.5 declares ``smooth_knn_dist``, ``compute_membership_strengths`` and the layout
    epoch without ``cache=True`` (pynndescent caches its own), so every process compiled them
    again: 9.4 s of a 70 s ``rca fit`` on 100,000 contacts (cProfile). Numba's cache is keyed by
    the source file and the argument types, so a new umap-learn recompiles once and the
    compiled code is the same. Returns how many kernels were switched.
    """
    import umap.layouts
    import umap.umap_
    import umap.utils
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    switched = 0
    for module in (umap.umap_, umap.layouts, umap.utils):
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and isinstance(value._cache, NullCache):
                value.enable_caching()
                switched += 1
    return switched


def reduce(X: np.ndarray, n_neighbors: int, n_components: int, random_state: int) -> np.ndarray:
    """UMAP (cosine) coordinates of ``X`` in ``n_components`` dimensions, as float64.

    A fixed ``random_state`` makes UMAP single-threaded but reproducible: refitting the same
    contacts gives the same themes.
    """
    with warnings.catch_warnings():  # umap announces its optional TensorFlow extra on import
        warnings.filterwarnings("ignore", message=".*Tensorflow not installed.*")
        import umap  # heavy import (numba); only needed when fitting
    cache_umap_kernels()

    n_neighbors = max(2, min(n_neighbors, len(X) - 1))
    knn = exact_cosine_knn(X, n_neighbors) if len(X) <= EXACT_KNN_MAX_ROWS else None
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=n_components,
        min_dist=MIN_DIST,
        metric="cosine",
        random_state=random_state,
        init=INIT,
        precomputed_knn=knn if knn is not None else (None, None, None),
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by setting random_state" is the deliberate trade described above, and
        # the missing kNN search index only matters for UMAP.transform, which is never used.
        warnings.filterwarnings("ignore", message=".*n_jobs value.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*knn_search_index.*", category=UserWarning)
        coords = reducer.fit_transform(X)
    return np.asarray(coords, dtype=np.float64)
