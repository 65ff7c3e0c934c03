"""UMAP reduction: reproducible coordinates, and kernels compiled once per machine, not per fit."""

from __future__ import annotations

import numpy as np
from numba.core.caching import FunctionCache

from rca.cluster.reduce import cache_umap_kernels, reduce


def test_umap_kernels_use_the_disk_cache_and_coordinates_stay_reproducible() -> None:
    import umap.layouts
    import umap.umap_

    cache_umap_kernels()
    assert cache_umap_kernels() == cache_umap_kernels()  # once per process
    for kernel in (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths):
        assert isinstance(kernel._cache, FunctionCache), kernel
    epoch = umap.layouts._nb_optimize_layout_euclidean_single_epoch
    assert isinstance(epoch._cache, FunctionCache)
    X = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    first = reduce(X, 10, 3, random_state=42)
    assert first.shape == (300, 3) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, reduce(X, 10, 3, random_state=42))
