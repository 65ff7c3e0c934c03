"""Parent groups of themes, so a long theme list can be read as a few headings.

Themes are grouped by Ward agglomerative clustering of their unit-length centroids (whose
Euclidean distance is a function of the cosine): Ward merges the pair of groups that adds least
spread, so it neither chains unrelated themes through one bridging theme (single linkage) nor
peels a widely spread family's outlying themes off as groups of their own (average linkage,
which then joins the rest of that family to a tight neighbour). Each group is named in
customers' words (:mod:`rca.cluster.parent_names`), falling back to c-TF-IDF over its
members' keywords, so the name says what the members share and what sets the group apart from
the other groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_samples

from rca.cluster.labels import (
    PARTICLES,
    PHRASE_ONLY_WORDS,
    KeywordLike,
    c_tf_idf,
    theme_label,
)

# Automatic group count: the finest cut of the Ward tree whose cosine silhouette of the theme
# centroids is within one standard error of the best cut's, so the data say where the tree has
# real branches (`_silhouette_cut`). Measured against the coarse labels on two draws of the same
# sets' vectors (a clean install embeds them again, and float rounding moves the layouts and the
# fine level: experiments/results/granularity.md, stop 49), UMAP seeds 42 / 7 / 0, with
# experiments/linkage_probe.py:
#   HWU64 scenarios (18):   Ward 0.650 / 0.644 / 0.588 and 0.683 / 0.677 / 0.496;
#                           average (before) 0.637 / 0.637 / 0.612 and 0.631 / 0.622 / 0.591
#   Bitext categories (11): Ward 0.750 / 0.848 / 0.848 and 0.810 / 0.710 / 0.824;
#                           average (before) 0.738 / 0.787 / 0.811 and 0.810 / 0.602 / 0.824
# Ward is ahead at 8 of 12 fits and behind at 2 (HWU64 seed 0, where the second draw's fine
# level had 119 themes for 64 intents and the cut hit the cap of 40 groups).
# Stop 57 (experiments/parent_rule_probe.py, the voted fine level at six seeds): the error of
# the one-SE rule is the paired one (`finest_within_one_se`); HWU64 0.629 -> 0.645 mean, 1 -> 2
# of 6 over its bar, Bitext 0.804 -> 0.812, 5 of 6 either way.
# A group holds two themes on average at least (no more than k / 2 groups): a parent level with
# as many headings as themes is no second level.
SILHOUETTE_MIN_THEMES = 4
MAX_SILHOUETTE_GROUPS = 40
# A cut is a parent level only when no group holds more than half of the themes or more than
# half of the contacts, and its silhouette is positive (themes closer to their own group than to
# the next). The best silhouette alone peels one odd theme off the rest: on the real CFPB export
# it put 14 of 15 themes and 99 % of the contacts under one heading. Both bounds are shares, so
# they hold at any number of themes and any embedding model. When no cut passes, there is no
# useful parent level: every theme is its own group (`has_parent_level` is False) and reports
# say so instead of printing one heading over everything.
MAX_GROUP_SHARE = 0.5
MIN_GROUP_SILHOUETTE = 0.0
# The sqrt(k) rule (`auto_n_groups`, kept for comparison in experiments/): about sqrt(k) groups
# of about sqrt(k) themes each balances the two levels (50 themes -> 7 groups of ~7). A fixed
# cosine-distance threshold was rejected: the scale of distances depends on the embedding model
# and on how finely the themes were cut, so one threshold gives 1 group on one data set and 40 on
# another. At least 2 groups (one group is no hierarchy), at most 12 (more headings than that is
# a second long list).
MIN_AUTO_GROUPS = 2
MAX_AUTO_GROUPS = 12
# Group naming: a member's keyword at rank r counts 1 / (1 + r) (a theme's top keywords say most
# about it) times log(1 + theme size) (big themes lead the name without drowning small ones).
# The name is built from the group's best GROUP_LABEL_TOP_N terms.
GROUP_LABEL_TOP_N = 8


def auto_n_groups(n_themes: int) -> int:
    """Default number of parent groups for ``n_themes`` themes (see module constants)."""
    if n_themes <= 1:
        return n_themes
    return min(n_themes, int(np.clip(round(math.sqrt(n_themes)), MIN_AUTO_GROUPS, MAX_AUTO_GROUPS)))


def _cosine_distances(centroids: np.ndarray) -> np.ndarray:
    c = np.asarray(centroids, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError("centroids contain NaN or inf")
    norms = np.linalg.norm(c, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a centroid is the zero vector; cosine distance is undefined")
    c = c / norms
    dist = np.clip(1.0 - c @ c.T, 0.0, 2.0)
    dist = (dist + dist.T) / 2.0  # exact symmetry for squareform
    np.fill_diagonal(dist, 0.0)
    return dist


def ward_tree(centroids: np.ndarray) -> np.ndarray:
    """Ward linkage matrix of the unit-length ``centroids``: their squared Euclidean distance is
    twice the cosine distance, so the tree reads the same similarity the themes were cut by."""
    c = np.asarray(centroids, dtype=np.float64)
    return linkage(c / np.linalg.norm(c, axis=1, keepdims=True), method="ward")


def _number_by_size(raw: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Renumber groups 0..g-1 by total size, largest first (ties: lowest member theme first)."""
    uniq = np.unique(raw)
    totals = np.array([sizes[raw == g].sum() for g in uniq])
    first_member = np.array([np.flatnonzero(raw == g)[0] for g in uniq])
    order = np.lexsort((first_member, -totals))
    new_id = {int(uniq[o]): rank for rank, o in enumerate(order)}
    return np.array([new_id[int(g)] for g in raw], dtype=np.int64)


