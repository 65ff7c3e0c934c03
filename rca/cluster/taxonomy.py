"""A taxonomy people can correct: edits applied on top of a fitted model's themes.

A fit proposes themes; people rename, merge, split, move, hide and create them. The edits are
an append-only log (who, when, why) kept apart from the fit, and the curated view is a pure
function of the fitted themes and that log, so a refit never overwrites a person's decision:
edits name themes by their stable id (`rca.cluster.lineage`), which a refit carries forward,
and what a refit cannot carry (a curated theme the refit split, merged away or retired) comes
back as a proposal for a person to review (`review_after_refit`).

Two kinds of edits:
- on the theme list only: `rename` (a pinned label), `move` (another parent group, or with
  `ungroup` none: a group of its own at the parent level), `hide` /
  `unhide` (small talk, spam: kept, countable, left out of top lists), `keep` (the theme stays
  as it is: declines the refit's proposals about it, and later refits hold what they carve out
  of it without proposing it again);
- on membership: `merge` (sources → target id), `accept` of a `split` preview (the parent's
  contacts go to the nearest child centroid; children get new stable ids), `reassign` (named
  contacts a person filed under another theme: they stay there whatever the similarity says,
  until the edit is undone; a later merge or split of that theme takes them along; a *taught*
  reassign also files every contact nearer to the filed ones' mean than to its own theme's
  centre, and at least `threshold` similar to that mean, this week's and every later one's),
  `create`
  (contacts at least `threshold` cosine-similar to the new theme's centroid: the mean of example
  contacts, or the embedding of a name + description such as a team's reason code; a contact
  over several created themes' thresholds joins the most similar; `rca.cluster.reason_codes`
  reads a whole list of codes).
A `split` by itself is only a preview: until it is accepted it changes nothing.

`undo` takes back an earlier edit: the log stays append-only (the undo is an entry of its own,
with who, when and why), and the curated view is replayed without the undone edit. An edit a
later one builds on (renaming a part of an accepted split) cannot be undone before that one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rca.cluster.model import (
    COSINE_SLACK,
    SCORE_CHUNK_ELEMENTS,
    cosine_to_centroids,
    fast_cosines,
)
from rca.errors import InvalidInputError, NotFoundError
from rca.text.name_kinds import EntityReader
from rca.text.persons import NameFinder, person_words
from rca.text.syntax import Parser

ACTIONS = (
    "rename", "merge", "split", "accept", "move", "hide", "unhide", "create", "keep", "reassign",
    "undo",
)  # fmt: skip
MEMBERSHIP_ACTIONS = ("merge", "accept", "create", "reassign")
# What answers a refit's proposal of a theme carved out of another (`unanswered`).
NEW_THEME_ANSWERS = ("accept", "merge", "hide", "keep")
# What answers the other proposals: anything done to the theme but filing a few contacts in it.
PROPOSAL_ANSWERS = tuple(a for a in ACTIONS if a != "reassign")
# Contacts one `reassign` may name: a person filing cases by hand, not a bulk relabelling (a
# created theme or an imported reason code does that, by similarity).
MAX_REASSIGN = 1000
MAX_LABEL_CHARS = 120
THEME_COLUMNS = ["theme_id", "label", "keywords", "parent_group", "size", "centroid"]


def is_taught(edit: Edit) -> bool:
    """A reassign that also files the contacts like the ones it names (see module doc)."""
    return edit.action == "reassign" and "centroid" in edit.params


def _similarity_rule(params: dict[str, Any], what: str) -> None:
    """Checks and normalises a centroid and threshold in place (created themes, taught
    reassigns)."""
    centroid = np.asarray(params.get("centroid") or [], dtype=np.float64)
    if centroid.ndim != 1 or centroid.size == 0 or not np.isfinite(centroid).all():
        raise TaxonomyError(what)
    threshold = float(params.get("threshold", 0.5))
    if not 0.0 < threshold <= 1.0:
        raise TaxonomyError("the threshold is a cosine similarity in (0, 1]")
    params["threshold"] = threshold
    params["centroid"] = centroid.tolist()


class TaxonomyError(InvalidInputError):
    """An edit that cannot apply (a merge with itself, an empty name...): HTTP 400."""


class UnknownThemeError(TaxonomyError, NotFoundError):
    """An edit names a theme the curated view does not hold: HTTP 404."""


class UnknownEditError(TaxonomyError, NotFoundError):
    """An undo names an edit the log does not hold: HTTP 404."""


@dataclass(frozen=True)
class Edit:
    """One entry of the log. `params` holds what the action needs (see `validate`)."""

    edit_id: str
    action: str
    theme_id: str
    params: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    reason: str | None = None
    created_at: Any = None


@dataclass
class CuratedView:
    """The themes a person sees, and how a contact's fitted theme becomes its curated one.

    `themes` has the fitted columns plus `hidden`, `pinned` (renamed by a person), `origin`
    (fit | split | create) and `curated` (any edit touched it). `merged` maps every id merged
    away to the id that holds it now; `split_into` a split parent to its children.
    """

    themes: pd.DataFrame
    merged: dict[str, str] = field(default_factory=dict)
    split_into: dict[str, list[str]] = field(default_factory=dict)
    routing: list[Edit] = field(default_factory=list)  # the membership edits, in order
    previews: dict[str, Edit] = field(default_factory=dict)  # split previews by edit id
    #: every theme's centre as routing meets it (fitted, created, split parts; merged-away
    #: ones too), for a taught reassign to compare a contact's own theme with what it learnt
    centres: dict[str, np.ndarray] = field(default_factory=dict)

    def has_theme(self, theme_id: str) -> bool:
        return theme_id in set(self.themes["theme_id"])

    @property
    def has_pins(self) -> bool:
        """Some contacts were filed by hand (`reassign`): routing needs their ids."""
        return any(e.action == "reassign" for e in self.routing)

    def pinned(self) -> dict[str, str]:
        """Contacts filed by hand -> the theme holding them now (a later merge of that theme
        moves them along; a later split spreads them over its parts, so they are left out)."""
        out: dict[str, str] = {}
        for edit in self.routing:
            if edit.action == "reassign":
                out.update(dict.fromkeys(edit.params["contacts"], edit.theme_id))
        held = {c: self.merged.get(t, t) for c, t in out.items()}
        return {c: t for c, t in held.items() if t not in self.split_into}

    @property
    def needs_vectors(self) -> bool:
        """Splits, created themes and taught reassigns route by similarity; merges need only
        the ids."""
        return any(e.action in ("accept", "create") or is_taught(e) for e in self.routing)

    @property
    def hidden_ids(self) -> set[str]:
        return set(self.themes.loc[self.themes["hidden"], "theme_id"])

    @property
    def retired_ids(self) -> set[str]:
        """Ids a person merged away or split: they hold no contacts in the curated view."""
        return set(self.merged) | set(self.split_into)


def clean_label(value: Any, what: str = "name") -> str:
    label = " ".join(str(value or "").split())
    if not label:
        raise TaxonomyError(f"the {what} is empty")
    if len(label) > MAX_LABEL_CHARS:
        raise TaxonomyError(f"the {what} is longer than {MAX_LABEL_CHARS} characters")
    return label


def require_theme(view: CuratedView, theme_id: str) -> None:
    """A `TaxonomyError` unless ``theme_id`` is a theme of the view (not merged or split away)."""
    if theme_id in view.merged:
        raise TaxonomyError(f"theme {theme_id} was merged into {view.merged[theme_id]}")
    if theme_id in view.split_into:
        raise TaxonomyError(
            f"theme {theme_id} was split into {', '.join(view.split_into[theme_id])}"
        )
    if not view.has_theme(theme_id):
        raise UnknownThemeError(f"no theme {theme_id!r}: see `rca taxonomy list`")


def validate(edit: Edit, view: CuratedView, previews: dict[str, Edit] | None = None) -> Edit:
    """The edit, normalised, or a `TaxonomyError` that says what is wrong with it."""
    if edit.action not in ACTIONS:
        raise TaxonomyError(f"unknown action {edit.action!r}: one of {', '.join(ACTIONS)}")
    params = dict(edit.params)
    if edit.action == "create":
        params["label"] = clean_label(params.get("label"))
        _similarity_rule(params, "a created theme needs examples or a name to embed")
        return Edit(edit.edit_id, "create", edit.theme_id, params, edit.actor, edit.reason,
                    edit.created_at)  # fmt: skip
    if edit.action == "accept":
        preview = (previews or {}).get(str(params.get("preview_id")))
        if preview is None:
            raise TaxonomyError(f"no split preview {params.get('preview_id')!r} to accept")
        if preview.theme_id != edit.theme_id:
            raise TaxonomyError(f"preview {preview.edit_id} splits {preview.theme_id}")
    require_theme(view, edit.theme_id)
    if edit.action == "rename":
        params["label"] = clean_label(params.get("label"))
    elif edit.action == "move":
        if params.get("ungroup"):  # out of its group: a group of its own at the parent level
            if str(params.get("parent_group") or "").strip():
                raise TaxonomyError("name a parent group or take the theme out of its group")
            params["parent_group"] = None
        else:
            params["parent_group"] = clean_label(params.get("parent_group"), "parent group")
    elif edit.action == "merge":
        sources = [str(s) for s in params.get("sources") or []]
        if not sources:
            raise TaxonomyError("name at least one theme to merge into " + edit.theme_id)
        if edit.theme_id in sources:
            raise TaxonomyError(f"cannot merge theme {edit.theme_id} with itself")
        if len(set(sources)) != len(sources):
            raise TaxonomyError("a theme is named twice in the merge")
        for source in sources:
            require_theme(view, source)
        params["sources"] = sources
    elif edit.action == "reassign":
        contacts = [" ".join(str(c).split()) for c in params.get("contacts") or []]
        if not contacts or not all(contacts):
            raise TaxonomyError(f"name the contacts to file under {edit.theme_id}")
        if len(set(contacts)) != len(contacts):
            raise TaxonomyError("a contact is named twice")
        if len(contacts) > MAX_REASSIGN:
            raise TaxonomyError(
                f"{len(contacts)} contacts in one edit; at most {MAX_REASSIGN} (a created theme "
                "or a reason code files many by similarity)"
            )
        params["contacts"] = contacts
        if "centroid" in params:
            _similarity_rule(params, "a taught reassign needs the filed contacts' vectors")
    elif edit.action == "split":
        children = params.get("children") or []
        if len(children) < 2:
            raise TaxonomyError(f"theme {edit.theme_id} has too few contacts to split")
    return Edit(edit.edit_id, edit.action, edit.theme_id, params, edit.actor, edit.reason,
                edit.created_at)  # fmt: skip


def in_force(edits: Sequence[Edit]) -> list[Edit]:
    """The log as it applies: without the edits undone, and without the undos themselves."""
    undone = {str(e.params.get("edit_id")) for e in edits if e.action == "undo"}
    return [e for e in edits if e.action != "undo" and e.edit_id not in undone]


def validate_undo(edit: Edit, edits: Sequence[Edit]) -> tuple[Edit, bool]:
    """The undo, naming the undone edit's theme; and whether that edit is undone already."""
    target_id = str(edit.params.get("edit_id") or "").strip()
    target = next((e for e in edits if e.edit_id == target_id), None)
    if target is None:
        raise UnknownEditError(f"no edit {target_id!r} in the log: see `rca taxonomy history`")
    if target.action == "undo":
        raise TaxonomyError(f"{target_id} is an undo: to redo the edit, make it again")
    done = any(e.action == "undo" and e.params.get("edit_id") == target_id for e in edits)
    params = {"edit_id": target_id, "undone_action": target.action}
    undo = Edit(
        edit.edit_id, "undo", target.theme_id, params, edit.actor, edit.reason, edit.created_at
    )
    return undo, done


