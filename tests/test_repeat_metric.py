"""The same-problem metric learnt from the fit's themes (`rca.repeats.metric`), on arrays.

Six themes share a common direction (every text is about a card) and differ by an offset each;
within a theme the wording varies a lot along one nuisance direction. Raw cosine
then calls two themes' texts with the same wording one problem, and two wordings of one theme
two problems; the learnt space gets both right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rca.repeats.detect import FIRST, REPEAT, detect_repeats
from rca.repeats.metric import fit_theme_metric, matched_threshold

THEMES, COMMON, NUISANCE = 6, 6, 7
DIMS = 8
RAW = 0.35


def text(theme: int, wording: float, noise: np.ndarray | None = None) -> np.ndarray:
    vector = np.zeros(DIMS)
    vector[COMMON], vector[theme], vector[NUISANCE] = 0.3, 1.0, wording
    return vector if noise is None else vector + noise


def population(per_theme: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    rows, themes = [], []
    for theme in range(THEMES):
        for wording in rng.normal(0.0, 0.7, per_theme):
            rows.append(text(theme, wording, rng.normal(0.0, 0.05, DIMS)))
            themes.append(f"T{theme}")
    vectors = np.array(rows)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.array(themes, object)


def unit(*rows: np.ndarray) -> np.ndarray:
    stacked = np.stack(rows)
    return stacked / np.linalg.norm(stacked, axis=1, keepdims=True)


def test_learnt_space_separates_related_themes_and_joins_rewordings() -> None:
    vectors, themes = population()
    metric = fit_theme_metric(vectors, themes, RAW)
    assert metric is not None and metric.themes == THEMES
    assert metric.scalings.shape == (DIMS, THEMES - 1)
    other_theme = unit(text(0, 1.0), text(1, 1.0))  # same wording, another problem
    reworded = unit(text(0, 1.0), text(0, -1.0))  # one problem, other words
    assert other_theme[0] @ other_theme[1] >= RAW > reworded[0] @ reworded[1]  # raw gets both wrong
    assert metric.same(other_theme[:1], other_theme[1:]).tolist() == [False]
    assert metric.same(reworded[:1], reworded[1:]).tolist() == [True]


def test_threshold_accepts_the_raw_thresholds_share_of_different_theme_pairs() -> None:
    vectors, themes = population()
    metric = fit_theme_metric(vectors, themes, RAW)
    assert metric is not None
    upper = np.triu_indices(len(vectors), 1)
    different = themes[upper[0]] != themes[upper[1]]
    raw = (vectors @ vectors.T)[upper][different]
    learnt_rows = metric.transform(vectors)
    learnt = (learnt_rows @ learnt_rows.T)[upper][different]
    assert 0 < metric.accepted_share == (raw >= RAW).mean() < 1
    assert abs((learnt >= metric.threshold).mean() - metric.accepted_share) <= 1 / len(learnt)
    assert matched_threshold(learnt, 0.0) > 1.0  # the raw accepted none: neither does this


def test_no_vector_no_theme_and_too_few_themes() -> None:
    vectors, themes = population(per_theme=5)
    vectors[0] = 0.0  # no vector: left out of the fit, stays zero, never the same problem
    themes[1] = ""  # noise: left out of the fit
    metric = fit_theme_metric(vectors, themes, RAW)
    assert metric is not None
    assert not metric.transform(vectors[:1]).any()
    assert metric.same(vectors[:1], vectors[:1]).tolist() == [False]
    two_themes = np.isin(themes, ["T0", "T1"])
    assert fit_theme_metric(vectors[two_themes], themes[two_themes], RAW) is None
    one_text_each = np.repeat(np.eye(4, DIMS), 3, axis=0)  # no spread within any theme
    labels = np.repeat(np.array(["T0", "T1", "T2", "T3"], object), 3)
    assert fit_theme_metric(one_text_each, labels, RAW) is None


def test_detect_repeats_judges_new_conversations_in_the_learnt_space() -> None:
    vectors, themes = population()
    start = pd.Timestamp("2026-03-02", tz="UTC")
    back = start + pd.Timedelta(days=2)
    background = pd.DataFrame(
        {
            "contact_id": [f"X{i}" for i in range(len(vectors))],
            "created_at": [start + pd.Timedelta(days=20 + i % 5) for i in range(len(vectors))],
            "customer_id": [f"other{i}" for i in range(len(vectors))],
            "theme_id": themes,
        }
    )
    customer = pd.DataFrame(
        {
            "contact_id": ["A1", "A2", "B1", "B2"],
            "created_at": [start, back, start, back],
            "customer_id": ["alice", "alice", "bob", "bob"],
            "theme_id": ["T0", "T1", "T0", "T2"],  # bob's return was filed under another theme
        }
    )
    frame = pd.concat([customer, background], ignore_index=True)
    own = unit(text(0, 1.0), text(1, 1.0), text(0, 1.0), text(0, -1.0))
    all_vectors = np.vstack([own, vectors]).astype(np.float32)
    metric = fit_theme_metric(all_vectors, frame["theme_id"].to_numpy(object), RAW)
    raw = detect_repeats(frame, all_vectors).set_index("contact_id")["repeat_status"]
    learnt = detect_repeats(frame, all_vectors, metric=metric)
    status = learnt.set_index("contact_id")["repeat_status"]
    assert (raw["A2"], raw["B2"]) == (REPEAT, FIRST)  # raw: wording decides
    assert (status["A2"], status["B2"]) == (FIRST, REPEAT)  # learnt: the problem decides
    assert learnt.attrs["repeat_metric"] == metric.summary()
    pd.concat([learnt, learnt.copy()])  # frames carrying the summary still combine


def test_the_judge_is_kept_per_distinct_input_and_refitted_when_it_changes(tmp_path) -> None:
    """`rca.queries.metric_cache`: the same inputs read the kept judge (identical to a fit), other
    themes fit a new one, and a damaged or foreign file is refitted rather than trusted."""
    from rca.queries.metric_cache import KEEP_FILES, cache_dir, cached_theme_metric

    vectors, themes = population()
    fitted = fit_theme_metric(vectors, themes, RAW)
    first = cached_theme_metric(tmp_path, vectors, themes, RAW)
    files = sorted(cache_dir(tmp_path).glob("*.npz"))
    assert len(files) == 1
    kept = cached_theme_metric(tmp_path, vectors, themes, RAW)
    for metric in (first, kept):
        assert np.array_equal(metric.scalings, fitted.scalings)
        assert metric.summary() == fitted.summary()
    # another theme for a few texts is another input: a second file, a different judge
    moved = themes.copy()
    moved[:20] = "T1"
    other = cached_theme_metric(tmp_path, vectors, moved, RAW)
    assert len(list(cache_dir(tmp_path).glob("*.npz"))) == 2
    assert not np.array_equal(other.scalings, fitted.scalings)
    # "no judge" (too few themes) is kept as such
    two = np.isin(themes, ["T0", "T1"])
    assert cached_theme_metric(tmp_path, vectors[two], themes[two], RAW) is None
    assert cached_theme_metric(tmp_path, vectors[two], themes[two], RAW) is None
    # a damaged file is refitted, and rewritten whole
    files[0].write_bytes(b"not a judge")
    again = cached_theme_metric(tmp_path, vectors, themes, RAW)
    assert np.array_equal(again.scalings, fitted.scalings)
    assert cached_theme_metric(tmp_path, vectors, themes, RAW).threshold == fitted.threshold
    # at most KEEP_FILES judges stay
    for i in range(KEEP_FILES + 3):
        shifted = themes.copy()
        shifted[i] = "T5" if themes[i] != "T5" else "T4"
        cached_theme_metric(tmp_path, vectors, shifted, RAW)
    assert len(list(cache_dir(tmp_path).glob("*.npz"))) == KEEP_FILES
    assert not list(cache_dir(tmp_path).glob(".tmp-*"))
