"""Recorded SOP changes and their audit trail (the caller owns the transaction).

A change names its theme by the stable theme id, which survives refits (`cluster/lineage`):
the effect is measured on whatever model is champion when it is read.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from rca.errors import InvalidInputError, NotFoundError

STATUSES = ("active", "retired")


@dataclass(frozen=True)
class SopChange:
    change_id: str
    theme_id: str
    effective_at: datetime
    title: str
    description: str | None
    link: str | None
    author: str | None
    scope: dict[str, str]
    status: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def add_change(
    con: duckdb.DuckDBPyConnection,
    *,
    theme_id: str,
    effective_at: datetime,
    title: str,
    now: datetime,
    description: str | None = None,
    link: str | None = None,
    author: str | None = None,
    scope: dict[str, str] | None = None,
) -> SopChange:
    if not title.strip():
        raise InvalidInputError("an SOP change needs a title")
    if effective_at.tzinfo is None:
        raise InvalidInputError("effective_at needs a time zone")
    change = SopChange(
        change_id=f"SOP-{secrets.token_hex(4)}", theme_id=theme_id, effective_at=effective_at,
        title=title.strip(), description=description, link=link, author=author,
        scope=dict(scope or {}), status="active", created_at=now,
    )  # fmt: skip
    con.execute(
        "INSERT INTO sop_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [change.change_id, theme_id, effective_at, change.title, description, link, author,
         json.dumps(change.scope), change.status, now],
    )  # fmt: skip
    _audit(con, change.change_id, now, author, "added", {"title": change.title})
    return change


def retire_change(
    con: duckdb.DuckDBPyConnection, change_id: str, *, now: datetime, actor: str | None = None
) -> SopChange:
    get_change(con, change_id)  # a clear NotFoundError for an unknown id
    con.execute("UPDATE sop_changes SET status = 'retired' WHERE change_id = ?", [change_id])
    _audit(con, change_id, now, actor, "retired", {})
    return get_change(con, change_id)


def get_change(con: duckdb.DuckDBPyConnection, change_id: str) -> SopChange:
    rows = list_changes(con, change_id=change_id, include_retired=True)
    if not rows:
        raise NotFoundError(f"no SOP change {change_id!r}: see `rca sop list`")
    return rows[0]


def list_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    theme_id: str | None = None,
    change_id: str | None = None,
    include_retired: bool = False,
) -> list[SopChange]:
    clauses, args = ["TRUE"], []
    if theme_id is not None:
        clauses.append("theme_id = ?")
        args.append(theme_id)
    if change_id is not None:
        clauses.append("change_id = ?")
        args.append(change_id)
    if not include_retired:
        clauses.append("status = 'active'")
    rows = con.execute(
        "SELECT change_id, theme_id, effective_at, title, description, link, author, scope, "
        f"status, created_at FROM sop_changes WHERE {' AND '.join(clauses)} "
        "ORDER BY effective_at, change_id",
        args,
    ).fetchall()
    return [
        SopChange(*row[:7], json.loads(row[7]) if row[7] else {}, row[8], row[9]) for row in rows
    ]


def audit_trail(con: duckdb.DuckDBPyConnection, change_id: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT changed_at, actor, action, details FROM sop_audit WHERE change_id = ? "
        "ORDER BY changed_at",
        [change_id],
    ).fetchall()
    return [
        {"at": at, "actor": actor, "action": action, "details": json.loads(d) if d else {}}
        for at, actor, action, d in rows
    ]


def _audit(
    con: duckdb.DuckDBPyConnection,
    change_id: str,
    at: datetime,
    actor: str | None,
    action: str,
    details: dict[str, Any],
) -> None:
    con.execute(
        "INSERT INTO sop_audit VALUES (?, ?, ?, ?, ?)",
        [change_id, at, actor, action, json.dumps(details)],
    )


def lineage_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, list[str] | None]]:
    """(event, theme_id, related_ids) of every fit's merges and splits: what a change recorded
    on an older id follows (`rca.sop.follow`)."""
    return con.execute(
        "SELECT event, theme_id, related_ids FROM theme_events WHERE event IN ('merged', 'split')"
    ).fetchall()
