"""Keeping a refit's themes where they were, unless the new fit is clearly better.

An independent refit re-cuts the same data differently (another UMAP seed, a week more data):
a theme splits in two, two themes merge, a boundary moves. Lineage gives the new themes the old
ids, but every contact on the wrong side of a moved boundary still changes theme, and a theme
the refit happened to merge away vanishes. Readers see that as churn, not insight.

`reconcile` applies hysteresis: a contact keeps its previous theme when that theme still exists,
or can be restored from its previous members, and the contact is nearly as close to it as to its
new theme (within `margin` cosine). Only contacts the new fit places clearly better move.
Themes left smaller than `min_size` are dissolved into their members' nearest theme. Measured
on the demo stream (refit with another seed): contacts keeping their id rose from 0.67 to 0.85
and NMI against the true intents rose from 0.757 to 0.795, so the hysteresis is not bought
with quality.

A theme the refit *carves out of old ones* (`carved_themes`: a new id whose members the
previous fit had mostly put in its themes) is held, not applied: its members go back to their
previous themes and the theme becomes a proposal (`rca.jobs.fit`). Measured on HWU64 and Bitext
(`experiments/refit_stability.py`), such themes were most of what a reseeded refit changed
(up to 11.5 % of contacts on one pair) while the data had not changed at all. A theme made of
contacts the previous fit never saw (an emerging problem) is a new theme and is applied.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from rca.cluster.model import cosine_to_centroids, label_sums

NO_THEME = ""
# A new theme whose members were at least this share in the previous fit's themes is carved
# out of them (a re-cut), not found in new data: more than half, so a theme that is half
# emerging contacts is applied as new.
CARVED_SHARE = 0.5


@dataclass(frozen=True)
class Reconciled:
    theme_ids: list[str]  # final themes, in order
    labels: np.ndarray  # index into theme_ids per contact, -1 unassigned
    centroids: np.ndarray  # unit centroids of the final members
    restored: list[str]  # previous ids brought back although the new fit had dropped them
    moved_back: int  # contacts returned to their previous theme by the hysteresis
    held: list[str] = field(default_factory=list)  # carved-out themes not applied (proposals)


def carved_themes(
    new_ids: list[str] | np.ndarray,
    previous_ids: list[str] | np.ndarray,
    old_theme_ids: Collection[str],
    *,
    seen: np.ndarray | None = None,
    min_share: float = CARVED_SHARE,
) -> list[str]:
    """New theme ids (not in `old_theme_ids`) the refit carved out of the previous fit's themes.

    A new id is carved when more than `min_share` of its members had a theme in the previous
    fit and were part of that fit's window (`seen`, default all): the previous fit saw those
    contacts and put them elsewhere, so the new theme is a re-cut of old ones. Contacts that
    arrived after the previous fit (assigned to it later by `rca assign`) do not count, so a
    problem that emerged since is a new theme, not a re-cut.
    """
    new = np.asarray(new_ids, dtype=object)
    old = np.asarray(previous_ids, dtype=object)
    had_theme = old != NO_THEME
    if seen is not None:
        had_theme &= np.asarray(seen, dtype=bool)
    known = set(old_theme_ids)
    carved = []
    for theme in sorted({t for t in new if t and t not in known}):
        members = new == theme
        if had_theme[members].mean() > min_share:
            carved.append(str(theme))
    return carved


def _unit_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sums = label_sums(X, labels, k)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.where(norms > 0, norms, 1.0)


def reconcile(
    X: np.ndarray,
    new_ids: list[str],
    previous_ids: list[str] | np.ndarray,
    *,
    margin: float,
    min_size: int,
    threshold: float,
    hold: Collection[str] = (),
) -> Reconciled:
    """Final theme per contact from the new fit's ids and the previous fit's ids.

    `new_ids[i]` is contact i's theme id in the refit after lineage ("" = unassigned);
    `previous_ids[i]` its id in the previous champion ("" = unseen or unassigned). Rows of `X`
    are unit embeddings. `threshold` is the assignment threshold for dissolved themes' members.
    `hold`: new ids not to apply (`carved_themes`); their members return to their previous
    theme whatever the margin, and those without one join their nearest theme as a dissolved
    theme's members do.
    """
    # float32 rows are upcast inside every sum and product (same results as a float64 copy),
    # so a million contacts do not need a 3 GB float64 copy of their embeddings.
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    new = np.asarray(new_ids, dtype=object)
    old = np.asarray(previous_ids, dtype=object)
    present = sorted({t for t in new if t})
    candidates = present + sorted({t for t in old if t and t not in present})
    index = {t: i for i, t in enumerate(candidates)}
    proposed = np.array([index.get(t, -1) for t in new], dtype=np.int64)
    previous = np.array([index.get(t, -1) for t in old], dtype=np.int64)
    k = len(candidates)
    # New themes from the new fit's members, dropped themes from their previous members.
    centroids = _unit_means(X, proposed, k)
    dropped = np.arange(len(present), k)
    if len(dropped):
        from_old = np.where(np.isin(previous, dropped), previous, -1)
        centroids[dropped] = _unit_means(X, from_old, k)[dropped]
        too_small = np.bincount(from_old[from_old >= 0], minlength=k) < min_size
        centroids[dropped[too_small[dropped]]] = 0.0

    held = np.zeros(k, dtype=bool)
    held[[index[t] for t in hold if t in index and index[t] < len(present)]] = True
    rows = np.flatnonzero((previous >= 0) & (previous != proposed))
    final = proposed.copy()
    if len(rows):
        sims = cosine_to_centroids(X[rows], centroids)
        to_old = sims[np.arange(len(rows)), previous[rows]]
        to_new = np.where(
            proposed[rows] >= 0, sims[np.arange(len(rows)), np.maximum(proposed[rows], 0)], -1.0
        )
        keep = (
            (
                (to_old >= to_new - margin)
                & ((proposed[rows] >= 0) | (to_old >= threshold))  # unassigned rejoin if close
                | held[np.maximum(proposed[rows], 0)] & (proposed[rows] >= 0)
            )
            & np.any(centroids[previous[rows]] != 0, axis=1)  # a dropped theme too small to restore
        )
        final[rows[keep]] = previous[rows[keep]]
    moved_back = int(np.sum(final != proposed))

    sizes = np.bincount(final[final >= 0], minlength=k)
    alive = (sizes >= min_size) & ~held
    if not alive.all():
        centroids = _unit_means(X, np.where(alive[np.maximum(final, 0)], final, -1), k)
        centroids[~alive] = 0.0
        orphans = np.flatnonzero((final >= 0) & ~alive[np.maximum(final, 0)])
        if len(orphans):
            sims = cosine_to_centroids(X[orphans], centroids)
            sims[:, ~alive] = -np.inf
            best = np.argmax(sims, axis=1)
            score = sims[np.arange(len(orphans)), best]
            final[orphans] = np.where(score >= threshold, best, -1)
    kept = np.flatnonzero(alive)
    remap = np.full(k, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    labels = np.where(final >= 0, remap[np.maximum(final, 0)], -1)
    theme_ids = [candidates[i] for i in kept]
    return Reconciled(
        theme_ids=theme_ids,
        labels=labels,
        centroids=_unit_means(X, labels, len(theme_ids)),
        restored=[t for t in theme_ids if t not in present],
        moved_back=moved_back,
        held=[candidates[i] for i in np.flatnonzero(held)],
    )
