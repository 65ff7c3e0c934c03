"""Granularity chosen by the data: the minimum theme size from the condensed tree's persistence."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster import ThemeModel
from rca.cluster.density import default_min_cluster_size, density_clusters, size_by_persistence
from rca.cluster.quality import clustering_accuracy


def _blobs(n_blobs: int, per_blob: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tight, well-separated blobs in 5-d (the shape of UMAP output)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, size=(n_blobs, 5))
    truth = np.repeat(np.arange(n_blobs), per_blob)
    return centres[truth] + rng.normal(scale=0.3, size=(len(truth), 5)), truth


@pytest.mark.parametrize(("n_blobs", "per_blob"), [(40, 30), (6, 200)])
def test_size_follows_the_data_not_n(n_blobs: int, per_blob: int) -> None:
    """Many small themes and a few large ones are both recovered by the same rule, with a
    minimum size no larger than the themes themselves."""
    coords, truth = _blobs(n_blobs, per_blob)
    size = size_by_persistence(coords, min_samples=5)
    labels = density_clusters(coords, size, 5)
    assert len(np.unique(labels[labels >= 0])) == n_blobs
    assert clustering_accuracy(truth, labels) >= 0.95
    assert size <= per_blob


def test_persistence_size_is_deterministic_and_validated() -> None:
    coords, _ = _blobs(10, 40, seed=3)
    assert size_by_persistence(coords, 5) == size_by_persistence(coords.copy(), 5)
    assert default_min_cluster_size(400) == 10
    with pytest.raises(ValueError, match="persistence"):
        ThemeModel(min_cluster_size="largest").fit(np.eye(30))
