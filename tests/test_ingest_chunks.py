"""A file ingested in chunks leaves the store exactly as the same file ingested whole (issue 22).

Each export below puts the per-file decisions where a chunk alone would get them wrong: the
day/month order told only by the last chunk's dates, a duplicate contact id whose first
occurrence is chunks earlier, a Windows-1252 line far into a UTF-8 file, a column that is an
id only across the whole file, JSON Lines keys and JSON objects that first appear late, a brand
handle whose five authors are spread over several chunks, and a conversation id reused by two
customers in different chunks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from conftest import make_contacts

from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings
from rca.store import Store

NOW = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 37


def _store(settings: Settings) -> dict[str, pd.DataFrame]:
    """Every table ingest writes, without what differs by run (ingest id, wall clock)."""
    queries = {
        "contacts": "SELECT * EXCLUDE (ingest_id) FROM contacts ORDER BY contact_id",
        "dims": "SELECT * FROM contact_dimensions ORDER BY ALL",
        "quarantine": "SELECT * EXCLUDE (ingest_id) FROM quarantine ORDER BY line",
        "dimensions": "SELECT * FROM dimensions ORDER BY name",
        "ingests": "SELECT * EXCLUDE (ingest_id, finished_at) FROM ingests ORDER BY file",
        "context": "SELECT * EXCLUDE (ingest_id) FROM context_messages ORDER BY message_id",
    }
    with Store(settings.store_path).read() as con:
        return {name: con.execute(sql).df() for name, sql in queries.items()}


def _ingest_both(tmp_path: Path, path: Path) -> tuple[dict, dict, list[str], dict]:
    """The file ingested in chunks of CHUNK rows and whole; stores, progress, summaries."""
    chunked = Settings(home=tmp_path / "chunked", timezone="Europe/London", ingest_chunk_rows=CHUNK)
    whole = Settings(home=tmp_path / "whole", timezone="Europe/London")
    said: list[str] = []
    first = ingest_paths([str(path)], chunked, now=NOW, progress=said.append)
    second = ingest_paths([str(path)], whole, now=NOW)
    summaries = {k: {**s.to_dict(), "ingest_id": None, "seconds": None} for k, s in
                 (("chunked", first), ("whole", second))}  # fmt: skip
    return _store(chunked), _store(whole), said, summaries


def _assert_same(chunked: dict, whole: dict) -> None:
    for name in whole:
        pd.testing.assert_frame_equal(chunked[name], whole[name], obj=name)


def test_a_csv_in_chunks_is_stored_as_the_whole_file(tmp_path: Path) -> None:
    frame = make_contacts(300, seed=4)
    # day/month order: every date ambiguous (05/10/2026) until the last chunk says day first
    frame["created_at"] = [
        f"{1 + i % 12:02d}/{9 + i % 3:02d}/2026 10:{i % 60:02d}" for i in range(300)
    ]
    frame.loc[285, "created_at"] = "25/10/2026 10:00"  # valid only day first: the file's order
    frame.loc[290, "created_at"] = "26/10/2026 10:00"
    frame.loc[295, "created_at"] = "10/25/2026 11:00"  # contradicts it: quarantined
    frame.loc[250, "contact_id"] = frame.loc[3, "contact_id"]  # first seen 6 chunks earlier
    frame.loc[120, "text"] = ""  # a row-level reject mid-file
    frame.loc[10, "text"] = "Crème brûlée refund still missing"  # UTF-8 beside Windows-1252
    letters = [chr(97 + k) for k in range(26)]
    frame["ticket_ref"] = [f"{letters[i % 26]}{letters[i // 26]}" for i in range(300)]  # an id
    frame["plan"] = ["basic"] * 180 + [f"p{i}" for i in range(120)]  # many values late
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    raw = path.read_bytes().splitlines(keepends=True)
    raw.insert(200, b"L-1,2026-10-01 10:00,Caf\xe9 cr\xe8me refund,U9,chat,false,60,UK,5.1.0,x,y\n")
    raw.insert(230, b"L-2,2026-10-01 10:00,too,few,fields\n")
    path.write_bytes(b"".join(raw))

    chunked, whole, said, summaries = _ingest_both(tmp_path, path)

    assert len([m for m in said if "rows written" in m]) == -(-300 // CHUNK)  # really chunked
    _assert_same(chunked, whole)
    assert summaries["chunked"] == summaries["whole"]
    file = summaries["whole"]["files"][0]
    assert file["encoding"] == "mixed" and file["date_order"] == "day first"
    assert {"ticket_ref", "plan"} <= set(file["set_aside"])
    reasons = " ".join(whole["quarantine"]["reason"])
    assert "duplicate contact_id: first at line 5" in reasons
    assert "contradicts the file's date order" in reasons
    assert "wrong field count" in reasons

    chunked_home = Settings(
        home=tmp_path / "chunked", timezone="Europe/London", ingest_chunk_rows=CHUNK
    )
    again = ingest_paths([str(path)], chunked_home, now=NOW)  # a chunked re-ingest: a no-op
    assert again.totals()["unchanged"] == summaries["whole"]["totals"]["inserted"]
    assert again.totals()["inserted"] == again.totals()["updated"] == 0
    after = _store(chunked_home)
    for name in ("contacts", "dims", "quarantine", "dimensions", "context"):
        pd.testing.assert_frame_equal(after[name], chunked[name], obj=name)


def test_a_jsonl_in_chunks_is_stored_as_the_whole_file(tmp_path: Path) -> None:
    records = []
    for i in range(200):
        record = {
            "contact_id": f"M{i:04d}",
            "created_at": f"2026-10-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
            "text": f"@ShopHelp my parcel {i} never arrived" if i % 40 == 0 else f"late order {i}",
            "customer_id": f"U{i % 90:03d}",
            "conversation_id": "conv-1" if i in (5, 150) else f"conv-{i}",
            "direction": "outbound" if i % 50 == 7 else "inbound",
        }
        if i >= 120:  # a key no earlier record had
            record["market"] = ["UK", "DE"][i % 2]
        if i == 180:
            record["meta"] = {"source": "widget"}  # a dimension of JSON objects: unfit
        elif i > 100:
            record["meta"] = "plain"
        records.append(record)
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")

    chunked, whole, said, summaries = _ingest_both(tmp_path, path)

    assert len([m for m in said if "rows written" in m]) > 1
    _assert_same(chunked, whole)
    assert summaries["chunked"] == summaries["whole"]
    file = summaries["whole"]["files"][0]
    assert "addressed_to" in file["dimensions"] and "market" in file["dimensions"]
    assert "meta" in file["set_aside"]
    assert any("used by more than one customer" in n for n in file["notes"])


def test_a_parquet_in_chunks_is_stored_as_the_whole_file(tmp_path: Path) -> None:
    """An integer column with its only null in the last chunk is read as floats by pandas for
    the whole file ("5.0"): every chunk must read it so, or content hashes and values differ."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_contacts(120, seed=2)
    frame["handle_time_s"] = frame["handle_time_s"].astype("Int64")
    frame.loc[100, "handle_time_s"] = None
    frame["score"] = frame["handle_time_s"] % 7  # a dimension of integers with one null
    frame["tags"] = [None] * 110 + [["a", "b"]] * 10  # lists from the last chunk on: unfit
    path = tmp_path / "export.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path)  # no pandas metadata, as another tool writes it

    chunked, whole, said, summaries = _ingest_both(tmp_path, path)

    assert len([m for m in said if "rows written" in m]) > 1
    _assert_same(chunked, whole)
    assert summaries["chunked"] == summaries["whole"]
    assert "tags" in summaries["whole"]["files"][0]["set_aside"]
