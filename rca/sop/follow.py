"""Which of today's themes an SOP change recorded on an older theme id now covers.

A refit keeps ids stable, but merges and splits move contacts between ids
(`rca.cluster.lineage`). A change recorded on theme A covers whatever A's problem became:
merged into K, it is measured on K; split into A and C, on both (the procedure still applies
to every part of the problem it was written for). The closure follows every fit's events, and
ids are never reused, so no ordering of the fits is needed. A change recorded on several themes
(or a parent group) covers the union of what each became (`covered_by`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def _order(theme_id: str) -> tuple[int, str]:
    """T0009 < T0010 < T10000: the counter's order, whatever the width."""
    return (len(theme_id), theme_id)


def lineage_edges(events: Iterable[tuple[str, str, Sequence[Any] | None]]) -> dict[str, set[str]]:
    """theme id → the ids its contacts went to in a later fit, from (event, theme_id,
    related_ids) rows of `theme_events`. A merged row names the absorbed ids; a split row on
    the parent names the parts split off, and each part's row names the parent (the older id)."""
    edges: dict[str, set[str]] = {}
    for event, theme_id, related in events:
        others = [str(r) for r in (related if related is not None else [])]
        if event == "merged":
            for absorbed in others:
                edges.setdefault(absorbed, set()).add(theme_id)
        elif event == "split":
            for other in others:
                parent, child = sorted((theme_id, other), key=_order)
                edges.setdefault(parent, set()).add(child)
    return edges


def covered_themes(
    theme_id: str, edges: dict[str, set[str]], current: Iterable[str] | None = None
) -> list[str]:
    """`theme_id` and every id its contacts went to since, restricted to `current` (the
    champion's themes) when given; sorted."""
    seen, todo = {theme_id}, [theme_id]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    if current is not None:
        seen &= set(current)
    return sorted(seen, key=_order)


def covered_by(
    theme_ids: Iterable[str], edges: dict[str, set[str]], current: Iterable[str] | None = None
) -> list[str]:
    """Today's themes a change recorded on several themes covers: the union of what each of
    them became (`covered_themes`), sorted."""
    wanted = None if current is None else list(current)
    union: set[str] = set()
    for theme_id in theme_ids:
        union |= set(covered_themes(theme_id, edges, wanted))
    return sorted(union, key=_order)
