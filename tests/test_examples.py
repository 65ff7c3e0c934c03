"""Example cases for SOP authors: the four kinds and a CSV that opens cleanly."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from rca.repeats.detect import detect_repeats
from rca.repeats.examples import (
    UTF8_BOM,
    case_records,
    cases_to_csv,
    example_cases,
)

T0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")


def frame_of(rows: list[dict]) -> pd.DataFrame:
    base = {
        "customer_id": None,
        "channel": "chat",
        "is_escalation": False,
        "handle_time_s": 300.0,
        "resolution": None,
        "csat": np.nan,
        "similarity": 0.5,
        "theme_id": "T1",
        "dim_market": "UK",
    }
    records = [
        {**base, "contact_id": f"C{i:03d}", "created_at": T0 + pd.Timedelta(hours=i), **row}
        for i, row in enumerate(rows)
    ]
    return pd.DataFrame(records)


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_representative_prefers_a_resolution_note_and_skips_near_duplicates() -> None:
    frame = frame_of(
        [
            {"text": "refund not showing", "similarity": 0.90},
            {"text": "Refund not showing!", "similarity": 0.89},  # same text, normalised
            {"text": "refund missing from card", "similarity": 0.88, "resolution": "Refund issued"},
            {"text": "where is my refund", "similarity": 0.70},
            {"text": "card declined", "similarity": 0.95, "theme_id": "T2"},
        ]
    )
    cases = example_cases(frame, "T1", n=3)
    assert cases["contact_id"].tolist() == ["C002", "C000", "C003"]
    assert (cases["kind"] == "representative").all() and cases["rank"].tolist() == [1, 2, 3]


def test_representative_with_embeddings_uses_mmr() -> None:
    frame = frame_of([{"text": f"case {i}"} for i in range(4)])
    vectors = np.stack([unit(1, 0.1), unit(1, 0.11), unit(1, 0.5), unit(0.2, 1)])
    cases = example_cases(frame, "T1", n=2, vectors=vectors, centroid=unit(1, 0.1))
    # the nearest, then not its near-copy (cosine > 0.95) but the next distinct one
    assert cases["contact_id"].tolist() == ["C000", "C002"]


def test_recent_and_escalated() -> None:
    frame = frame_of(
        [
            {"text": "a", "is_escalation": True},
            {"text": "b"},
            {"text": "c", "is_escalation": True, "similarity": 0.9},
            {"text": "c"},  # newest, but the same text as C002
        ]
    )
    assert example_cases(frame, "T1", kind="recent", n=3)["contact_id"].tolist() == [
        "C003",
        "C001",
        "C000",
    ]
    escalated = example_cases(frame, "T1", kind="escalated", n=5)
    assert escalated["contact_id"].tolist() == ["C002", "C000"]


def test_repeat_returns_whole_chains_and_a_theme_without_repeats_returns_none() -> None:
    frame = frame_of(
        [
            {"customer_id": "U1", "text": "my refund is missing"},
            {"customer_id": "U2", "text": "card declined", "theme_id": "T2"},
            {"customer_id": "U1", "text": "still no refund", "theme_id": "T3"},
            {"customer_id": "U1", "text": "third time: refund?", "is_escalation": True},
        ]
    )
    vectors = np.stack([unit(1, 0), unit(0, 1), unit(1, 0.2), unit(1, 0.1)])
    marked = detect_repeats(frame, vectors)
    cases = example_cases(marked, "T1", kind="repeat", n=5)
    assert cases["contact_id"].tolist() == ["C000", "C002", "C003"]
    assert cases["chain_pos"].tolist() == [1, 2, 3]
    assert cases["repeat_status"].tolist() == ["first", "repeat", "repeat"]
    assert example_cases(marked, "T2", kind="repeat").empty
    with pytest.raises(ValueError, match="detect_repeats"):
        example_cases(frame, "T1", kind="repeat")
    with pytest.raises(ValueError, match="kind"):
        example_cases(frame, "T1", kind="funny")


def test_records_nest_the_dimensions() -> None:
    cases = example_cases(frame_of([{"text": "x"}]), "T1")
    (record,) = case_records(cases)
    assert record["dimensions"] == {"market": "UK"}
    assert record["contact_id"] == "C000" and "dim_market" not in record


def test_csv_opens_cleanly_in_a_spreadsheet() -> None:
    frame = frame_of(
        [
            {"text": 'Hi team,\nmy "refund" is missing.\r\nThanks, Zoë', "resolution": "Refund"},
            {"text": '=HYPERLINK("http://x")', "dim_market": "DE"},
        ]
    )
    cases = example_cases(frame, "T1", kind="recent")
    text = cases_to_csv(cases, bom=True)
    assert text.startswith(UTF8_BOM) and not cases_to_csv(cases).startswith(UTF8_BOM)
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2
    by_id = {r["contact_id"]: r for r in rows}
    # the signature's name is redacted for people (rca.text.audience), the rest kept verbatim
    assert by_id["C000"]["text"] == 'Hi team,\nmy "refund" is missing.\r\nThanks, [NAME]'
    assert by_id["C001"]["text"].startswith("'=")  # not run as a formula
    assert by_id["C001"]["dim_market"] == "DE"
    assert by_id["C000"]["created_at"].startswith("2026-11-02T09:00:00")
    assert by_id["C000"]["chain_id"] == ""  # missing values are empty cells
    assert text.count("\r\n") >= 3  # row ends are CRLF
    # in the service's zone, ISO 8601 with its offset: the day a reader sees is the local day
    from zoneinfo import ZoneInfo

    local = cases_to_csv(cases, tz=ZoneInfo("America/Los_Angeles"))
    stamps = {r["contact_id"]: r["created_at"] for r in csv.DictReader(io.StringIO(local))}
    assert stamps["C000"] == "2026-11-02T01:00:00-08:00"