def _empty_flags(themes: pd.DataFrame) -> pd.DataFrame:
    out = themes.copy()
    for column in THEME_COLUMNS:
        if column not in out.columns:
            out[column] = None
    out["hidden"] = False
    out["pinned"] = False
    out["kept"] = False  # a person chose to keep it as it is (`keep`)
    out["origin"] = "fit"
    out["curated"] = False
    if "description" not in out.columns:  # the fit's note (template campaign, one company)
        out["description"] = None
    return out.reset_index(drop=True)


def curate(themes: pd.DataFrame, edits: Sequence[Edit], *, strict: bool = False) -> CuratedView:
    """Apply the log, oldest first, to a fit's themes (theme_id, label, keywords, ...).

    An edit that no longer applies (its theme retired in a refit) is skipped, or raised when
    `strict`; `review_after_refit` says which, so nothing is skipped silently. Undone edits
    and the undos themselves are left out (`in_force`).
    """
    edits = in_force(edits)
    previews = {e.edit_id: e for e in edits if e.action == "split"}
    view = CuratedView(_empty_flags(themes), previews=previews)
    view.centres = _centres(view.themes)
    for edit in edits:
        if edit.action == "merge" and not strict:  # a source a refit retired is merged already
            live = [s for s in edit.params.get("sources") or [] if view.has_theme(s)]
            if not live:
                continue
            edit = Edit(edit.edit_id, edit.action, edit.theme_id,
                        {**edit.params, "sources": live}, edit.actor, edit.reason,
                        edit.created_at)  # fmt: skip
        try:
            edit = validate(edit, view, previews)
        except TaxonomyError:
            if strict:
                raise
            continue
        _apply(view, edit, previews)
    return view


