"""Example cases per theme for SOP authors: a handful of real, redacted contacts to write from.

Four kinds: `representative` (near the theme's centre, no near-duplicates, cases with a
resolution note preferred, so the author sees what the fix looked like), `recent` (newest
first), `escalated` (the theme's escalated cases, most representative first) and `repeat`
(whole repeat chains of the theme's problem, first contact to last, so the author sees what the
first answer failed to settle). A case is a conversation, shown by its opening message: turns
inside one (a reply, a transfer) are never cases of their own. Only the redacted text leaves
the store; contact ids let the author open the original in the CRM.

Every case anyone reads (`rca examples`, the API, the dashboard, the e-mail) is built by
`example_cases`, so this is where the person-facing redaction runs (`rca.text.audience`: names
and addresses by NER on top of the patterns the store already applied), once, for all of them.

The representative pick reuses the theme model's MMR (`rca.cluster.representatives`); without
embeddings it falls back to the stored similarity to the centroid. Pure: frames in, frames
and text out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import tzinfo
from itertools import zip_longest
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from rca.cluster.representatives import PREFER_BONUS, normalise_text, representative_indices
from rca.text.audience import RedactionPolicy

REPRESENTATIVE, RECENT, ESCALATED, REPEAT_CHAINS = "representative", "recent", "escalated", "repeat"
KINDS = (REPRESENTATIVE, RECENT, ESCALATED, REPEAT_CHAINS)
#: MMR trade-off and near-duplicate cut, as used for the themes' stored representatives.
DIVERSITY = 0.3
DEDUP_THRESHOLD = 0.95
UTF8_BOM = "\ufeff"
#: Free-text columns of a case: what the person-facing redaction covers.
PEOPLE_TEXT_COLUMNS = ("text", "resolution")
#: A cell starting with one of these is a formula to a spreadsheet; quote it with a leading '.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CASE_COLUMNS = [
    "kind",
    "rank",
    "contact_id",
    "created_at",
    "theme_id",
    "channel",
    "is_escalation",
    "handle_time_s",
    "resolution",
    "csat",
    "similarity",
    "repeat_status",
    "chain_id",
    "chain_pos",
    "days_since_previous",
    "text",
]


T = TypeVar("T")


def in_turn(per_theme: Sequence[Sequence[T]], n: int) -> list[T]:
    """A parent group's cases from its themes' lists: each theme's first, then each one's
    second..., the first ``n``; so one large theme does not fill the group's cases."""
    return [c for round_ in zip_longest(*per_theme) for c in round_ if c is not None][:n]


def _has_note(frame: pd.DataFrame) -> np.ndarray:
    if "resolution" not in frame.columns:
        return np.zeros(len(frame), bool)
    note = frame["resolution"].astype("string").fillna("").str.strip()
    return (note != "").to_numpy(dtype=bool)


def _pick_representative(
    members: pd.DataFrame, vectors: np.ndarray | None, centroid: np.ndarray | None, n: int
) -> list[int]:
    """Positions in `members`: MMR over embeddings, else stored similarity with text dedup."""
    prefer = _has_note(members)
    texts = members["text"].astype(str).tolist()
    if vectors is not None and centroid is not None and len(members):
        picked = representative_indices(
            vectors,
            np.zeros(len(members), np.int64),
            np.asarray(centroid, dtype=np.float32)[None, :],
            0,
            n=n,
            diversity=DIVERSITY,
            dedup_threshold=DEDUP_THRESHOLD,
            prefer=prefer,
            texts=texts,
        )
        return picked
    similarity = (
        members["similarity"].astype(float).fillna(-1.0).to_numpy()
        if "similarity" in members
        else np.zeros(len(members))
    )
    relevance = similarity + PREFER_BONUS * prefer
    order = np.lexsort((np.arange(len(members)), -relevance))
    return _first_distinct(order, texts, n)


def _first_distinct(order: Sequence[int], texts: Sequence[str], n: int) -> list[int]:
    seen: set[str] = set()
    out: list[int] = []
    for i in order:
        key = normalise_text(texts[i])
        if key in seen:
            continue
        seen.add(key)
        out.append(int(i))
        if len(out) == n:
            break
    return out


