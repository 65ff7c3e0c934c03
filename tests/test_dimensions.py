"""Wide exports: which columns become dimensions, why the others do not, bounded pair search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import make_contacts

from rca.ingest.dimensions import DimensionLimits, DimensionStats, choose_dimensions
from rca.ingest.pipeline import ingest_paths
from rca.ingest.records import ingest_records
from rca.settings import Settings
from rca.store import Store
from rca.store.analysis import dimension_columns, load_analysis_frame
from rca.store.status import store_status
from rca.trends.rootcause import MAX_PAIR_ATTRIBUTES, _pair_attributes, _slices, cells, explain

NOON = "2026-11-02T12:00:00Z"
WORDS = ("card", "refund", "late", "app", "crash", "login", "parcel", "fee", "charge", "help")


def _wide(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = make_contacts(n, seed=seed)
    for i in range(12):
        frame[f"custom_{i}"] = rng.choice([f"v{j}" for j in range(4)], size=n)
    frame["zip"] = rng.integers(10_000, 10_150, size=n).astype(str)  # ~150 values, repeated
    frame["order_ref"] = [f"ORD-{k}" for k in rng.permutation(n)]
    frame["agent_notes"] = [" ".join(rng.choice(WORDS, size=10)) for _ in range(n)]
    return frame


def test_wide_export_keeps_attributes_and_says_why_the_rest_are_set_aside(
    tmp_path: Path, home: Path
) -> None:
    settings = Settings(home=home, dimension_max_count=10)
    path = tmp_path / "wide.csv"
    _wide(400).to_csv(path, index=False)
    summary = ingest_paths([str(path)], settings)
    file = summary.files[0]
    assert len(file.dimensions) == 10
    assert file.dimensions[:2] == ["market", "app_version"]  # the file's order
    aside = file.set_aside
    assert "distinct values" in aside["zip"]
    assert "near-unique" in aside["order_ref"]
    assert "free text" in aside["agent_notes"]
    assert aside["custom_11"] == "over the limit of 10 dimensions"
    assert any("set aside" in note and "zip" in note for note in file.notes)
    with Store(settings.store_path).read() as con:
        status = store_status(con)
        frame = load_analysis_frame(con)
        names = con.execute("SELECT DISTINCT name FROM contact_dimensions").fetchall()
    stored = {r[0] for r in names}
    assert status["dimensions"] == sorted(file.dimensions)
    assert set(status["dimensions_set_aside"]) == set(aside)
    assert len(dimension_columns(frame)) == 10
    assert stored == set(file.dimensions)  # set-aside values are not stored

    # a second file keeps the same choice: the count limit does not depend on file order
    again = _wide(300, seed=1)
    again["contact_id"] = "X" + again["contact_id"]
    path2 = tmp_path / "wide2.csv"
    again[["contact_id", "created_at", "text", "custom_11", "custom_0"]].to_csv(path2, index=False)
    second = ingest_paths([str(path2)], settings).files[0]
    assert second.dimensions == ["custom_0"]
    assert second.set_aside == {"custom_11": "over the limit of 10 dimensions"}


def test_ids_posted_in_small_batches_are_set_aside_once_enough_rows_show_it(
    settings: Settings,
) -> None:
    for batch in range(7):
        records = [
            {
                "contact_id": f"A{batch}-{i}",
                "created_at": "2026-11-02T10:00:00Z",
                "text": "my card is late",
                "dimensions": {"tier": ["gold", "silver"][i % 2], "session": f"s{batch}x{i}"},
            }
            for i in range(10)
        ]
        ingest_records(records, settings)
    with Store(settings.store_path).read() as con:
        status = store_status(con)
    assert status["dimensions"] == ["tier"]
    assert "near-unique" in status["dimensions_set_aside"]["session"]


def test_a_record_with_thousands_of_dimension_keys_is_refused_with_a_reason(
    settings: Settings,
) -> None:
    wide = {f"field_{i}": "x" for i in range(3_000)}
    records = [
        {"contact_id": "W1", "created_at": NOON, "text": "hi", "dimensions": wide},
        {"contact_id": "W2", "created_at": NOON, "text": "hi", "tier": "gold"},
    ]
    outcome = ingest_records(records, settings)
    assert [r["status"] for r in outcome.results] == ["rejected", "inserted"]
    assert outcome.results[0]["reason"] == "3000 dimension keys; at most 100 per record"


def test_choice_is_pure_and_known_dimensions_come_first() -> None:
    limits = DimensionLimits(max_count=2, min_rows=10)
    stats = {
        "new": DimensionStats(100, 3, 4.0),
        "old": DimensionStats(100, 5, 4.0),
        "mapped": DimensionStats(100, 2, 4.0),
    }
    choice = choose_dimensions(
        stats, known={"old": None}, explicit=frozenset({"mapped"}), limits=limits
    )
    assert choice.kept == ["old", "mapped"]
    assert choice.set_aside == {"new": "over the limit of 2 dimensions"}
    few = choose_dimensions({"ref": DimensionStats(5, 5, 6.0)}, known={}, limits=limits)
    assert few.kept == ["ref"]  # five rows cannot tell an id from an attribute


def test_pair_search_is_bounded_and_still_finds_a_planted_pair() -> None:
    rng = np.random.default_rng(3)
    n = 4_000
    base = pd.DataFrame({f"dim_noise{i}": rng.choice(list("abcde"), size=n) for i in range(25)})
    base["dim_market"] = rng.choice(["UK", "DE", "FR"], size=n)
    base["dim_version"] = rng.choice(["1", "2", "3"], size=n)
    current = base.sample(1_000, random_state=1).copy()
    planted = current.head(300).index
    current.loc[planted, "dim_market"] = "DE"
    current.loc[planted, "dim_version"] = "3"
    dims = [c for c in base.columns]
    singles = {
        d: _slices([d], cells(current, dims), cells(base, dims), None, None, 1000.0, 20.0)
        for d in dims
    }
    chosen = _pair_attributes(singles, len(current), cells(base, dims))
    assert len(chosen) <= MAX_PAIR_ATTRIBUTES
    assert {"dim_market", "dim_version"} <= set(chosen)
    result = explain(current, dims, baseline=base, expected_total=700.0)
    assert result.top is not None
    assert set(result.top.attributes) <= {"market", "version"}


def test_dimensions_stored_before_decisions_are_judged_at_the_next_ingest(
    tmp_path: Path, settings: Settings
) -> None:
    first = tmp_path / "first.csv"
    make_contacts(200).to_csv(first, index=False)
    ingest_paths([str(first)], settings)
    with Store(settings.store_path).write() as con:  # as a store from before schema 2 holds
        con.execute("DELETE FROM dimensions")
        con.execute(
            "INSERT INTO contact_dimensions SELECT contact_id, 'zip', contact_id FROM contacts"
        )
    with Store(settings.store_path).read() as con:
        assert "zip" in store_status(con)["dimensions"]
    second = tmp_path / "second.csv"
    more = make_contacts(5, seed=4)
    more["contact_id"] = "N" + more["contact_id"]
    more.to_csv(second, index=False)
    summary = ingest_paths([str(second)], settings)
    assert summary.files[0].set_aside == {}  # the file's own columns are fine
    with Store(settings.store_path).read() as con:
        status = store_status(con)
        frame = load_analysis_frame(con)
    assert status["dimensions"] == ["app_version", "market"]
    assert "near-unique" in status["dimensions_set_aside"]["zip"]
    assert "dim_zip" not in frame.columns
