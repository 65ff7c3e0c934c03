"""Pure per-batch steps of a refresh, the same for one process and for Ray's batches.

A batch is a frame of contacts to process: `contact_id`, `created_at`, `text_hash`,
`text_norm` and `vector` (the cached vector, or None where the text was never embedded).
Nothing here reads the store or the clock, so Ray's actors can run it on any worker and the
driver writes the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.trends.series import period_names

RESULT_COLUMNS = [
    "contact_id",
    "created_at",
    "text_hash",
    "vector",
    "embedded",
    "theme_id",
    "similarity",
    "period",
]
COUNT_COLUMNS = ["period", "theme_id", "contacts"]


def embed_assign(
    batch: pd.DataFrame,
    encode: Callable[[Sequence[str]], np.ndarray],
    catalog: ThemeCatalog,
    *,
    period_kind: str,
    tz: ZoneInfo,
) -> pd.DataFrame:
    """Embed the batch's uncached texts (each distinct hash once), assign every row, name its
    period. `embedded` marks rows whose vector is new (for the driver to cache)."""
    cached = batch["vector"] if "vector" in batch else pd.Series(None, index=batch.index)
    have = cached.notna().to_numpy(dtype=bool)
    todo = batch.loc[~have].drop_duplicates("text_hash")
    fresh = encode(todo["text_norm"].tolist()) if len(todo) else []
    new_by_hash = dict(zip(todo["text_hash"], fresh, strict=True))
    vectors = [
        np.asarray(v, dtype=np.float32) if ok else new_by_hash[h]
        for v, ok, h in zip(cached, have, batch["text_hash"], strict=True)
    ]
    X = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
    ids, score = catalog.assign(X) if len(X) else ([], np.zeros(0))
    created = pd.to_datetime(batch["created_at"], utc=True)
    return pd.DataFrame(
        {
            "contact_id": batch["contact_id"].to_numpy(),
            "created_at": created.to_numpy(),
            "text_hash": batch["text_hash"].to_numpy(),
            "vector": vectors,
            "embedded": ~have,
            "theme_id": ids,
            "similarity": np.asarray(score, dtype=np.float64),
            "period": period_names(created, period_kind, tz).to_numpy(dtype=object),
        },
        columns=RESULT_COLUMNS,
    )


def period_theme_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Contacts per (period, theme id), "" = unassigned; sorted, so two engines compare equal."""
    if frame.empty:
        return pd.DataFrame(columns=COUNT_COLUMNS)
    theme = frame["theme_id"].astype("string").fillna("")
    counts = (
        frame.assign(theme_id=theme)
        .groupby(["period", "theme_id"], as_index=False)
        .size()
        .rename(columns={"size": "contacts"})
    )
    return tidy_counts(counts)


def tidy_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The canonical form of a count table: plain str keys, int64 counts, sorted rows."""
    out = pd.DataFrame(
        {
            "period": counts["period"].astype(str).to_numpy(),
            "theme_id": counts["theme_id"].astype("string").fillna("").astype(str).to_numpy(),
            "contacts": counts["contacts"].to_numpy(dtype=np.int64),
        }
    )
    return out.sort_values(["period", "theme_id"], ignore_index=True)
