"""`rca ingest`: read, map, validate and prepare every file in memory, then write once.

File-level problems (missing file, unreadable format, a mapping naming absent columns) raise
before the store is opened, so they write nothing. Row-level problems go to the quarantine.
All files of one command are written in a single transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from rca.ingest.dimensions import (
    DimensionChoice,
    DimensionLimits,
    DimensionStats,
    choose_dimensions,
    dimension_stats,
)
from rca.ingest.mapping import (
    Mapping,
    apply_mapping,
    default_mapping,
    load_mapping,
    normalise_name,
)
from rca.ingest.prepare import prepare_context, prepare_rows
from rca.ingest.read import LINE, RawTable, expand_paths, read_file
from rca.ingest.validate import Rules, validate
from rca.settings import Settings
from rca.store import Store
from rca.store.contacts import (
    UpsertCounts,
    dimension_decisions,
    dimension_value_stats,
    log_ingest,
    quarantine_rows,
    record_dimension_decisions,
    undecided_dimensions,
    upsert_contacts,
    upsert_context,
)
from rca.text.audience import RedactionPolicy
from rca.text.redact import redact


@dataclass
class FileSummary:
    file: str
    encoding: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    truncated: int = 0
    naive_timestamps: int = 0
    notes: list[str] = field(default_factory=list)
    #: how 01/02/2026-style dates were read ("day first" | "month first"), if the file had any
    date_order: str | None = None
    #: the file's columns kept as dimensions, and those set aside with the reason
    dimensions: list[str] = field(default_factory=list)
    set_aside: dict[str, str] = field(default_factory=dict)
    #: the company's own messages kept as conversation context (not contacts)
    context_messages: int = 0


@dataclass
class IngestSummary:
    ingest_id: str
    files: list[FileSummary]
    seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        keys = ("read", "inserted", "updated", "unchanged", "quarantined", "truncated")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_dict(self) -> dict[str, object]:
        return {
            "ingest_id": self.ingest_id,
            "seconds": round(self.seconds, 3),
            "totals": self.totals(),
            "files": [asdict(f) for f in self.files],
        }


@dataclass
class _Planned:
    raw: RawTable
    contacts: pd.DataFrame
    dims: pd.DataFrame
    rejects: pd.DataFrame  # line, raw, reason
    summary: FileSummary
    limits: DimensionLimits = field(default_factory=DimensionLimits)
    explicit_dims: frozenset[str] = frozenset()  # named by the mapping: first to be kept
    unfit_dims: dict[str, str] = field(default_factory=dict)  # JSON objects/lists: set aside
    context: pd.DataFrame = field(default_factory=pd.DataFrame)  # outbound messages


def _raw_json(frame: pd.DataFrame, index: pd.Index, *, keep_raw: bool, digits: int) -> list[str]:
    records = frame.loc[index].drop(columns=[LINE]).to_dict(orient="records")
    texts = [json.dumps(r, ensure_ascii=False) for r in records]
    return texts if keep_raw else [redact(t, min_digit_run=digits) for t in texts]


def plan_file(
    raw: RawTable, mapping: Mapping | None, settings: Settings, now: datetime
) -> _Planned:
    """Everything about one file except the write: pure apart from reading settings."""
    active = mapping or default_mapping(list(raw.frame.columns))
    canonical, formats = apply_mapping(raw.frame, active)
    rules = Rules(
        tz=settings.tz,
        now=now,
        max_text_chars=settings.max_text_chars,
        min_year=settings.min_year,
        max_future_days=settings.max_future_days,
        date_order=active.date_order,
    )
    checked = validate(canonical, formats, rules)
    typed_rows, unfit_dims = structured_values(raw, active)
    if typed_rows:
        moved = checked.valid[LINE].isin(typed_rows)
        extra = pd.DataFrame(
            {
                LINE: checked.valid.loc[moved, LINE],
                "reason": ["; ".join(typed_rows[n]) for n in checked.valid.loc[moved, LINE]],
            }
        )
        checked.rejects = pd.concat([checked.rejects, extra])
        checked.valid = checked.valid.loc[~moved]
    outbound = ~checked.valid["inbound"].astype(bool)
    context = prepare_context(
        checked.valid.loc[outbound], policy=RedactionPolicy.from_settings(settings, "ingest")
    )
    context["source_file"] = str(raw.path)
    checked.valid = checked.valid.loc[~outbound]
    contacts, dims = prepare_rows(
        checked.valid,
        policy=RedactionPolicy.from_settings(settings, "ingest"),
        keep_raw_text=settings.keep_raw_text,
    )
    contacts["source_file"] = str(raw.path)
    keep_raw, digits = settings.keep_raw_text, settings.redact_min_digit_run
    row_rejects = pd.DataFrame(
        {
            "line": checked.rejects[LINE].astype("int64"),
            "raw": _raw_json(raw.frame, checked.rejects.index, keep_raw=keep_raw, digits=digits),
            "reason": checked.rejects["reason"],
        }
    )
    parse_rejects = pd.DataFrame(
        [
            (line, text if keep_raw else redact(text, min_digit_run=digits), reason)
            for line, text, reason in raw.rejects
        ],
        columns=["line", "raw", "reason"],
    )
    rejects = pd.concat([parse_rejects, row_rejects], ignore_index=True).sort_values("line")
    notes = list(raw.notes)
    if mapping is not None:
        notes.append(f"mapping {mapping.name}")
    if checked.naive_timestamps:
        notes.append(
            f"{checked.naive_timestamps} timestamps without zone read as {settings.timezone}"
        )
    if checked.date_order:
        notes.append(checked.date_order.note())
    if len(context):
        notes.append(
            f"{len(context)} company/agent messages (direction outbound) kept as conversation "
            "context, not counted as contacts"
        )
    if reused := reused_conversation_ids(checked.valid):
        notes.append(
            f"{reused} conversation ids are used by more than one customer: each customer's "
            "messages are kept as a conversation of their own"
        )
    if checked.truncated:
        notes.append(f"{checked.truncated} texts over {settings.max_text_chars} chars truncated")
    summary = FileSummary(
        file=str(raw.path),
        encoding=raw.encoding,
        read=len(raw.frame) + len(raw.rejects),
        quarantined=len(rejects),
        truncated=checked.truncated,
        naive_timestamps=checked.naive_timestamps,
        notes=notes,
        date_order=checked.date_order.order if checked.date_order else None,
    )
    limits = DimensionLimits(
        max_count=settings.dimension_max_count,
        max_values=settings.dimension_max_values,
        max_unique_share=settings.dimension_max_unique_share,
        max_value_chars=settings.dimension_max_value_chars,
        min_rows=settings.dimension_min_rows,
    )
    explicit = frozenset(mapping.dimensions) if mapping is not None else frozenset()
    summary.context_messages = len(context)
    return _Planned(raw, contacts, dims, rejects, summary, limits, explicit, unfit_dims, context)


def reused_conversation_ids(valid: pd.DataFrame) -> int:
    """How many conversation ids more than one customer wrote under (an export recycling
    thread numbers, or two customers in one group thread)."""
    known = valid.loc[valid["conversation_id"].notna() & valid["customer_id"].notna()]
    if known.empty:
        return 0
    return int((known.groupby("conversation_id")["customer_id"].nunique() > 1).sum())


#: Fields whose value is text: a JSON object, list or boolean there is not what it claims.
TEXT_FIELDS = ("contact_id", "created_at", "text", "customer_id", "channel", "resolution")


def structured_values(
    raw: RawTable, mapping: Mapping
) -> tuple[dict[int, list[str]], dict[str, str]]:
    """Rows whose text fields hold JSON objects, lists or booleans (line -> reasons), and
    dimensions holding objects or lists (name -> reason): never silently turned into text."""
    rows: dict[int, list[str]] = {}
    for name in TEXT_FIELDS:
        source = mapping.fields.get(name)
        for column in source.columns if source else ():
            for line, kind in raw.typed.get(column, {}).items():
                rows.setdefault(line, []).append(f"{name} is a JSON {kind}, not text")
    fields = {c for s in mapping.fields.values() for c in s.columns}
    named = {column: dim for dim, column in mapping.dimensions.items()}
    unfit: dict[str, str] = {}
    for column, kinds in raw.typed.items():
        nested = sorted({k for k in kinds.values() if k != "boolean"})
        if nested and (column in named or column not in fields):
            dim = named.get(column, normalise_name(column))
            unfit[dim] = f"holds JSON {' and '.join(k + 's' for k in nested)}, not values"
    return rows, unfit


def _choose_in_store(con: duckdb.DuckDBPyConnection, plan: _Planned) -> DimensionChoice:
    """Judge the file's dimensions on all their stored values (this file's just written), and
    any the store holds undecided from before decisions were recorded (they came first)."""
    known = dimension_decisions(con)
    in_file = list(dict.fromkeys(plan.dims["name"].astype(str)))
    names = [n for n in undecided_dimensions(con) if n not in in_file] + in_file
    open_names = [n for n in names if known.get(n) is None]
    stats = dimension_stats(plan.dims)  # what the store no longer holds: the file's own
    for row in dimension_value_stats(con, open_names).itertuples(index=False):
        stats[row.name] = DimensionStats(
            int(row.rows), int(row.distinct_values), float(row.mean_chars)
        )
    stats = {n: stats[n] for n in names}
    return choose_dimensions(
        stats, known=known, explicit=plan.explicit_dims, forced=plan.unfit_dims, limits=plan.limits
    )


def _dimension_note(aside: dict[str, str]) -> str | None:
    if not aside:
        return None
    listed = "; ".join(f"{name}: {why}" for name, why in aside.items())
    return f"{len(aside)} column(s) set aside, not dimensions ({listed})"


def write_plan(
    con: duckdb.DuckDBPyConnection, plan: _Planned, *, ingest_id: str, now: datetime
) -> UpsertCounts:
    """Upsert one planned file's contacts, quarantine its rejects, log it; fills its summary.

    The caller owns the transaction (files of one `rca ingest` and an API batch alike).
    """
    known = dimension_decisions(con)
    set_aside_before = [n for n, why in known.items() if why is not None]
    dims = plan.dims.loc[~plan.dims["name"].isin([*set_aside_before, *plan.unfit_dims])]
    counts = upsert_contacts(con, plan.contacts, dims, ingest_id=ingest_id, now=now)
    upsert_context(con, plan.context, ingest_id=ingest_id, now=now)
    choice = _choose_in_store(con, plan)
    decided = [d for d in choice.decisions.values() if d.name not in set_aside_before]
    record_dimension_decisions(
        con,
        pd.DataFrame(
            {
                "name": [d.name for d in decided],
                "kept": [d.kept for d in decided],
                "reason": [d.reason for d in decided],
                "n_rows": [d.stats.rows for d in decided],
                "n_values": [d.stats.values for d in decided],
                "mean_chars": [d.stats.mean_chars for d in decided],
            }
        ),
        now=now,
    )
    quarantine_rows(
        con,
        plan.rejects,
        file=str(plan.raw.path),
        file_sha256=plan.raw.sha256,
        ingest_id=ingest_id,
        now=now,
    )
    summary = plan.summary
    summary.inserted, summary.updated = counts.inserted, counts.updated
    summary.unchanged = counts.unchanged
    in_file = set(plan.dims["name"].astype(str))
    summary.dimensions = [n for n in choice.kept if n in in_file]
    summary.set_aside = {n: why for n, why in choice.set_aside.items() if n in in_file}
    if note := _dimension_note(summary.set_aside):
        summary.notes.append(note)
    log_ingest(
        con,
        {
            "ingest_id": ingest_id,
            "file": summary.file,
            "file_sha256": plan.raw.sha256,
            "encoding": summary.encoding,
            "started_at": now,
            "finished_at": datetime.now(UTC),
            "rows_read": summary.read,
            "inserted": summary.inserted,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "quarantined": summary.quarantined,
            "notes": "; ".join(summary.notes),
        },
    )
    return counts


def ingest_paths(
    specs: list[str],
    settings: Settings,
    *,
    mapping_spec: str | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestSummary:
    """Ingest files, folders or globs into the store in one transaction."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    say = progress or (lambda _msg: None)
    mapping = load_mapping(mapping_spec) if mapping_spec else None
    planned = []
    for path in expand_paths(specs):
        say(f"reading {path}")
        planned.append(plan_file(read_file(Path(path)), mapping, settings, now))
    ingest_id = uuid.uuid4().hex[:12]
    total_rows = sum(len(p.contacts) for p in planned)
    say(f"writing {total_rows} rows to {settings.store_path}")
    with Store(settings.store_path).write() as con:
        for plan in planned:
            write_plan(con, plan, ingest_id=ingest_id, now=now)
    return IngestSummary(ingest_id, [p.summary for p in planned], time.perf_counter() - started)
