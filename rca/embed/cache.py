"""The embedding cache in the store: one vector per (normalised-text hash, model id).

Identical texts (templated messages, copy-pasted complaints) are embedded once, and a refit
or a re-run embeds only what is new. Embedding is slow, so it runs with no store connection
open; the results are written in one short transaction afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from rca.embed.encoder import Encoder, EncodeStats
from rca.store import Store


def missing_hashes(con: duckdb.DuckDBPyConnection, model: str, hashes: pd.Series) -> pd.Series:
    """The distinct hashes that have no vector for `model` yet."""
    wanted = pd.DataFrame({"text_hash": pd.unique(hashes.astype(str))})
    con.register("wanted_hashes", wanted)
    try:
        have = con.execute(
            "SELECT w.text_hash FROM wanted_hashes w JOIN embeddings e "
            "ON e.text_hash = w.text_hash AND e.model_id = ?",
            [model],
        ).df()
    finally:
        con.unregister("wanted_hashes")
    return wanted.loc[~wanted["text_hash"].isin(have["text_hash"]), "text_hash"]


def write_vectors(
    con: duckdb.DuckDBPyConnection, model: str, hashes: pd.Series, vectors: np.ndarray
) -> None:
    frame = pd.DataFrame(
        {
            "text_hash": hashes.to_numpy(),
            "model_id": model,
            "vector": list(vectors.astype(np.float32)),
            "created_at": datetime.now(UTC),
        }
    )
    con.register("new_vectors", frame)
    try:
        con.execute(
            "INSERT INTO embeddings SELECT text_hash, model_id, vector::FLOAT[], created_at "
            "FROM new_vectors ON CONFLICT DO NOTHING"
        )
    finally:
        con.unregister("new_vectors")


def read_vectors(con: duckdb.DuckDBPyConnection, model: str, hashes: pd.Series) -> np.ndarray:
    """Vectors in the order of `hashes` (which may repeat); every hash must be cached."""
    wanted = pd.DataFrame({"text_hash": hashes.astype(str).to_numpy()})
    wanted["pos"] = np.arange(len(wanted))
    con.register("wanted_vectors", wanted)
    try:
        rows = con.execute(
            "SELECT w.pos, e.vector FROM wanted_vectors w JOIN embeddings e "
            "ON e.text_hash = w.text_hash AND e.model_id = ? ORDER BY w.pos",
            [model],
        ).fetchnumpy()
    finally:
        con.unregister("wanted_vectors")
    if len(rows["pos"]) != len(wanted):
        raise KeyError(f"{len(wanted) - len(rows['pos'])} texts have no cached vector")
    if not len(wanted):
        return np.zeros((0, 0))
    return np.vstack(rows["vector"]).astype(np.float32, copy=False)  # no second 1.5 GB at 1M


def ensure_embeddings(
    store: Store, encoder: Encoder, frame: pd.DataFrame, *, progress: bool | None = None
) -> EncodeStats:
    """Embed the `text_norm` of every row of `frame` whose `text_hash` is not cached yet."""
    with store.read() as con:
        todo = missing_hashes(con, encoder.model_id, frame["text_hash"])
    if todo.empty:
        return EncodeStats(0, 0.0)
    texts = frame.drop_duplicates("text_hash").set_index("text_hash").loc[todo, "text_norm"]
    vectors = encoder.encode(texts.tolist(), progress=progress)
    with store.write() as con:
        write_vectors(con, encoder.model_id, todo, vectors)
    return encoder.last_stats or EncodeStats(len(todo), 0.0)
