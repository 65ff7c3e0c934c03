"""Recorded SOP changes and their audit trail (the caller owns the transaction).

A change names its themes by stable theme ids, which survive refits (`cluster/lineage`):
the effect is measured on whatever model is champion when it is read. A procedure often
covers a problem the clustering spread over several themes, or a whole parent group: the
change keeps all their ids (`theme_ids`; a group is resolved to its themes when the change is
recorded, and its name kept in `group`). `theme_id` is the first of them, for the readers
that name one theme.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
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
    theme_ids: tuple[str, ...] = ()  # every theme it covers, `theme_id` first
    group: str | None = None  # the parent group it was recorded on, if any

    def __post_init__(self) -> None:
        if not self.theme_ids:  # a row from before changes named several themes
            object.__setattr__(self, "theme_ids", (self.theme_id,))

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "theme_ids": list(self.theme_ids)}


def theme_list(theme_ids: Sequence[str]) -> list[str]:
    """The ids in the order given, each once, blanks dropped (`--theme T1,T2 --theme T1`)."""
    out: list[str] = []
    for raw in theme_ids:
        for one in str(raw).split(","):
            if one.strip() and one.strip() not in out:
                out.append(one.strip())
    return out


def resolve_themes(
    con: duckdb.DuckDBPyConnection, theme_ids: Sequence[str], group: str | None = None
) -> list[str]:
    """The themes a change names, checked: each id must exist in some model (an id survives
    refits, so an older one is fine); a parent group stands for all of its themes in today's
    champion as people see them (hidden ones left out), matched by name, case aside."""
    from rca.store.curation import curated_themes
    from rca.store.themes import require_champion

    themes = theme_list(theme_ids)
    known = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT theme_id FROM themes WHERE list_contains(?, theme_id)", [themes]
        ).fetchall()
    }
    unknown = [t for t in themes if t not in known]
    if unknown:
        raise InvalidInputError(f"no theme {', '.join(map(repr, unknown))} in any model")
    if group and group.strip():
        current = curated_themes(con, require_champion(con))
        current = current.loc[~current["hidden"].astype(bool)]
        named = current["parent_group"].fillna("").astype(str).str.strip().str.lower()
        members = current.loc[named == group.strip().lower(), "theme_id"].tolist()
        if not members:
            groups = sorted(set(current["parent_group"].dropna().astype(str)))
            raise InvalidInputError(
                f"no parent group {group.strip()!r} in today's model; groups: "
                + ", ".join(groups[:20])
            )
        themes = theme_list([*themes, *members])
    if not themes:
        raise InvalidInputError("name the change's themes (theme ids or a parent group)")
    return themes


def add_change(
    con: duckdb.DuckDBPyConnection,
    *,
    theme_id: str | None = None,
    theme_ids: Sequence[str] = (),
    group: str | None = None,
    effective_at: datetime,
    title: str,
    now: datetime,
    description: str | None = None,
    link: str | None = None,
    author: str | None = None,
    scope: dict[str, str] | None = None,
) -> SopChange:
    """Record a change on `theme_id` and/or `theme_ids` (the first is the primary one);
    `group` names the parent group they were resolved from."""
    themes = theme_list([theme_id or "", *theme_ids])
    if not themes:
        raise InvalidInputError("an SOP change needs at least one theme")
    if not title.strip():
        raise InvalidInputError("an SOP change needs a title")
    if effective_at.tzinfo is None:
        raise InvalidInputError("effective_at needs a time zone")
    change = SopChange(
        change_id=f"SOP-{secrets.token_hex(4)}", theme_id=themes[0], effective_at=effective_at,
        title=title.strip(), description=description, link=link, author=author,
        scope=dict(scope or {}), status="active", created_at=now, theme_ids=tuple(themes),
        group=group or None,
    )  # fmt: skip
    con.execute(
        "INSERT INTO sop_changes (change_id, theme_id, effective_at, title, description, link, "
        "author, scope, status, created_at, theme_ids, theme_group) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [change.change_id, themes[0], effective_at, change.title, description, link, author,
         json.dumps(change.scope), change.status, now, themes, change.group],
    )  # fmt: skip
    details: dict[str, Any] = {"title": change.title, "theme_ids": themes}
    if change.group:
        details["group"] = change.group
    _audit(con, change.change_id, now, author, "added", details)
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
    if theme_id is not None:  # named by the change (primary or not)
        clauses.append("list_contains(COALESCE(theme_ids, [theme_id]), ?)")
        args.append(theme_id)
    if change_id is not None:
        clauses.append("change_id = ?")
        args.append(change_id)
    if not include_retired:
        clauses.append("status = 'active'")
    rows = con.execute(
        "SELECT change_id, theme_id, effective_at, title, description, link, author, scope, "
        "status, created_at, COALESCE(theme_ids, [theme_id]), theme_group "
        f"FROM sop_changes WHERE {' AND '.join(clauses)} ORDER BY effective_at, change_id",
        args,
    ).fetchall()
    return [
        SopChange(
            *row[:7],
            json.loads(row[7]) if row[7] else {},
            row[8],
            row[9],
            tuple(row[10] or ()),
            row[11],
        )
        for row in rows
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
