"""Dimension reduction: cosine UMAP of sentence embeddings to a few dimensions for HDBSCAN.

Density clustering does not work in 384 dimensions (all distances look alike), so embeddings are
first mapped to a handful of dimensions with UMAP, which keeps local neighbourhoods intact.
"""

from __future__ import annotations

import warnings

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

    ``X`` must be L2-normalised. Ties are broken by the lower row index so results are stable.
    """
    n = len(X)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, BLOCK_ROWS):
        sims = X[start : start + BLOCK_ROWS] @ X.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part.sort(axis=1)  # index order first, so the stable sort below breaks ties by index
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_sims, axis=1, kind="stable")
        indices[start : start + BLOCK_ROWS] = np.take_along_axis(part, order, axis=1)
        best = np.take_along_axis(part_sims, order, axis=1)
        distances[start : start + BLOCK_ROWS] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def reduce(X: np.ndarray, n_neighbors: int, n_components: int, random_state: int) -> np.ndarray:
    """UMAP (cosine) coordinates of ``X`` in ``n_components`` dimensions, as float64.

    A fixed ``random_state`` makes UMAP single-threaded but reproducible: refitting the same
    contacts gives the same themes.
    """
    with warnings.catch_warnings():  # umap announces its optional TensorFlow extra on import
        warnings.filterwarnings("ignore", message=".*Tensorflow not installed.*")
        import umap  # heavy import (numba); only needed when fitting

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
