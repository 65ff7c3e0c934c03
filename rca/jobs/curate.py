"""`rca taxonomy`: record a person's correction of the themes and apply it to the champion.

The rules are pure (`rca.cluster.taxonomy`); this edge reads the champion and the log, checks
the edit against the curated view, appends it with who, when and why, and rewrites the
champion's curated members in the same transaction, so every report sees it at once. The
same functions serve the CLI, the API and the dashboard; `carry_edits` is what `rca fit` and
`rca assign` call to keep the curated view on new models and new contacts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from rca.cluster.lineage import format_theme_id
from rca.cluster.taxonomy import (
    MEMBERSHIP_ACTIONS,
    CuratedView,
    Edit,
    Proposal,
    TaxonomyError,
    curate,
    is_noop,
    is_taught,
    review_after_refit,
    route,
    split_children,
    unanswered,
    validate,
    validate_undo,
)
from rca.embed.cache import read_vectors
from rca.errors import NotFoundError
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import (
    append_edit,
    curated_view,
    fitted_assignments,
    fitted_themes,
    history,
    next_edit_id,
    open_proposals,
    proposed_parts,
    read_edits,
    read_proposals,
    write_members,
)
from rca.store.db import first_row
from rca.store.themes import next_theme_number, require_champion
from rca.text.audience import people_name_finder
from rca.text.name_kinds import entity_reader_from_settings
from rca.text.normalise import normalise_for_embedding
from rca.text.syntax import parser_from_settings

log = logging.getLogger("rca.taxonomy")
SPLIT_EXAMPLES = 3
DEFAULT_CREATE_THRESHOLD = 0.5
#: A taught reassign's default: a contact must be at least this similar to the filed contacts'
#: mean (and nearer to it than to its own theme's centre), as for a created theme.
DEFAULT_TEACH_THRESHOLD = DEFAULT_CREATE_THRESHOLD


def members_frame(view: CuratedView, fitted: pd.DataFrame, X: np.ndarray | None) -> pd.DataFrame:
    """(contact_id, theme_id) of the contacts whose curated theme differs from the fitted one."""
    curated = route(fitted["theme_id"].to_numpy(), X, view, fitted["contact_id"].to_numpy())
    return changed_members(fitted, curated)


def changed_members(fitted: pd.DataFrame, curated: np.ndarray) -> pd.DataFrame:
    """(contact_id, theme_id) of the contacts whose ``curated`` id (aligned with ``fitted``,
    from `route`) differs from the fitted one: the rows `taxonomy_members` holds."""
    changed = curated != fitted["theme_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {"contact_id": fitted["contact_id"].to_numpy()[changed], "theme_id": curated[changed]}
    )


def _model_id(con: Any, version: str) -> str:
    (model_id,) = first_row(con, "SELECT model_id FROM models WHERE model_version = ?", [version])
    return str(model_id)


def rebuild_members(con: Any, version: str) -> int:
    """Rewrite a model's curated members from the log (inside the caller's write)."""
    view = curated_view(con, version)
    if not view.routing:  # nothing moves contacts (any more: the last merge was undone)
        write_members(con, version, pd.DataFrame({"contact_id": [], "theme_id": []}))
        return 0
    fitted = fitted_assignments(con, version)
    X = None
    if view.needs_vectors and len(fitted):
        X = read_vectors(con, _model_id(con, version), fitted["text_hash"])
    members = members_frame(view, fitted, X)
    write_members(con, version, members)
    return len(members)


def _view_row(view: CuratedView, theme_id: str) -> dict[str, Any]:
    row = view.themes.loc[view.themes["theme_id"] == theme_id]
    if row.empty:
        return {}
    return _plain_theme(row.iloc[0].to_dict())


def _plain_theme(row: dict[str, Any]) -> dict[str, Any]:
    keywords = row.get("keywords")
    return {
        "theme_id": row["theme_id"],
        "label": row["label"],
        "keywords": [] if keywords is None else [str(k) for k in keywords],
        "parent_group": row.get("parent_group") if isinstance(row.get("parent_group"), str)
        else None,
        "size": int(row.get("size") or 0),
        "hidden": bool(row.get("hidden")),
        "pinned": bool(row.get("pinned")),
        "kept": bool(row.get("kept")),
        "origin": row.get("origin") or "fit",
        "description": row.get("description") if isinstance(row.get("description"), str)
        else None,
    }  # fmt: skip


def apply_edit(
    settings: Settings,
    action: str,
    theme_id: str,
    *,
    params: dict[str, Any] | None = None,
    actor: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Validate and record one edit on the champion's curated view; idempotent where a repeat
    changes nothing (the same name again, hiding a hidden theme, accepting an accepted split).
    """
    store = Store(settings.store_path)
    with store.write() as con:
        version = require_champion(con)
        edits = read_edits(con)
        view = curate(fitted_themes(con, version), edits)
        edit = Edit(
            next_edit_id(con),
            action,
            str(theme_id),
            dict(params or {}),
            _text(actor),
            _text(reason),
            now or datetime.now(UTC),
        )
        moves: dict[str, int] = {}
        before = 0  # a taught reassign's theme before it: what it learnt is the rest
        if action == "undo":
            edit, done = validate_undo(edit, edits)
            if done:
                return {"edit": None, "changed": False, "theme": _view_row(view, edit.theme_id)}
        elif action == "reassign":
            taught = bool(edit.params.get("teach"))
            edit = validate(edit, view, view.previews)
            moves = _reassign_moves(con, version, edit)
            if taught:
                edit = teach_edit(con, version, edit, view)
                before = theme_count(con, version, edit.theme_id)
            pinned = view.pinned()
            if not moves and (
                _taught_already(view, edit)
                if taught
                else all(pinned.get(c) == edit.theme_id for c in edit.params["contacts"])
            ):
                return {"edit": None, "changed": False, "theme": _view_row(view, edit.theme_id),
                        "moved": 0, "moved_from": {}}  # fmt: skip
        elif is_noop(
            edit, view, unanswered(read_proposals(con, version), edits) if action == "keep" else ()
        ):
            return {"edit": None, "changed": False, "theme": _view_row(view, edit.theme_id)}
        else:
            edit = validate(edit, view, view.previews)
        new_ids: list[str] = []
        # new stable ids are issued inside the write, so two edits never take the same one
        if action == "accept":
            preview = view.previews[edit.params["preview_id"]]
            first = next_theme_number(con)
            new_ids = [format_theme_id(first + i) for i in range(len(preview.params["children"]))]
            edit.params["child_ids"] = new_ids
        elif action == "create":
            edit = replace(edit, theme_id=format_theme_id(next_theme_number(con)))
            new_ids = [edit.theme_id]
        try:
            after = curate(fitted_themes(con, version), [*edits, edit], strict=True)
        except TaxonomyError as exc:
            if action != "undo":
                raise
            raise TaxonomyError(
                f"cannot undo {edit.params['edit_id']}: a later edit builds on it ({exc}); "
                "undo that one first"
            ) from exc
        append_edit(con, edit, new_ids=new_ids, model_version=version)
        joined = None
        if action in MEMBERSHIP_ACTIONS or action == "undo":
            rebuild_members(con, version)
        if action == "create":
            (joined,) = first_row(
                con,
                "SELECT count(*) FROM taxonomy_members WHERE model_version = ? AND theme_id = ?",
                [version, edit.theme_id],
            ) or (0,)
        elif action == "reassign":  # the theme's contacts now, as every report counts them
            joined = theme_count(con, version, edit.theme_id)
    _mirror(settings, version, edit)
    shown = new_ids[0] if new_ids and action == "accept" else edit.theme_id
    return {
        "edit": _edit_record(edit, new_ids),
        "changed": True,
        "theme": _view_row(after, shown),
        "themes": [_view_row(after, i) for i in new_ids if action == "accept"],
        **({"contacts": int(joined)} if joined is not None else {}),
        **({"moved": sum(moves.values()), "moved_from": moves} if action == "reassign" else {}),
        **(
            {"learnt": int(joined or 0) - before - sum(moves.values())}
            if action == "reassign" and is_taught(edit)
            else {}
        ),
    }


