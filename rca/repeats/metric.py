"""Same problem, judged in a space learnt from the fit's own themes (issue 18).

A sentence encoder puts "I think my card is broke?" near "Why was my cash withdrawal declined?"
(both about a card that does not work) and "From where can I withdraw?" far from "How far is the
closest ATM?" (other words, the same need). Raw cosine cannot tell related-but-different
problems from paraphrases of one problem. The fit has already drawn that line for the texts it
grouped: the analysed contacts' themes. A linear discriminant (`fit_theme_metric`) learns from
them, without any label, which directions of the embedding separate the themes and which only
vary within one (wording, tone, the brand's name): it whitens the within-theme spread and keeps
the directions between themes. In that space the same-problem test is again a cosine.

Its threshold is not a new constant: it is the cosine that accepts the same share of
*different-theme* pairs of analysed contacts as `RCA_REPEAT_SIMILARITY_THRESHOLD` accepts in
the raw embedding space. The setting keeps its meaning ("how loosely two texts of different
themes may still be one problem"); the learnt space spends that allowance on pairs the themes'
own geometry says are close.

Every other number here is derived or only bounds the cost: the shrinkage of the within-theme
covariance is Ledoit-Wolf's (scikit-learn's `shrinkage="auto"`), the space has one dimension
fewer than there are themes, the fit reads at most `MAX_FIT_ROWS` contacts and the threshold
at most `PAIR_ROWS` contacts' pairs, both spread evenly over the frame (deterministic), so the
analysis of a million contacts costs one fit on a bounded sample and a linear projection.

Pure: arrays in, a small frozen model out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

#: Contacts the discriminant is fitted on, at most (evenly spread): bounds the fit's cost.
MAX_FIT_ROWS = 20_000
#: Contacts whose different-theme pairs set the threshold, at most (about 2 million pairs).
PAIR_ROWS = 2_000
#: Rows projected at a time (float32: about 25 MiB of 384-dimensional embeddings).
BLOCK = 16_384
#: Fewer themes than this and there is no space to learn (two themes make it a line).
MIN_THEMES = 3


@dataclass(frozen=True, eq=False)
class ThemeMetric:
    """A projection of embeddings where the fit's themes are apart, and its same-problem cosine.

    `accepted_share` is the share of different-theme pairs the raw threshold accepted, and
    therefore the share `threshold` accepts here.
    """

    scalings: np.ndarray  # (embedding dims, themes - 1)
    threshold: float
    accepted_share: float
    themes: int

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Unit rows in the learnt space (float32); zero rows ("no vector") stay zero."""
        vectors = np.asarray(vectors)
        out = np.zeros((len(vectors), self.scalings.shape[1]), np.float32)
        has = np.flatnonzero(_has_vector(vectors))
        scalings = self.scalings.astype(np.float32)
        for start in range(0, len(has), BLOCK):  # bounded temporaries on a million rows
            block = has[start : start + BLOCK]
            out[block] = _unit(vectors[block].astype(np.float32, copy=False) @ scalings)
        return out

    def summary(self) -> dict[str, float | int]:
        """What a reader of the analysis needs to know of it (plain values)."""
        return {
            "threshold": self.threshold,
            "accepted_share": self.accepted_share,
            "themes": self.themes,
        }

    def same(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row by row: are `a` and `b` (raw embeddings) the same problem? Zero rows never are."""
        cosine = np.einsum("ij,ij->i", self.transform(a), self.transform(b))
        return cosine >= self.threshold


def fit_theme_metric(
    vectors: np.ndarray, theme: np.ndarray, raw_threshold: float
) -> ThemeMetric | None:
    """Learn the metric from the rows that have a vector and a theme ("" for none: noise).

    None when there is nothing to learn from: fewer than `MIN_THEMES` themes with two such
    rows each, or no spread within them. The caller then judges by raw cosine at
    `raw_threshold`.
    """
    theme = np.asarray(theme).astype(str)
    rows = np.flatnonzero(_has_vector(vectors) & (theme != ""))
    rows = rows[_spread(len(rows), MAX_FIT_ROWS)]
    labels, counts = np.unique(theme[rows], return_counts=True)
    if (counts >= 2).sum() < MIN_THEMES:
        return None
    rows = rows[np.isin(theme[rows], labels[counts >= 2])]
    x, y = vectors[rows].astype(np.float64), theme[rows]
    try:
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(x, y)
    except np.linalg.LinAlgError:  # no spread within any theme (each one text, repeated)
        return None
    k = len(lda.classes_) - 1
    metric = ThemeMetric(np.ascontiguousarray(lda.scalings_[:, :k]), 0.0, 0.0, len(lda.classes_))
    pairs = rows[_spread(len(rows), PAIR_ROWS)]
    raw = _different_theme_cosines(_unit(vectors[pairs].astype(np.float64)), theme[pairs])
    share = float((raw >= raw_threshold).mean())
    learnt = _different_theme_cosines(metric.transform(vectors[pairs]), theme[pairs])
    return ThemeMetric(metric.scalings, matched_threshold(learnt, share), share, metric.themes)


def matched_threshold(cosines: np.ndarray, share: float) -> float:
    """The cosine that `share` of `cosines` reach: the top `share` quantile (1.0: none)."""
    if share <= 0 or not len(cosines):
        return 1.0 + np.finfo(np.float32).eps  # accept no different-theme pair, as the raw did
    return float(np.quantile(cosines, 1.0 - share, method="higher"))


def _different_theme_cosines(unit_rows: np.ndarray, theme: np.ndarray) -> np.ndarray:
    upper = np.triu_indices(len(unit_rows), 1)
    cosine = (unit_rows @ unit_rows.T)[upper]
    return cosine[theme[upper[0]] != theme[upper[1]]]


def _spread(n: int, k: int) -> np.ndarray:
    """At most `k` of `range(n)`, evenly spaced: a deterministic sample."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.int64)) if n else np.zeros(0, int)


def _unit(z: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    return np.divide(z, norms, out=np.zeros_like(z), where=norms > 0)


def _has_vector(vectors: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", vectors, vectors) > 0
