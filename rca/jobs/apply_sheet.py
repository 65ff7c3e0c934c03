"""`rca taxonomy apply`: a reviewed theme sheet written as edits, all or none (the store edge).

The rules are pure (`rca.cluster.theme_sheet`); this reads the file, plans the edits against
the champion's curated view inside the write, and appends them in one transaction with the
members rewritten once, so an interrupted apply leaves none of them and every report sees all
of them at once. ``dry_run`` plans inside a read and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rca.cluster.taxonomy import MEMBERSHIP_ACTIONS, Edit, curate, validate
from rca.cluster.theme_sheet import plan_sheet
from rca.errors import InvalidInputError, NotFoundError
from rca.jobs.curate import _mirror, _text, _view_row, rebuild_members
from rca.jobs.import_codes import read_table
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import append_edit, fitted_themes, next_edit_ids, read_edits
from rca.store.themes import require_champion


def read_sheet_file(path: Path) -> pd.DataFrame:
    """The sheet of a CSV file (`;`, tab or `|` delimited too; TSV when it ends in .tsv) or of
    a workbook (its first sheet with a ``theme_id`` column: the theme sheet and the cases
    table both have one), every cell as text."""
    if not path.is_file():
        raise NotFoundError(f"no file {path}")
    return read_table(
        path, unreadable=f"{path.name} is not a readable CSV file or workbook",
        empty=f"{path.name} is empty", needs=("theme_id",),
    )  # fmt: skip


def parse_sheet(text: str) -> pd.DataFrame:
    """The sheet of CSV text pasted on the dashboard (cells copied out of a spreadsheet come
    tab-separated)."""
    if not text.strip():
        raise InvalidInputError("the sheet is empty: a header (theme_id,label,...), then a row")
    return read_table(text, unreadable="the sheet is not readable CSV", empty=None)


def _change(edit: Edit, before: dict[str, Any]) -> dict[str, Any]:
    """One planned edit as the output shows it: what the theme was and what it becomes."""
    shown = {"rename": ("label", edit.params.get("label")),
             "move": ("parent_group", "(none)" if edit.params.get("ungroup")
                      else edit.params.get("parent_group")),
             "hide": ("hidden", True), "unhide": ("hidden", False),
             "merge": ("takes", edit.params.get("sources"))}  # fmt: skip
    field, to = shown[edit.action]
    return {"field": field, "from": before.get(field) if field != "takes" else None, "to": to}


def apply_sheet(
    settings: Settings,
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    first_line: int = 2,
    row_word: str = "line",
) -> dict[str, Any]:
    """Apply a theme sheet to the champion's taxonomy: every change an edit, all or none.
    ``first_line`` and ``row_word`` name its rows in errors (`plan_sheet`)."""
    at = now or datetime.now(UTC)
    store = Store(settings.store_path)
    with store.read() if dry_run else store.write() as con:
        version = require_champion(con)
        edits = read_edits(con)
        fitted_view = fitted_themes(con, version)
        view = curate(fitted_view, edits)
        plan = plan_sheet(frame, view, first_line=first_line, row_word=row_word)
        ids = next_edit_ids(con, len(plan.edits))
        who, why = _text(actor), _text(reason)
        made = [validate(Edit(i, e.action, e.theme_id, e.params, who, why, at), view)
                for i, e in zip(ids, plan.edits, strict=True)]  # fmt: skip
        after = curate(fitted_view, [*edits, *made], strict=True)  # the sheet as one
        if made and not dry_run:
            for edit in made:
                append_edit(con, edit, new_ids=[], model_version=version)
            if any(e.action in MEMBERSHIP_ACTIONS for e in made):
                rebuild_members(con, version)
    if made and not dry_run:
        _mirror(settings, version, made[-1])
    rows = []
    for line, edit in zip(plan.lines, made, strict=True):
        before = _view_row(view, edit.theme_id)
        rows.append({
            "line": line,
            "edit_id": None if dry_run else edit.edit_id,
            "action": edit.action,
            "theme_id": edit.theme_id,
            "label": before.get("label"),
            **_change(edit, before),
        })  # fmt: skip
    touched = dict.fromkeys(e.theme_id for e in made)
    return {
        "model_version": version,
        "dry_run": dry_run,
        "changed": bool(made) and not dry_run,
        "rows": int(len(frame)),
        "unchanged": plan.unchanged,
        "edits": rows,
        "themes": [] if dry_run else [_view_row(after, t) for t in touched],
    }