#: contacts a teach preview names among those that would follow
PREVIEW_EXAMPLES = 10


def preview_teach(
    settings: Settings, theme_id: str, contacts: Sequence[str], threshold: float | None = None
) -> dict[str, Any]:
    """What filing ``contacts`` under ``theme_id`` with what they teach would do, written
    nowhere: the named contacts that would move, the further contacts that would follow (how
    many, from which themes, the first few ids), routed exactly as the edit would be."""
    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        edits = read_edits(con)
        themes = fitted_themes(con, version)
        view = curate(themes, edits)
        lesson = {"contacts": list(contacts), "teach": True, "threshold": threshold}
        edit = Edit("preview", "reassign", str(theme_id), lesson)
        edit = validate(edit, view, view.previews)
        moves = _reassign_moves(con, version, edit)
        edit = teach_edit(con, version, edit, view)
        fitted = fitted_assignments(con, version)
        X = read_vectors(con, _model_id(con, version), fitted["text_hash"])
    ids, cids = fitted["theme_id"].to_numpy(), fitted["contact_id"].to_numpy()
    now = route(ids, X, view, cids)
    then = route(ids, X, curate(themes, [*edits, edit]), cids)
    named = set(edit.params["contacts"])
    follow = np.flatnonzero((then != now) & (then == edit.theme_id) & ~np.isin(cids, list(named)))
    origin = pd.Series(now[follow]).replace("", "unassigned").value_counts().sort_index()
    return {
        "model_version": version,
        "theme_id": edit.theme_id,
        "threshold": edit.params["threshold"],
        "moved": sum(moves.values()),
        "moved_from": moves,
        "learnt": int(len(follow)),  # appended last, the lesson only adds to its theme
        "learnt_from": {str(k): int(v) for k, v in origin.items()},
        "examples": [str(c) for c in cids[follow][:PREVIEW_EXAMPLES]],
    }


