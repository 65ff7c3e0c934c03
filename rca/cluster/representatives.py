"""Representative contacts per theme, chosen by maximal marginal relevance (MMR).

An SOP author reads a handful of examples per theme. The most central contacts alone are often
near-copies of each other (templated e-mails, repeated chat openers), so we trade relevance
(cosine similarity to the theme centroid) against redundancy (similarity to examples already
picked) and skip near-duplicates outright. Only the contacts nearest the centroid are considered,
which keeps the cost independent of theme size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

UNASSIGNED = -1

# Candidates per requested example: MMR never needs to look far from the centroid, and the
# pairwise-similarity matrix over the candidates stays tiny ((50 n)^2 floats).
CANDIDATE_FACTOR = 50
# Relevance bonus for contacts flagged by ``prefer`` (e.g. "has a resolution note"). Cosine
# similarities of members to their centroid typically differ by a few hundredths, so 0.05 lifts a
# flagged contact above comparable unflagged ones without promoting an outlier.
PREFER_BONUS = 0.05
# Rows scored per block when computing member-to-own-centroid similarity for all rows at once;
# bounds the temporary (block x d) gather of centroids.
SCORE_BLOCK_ROWS = 16_384

_NON_WORD_RE = re.compile(r"[\W_]+")


def normalise_text(text: str) -> str:
    """Key for "the same message": case, punctuation and spacing ignored."""
    return _NON_WORD_RE.sub(" ", str(text).lower()).strip()


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products; one code path so per-theme and all-theme results tie-break alike."""
    return np.einsum("ij,ij->i", a, b).astype(np.float64)


def _check_inputs(
    X: np.ndarray, labels: np.ndarray, centroids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X)
    labels = np.asarray(labels).ravel().astype(np.int64, copy=False)
    centroids = np.atleast_2d(np.asarray(centroids))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    if len(labels) != X.shape[0]:
        raise ValueError(f"{X.shape[0]} rows in X but {len(labels)} labels")
    if centroids.shape[1] != X.shape[1]:
        raise ValueError(f"centroids have dim {centroids.shape[1]}, X has {X.shape[1]}")
    if labels.size and (labels.max(initial=UNASSIGNED) >= len(centroids) or labels.min() < -1):
        raise ValueError("labels must be -1 (unassigned) or an index into centroids")
    return X, labels, centroids


def _mmr(
    candidates: np.ndarray,
    relevance: np.ndarray,
    X: np.ndarray,
    *,
    n: int,
    diversity: float,
    dedup_threshold: float,
    text_keys: np.ndarray | None,
) -> list[int]:
    """Greedy MMR over ``candidates`` (row indices, ascending) with their relevance."""
    if candidates.size == 0 or n <= 0:
        return []
    vectors = np.asarray(X[candidates], dtype=np.float32)
    pairwise = vectors @ vectors.T
    max_sim = np.full(len(candidates), -np.inf, dtype=np.float64)
    available = np.isfinite(relevance)
    picked: list[int] = []
    while len(picked) < n and available.any():
        redundancy = np.where(np.isfinite(max_sim), max_sim, 0.0)
        score = (1.0 - diversity) * relevance - diversity * redundancy
        score = np.where(available, score, -np.inf)
        if not picked:  # start from the most relevant member, whatever the diversity
            score = np.where(available, relevance, -np.inf)
        best = int(np.argmax(score))  # first maximum = lowest row index: deterministic ties
        picked.append(best)
        max_sim = np.maximum(max_sim, pairwise[best])
        available &= max_sim < dedup_threshold
        available[best] = False
        if text_keys is not None:
            available &= text_keys != text_keys[best]
    return [int(candidates[i]) for i in picked]


