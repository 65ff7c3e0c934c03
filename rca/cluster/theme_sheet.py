"""A reviewed theme list applied at once: renames, moves, hides and merges from a spreadsheet.

Program managers review the week's themes as a table. `rca taxonomy list --format csv` gives
it; they fix names and parent groups, mark themes hidden and add a `merge_into` column in a
spreadsheet, and this reads the sheet back as edits, so forty corrections are one step instead
of forty commands. The sheet is checked as a whole first: every row that cannot apply is named
by its line, and nothing is written while any remains. Each change is an ordinary edit (who,
when, why; undo; refits treat it as one made by hand), and a row that matches the taxonomy
makes none, so applying the listing as exported changes nothing. Pure: a frame and the curated
view in, the edits or a `TaxonomyError` out; the file and the store are the caller's
(`rca.jobs.apply_sheet`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from rca.cluster.reason_codes import MAX_LISTED, cell_text, header_map
from rca.cluster.taxonomy import CuratedView, Edit, TaxonomyError, clean_label, require_theme

#: Columns read (header case, spaces and hyphens ignored); others, such as the listing's
#: `contacts` and `description`, are left alone.
ID_COLUMN, LABEL_COLUMN, PARENT_COLUMN = "theme_id", "label", "parent_group"
HIDDEN_COLUMN, FLAGS_COLUMN, MERGE_COLUMN = "hidden", "flags", "merge_into"
YES = frozenset({"yes", "y", "true", "1", "x", "hidden"})
# A `parent_group` cell that takes the theme out of its group (a blank cell leaves it as is).
NO_GROUP = frozenset({"(none)", "(no group)"})
NO = frozenset({"no", "n", "false", "0"})


#: The listing's columns as `rca taxonomy list --format csv` and the dashboard's download write
#: them: the sheet people review.
LISTING_COLUMNS = ["theme_id", "label", "contacts", "parent_group", "flags", "description"]


def theme_flags(theme: dict) -> str:
    """A listed theme's flags as the sheet shows them ("hidden, pinned, create"); `plan_sheet`
    reads "hidden" back from them."""
    flags = [f for f in ("hidden", "pinned", "kept") if theme.get(f)]
    if theme.get("origin") not in (None, "fit"):
        flags.append(str(theme["origin"]))
    return ", ".join(flags)


#: The dashboard's download adds an empty `merge_into` column: a reviewer sees where a merge
#: goes instead of having to know the column's name.
SHEET_COLUMNS = [*LISTING_COLUMNS, MERGE_COLUMN]


def sheet_rows(themes: list[dict]) -> list[dict]:
    """The curated themes (`taxonomy_listing`'s) as sheet rows, `SHEET_COLUMNS` each (an empty
    `merge_into`)."""
    return [
        {**{c: t.get(c) for c in LISTING_COLUMNS}, "flags": theme_flags(t), MERGE_COLUMN: ""}
        for t in themes
    ]


@dataclass(frozen=True)
class SheetPlan:
    """The edits a sheet asks for (no edit ids yet), the sheet line each comes from, and how
    many rows asked for nothing."""

    edits: list[Edit]
    lines: list[int]
    unchanged: int


def _text(record: dict, column: str | None) -> str:
    """A cell as text (`cell_text`: the apostrophe a spreadsheet-safe download puts before a
    formula-like name, "'=Refund", taken off again); "" for a column the sheet lacks."""
    return cell_text(record[column]) if column is not None else ""


def _hidden_cell(record: dict, hidden_col: str | None, flags_col: str | None) -> bool | None:
    """The row's wish for `hidden`: the `hidden` column (yes/no; blank leaves it), else the
    listing's `flags` (hidden exactly when it names it); None when neither says."""
    if hidden_col is not None:
        value = cell_text(record[hidden_col]).casefold()
        if not value:
            return None  # blank: left as it is
        if value in YES:
            return True
        if value in NO:
            return False
        raise TaxonomyError(f"hidden {value!r} is not yes or no")
    if flags_col is not None:
        return "hidden" in {f.strip() for f in cell_text(record[flags_col]).casefold().split(",")}
    return None