def _taught_already(view: CuratedView, edit: Edit) -> bool:
    """An edit in force teaches this theme the same contacts at the same threshold."""
    return any(
        is_taught(e)
        and view.merged.get(e.theme_id, e.theme_id) == edit.theme_id
        and set(e.params["contacts"]) == set(edit.params["contacts"])
        and e.params["threshold"] == edit.params["threshold"]
        for e in view.routing
    )


def theme_count(con: Any, version: str, theme_id: str) -> int:
    """A theme's contacts in the curated view, as every report counts them."""
    (n,) = first_row(
        con,
        "SELECT count(*) FROM assignments a LEFT JOIN taxonomy_members m ON "
        "m.contact_id = a.contact_id AND m.model_version = a.model_version "
        "WHERE a.model_version = ? AND coalesce(m.theme_id, a.theme_id) = ?",
        [version, theme_id],
    ) or (0,)
    return int(n)


def teach_edit(con: Any, version: str, edit: Edit, view: CuratedView) -> Edit:
    """The reassign with what it teaches: the filed contacts' mean vector (the champion's
    encoder) and the threshold (``DEFAULT_TEACH_THRESHOLD`` unless the person gave one)."""
    vectors = contact_vectors(con, _model_id(con, version), edit.params["contacts"])
    centroid = np.asarray(vectors, dtype=np.float64).mean(axis=0)
    params = {
        **edit.params,
        "centroid": np.asarray(centroid, dtype=np.float32).astype(float).tolist(),
        "threshold": float(edit.params.get("threshold") or DEFAULT_TEACH_THRESHOLD),
    }
    return validate(replace(edit, params=params), view, view.previews)


def contact_vectors(con: Any, model_id: str, contact_ids: Sequence[str]) -> np.ndarray:
    """The stored vectors of these contacts (a created theme's examples, a lesson's filed
    contacts), or a `NotFoundError` naming the ones the store does not hold."""
    ids = list(contact_ids)
    found = con.execute(
        "SELECT contact_id, text_hash FROM contacts WHERE contact_id IN "
        f"({', '.join('?' * len(ids))})",
        ids,
    ).df()
    missing = sorted(set(ids) - set(found["contact_id"]))
    if missing:
        raise NotFoundError(f"no contact {', '.join(missing[:5])}")
    return read_vectors(con, model_id, found["text_hash"])