def _candidate_pool(
    rows: np.ndarray, relevance: np.ndarray, n_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_candidates`` most relevant rows (ties by row index), returned in row order."""
    if len(rows) > n_candidates:
        order = np.lexsort((rows, -relevance))[:n_candidates]
        order.sort()  # rows are ascending, so this restores row order
        rows, relevance = rows[order], relevance[order]
    return rows, relevance


def _text_keys(texts: Sequence[str] | None, rows: np.ndarray) -> np.ndarray | None:
    if texts is None:
        return None
    return np.array([normalise_text(texts[int(i)]) for i in rows], dtype=object)


def representative_indices(
    X: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    centroids: np.ndarray,
    theme: int,
    *,
    n: int = 5,
    diversity: float = 0.3,
    dedup_threshold: float = 0.95,
    prefer: Sequence[bool] | np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    prefer_bonus: float = PREFER_BONUS,
    candidate_factor: int = CANDIDATE_FACTOR,
) -> list[int]:
    """Row indices of up to ``n`` representative members of ``theme``, most representative first.

    Greedy MMR: each step picks the candidate maximising
    ``(1 - diversity) * relevance - diversity * max_sim_to_picked`` where relevance is cosine to
    the centroid (plus ``prefer_bonus`` where ``prefer`` is true). A candidate with cosine
    >= ``dedup_threshold`` to a picked one, or the same normalised text (when ``texts`` is
    given), is skipped. The first pick is always the most relevant member. Only the
    ``candidate_factor * n`` members nearest the centroid are considered. Rows of ``X`` and
    ``centroids`` are assumed L2-normalised.
    """
    X, labels, centroids = _check_inputs(X, labels, centroids)
    if not 0 <= theme < len(centroids):
        raise ValueError(f"theme {theme} out of range for {len(centroids)} centroids")
    rows = np.flatnonzero(labels == theme)
    if rows.size == 0:
        return []
    members = X[rows]
    centroid = np.broadcast_to(np.asarray(centroids[theme], dtype=X.dtype), members.shape)
    relevance = _row_dot(members, centroid)
    if prefer is not None:
        relevance += prefer_bonus * np.asarray(prefer, dtype=bool)[rows]
    rows, relevance = _candidate_pool(rows, relevance, max(candidate_factor * n, n))
    return _mmr(
        rows,
        relevance,
        X,
        n=n,
        diversity=diversity,
        dedup_threshold=dedup_threshold,
        text_keys=_text_keys(texts, rows),
    )


def similarity_to_own_centroid(
    X: np.ndarray, labels: Sequence[int] | np.ndarray, centroids: np.ndarray
) -> np.ndarray:
    """Cosine of every row to its theme's centroid (NaN for unassigned), in bounded memory."""
    X, labels, centroids = _check_inputs(X, labels, centroids)
    sims = np.full(len(labels), np.nan, dtype=np.float64)
    assigned = np.flatnonzero(labels != UNASSIGNED)
    for start in range(0, len(assigned), SCORE_BLOCK_ROWS):
        block = assigned[start : start + SCORE_BLOCK_ROWS]
        gathered = np.asarray(centroids[labels[block]], dtype=X.dtype)
        sims[block] = _row_dot(X[block], gathered)
    return sims


def representatives_for_all(
    X: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    centroids: np.ndarray,
    *,
    n: int = 5,
    diversity: float = 0.3,
    dedup_threshold: float = 0.95,
    prefer: Sequence[bool] | np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    prefer_bonus: float = PREFER_BONUS,
    candidate_factor: int = CANDIDATE_FACTOR,
) -> dict[int, list[int]]:
    """``{theme: representative row indices}`` for every centroid, same rules as
    :func:`representative_indices`.

    Relevance is computed for all rows in one pass and the candidate pools come from a single
    sort, so the cost is O(rows * dim + rows log rows) plus a tiny MMR per theme.
    """
    X, labels, centroids = _check_inputs(X, labels, centroids)
    relevance = similarity_to_own_centroid(X, labels, centroids)
    if prefer is not None:
        relevance = relevance + prefer_bonus * np.asarray(prefer, dtype=bool)
    assigned = np.flatnonzero(labels != UNASSIGNED)
    # Sort by (theme, -relevance, row): each theme's best candidates become a contiguous prefix.
    order = assigned[np.lexsort((assigned, -relevance[assigned], labels[assigned]))]
    themes_sorted = labels[order]
    starts = np.searchsorted(themes_sorted, np.arange(len(centroids)), side="left")
    ends = np.searchsorted(themes_sorted, np.arange(len(centroids)), side="right")
    n_candidates = max(candidate_factor * n, n)
    result: dict[int, list[int]] = {}
    for theme in range(len(centroids)):
        pool = order[starts[theme] : min(ends[theme], starts[theme] + n_candidates)]
        pool = np.sort(pool)
        result[theme] = _mmr(
            pool,
            relevance[pool],
            X,
            n=n,
            diversity=diversity,
            dedup_threshold=dedup_threshold,
            text_keys=_text_keys(texts, pool),
        )
    return result