def parent_groups(
    centroids: np.ndarray,
    sizes: Sequence[int] | np.ndarray,
    *,
    n_groups: int | None = None,
) -> np.ndarray:
    """Parent group id (0 = largest group by contacts) for every theme, as an int array.

    Ward clustering of the unit centroids (:func:`ward_tree`), cut into ``n_groups`` groups
    (fewer if merge heights tie); ``None`` cuts where the centroid silhouette is best
    among the cuts that are a parent level (see MAX_GROUP_SHARE), or gives every theme its own
    group when none is. ``sizes`` (contacts per theme) bound the largest group's share of
    contacts and order the group ids, so the same grouping always gets the same numbers.
    """
    centroids = np.atleast_2d(np.asarray(centroids))
    k = 0 if centroids.size == 0 else centroids.shape[0]
    sizes_arr = np.asarray(sizes, dtype=np.float64).ravel()
    if len(sizes_arr) != k:
        raise ValueError(f"{k} centroids but {len(sizes_arr)} sizes")
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if n_groups is not None and int(n_groups) < 1:
        raise ValueError(f"n_groups must be >= 1, got {n_groups}")
    dist = _cosine_distances(centroids)
    if n_groups is None:
        if k < SILHOUETTE_MIN_THEMES:  # no cut of 2 or 3 themes keeps every group to half
            return _number_by_size(np.arange(k), sizes_arr)
        raw = _silhouette_cut(centroids, dist, sizes_arr)
        if has_parent_level(raw):
            raw = file_lone_themes(raw, dist, sizes_arr)
        return _number_by_size(raw, sizes_arr)
    g = auto_n_groups(k) if n_groups is None else int(n_groups)
    if g >= k:
        raw = np.arange(k)
    elif g == 1:
        raw = np.zeros(k, dtype=np.int64)
    else:
        raw = fcluster(ward_tree(centroids), t=g, criterion="maxclust")
    return _number_by_size(np.asarray(raw), sizes_arr)


def has_parent_level(groups: Sequence[int] | np.ndarray) -> bool:
    """Whether ``groups`` (from :func:`parent_groups`) is a second level: some group holds two
    or more themes, and there is more than one group."""
    groups_arr = np.asarray(groups).ravel()
    return 1 < len(np.unique(groups_arr)) < len(groups_arr)


def is_parent_level(raw: np.ndarray, sizes: np.ndarray) -> bool:
    """No group holds more than MAX_GROUP_SHARE of the themes or of the contacts."""
    uniq = np.unique(raw)
    if not 1 < len(uniq) < len(raw):
        return False
    themes = max(int((raw == g).sum()) for g in uniq) / len(raw)
    total = float(sizes.sum())
    contacts = max(float(sizes[raw == g].sum()) for g in uniq) / total if total > 0 else 0.0
    return themes <= MAX_GROUP_SHARE and contacts <= MAX_GROUP_SHARE


def finest_within_one_se(silhouettes: Sequence[np.ndarray]) -> int:
    """Index of the cut with the most groups whose mean silhouette is within one standard error
    of the best mean; cuts are given finest-last as per-theme silhouette arrays of the same
    themes, so the index with the most groups is the last one that qualifies. Ties for the best
    go to the first.

    The error is that of the *difference* between a cut and the best one, theme by theme: both
    cuts group the same themes, and a theme's silhouette depends mostly on the theme (a tight
    one scores high under any cut), so the spread across themes says little about how far two
    cuts can be told apart. The unpaired error (the best cut's spread / sqrt(k)) let HWU64's
    ~60 themes go to 25-30 groups for 18 scenarios, where the paired one stops at 19-26
    (experiments/results/granularity.md, stop 57).
    """
    return within_one_se(silhouettes)[-1]


