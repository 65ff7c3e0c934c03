"""Sampled fit (issue 8): themes learned on a time-stratified sample, the rest assigned."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from rca.cluster import ThemeModel
from rca.cluster.quality import cluster_scores, theme_agreement
from rca.cluster.sample import stratified_sample

N_ROWS = 3000
SAMPLE = 1000


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit blobs, a week per row, and one blob that exists only in the last week."""
    X, y = make_blobs(n_samples=N_ROWS, centers=6, n_features=24, cluster_std=1.5, random_state=1)
    weeks = np.repeat(np.arange(10), N_ROWS // 10)
    late = y == 5
    weeks[late] = 9
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y, weeks


def test_sample_is_proportional_deterministic_and_exact() -> None:
    strata = np.array([0] * 900 + [1] * 90 + [2] * 10)
    rows = stratified_sample(strata, len(strata), 100, random_state=3)
    assert len(rows) == 100 and len(np.unique(rows)) == 100
    assert np.all(np.diff(rows) > 0)
    assert np.bincount(strata[rows]).tolist() == [90, 9, 1]
    assert np.array_equal(rows, stratified_sample(strata, len(strata), 100, random_state=3))
    assert np.array_equal(stratified_sample(strata, 1000, 5000, 0), np.arange(1000))


def test_every_stratum_is_represented() -> None:
    strata = np.array([0] * 10_000 + [1] * 3)
    rows = stratified_sample(strata, len(strata), 50, random_state=0)
    assert len(rows) == 50
    assert set(strata[rows]) == {0, 1}


def test_sampled_fit_labels_every_row_like_a_full_fit(
    blobs: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, y, weeks = blobs
    full = ThemeModel(random_state=42).fit(X)
    sampled = ThemeModel(random_state=42, max_fit_samples=SAMPLE).fit(X, strata=weeks)
    assert len(sampled.labels_) == N_ROWS and len(sampled.scores_) == N_ROWS
    assert len(sampled.fit_rows_) == SAMPLE
    assert sampled.sizes_.sum() == np.sum(sampled.labels_ >= 0)
    assert (
        cluster_scores(y, sampled.labels_)["nmi"] >= cluster_scores(y, full.labels_)["nmi"] - 0.02
    )
    assert theme_agreement(full.labels_, sampled.labels_) >= 0.95
    # rows outside the sample get exactly what predict gives them
    rest = np.setdiff1d(np.arange(N_ROWS), sampled.fit_rows_)
    assert np.array_equal(sampled.predict(X[rest]), sampled.labels_[rest])


def test_small_sets_are_fitted_exactly_as_before(
    blobs: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, _, weeks = blobs
    plain = ThemeModel(random_state=42).fit(X)
    capped = ThemeModel(random_state=42, max_fit_samples=N_ROWS).fit(X, strata=weeks)
    assert np.array_equal(plain.labels_, capped.labels_)
    assert np.array_equal(plain.centroids_, capped.centroids_)
