"""Granularity chosen by the data: the minimum theme size from the condensed tree's persistence."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from rca.cluster import ThemeModel
from rca.cluster.density import default_min_cluster_size, density_clusters, size_by_persistence
from rca.cluster.quality import clustering_accuracy
from rca.errors import RcaError
from rca.jobs.fit import THEME_SIZE_EXTRAS, theme_size_rule
from rca.settings import Settings


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


def _themes_in_unit_space(truth: np.ndarray, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit embeddings, one distinct direction per true theme (no two themes merge)."""
    rng = np.random.default_rng(seed)
    unit = rng.normal(size=(truth.max() + 1, dim))[truth]
    unit += rng.normal(scale=0.05, size=unit.shape)
    return unit / np.linalg.norm(unit, axis=1, keepdims=True)


@pytest.mark.parametrize(("n_blobs", "per_blob"), [(40, 30), (6, 200)])
def test_plscan_layers_follow_the_data_and_are_deterministic(n_blobs: int, per_blob: int) -> None:
    """PLSCAN's layers of the coordinates find 40 small themes and 6 large ones with the same
    rule (no size given), and the same coordinates always give the same themes."""
    pytest.importorskip("fast_hdbscan")
    from rca.cluster.density import plscan_clusters

    coords, truth = _blobs(n_blobs, per_blob)
    unit = _themes_in_unit_space(truth)
    labels = plscan_clusters(coords, unit, 5, 0.85)
    assert len(np.unique(labels[labels >= 0])) == n_blobs
    assert clustering_accuracy(truth, labels) >= 0.95
    assert np.array_equal(labels, plscan_clusters(coords.copy(), unit, 5, 0.85))


def test_oversplit_share_counts_the_clusters_the_merge_would_join() -> None:
    from rca.cluster.density import oversplit_share

    truth = np.repeat(np.arange(4), 20)
    unit = _themes_in_unit_space(truth)
    assert oversplit_share(unit, truth, 0.85) == 0.0
    pockets = np.where(truth == 3, 3 + np.arange(len(truth)) % 2, truth)  # theme 3 cut in two
    assert oversplit_share(unit, pockets, 0.85) == pytest.approx(1 / 5)
    assert oversplit_share(unit, np.zeros(len(truth), dtype=np.int64), 0.85) == 0.0
    with pytest.raises(ValueError, match="plscan"):
        ThemeModel(min_cluster_size="leaves").fit(np.eye(30))


@pytest.mark.parametrize("rule", ["size", "persistence", "layers", "plscan"])
def test_theme_size_setting_picks_the_rule_or_names_the_missing_extra(rule: str) -> None:
    """RCA_FIT_THEME_SIZE reaches the model; a rule whose package is missing is one clear
    error before any embedding, not an ImportError at the end of it."""
    settings = Settings(fit_theme_size=rule)
    module = THEME_SIZE_EXTRAS.get(rule, (None, None))[0]
    if module is not None and importlib.util.find_spec(module) is None:
        with pytest.raises(RcaError, match=rf"pip install 'rca\[{rule}\]'"):
            theme_size_rule(settings)
    else:
        assert theme_size_rule(settings) == (None if rule == "size" else rule)


def test_a_data_chosen_granularity_is_kept_by_refits_of_the_same_rule() -> None:
    """The champion's choice is inherited (scaled to the refit's rows and the asked
    granularity) only under the same data-chosen rule and unless a person asks again."""
    from rca.cluster.granularity import Granularity, decision, inherits, model_params

    chosen = Granularity("plscan", theme_size=23, fit_rows=3_000, chosen_on="m1")
    assert model_params("plscan", chosen, 3_300, 1.0) == {
        "min_cluster_size": 25,
        "cluster_selection": "leaf",
    }
    assert model_params("plscan", chosen, 3_000, 2.0)["min_cluster_size"] == 12
    assert model_params("plscan", chosen, 300, 1.0)["min_cluster_size"] == 10  # the floor
    assert model_params("plscan", chosen, 3_000, 1.0, rechoose=True) == {
        "min_cluster_size": "plscan"
    }
    assert model_params("persistence", chosen, 3_000, 1.0) == {"min_cluster_size": "persistence"}
    assert model_params("size", chosen, 3_000, 1.0) == {"min_cluster_size": None}
    assert not inherits("plscan", None, rechoose=False)
    kept = decision("plscan", chosen, chosen_size=25, fit_rows=3_300, granularity=1.0,
                    version="m2", kept=True)  # fmt: skip
    assert (kept.chosen_on, kept.theme_size, kept.fit_rows, kept.kept) == ("m1", 23, 3_000, True)
    fresh = decision("plscan", chosen, chosen_size=30, fit_rows=3_300, granularity=0.5,
                     version="m3", kept=False)  # fmt: skip
    assert (fresh.chosen_on, fresh.theme_size, fresh.kept) == ("m3", 15, False)
    assert Granularity.from_json(kept.to_json()) == kept
    for broken in (None, "", "{", '{"rule": "plscan"}', "[1]"):
        assert Granularity.from_json(broken) is None