def _centres(themes: pd.DataFrame) -> dict[str, np.ndarray]:
    """Theme id -> unit centre, for the rows that carry one."""
    out = {}
    for theme_id, centroid in zip(themes["theme_id"], themes["centroid"], strict=True):
        vector = np.asarray(centroid if centroid is not None else [], dtype=np.float64).ravel()
        if vector.size and np.isfinite(vector).all():
            out[str(theme_id)] = unit_vectors(vector)[0]
    return out


def _row(view: CuratedView, theme_id: str) -> int:
    return int(np.flatnonzero(view.themes["theme_id"].to_numpy() == theme_id)[0])


def _apply(view: CuratedView, edit: Edit, previews: dict[str, Edit]) -> None:
    t = view.themes
    if edit.action == "split":
        return  # a preview changes nothing until accepted
    if edit.action == "create":
        row = {
            "theme_id": edit.theme_id,
            "label": edit.params["label"],
            "keywords": [],
            "parent_group": edit.params.get("parent_group"),
            "size": int(edit.params.get("size", 0)),
            "centroid": np.asarray(edit.params["centroid"], dtype=np.float32),
            "hidden": False,
            "pinned": True,
            "kept": False,
            "origin": "create",
            "curated": True,
            "description": edit.params.get("description"),
        }
        view.themes = pd.concat([t, pd.DataFrame([row])], ignore_index=True)
        view.centres.update(_centres(pd.DataFrame([row])))
        view.routing.append(edit)
        return
    i = _row(view, edit.theme_id)
    t.loc[i, "curated"] = True
    if edit.action == "rename":
        t.loc[i, "label"] = edit.params["label"]
        t.loc[i, "pinned"] = True
    elif edit.action == "move":
        t.loc[i, "parent_group"] = edit.params["parent_group"]
    elif edit.action in ("hide", "unhide"):
        t.loc[i, "hidden"] = edit.action == "hide"
    elif edit.action == "keep":
        t.loc[i, "kept"] = True
    elif edit.action == "reassign":
        view.routing.append(edit)
    elif edit.action == "merge":
        sources = edit.params["sources"]
        gone = t["theme_id"].isin(sources)
        t.loc[i, "size"] = int(t.loc[i, "size"] or 0) + int(t.loc[gone, "size"].fillna(0).sum())
        for source in sources:
            view.merged[source] = edit.theme_id
        for old, new in list(view.merged.items()):  # merges chain: A→B, then B→C
            if new in sources:
                view.merged[old] = edit.theme_id
        view.themes = t.loc[~gone].reset_index(drop=True)
        view.routing.append(edit)
    elif edit.action == "accept":
        preview = previews[edit.params["preview_id"]]
        parent = t.loc[i]
        rows = []
        for child, child_id in zip(
            preview.params["children"], edit.params["child_ids"], strict=True
        ):
            rows.append(
                {
                    "theme_id": child_id,
                    "label": child["label"],
                    "keywords": list(child.get("keywords") or []),
                    "parent_group": parent["parent_group"],
                    "size": int(child.get("size", 0)),
                    "centroid": np.asarray(child["centroid"], dtype=np.float32),
                    "hidden": bool(parent["hidden"]),
                    "pinned": False,
                    "kept": False,
                    "origin": "split",
                    "curated": True,
                    "description": f"split from {edit.theme_id}",
                }
            )
        view.split_into[edit.theme_id] = list(edit.params["child_ids"])
        view.centres.update(_centres(pd.DataFrame(rows)))
        view.themes = pd.concat([t.drop(index=i), pd.DataFrame(rows)], ignore_index=True)
        view.routing.append(edit)


