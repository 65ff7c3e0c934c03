"""Writing and reading contacts, their dimensions, the quarantine and the ingest log.

All functions take an open connection; the caller owns the transaction (see `Store.write`),
which is what makes a whole `rca ingest` all-or-nothing.

The writers that `rca ingest` calls once per chunk read their frames by variable name (a
DuckDB replacement scan), not through `con.register`: a registered view, even unregistered,
keeps its frame alive until the transaction ends, so a large ingest would hold every chunk it
wrote (issue 22).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

CONTACT_COLUMNS = (
    "contact_id",
    "created_at",
    "text",
    "text_raw",
    "text_norm",
    "text_hash",
    "text_truncated",
    "customer_id",
    "channel",
    "is_escalation",
    "handle_time_s",
    "resolution",
    "csat",
    "conversation_id",
    "in_reply_to",
    "vendor",
    "site",
    "team",
    "agent_id",
    "content_hash",
    "source_file",
    "source_line",
    "ingest_id",
    "ingested_at",
    "updated_at",
)
UPDATABLE = [c for c in CONTACT_COLUMNS if c not in ("contact_id", "ingested_at")]


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    #: contact_id -> inserted | updated | unchanged (the API's per-row answer)
    statuses: dict[str, str] = field(default_factory=dict)


def upsert_contacts(
    con: duckdb.DuckDBPyConnection,
    contacts: pd.DataFrame,
    dims: pd.DataFrame,
    *,
    ingest_id: str,
    now: datetime,
) -> UpsertCounts:
    """Insert new contacts, update changed ones (keeping history), leave the rest alone."""
    if contacts.empty:
        return UpsertCounts()
    stage = contacts.copy()
    stage["ingest_id"] = ingest_id
    stage["ingested_at"] = now
    stage["updated_at"] = now
    stage = stage[list(CONTACT_COLUMNS)]
    stage_contacts, stage_dims = stage, dims  # noqa: F841 (read by name in the SQL below)
    existing = con.execute(
        "SELECT c.contact_id, c.content_hash FROM contacts c "
        "JOIN stage_contacts s USING (contact_id)"
    ).df()
    known = dict(zip(existing["contact_id"], existing["content_hash"], strict=True))
    is_known = stage["contact_id"].isin(known)
    changed_mask = is_known & (stage["contact_id"].map(known) != stage["content_hash"])
    changed_ids = stage.loc[changed_mask, ["contact_id"]]  # noqa: F841 (read by name)
    written_ids = stage.loc[changed_mask | ~is_known, ["contact_id"]]  # noqa: F841
    con.execute(
        """INSERT INTO contact_history
           SELECT c.contact_id, ?, ?, c.content_hash, s.content_hash, to_json(c)
           FROM contacts c JOIN stage_contacts s USING (contact_id)
           JOIN changed_ids USING (contact_id)""",
        [now, ingest_id],
    )
    assignments = ", ".join(f"{c} = s.{c}" for c in UPDATABLE)
    con.execute(
        f"UPDATE contacts SET {assignments} FROM stage_contacts s "
        "WHERE contacts.contact_id = s.contact_id "
        "AND contacts.contact_id IN (SELECT contact_id FROM changed_ids)"
    )
    con.execute(
        "DELETE FROM contact_dimensions WHERE contact_id IN (SELECT contact_id FROM changed_ids)"
    )
    columns = ", ".join(CONTACT_COLUMNS)
    con.execute(
        f"INSERT INTO contacts ({columns}) SELECT {columns} FROM stage_contacts "
        "WHERE contact_id NOT IN (SELECT contact_id FROM contacts)"
    )
    con.execute(
        "INSERT INTO contact_dimensions SELECT d.contact_id, d.name, d.value FROM stage_dims d "
        "WHERE d.contact_id IN (SELECT contact_id FROM written_ids)"
    )
    n_changed = int(changed_mask.sum())
    status = np.where(~is_known, "inserted", np.where(changed_mask, "updated", "unchanged"))
    return UpsertCounts(
        inserted=int((~is_known).sum()),
        updated=n_changed,
        unchanged=int(is_known.sum()) - n_changed,
        statuses=dict(zip(stage["contact_id"], status.tolist(), strict=True)),
    )


CONTEXT_COLUMNS = (
    "message_id", "created_at", "customer_id", "conversation_id", "in_reply_to", "text",
    "source_file", "source_line", "ingest_id", "ingested_at",
)  # fmt: skip


def upsert_context(
    con: duckdb.DuckDBPyConnection, context: pd.DataFrame, *, ingest_id: str, now: datetime
) -> int:
    """Write outbound messages, replacing any earlier copy of the same message id."""
    if context.empty:
        return 0
    stage_context = context.assign(ingest_id=ingest_id, ingested_at=now)[list(CONTEXT_COLUMNS)]
    con.execute(
        "DELETE FROM context_messages WHERE message_id IN (SELECT message_id FROM stage_context)"
    )
    columns = ", ".join(CONTEXT_COLUMNS)
    con.execute(f"INSERT INTO context_messages ({columns}) SELECT {columns} FROM stage_context")
    return len(stage_context)


def context_links(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """message_id -> in_reply_to of every stored outbound message (to follow reply chains)."""
    return con.execute(
        "SELECT message_id, in_reply_to FROM context_messages WHERE in_reply_to IS NOT NULL"
    ).df()


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    *,
    file: str,
    file_sha256: str,
    ingest_id: str,
    now: datetime,
) -> int:
    """Record bad rows once per (file content, line): re-ingesting adds nothing new."""
    if rows.empty:
        return 0
    stage_quarantine = pd.DataFrame(
        {
            "file_sha256": file_sha256,
            "line": rows["line"].astype("int64"),
            "file": file,
            "raw": rows["raw"].astype(str),
            "reason": rows["reason"].astype(str),
            "ingest_id": ingest_id,
            "quarantined_at": now,
        }
    )
    con.execute("INSERT INTO quarantine SELECT * FROM stage_quarantine ON CONFLICT DO NOTHING")
    return len(stage_quarantine)


def log_ingest(con: duckdb.DuckDBPyConnection, record: dict[str, object]) -> None:
    columns = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO ingests ({columns}) VALUES ({marks})", list(record.values()))


def list_quarantine(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pd.DataFrame:
    return con.execute(
        "SELECT file, line, reason, raw, quarantined_at FROM quarantine "
        "ORDER BY quarantined_at DESC, file, line LIMIT ?",
        [limit],
    ).df()


#: A quarantine reason's kind: the text before the first ':' of its first reason
#: ("unparseable created_at: 45007 ..." -> "unparseable created_at").
REASON_KIND = "split_part(split_part(reason, ';', 1), ':', 1)"


def ingest_rejects(con: duckdb.DuckDBPyConnection, ingest_id: str) -> pd.DataFrame:
    """What one ingest quarantined, by kind of reason (the text before its first ':'), most
    rows first, with the first row of each kind and its whole reason: the rows and the fix a
    reason may name (an Excel serial date's reading) without listing every row."""
    return con.execute(
        f"SELECT {REASON_KIND} AS kind, count(*) AS rows, "
        "arg_min(file, (file, line)) AS file, arg_min(line, (file, line)) AS line, "
        "arg_min(reason, (file, line)) AS example FROM quarantine WHERE ingest_id = ? "
        "GROUP BY 1 ORDER BY 2 DESC, 1",
        [ingest_id],
    ).df()


def dimension_decisions(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Every decided dimension -> the reason it was set aside (None when kept)."""
    rows = con.execute("SELECT name, kept, reason FROM dimensions").fetchall()
    return {name: None if kept else (reason or "set aside") for name, kept, reason in rows}


def undecided_dimensions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Dimensions stored before decisions were recorded (a store older than schema 2)."""
    rows = con.execute(
        "SELECT DISTINCT name FROM contact_dimensions "
        "WHERE name NOT IN (SELECT name FROM dimensions) ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def dimension_value_stats(con: duckdb.DuckDBPyConnection, names: list[str]) -> pd.DataFrame:
    """Per stored dimension in `names`: rows, distinct values, mean value length."""
    con.register("wanted_dims", pd.DataFrame({"name": names}, dtype=object))
    try:
        return con.execute(
            "SELECT name, count(*) AS rows, count(DISTINCT value) AS distinct_values, "
            "coalesce(avg(length(value)), 0) AS mean_chars FROM contact_dimensions "
            "WHERE name IN (SELECT name FROM wanted_dims) AND value IS NOT NULL GROUP BY name"
        ).df()
    finally:
        con.unregister("wanted_dims")


def record_dimension_decisions(
    con: duckdb.DuckDBPyConnection, decisions: pd.DataFrame, *, now: datetime
) -> None:
    """Upsert (name, kept, reason, n_rows, n_values, mean_chars); drop set-aside values."""
    if decisions.empty:
        return
    stage = decisions.assign(decided_at=now)[
        ["name", "kept", "reason", "n_rows", "n_values", "mean_chars", "decided_at"]
    ]
    con.register("stage_decisions", stage)
    try:
        con.execute(
            "INSERT INTO dimensions SELECT * FROM stage_decisions ON CONFLICT (name) DO UPDATE "
            "SET kept = excluded.kept, reason = excluded.reason, n_rows = excluded.n_rows, "
            "n_values = excluded.n_values, mean_chars = excluded.mean_chars, "
            "decided_at = excluded.decided_at"
        )
        con.execute(
            "DELETE FROM contact_dimensions WHERE name IN "
            "(SELECT name FROM stage_decisions WHERE NOT kept)"
        )
    finally:
        con.unregister("stage_decisions")
