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
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rca.cluster.model import nearest
from rca.cluster.taxonomy import MAX_LABEL_CHARS, TaxonomyError, clean_label
from rca.repeats.examples import spreadsheet_value

#: Optional columns beside the name and description, read by these names.
THRESHOLD_COLUMN = "threshold"
PARENT_COLUMN = "parent_group"
#: Problems listed before the rest are counted.
MAX_LISTED = 10
#: Thresholds at which a preview counts what each code would take: the range in which codes
#: seeded by name take between nearly all and nearly none of a set's contacts on the four
#: labelled sets (`experiments/reason_code_probe.py`).
LADDER = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass(frozen=True)
class ReasonCode:
    """One code: the created theme's name, what it covers (embedded with the name), the cosine
    similarity a contact needs to join it, and its parent group."""

    label: str
    description: str | None
    threshold: float
    parent_group: str | None = None
    #: A code made from the contacts already coded with it: their mean unit vector (then
    #: nothing is embedded) and how many they are.
    centroid: tuple[float, ...] | None = field(default=None, repr=False, compare=False)
    coded: int = 0
    #: The coded contacts' ids, to say how many of them the code then takes.
    members: tuple[str, ...] = field(default=(), repr=False, compare=False)
    #: Where the code came from, as the created theme's edit records it.
    source: str = "reason code"

    @property
    def text(self) -> str:
        """What is embedded: the name, then the description, as `rca taxonomy create` does."""
        return " ".join(f"{self.label}. {self.description or ''}".split())


def cell_text(value: object) -> str:
    """A cell of a table a person wrote, as text, its whitespace collapsed. The apostrophe that
    rca's spreadsheet-safe downloads put before a formula-like value ("'=Refund", a phone-number
    contact id "'+447700900123") is taken off again, so a download read back is what was
    written and applied as it is changes nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return spreadsheet_value(" ".join(str(value).split()))


def header_map(frame: pd.DataFrame) -> dict[str, str]:
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
    columns = header_map(frame)
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
            label = clean_label(cell_text(record[label_col]))
        except TaxonomyError as exc:
            problems.append(f"{line}: {exc}")
            continue
        key = label.casefold()
        if key in first_line:
            problems.append(f"{line}: {label!r} is already the name of {first_line[key]}")
            continue
        first_line[key] = line
        own = threshold
        if threshold_col is not None and cell_text(record[threshold_col]):
            try:
                own = float(cell_text(record[threshold_col]))
            except ValueError:
                own = math.nan
            if not 0.0 < own <= 1.0:  # NaN fails too
                problems.append(
                    f"{line}: threshold {cell_text(record[threshold_col])!r} is not a cosine "
                    "similarity in (0, 1]"
                )
                continue
        description = cell_text(record[description_col]) if description_col is not None else ""
        parent = cell_text(record[parent_col]) if parent_col is not None else ""
        codes.append(ReasonCode(label, description[:1000] or None, own, parent[:120] or None))
    if problems:
        more = len(problems) - MAX_LISTED
        listed = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise TaxonomyError(f"{len(problems)} of {len(frame)} codes cannot be made: {listed}")
    if not codes:
        raise TaxonomyError("the file holds no reason codes")
    return codes


def takes_at(
    unit_rows: np.ndarray, codes: np.ndarray, thresholds: tuple[float, ...] = LADDER
) -> np.ndarray:
    """Contacts each code would take (codes x thresholds) if every code had that threshold:
    a contact goes to its most similar code (the earlier on ties) when it is at least that
    similar, as `rca.cluster.taxonomy.route` routes created themes.

    Why: one threshold rarely suits every code, and the right one depends on how customers
    word a problem against how the team's list names it (on Banking77 a code's name takes 89 %
    of contacts at 0.5, on the CFPB narratives 48 %). Counts at a few thresholds side by side
    show which codes take nearly everything or nothing, before anyone commits to them.
    ``unit_rows`` and ``codes`` are unit vectors; themes created before are left aside."""
    out = np.zeros((len(codes), len(thresholds)), dtype=np.int64)
    if not len(codes) or not len(unit_rows):
        return out
    code, best = nearest(unit_rows, codes)
    for j, threshold in enumerate(thresholds):
        out[:, j] = np.bincount(code[best >= threshold], minlength=len(codes))
    return out


@dataclass(frozen=True)
class CodedValues:
    """What `codes_from_labels` made of an attribute: the codes, and the values it left out
    for too few contacts, with their counts, so nothing is dropped silently."""

    codes: list[ReasonCode]
    too_few: dict[str, int]


def codes_from_labels(
    unit_rows: np.ndarray,
    labels: list[str | None] | np.ndarray,
    contact_ids: list[str] | np.ndarray,
    *,
    threshold: float = 0.5,
    min_contacts: int = 5,
    source: str = "reason code",
) -> CodedValues:
    """A code per value of an attribute the contacts already carry (a CRM's disposition or
    wrap-up code), made from the contacts coded with it: their mean unit vector.

    Why: a code's name alone sits far from how customers write (the CFPB issue names are the
    right issue for 19 % of the complaints they take at 0.5); the mean of the contacts a team
    already coded is where those contacts are. With a fifth of each labelled set coded this way
    (`experiments/reason_code_probe.py --from-labels 0.2`), the nearest code is right for 0.80
    / 0.95 / 0.88 / 0.35 of the other contacts it takes on Banking77 / Bitext / HWU64 / CFPB,
    against 0.65 / 0.87 / 0.78 / 0.19 for the names. Spellings that differ in case or spacing
    are one code (named as most contacts write it); a value with fewer than ``min_contacts``
    contacts has too little to average and is listed in ``too_few`` instead."""
    if min_contacts < 1:
        raise TaxonomyError("min_contacts is at least 1")
    if not 0.0 < threshold <= 1.0:
        raise TaxonomyError("the threshold is a cosine similarity in (0, 1]")
    if not len(labels) == len(contact_ids) == len(unit_rows):
        raise ValueError("one label and one contact id per row")
    names = np.asarray([cell_text(v) for v in labels], dtype=object)
    keys = np.asarray([n.casefold() for n in names], dtype=object)
    codes: list[ReasonCode] = []
    too_few: dict[str, int] = {}
    for key in sorted({k for k in keys if k}):
        rows = np.flatnonzero(keys == key)
        spelling = Counter(names[rows]).most_common(1)[0][0]
        label = clean_label(spelling[:MAX_LABEL_CHARS])  # a theme name's limit
        if len(rows) < min_contacts:
            too_few[spelling] = len(rows)
            continue
        mean = unit_rows[rows].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        if not norm > 0:
            too_few[spelling] = len(rows)
            continue
        codes.append(ReasonCode(
            label, None, threshold, None, tuple(float(v) for v in mean / norm), len(rows),
            tuple(str(contact_ids[i]) for i in rows), source,
        ))  # fmt: skip
    return CodedValues(codes, too_few)