def unit_vectors(a: Any) -> np.ndarray:
    """Rows scaled to unit length in float64 (a zero row stays zero), as routing compares them."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def route(
    theme_ids: Sequence[str] | np.ndarray,
    X: np.ndarray | None,
    view: CuratedView,
    contact_ids: Sequence[str] | np.ndarray | None = None,
) -> np.ndarray:
    """Each contact's curated theme id from its fitted one ("" = unassigned) and its vector.

    Replays the membership edits in order: a merge renames ids; an accepted split sends the
    parent's contacts to the nearest child; a created theme takes every contact at least its
    threshold similar to it, unless an earlier created theme is more similar to that contact;
    a reassign puts the contacts it names (``contact_ids``, aligned with ``theme_ids``; needed
    when the view has any) in its theme, where no later created theme takes them. Row by row,
    so a contact's answer never depends on its batch.

    Created themes compete: a team seeds many reason codes at once, and a contact close to two
    of them belongs to the nearer, not to whichever was created last. With the gold class names
    of a labelled set as reason codes at 0.5 (`experiments/reason_code_probe.py`), the last-made
    rule was right for 0.36 of the contacts it took on Banking77 and 0.66 on Bitext; the nearest
    for 0.65 and 0.87.

    Created themes made one after another are scored together by one BLAS product
    (`fast_cosines`): 100 reason codes over 115,000 contacts took 9 s one elementwise pass per
    code, and every edit and assignment routes all contacts. A contact any of whose decisions
    was within `COSINE_SLACK` is routed again the elementwise way, so the answer is exactly the
    row-by-row one.
    """
    ids = np.asarray([str(t) if isinstance(t, str) else "" for t in theme_ids], dtype=object)
    if view.needs_vectors and X is None and len(ids):
        raise ValueError("splits and created themes need the contacts' vectors")
    if contact_ids is None:
        if view.has_pins and len(ids):
            raise ValueError("contacts filed by hand need the contacts' ids")
        contact_ids = np.full(len(ids), "", dtype=object)
    cids = np.asarray([str(c) for c in contact_ids], dtype=object)
    if len(cids) != len(ids):
        raise ValueError("contact_ids and theme_ids differ in length")
    routed, doubt = _replay(ids, cids, X, view, fast=True)
    if doubt.any():
        rows = np.flatnonzero(doubt)
        routed[rows] = _replay(ids[rows], cids[rows], np.asarray(X)[rows], view, fast=False)[0]
    return routed


def _replay(
    ids: np.ndarray, cids: np.ndarray, X: np.ndarray | None, view: CuratedView, *, fast: bool
) -> tuple[np.ndarray, np.ndarray]:
    """`route`'s replay: the routed ids and, when ``fast``, the rows whose answer a created
    theme's BLAS similarity decided within `COSINE_SLACK` (to be replayed with ``fast=False``)."""
    ids = ids.copy()
    doubt = np.zeros(len(ids), dtype=bool)
    claimed = np.full(len(ids), -np.inf)  # each contact's similarity to the created theme it holds
    unit: np.ndarray | None = None
    edits = list(view.routing)
    i = 0
    while i < len(edits):
        edit = edits[i]
        i += 1
        if edit.action == "merge":
            ids[np.isin(ids, edit.params["sources"])] = edit.theme_id
        elif edit.action == "reassign":
            filed = np.isin(cids, edit.params["contacts"]) & (cids != "")
            ids[filed] = edit.theme_id
            claimed[filed] = np.inf  # a person's decision: no created theme is nearer
            if is_taught(edit) and len(ids):
                if unit is None:
                    unit = unit_vectors(X)
                _learn(unit, edit, ids, claimed, view.centres)
        elif edit.action == "accept":
            mask = ids == edit.theme_id
            if mask.any():
                children = view.previews[edit.params["preview_id"]].params["children"]
                # a child of a proposed cut carries several centroids (`split_children`)
                per_child = [c.get("centroids") or [c["centroid"]] for c in children]
                owner = np.repeat(np.arange(len(children)), [len(c) for c in per_child])
                centroids = unit_vectors([v for c in per_child for v in c])
                rows = unit_vectors(np.asarray(X)[mask])
                best = np.argmax(cosine_to_centroids(rows, centroids), 1)
                ids[mask] = np.asarray(edit.params["child_ids"], dtype=object)[owner[best]]
        elif edit.action == "create":
            run = [edit]
            while fast and i < len(edits) and edits[i].action == "create":
                run.append(edits[i])
                i += 1
            if not len(ids):
                continue
            if unit is None:  # once for every created theme (a team seeds dozens of codes)
                unit = unit_vectors(X)
            centroids = unit_vectors([e.params["centroid"] for e in run])
            if fast:
                _claim_fast(unit, centroids, run, ids, claimed, doubt)
                continue
            sims = cosine_to_centroids(unit, centroids)[:, 0]
            takes = (sims >= edit.params["threshold"]) & (sims > claimed)
            ids[takes] = edit.theme_id
            claimed[takes] = sims[takes]
    return ids, doubt