def _reassign_moves(con: Any, version: str, edit: Edit) -> dict[str, int]:
    """Where the contacts a `reassign` names are now (curated theme, "" = unassigned) -> how
    many leave it; those already in the edit's theme are left out. A contact the champion has
    not assigned (unknown, or not yet through `rca assign`) is an error naming it."""
    named = pd.DataFrame({"contact_id": edit.params["contacts"]})
    con.register("reassign_named", named)
    try:
        now = con.execute(
            "SELECT n.contact_id, coalesce(m.theme_id, a.theme_id, '') AS theme_id, "
            "a.contact_id IS NOT NULL AS known FROM reassign_named n "
            "LEFT JOIN assignments a ON a.contact_id = n.contact_id AND a.model_version = ? "
            "LEFT JOIN taxonomy_members m ON m.contact_id = n.contact_id "
            "AND m.model_version = ?",
            [version, version],
        ).df()
    finally:
        con.unregister("reassign_named")
    unknown = sorted(now.loc[~now["known"].astype(bool), "contact_id"].astype(str))
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise NotFoundError(
            f"no contact {', '.join(unknown[:5])}{more} in the themes of {version} "
            "(ingest it, then `rca assign`)"
        )
    leaving = now.loc[now["theme_id"] != edit.theme_id, "theme_id"].astype(str)
    return {str(k): int(v) for k, v in leaving.value_counts().sort_index().items()}


def _mirror(settings: Settings, version: str, edit: Edit) -> None:
    """The edit on the model's MLflow run too (tags `rca.taxonomy.*`): the model's history.

    Best effort after the store's commit: a registry that cannot be written (a read-only
    mount) leaves the edit recorded in the store, and says so in the log.
    """
    from rca.jobs.tracking import tag_run

    with Store(settings.store_path).read() as con:
        row = first_row(con, "SELECT mlflow_run_id FROM models WHERE model_version = ?", [version])
        count = len(read_edits(con))
    if not row or not row[0]:
        return
    who = f" by {edit.actor}" if edit.actor else ""
    try:
        tag_run(settings, row[0], {
            "rca.taxonomy.edits": str(count),
            "rca.taxonomy.last_edit": f"{edit.edit_id} {edit.action} {edit.theme_id}{who}",
        })  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the store holds the edit; the mirror is a copy
        log.warning("taxonomy edit %s not mirrored to MLflow: %s", edit.edit_id, exc)


def _text(value: str | None) -> str | None:
    value = " ".join(str(value or "").split())
    return value[:500] or None


def _edit_record(edit: Edit, new_ids: Sequence[str] = ()) -> dict[str, Any]:
    params = {k: v for k, v in edit.params.items() if k not in ("centroid", "children")}
    return {
        "edit_id": edit.edit_id,
        "action": edit.action,
        "theme_id": edit.theme_id,
        "params": params,
        "new_ids": list(new_ids),
        "by": edit.actor,
        "why": edit.reason,
        "at": edit.created_at,
    }