def test_leaf_selection_reproduces_a_plscan_layer_at_its_smallest_size() -> None:
    """What a kept granularity relies on: HDBSCAN's leaves at the layer's smallest theme size
    give the layer's themes again."""
    pytest.importorskip("fast_hdbscan")
    from rca.cluster.density import plscan_clusters

    truth = np.repeat(np.arange(12), 40)
    coords, _ = _blobs(12, 40, seed=5)
    unit = _themes_in_unit_space(truth, seed=5)
    layer = plscan_clusters(coords, unit, 5, 0.85)
    smallest = int(np.bincount(layer[layer >= 0]).min())
    leaves = density_clusters(coords, smallest, 5, selection="leaf")
    assert clustering_accuracy(layer, leaves) >= 0.95
    with pytest.raises(ValueError, match="cluster_selection"):
        ThemeModel(cluster_selection="middle").fit(np.eye(30))


def test_a_coarser_layer_must_be_better_separated_by_more_than_its_standard_error() -> None:
    """CFPB's narratives at one UMAP seed: 14 themes at silhouette 0.038, 2 at 0.043, each
    with a standard error over its themes near 0.01. The coarser layer is not better beyond
    noise, so the finer one stays (a plain comparison took 2 themes); HWU64's step (0.134 ->
    0.168, se 0.013) is beyond it and is still taken."""
    from rca.cluster.density import Separation, choose_layer

    cfpb = [Separation(0.038, 0.011), Separation(0.043, 0.012)]
    assert choose_layer([0.33, 0.33], lambda i: cfpb[i]) == 0
    assert choose_layer([0.33, 0.33], lambda i: cfpb[i].mean) == 1  # without the error: coarser
    hwu = [Separation(0.134, 0.010), Separation(0.168, 0.013), Separation(0.125, 0.015)]
    assert choose_layer([0.092, 0.035, 0.0], lambda i: hwu[i]) == 1
    nan = Separation(float("nan"), float("nan"))
    assert choose_layer([0.0, 0.0], lambda i: [Separation(0.1, 0.01), nan][i]) == 0
    assert choose_layer([0.0, 0.0], lambda i: [nan, Separation(0.1, 0.01)][i]) == 1


def test_two_layers_are_compared_on_the_same_rows() -> None:
    """HWU64 as `rca evaluate` embeds it, UMAP seed 43: the ~57-theme layer scores 0.1445 +-
    0.016 against the ~107-theme layer's 0.1288 +- 0.012, the same step at every seed, yet
    within the coarser layer's error, so the finer, less accurate layer stayed. Read on the
    same rows the difference (0.0155) is beyond its own error and the coarser layer is taken;
    CFPB's two themes against fourteen stay within it."""
    from rca.cluster.density import Separation, choose_layer

    own = [Separation(0.1288, 0.0124), Separation(0.1445, 0.0158)]
    assert choose_layer([0.07, 0.034], lambda i: own[i]) == 0
    taken = choose_layer(
        [0.07, 0.034], lambda i: own[i], gap=lambda i, j: Separation(0.0155, 0.004)
    )
    assert taken == 1
    cfpb = [Separation(0.038, 0.011), Separation(0.043, 0.012)]
    wide = lambda i, j: Separation(0.005, 0.02)  # noqa: E731
    assert choose_layer([0.33, 0.33], lambda i: cfpb[i], gap=wide) == 0
    nan = lambda i, j: Separation(float("nan"), float("nan"))  # noqa: E731
    assert choose_layer([0.0, 0.0], lambda i: cfpb[i], gap=nan) == 0


