"""Clustering quality against ground-truth labels (used by the quality study and ``rca evaluate``).

Unassigned contacts (theme ``-1``) count as wrong for accuracy and are kept as their own group
for NMI/ARI, so a model cannot look better by refusing to assign hard contacts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

UNASSIGNED = -1


def _contingency(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of (true class, predicted theme) and the predicted theme of each column."""
    _, t_idx = np.unique(y_true, return_inverse=True)
    themes, p_idx = np.unique(y_pred, return_inverse=True)
    table = np.zeros((t_idx.max() + 1, len(themes)), dtype=np.int64)
    np.add.at(table, (t_idx, p_idx), 1)
    return table, themes


def clustering_accuracy(
    y_true: Sequence[Any] | np.ndarray, y_pred: Sequence[int] | np.ndarray
) -> float:
    """Best one-to-one match of themes to classes (Hungarian), as a fraction of all rows.

    Each class can be matched by at most one theme, so over-splitting is penalised; unassigned
    rows (``-1``) are never matched and therefore count as wrong.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must have the same length")
    if len(y_true) == 0:
        return 0.0
    table, themes = _contingency(y_true, y_pred)
    table[:, themes == UNASSIGNED] = 0
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(y_true))


def cluster_scores(
    y_true: Sequence[Any] | np.ndarray, y_pred: Sequence[int] | np.ndarray
) -> dict[str, float | int]:
    """NMI, ARI, Hungarian accuracy, number of themes and unassigned fraction."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    assigned = y_pred != UNASSIGNED
    return {
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "accuracy": clustering_accuracy(y_true, y_pred),
        "n_themes": int(len(np.unique(y_pred[assigned]))),
        "unassigned_fraction": float(1.0 - assigned.mean()) if len(y_pred) else 0.0,
    }


def theme_agreement(
    labels_a: Sequence[int] | np.ndarray, labels_b: Sequence[int] | np.ndarray
) -> float:
    """Share of rows whose theme in ``a`` maps to their theme in ``b`` (stability of a refit).

    Themes are matched one-to-one by overlap (Hungarian). A row unassigned in both counts as
    agreeing; unassigned in only one, as disagreeing.
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if len(a) != len(b):
        raise ValueError("labels_a and labels_b must have the same length")
    if len(a) == 0:
        return 1.0
    both = (a != UNASSIGNED) & (b != UNASSIGNED)
    agree = int(np.sum((a == UNASSIGNED) & (b == UNASSIGNED)))
    if both.any():
        table, _ = _contingency(a[both], b[both])
        rows, cols = linear_sum_assignment(table, maximize=True)
        agree += int(table[rows, cols].sum())
    return agree / len(a)


def class_name_words(label: object) -> str:
    """A gold label id as words: ``card_payment_not_recognised`` -> "card payment not
    recognised", ``getBalance`` -> "get balance"."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(label))
    return re.sub(r"[_\-./]+", " ", text).strip().lower()


def label_matches(
    names: Mapping[int, str],
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    embed: Callable[[list[str]], np.ndarray],
) -> list[dict[str, Any]]:
    """One row per named theme: its name, size, the gold class holding most of its contacts
    (and that share), the gold class name nearest (cosine, ``embed``) to the theme's name among
    all of the set's, and whether the two agree (``hit``).

    The rows behind :func:`label_score`, so an evaluation can say *which* names miss: a name
    nearest the wrong reason code and a theme whose majority is a small share read alike in the
    mean. A theme without members or a name is left out.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = sorted({str(c) for c in y_true.tolist()})
    themes = [t for t in sorted(names) if np.any(y_pred == t) and names[t]]
    if not themes or not classes:
        return []
    vecs = np.asarray(
        embed([class_name_words(c) for c in classes] + [names[t] for t in themes]),
        dtype=np.float64,
    )
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    gold, named = vecs[: len(classes)], vecs[len(classes) :]
    nearest = np.argmax(named @ gold.T, axis=1)
    rows: list[dict[str, Any]] = []
    for row, t in enumerate(themes):
        members = y_true[y_pred == t].astype(str)
        values, counts = np.unique(members, return_counts=True)
        top = int(np.argmax(counts))  # np.unique sorts: ties go to the first name
        rows.append(
            {
                "theme": int(t),
                "name": names[t],
                "size": int(len(members)),
                "majority": str(values[top]),
                "majority_share": round(float(counts[top] / len(members)), 3),
                "nearest": classes[int(nearest[row])],
                "hit": classes[int(nearest[row])] == str(values[top]),
            }
        )
    return rows


def label_score(
    names: Mapping[int, str],
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    embed: Callable[[list[str]], np.ndarray],
) -> float:
    """Share of named themes whose name is nearest (cosine, ``embed``) to the gold class name
    that holds most of the theme's contacts, among all gold class names of the set.

    Says whether a manager reading the name would think of the right reason code; a theme
    without members or a name is left out. NaN when no theme is scored.
    """
    return hit_share(label_matches(names, y_true, y_pred, embed))


def hit_share(rows: Sequence[Mapping[str, Any]]) -> float:
    """The label score of :func:`label_matches` rows: the share that hit; NaN without rows."""
    return sum(r["hit"] for r in rows) / len(rows) if rows else float("nan")