def preview_split(
    settings: Settings,
    theme_id: str,
    *,
    parts: int = 2,
    actor: str | None = None,
    reason: str | None = None,
    seed: int = 42,
    encoder: Any = None,
    proposed: bool = False,
) -> dict[str, Any]:
    """Re-cluster a theme's contacts into `parts` children and keep it as a preview.

    Nothing changes until `accept`; a preview not accepted is only a row in the log. The parts
    are named as fitted themes are; `encoder` (a loaded one, the API's) ranks the names, else the
    configured one is loaded, and one that is not the champion's leaves the ranking to phrase
    support. `proposed`: the cut the last refit proposed instead of KMeans (one part per theme it
    carved out of this one and held, one for the rest; `parts` is then ignored), so a person
    accepts what the proposal described.
    """
    from rca.embed.encoder import encoder_from_settings

    store = Store(settings.store_path)
    with store.read() as con:
        version = require_champion(con)
        view = curated_view(con, version)
        probe = Edit("", "split", str(theme_id), {"children": [{}, {}]})
        validate(probe, view)  # an unknown or merged theme says so before any work
        fitted = fitted_assignments(con, version)
        model_id = _model_id(con, version)
        X_all = (
            read_vectors(con, model_id, fitted["text_hash"]) if len(fitted) else np.zeros((0, 0))
        )
        curated = route(
            fitted["theme_id"].to_numpy(),
            X_all if len(fitted) else None,
            view,
            fitted["contact_id"].to_numpy(),
        )
        rows = np.flatnonzero(curated == theme_id)
        contact_ids = fitted["contact_id"].to_numpy()[rows]
        carved = proposed_parts(con, version, str(theme_id)) if proposed else []
        texts = (
            con.execute(
                "SELECT c.contact_id, c.text FROM contacts c JOIN assignments a USING "
                "(contact_id) WHERE a.model_version = ?",
                [version],
            )
            .df()
            .set_index("contact_id")["text"]
        )
    partition = None
    if proposed:
        if not carved:
            raise TaxonomyError(
                f"no open proposal carves a theme out of {theme_id}: see `rca taxonomy list`"
            )
        partition = np.full(len(rows), len(carved), dtype=np.int64)  # the rest: last part
        for part, proposal in reversed(list(enumerate(carved))):
            partition[np.isin(contact_ids.astype(str), proposal["members"])] = part
        parts = len(carved) + 1
    if not 2 <= parts <= 10:
        raise TaxonomyError("a split has 2 to 10 parts")
    encoder = encoder or encoder_from_settings(settings)
    embed = (lambda t: encoder.encode(t, progress=False)) if encoder.model_id == model_id else None
    others = view.themes.loc[view.themes["theme_id"] != str(theme_id), "label"]
    children, _ = split_children(
        X_all[rows],
        texts.reindex(contact_ids).fillna("").tolist(),
        parts,
        seed=seed,
        find_names=people_name_finder(settings),
        embed=embed,
        reserved=[str(n) for n in others if n],
        partition=partition,
        given=[(p["label"], p["keywords"]) for p in carved],
        parse=parser_from_settings(settings),
        entities=entity_reader_from_settings(settings),
    )
    for child in children:
        child["examples"] = [str(contact_ids[i]) for i in child["examples"][:SPLIT_EXAMPLES]]
    with store.write() as con:
        edit = Edit(
            next_edit_id(con),
            "split",
            str(theme_id),
            {"parts": parts, "children": children, **({"proposed": True} if proposed else {})},
            _text(actor),
            _text(reason),
            datetime.now(UTC),
        )
        append_edit(con, validate(edit, curated_view(con, version)), model_version=version)
    _mirror(settings, version, edit)
    return {
        "preview_id": edit.edit_id,
        "theme_id": edit.theme_id,
        "children": [
            {k: c[k] for k in ("label", "keywords", "size", "examples")} for c in children
        ],
        "accept": f"rca taxonomy accept {edit.edit_id}",
    }