def test_paired_gap_sees_near_duplicate_halves_and_real_merges() -> None:
    """Twelve themes: a finer cut that halves each of them at random is worse than the themes
    on the same rows by more than the error; a coarser cut that merges distinct themes in pairs
    is worse than them; the same labels give a gap of zero."""
    from rca.cluster.separation import paired_gap

    truth = np.repeat(np.arange(12), 60)
    unit = _themes_in_unit_space(truth, seed=3)
    halves = truth * 2 + np.random.default_rng(0).integers(0, 2, len(truth))
    split = paired_gap(unit, halves, truth, random_state=0)
    assert split.mean - split.se > 0
    merged = paired_gap(unit, truth, truth // 2, random_state=0)
    assert merged.mean + merged.se < 0
    same = paired_gap(unit, truth, truth, random_state=0)
    assert same.mean == 0.0 and same.se == 0.0
    unassigned = np.where(truth < 11, truth, -1)  # rows unassigned on one side are left out
    assert np.isfinite(paired_gap(unit, unassigned, truth, random_state=0).mean)
    assert np.isnan(paired_gap(unit, truth, np.zeros_like(truth), random_state=0).mean)


def _pairs_of_small_themes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """40 themes of 30 rows whose UMAP-like coordinates sit in 20 close pairs: PLSCAN's only
    persistent layer holds the 20 pairs, its base layer (leaves at the floor size) the 40."""
    rng = np.random.default_rng(seed)
    middles = rng.uniform(-20, 20, size=(20, 5))
    offsets = rng.normal(size=(20, 5))
    offsets /= np.linalg.norm(offsets, axis=1, keepdims=True)
    centres = np.concatenate([middles + 0.9 * offsets, middles - 0.9 * offsets])
    truth = np.repeat(np.arange(40), 30)
    return centres[truth] + rng.normal(scale=0.3, size=(len(truth), 5)), truth


def test_the_base_layer_is_taken_only_when_it_earns_its_detail() -> None:
    """Where themes are about as small as the floor, the persistent layer can merge them in
    pairs; the base layer is kept when the themes are distinct in the embedding space, and not
    when the pairs' halves say the same thing (the finer cut would only split wording)."""
    pytest.importorskip("fast_hdbscan")
    from rca.cluster.density import plscan_clusters

    coords, truth = _pairs_of_small_themes(seed=1)
    model = ThemeModel(random_state=0)
    for pair_of, expected in ((truth, 40), (truth % 20, 20)):
        unit = _themes_in_unit_space(pair_of, seed=1)
        labels = plscan_clusters(
            coords,
            unit,
            5,
            0.85,
            validity=lambda layer, u=unit: model._layer_trial(u, layer)._separation(u),
        )
        assert labels.max() + 1 == expected
        assert clustering_accuracy(pair_of, labels) >= 0.8
    assert plscan_clusters(coords, _themes_in_unit_space(truth, seed=1), 5, 0.85).max() + 1 == 20


def test_the_base_layer_is_kept_unless_the_persistent_layer_separates_better() -> None:
    """Figures of stop 59's probe (``experiments.layer_gap_probe``): HWU64 at 30 texts an
    intent as ``rca evaluate`` reads it, seed 0 (base 60 themes, persistent layer 35, the
    persistent layer's silhouette less the base's on the same rows -0.0012 +- 0.0099) is
    earned, as is 141 x 30 at seed 42 (-0.0098 +- 0.0056); a persistent layer better by more
    than its error is kept; an over-split base (Bitext, share 0.40) never is; a gap that cannot
    be read (NaN) earns nothing. Without the paired gap the layers' own scores are read."""
    from rca.cluster.density import Separation, base_earned

    def never() -> Separation:
        raise AssertionError("the paired gap is read instead")

    assert base_earned(
        0.0, never, Separation(0.1667, 0.0177), gap=lambda: Separation(-0.0012, 0.0099)
    )
    assert base_earned(
        0.007, never, Separation(0.1686, 0.0128), gap=lambda: Separation(-0.0098, 0.0056)
    )
    assert not base_earned(0.05, never, Separation(0.2, 0.01), gap=lambda: Separation(0.02, 0.005))
    over_split = lambda: pytest.fail("an over-split base is not scored")  # noqa: E731
    assert not base_earned(0.398, over_split, Separation(0.2, 0.01), gap=over_split)
    nan = Separation(float("nan"), float("nan"))
    assert not base_earned(0.0, never, Separation(0.1, 0.01), gap=lambda: nan)
    # the layers' own scores: the persistent layer better by more than its error keeps it
    assert base_earned(0.039, lambda: Separation(0.1835, 0.0115), Separation(0.1703, 0.0133))
    assert base_earned(0.097, lambda: Separation(0.2324, 0.0150), Separation(0.2242, 0.0145))
    assert not base_earned(0.05, lambda: Separation(0.15, 0.01), Separation(0.20, 0.01))
    assert not base_earned(0.0, lambda: Separation(float("nan"), 0.0), Separation(0.1, 0.01))


def test_the_fit_validity_is_the_sampled_silhouette_with_a_standard_error_over_themes() -> None:
    """``_separation`` draws silhouette_score's sample, so ``validity_`` is unchanged; its error
    is the spread of per-theme means over the square root of their number."""
    from sklearn.metrics import silhouette_samples, silhouette_score

    from rca.cluster.model import ThemeModel

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 16))
    unit = np.repeat(centres, 60, axis=0) + 0.6 * rng.normal(size=(240, 16))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    model = ThemeModel(random_state=7)
    model.labels_ = np.repeat(np.arange(4), 60)
    got = model._separation(unit)
    assert got.mean == pytest.approx(
        silhouette_score(unit, model.labels_, metric="cosine", sample_size=240, random_state=7)
    )
    per_row = silhouette_samples(unit, model.labels_, metric="cosine")
    per_theme = per_row.reshape(4, 60).mean(axis=1)
    assert got.se == pytest.approx(np.std(per_theme, ddof=1) / 2.0)
    model.labels_ = np.zeros(240, dtype=np.int64)
    assert np.isnan(model._separation(unit).mean)