def plan_sheet(
    frame: pd.DataFrame, view: CuratedView, *, first_line: int = 2, row_word: str = "line"
) -> SheetPlan:
    """The edits that make the taxonomy say what ``frame`` says, or a `TaxonomyError` listing
    every row that cannot apply: no such theme (or one merged or split away), a theme given
    twice, an over-long name, a `hidden` that is not yes or no, a merge into itself, into an
    unknown theme or into a theme the sheet merges away itself, and a merged-away row that
    also asks for a name, group or flag (which would be lost with it).

    A blank cell leaves that field as it is (a sheet can carry only the columns it changes), and
    a row merged already where it asks to be is unchanged, so a sheet applied twice changes
    nothing the second time. Renames, moves and hides come first, then one merge per target
    with its sources in sheet order. Rows are called ``row_word`` + number from ``first_line``
    (a file's line under its header; the API's "row 1")."""
    # "Theme ID", "theme-id" and "theme_id" alike: spreadsheets retitle columns
    columns = {re.sub(r"[\s\-]+", "_", k): c for k, c in header_map(frame).items()}
    if ID_COLUMN not in columns:
        have = ", ".join(str(c) for c in frame.columns) or "none"
        raise TaxonomyError(
            f"no column {ID_COLUMN!r} (the sheet's columns: {have}); start from "
            "`rca taxonomy list --format csv`"
        )
    id_col, label_col = columns[ID_COLUMN], columns.get(LABEL_COLUMN)
    parent_col, merge_col = columns.get(PARENT_COLUMN), columns.get(MERGE_COLUMN)
    hidden_col, flags_col = columns.get(HIDDEN_COLUMN), columns.get(FLAGS_COLUMN)
    current = view.themes.set_index("theme_id")
    problems: list[str] = []
    seen: dict[str, int] = {}
    changes: list[tuple[int, Edit]] = []
    merges: dict[str, list[tuple[int, str]]] = {}
    unchanged = 0
    records = frame.to_dict(orient="records")
    merged_by_sheet = {
        cell_text(r[id_col]): first_line + i
        for i, r in enumerate(records)
        if merge_col is not None and cell_text(r[merge_col])
    }
    for i, record in enumerate(records):
        line = first_line + i
        theme_id = cell_text(record[id_col])
        try:
            if not theme_id:
                raise TaxonomyError("no theme_id")
            if theme_id in seen:
                raise TaxonomyError(f"{theme_id} is already on {row_word} {seen[theme_id]}")
            seen[theme_id] = line
            target = cell_text(record[merge_col]) if merge_col is not None else ""
            if target and view.merged.get(theme_id) == target:
                unchanged += 1  # merged there already: the same sheet applied again
                continue
            require_theme(view, theme_id)
            row = current.loc[theme_id]
            wanted: list[Edit] = []
            label = _text(record, label_col)
            if label and clean_label(label) != row["label"]:
                wanted.append(Edit("", "rename", theme_id, {"label": clean_label(label)}))
            parent = _text(record, parent_col)
            now_parent = row["parent_group"] if isinstance(row["parent_group"], str) else ""
            if parent.casefold() in NO_GROUP:  # a blank leaves it; "(none)" takes it out
                if now_parent:
                    wanted.append(Edit("", "move", theme_id, {"ungroup": True}))
            elif parent and clean_label(parent, "parent group") != now_parent:
                wanted.append(Edit("", "move", theme_id, {"parent_group": parent}))
            hidden = _hidden_cell(record, hidden_col, flags_col)
            if hidden is not None and hidden != bool(row["hidden"]):
                wanted.append(Edit("", "hide" if hidden else "unhide", theme_id, {}))
            if target:
                if target == theme_id:
                    raise TaxonomyError(f"cannot merge theme {theme_id} with itself")
                if target in merged_by_sheet:
                    raise TaxonomyError(
                        f"{target} is merged away itself on {row_word} "
                        f"{merged_by_sheet[target]}: merge into the theme that keeps them"
                    )
                require_theme(view, target)
                if wanted:
                    raise TaxonomyError(
                        f"{theme_id} is merged into {target}: its own "
                        f"{', '.join(e.action for e in wanted)} would be lost"
                    )
                merges.setdefault(target, []).append((line, theme_id))
                continue
            changes.extend((line, e) for e in wanted)
            unchanged += not wanted
        except TaxonomyError as exc:
            problems.append(f"{row_word} {line}: {exc}")
    if problems:
        more = len(problems) - MAX_LISTED
        listed = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise TaxonomyError(f"{len(problems)} of {len(frame)} rows cannot be applied: {listed}")
    for target, sources in merges.items():
        edit = Edit("", "merge", target, {"sources": [s for _, s in sources]})
        changes.append((sources[0][0], edit))
    return SheetPlan([e for _, e in changes], [line for line, _ in changes], unchanged)
