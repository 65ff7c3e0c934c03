"""A team's reason codes read as themes to create, all or none (`rca taxonomy import`).

Support teams already have a list of contact reasons (a CRM's disposition codes, a BPO's wrap-up
codes). Seeding the taxonomy with them one `rca taxonomy create` at a time costs a command and
an encoder load per code, and a mistake in row 30 leaves 29 themes made. Here a table of codes
is checked as a whole first: every problem is reported with its line, and nothing is created
while any remains. Pure: a frame in, codes or a `TaxonomyError` out; the file and the store are
the caller's (`rca.jobs.import_codes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from rca.cluster.taxonomy import TaxonomyError, clean_label

#: Optional columns beside the name and description, read by these names.
THRESHOLD_COLUMN = "threshold"
PARENT_COLUMN = "parent_group"
#: Problems listed before the rest are counted.
MAX_LISTED = 10


@dataclass(frozen=True)
class ReasonCode:
    """One code: the created theme's name, what it covers (embedded with the name), the cosine
    similarity a contact needs to join it, and its parent group."""

    label: str
    description: str | None
    threshold: float
    parent_group: str | None = None

    @property
    def text(self) -> str:
        """What is embedded: the name, then the description, as `rca taxonomy create` does."""
        return " ".join(f"{self.label}. {self.description or ''}".split())


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).split())


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    """Header (trimmed, case-folded) -> the frame's own column name."""
    return {str(c).strip().casefold(): c for c in frame.columns}


def reason_codes(
    frame: pd.DataFrame,
    *,
    label_column: str = "label",
    description_column: str = "description",
    threshold: float = 0.5,
    row_word: str = "line",
    first_row: int = 2,
) -> list[ReasonCode]:
    """The codes of ``frame`` (one per row), or a `TaxonomyError` that lists every row that
    cannot be one: an empty or over-long name, a name given twice (case and spacing ignored:
    they would be two themes no reader could tell apart), a threshold that is not a cosine
    similarity in (0, 1]. ``threshold`` is used where the row gives none. Rows are called
    ``row_word`` + number from ``first_row`` (a file's line under its header; the API's
    "code 1")."""
    if not 0.0 < threshold <= 1.0:
        raise TaxonomyError("the threshold is a cosine similarity in (0, 1]")
    columns = _columns(frame)
    if label_column.strip().casefold() not in columns:
        have = ", ".join(str(c) for c in frame.columns) or "none"
        raise TaxonomyError(
            f"no column {label_column!r} for the codes' names (the file's columns: {have}); "
            "name it with --label-column"
        )
    label_col = columns[label_column.strip().casefold()]
    description_col = columns.get(description_column.strip().casefold())
    threshold_col = columns.get(THRESHOLD_COLUMN)
    parent_col = columns.get(PARENT_COLUMN)
    codes: list[ReasonCode] = []
    problems: list[str] = []
    first_line: dict[str, str] = {}
    for row, record in enumerate(frame.to_dict(orient="records")):
        line = f"{row_word} {row + first_row}"
        try:
            label = clean_label(_cell(record[label_col]))
        except TaxonomyError as exc:
            problems.append(f"{line}: {exc}")
            continue
        key = label.casefold()
        if key in first_line:
            problems.append(f"{line}: {label!r} is already the name of {first_line[key]}")
            continue
        first_line[key] = line
        own = threshold
        if threshold_col is not None and _cell(record[threshold_col]):
            try:
                own = float(_cell(record[threshold_col]))
            except ValueError:
                own = math.nan
            if not 0.0 < own <= 1.0:  # NaN fails too
                problems.append(
                    f"{line}: threshold {_cell(record[threshold_col])!r} is not a cosine "
                    "similarity in (0, 1]"
                )
                continue
        description = _cell(record[description_col]) if description_col is not None else ""
        parent = _cell(record[parent_col]) if parent_col is not None else ""
        codes.append(ReasonCode(label, description[:1000] or None, own, parent[:120] or None))
    if problems:
        more = len(problems) - MAX_LISTED
        listed = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise TaxonomyError(f"{len(problems)} of {len(frame)} codes cannot be made: {listed}")
    if not codes:
        raise TaxonomyError("the file holds no reason codes")
    return codes
