"""ThemeModel on synthetic blobs: themes found without k, stable, row-independent assignment."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

from rca.cluster import ThemeModel
from rca.cluster.quality import cluster_scores, clustering_accuracy, theme_agreement

N_ROWS = 2000
N_BLOBS = 8
N_OUTLIERS = 40  # random directions mixed into the training data
DIM = 32


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Unit-length blobs plus outliers (label -1) in random directions, shuffled."""
    X, y = make_blobs(
        n_samples=N_ROWS,
        centers=N_BLOBS,
        n_features=DIM,
        cluster_std=1.5,
        center_box=(-10.0, 10.0),
        random_state=0,
    )
    rng = np.random.default_rng(0)
    X = np.vstack([X, rng.normal(size=(N_OUTLIERS, DIM))])
    y = np.concatenate([y, np.full(N_OUTLIERS, -1)])
    order = rng.permutation(len(X))
    return _unit(X[order]).astype(np.float32), y[order]


@pytest.fixture(scope="module")
def fitted(blobs: tuple[np.ndarray, np.ndarray]) -> ThemeModel:
    return ThemeModel(random_state=42).fit(blobs[0])


def test_finds_the_themes_without_being_told_k(
    fitted: ThemeModel, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    _, y = blobs
    blob = y >= 0
    assert N_BLOBS - 1 <= fitted.n_themes_ <= N_BLOBS + 1
    scores = cluster_scores(y[blob], fitted.labels_[blob])
    assert scores["nmi"] >= 0.95
    assert scores["accuracy"] >= 0.95
    assert scores["unassigned_fraction"] <= 0.02


def test_outliers_in_the_training_data_are_left_unassigned(
    fitted: ThemeModel, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    _, y = blobs
    assert np.mean(fitted.labels_[y == -1] == -1) >= 0.9


def test_fitted_attributes_are_consistent(fitted: ThemeModel) -> None:
    k = fitted.n_themes_
    assert fitted.centroids_.shape == (k, DIM)
    np.testing.assert_allclose(np.linalg.norm(fitted.centroids_, axis=1), 1.0, atol=1e-12)
    assert fitted.sizes_.sum() == np.sum(fitted.labels_ >= 0)
    assert np.array_equal(fitted.sizes_, np.bincount(fitted.labels_[fitted.labels_ >= 0]))
    assert fitted.scores_.shape == fitted.labels_.shape
    # a training row is assigned exactly when its theme clears the threshold, as in predict
    assigned = fitted.labels_ >= 0
    assert np.all(fitted.scores_[assigned] >= fitted.assign_threshold_)
    assert np.all(fitted.scores_[~assigned] < fitted.assign_threshold_)
    assert {"reduce", "density", "merge", "assign", "total"} <= set(fitted.fit_seconds_)
    assert -1.0 <= fitted.validity_ <= 1.0


def test_predict_alone_equals_predict_in_a_batch(
    fitted: ThemeModel, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = blobs
    batch_labels, batch_scores = fitted.predict_with_score(X)
    single = [fitted.predict_with_score(X[i : i + 1]) for i in range(len(X))]
    assert np.array_equal(batch_labels, np.concatenate([s[0] for s in single]))
    assert np.array_equal(batch_scores, np.concatenate([s[1] for s in single]))  # bitwise
    assert np.array_equal(fitted.predict(X[::-1]), batch_labels[::-1])  # order-independent too


def test_predict_agrees_with_training_labels(
    fitted: ThemeModel, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    assert np.mean(fitted.predict(blobs[0]) == fitted.labels_) >= 0.99


def test_refit_with_another_seed_keeps_the_themes(
    fitted: ThemeModel, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    other = ThemeModel(random_state=7).fit(blobs[0])
    assert theme_agreement(fitted.labels_, other.labels_) >= 0.95


def test_far_away_contacts_are_unassigned(fitted: ThemeModel) -> None:
    rng = np.random.default_rng(1)
    random_directions = _unit(rng.normal(size=(200, DIM)))
    opposite = -fitted.centroids_
    labels, scores = fitted.predict_with_score(np.vstack([random_directions, opposite]))
    assert np.mean(labels == -1) >= 0.95
    assert np.all(scores[labels == -1] < fitted.assign_threshold_)
    # a centroid itself is certainly assigned to its own theme
    assert np.array_equal(fitted.predict(fitted.centroids_), np.arange(fitted.n_themes_))


def test_a_given_assign_threshold_is_used(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X = blobs[0][:400]
    model = ThemeModel(assign_threshold=0.995).fit(X)
    assert model.assign_threshold_ == 0.995
    labels, scores = model.predict_with_score(X)
    assert np.array_equal(labels == -1, scores < 0.995)
    assert np.array_equal(model.labels_ == -1, model.scores_ < 0.995)


def test_sklearn_conventions(fitted: ThemeModel) -> None:
    params = ThemeModel(granularity=2.0, n_neighbors=10).get_params()
    assert params["granularity"] == 2.0 and params["n_neighbors"] == 10
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "labels_")
    with pytest.raises(NotFittedError):
        copy.predict(fitted.centroids_)
    with pytest.raises(ValueError):
        fitted.predict(np.ones((2, DIM + 1)))
    with pytest.raises(ValueError):
        ThemeModel().fit(np.ones((5, DIM)))
    with pytest.raises(ValueError):
        ThemeModel(granularity=0).fit(np.ones((50, DIM)))


def test_metrics_count_unassigned_as_wrong() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    assert clustering_accuracy(y, [5, 5, 3, 3, 4, 4]) == 1.0
    assert clustering_accuracy(y, [5, 5, 3, 3, -1, -1]) == pytest.approx(4 / 6)
    assert clustering_accuracy(y, [0, 0, 0, 0, 0, 0]) == pytest.approx(2 / 6)  # one-to-one only
    scores = cluster_scores(y, [1, 1, 0, 0, -1, 2])
    assert scores["n_themes"] == 3
    assert scores["unassigned_fraction"] == pytest.approx(1 / 6)
    assert theme_agreement([0, 0, 1, -1], [1, 1, 0, -1]) == 1.0
    assert theme_agreement([0, 0, 1, 1], [0, 0, 1, -1]) == 0.75


def test_exact_knn_matches_a_full_sort_with_ties_by_row_index() -> None:
    """The blocked top-k (torch when installed) equals sorting every row's similarities."""
    from rca.cluster import reduce as reduce_mod

    rng = np.random.default_rng(3)
    X = _unit(rng.normal(size=(2500, 16))).astype(np.float32)
    X[10] = X[2000]  # an exact duplicate: a tie that must resolve to the lower index
    k = 7
    idx, dist = reduce_mod.exact_cosine_knn(X, k)
    sims = X @ X.T
    for row in (0, 10, 1023, 1024, 2000, 2499):
        expected = np.lexsort((np.arange(len(X)), -sims[row]))[:k]
        assert idx[row].tolist() == expected.tolist()
        np.testing.assert_allclose(dist[row], 1.0 - sims[row, expected], atol=1e-5)
    assert idx[2000][:2].tolist() == [10, 2000]


def test_nearest_is_exactly_the_elementwise_answer_ties_included() -> None:
    """`nearest` picks with a BLAS product but must return what the elementwise sums give, bit
    for bit, and the lowest index on a tie: the served catalog and every assignment use it."""
    from rca.cluster.model import cosine_to_centroids, nearest

    rng = np.random.default_rng(11)
    C = rng.normal(size=(9, 24))
    C[4] = C[2]  # identical centroids: every row near them is a tie
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    X = np.vstack([C, C[[2, 2]], rng.normal(size=(300, 24)), np.zeros((1, 24))])
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-300)
    sims = cosine_to_centroids(X, C)
    best, score = nearest(X, C)
    assert best.tolist() == np.argmax(sims, axis=1).tolist()
    assert np.array_equal(score, sims[np.arange(len(X)), best])
    assert best[2] == 2 and best[4] == 2 and best[-1] == 0  # ties and a zero row: the lowest
    for i in (2, 4, 50, len(X) - 1):
        one = nearest(X[i : i + 1], C)
        assert (one[0][0], one[1][0]) == (best[i], score[i])
