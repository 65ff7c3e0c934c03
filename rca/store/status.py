"""What the store holds, for `rca status` and the API's readiness check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import duckdb

from rca.cluster.granularity import Granularity
from rca.store.contacts import REASON_KIND
from rca.store.db import current_version, first_row


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = first_row(con, sql)
    return row[0] if row else None


def store_status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts, date range, quarantine by reason, recent ingests and models."""
    first, last = first_row(con, "SELECT min(created_at), max(created_at) FROM contacts") or (
        None,
        None,
    )
    reasons = con.execute(
        f"SELECT {REASON_KIND} AS reason, count(*) AS rows "
        "FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20"
    ).df()
    ingests = con.execute(
        "SELECT ingest_id, file, finished_at, rows_read, inserted, updated, unchanged, "
        "quarantined FROM ingests ORDER BY finished_at DESC LIMIT 10"
    ).df()
    models = con.execute(
        "SELECT model_version, model_id, trained_at, n_themes, is_champion, "
        "TRY_CAST(json_extract_string(metrics, '$.long_texts') AS DOUBLE) AS long_texts, "
        "granularity FROM models "
        "ORDER BY trained_at DESC LIMIT 10"
    ).df()
    # how each fit chose its number of themes, or inherited the choice (rca.cluster.granularity)
    models["granularity"] = [
        asdict(g) if (g := Granularity.from_json(text)) else None
        for text in models["granularity"].tolist()
    ]
    # contacts longer than the encoder's window in the champion's fit (else the newest fit's);
    # they are embedded whole (issue 16), recorded by `rca fit`
    fits = models.sort_values("is_champion", ascending=False, kind="stable")["long_texts"]
    long_texts = None if fits.empty or fits.isna().iloc[0] else int(fits.iloc[0])
    return {
        "schema_version": current_version(con),
        "contacts": _scalar(con, "SELECT count(*) FROM contacts"),
        "customers": _scalar(con, "SELECT count(DISTINCT customer_id) FROM contacts"),
        "quarantined": _scalar(con, "SELECT count(*) FROM quarantine"),
        "updated_contacts": _scalar(con, "SELECT count(DISTINCT contact_id) FROM contact_history"),
        "dimensions": [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT name FROM contact_dimensions WHERE name NOT IN "
                "(SELECT name FROM dimensions WHERE NOT kept) ORDER BY 1"
            ).fetchall()
        ],
        "dimensions_set_aside": {
            name: reason
            for name, reason in con.execute(
                "SELECT name, reason FROM dimensions WHERE NOT kept ORDER BY 1"
            ).fetchall()
        },
        "first_contact_at": first,
        "last_contact_at": last,
        "embeddings": _scalar(con, "SELECT count(*) FROM embeddings"),
        "long_texts": long_texts,
        "quarantine_reasons": reasons.to_dict(orient="records"),
        "recent_ingests": ingests.to_dict(orient="records"),
        "models": models.to_dict(orient="records"),
        "taxonomy_edits": _scalar(con, "SELECT count(*) FROM taxonomy_edits"),
        "taxonomy_proposals": _open_proposals(con),
    }


def _open_proposals(con: duckdb.DuckDBPyConnection) -> int:
    """The champion's refit proposals no person has acted on yet."""
    from rca.store.curation import open_proposals
    from rca.store.themes import champion_version_in_store

    champion = champion_version_in_store(con)
    return len(open_proposals(con, champion)) if champion else 0