def accept_split(
    settings: Settings, preview_id: str, *, actor: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    with Store(settings.store_path).read() as con:
        previews = {e.edit_id: e for e in read_edits(con) if e.action == "split"}
    preview = previews.get(str(preview_id))
    if preview is None:
        raise NotFoundError(f"no split preview {preview_id!r}: see `rca taxonomy history`")
    return apply_edit(
        settings,
        "accept",
        preview.theme_id,
        params={"preview_id": preview.edit_id},
        actor=actor,
        reason=reason,
    )


def create_theme(
    settings: Settings,
    label: str,
    *,
    description: str | None = None,
    examples: Sequence[str] = (),
    threshold: float = DEFAULT_CREATE_THRESHOLD,
    parent_group: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
    encoder: Any = None,
) -> dict[str, Any]:
    """A theme from example contacts (their mean vector) or from a name and description
    (their embedding: a team's existing reason code); contacts at least `threshold` similar
    to it join it. `encoder`: a loaded one (the API's), else the configured one is loaded."""
    from rca.embed.encoder import encoder_from_settings

    store = Store(settings.store_path)
    examples = [str(e) for e in examples if str(e).strip()]
    with store.read() as con:
        version = require_champion(con)
        model_id = _model_id(con, version)
        if examples:
            vectors = contact_vectors(con, model_id, examples)
    if examples:
        centroid = vectors.astype(np.float64).mean(axis=0)
        origin = "examples"
    else:
        name = " ".join(f"{label}. {description or ''}".split())
        if not name.strip(" ."):
            raise TaxonomyError("the name is empty")
        encoder = encoder or encoder_from_settings(settings)
        if encoder.model_id != model_id:
            raise TaxonomyError(f"the configured encoder is not the champion's ({model_id})")
        centroid = encoder.encode([normalise_for_embedding(name)], progress=False)[0]
        origin = "description"
    return apply_edit(
        settings,
        "create",
        "",  # issued inside the write
        params={
            "label": label,
            "description": _text(description),
            "examples": examples,
            "threshold": float(threshold),
            "parent_group": _text(parent_group),
            "centroid": np.asarray(centroid, dtype=np.float32).astype(float).tolist(),
            "from": origin,
        },
        actor=actor,
        reason=reason,
    ) | {"created": True}


def taxonomy_listing(settings: Settings) -> dict[str, Any]:
    """The curated themes with their flags and the champion's open proposals."""
    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        view = curated_view(con, version)
        counts = con.execute(
            "SELECT coalesce(m.theme_id, a.theme_id) AS theme_id, count(*) AS contacts "
            "FROM assignments a LEFT JOIN taxonomy_members m ON m.contact_id = a.contact_id "
            "AND m.model_version = a.model_version WHERE a.model_version = ? GROUP BY 1",
            [version],
        ).df()
        proposals = open_proposals(con, version)
        n_edits = len(read_edits(con))
    contacts = dict(zip(counts["theme_id"], counts["contacts"], strict=True))
    order = view.themes.assign(_o=view.themes["theme_id"].str.len()).sort_values(["_o", "theme_id"])
    themes = [
        {**_plain_theme(r), "contacts": int(contacts.get(r["theme_id"], 0))}
        for r in order.to_dict(orient="records")
    ]
    previews = [
        {"preview_id": e.edit_id, "theme_id": e.theme_id, "by": e.actor, "at": e.created_at,
         "children": [{k: c.get(k) for k in ("label", "size", "keywords", "examples")}
                      for c in e.params.get("children", [])],
         "accepted": e.theme_id in view.split_into}
        for e in view.previews.values()
    ]  # fmt: skip
    return {
        "model_version": version,
        "edits": n_edits,
        "themes": themes,
        "hidden": sorted(view.hidden_ids),
        "merged": dict(sorted(view.merged.items())),
        "split_into": dict(sorted(view.split_into.items())),
        "previews": previews,
        "proposals": proposals,
    }


def taxonomy_history(settings: Settings) -> list[dict[str, Any]]:
    with Store(settings.store_path).read() as con:
        frame = history(con)
    undone_by = {
        str((r["params"] or {}).get("edit_id")): r["edit_id"]
        for r in frame.to_dict(orient="records")
        if r["action"] == "undo"
    }
    return [
        {
            "edit_id": r["edit_id"],
            "action": r["action"],
            "theme_id": r["theme_id"],
            "params": r["params"],
            "new_ids": [str(i) for i in r["new_ids"]],
            "by": r["actor"] if isinstance(r["actor"], str) else None,
            "why": r["reason"] if isinstance(r["reason"], str) else None,
            "at": r["created_at"],
            "model_version": r["model_version"],
            "undone_by": undone_by.get(r["edit_id"]),
        }
        for r in frame.to_dict(orient="records")
    ]


def carry_edits(
    edits: Sequence[Edit],
    fitted: pd.DataFrame,
    events: pd.DataFrame,
    previous_labels: dict[str, str],
    assignments: pd.DataFrame,
    X: np.ndarray | None,
) -> tuple[pd.DataFrame, list[Proposal]]:
    """After a refit: the new model's curated members and what to propose to a person.

    Edits name stable ids, which lineage carried to the new fit; a curated theme the refit
    split, merged away or retired is proposed for review instead of being overwritten.
    `assignments` is (contact_id, theme_id) of the new fit, aligned with `X`.
    """
    view = curate(fitted, edits)
    frame = assignments[["contact_id", "theme_id"]].copy()
    members = members_frame(view, frame, X if view.needs_vectors else None)
    return members, review_after_refit(edits, events, previous_labels)
