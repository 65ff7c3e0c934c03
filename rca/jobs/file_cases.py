"""`rca taxonomy reassign --file`: a reviewed cases table filed as `reassign` edits, all or
none (the store edge of `rca.cluster.case_sheet`).

Planned against the champion's curated view and each listed contact's curated theme inside the
write, appended in one transaction with the members rewritten once, so an interrupted run files
none of them and every report sees all of them at once. ``dry_run`` plans inside a read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from rca.cluster.case_sheet import listed_contacts, plan_cases
from rca.cluster.taxonomy import Edit, curate, validate
from rca.jobs.curate import _mirror, _text, rebuild_members, teach_edit, theme_count
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import append_edit, fitted_themes, next_edit_ids, read_edits
from rca.store.themes import require_champion


def _held(con: Any, version: str, contacts: list[str]) -> dict[str, str]:
    """Each listed contact the champion assigned -> its curated theme ("" = unassigned)."""
    con.register("listed_contacts", pd.DataFrame({"contact_id": contacts}))
    try:
        rows = con.execute(
            "SELECT a.contact_id, coalesce(m.theme_id, a.theme_id, '') FROM assignments a "
            "JOIN listed_contacts l USING (contact_id) LEFT JOIN taxonomy_members m "
            "ON m.contact_id = a.contact_id AND m.model_version = a.model_version "
            "WHERE a.model_version = ?",
            [version],
        ).fetchall()
    finally:
        con.unregister("listed_contacts")
    return {str(c): str(t) for c, t in rows}


def file_cases(
    settings: Settings,
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    first_line: int = 2,
    row_word: str = "line",
    teach: bool = False,
    threshold: float | None = None,
) -> dict[str, Any]:
    """File each row's contact under the row's theme; one `reassign` per theme. ``first_line``
    and ``row_word`` name its rows in errors (a file's line; the API's "row 1"). ``teach``:
    each edit also files the contacts like its own (a taught reassign; how many followed is
    each edit's ``learnt``, counted once written: null in a dry run), at ``threshold``."""
    listed = listed_contacts(frame)
    at = now or datetime.now(UTC)
    store = Store(settings.store_path)
    with store.read() if dry_run else store.write() as con:
        version = require_champion(con)
        edits = read_edits(con)
        fitted = fitted_themes(con, version)
        view = curate(fitted, edits)
        held = _held(con, version, listed)
        plan = plan_cases(frame, view, held, first_line=first_line, row_word=row_word)
        who, why = _text(actor), _text(reason)
        ids = next_edit_ids(con, len(plan.edits))
        made = [validate(Edit(i, e.action, e.theme_id, e.params, who, why, at), view)
                for i, e in zip(ids, plan.edits, strict=True)]  # fmt: skip
        if teach and not dry_run:
            lesson = {"teach": True, "threshold": threshold}
            made = [teach_edit(con, version, replace(e, params={**e.params, **lesson}), view)
                    for e in made]  # fmt: skip
        curate(fitted, [*edits, *made], strict=True)  # the table as one
        learnt: dict[str, int | None] = {e.theme_id: None for e in made}
        if made and not dry_run:
            before = {t: theme_count(con, version, t) for t in learnt}
            for edit in made:
                append_edit(con, edit, model_version=version)
            rebuild_members(con, version)
            if teach:
                learnt = {e.theme_id: theme_count(con, version, e.theme_id) - before[e.theme_id]
                          - len(e.params["contacts"]) for e in made}  # fmt: skip
    if made and not dry_run:
        _mirror(settings, version, made[-1])
    labels = dict(zip(view.themes["theme_id"], view.themes["label"], strict=True))
    out = []
    for edit, lines in zip(made, plan.lines, strict=True):
        moved: dict[str, int] = {}
        for contact in edit.params["contacts"]:
            moved[held[contact]] = moved.get(held[contact], 0) + 1
        out.append({
            "edit_id": None if dry_run else edit.edit_id,
            "theme_id": edit.theme_id,
            "label": labels.get(edit.theme_id),
            "contacts": list(edit.params["contacts"]),
            "lines": lines,
            "moved_from": dict(sorted(moved.items())),
            **({"learnt": learnt[edit.theme_id]} if teach else {}),
        })  # fmt: skip
    return {
        "model_version": version,
        "dry_run": dry_run,
        "changed": bool(made) and not dry_run,
        "rows": int(len(frame)),
        "unchanged": plan.unchanged,
        "moved": sum(len(e["contacts"]) for e in out),
        "edits": out,
    }
