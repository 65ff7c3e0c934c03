"""Stable theme identities across refits.

A refit renumbers themes arbitrarily, but dashboards, SOP links and trend lines need "the card
delivery theme" to keep its id. We match the new themes to the previous ones using two kinds of
evidence: which contacts they share (contacts present in both fits) and how close their centroids
are. One-to-one continuations keep their id; merges and splits are recorded so a reader can see
why a theme's volume jumped; ids come from a counter and are never reused, so an old id can never
silently point at a different theme.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

UNASSIGNED = -1

THEME_ID_PREFIX = "T"
THEME_ID_DIGITS = 4  # T0001 .. T9999, then T10000: ids stay unique, only the width grows
_THEME_ID_RE = re.compile(rf"^{THEME_ID_PREFIX}(\d+)$")

# Weight of membership overlap against centroid similarity in the one-to-one matching score.
# Shared contacts are direct evidence that two themes are "the same"; centroids drift when the
# embedding or the clustering settings change, so they mainly break ties and cover themes with too
# few shared contacts.
OVERLAP_WEIGHT = 0.7
# A theme needs at least this many shared contacts before its overlaps count as evidence; below
# that a Jaccard of 1.0 can come from a single contact.
MIN_SHARED = 5

EVENTS = ("kept", "merged", "split", "new", "retired")
EVENT_COLUMNS = ["event", "theme_id", "related_ids", "overlap", "similarity", "theme"]


def format_theme_id(number: int) -> str:
    """``7 -> "T0007"``."""
    return f"{THEME_ID_PREFIX}{number:0{THEME_ID_DIGITS}d}"


def parse_theme_id(theme_id: str) -> int | None:
    """``"T0007" -> 7``; ``None`` for ids not in that format."""
    match = _THEME_ID_RE.match(str(theme_id))
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ThemeMatch:
    """Result of :func:`match_themes`.

    ``ids[j]`` is the id of new theme j. ``events`` has one row per new theme (``kept``,
    ``merged``, ``split`` or ``new``) followed by one row per retired old id, with columns
    ``event``, ``theme_id``, ``related_ids`` (tuple of ids), ``overlap`` (Jaccard of shared
    contacts with the predecessor(s), NaN without shared contacts), ``similarity`` (centroid
    cosine, NaN when not comparable) and ``theme`` (new theme index, -1 for retired). For a split
    the parent id continues on the largest part, whose row lists the new ids split off; each
    split-off part's row lists the parent. ``next_id`` is the counter to pass to the next refit.
    """

    ids: list[str]
    events: pd.DataFrame
    next_id: int
    merged_from: dict[str, tuple[str, ...]] = field(default_factory=dict)
    split_from: dict[str, str] = field(default_factory=dict)

    @property
    def retired(self) -> list[str]:
        """Old ids that no longer exist and were not merged into another theme."""
        return self.events.loc[self.events["event"] == "retired", "theme_id"].tolist()


@dataclass
class _Row:
    event: str
    theme_id: str
    related_ids: list[str]
    overlap: float
    similarity: float
    theme: int


def _normalise_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def _members(
    members: Sequence[int] | np.ndarray | None, n_themes: int, name: str
) -> np.ndarray | None:
    if members is None:
        return None
    arr = np.asarray(members, dtype=np.int64).ravel()
    if arr.size and (arr.min() < UNASSIGNED or arr.max() >= n_themes):
        raise ValueError(f"{name} must be -1 or a theme index below {n_themes}")
    return arr


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), den)
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def _best(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def match_themes(
    prev_ids: Sequence[str] | None,
    prev_centroids: np.ndarray | None,
    prev_members: Sequence[int] | np.ndarray | None,
    new_centroids: np.ndarray,
    new_members: Sequence[int] | np.ndarray | None,
    *,
    min_overlap: float = 0.5,
    min_similarity: float = 0.8,
    next_id: int = 1,
    overlap_weight: float = OVERLAP_WEIGHT,
    min_shared: int = MIN_SHARED,
) -> ThemeMatch:
    """Give every new theme an id, continuing previous ids where the themes are the same.

    ``prev_members`` and ``new_members`` are aligned: element c is contact c's theme index in the
    previous and the new fit, over the contacts present in both (-1 = unassigned). Per pair of old
    theme i and new theme j we use the shared-contact overlap (Jaccard, and the containments
    "share of i that went to j" and "share of j that came from i") and the centroid cosine.

    1. MERGE: new j took more than ``min_overlap`` of each of two or more old themes, and those
       make up at least ``min_overlap`` of j. j keeps the id of the largest; the others are listed
       in ``merged_from`` (they are not retired).
    2. SPLIT: two or more new themes each come more than ``min_overlap`` from old i, and together
       hold at least ``min_overlap`` of i. The largest part keeps i's id, the others get new ids.
       ("More than": a theme shared half-and-half has no majority, so it is neither.)
    3. KEPT: the remaining themes are matched one-to-one (Hungarian on
       ``overlap_weight * jaccard + (1 - overlap_weight) * cosine``). A pair is accepted when its
       Jaccard >= ``min_overlap``, or its cosine >= ``min_similarity`` and either one theme
       mostly contains the other or there are too few shared contacts to judge.
    4. An unmatched new theme that mostly comes from a theme whose id lives on is a split-off
       part of it; other unmatched new themes get NEW ids; unmatched old ids are RETIRED.

    Without shared contacts only centroid similarity is used (no merges or splits can be seen).
    New ids start at ``max(next_id, 1 + largest numeric previous id)``, so none is ever reused as
    long as the returned ``next_id`` is passed to the next call.
    """
    old_ids = [str(i) for i in (prev_ids or [])]
    if len(set(old_ids)) != len(old_ids):
        raise ValueError("prev_ids contains duplicates")
    k_old = len(old_ids)
    new_c = np.asarray(new_centroids, dtype=np.float64)
    k_new = 0 if new_c.size == 0 else np.atleast_2d(new_c).shape[0]
    new_c = new_c.reshape(k_new, -1) if k_new else new_c.reshape(0, 0)

    counter = max([int(next_id)] + [n + 1 for n in map(parse_theme_id, old_ids) if n is not None])

    def allocate() -> str:
        nonlocal counter
        counter += 1
        return format_theme_id(counter - 1)

    # Centroid similarity; NaN when not comparable (no previous centroids, or a different
    # embedding dimension after a model change).
    sim = np.full((k_old, k_new), np.nan)
    if prev_centroids is not None and k_old and k_new:
        old_c = np.asarray(prev_centroids, dtype=np.float64).reshape(k_old, -1)
        if old_c.shape[1] == new_c.shape[1]:
            sim = _normalise_rows(old_c) @ _normalise_rows(new_c).T

    # Shared-contact overlap counts.
    old_m = _members(prev_members, k_old, "prev_members")
    new_m = _members(new_members, k_new, "new_members")
    overlap = np.zeros((k_old, k_new))
    old_n = np.zeros(k_old)
    new_n = np.zeros(k_new)
    if old_m is not None and new_m is not None:
        if len(old_m) != len(new_m):
            raise ValueError(f"{len(old_m)} prev_members but {len(new_m)} new_members")
        old_n = np.bincount(old_m[old_m >= 0], minlength=k_old).astype(np.float64)
        new_n = np.bincount(new_m[new_m >= 0], minlength=k_new).astype(np.float64)
        both = (old_m >= 0) & (new_m >= 0)
        if k_old and k_new:
            flat = old_m[both] * k_new + new_m[both]
            overlap = np.bincount(flat, minlength=k_old * k_new).reshape(k_old, k_new)
            overlap = overlap.astype(np.float64)
    has_members = bool(overlap.sum() > 0)
    frac_old = _safe_div(overlap, old_n[:, None])  # share of old i that went to new j
    frac_new = _safe_div(overlap, new_n[None, :])  # share of new j that came from old i
    jaccard = _safe_div(overlap, old_n[:, None] + new_n[None, :] - overlap)
    enough_old = old_n >= min_shared
    enough_new = new_n >= min_shared
    evidence = enough_old[:, None] & enough_new[None, :]

    def union_jaccard(olds: Sequence[int], news: Sequence[int]) -> float:
        if not has_members:
            return float("nan")
        inter = overlap[np.ix_(list(olds), list(news))].sum()
        union = old_n[list(olds)].sum() + new_n[list(news)].sum() - inter
        return float(inter / union) if union > 0 else 0.0

    ids: list[str | None] = [None] * k_new
    rows: dict[int, _Row] = {}
    old_done = np.zeros(k_old, dtype=bool)
    new_done = np.zeros(k_new, dtype=bool)
    merged_from: dict[str, tuple[str, ...]] = {}
    split_from: dict[str, str] = {}
    holder_of_old: dict[int, int] = {}  # old index -> new theme that carries its id

    if has_members:
        # Each old theme is a merge source of at most its main destination (and vice versa).
        main_dest = np.argmax(overlap, axis=1)
        main_source = np.argmax(overlap, axis=0)
        # 1. Merges.
        for j in range(k_new):
            sources = [
                i
                for i in range(k_old)
                if main_dest[i] == j and frac_old[i, j] > min_overlap and enough_old[i]
            ]
            if len(sources) < 2 or frac_new[sources, j].sum() < min_overlap:
                continue
            keeper = min(sources, key=lambda i: (-old_n[i], i))
            absorbed = [old_ids[i] for i in sources if i != keeper]
            ids[j] = old_ids[keeper]
            merged_from[old_ids[keeper]] = tuple(absorbed)
            rows[j] = _Row(
                "merged",
                old_ids[keeper],
                absorbed,
                union_jaccard(sources, [j]),
                float(sim[keeper, j]),
                j,
            )
            old_done[sources] = True
            new_done[j] = True
            holder_of_old[keeper] = j
        # 2. Splits.
        for i in range(k_old):
            if old_done[i]:
                continue
            parts = [
                j
                for j in range(k_new)
                if not new_done[j]
                and main_source[j] == i
                and frac_new[i, j] > min_overlap
                and enough_new[j]
            ]
            if len(parts) < 2 or frac_old[i, parts].sum() < min_overlap:
                continue
            keeper = min(parts, key=lambda j: (-overlap[i, j], j))
            children = [j for j in parts if j != keeper]
            ids[keeper] = old_ids[i]
            child_ids = [allocate() for _ in children]
            rows[keeper] = _Row(
                "split",
                old_ids[i],
                list(child_ids),
                union_jaccard([i], parts),
                float(sim[i, keeper]),
                keeper,
            )
            for j, cid in zip(children, child_ids, strict=True):
                ids[j] = cid
                split_from[cid] = old_ids[i]
                rows[j] = _Row(
                    "split", cid, [old_ids[i]], float(jaccard[i, j]), float(sim[i, j]), j
                )
            old_done[i] = True
            new_done[parts] = True
            holder_of_old[i] = keeper

    # 3. One-to-one continuations among what is left.
    free_old = np.flatnonzero(~old_done)
    free_new = np.flatnonzero(~new_done)
    if free_old.size and free_new.size:
        sub = np.ix_(free_old, free_new)
        s = np.nan_to_num(sim[sub], nan=0.0)
        score = overlap_weight * jaccard[sub] + (1.0 - overlap_weight) * s
        contained = np.maximum(frac_old[sub], frac_new[sub]) >= min_overlap
        accept = (jaccard[sub] >= min_overlap) | (
            (s >= min_similarity) & (~evidence[sub] | contained)
        )
        weights = np.where(accept, np.maximum(score, 1e-9), 0.0)
        for a, b in zip(*linear_sum_assignment(weights, maximize=True), strict=True):
            if weights[a, b] <= 0:
                continue
            i, j = int(free_old[a]), int(free_new[b])
            ids[j] = old_ids[i]
            overlap_value = float(jaccard[i, j]) if has_members else float("nan")
            rows[j] = _Row("kept", old_ids[i], [], overlap_value, float(sim[i, j]), j)
            old_done[i] = True
            new_done[j] = True
            holder_of_old[i] = j

    # 4. Leftover new themes: split-off parts of a surviving theme, or new.
    for j in range(k_new):
        if new_done[j]:
            continue
        parent = int(np.argmax(overlap[:, j])) if k_old else -1
        is_part = (
            has_members
            and parent >= 0
            and parent in holder_of_old
            and frac_new[parent, j] > min_overlap
            and enough_new[j]
        )
        theme_id = allocate()
        ids[j] = theme_id
        if is_part:
            split_from[theme_id] = old_ids[parent]
            rows[j] = _Row(
                "split",
                theme_id,
                [old_ids[parent]],
                float(jaccard[parent, j]),
                float(sim[parent, j]),
                j,
            )
            holder = rows[holder_of_old[parent]]
            if holder.event == "kept":
                holder.event = "split"
            if holder.event == "split":
                holder.related_ids.append(theme_id)
        else:
            best_overlap = _best(jaccard[:, j]) if has_members else float("nan")
            rows[j] = _Row("new", theme_id, [], best_overlap, _best(sim[:, j]), j)

    records = [rows[j] for j in range(k_new)]
    for i in range(k_old):
        if old_done[i]:  # kept, split, or merged (absorbed ids are listed in merged_from)
            continue
        best_overlap = _best(jaccard[i]) if has_members else float("nan")
        records.append(_Row("retired", old_ids[i], [], best_overlap, _best(sim[i]), UNASSIGNED))

    events = pd.DataFrame(
        {
            "event": [r.event for r in records],
            "theme_id": [r.theme_id for r in records],
            "related_ids": [tuple(r.related_ids) for r in records],
            "overlap": np.array([r.overlap for r in records], dtype=np.float64),
            "similarity": np.array([r.similarity for r in records], dtype=np.float64),
            "theme": np.array([r.theme for r in records], dtype=np.int64),
        },
        columns=EVENT_COLUMNS,
    )
    return ThemeMatch(
        ids=[str(i) for i in ids],
        events=events,
        next_id=counter,
        merged_from=merged_from,
        split_from=split_from,
    )