@pytest.mark.parametrize(
    ("shares", "validity", "expected"),
    [
        # HWU64 at seed 42 (layer_rule_probe): not over-split at 10 %, but the next layer's themes
        # are better separated (0.168 vs 0.134) and the one after is not (0.125): the middle one
        ([0.092, 0.035, 0.0, 0.0], [0.134, 0.168, 0.125, 0.104], 1),
        # Banking77-test: the finest layer is both not over-split and the best separated
        ([0.068, 0.0], [0.227, 0.133], 0),
        # Bitext: over-split twice (shares 0.28, 0.16) though separation falls: coarsen twice
        ([0.284, 0.16, 0.0, 0.0], [0.325, 0.307, 0.266, 0.134], 2),
        # a coarser layer that is no less over-split is not taken on the share alone
        ([0.2, 0.2], [0.3, 0.1], 0),
        # a layer that cannot be scored (one theme) never wins on validity
        ([0.0, 0.0], [0.1, float("nan")], 0),
        ([0.0], [0.5], 0),
    ],
)
def test_layer_choice_coarsens_while_over_split_or_better_separated(
    shares: list[float], validity: list[float], expected: int
) -> None:
    from rca.cluster.density import choose_layer

    asked: list[int] = []

    def score(i: int) -> float:
        asked.append(i)
        return validity[i]

    assert choose_layer(shares, score) == expected
    assert choose_layer(shares, lambda i: float("nan")) == choose_layer(shares, lambda i: 0.0)
    assert max(asked, default=0) <= expected + 1  # layers past the chosen one's neighbour unread


def test_layouts_vote_on_the_smallest_theme_size() -> None:
    """With ``size_votes=3`` the fit lays out two more UMAP runs (the next seeds) and keeps the
    median smallest theme size; with one vote, or more rows than ``vote_rows``, it keeps its
    own layout's choice."""
    pytest.importorskip("fast_hdbscan")
    truth = np.repeat(np.arange(12), 40)
    unit = _themes_in_unit_space(truth, seed=3)
    one = ThemeModel(min_cluster_size="plscan", random_state=0).fit(unit)
    assert one.size_votes_ == [float(one.min_cluster_size_)]
    voted = ThemeModel(min_cluster_size="plscan", random_state=0, size_votes=3).fit(unit)
    assert len(voted.size_votes_) == 3 and voted.size_votes_[0] == one.min_cluster_size_
    assert voted.min_cluster_size_ == round(float(np.median(voted.size_votes_)))
    # whatever one layout chose alone (here a layout of 10-row pockets), the median keeps
    # the twelve themes
    assert clustering_accuracy(truth, voted.labels_) >= 0.95, voted.size_votes_
    big = ThemeModel(min_cluster_size="plscan", random_state=0, size_votes=3, vote_rows=479)
    assert big.fit(unit).size_votes_ == one.size_votes_
    with pytest.raises(ValueError, match="size_votes"):
        ThemeModel(min_cluster_size="plscan", size_votes=0).fit(unit)


def test_a_fit_votes_while_its_extra_layouts_cost_no_more_than_the_sample_ceiling() -> None:
    assert Settings(fit_max_samples=25_000, fit_size_votes=3).vote_rows == 12_500
    assert Settings(fit_max_samples=25_000, fit_size_votes=1).vote_rows is None
    assert Settings(fit_max_samples=None).vote_rows is None


def test_a_voted_size_cuts_the_fits_own_layout_by_its_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the vote differs from the fit's own choice, the fit's layout is cut at the voted
    size by HDBSCAN's leaves, as a refit keeps a granularity: a size over two themes' worth
    joins them."""
    pytest.importorskip("fast_hdbscan")
    truth = np.repeat(np.arange(12), 40)
    unit = _themes_in_unit_space(truth, seed=3)
    monkeypatch.setattr(ThemeModel, "_voted_size", lambda self, unit: 10)
    fine = ThemeModel(min_cluster_size="plscan", random_state=0, size_votes=3).fit(unit)
    assert fine.min_cluster_size_ == 10 and fine.n_themes_ == 12
    monkeypatch.setattr(ThemeModel, "_voted_size", lambda self, unit: 400)
    coarse = ThemeModel(min_cluster_size="plscan", random_state=0, size_votes=3).fit(unit)
    assert coarse.min_cluster_size_ == 400 and coarse.n_themes_ < 12
