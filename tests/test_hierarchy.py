"""Parent groups of themes and their names."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster.hierarchy import (
    MAX_GROUP_SHARE,
    _cosine_distances,
    _silhouette_cut,
    auto_n_groups,
    file_lone_themes,
    finest_within_one_se,
    group_labels,
    has_parent_level,
    parent_groups,
)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _grouped_centroids(
    n_groups: int, per_group: int, dim: int = 32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Centroids scattered tightly around ``n_groups`` well-separated directions."""
    rng = np.random.default_rng(seed)
    anchors = _unit(rng.normal(size=(n_groups, dim)))
    truth = np.repeat(np.arange(n_groups), per_group)
    centroids = _unit(anchors[truth] + 0.15 * rng.normal(size=(len(truth), dim)))
    return centroids, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        len(set(zip(a.tolist(), b.tolist(), strict=True)))
        == len(set(a.tolist()))
        == len(set(b.tolist()))
    )


def test_recovers_known_groups() -> None:
    centroids, truth = _grouped_centroids(3, 5)
    groups = parent_groups(centroids, np.full(15, 10), n_groups=3)
    assert groups.shape == (15,) and groups.dtype == np.int64
    assert _same_partition(groups, truth)


def test_auto_group_count() -> None:
    assert auto_n_groups(0) == 0
    assert auto_n_groups(1) == 1
    assert auto_n_groups(2) == 2
    assert auto_n_groups(3) == 2
    assert auto_n_groups(50) == 7
    assert auto_n_groups(1000) == 12
    centroids, _ = _grouped_centroids(4, 4)
    groups = parent_groups(centroids, np.ones(16))
    assert len(np.unique(groups)) == auto_n_groups(16) == 4


def test_group_ids_ordered_by_size() -> None:
    centroids, truth = _grouped_centroids(3, 4, seed=1)
    sizes = np.where(truth == 2, 100, 1)  # the last true group is by far the biggest
    groups = parent_groups(centroids, sizes, n_groups=3)
    assert (groups[truth == 2] == 0).all()
    assert sorted(np.unique(groups).tolist()) == [0, 1, 2]


def test_edge_cases() -> None:
    assert parent_groups(np.zeros((0, 8)), []).shape == (0,)
    assert parent_groups(np.ones((1, 8)), [5]).tolist() == [0]
    two = _unit(np.eye(2, 8))
    assert sorted(parent_groups(two, [1, 2]).tolist()) == [0, 1]
    assert parent_groups(two, [1, 2], n_groups=1).tolist() == [0, 0]
    with pytest.raises(ValueError):
        parent_groups(two, [1, 2, 3])
    with pytest.raises(ValueError):
        parent_groups(np.zeros((2, 8)), [1, 1])


def test_deterministic() -> None:
    centroids, _ = _grouped_centroids(4, 6, seed=3)
    sizes = np.arange(24) + 1
    assert (parent_groups(centroids, sizes) == parent_groups(centroids.copy(), sizes)).all()


KEYWORDS = {
    0: [("card not arrived", 0.5), ("card delivery", 0.3), ("card", 0.2)],
    1: [("card payment declined", 0.5), ("card declined", 0.4), ("card", 0.2)],
    2: [("refund status", 0.5), ("refund", 0.4), ("return", 0.1)],
    3: [("missing refund", 0.5), ("refund", 0.4), ("seller", 0.2)],
    4: [("password reset", 0.6), ("reset link", 0.3)],
}


def test_group_labels_name_what_members_share() -> None:
    groups = np.array([0, 0, 1, 1, 2])
    names = group_labels(groups, KEYWORDS, sizes=[50, 40, 30, 20, 10])
    assert set(names) == {0, 1, 2}
    assert "card" in names[0].lower()
    assert "refund" in names[1].lower()
    assert "password" in names[2].lower()
    assert len(set(names.values())) == 3


def test_group_labels_accept_plain_lists_and_theme_names() -> None:
    groups = [0, 0, 1, 1, 2]
    plain = [[k for k, _ in KEYWORDS[t]] for t in range(5)]
    names = group_labels(groups, plain, theme_names=["a", "b", "c", "d", "Password reset help"])
    assert names[2] == "Password reset help"  # a one-theme group keeps its theme's name
    assert "refund" in names[1].lower()


def test_group_labels_deduplicate_names() -> None:
    names = group_labels([0, 1], [["refund"], ["refund"]])
    assert names == {0: "Refund", 1: "Refund (2)"}


def test_auto_groups_follow_the_tree_not_the_theme_count() -> None:
    """Parent groups are cut where the centroid tree branches: 6 real groups of 3 themes give 6
    parents (the sqrt rule would say 4), 3 of 8 give 3 (the sqrt rule would say 5)."""
    for n_groups, per_group in ((6, 3), (3, 8)):
        centroids, truth = _grouped_centroids(n_groups, per_group, seed=n_groups)
        groups = parent_groups(centroids, np.ones(len(truth)))
        assert _same_partition(groups, truth)
        assert auto_n_groups(len(truth)) != n_groups


