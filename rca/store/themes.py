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
from rca.cluster.granularity import Granularity
from rca.cluster.lineage import parse_theme_id
from rca.errors import NotReadyError
from rca.store.curation import curated_themes, issued_ids
from rca.store.db import first_row, window_clauses

FIT_COLUMNS = "contact_id, created_at, text, text_norm, text_hash, resolution, customer_id"


def load_contacts(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    contact_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Contacts in [since, until), oldest first (ties by id, so the order is reproducible)."""
    clauses, args = window_clauses(since, until)
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
    granularity: Granularity | None = None  # what its rule chose (None before it was stored)
    fit_since: datetime | None = None  # the window of contacts it clustered (None: unknown)
    fit_until: datetime | None = None


def champion_fit(con: duckdb.DuckDBPyConnection) -> PreviousFit | None:
    row = first_row(
        con,
        "SELECT model_version, granularity, fit_since, fit_until FROM models WHERE is_champion "
        "ORDER BY trained_at DESC LIMIT 1",
    )
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
        granularity=Granularity.from_json(row[1]),
        fit_since=row[2],
        fit_until=row[3],
    )


def next_theme_number(con: duckdb.DuckDBPyConnection) -> int:
    """One past the largest theme id ever issued (retired ids included): ids are never reused."""
    ids = [r[0] for r in con.execute("SELECT DISTINCT theme_id FROM themes").fetchall()]
    ids += [r[0] for r in con.execute("SELECT DISTINCT theme_id FROM theme_events").fetchall()]
    ids += issued_ids(con)  # split children and created themes
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
    try:
        con.execute(
            "INSERT INTO themes (model_version, theme_id, label, keywords, parent_group, size, "
            "centroid, representatives, description) SELECT model_version, theme_id, label, "
            "keywords, nullif(parent_label, ''), size, centroid::FLOAT[], representatives, "
            "description FROM new_themes"
        )
        con.execute(
            "INSERT INTO theme_events SELECT model_version, event, theme_id, related_ids, "
            "overlap, similarity FROM new_events"
        )
    finally:
        for view in ("new_themes", "new_events"):
            con.unregister(view)
    write_assignments(con, version, assignments)
    record = {**model_row, "metrics": json.dumps(model_row.get("metrics", {}))}
    if record.get("registry_version") is not None:
        # A registry version names one model. An older row holding the same number lost its
        # registry entry (the MLflow database was replaced): it is no longer in the registry.
        con.execute(
            "UPDATE models SET registry_version = NULL WHERE registry_version = ? "
            "AND coalesce(registry_uri, ?) = ?",
            [record["registry_version"], record.get("registry_uri"), record.get("registry_uri")],
        )
    columns = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO models ({columns}) VALUES ({marks})", list(record.values()))


def set_champion_row(con: duckdb.DuckDBPyConnection, model_version: str) -> None:
    con.execute("UPDATE models SET is_champion = (model_version = ?)", [model_version])


def write_assignments(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    assignments: pd.DataFrame,
    *,
    replace: bool = False,
) -> None:
    """Store (contact_id, theme_id, similarity) rows; "" theme ids become NULL (unassigned)."""
    frame = assignments[["contact_id", "theme_id", "similarity"]].copy()
    frame["model_version"] = model_version
    con.register("new_assignments", frame)
    try:
        on_conflict = (
            "DO UPDATE SET theme_id = excluded.theme_id, similarity = excluded.similarity"
            if replace
            else "DO NOTHING"
        )
        con.execute(
            "INSERT INTO assignments SELECT model_version, contact_id, nullif(theme_id, ''), "
            f"similarity FROM new_assignments ON CONFLICT (model_version, contact_id) {on_conflict}"
        )
    finally:
        con.unregister("new_assignments")


@dataclass(frozen=True)
class ModelRow:
    """The store's word on which registry entry a fitted model is (the source of truth)."""

    model_version: str
    registry_version: str | None
    run_id: str | None
    registry_uri: str | None


MODEL_ROW_SQL = "SELECT model_version, registry_version, mlflow_run_id, registry_uri FROM models"


def find_model(
    con: duckdb.DuckDBPyConnection,
    *,
    model_version: str | None = None,
    registry_version: str | None = None,
) -> ModelRow | None:
    """A model's row by its version, by its registry version, or the champion's."""
    if model_version is not None:
        row = first_row(con, f"{MODEL_ROW_SQL} WHERE model_version = ?", [model_version])
    elif registry_version is not None:
        row = first_row(
            con,
            f"{MODEL_ROW_SQL} WHERE registry_version = ? ORDER BY trained_at DESC LIMIT 1",
            [registry_version],
        )
    else:
        row = first_row(con, f"{MODEL_ROW_SQL} WHERE is_champion ORDER BY trained_at DESC LIMIT 1")
    return ModelRow(*row) if row else None


def champion_version_in_store(con: duckdb.DuckDBPyConnection) -> str | None:
    row = first_row(
        con, "SELECT model_version FROM models WHERE is_champion ORDER BY trained_at DESC LIMIT 1"
    )
    return row[0] if row else None


def require_champion(con: duckdb.DuckDBPyConnection) -> str:
    """The champion's model version, or the one clear error every reader of themes gives."""
    version = champion_version_in_store(con)
    if version is None:
        raise NotReadyError("no champion model: run `rca fit` first")
    return version


def theme_volumes(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    start: datetime,
    end: datetime,
    previous_start: datetime,
    previous_end: datetime | None = None,
) -> pd.DataFrame:
    """Per theme: volume and escalation rate in [start, end), volume in [previous_start,
    previous_end) (default: up to `start`; a partial period passes the same span of the one
    before, `Coverage.compared_span`).

    Rows for unassigned contacts come back with theme_id NULL so shares add up to one. Themes
    are the curated ones (`rca.store.curation.curated_themes`), with `hidden` and `pinned`.
    """
    counts = con.execute(
        """
        WITH a AS (
            SELECT coalesce(m.theme_id, a.theme_id) AS theme_id, c.created_at, c.is_escalation
            FROM assignments a JOIN contacts c USING (contact_id)
            LEFT JOIN taxonomy_members m
                ON m.contact_id = a.contact_id AND m.model_version = a.model_version
            WHERE a.model_version = $v AND c.created_at >= $p AND c.created_at < $e
        )
        SELECT theme_id,
               count(*) FILTER (WHERE created_at >= $s) AS volume,
               count(*) FILTER (WHERE created_at < $pe) AS previous_volume,
               avg(CASE WHEN is_escalation THEN 1.0 ELSE 0.0 END)
                   FILTER (WHERE created_at >= $s) AS escalation_rate
        FROM a GROUP BY theme_id
        """,
        {
            "v": model_version,
            "s": start,
            "e": end,
            "p": previous_start,
            "pe": min(previous_end or start, start),
        },  # fmt: skip
    ).df()
    themes = curated_themes(con, model_version)
    themes = themes.rename(columns={"size": "fit_size"})[
        ["theme_id", "label", "keywords", "parent_group", "fit_size", "hidden", "pinned",
         "description"]
    ]  # fmt: skip
    frame = themes.merge(counts, on="theme_id", how="left")
    unassigned = counts.loc[counts["theme_id"].isna()].assign(
        label="unassigned",
        keywords=None,
        parent_group=None,
        fit_size=None,
        hidden=False,
        pinned=False,
        description=None,
    )
    if not unassigned.empty:
        frame = pd.concat([frame, unassigned], ignore_index=True)
    for column in ("volume", "previous_volume"):
        frame[column] = frame[column].fillna(0).astype(np.int64)
    (flagged,) = con.execute("SELECT count(is_escalation) FROM contacts").fetchone() or (0,)
    frame["escalation_rate"] = frame["escalation_rate"].astype(object)
    frame["escalation_rate"] = frame["escalation_rate"].where(
        frame["escalation_rate"].notna() & (flagged > 0), None
    )  # absent is not zero: a store without an escalation flag has no 0% (the API's too)
    total = frame["volume"].sum()
    frame["share"] = frame["volume"] / total if total else 0.0
    # growth is a ratio everywhere (docs/json.md): +1 on both sides, as the API and the
    # dashboard compute it, so a theme new this period has a finite growth
    frame["growth"] = (frame["volume"] + 1) / (frame["previous_volume"] + 1)
    return frame.sort_values(["volume", "theme_id"], ascending=[False, True]).reset_index(drop=True)
