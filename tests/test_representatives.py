"""Representative contacts: MMR picks central, diverse, non-duplicate examples."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from rca.cluster.representatives import (
    normalise_text,
    representative_indices,
    representatives_for_all,
)


def _unit(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _centroids(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return _unit(np.stack([X[labels == t].mean(axis=0) for t in range(k)]))


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=600, centers=4, n_features=16, cluster_std=2.0, random_state=0)
    X = _unit(X)
    y = y.astype(np.int64)
    y[::50] = -1  # some unassigned rows
    return X, y, _centroids(X, y, 4)


def test_first_pick_is_nearest_to_centroid(blobs: tuple[np.ndarray, ...]) -> None:
    X, y, C = blobs
    for theme in range(4):
        picked = representative_indices(X, y, C, theme, n=5)
        members = np.flatnonzero(y == theme)
        nearest = members[np.argmax(X[members] @ C[theme])]
        assert picked[0] == nearest
        assert len(picked) == 5 and len(set(picked)) == 5
        assert all(y[i] == theme for i in picked)


def test_near_duplicates_are_skipped() -> None:
    rng = np.random.default_rng(1)
    centre = _unit(rng.normal(size=(1, 8)))
    # Ten exact copies of the most central vector, plus spread-out members.
    copies = np.repeat(_unit(centre + 0.01 * rng.normal(size=(1, 8))), 10, axis=0)
    spread = _unit(centre + 0.5 * rng.normal(size=(30, 8)))
    X = np.vstack([copies, spread])
    y = np.zeros(len(X), dtype=np.int64)
    picked = representative_indices(X, y, centre, 0, n=5)
    assert picked[0] == 0  # the copies tie: lowest index wins
    assert sum(i < 10 for i in picked) == 1
    sims = X[picked] @ X[picked].T
    assert (sims[~np.eye(len(picked), dtype=bool)] < 0.95).all()


def test_identical_texts_are_skipped() -> None:
    rng = np.random.default_rng(2)
    X = _unit(rng.normal(size=(20, 8)))
    y = np.zeros(20, dtype=np.int64)
    centre = _unit(X.mean(axis=0, keepdims=True))
    texts = ["Where is my card?", "where is my CARD"] + [f"text {i}" for i in range(18)]
    # Make rows 0 and 1 the two most central but different enough as vectors.
    X[0] = _unit(centre + 0.05 * rng.normal(size=(1, 8)))[0]
    X[1] = _unit(centre + 0.05 * rng.normal(size=(1, 8)))[0]
    without = representative_indices(X, y, centre, 0, n=5, diversity=0.0, dedup_threshold=1.1)
    assert {0, 1} <= set(without)
    with_texts = representative_indices(
        X, y, centre, 0, n=5, diversity=0.0, dedup_threshold=1.1, texts=texts
    )
    assert len({normalise_text(texts[i]) for i in with_texts}) == len(with_texts)
    assert not {0, 1} <= set(with_texts)


def test_diversity_spreads_the_picks(blobs: tuple[np.ndarray, ...]) -> None:
    X, y, C = blobs

    def mean_pairwise(idx: list[int]) -> float:
        s = X[idx] @ X[idx].T
        return float(s[~np.eye(len(idx), dtype=bool)].mean())

    focused = representative_indices(X, y, C, 0, n=6, diversity=0.0)
    diverse = representative_indices(X, y, C, 0, n=6, diversity=0.7)
    assert mean_pairwise(diverse) < mean_pairwise(focused)


def test_prefer_mask_gives_a_bonus(blobs: tuple[np.ndarray, ...]) -> None:
    X, y, C = blobs
    members = np.flatnonzero(y == 1)
    ranked = members[np.argsort(-(X[members] @ C[1]), kind="stable")]
    prefer = np.zeros(len(y), dtype=bool)
    prefer[ranked[3]] = True  # a close-but-not-closest member with a resolution note
    picked = representative_indices(X, y, C, 1, n=3, prefer=prefer, prefer_bonus=1.0)
    assert picked[0] == ranked[3]


def test_small_and_empty_themes() -> None:
    X = _unit(np.eye(4, dtype=np.float32) + 0.1)
    y = np.array([0, 0, -1, -1])
    C = _unit(np.eye(4, dtype=np.float32)[:2] + 0.1)
    assert len(representative_indices(X, y, C, 0, n=5)) == 2
    assert representative_indices(X, y, C, 1, n=5) == []
    with pytest.raises(ValueError):
        representative_indices(X, y, C, 5)
    with pytest.raises(ValueError):
        representative_indices(X, np.array([0, 3, 0, 0]), C, 0)


def test_deterministic(blobs: tuple[np.ndarray, ...]) -> None:
    X, y, C = blobs
    a = representative_indices(X, y, C, 2, n=5)
    b = representative_indices(X.copy(), y.copy(), C.copy(), 2, n=5)
    assert a == b


def test_all_themes_matches_single_theme(blobs: tuple[np.ndarray, ...]) -> None:
    X, y, C = blobs
    texts = [f"contact {i % 37}" for i in range(len(y))]
    prefer = np.arange(len(y)) % 7 == 0
    everything = representatives_for_all(X, y, C, n=4, texts=texts, prefer=prefer)
    assert set(everything) == {0, 1, 2, 3}
    for theme, picked in everything.items():
        assert picked == representative_indices(X, y, C, theme, n=4, texts=texts, prefer=prefer)


def test_fast_on_100k_rows() -> None:
    rng = np.random.default_rng(3)
    k, d, n_rows = 40, 64, 100_000
    C = _unit(rng.normal(size=(k, d)))
    y = rng.integers(-1, k, size=n_rows)
    X = _unit(C[np.maximum(y, 0)] + 0.8 * rng.normal(size=(n_rows, d)).astype(np.float32))
    start = time.perf_counter()
    reps = representatives_for_all(X, y, C, n=5)
    elapsed = time.perf_counter() - start
    assert all(len(v) == 5 for v in reps.values())
    assert elapsed < 5.0
