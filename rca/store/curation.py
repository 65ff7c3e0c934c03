"""The taxonomy's edit log, curated members and refit proposals (pure rules in
`rca.cluster.taxonomy`); and the curated themes every report reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from rca.cluster.taxonomy import CuratedView, Edit, Proposal, curate, unanswered
from rca.store.db import first_row

EDIT_COLUMNS = "edit_id, action, theme_id, params, actor, reason, created_at"


def read_edits(con: duckdb.DuckDBPyConnection) -> list[Edit]:
    """The whole log, oldest first."""
    if not _has_log(con):
        return []
    rows = con.execute(f"SELECT {EDIT_COLUMNS} FROM taxonomy_edits ORDER BY seq").fetchall()
    return [
        Edit(r[0], r[1], r[2], json.loads(r[3]) if r[3] else {}, r[4], r[5], r[6]) for r in rows
    ]


def _has_log(con: duckdb.DuckDBPyConnection) -> bool:
    """A read-only connection to a store from before migration 5 has no log yet."""
    found = first_row(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'taxonomy_edits'"
    )
    return bool(found and found[0])


def append_edit(
    con: duckdb.DuckDBPyConnection,
    edit: Edit,
    *,
    new_ids: Sequence[str] = (),
    model_version: str | None = None,
) -> None:
    (seq,) = first_row(con, "SELECT coalesce(max(seq), 0) + 1 FROM taxonomy_edits") or (1,)
    con.execute(
        "INSERT INTO taxonomy_edits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            seq,
            edit.edit_id,
            edit.action,
            edit.theme_id,
            json.dumps(edit.params),
            list(new_ids),
            edit.actor,
            edit.reason,
            edit.created_at,
            model_version,
        ],
    )


def next_edit_ids(con: duckdb.DuckDBPyConnection, n: int) -> list[str]:
    """The ids the next ``n`` edits take, in order (an import or a sheet appends several in
    one write)."""
    (first,) = first_row(con, "SELECT count(*) + 1 FROM taxonomy_edits") or (1,)
    return [f"E{int(first) + i:04d}" for i in range(n)]


def next_edit_id(con: duckdb.DuckDBPyConnection) -> str:
    return next_edit_ids(con, 1)[0]


def issued_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Theme ids the taxonomy issued (split children, created themes): never reused by a fit."""
    if not _has_log(con):
        return []
    rows = con.execute("SELECT DISTINCT unnest(new_ids) FROM taxonomy_edits").fetchall()
    return [r[0] for r in rows]


def fitted_themes(con: duckdb.DuckDBPyConnection, model_version: str) -> pd.DataFrame:
    return con.execute(
        "SELECT theme_id, label, keywords, parent_group, size, centroid, description FROM themes "
        "WHERE model_version = ? ORDER BY theme_id",
        [model_version],
    ).df()


def curated_view(con: duckdb.DuckDBPyConnection, model_version: str) -> CuratedView:
    return curate(fitted_themes(con, model_version), read_edits(con))