def example_cases(
    frame: pd.DataFrame,
    theme_id: str,
    *,
    kind: str = REPRESENTATIVE,
    n: int = 10,
    vectors: np.ndarray | None = None,
    centroid: np.ndarray | None = None,
    policy: RedactionPolicy | None = None,
) -> pd.DataFrame:
    """Up to `n` cases of `theme_id` (for `repeat`: up to `n` whole chains), in reading order.

    The cases' text and resolution are redacted for people under `policy` (default: the
    strictest level), so no caller can show a case that skipped it.

    `frame` is the analysis frame, ideally after `rca.repeats.detect.detect_repeats` (needed for
    `repeat`). `vectors` (aligned with `frame`, L2-normalised) and the theme's `centroid` enable
    the MMR pick. Columns: CASE_COLUMNS plus the frame's `dim_*` columns.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if vectors is not None and len(vectors) != len(frame):
        raise ValueError(f"{len(vectors)} vectors for {len(frame)} rows")
    frame = frame.reset_index(drop=True)
    in_theme = (frame["theme_id"] == theme_id).fillna(False).to_numpy(dtype=bool)
    if "repeat_status" in frame.columns:
        # a case is a conversation, shown by the message that opened it: its later turns
        # ("DM sent", a transfer) would show one conversation many times
        in_theme = in_theme & (frame["repeat_status"] != "continuation").to_numpy(dtype=bool)
    if kind == REPEAT_CHAINS:
        rows = _chain_rows(frame, theme_id, n)
    elif kind == RECENT:
        members = np.flatnonzero(in_theme)
        created = pd.to_datetime(frame["created_at"], utc=True).to_numpy()[members]
        order = np.lexsort((frame["contact_id"].to_numpy()[members], created))[::-1]
        texts = frame["text"].astype(str).to_numpy()[members]
        rows = members[_first_distinct(order, texts, n)]
    else:
        if kind == ESCALATED:
            escalated = frame["is_escalation"].fillna(False).astype(bool).to_numpy()
            in_theme = in_theme & escalated
        members = np.flatnonzero(in_theme)
        sub = None if vectors is None else vectors[members]
        rows = members[_pick_representative(frame.iloc[members], sub, centroid, n)]
    cases = _case_frame(frame, np.asarray(rows, dtype=np.int64), kind)
    return for_people(cases, policy or RedactionPolicy())


def for_people(cases: pd.DataFrame, policy: RedactionPolicy) -> pd.DataFrame:
    """The cases' free text (text, resolution) as a person may read it."""
    cases = cases.copy()
    for column in PEOPLE_TEXT_COLUMNS:
        cases[column] = policy.redact_series(cases[column].astype(object))
    return cases


def _chain_rows(frame: pd.DataFrame, theme_id: str, n: int) -> np.ndarray:
    """Rows of the theme's `n` chains with the most repeats (newest first on ties), in order."""
    if "chain_id" not in frame.columns:
        raise ValueError("repeat examples need the frame after rca.repeats.detect.detect_repeats")
    # each conversation of the chain by its opening message: the earlier conversation's first
    # message beside the return, not every "still waiting" in between
    chained = frame.loc[
        frame["chain_id"].notna()
        & (frame["problem_theme_id"] == theme_id)
        & (frame["repeat_status"] != "continuation")
    ]
    if chained.empty:
        return np.zeros(0, np.int64)
    stats = chained.groupby("chain_id").agg(
        repeats=("repeat_status", lambda s: int((s == "repeat").sum())),
        last=("created_at", "max"),
    )
    top = stats.sort_values(["repeats", "last"], ascending=[False, False]).head(n).index
    rank = {chain: i for i, chain in enumerate(top)}
    picked = chained.loc[chained["chain_id"].isin(top)]
    order = np.lexsort((picked["chain_pos"].to_numpy(), picked["chain_id"].map(rank).to_numpy()))
    return picked.index.to_numpy()[order]


def _case_frame(frame: pd.DataFrame, rows: np.ndarray, kind: str) -> pd.DataFrame:
    dims = [c for c in frame.columns if c.startswith("dim_")]
    cases = frame.iloc[rows].copy()
    for column in CASE_COLUMNS:
        if column not in cases.columns and column not in ("kind", "rank"):
            cases[column] = None
    cases["kind"] = kind
    cases["rank"] = np.arange(1, len(cases) + 1)
    return cases[CASE_COLUMNS + dims].reset_index(drop=True)


def case_records(cases: pd.DataFrame) -> list[dict[str, Any]]:
    """Cases as JSON-able records with the dimensions nested (`rca examples --format json`).

    A dimension none of these cases has a value for (a field never mapped) is left out.
    """
    dims = [c for c in cases.columns if c.startswith("dim_") and cases[c].notna().any()]
    records = []
    for row in cases.to_dict(orient="records"):
        record = {c: _known(row[c]) for c in CASE_COLUMNS}
        record["dimensions"] = {d.removeprefix("dim_"): _known(row[d]) for d in dims}
        records.append(record)
    return records


def _known(value: Any) -> Any:
    """None for a missing value (NaN, NA, NaT), which pages and JSON would show as `nan`."""
    missing = value is None or value is pd.NA or value is pd.NaT
    return None if missing or (isinstance(value, float) and np.isnan(value)) else value


def _csv_cell(value: Any, tz: tzinfo | None = None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp):
        # ISO 8601 with the service's offset: "2023-05-09T00:00:00+01:00" is the day the
        # export says; "2023-05-08T23:00:00+00:00" read as the 8th in a spreadsheet
        return (value.tz_convert(tz) if tz is not None and value.tzinfo else value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    text = str(value)
    return spreadsheet_safe(text) if isinstance(value, str) else text


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text: one that starts like a formula gets the apostrophe
    OWASP advises against CSV injection (`spreadsheet_value` takes it off again)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def spreadsheet_value(text: str) -> str:
    """`spreadsheet_safe` undone: a table rca wrote, read back, is what was written."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def cases_to_csv(cases: pd.DataFrame, *, bom: bool = False, tz: tzinfo | None = None) -> str:
    """CSV that a spreadsheet opens cleanly: every field quoted (newlines inside texts stay in
    their cell), CRLF row ends, optional UTF-8 byte-order mark so Excel reads UTF-8,
    formula-like cells neutralised, and timestamps in ``tz`` (the service's zone)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(list(cases.columns))
    for row in cases.itertuples(index=False):
        writer.writerow([_csv_cell(v, tz) for v in row])
    return (UTF8_BOM if bom else "") + buffer.getvalue()
