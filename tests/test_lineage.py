"""Stable theme ids across refits: kept, merged, split, new and retired themes."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster.lineage import (
    EVENT_COLUMNS,
    ThemeMatch,
    format_theme_id,
    match_themes,
    parse_theme_id,
)

DIM = 24


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _centroids(k: int, seed: int = 0) -> np.ndarray:
    return _unit(np.random.default_rng(seed).normal(size=(k, DIM)))


def _first_fit(k: int = 4, per_theme: int = 30) -> tuple[ThemeMatch, np.ndarray, np.ndarray]:
    centroids = _centroids(k)
    members = np.repeat(np.arange(k), per_theme)
    match = match_themes(None, None, None, centroids, members)
    return match, centroids, members


def _events(match: ThemeMatch, event: str) -> list[str]:
    return match.events.loc[match.events["event"] == event, "theme_id"].tolist()


def test_theme_id_format() -> None:
    assert format_theme_id(7) == "T0007"
    assert format_theme_id(12345) == "T12345"
    assert parse_theme_id("T0007") == 7
    assert parse_theme_id("legacy-3") is None


def test_no_previous_model_gives_all_new_ids() -> None:
    match, _, _ = _first_fit()
    assert match.ids == ["T0001", "T0002", "T0003", "T0004"]
    assert match.next_id == 5
    assert _events(match, "new") == match.ids
    assert list(match.events.columns) == EVENT_COLUMNS
    assert match.events["overlap"].isna().all()


def test_identical_refit_keeps_all_ids() -> None:
    first, centroids, members = _first_fit()
    again = match_themes(first.ids, centroids, members, centroids, members, next_id=first.next_id)
    assert again.ids == first.ids
    assert set(again.events["event"]) == {"kept"}
    assert (again.events["overlap"] == 1.0).all()
    assert np.allclose(again.events["similarity"], 1.0)
    assert again.next_id == first.next_id


def test_permuted_refit_keeps_ids() -> None:
    first, centroids, members = _first_fit()
    perm = np.array([2, 0, 3, 1])  # new theme j is old theme perm[j]
    inverse = np.argsort(perm)
    rng = np.random.default_rng(5)
    new_centroids = _unit(centroids[perm] + 0.05 * rng.normal(size=centroids.shape))
    new_members = inverse[members]
    again = match_themes(
        first.ids, centroids, members, new_centroids, new_members, next_id=first.next_id
    )
    assert again.ids == [first.ids[p] for p in perm]
    assert set(again.events["event"]) == {"kept"}


def test_merge_keeps_largest_id_and_records_sources() -> None:
    centroids = _centroids(3)
    members = np.repeat([0, 1, 2], [40, 25, 30])
    ids = ["T0001", "T0002", "T0003"]
    # New fit: old themes 0 and 1 become one theme (index 0); old theme 2 continues as index 1.
    new_members = np.where(members == 2, 1, 0)
    merged_centroid = _unit(centroids[:1] + centroids[1:2])
    new_centroids = np.vstack([merged_centroid, centroids[2:3]])
    match = match_themes(ids, centroids, members, new_centroids, new_members, next_id=4)
    assert match.ids == ["T0001", "T0003"]
    assert match.merged_from == {"T0001": ("T0002",)}
    row = match.events.loc[match.events["event"] == "merged"].iloc[0]
    assert row["theme_id"] == "T0001" and row["related_ids"] == ("T0002",)
    assert row["overlap"] == pytest.approx(1.0)
    assert match.retired == []  # a merged-away id is not "retired"
    assert match.next_id == 4


def test_split_keeps_id_on_largest_part() -> None:
    centroids = _centroids(2)
    members = np.repeat([0, 1], [60, 30])
    ids = ["T0001", "T0002"]
    # Old theme 0 splits into new themes 1 (36 contacts) and 2 (24 contacts).
    new_members = members.copy()
    new_members[members == 1] = 0
    part = np.flatnonzero(members == 0)
    new_members[part[:36]] = 2
    new_members[part[36:]] = 1
    rng = np.random.default_rng(1)
    new_centroids = _unit(
        np.vstack([centroids[1], centroids[0] + 0.3 * rng.normal(size=DIM), centroids[0]])
    )
    match = match_themes(ids, centroids, members, new_centroids, new_members, next_id=3)
    assert match.ids == ["T0002", "T0003", "T0001"]
    assert match.split_from == {"T0003": "T0001"}
    split = match.events.loc[match.events["event"] == "split"].set_index("theme_id")
    assert split.loc["T0001", "related_ids"] == ("T0003",)
    assert split.loc["T0003", "related_ids"] == ("T0001",)
    assert match.next_id == 4


def test_split_off_part_found_after_one_to_one_match() -> None:
    # Old theme 0 (50) -> new 0 gets 40 of them, new 1 gets 10 plus 0 others: a small split-off.
    centroids = _centroids(1)
    members = np.zeros(50, dtype=np.int64)
    new_members = np.r_[np.zeros(40, dtype=np.int64), np.ones(10, dtype=np.int64)]
    new_centroids = np.vstack([centroids, _centroids(1, seed=9)])
    match = match_themes(["T0001"], centroids, members, new_centroids, new_members, next_id=2)
    assert match.ids == ["T0001", "T0002"]
    assert match.split_from == {"T0002": "T0001"}


def test_removed_theme_retires_and_ids_are_never_reused() -> None:
    first, centroids, members = _first_fit()
    # Refit without old theme 3: its contacts become unassigned.
    new_members = np.where(members == 3, -1, members)
    second = match_themes(
        first.ids, centroids, members, centroids[:3], new_members, next_id=first.next_id
    )
    assert second.ids == ["T0001", "T0002", "T0003"]
    assert second.retired == ["T0004"]
    retired = second.events.loc[second.events["event"] == "retired"].iloc[0]
    assert retired["theme"] == -1
    # A later refit brings a brand-new theme: it must not get the retired id T0004.
    fresh = _unit(np.random.default_rng(42).normal(size=(1, DIM)))
    third_centroids = np.vstack([centroids[:3], fresh])
    third_members = np.r_[new_members, np.full(30, -1)]
    prev_members = np.r_[new_members, np.full(30, -1)]
    third_members[-30:] = 3
    third = match_themes(
        second.ids,
        centroids[:3],
        prev_members,
        third_centroids,
        third_members,
        next_id=second.next_id,
    )
    assert third.ids == ["T0001", "T0002", "T0003", "T0005"]
    assert _events(third, "new") == ["T0005"]
    assert third.next_id == 6


def test_counter_never_falls_behind_previous_ids() -> None:
    centroids = _centroids(2)
    match = match_themes(["T0010", "T0020"], centroids, None, _centroids(3, seed=7), None)
    assert "T0010" not in match.ids[2:]
    assert min(parse_theme_id(i) or 0 for i in _events(match, "new")) >= 21


def test_no_shared_contacts_falls_back_to_centroids() -> None:
    centroids = _centroids(3)
    rng = np.random.default_rng(2)
    moved = _unit(centroids[[1, 0]] + 0.02 * rng.normal(size=(2, DIM)))
    new_centroids = np.vstack([moved, _centroids(1, seed=11)])
    ids = ["T0001", "T0002", "T0003"]
    empty = np.zeros(0, dtype=np.int64)
    for prev_m, new_m in [(empty, empty), (None, None)]:
        match = match_themes(ids, centroids, prev_m, new_centroids, new_m, next_id=4)
        assert match.ids == ["T0002", "T0001", "T0004"]
        assert match.retired == ["T0003"]
        assert match.events["overlap"].isna().all()


def test_low_similarity_and_overlap_is_not_a_match() -> None:
    centroids = _centroids(2)
    members = np.repeat([0, 1], 20)
    # New themes mix the old ones half and half: neither Jaccard nor cosine is high enough.
    new_members = np.tile([0, 1], 20)
    new_centroids = _centroids(2, seed=3)
    match = match_themes(
        ["T0001", "T0002"], centroids, members, new_centroids, new_members, next_id=3
    )
    assert match.ids == ["T0003", "T0004"]
    assert sorted(match.retired) == ["T0001", "T0002"]


def test_different_embedding_dimension_uses_members_only() -> None:
    first, centroids, members = _first_fit()
    other_model = _unit(np.random.default_rng(4).normal(size=(4, DIM * 2)))
    again = match_themes(first.ids, centroids, members, other_model, members, next_id=5)
    assert again.ids == first.ids
    assert again.events["similarity"].isna().all()


def test_no_new_themes_retires_everything() -> None:
    first, centroids, members = _first_fit()
    gone = match_themes(
        first.ids, centroids, members, np.zeros((0, DIM)), np.full(len(members), -1)
    )
    assert gone.ids == []
    assert sorted(gone.retired) == first.ids


def test_invalid_inputs() -> None:
    centroids = _centroids(2)
    with pytest.raises(ValueError):
        match_themes(["T0001", "T0001"], centroids, None, centroids, None)
    with pytest.raises(ValueError):
        match_themes(["T0001", "T0002"], centroids, [0, 1], centroids, [0])
    with pytest.raises(ValueError):
        match_themes(["T0001", "T0002"], centroids, [0, 5], centroids, [0, 1])