def curated_themes(con: duckdb.DuckDBPyConnection, model_version: str) -> pd.DataFrame:
    """The themes as people see them: pinned names, merges as one, splits, created, hidden.

    The one reader of theme rows for reports (`rca themes`, spikes, drivers, the API, the
    dashboard, the e-mail), so a correction shows everywhere at once.
    """
    themes = curated_view(con, model_version).themes
    order = themes["theme_id"].str.len()  # T0009 < T0010 < T10000: counter order
    return (
        themes.assign(_order=order)
        .sort_values(["_order", "theme_id"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def write_members(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    frame: pd.DataFrame,
    *,
    scope: Sequence[str] | None = None,
) -> None:
    """Contacts whose curated theme differs from the fitted one (contact_id, theme_id).

    Replaces the model's rows, or only those of the contacts in `scope` (new contacts).
    """
    rows = frame[["contact_id", "theme_id"]].copy()
    rows["model_version"] = model_version
    con.register("curated_rows", rows)
    con.register(
        "curated_scope", pd.DataFrame({"contact_id": list(scope) if scope is not None else []})
    )
    try:
        if scope is None:
            con.execute("DELETE FROM taxonomy_members WHERE model_version = ?", [model_version])
        else:
            con.execute(
                "DELETE FROM taxonomy_members WHERE model_version = ? AND contact_id IN "
                "(SELECT contact_id FROM curated_scope)",
                [model_version],
            )
        con.execute(
            "INSERT INTO taxonomy_members SELECT model_version, contact_id, theme_id "
            "FROM curated_rows WHERE theme_id <> ''"
        )
    finally:
        con.unregister("curated_rows")
        con.unregister("curated_scope")


def fitted_assignments(con: duckdb.DuckDBPyConnection, model_version: str) -> pd.DataFrame:
    """contact_id, fitted theme_id ("" when unassigned), text_hash: what routing starts from."""
    return con.execute(
        "SELECT a.contact_id, coalesce(a.theme_id, '') AS theme_id, c.text_hash "
        "FROM assignments a JOIN contacts c USING (contact_id) WHERE a.model_version = ? "
        "ORDER BY a.contact_id",
        [model_version],
    ).df()


def write_proposals(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    proposals: Sequence[Proposal],
    created_at: datetime,
) -> None:
    for p in proposals:
        con.execute(
            "INSERT INTO taxonomy_proposals (model_version, theme_id, kind, message, "
            "related_ids, created_at, members, label, keywords) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [model_version, p.theme_id, p.kind, p.message, list(p.related_ids), created_at,
             list(p.members) or None, p.label or None, list(p.keywords) or None],
        )  # fmt: skip


def read_proposals(
    con: duckdb.DuckDBPyConnection, model_version: str | None = None, *, members: bool = False
) -> list[dict[str, Any]]:
    """The proposals, oldest first, with a carved theme's name and keywords ("" and [] for other
    kinds); `members` adds its held contact ids (thousands at scale: only the split preview of
    the proposed cut reads them)."""
    if not _has_log(con):
        return []
    where, args = ("WHERE model_version = ?", [model_version]) if model_version else ("", [])
    extra = ", members" if members else ""
    frame = con.execute(
        f"SELECT model_version, theme_id, kind, message, related_ids, created_at, label, "
        f"keywords{extra} "
        f"FROM taxonomy_proposals {where} ORDER BY created_at, theme_id",
        args,
    ).df()
    for column in ("related_ids", "keywords", *(["members"] if members else [])):
        frame[column] = frame[column].map(lambda ids: [] if ids is None else [str(i) for i in ids])
    frame["label"] = frame["label"].map(lambda s: "" if s is None or s != s else str(s))
    return frame.to_dict(orient="records")


def proposed_parts(
    con: duckdb.DuckDBPyConnection, model_version: str, theme_id: str
) -> list[dict[str, Any]]:
    """The open `new_theme` proposals of a theme, by message, for a split preview of the
    refit's own cut: each with its held contact ids (`members`), `label` and `keywords` ("" and
    [] for proposals stored before migration 12)."""
    return sorted(
        (
            p
            for p in open_proposals(con, model_version, members=True)
            if p["kind"] == "new_theme" and p["theme_id"] == theme_id and p["members"]
        ),
        key=lambda p: str(p["message"]),
    )


def open_proposals(
    con: duckdb.DuckDBPyConnection, model_version: str, *, members: bool = False
) -> list[dict[str, Any]]:
    """The model's proposals no person has acted on since (`rca.cluster.taxonomy.unanswered`):
    what the taxonomy page, `rca themes`, `rca status` and the e-mail list as open."""
    return unanswered(read_proposals(con, model_version, members=members), read_edits(con))


def history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _has_log(con):
        return pd.DataFrame(columns=["edit_id", "action", "theme_id"])
    frame = con.execute(
        "SELECT edit_id, action, theme_id, params, new_ids, actor, reason, created_at, "
        "model_version FROM taxonomy_edits ORDER BY seq"
    ).df()
    frame["params"] = frame["params"].map(lambda p: _short_params(json.loads(p) if p else {}))
    frame["new_ids"] = frame["new_ids"].map(lambda ids: [] if ids is None else list(ids))
    return frame


def _short_params(params: dict[str, Any]) -> dict[str, Any]:
    """What a reader of the history needs: no centroids."""
    out = {k: v for k, v in params.items() if k != "centroid"}
    if "children" in out:
        out["children"] = [
            {k: v for k, v in c.items() if k in ("label", "size", "keywords")}
            for c in out["children"]
        ]
    return out
