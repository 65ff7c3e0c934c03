"""Reading contacts for a fit, and writing / reading fitted themes and assignments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.cluster.lineage import parse_theme_id

FIT_COLUMNS = "contact_id, created_at, text, text_norm, text_hash, resolution, customer_id"


def load_contacts(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    contact_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Contacts in [since, until), oldest first (ties by id, so the order is reproducible)."""
    clauses, args = [], []
    if since is not None:
        clauses.append("created_at >= ?")
        args.append(since)
    if until is not None:
        clauses.append("created_at < ?")
        args.append(until)
    if contact_ids is not None:
        con.register("wanted_ids", pd.DataFrame({"contact_id": contact_ids}))
        clauses.append("contact_id IN (SELECT contact_id FROM wanted_ids)")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    try:
        return con.execute(
            f"SELECT {FIT_COLUMNS} FROM contacts {where} ORDER BY created_at, contact_id", args
        ).df()
    finally:
        if contact_ids is not None:
            con.unregister("wanted_ids")


@dataclass
class PreviousFit:
    """What lineage needs from the champion: its ids, centroids and members."""

    model_version: str
    theme_ids: list[str]
    centroids: np.ndarray
    assignments: pd.DataFrame  # contact_id, theme_id


def champion_fit(con: duckdb.DuckDBPyConnection) -> PreviousFit | None:
    row = con.execute(
        "SELECT model_version FROM models WHERE is_champion ORDER BY trained_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    version = row[0]
    themes = con.execute(
        "SELECT theme_id, centroid FROM themes WHERE model_version = ? ORDER BY theme_id",
        [version],
    ).fetchall()
    assignments = con.execute(
        "SELECT contact_id, theme_id FROM assignments WHERE model_version = ?", [version]
    ).df()
    return PreviousFit(
        model_version=version,
        theme_ids=[t[0] for t in themes],
        centroids=np.array([t[1] for t in themes], dtype=np.float32),
        assignments=assignments,
    )


def next_theme_number(con: duckdb.DuckDBPyConnection) -> int:
    """One past the largest theme id ever issued (retired ids included): ids are never reused."""
    ids = [r[0] for r in con.execute("SELECT DISTINCT theme_id FROM themes").fetchall()]
    ids += [r[0] for r in con.execute("SELECT DISTINCT theme_id FROM theme_events").fetchall()]
    numbers = [n for n in map(parse_theme_id, ids) if n is not None]
    return max(numbers, default=0) + 1


def write_fit(
    con: duckdb.DuckDBPyConnection,
    *,
    catalog: ThemeCatalog,
    representatives: dict[str, list[str]],
    events: pd.DataFrame,
    assignments: pd.DataFrame,
    model_row: dict[str, Any],
) -> None:
    """Themes, lineage events, per-contact assignments and the model row, in the caller's txn."""
    version = catalog.model_version
    themes = catalog.table()
    themes["model_version"] = version
    themes["centroid"] = list(catalog.centroids.astype(np.float32))
    themes["representatives"] = [representatives.get(t, []) for t in themes["theme_id"]]
    con.register("new_themes", themes)
    ev = events.copy()
    ev["model_version"] = version
    ev["related_ids"] = ev["related_ids"].map(lambda ids: [str(i) for i in ids])
    con.register("new_events", ev)
    assigned = assignments.copy()
    assigned["model_version"] = version
    con.register("new_assignments", assigned)
    try:
        con.execute(
            "INSERT INTO themes SELECT model_version, theme_id, label, keywords, parent_label, "
            "size, centroid::FLOAT[], representatives FROM new_themes"
        )
        con.execute(
            "INSERT INTO theme_events SELECT model_version, event, theme_id, related_ids, "
            "overlap, similarity FROM new_events"
        )
        con.execute(
            "INSERT INTO assignments SELECT model_version, contact_id, "
            "nullif(theme_id, ''), similarity FROM new_assignments"
        )
    finally:
        for view in ("new_themes", "new_events", "new_assignments"):
            con.unregister(view)
    record = {**model_row, "metrics": json.dumps(model_row.get("metrics", {}))}
    columns = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO models ({columns}) VALUES ({marks})", list(record.values()))


def set_champion_row(con: duckdb.DuckDBPyConnection, model_version: str) -> None:
    con.execute("UPDATE models SET is_champion = (model_version = ?)", [model_version])