def _learn(
    unit: np.ndarray,
    edit: Edit,
    ids: np.ndarray,
    claimed: np.ndarray,
    centres: Mapping[str, np.ndarray],
) -> None:
    """A taught reassign's claim (updates ``ids`` and ``claimed``): contacts at least its
    threshold similar to the filed contacts' mean and more similar to it than to their own
    theme's centre (and than to a created theme holding them) join its theme. The filed mean
    is one more centre of that theme, as its own centroid is: a contact clearly in another
    theme stays there. Elementwise, so exact row by row whatever the batch."""
    sims = cosine_to_centroids(unit, unit_vectors(edit.params["centroid"]))[:, 0]
    near = np.flatnonzero((sims >= edit.params["threshold"]) & (sims > claimed))
    own = np.full(len(near), -np.inf)
    for theme_id in np.unique(ids[near]):
        centre = centres.get(str(theme_id))
        if centre is not None and theme_id != edit.theme_id:
            rows = near[ids[near] == theme_id]
            own[ids[near] == theme_id] = cosine_to_centroids(unit[rows], centre[None, :])[:, 0]
    takes = near[sims[near] > own]
    ids[takes] = edit.theme_id
    claimed[takes] = sims[takes]


def _claim_fast(
    unit: np.ndarray,
    centroids: np.ndarray,
    run: Sequence[Edit],
    ids: np.ndarray,
    claimed: np.ndarray,
    doubt: np.ndarray,
) -> None:
    """Created themes made one after another, at once (updates ``ids``, ``claimed``, ``doubt``).

    Replaying them one by one gives each contact the most similar of those whose threshold it
    meets (the earlier on ties), if more similar than the created theme it already holds; that
    is computed here from one product, and every comparison closer than `COSINE_SLACK` marks
    the row for the exact replay."""
    thresholds = np.asarray([float(e.params["threshold"]) for e in run])
    theme_ids = np.asarray([e.theme_id for e in run], dtype=object)
    k = len(run)
    step = max(1, SCORE_CHUNK_ELEMENTS // k)
    for start in range(0, len(unit), step):
        rows = slice(start, start + step)
        sims = fast_cosines(unit[rows], centroids)
        unsure = np.any(np.abs(sims - thresholds) < COSINE_SLACK, axis=1)
        held = np.where(sims >= thresholds, sims, -np.inf)
        pick = np.argmax(held, axis=1)
        best = held[np.arange(len(held)), pick]
        before = claimed[rows]
        with np.errstate(invalid="ignore"):  # -inf - -inf: nothing held, nothing to doubt
            if k > 1:
                second = np.partition(held, k - 2, axis=1)[:, k - 2]
                unsure |= best - second < COSINE_SLACK
            unsure |= np.abs(best - before) < COSINE_SLACK
        takes = best > before
        ids[rows][takes] = theme_ids[pick[takes]]
        before[takes] = best[takes]
        doubt[rows] |= unsure


def is_noop(
    edit: Edit, view: CuratedView, open_proposals: Sequence[Mapping[str, Any]] = ()
) -> bool:
    """An edit that would change nothing (the same name again, hide a hidden theme, accept an
    accepted split, keep a kept theme no open proposal is about): not logged, so repeating a
    command is harmless. ``open_proposals``: the champion's (`unanswered`), which a keep of a
    kept theme still answers."""
    if edit.action == "accept":
        preview = view.previews.get(str(edit.params.get("preview_id")))
        return preview is not None and preview.theme_id in view.split_into
    repeatable = ("rename", "move", "hide", "unhide", "keep")
    if edit.action not in repeatable or not view.has_theme(edit.theme_id):
        return False
    row = view.themes.loc[view.themes["theme_id"] == edit.theme_id].iloc[0]
    if edit.action == "keep":
        about = {
            str(i) for p in open_proposals for i in (p["theme_id"], *(p.get("related_ids") or []))
        }
        return bool(row["kept"]) and edit.theme_id not in about
    if edit.action == "rename":
        return bool(row["pinned"]) and row["label"] == " ".join(
            str(edit.params.get("label") or "").split()
        )
    if edit.action == "move":
        now = row["parent_group"] if isinstance(row["parent_group"], str) else None
        if edit.params.get("ungroup"):  # with a group named too, `validate` says what's wrong
            return now is None and not str(edit.params.get("parent_group") or "").strip()
        return now == " ".join(str(edit.params.get("parent_group") or "").split())
    return bool(row["hidden"]) == (edit.action == "hide")


def split_children(
    X: np.ndarray,
    texts: Sequence[str],
    k: int,
    *,
    seed: int = 42,
    find_names: NameFinder | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    reserved: Collection[str] = (),
    partition: np.ndarray | None = None,
    given: Sequence[tuple[str, Sequence[str]]] = (),
    parse: Parser | None = None,
    entities: EntityReader | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Re-cluster one theme's contacts into `k` children (KMeans on cosine-normalised vectors),
    or take a given ``partition`` (row -> 0..k-1: the cut a refit proposed).

    Returns one dict per child (label, keywords, size, centroid, examples as row indexes) and
    each row's child. KMeans because a person asked for k parts of one theme; the fit's density
    clustering already judged the theme one dense region. Each child is named as a fitted theme
    is (`problem_names`: the phrase its customers wrote that tells it from its sibling, ranked
    with ``embed`` when given), never with a name in ``reserved`` (the other themes'): a
    reviewer deciding a split reads "Loan agreement" against "Identity theft on the account",
    not "Loan / Payment" against "Account / Loan". With ``find_names`` no child's label or
    keywords hold a person's name (``rca.text.persons``). A given partition's children are
    described from it, but their sizes and examples are the rows nearest each child's centroid:
    what `accept` will route there. ``given[c]`` is ``(label, keywords)`` for part c when the
    proposal already named it: the preview then shows the part under the name the proposal and
    the e-mail quoting it gave (an empty label is named here), and no other part takes it.
    """
    from sklearn.cluster import KMeans

    from rca.cluster.labels import label_themes, problem_names

    X = np.asarray(X, dtype=np.float64)
    if k < 2:
        raise TaxonomyError("a split needs at least 2 parts")
    if len(X) < 2 * k:
        raise TaxonomyError(f"{len(X)} contacts are too few to split into {k} parts")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    Xn = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    if partition is None:
        parts = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(Xn)
    else:
        parts = np.asarray(partition, dtype=np.int64)
        if len(parts) != len(Xn) or np.bincount(parts, minlength=k)[:k].min() < 2:
            raise TaxonomyError("every part of the proposed cut needs at least 2 contacts")
    people = person_words(texts, parts, find_names) if find_names else frozenset()
    named = label_themes(list(texts), parts, person_words=people).set_index("theme")
    keywords = {int(c): list(named.loc[c, "keywords"]) for c in named.index}
    centroids = np.stack([Xn[parts == c].mean(axis=0) for c in range(k)])
    fixed = {c: (str(label), list(words)) for c, (label, words) in enumerate(given) if label}
    phrases = problem_names(
        list(texts), parts, Xn, centroids, keywords=keywords, embed=embed,
        person_words=people, parse=parse, entities=entities,
        reserved=[*reserved, *(label for label, _ in fixed.values())],
    )  # fmt: skip
    sub: list[np.ndarray] = []
    if partition is not None:
        # One mean per part routes a small carved part badly: the rest of a broad theme is
        # diffuse, so its mean sits far from many of its own contacts (CFPB T0003: a held part
        # of 95 took 170 of 243 contacts). Each part keeps up to SUB_CENTROIDS KMeans centroids
        # and a contact goes to the part of its nearest one, which reproduces the proposed cut.
        sub = [_sub_centroids(Xn[parts == c], seed) for c in range(k)]
        owner = np.repeat(np.arange(k), [len(v) for v in sub])
        routed = owner[np.argmax(Xn @ np.vstack(sub).T, axis=1)]
    else:
        routed = parts
    children = []
    for c in range(k):
        rows = np.flatnonzero(routed == c)
        centroid = centroids[c]
        sims = Xn[rows] @ centroid
        fallback = str(named.loc[c, "label"]) if c in named.index else f"part {c + 1}"
        label, words = fixed.get(c) or (
            phrases.get(c) or fallback,
            list(named.loc[c, "keywords"]) if c in named.index else [],
        )
        children.append(
            {
                "label": label,
                "keywords": words,
                "size": int(len(rows)),
                "centroid": centroid.astype(np.float32).tolist(),
                **({"centroids": sub[c].astype(np.float32).tolist()} if sub else {}),
                "examples": rows[np.argsort(-sims)[:3]].tolist(),
            }
        )
    return children, routed


#: Centroids a part of a proposed cut keeps, at most, and the rows each needs.
SUB_CENTROIDS = 8
SUB_CENTROID_ROWS = 20


def _sub_centroids(X: np.ndarray, seed: int) -> np.ndarray:
    """Unit KMeans centroids of one part (``len(X) // SUB_CENTROID_ROWS``, 1 to SUB_CENTROIDS)."""
    from sklearn.cluster import KMeans

    m = int(min(SUB_CENTROIDS, max(1, len(X) // SUB_CENTROID_ROWS)))
    centers = (
        KMeans(n_clusters=m, n_init=2, random_state=seed).fit(X).cluster_centers_
        if m > 1
        else X.mean(axis=0, keepdims=True)
    )
    return centers / np.maximum(np.linalg.norm(centers, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Proposal:
    """What a refit did to a curated theme, for a person to review."""

    theme_id: str
    kind: str  # split | merged | retired | new_theme
    message: str
    related_ids: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # new_theme: the held contacts, for a preview of the cut
    # new_theme: the held theme's name and keywords, so the preview of the cut shows the part
    # under the name the proposal (and the e-mail quoting it) gave it
    label: str = ""
    keywords: tuple[str, ...] = ()


def curated_ids(edits: Sequence[Edit]) -> set[str]:
    """Fitted theme ids some edit in force names (created and split-off children are not
    fitted)."""
    named: set[str] = set()
    for e in in_force(edits):
        if e.action in ("create", "split"):
            continue
        named.add(e.theme_id)
        named |= set(e.params.get("sources") or [])
    return named


def review_after_refit(
    edits: Sequence[Edit], events: pd.DataFrame, labels: dict[str, str]
) -> list[Proposal]:
    """Curated themes a refit split, merged away or retired: proposals, not overwrites.

    `events` are the refit's lineage events (`rca.cluster.lineage.match_themes`); `labels` the
    curated names before the refit. A kept theme needs no review: its id, and so its edits,
    carry on.
    """
    named = curated_ids(edits)
    split_by_people = {e.theme_id for e in in_force(edits) if e.action == "accept"}
    proposals = []
    for row in events.itertuples(index=False):
        theme_id, related = str(row.theme_id), tuple(str(r) for r in row.related_ids)
        name = labels.get(theme_id, theme_id)
        if row.event == "split" and theme_id in named and related:
            children = [r for r in related if r != theme_id]
            if children:
                advice = (
                    "only its fitted part goes to the parts a person accepted; merge the new "
                    "ones into a part to keep them together"
                    if theme_id in split_by_people
                    else f"keep it whole with `rca taxonomy merge {theme_id} {' '.join(children)}`"
                )
                proposals.append(
                    Proposal(
                        theme_id,
                        "split",
                        f"curated theme {theme_id} '{name}' now splits into "
                        f"{', '.join([theme_id, *children])}: {advice}",
                        tuple(children),
                    )
                )
        elif row.event == "merged":
            absorbed = [r for r in related if r in named]
            for source in absorbed:
                proposals.append(
                    Proposal(
                        source,
                        "merged",
                        f"curated theme {source} '{labels.get(source, source)}' was merged into "
                        f"{theme_id} by the refit: its edits no longer apply",
                        (theme_id,),
                    )
                )
        elif row.event == "retired" and theme_id in named:
            proposals.append(
                Proposal(
                    theme_id,
                    "retired",
                    f"curated theme {theme_id} '{name}' has no successor in the refit: its "
                    "edits no longer apply",
                )
            )
    return proposals


def unanswered(
    proposals: Sequence[Mapping[str, Any]], edits: Sequence[Edit]
) -> list[dict[str, Any]]:
    """The proposals no person has acted on yet: those without an edit in force, made after the
    proposal, on its theme or the themes it names. A split preview alone is not an answer (it
    changes nothing until accepted); an undone edit is none either; a theme the refit carved
    out (`new_theme`) is answered only by what decides its contacts (an accepted split, a
    merge, hiding the theme, keeping it as it is), not by a new name for the theme it sits in.

    Why: a refit's proposals stay on the champion until the next refit, and a reviewer who
    merged, split, renamed, hid or kept the theme should not find them in the weekly e-mail
    again.
    """
    acted = [
        (
            _utc(e.created_at),
            e.action,
            {e.theme_id, *(str(s) for s in e.params.get("sources") or [])},
        )
        for e in in_force(edits)
        if e.action != "split" and e.created_at is not None
    ]
    out = []
    for p in proposals:
        at = _utc(p["created_at"])
        touched = {str(p["theme_id"]), *(str(r) for r in p.get("related_ids") or [])}
        answers = NEW_THEME_ANSWERS if p.get("kind") == "new_theme" else PROPOSAL_ANSWERS
        if not any(
            when >= at and action in answers and ids & touched for when, action, ids in acted
        ):
            out.append(dict(p))
    return out


def _utc(value: Any) -> pd.Timestamp:
    at = pd.Timestamp(value)
    return at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
