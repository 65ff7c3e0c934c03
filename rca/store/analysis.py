"""The one wide frame that trends, repeats, root causes and drivers start from.

One row per contact: its fields, its theme under a model version (NULL theme = unassigned),
and every kept dimension as a column. Analyses are pure functions of this frame, so they can be
tested on hand-made frames and mapped over partitions later.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from rca.repeats.conversations import through_context
from rca.store.contacts import context_links
from rca.store.db import window_clauses
from rca.store.themes import champion_version_in_store
from rca.text.smalltalk import is_small_talk

BASE_COLUMNS = (
    "contact_id",
    "created_at",
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
    "text",
    "text_hash",
)


def load_analysis_frame(
    con: duckdb.DuckDBPyConnection,
    model_version: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Contacts with `theme_id`, `similarity` and one column per dimension (prefix `dim_`).

    `theme_id` is the curated one (`rca.cluster.taxonomy`: merges, accepted splits, created
    themes), so every analysis counts a merged theme as one.

    `model_version` defaults to the champion; contacts the model has not assigned yet come back
    with `theme_id` NULL and `assigned` False, so callers can tell "unassigned" from "unseen".
    """
    version = model_version or champion_version_in_store(con)
    clauses, args = window_clauses(since, until, "c.created_at")
    clauses = ["TRUE", *clauses]
    columns = ", ".join(f"c.{c}" for c in BASE_COLUMNS)
    frame = con.execute(
        f"""SELECT {columns}, coalesce(m.theme_id, a.theme_id) AS theme_id, a.similarity,
                   a.contact_id IS NOT NULL AS assigned
            FROM contacts c
            LEFT JOIN assignments a ON a.contact_id = c.contact_id AND a.model_version = ?
            LEFT JOIN taxonomy_members m
                ON m.contact_id = c.contact_id AND m.model_version = a.model_version
            WHERE {" AND ".join(clauses)}
            ORDER BY c.created_at, c.contact_id""",
        [version, *args],
    ).df()
    # Only kept dimensions: one set aside (an id, free text, over the count limit) may still
    # have values from before it was judged, and would make root-cause search unbounded.
    dims = con.execute(
        "SELECT d.contact_id, d.name, d.value FROM contact_dimensions d "
        "JOIN contacts c USING (contact_id) WHERE " + " AND ".join(clauses) + " AND d.name "
        "NOT IN (SELECT name FROM dimensions WHERE NOT kept)",
        args,
    ).df()
    if not dims.empty:
        wide = dims.pivot(index="contact_id", columns="name", values="value")
        wide.columns = [f"dim_{c}" for c in wide.columns]
        frame = frame.join(wide, on="contact_id")
    links = context_links(con)
    if not links.empty:
        frame["in_reply_to"] = through_context(frame["in_reply_to"], links)
    # small talk states no problem: unassigned in every report, whatever a model filed it under
    # (`rca.text.smalltalk`), and never a repeat
    frame["small_talk"] = is_small_talk(frame["text"])
    frame.loc[frame["small_talk"], "theme_id"] = None
    frame.attrs["model_version"] = version
    return frame


def dimension_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("dim_")]