def test_the_finest_cut_the_silhouette_cannot_tell_from_the_best_is_taken() -> None:
    """Cuts of the same themes are compared theme by theme. Where the finer cuts move each
    theme's silhouette by noise, the finest of them is taken (the maximum is a draw among
    them); where a finer cut lowers every theme a little, it is worse however widely the
    themes' silhouettes spread (HWU64: the unpaired error let ~60 themes go to 30 groups for
    18 scenarios). A clearly better coarse cut stays."""
    rng = np.random.default_rng(0)
    themes = 0.25 + 0.14 * rng.normal(size=51)  # a theme's silhouette is mostly the theme's

    def cut(shift: float, noise: float) -> np.ndarray:
        return themes + shift + noise * rng.normal(size=len(themes))

    flat = [cut(0.0, 0.02), cut(-0.002, 0.02), cut(0.001, 0.02)]
    assert finest_within_one_se(flat) == 2
    # every theme 0.01 lower: a spread of 0.14 / sqrt(51) = 0.02 would call it a tie
    worse = [cut(0.0, 0.002), cut(-0.01, 0.002)]
    assert finest_within_one_se(worse) == 0
    clear = [cut(0.0, 0.05), cut(-0.1, 0.05), cut(-0.2, 0.05)]
    assert finest_within_one_se(clear) == 0
    tied = [themes, themes.copy(), themes - 0.1]
    assert finest_within_one_se(tied) == 1  # no spread in the difference: equal means only
    assert finest_within_one_se([np.array([0.3])]) == 0


def test_parent_cut_refuses_one_heading_over_most_themes() -> None:
    """Two sub-families of four themes plus one far-off theme: the best silhouette alone peels
    the odd theme off (8 of 9 under one heading, as on the real CFPB export); the cut keeps no
    group over half of the themes or contacts, so the sub-families are the parents."""
    rng = np.random.default_rng(7)
    family, other, odd = _unit(rng.normal(size=(3, 32)))
    near = _unit(np.atleast_2d(family + 0.9 * other))[0]  # the second sub-family, near the first
    anchors = np.vstack([np.repeat([family], 4, 0), np.repeat([near], 4, 0), [odd * 4]])
    centroids = _unit(anchors + 0.08 * rng.normal(size=anchors.shape))
    truth = np.array([0] * 4 + [1] * 4 + [2])
    sizes = np.full(9, 10)
    groups = parent_groups(centroids, sizes)
    assert _same_partition(groups, truth)
    assert has_parent_level(groups)
    shares = np.bincount(groups) / len(groups)
    assert shares.max() <= MAX_GROUP_SHARE


def test_no_useful_parent_level_when_every_cut_has_one_heading_over_half() -> None:
    """Two clear pairs of themes, but one theme holds most contacts: the only cut puts over half
    of the contacts under one heading, so there is no parent level (each theme its own group)."""
    centroids, _ = _grouped_centroids(2, 2, seed=5)
    groups = parent_groups(centroids, [900, 10, 20, 30])
    assert sorted(groups.tolist()) == [0, 1, 2, 3] and not has_parent_level(groups)
    assert has_parent_level(parent_groups(centroids, [40, 10, 20, 30]))
    assert not has_parent_level(parent_groups(centroids[:3], [1, 1, 1]))  # 3 themes: no cut


def test_a_widely_spread_family_stays_whole_beside_tight_ones() -> None:
    """Three families of six themes, the middle one spread widely: cut into three, average
    linkage split it at 5 of 10 draws (its outlying themes a group of their own, the rest joined
    to a tight family); the Ward tree keeps every family whole."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        anchors = _unit(rng.normal(size=(3, 32)))
        truth = np.repeat(np.arange(3), 6)
        spread = np.array([0.25, 1.6, 0.25])[truth][:, None]
        centroids = _unit(anchors[truth] + spread * rng.normal(size=(18, 32)) / np.sqrt(32))
        groups = parent_groups(centroids, np.full(18, 10), n_groups=3)
        assert _same_partition(groups, truth), seed


def test_a_theme_alone_under_its_heading_joins_its_nearest_themes_group_within_the_bounds() -> None:
    """Theme 5 is alone and nearest theme 3: it joins 3's heading. Theme 6 is alone and nearest
    theme 0, whose heading would then hold 4 of 7 themes (over half): it stays alone."""
    groups = np.array([0, 0, 0, 1, 1, 2, 3])
    dist = np.full((7, 7), 0.9)
    np.fill_diagonal(dist, 0.0)
    dist[5, 3] = dist[3, 5] = 0.3
    dist[6, 0] = dist[0, 6] = 0.2
    filed = file_lone_themes(groups, dist, np.full(7, 10.0))
    assert filed.tolist() == [0, 0, 0, 1, 1, 1, 3]
    assert groups.tolist() == [0, 0, 0, 1, 1, 2, 3]  # the input is left as it was


def test_the_parent_cut_leaves_no_heading_over_one_theme_where_a_neighbour_can_take_it() -> None:
    """Four families of three themes and two outlying themes near the first and third: the
    silhouette cut alone leaves the first outlier under a heading of its own; filed, every
    heading holds two themes or more and that outlier sits with its nearest theme."""
    rng = np.random.default_rng(3)
    anchors = _unit(rng.normal(size=(4, 32)))
    lone = _unit(anchors[[0, 2]] + 1.5 * _unit(rng.normal(size=(2, 32))))
    centroids = _unit(np.vstack([np.repeat(anchors, 3, 0), lone]) + 0.1 * rng.normal(size=(14, 32)))
    dist = _cosine_distances(centroids)
    cut = _silhouette_cut(centroids, dist, np.full(14, 10.0))
    assert (cut == cut[12]).sum() == 1  # the case this test is about
    groups = parent_groups(centroids, np.full(14, 10))
    assert has_parent_level(groups)
    assert np.bincount(groups).min() >= 2
    nearest = int(np.argmin(np.where(np.eye(14, dtype=bool), np.inf, dist)[12]))
    assert groups[12] == groups[nearest] and nearest < 12
