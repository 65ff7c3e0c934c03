"""Conversation and handler fields (issues 18, 20): mapped, stored as columns, hash-stable."""

from __future__ import annotations

import hashlib

import pandas as pd

from rca.ingest.pipeline import ingest_paths
from rca.ingest.prepare import CONTENT_COLUMNS, FIELD_SEPARATOR, content_hashes
from rca.settings import Settings
from rca.store import Store
from rca.store.analysis import load_analysis_frame
from tests.conftest import make_contacts


def test_handler_and_thread_fields_are_contact_columns_not_dimensions(tmp_path) -> None:
    frame = make_contacts(6).assign(
        vendor=["Acme", "Acme", "Bolt", "", "Bolt", "Acme"],
        site=["Manila", "Manila", "Cebu", "", "Cebu", "Pune"],
        agent_id=["a1", "a2", "b1", "", "b1", "a1"],
        conversation_id=["c1", "c1", "c2", "", "", "c3"],
        in_reply_to=["", "C00000", "", "", "", ""],
    )
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    settings = Settings(home=tmp_path / "home")
    ingest_paths([str(path)], settings)
    with Store(settings.store_path).read() as con:
        stored = load_analysis_frame(con).set_index("contact_id")
        dims = {
            r[0] for r in con.execute("SELECT DISTINCT name FROM contact_dimensions").fetchall()
        }
    assert stored.loc["C00000", "vendor"] == "Acme" and stored.loc["C00002", "site"] == "Cebu"
    assert stored.loc["C00001", "in_reply_to"] == "C00000"
    assert pd.isna(stored.loc["C00003", "vendor"])  # empty -> null, like every field
    assert not {"vendor", "site", "agent_id", "conversation_id", "in_reply_to"} & dims
    # re-ingest: nothing changed
    again = ingest_paths([str(path)], settings)
    assert again.files[0].unchanged == 6


def test_exports_without_the_new_fields_keep_their_content_hash() -> None:
    valid = make_contacts(3)
    for column in CONTENT_COLUMNS:
        if column not in valid:
            valid[column] = None
    old = valid[list(CONTENT_COLUMNS)].astype(object).where(valid.notna(), "").astype(str)
    joined = old.apply(lambda row: FIELD_SEPARATOR.join(row), axis=1)
    expected = joined.map(lambda s: hashlib.sha256(s.encode()).hexdigest()[:32])
    assert content_hashes(valid, []).tolist() == expected.tolist()
    with_vendor = content_hashes(valid.assign(vendor=["Acme", "", ""]), [])
    assert with_vendor.iloc[0] != expected.iloc[0] and with_vendor.iloc[1] == expected.iloc[1]
