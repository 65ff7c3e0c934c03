"""`rca ingest`: read, map, validate, prepare and write every file, a chunk at a time.

A first pass over each file (`scan_file`) reads it chunk by chunk for what only the whole
file can tell: its hash, encoding, columns, structured values and the evidence for its
day/month order; file-level problems (missing file, unreadable format, a mapping naming
absent columns) raise there, before the store is opened, so they write nothing. Then every
file is read again `RCA_INGEST_CHUNK_ROWS` rows at a time and each chunk validated, redacted
and upserted inside ONE transaction for the whole command (a killed ingest leaves the store as
it was); what spans chunks (contact ids already seen, brand handles, conversation ids shared by
customers) is kept in temporary tables of that transaction, not in Python memory, and the
file's dimensions are chosen once its last chunk is written. A file that fits in one chunk is
read once. Row-level problems go to the quarantine.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from rca.errors import RcaError
from rca.ingest.dimensions import (
    DimensionChoice,
    DimensionLimits,
    DimensionStats,
    choose_dimensions,
    dimension_stats,
)
from rca.ingest.mapping import (
    DIM_PREFIX,
    Mapping,
    apply_mapping,
    check_mapping,
    created_at_text,
    load_mapping,
    mapping_for,
    normalise_name,
)
from rca.ingest.prepare import (
    addressed_handles,
    brand_handles,
    prepare_context,
    prepare_rows,
)
from rca.ingest.read import JSONL_SUFFIXES, LINE, FileReader, RawTable, expand_paths
from rca.ingest.validate import DateEvidence, DateOrder, Rules, date_evidence, validate
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
from rca.text.counted import counted
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
    #: contacts whose created_at is a date with no time of day
    dates_without_time: int = 0
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
    #: a chunk's share of what the pipeline decides for the whole file (None: a whole file)
    handles: pd.DataFrame | None = None  # contact_id, handle, author: for `addressed_to`
    pairs: pd.DataFrame | None = None  # conversation_id, customer_id: for the reuse note
    dim_order: list[str] = field(default_factory=list)  # the file's dimension columns
    naive_timestamps: int = 0
    date_order: DateOrder | None = None


@dataclass(frozen=True)
class WholeFile:
    """What a chunk of a larger file needs to know of the whole file to be planned as the
    whole file would be: its date evidence, its structured columns, and (a callback onto
    the command's transaction) where its contact ids first appeared in earlier chunks."""

    dates: DateEvidence
    typed_kinds: dict[str, set[str]]
    #: (contact_id, line) of a chunk's first occurrences -> line of those an earlier chunk held
    earlier: Callable[[pd.DataFrame], pd.Series]


def _raw_json(frame: pd.DataFrame, index: pd.Index, *, keep_raw: bool, digits: int) -> list[str]:
    records = frame.loc[index].drop(columns=[LINE]).to_dict(orient="records")
    texts = [json.dumps(r, ensure_ascii=False) for r in records]
    return texts if keep_raw else [redact(t, min_digit_run=digits) for t in texts]


def plan_file(
    raw: RawTable,
    mapping: Mapping | None,
    settings: Settings,
    now: datetime,
    *,
    whole: WholeFile | None = None,
) -> _Planned:
    """Everything about one file (or, with `whole`, one chunk of it) except the write: pure
    apart from reading settings and the `whole.earlier` callback."""
    active = mapping_for(mapping, list(raw.frame.columns))
    canonical, formats = apply_mapping(raw.frame, active)
    rules = Rules(
        tz=settings.tz,
        now=now,
        max_text_chars=settings.max_text_chars,
        min_year=settings.min_year,
        max_future_days=settings.max_future_days,
        date_order=active.date_order,
    )
    earlier = None
    if whole is not None:
        ids = canonical["contact_id"].astype(str).str.strip()
        firsts = pd.DataFrame({"contact_id": ids, "line": canonical[LINE].astype("int64")})
        earlier = whole.earlier(firsts.loc[ids != ""].drop_duplicates("contact_id"))
    checked = validate(
        canonical,
        formats,
        rules,
        file_dates=whole.dates if whole is not None else None,
        earlier=earlier,
    )
    kinds = (
        whole.typed_kinds
        if whole is not None
        else {column: set(lines.values()) for column, lines in raw.typed.items()}
    )
    typed_rows = structured_rows(raw, active)
    unfit_dims = unfit_dimensions(kinds, active)
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
        address=whole is None,
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
    notes = file_notes(
        raw.notes,
        mapping,
        settings,
        naive_timestamps=checked.naive_timestamps,
        date_order=checked.date_order,
        dates_without_time=checked.dates_without_time,
        valid=len(checked.valid),
        context_messages=len(context),
        reused=reused_conversation_ids(checked.valid) if whole is None else 0,
        truncated=checked.truncated,
    )
    summary = FileSummary(
        file=str(raw.path),
        encoding=raw.encoding,
        read=len(raw.frame) + len(raw.rejects),
        quarantined=len(rejects),
        truncated=checked.truncated,
        naive_timestamps=checked.naive_timestamps,
        dates_without_time=checked.dates_without_time,
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
    planned = _Planned(raw, contacts, dims, rejects, summary, limits, explicit, unfit_dims, context)
    planned.naive_timestamps, planned.date_order = checked.naive_timestamps, checked.date_order
    planned.dim_order = [
        c.removeprefix(DIM_PREFIX) for c in canonical.columns if c.startswith(DIM_PREFIX)
    ]
    if whole is not None:
        planned.handles = addressed_handles(checked.valid)
        pairs = checked.valid.loc[
            checked.valid["conversation_id"].notna() & checked.valid["customer_id"].notna(),
            ["conversation_id", "customer_id"],
        ]
        planned.pairs = pairs.drop_duplicates()
    return planned


def file_notes(
    raw_notes: list[str],
    mapping: Mapping | None,
    settings: Settings,
    *,
    naive_timestamps: int,
    date_order: DateOrder | None,
    dates_without_time: int = 0,
    valid: int = 0,
    context_messages: int,
    reused: int,
    truncated: int,
) -> list[str]:
    """What the ingest summary says about a file, in a fixed order."""
    notes = list(raw_notes)
    if mapping is not None:
        notes.append(f"mapping {mapping.name}")
    if naive_timestamps:
        notes.append(f"{naive_timestamps} timestamps without zone read as {settings.timezone}")
    if dates_without_time and dates_without_time == valid:
        notes.append(
            "every created_at is a date without a time of day: each contact covers its whole "
            "day (no analysis finer than a day)"
        )
    elif dates_without_time:
        notes.append(
            f"{dates_without_time:,} of {valid:,} created_at values have no time of day: "
            "read as the day's first minute"
        )
    if date_order:
        notes.append(date_order.note())
    if context_messages:
        notes.append(
            f"{context_messages} company/agent messages (direction outbound) kept as "
            "conversation context, not counted as contacts"
        )
    if reused:
        notes.append(
            f"{reused} conversation ids are used by more than one customer: each customer's "
            "messages are kept as a conversation of their own"
        )
    if truncated:
        notes.append(f"{truncated} texts over {settings.max_text_chars} chars truncated")
    return notes


def reused_conversation_ids(valid: pd.DataFrame) -> int:
    """How many conversation ids more than one customer wrote under (an export recycling
    thread numbers, or two customers in one group thread)."""
    known = valid.loc[valid["conversation_id"].notna() & valid["customer_id"].notna()]
    if known.empty:
        return 0
    return int((known.groupby("conversation_id")["customer_id"].nunique() > 1).sum())


#: Fields whose value is text: a JSON object, list or boolean there is not what it claims.
TEXT_FIELDS = ("contact_id", "created_at", "text", "customer_id", "channel", "resolution")


def structured_rows(raw: RawTable, mapping: Mapping) -> dict[int, list[str]]:
    """Rows whose text fields hold JSON objects, lists or booleans (line -> reasons): never
    silently turned into text."""
    rows: dict[int, list[str]] = {}
    for name in TEXT_FIELDS:
        source = mapping.fields.get(name)
        for column in source.columns if source else ():
            for line, kind in raw.typed.get(column, {}).items():
                rows.setdefault(line, []).append(f"{name} is a JSON {kind}, not text")
    return rows


def unfit_dimensions(kinds: dict[str, set[str]], mapping: Mapping) -> dict[str, str]:
    """Dimensions whose column holds JSON objects or lists somewhere in the file (name ->
    reason), from each column's kinds of structured value."""
    fields = {c for s in mapping.fields.values() for c in s.columns}
    named = {column: dim for dim, column in mapping.dimensions.items()}
    unfit: dict[str, str] = {}
    for column, found in kinds.items():
        nested = sorted({k for k in found if k != "boolean"})
        if nested and (column in named or column not in fields):
            dim = named.get(column, normalise_name(column))
            unfit[dim] = f"holds JSON {' and '.join(k + 's' for k in nested)}, not values"
    return unfit


def _choose_in_store(
    con: duckdb.DuckDBPyConnection,
    in_file: list[str],
    file_stats: dict[str, DimensionStats],
    plan: _Planned,
) -> DimensionChoice:
    """Judge the file's dimensions on all their stored values (this file's just written), and
    any the store holds undecided from before decisions were recorded (they came first)."""
    known = dimension_decisions(con)
    names = [n for n in undecided_dimensions(con) if n not in in_file] + in_file
    open_names = [n for n in names if known.get(n) is None]
    stats = dict(file_stats)  # what the store no longer holds: the file's own
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
    return f"{counted(len(aside), 'column')} set aside, not dimensions ({listed})"


def write_rows(
    con: duckdb.DuckDBPyConnection,
    plan: _Planned,
    *,
    set_aside: list[str],
    ingest_id: str,
    now: datetime,
) -> UpsertCounts:
    """Upsert a planned file's (or chunk's) contacts and context, quarantine its rejects."""
    dims = plan.dims.loc[~plan.dims["name"].isin([*set_aside, *plan.unfit_dims])]
    counts = upsert_contacts(con, plan.contacts, dims, ingest_id=ingest_id, now=now)
    upsert_context(con, plan.context, ingest_id=ingest_id, now=now)
    quarantine_rows(
        con,
        plan.rejects,
        file=str(plan.raw.path),
        file_sha256=plan.raw.sha256,
        ingest_id=ingest_id,
        now=now,
    )
    return counts


def finish_file(
    con: duckdb.DuckDBPyConnection,
    plan: _Planned,
    *,
    in_file: list[str],
    file_stats: dict[str, DimensionStats],
    set_aside_before: list[str],
    ingest_id: str,
    now: datetime,
) -> None:
    """Once a file's rows are written: choose its dimensions, record them, log the file.

    `plan` carries the file's summary, sha, limits and explicit and unfit dimensions."""
    choice = _choose_in_store(con, in_file, file_stats, plan)
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
    summary = plan.summary
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


def _set_aside_before(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [n for n, why in dimension_decisions(con).items() if why is not None]


def write_plan(
    con: duckdb.DuckDBPyConnection, plan: _Planned, *, ingest_id: str, now: datetime
) -> UpsertCounts:
    """Upsert one planned file's contacts, quarantine its rejects, log it; fills its summary.

    The caller owns the transaction (files of one `rca ingest` and an API batch alike).
    """
    set_aside = _set_aside_before(con)
    counts = write_rows(con, plan, set_aside=set_aside, ingest_id=ingest_id, now=now)
    summary = plan.summary
    summary.inserted, summary.updated = counts.inserted, counts.updated
    summary.unchanged = counts.unchanged
    finish_file(
        con,
        plan,
        in_file=list(dict.fromkeys(plan.dims["name"].astype(str))),
        file_stats=dimension_stats(plan.dims),
        set_aside_before=set_aside,
        ingest_id=ingest_id,
        now=now,
    )
    return counts


@dataclass
class FileScan:
    """The first pass over a file: what only the whole file tells, and the file itself when
    it fits in one chunk (then it is read once)."""

    path: Path
    sha256: str
    encoding: str
    notes: list[str]
    columns: list[str]
    typed_kinds: dict[str, set[str]]
    dates: DateEvidence
    nullable_ints: set[str]
    rows: int  # records read, rejects included
    chunks: int
    whole: RawTable | None = None


def _layout(mapping: Mapping | None) -> dict[str, Any]:
    """Where a file's table is: the mapping's sheet and header row (FileReader's keywords)."""
    if mapping is None:
        return {}
    return {"sheet": mapping.sheet, "header_row": mapping.header_row}


def _check_columns(reader: FileReader, mapping: Mapping) -> None:
    """`check_mapping`, naming a workbook's other sheets when the columns are not there: a
    report whose data is on its second sheet would otherwise read as "no column for
    contact_id; file has ['Summary']"."""
    try:
        check_mapping(reader.columns, mapping)
    except RcaError as exc:
        if len(reader.sheets) > 1 and reader.sheet is None:
            raise RcaError(
                f"{exc}; {reader.path.name} has the sheets {reader.sheets} and the first was "
                "read: name the one to read with options.sheet in the mapping"
            ) from exc
        raise


def scan_file(path: Path, mapping: Mapping | None, chunk_rows: int) -> FileScan:
    """Read a file chunk by chunk for its file-level facts; raises its file-level errors.

    The columns are checked against the mapping on the first chunk (CSV and Parquet: every
    chunk has the same) and again on the whole file's (JSON Lines records may add keys)."""
    reader = FileReader(path, chunk_rows, **_layout(mapping))
    dates = DateEvidence()
    rows = chunks = 0
    first: RawTable | None = None
    for chunk in reader.chunks():
        active = mapping_for(mapping, reader.columns)
        if chunks == 0 and path.suffix.lower() not in JSONL_SUFFIXES:
            _check_columns(reader, active)
        if (text := created_at_text(chunk.frame, active)) is not None:
            dates += date_evidence(text)
        rows += len(chunk.frame) + len(chunk.rejects)
        first = chunk if chunks == 0 else None
        chunks += 1
    _check_columns(reader, mapping_for(mapping, reader.columns))
    if first is not None:
        first.sha256, first.encoding, first.notes = reader.sha256, reader.encoding, reader.notes
    return FileScan(
        Path(path),
        reader.sha256,
        reader.encoding,
        reader.notes,
        reader.columns,
        reader.typed_kinds,
        dates,
        reader.nullable_ints,
        rows,
        chunks,
        first,
    )


@dataclass
class _FileTotals:
    """A file's counts and dimension statistics, added up over its chunks."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    truncated: int = 0
    naive_timestamps: int = 0
    dates_without_time: int = 0
    valid: int = 0
    context_messages: int = 0
    date_order: DateOrder | None = None
    dim_order: list[str] = field(default_factory=list)
    dim_rows: dict[str, int] = field(default_factory=dict)
    dim_chars: dict[str, int] = field(default_factory=dict)
    dim_distinct: dict[str, int] = field(default_factory=dict)  # summed per chunk
    #: exact distinct values of the dimensions the store will not hold (set aside or unfit)
    dim_values: dict[str, set[str]] = field(default_factory=dict)

    def add(self, plan: _Planned, counts: UpsertCounts, exact: set[str]) -> None:
        s = plan.summary
        self.read += s.read
        self.quarantined += s.quarantined
        self.truncated += s.truncated
        self.naive_timestamps += s.naive_timestamps
        self.dates_without_time += s.dates_without_time
        self.valid += s.read - s.quarantined
        self.context_messages += s.context_messages
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.date_order = self.date_order or plan.date_order
        self.dim_order = self.dim_order or plan.dim_order
        if plan.dims.empty:
            return
        values = plan.dims["value"].astype(str)
        grouped = (
            plan.dims.assign(chars=values.str.len())
            .groupby("name", sort=False)
            .agg(rows=("value", "size"), distinct=("value", "nunique"), chars=("chars", "sum"))
        )
        for r in grouped.itertuples():
            name = str(r.Index)
            self.dim_rows[name] = self.dim_rows.get(name, 0) + int(r.rows)
            self.dim_chars[name] = self.dim_chars.get(name, 0) + int(r.chars)
            self.dim_distinct[name] = self.dim_distinct.get(name, 0) + int(r.distinct)
        for name in exact & set(grouped.index):
            self.dim_values.setdefault(name, set()).update(values[plan.dims["name"] == name])

    def stats(self) -> dict[str, DimensionStats]:
        return {
            name: DimensionStats(
                rows,
                len(self.dim_values[name]) if name in self.dim_values else self.dim_distinct[name],
                self.dim_chars[name] / rows,
            )
            for name, rows in self.dim_rows.items()
        }


SEEN, HANDLES, PAIRS = "ingest_seen_ids", "ingest_handles", "ingest_pairs"


def _file_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Per-file state that spans chunks, held by DuckDB (which spills it) for this command."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SEEN} (contact_id VARCHAR, line BIGINT)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {HANDLES} "
        "(contact_id VARCHAR, handle VARCHAR, author VARCHAR, written BOOLEAN)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PAIRS} (conversation_id VARCHAR, customer_id VARCHAR)"
    )


def _earlier_ids(con: duckdb.DuckDBPyConnection) -> Callable[[pd.DataFrame], pd.Series]:
    """Per chunk: its contact ids an earlier chunk held (-> first line); records its own.

    Frames are read by variable name, not `con.register`ed: see `rca.store.contacts`."""

    def earlier(chunk_ids: pd.DataFrame) -> pd.Series:
        found = con.execute(
            f"SELECT s.contact_id, s.line FROM {SEEN} s JOIN chunk_ids USING (contact_id)"
        ).df()
        con.execute(
            f"INSERT INTO {SEEN} SELECT contact_id, line FROM chunk_ids "
            f"WHERE contact_id NOT IN (SELECT contact_id FROM {SEEN})"
        )
        return pd.Series(found["line"].to_numpy(), index=found["contact_id"].to_numpy())

    return earlier


def _append(con: duckdb.DuckDBPyConnection, table: str, chunk_rows: pd.DataFrame) -> None:
    if not chunk_rows.empty:
        con.execute(f"INSERT INTO {table} SELECT * FROM chunk_rows")


def _addressed_rows(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The file's `addressed_to` dimension rows (contact_id, name, value), and those of
    them to write (their contact was inserted or updated), brands judged on the whole file."""
    reach = con.execute(
        f"SELECT handle, count(DISTINCT author) AS n FROM {HANDLES} GROUP BY handle"
    ).df()
    policy = RedactionPolicy.from_settings(settings, "ingest")
    brands = brand_handles(reach.set_index("handle")["n"], policy.keep_handles)
    con.register("brand_names", pd.DataFrame({"handle": sorted(brands)}, dtype=object))
    try:
        rows = con.execute(
            f"SELECT contact_id, handle, written FROM {HANDLES} "
            "WHERE handle IN (SELECT handle FROM brand_names)"
        ).df()
    finally:
        con.unregister("brand_names")
    unique = rows["handle"].drop_duplicates()
    shown = dict(zip(unique, policy.redact_series(unique), strict=True))
    values = rows["handle"].map(shown)
    dims = pd.DataFrame({"contact_id": rows["contact_id"], "name": "addressed_to", "value": values})
    return dims, dims.loc[rows["written"].astype(bool).to_numpy()]


def _ingest_chunks(
    con: duckdb.DuckDBPyConnection,
    scan: FileScan,
    mapping: Mapping | None,
    settings: Settings,
    *,
    ingest_id: str,
    now: datetime,
    say: Callable[[str], None],
) -> FileSummary:
    """Ingest a file larger than one chunk, chunk by chunk, as `write_plan` would whole."""
    set_aside = _set_aside_before(con)
    _file_state_tables(con)
    whole = WholeFile(scan.dates, scan.typed_kinds, _earlier_ids(con))
    unfit = unfit_dimensions(scan.typed_kinds, mapping_for(mapping, scan.columns))
    exact = set(set_aside) | set(unfit)
    totals = _FileTotals()
    columns = scan.columns if scan.path.suffix.lower() in JSONL_SUFFIXES else None
    reader = FileReader(
        scan.path,
        settings.ingest_chunk_rows,
        columns=columns,
        nullable_ints=scan.nullable_ints,
        **_layout(mapping),
    )
    plan: _Planned | None = None
    for chunk in reader.chunks():
        chunk.sha256 = scan.sha256
        plan = plan_file(chunk, mapping, settings, now, whole=whole)
        counts = write_rows(con, plan, set_aside=set_aside, ingest_id=ingest_id, now=now)
        totals.add(plan, counts, exact)
        if plan.handles is not None and not plan.handles.empty:
            written = plan.handles["contact_id"].map(counts.statuses) != "unchanged"
            _append(con, HANDLES, plan.handles.assign(written=written))
        if plan.pairs is not None:
            _append(con, PAIRS, plan.pairs)
        say(f"  {scan.path.name}: {totals.read:,} of {scan.rows:,} rows written")
    assert plan is not None  # a file yields at least one chunk
    in_file = [n for n in totals.dim_order if n in totals.dim_rows]
    file_stats = totals.stats()
    if con.execute(f"SELECT count(*) FROM {HANDLES}").fetchall()[0][0]:
        addressed, to_write = _addressed_rows(con, settings)
        if not addressed.empty:
            in_file.append("addressed_to")
            file_stats["addressed_to"] = dimension_stats(addressed)["addressed_to"]
            if "addressed_to" not in exact:
                _append(con, "contact_dimensions", to_write)
    reused = con.execute(
        f"SELECT count(*) FROM (SELECT conversation_id FROM {PAIRS} GROUP BY conversation_id "
        "HAVING count(DISTINCT customer_id) > 1)"
    ).fetchall()[0][0]
    summary = FileSummary(
        file=str(scan.path),
        encoding=scan.encoding,
        read=totals.read,
        inserted=totals.inserted,
        updated=totals.updated,
        unchanged=totals.unchanged,
        quarantined=totals.quarantined,
        truncated=totals.truncated,
        naive_timestamps=totals.naive_timestamps,
        dates_without_time=totals.dates_without_time,
        notes=file_notes(
            scan.notes,
            mapping,
            settings,
            naive_timestamps=totals.naive_timestamps,
            date_order=totals.date_order,
            dates_without_time=totals.dates_without_time,
            valid=totals.valid,
            context_messages=totals.context_messages,
            reused=int(reused),
            truncated=totals.truncated,
        ),
        date_order=totals.date_order.order if totals.date_order else None,
        context_messages=totals.context_messages,
    )
    plan.summary = summary
    plan.raw = RawTable(scan.path, scan.sha256, scan.encoding, pd.DataFrame())
    finish_file(
        con,
        plan,
        in_file=in_file,
        file_stats=file_stats,
        set_aside_before=set_aside,
        ingest_id=ingest_id,
        now=now,
    )
    for table in (SEEN, HANDLES, PAIRS):
        con.execute(f"DROP TABLE {table}")
    return summary


def ingest_paths(
    specs: list[str],
    settings: Settings,
    *,
    mapping_spec: str | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestSummary:
    """Ingest files, folders or globs into the store in one transaction, a chunk at a time.

    Files that fit in one chunk are kept from the first pass while their rows add up to
    one chunk at most; the others are read again when written."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    say = progress or (lambda _msg: None)
    mapping = load_mapping(mapping_spec) if mapping_spec else None
    chunk_rows = settings.ingest_chunk_rows
    scans = []
    kept = 0
    for path in expand_paths(specs):
        say(f"reading {path}")
        scan = scan_file(Path(path), mapping, chunk_rows)
        if scan.whole is not None and kept + len(scan.whole.frame) > chunk_rows:
            scan.whole = None
        kept += len(scan.whole.frame) if scan.whole is not None else 0
        scans.append(scan)
    ingest_id = uuid.uuid4().hex[:12]
    total_rows = sum(s.rows for s in scans)
    say(f"writing {total_rows} rows to {settings.store_path}")
    summaries = []
    with Store(settings.store_path).write() as con:
        for scan in scans:
            if scan.chunks > 1:
                summaries.append(
                    _ingest_chunks(
                        con, scan, mapping, settings, ingest_id=ingest_id, now=now, say=say
                    )
                )
                continue
            raw = scan.whole
            if raw is None:  # read again: one chunk
                reader = FileReader(scan.path, chunk_rows, **_layout(mapping))
                (raw,) = reader.chunks()
                raw.sha256, raw.encoding, raw.notes = reader.sha256, reader.encoding, reader.notes
            scan.whole = None
            plan = plan_file(raw, mapping, settings, now)
            write_plan(con, plan, ingest_id=ingest_id, now=now)
            summaries.append(plan.summary)
    return IngestSummary(ingest_id, summaries, time.perf_counter() - started)
