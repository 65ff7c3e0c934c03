"""A pinned name the refit moved away from: proposed for review, never changed.

A name a person pinned (`rca taxonomy rename`) survives every refit through lineage: the id
carries on, and with it the name. But lineage keeps an id when most of the theme's contacts
stay together, and the contacts around them can change: a theme can absorb a neighbour or lose
its core to one. The pin then says something the theme no longer is, in every report, and
nothing tells anyone.

The test reads the pin's own words: embedded with the model that embeds the contacts, the
pinned name was nearest its own theme's centroid before the refit and is nearest another
theme's after it. Only that change is proposed: a pin that was already nearer another theme
(people name themes their own way, "Billing" over one of four billing themes) was the person's
choice when they made it, and is not proposed again and again. Keeping the pin
(`rca taxonomy keep`) or renaming the theme answers the proposal (`taxonomy.unanswered`); the
next refit reads the pin from where it then is, so it is not raised twice for one move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rca.cluster.labels import Embedder
from rca.cluster.model import _unit_rows
from rca.cluster.taxonomy import Proposal


def _nearest(vecs: np.ndarray, ids: Sequence[str], centroids: np.ndarray) -> list[str]:
    return [str(ids[i]) for i in np.argmax(vecs @ _unit_rows(centroids).T, axis=1)]


def moved_pins(
    pinned: Mapping[str, str],
    before: tuple[Sequence[str], np.ndarray],
    after: tuple[Sequence[str], np.ndarray],
    *,
    embed: Embedder,
    fitted_names: Mapping[str, str],
) -> list[Proposal]:
    """Proposals for the pinned names (``{theme_id: name}``) nearest their own theme in
    ``before`` (ids, centroids of the previous fit) and nearest another in ``after`` (the
    refit's), while the refit's own name (``fitted_names``, quoted so the reviewer sees what the
    theme is now) is nearest the theme. A theme in only one of the two fits is left to
    lineage's proposals."""
    ids_before, cents_before = list(before[0]), np.asarray(before[1])
    ids_after, cents_after = list(after[0]), np.asarray(after[1])
    both = [t for t in sorted(pinned) if t in ids_before and t in ids_after and pinned[t]]
    if not both or len(ids_after) < 2:
        return []
    own = [fitted_names.get(t, "") for t in both]
    vecs = _unit_rows(np.asarray(embed([pinned[t] for t in both] + own)))
    was = _nearest(vecs[: len(both)], ids_before, cents_before)
    now = _nearest(vecs[: len(both)], ids_after, cents_after)
    # the refit's own name for the theme: if it is not nearest the theme either, the names
    # cannot tell these themes apart and the pin is no worse than what the fit would say
    told_apart = _nearest(vecs[len(both) :], ids_after, cents_after)
    proposals = []
    for i, theme_id in enumerate(both):
        nearest_now = now[i]
        if was[i] != theme_id or nearest_now == theme_id or told_apart[i] != theme_id:
            continue
        name = pinned[theme_id]
        proposals.append(
            Proposal(
                theme_id,
                "pinned_name",
                f"pinned name '{name}' of {theme_id} now fits {nearest_now} "
                f"'{fitted_names.get(nearest_now, nearest_now)}' better than its own theme, which "
                f"the refit names '{fitted_names.get(theme_id, theme_id)}': rename it "
                f"(`rca taxonomy rename {theme_id} …`) or keep the name "
                f"(`rca taxonomy keep {theme_id}`)",
                (nearest_now,),
            )
        )
    return proposals