def within_one_se(silhouettes: Sequence[np.ndarray]) -> list[int]:
    """Indices (ascending) of the cuts whose mean silhouette is within one paired standard
    error of the best one's (:func:`finest_within_one_se` keeps the last); the best itself is
    always one. The experiments read the plateau's other cuts (granularity.md, stop 59)."""
    means = [float(np.mean(s)) for s in silhouettes]
    best = np.asarray(silhouettes[int(np.argmax(means))], dtype=np.float64)

    def close(i: int) -> bool:
        gap = best - silhouettes[i]
        se = float(np.std(gap, ddof=1) / math.sqrt(len(gap))) if len(gap) > 1 else 0.0
        return float(gap.mean()) <= se

    return [i for i in range(len(silhouettes)) if close(i)]


def _silhouette_cut(centroids: np.ndarray, dist: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Groups of the Ward tree cut (2 .. k/2 groups) with the most groups among the parent-level
    cuts (:func:`is_parent_level`, silhouette above MIN_GROUP_SILHOUETTE) whose centroid
    silhouette is within one standard error of the best one's (:func:`finest_within_one_se`).
    None passes: every theme its own group. ``dist`` is the themes' cosine distance matrix,
    ``sizes`` their contacts.

    The silhouette of the theme centroids is flat over many cuts (HWU64: 0.20-0.23 from 8 to 25
    groups at one seed, a standard error of 0.02 over its 51 themes), so its maximum is a draw
    among cuts the data cannot tell apart; the finest of them hides the fewest distinctions.
    The best silhouette alone was measured on the Ward tree too (module constants): nearer the
    true count on one draw of vectors, but it put Bitext's 16 themes of another under 3
    headings (accuracy 0.402 against 0.710).
    """
    k = len(dist)
    tree = ward_tree(centroids)
    cuts: list[np.ndarray] = []
    silhouettes: list[np.ndarray] = []
    for g in range(MIN_AUTO_GROUPS, min(k // 2, MAX_SILHOUETTE_GROUPS) + 1):
        raw = fcluster(tree, t=g, criterion="maxclust")
        if not is_parent_level(raw, sizes):
            continue
        per_theme = silhouette_samples(dist, raw, metric="precomputed")
        if float(per_theme.mean()) <= MIN_GROUP_SILHOUETTE:
            continue
        cuts.append(np.asarray(raw))
        silhouettes.append(per_theme)
    if not cuts:
        return np.arange(k)
    return cuts[finest_within_one_se(silhouettes)]


def file_lone_themes(groups: np.ndarray, dist: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``groups`` with each group of one theme filed under the group of its nearest theme (by
    centroid cosine, ``dist``), nearest first, as long as the cut stays a parent level
    (:func:`is_parent_level`: no group over half the themes or contacts).

    Why: a heading over a single theme is no heading (issue #19 names it as a sign of useless
    parent groups), and the silhouette cut leaves many: on HWU64 11 of 27 groups, on the real
    CFPB export 4 of 8 (two one-company themes, a template, one product). Measured with
    ``experiments/singleton_parent_probe.py`` on the voted fine level at seeds 42 / 7 / 0
    against the coarse labels: HWU64 scenarios 0.657 / 0.656 / 0.662 -> 0.700 / 0.675 / 0.693,
    Bitext categories 0.884 / 0.811 / 0.879 -> 0.847 / 0.846 / 0.879, CFPB sub-products
    0.257 / 0.309 -> 0.317 / 0.322 (experiments/results/granularity.md, stop 61).
    """
    out = np.asarray(groups).copy()
    near = np.asarray(dist, dtype=np.float64).copy()
    np.fill_diagonal(near, np.inf)
    for i in np.argsort(near.min(axis=1), kind="stable"):
        if int((out == out[i]).sum()) != 1:
            continue
        trial = out.copy()
        trial[i] = out[int(np.argmin(near[i]))]
        if is_parent_level(trial, sizes):
            out = trial
    return out


def _phrase_units(words: list[str]) -> list[str]:
    """Words of a keyword phrase as group-name terms: particles stay bound ("top up"), negations
    are dropped ("not arrived" -> "arrived")."""
    units: list[str] = []
    for word in words:
        if word in PARTICLES and units:
            units[-1] = f"{units[-1]} {word}"
        elif word not in PHRASE_ONLY_WORDS:
            units.append(word)
    return units


def _as_mapping(
    keywords: Mapping[int, Sequence[KeywordLike]] | Sequence[Sequence[KeywordLike]],
) -> Mapping[int, Sequence[KeywordLike]]:
    if isinstance(keywords, Mapping):
        return keywords
    return dict(enumerate(keywords))


def group_terms(
    groups: Sequence[int] | np.ndarray,
    keywords: Mapping[int, Sequence[KeywordLike]] | Sequence[Sequence[KeywordLike]],
    sizes: Sequence[int] | np.ndarray | None = None,
) -> dict[int, list[tuple[str, float]]]:
    """``{group: [(term, score), ...]}``, best first, at most GROUP_LABEL_TOP_N per group.

    ``groups[t]`` is theme t's group (from :func:`parent_groups`), ``keywords[t]`` its ranked
    keywords (strings or ``(term, score)``, e.g. from ``theme_keywords``). Each keyword phrase and
    each of its words is a term; a group's terms are weighted by keyword rank and member size,
    scored by c-TF-IDF against the other groups, and scaled by the share of members that mention
    them (so "card" beats "card not arrived" in a group of card themes).
    """
    groups_arr = np.asarray(groups, dtype=np.int64).ravel()
    kw = _as_mapping(keywords)
    size_w = (
        np.ones(len(groups_arr))
        if sizes is None
        else np.log1p(np.asarray(sizes, dtype=np.float64).ravel())
    )
    if len(size_w) != len(groups_arr):
        raise ValueError(f"{len(groups_arr)} themes in groups but {len(size_w)} sizes")
    group_ids = sorted(int(g) for g in np.unique(groups_arr))
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    mentions: set[tuple[int, int, int]] = set()  # (group row, term, member theme)
    n_members = np.zeros(len(group_ids))
    for row, g in enumerate(group_ids):
        members = np.flatnonzero(groups_arr == g)
        n_members[row] = len(members)
        for theme in members:
            for rank, keyword in enumerate(kw.get(int(theme), ())):
                phrase = (keyword[0] if isinstance(keyword, tuple) else str(keyword)).lower()
                terms = {phrase, *_phrase_units(phrase.split())}
                weight = float(size_w[theme]) / (1.0 + rank)
                for term in sorted(terms):
                    col = vocab.setdefault(term, len(vocab))
                    rows.append(row)
                    cols.append(col)
                    vals.append(weight)
                    mentions.add((row, col, int(theme)))
    ranked: dict[int, list[tuple[str, float]]] = {g: [] for g in group_ids}
    if not vocab:
        return ranked
    shape = (len(group_ids), len(vocab))
    counts = sp.csr_matrix((vals, (rows, cols)), shape=shape)
    # Scores are scaled by the share of member themes that mention the term: a group's name
    # should say what its members have in common, not what one of them is about.
    coverage = np.zeros(shape)
    for row, col, _ in mentions:
        coverage[row, col] += 1.0
    coverage /= n_members[:, None]
    scores = c_tf_idf(counts).toarray() * coverage
    terms_arr = np.array(sorted(vocab, key=vocab.__getitem__), dtype=str)
    for row, g in enumerate(group_ids):
        nz = np.flatnonzero(scores[row] > 0)
        order = nz[np.lexsort((terms_arr[nz], -scores[row, nz]))][:GROUP_LABEL_TOP_N]
        ranked[g] = [(str(terms_arr[i]), float(scores[row, i])) for i in order]
    return ranked


def group_labels(
    groups: Sequence[int] | np.ndarray,
    keywords: Mapping[int, Sequence[KeywordLike]] | Sequence[Sequence[KeywordLike]],
    sizes: Sequence[int] | np.ndarray | None = None,
    *,
    theme_names: Mapping[int, str] | Sequence[str] | None = None,
    max_words: int = 4,
    names: Mapping[int, str] | None = None,
) -> dict[int, str]:
    """``{group: name}`` from the member themes' keywords (:func:`group_terms`).

    A one-theme group takes that theme's name when ``theme_names`` is given; a group in
    ``names`` takes that name (phrases from :mod:`rca.cluster.parent_names`). Names repeated
    across groups get a " (2)", " (3)" suffix.
    """
    groups_arr = np.asarray(groups, dtype=np.int64).ravel()
    themes = dict(enumerate(theme_names)) if isinstance(theme_names, Sequence) else theme_names
    terms = group_terms(groups_arr, keywords, sizes)
    result: dict[int, str] = {}
    seen: dict[str, int] = {}
    for g in sorted(terms):
        members = np.flatnonzero(groups_arr == g)
        name = theme_label(terms[g], max_words=max_words, fallback=f"Group {g}")
        if themes is not None and len(members) == 1 and int(members[0]) in themes:
            name = themes[int(members[0])]
        elif names is not None and g in names:
            name = names[g]
        seen[name] = seen.get(name, 0) + 1
        result[g] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return result
