"""Cases filed by a table: a reviewed cases CSV (`rca examples --format csv`, a theme page's
download) whose `theme_id` a person corrected, turned into `reassign` edits.

An SOP author or analyst reads a theme's example cases in a spreadsheet and sees the ones
that belong elsewhere; typing their ids into a command one target at a time is where such
corrections stop. The table says, per row, the contact and the theme it belongs to; only the
rows whose contact is not already held there become edits, one `reassign` per theme, so the
download applied as it is changes nothing and a table applied twice changes nothing the second
time. Pure: the store edge is `rca.jobs.file_cases`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from rca.cluster.reason_codes import cell_text, header_map
from rca.cluster.taxonomy import MAX_REASSIGN, CuratedView, Edit, TaxonomyError, require_theme

CONTACT_COLUMN, THEME_COLUMN = "contact_id", "theme_id"
#: Rows named in one error before "and N more": a long table's message stays readable.
SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class CasePlan:
    """One `reassign` a theme (no edit ids yet), the table lines of its contacts, and how many
    rows asked for nothing (the contact is held there already)."""

    edits: list[Edit]
    lines: list[list[int]]
    unchanged: int


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    """ "Contact ID", "contact-id" and "contact_id" alike: spreadsheets retitle columns."""
    return {re.sub(r"[\s\-]+", "_", k): c for k, c in header_map(frame).items()}


def listed_contacts(frame: pd.DataFrame) -> list[str]:
    """The table's contact ids (none without the column: `plan_cases` says what is missing)."""
    column = _columns(frame).get(CONTACT_COLUMN)
    if column is None:
        return []
    return sorted({cell_text(v) for v in frame[column]} - {""})


def plan_cases(
    frame: pd.DataFrame,
    view: CuratedView,
    held: Mapping[str, str],
    *,
    first_line: int = 2,
    row_word: str = "line",
) -> CasePlan:
    """The `reassign` edits that file each row's contact under its row's theme, or a
    `TaxonomyError` naming every row that cannot apply: no contact id, a contact the champion
    has not assigned (not in ``held``: contact -> its curated theme, "" unassigned), a blank,
    unknown, merged or split theme, or a contact given twice with two themes. A row whose
    contact ``held`` puts in its theme already is unchanged; other columns are ignored."""
    columns = _columns(frame)
    missing = [c for c in (CONTACT_COLUMN, THEME_COLUMN) if c not in columns]
    if missing:
        have = ", ".join(str(c) for c in frame.columns) or "none"
        raise TaxonomyError(
            f"no column {' or '.join(repr(c) for c in missing)} (the table's columns: {have}); "
            "start from a theme's cases CSV (`rca examples --format csv`)"
        )
    problems: list[str] = []
    first_seen: dict[str, tuple[str, int]] = {}
    targets: dict[str, list[tuple[int, str]]] = {}
    unchanged = 0
    for i, record in enumerate(frame.to_dict(orient="records")):
        line = first_line + i
        contact = cell_text(record[columns[CONTACT_COLUMN]])
        theme = cell_text(record[columns[THEME_COLUMN]])
        try:
            if not contact:
                raise TaxonomyError("no contact_id")
            if not theme:
                raise TaxonomyError(f"no theme_id for {contact}")
            if contact in first_seen:  # even when its first row was refused
                said, at = first_seen[contact]
                if said != theme:
                    raise TaxonomyError(f"{contact} is filed under {said} on {row_word} {at}")
                unchanged += 1
                continue
            first_seen[contact] = (theme, line)
            require_theme(view, theme)
            if contact not in held:
                raise TaxonomyError(f"no contact {contact} in the champion's themes")
        except TaxonomyError as exc:
            problems.append(f"{row_word} {line}: {exc}")
            continue
        if held[contact] == theme:  # there already (a table is a diff: no pin without a move)
            unchanged += 1
            continue
        targets.setdefault(theme, []).append((line, contact))
    for theme, rows in targets.items():
        if len(rows) > MAX_REASSIGN:
            problems.append(f"{len(rows)} contacts for {theme}; at most {MAX_REASSIGN} a theme")
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        raise TaxonomyError(
            f"{len(problems)} of {len(frame)} rows cannot be filed: "
            + "; ".join(problems[:SHOWN_PROBLEMS])
            + (f"; and {more} more" if more > 0 else "")
        )
    edits = [Edit("", "reassign", t, {"contacts": [c for _, c in rows]}) for t, rows in
             targets.items()]  # fmt: skip
    return CasePlan(edits, [[line for line, _ in rows] for rows in targets.values()], unchanged)
