"""The demo stream: determinism, schema, calendar shape and every planted event."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rca.demo import (
    BURST_APP_VERSION,
    BURST_INTENT,
    BURST_MARKET,
    NEW_THEME_INTENT,
    WORST_REPEAT_INTENT,
    DemoConfig,
    DemoStream,
    generate_demo,
    generate_stream,
    load_corpus,
    write_demo,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
COLUMNS = [
    "contact_id",
    "created_at",
    "text",
    "customer_id",
    "channel",
    "is_escalation",
    "handle_time_s",
    "resolution",
    "csat",
    "market",
    "seller_tier",
    "product_area",
    "app_version",
    "vendor",
    "site",
    "agent_id",
]
TRUTH_COLUMNS = ["contact_id", "intent", "source", "chain_id", "chain_pos", "planted"]
ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
SMALL = DemoConfig(n_contacts=5_000, seed=7)
#: Events need enough volume per week to be measured; 20k still generates in well under 1 s.
FULL = DemoConfig(n_contacts=20_000, seed=0)
DAY = 86_400


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return load_corpus(DATA_DIR)


@pytest.fixture(scope="module")
def small(corpus: pd.DataFrame) -> DemoStream:
    return generate_demo(corpus, SMALL)


@pytest.fixture(scope="module")
def full(corpus: pd.DataFrame) -> DemoStream:
    return generate_demo(corpus, FULL)


@pytest.fixture(scope="module")
def rows(full: DemoStream) -> pd.DataFrame:
    """Contacts joined with truth, plus UTC seconds and the week index for assertions."""
    frame = full.contacts.merge(full.truth, on="contact_id", validate="one_to_one")
    stamp = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    frame["utc_s"] = (stamp - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    local_day = pd.to_datetime(frame["created_at"].str.slice(0, 10))
    frame["local_day"] = local_day
    frame["week"] = (local_day - pd.Timestamp(FULL.start)).dt.days // 7
    return frame


def _weekly(frame: pd.DataFrame, mask: pd.Series, weeks: int) -> np.ndarray:
    return frame.loc[mask, "week"].value_counts().reindex(range(weeks), fill_value=0).to_numpy()


# --- corpus -----------------------------------------------------------------------------------


def test_corpus_has_both_datasets_prefixed(corpus: pd.DataFrame) -> None:
    assert list(corpus.columns) == ["text", "intent", "source"]
    assert set(corpus["source"]) == {"banking77", "bitext"}
    b77 = corpus[corpus["source"] == "banking77"]
    bitext = corpus[corpus["source"] == "bitext"]
    assert b77["intent"].str.startswith("b77:").all()
    assert bitext["intent"].str.startswith("bitext:").all()
    assert b77["intent"].nunique() == 77
    assert bitext["intent"].nunique() == 27
    assert (corpus["text"].str.len() > 0).all()
    assert not corpus.duplicated(["intent", "text"]).any()


# --- determinism and shape --------------------------------------------------------------------


def test_same_seed_is_identical(corpus: pd.DataFrame, small: DemoStream) -> None:
    again = generate_demo(corpus, SMALL)
    pd.testing.assert_frame_equal(small.contacts, again.contacts)
    pd.testing.assert_frame_equal(small.truth, again.truth)
    assert json.dumps(small.manifest) == json.dumps(again.manifest)


def test_other_seed_differs(corpus: pd.DataFrame, small: DemoStream) -> None:
    other = generate_demo(corpus, DemoConfig(n_contacts=SMALL.n_contacts, seed=SMALL.seed + 1))
    assert not small.contacts["created_at"].equals(other.contacts["created_at"])
    assert not small.contacts["text"].equals(other.contacts["text"])


def test_generate_stream_matches_generate_demo(corpus: pd.DataFrame, small: DemoStream) -> None:
    contacts, manifest = generate_stream(corpus, SMALL)
    pd.testing.assert_frame_equal(contacts, small.contacts)
    assert manifest == small.manifest


@pytest.mark.parametrize("n", [100, 1_234, 5_001])
def test_exact_row_count(corpus: pd.DataFrame, n: int) -> None:
    stream = generate_demo(corpus, DemoConfig(n_contacts=n, weeks=8, seed=n))
    assert len(stream.contacts) == n
    assert len(stream.truth) == n
    assert stream.manifest["counts"]["contacts"] == n


def test_columns_dtypes_and_ids(small: DemoStream) -> None:
    contacts, truth = small.contacts, small.truth
    assert list(contacts.columns) == COLUMNS
    assert list(truth.columns) == TRUTH_COLUMNS
    assert "intent" not in contacts.columns
    assert contacts["contact_id"].is_unique
    assert contacts["contact_id"].str.fullmatch(r"C\d{6}").all()
    assert (truth["contact_id"] == contacts["contact_id"]).all()
    for col in COLUMNS:
        if col not in ("is_escalation", "handle_time_s", "csat"):
            assert pd.api.types.is_string_dtype(contacts[col]), col
    assert contacts["is_escalation"].dtype == bool
    assert contacts["handle_time_s"].dtype == np.int64
    assert str(contacts["csat"].dtype) == "Int64"
    assert pd.api.types.is_integer_dtype(truth["chain_pos"])
    assert contacts["created_at"].str.fullmatch(ISO_PATTERN).all()


def test_value_sets_and_rates(small: DemoStream) -> None:
    contacts = small.contacts
    n = len(contacts)
    assert set(contacts["channel"]) <= {"email", "chat", "phone", "web_form", "app"}
    assert set(contacts["market"]) == {"UK", "DE", "FR", "ES", "US", "IT", "NL"}
    assert contacts["market"].value_counts().index[0] == "UK"
    assert contacts["seller_tier"].value_counts().index[0] == "bronze"
    assert 0.02 <= (contacts["customer_id"] == "").mean() <= 0.04
    assert 0.35 <= (contacts["resolution"] != "").mean() <= 0.45
    csat = contacts["csat"].dropna()
    assert 0.25 <= len(csat) / n <= 0.35
    assert csat.between(1, 5).all()
    assert (contacts["handle_time_s"] > 0).all()
    assert 0.04 <= contacts["is_escalation"].mean() <= 0.2
    assert (contacts["text"].str.len() > 0).all()
    fake_pii = contacts["text"].str.contains("@example.com|555 01|4111 1111 1111 1111|ORD-")
    assert 0.01 <= fake_pii.mean() <= 0.06


def test_write_demo_is_byte_identical(tmp_path: Path) -> None:
    config = DemoConfig(n_contacts=2_000, seed=3)
    first = write_demo(tmp_path / "a", DATA_DIR, config)
    second = write_demo(tmp_path / "b", DATA_DIR, config)
    assert [p.name for p in first] == ["contacts.csv", "truth.csv", "manifest.json"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    contacts = pd.read_csv(first[0], dtype=str, keep_default_na=False)
    assert list(contacts.columns) == COLUMNS
    assert len(contacts) == config.n_contacts
    manifest = json.loads(first[2].read_text(encoding="utf-8"))
    assert manifest["config"]["seed"] == 3
    assert "CC BY 4.0" in manifest["attribution"]["banking77"]
    assert "CDLA-Sharing-1.0" in manifest["attribution"]["bitext"]


def test_bad_config_is_refused(corpus: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Sunday"):
        generate_demo(corpus, DemoConfig(n_contacts=1_000, end=date(2026, 11, 20)))
    with pytest.raises(ValueError, match="weeks"):
        generate_demo(corpus, DemoConfig(n_contacts=1_000, weeks=2))
    with pytest.raises(ValueError, match="planted intents"):
        generate_demo(corpus[corpus["intent"] != BURST_INTENT], SMALL)


# --- calendar ---------------------------------------------------------------------------------


def test_timestamps_inside_window_and_sorted(rows: pd.DataFrame) -> None:
    assert rows["local_day"].min() == pd.Timestamp(FULL.start)
    assert rows["local_day"].max() == pd.Timestamp(FULL.end)
    assert rows["utc_s"].is_monotonic_increasing
    summer = rows["created_at"].str.endswith("+01:00")
    winter = rows["created_at"].str.endswith("+00:00")
    assert (summer | winter).all() and summer.any() and winter.any()  # DST ends 2026-10-25


def test_weekend_dip_office_hours_and_growth(rows: pd.DataFrame) -> None:
    per_day = rows.groupby("local_day").size()
    weekend = per_day.index.day_of_week >= 5
    ratio = per_day[weekend].mean() / per_day[~weekend].mean()
    assert 0.35 <= ratio <= 0.55
    hour = rows["created_at"].str.slice(11, 13).astype(int)
    assert hour.between(9, 16).mean() > 2 * hour.between(0, 7).mean()
    weekly = rows.groupby("week").size().to_numpy()
    assert weekly[10:13].mean() > weekly[1:4].mean()


def test_intent_popularity_is_skewed(full: DemoStream) -> None:
    share = full.truth["intent"].value_counts(normalize=True)
    assert share.iloc[0] > 5 * share.median()


# --- planted events ---------------------------------------------------------------------------


def test_burst_spike_in_one_market_and_version(full: DemoStream, rows: pd.DataFrame) -> None:
    burst = full.manifest["burst"]
    assert burst["intent"] == BURST_INTENT
    assert burst["attributes"] == {"market": BURST_MARKET, "app_version": BURST_APP_VERSION}
    assert burst["window"]["end"] == FULL.end.isoformat()
    weekly = _weekly(rows, rows["intent"] == BURST_INTENT, FULL.weeks)
    baseline = weekly[:-2].mean()
    assert weekly[-2:].min() >= 2.5 * baseline
    in_window = (rows["intent"] == BURST_INTENT) & (rows["week"] >= FULL.weeks - 2)
    before = (rows["intent"] == BURST_INTENT) & (rows["week"] < FULL.weeks - 2)
    assert (rows.loc[in_window, "market"] == BURST_MARKET).mean() > 0.5
    assert (rows.loc[in_window, "app_version"] == BURST_APP_VERSION).mean() > 0.6
    assert (rows.loc[before, "market"] == BURST_MARKET).mean() < 0.3
    planted = rows["planted"] == "burst"
    assert planted.sum() == burst["affected_contacts"] > 0
    assert (rows.loc[planted, "market"] == BURST_MARKET).mean() > 0.75
    assert (rows.loc[planted, "app_version"] == BURST_APP_VERSION).mean() > 0.8


def test_slow_rise_grows_over_last_weeks(full: DemoStream, rows: pd.DataFrame) -> None:
    rise = full.manifest["slow_rise"]
    weekly = _weekly(rows, rows["intent"] == rise["intent"], FULL.weeks)
    baseline = weekly[:-4].mean()
    assert weekly[-1] > 2 * baseline
    assert weekly[-4:].sum() > 1.5 * 4 * baseline
    assert rise["affected_contacts"] == (rows["planted"] == "slow_rise").sum()


def test_new_theme_absent_before_first_seen(full: DemoStream, rows: pd.DataFrame) -> None:
    new = full.manifest["new_theme"]
    assert new["intent"] == NEW_THEME_INTENT
    first_seen = pd.Timestamp(new["first_seen"])
    theme = rows["intent"] == NEW_THEME_INTENT
    assert rows.loc[theme, "local_day"].min() == first_seen
    assert first_seen >= pd.Timestamp(FULL.end - timedelta(days=20))
    assert theme.sum() == new["affected_contacts"] >= 150


def test_worst_repeat_offender_leads_repeats(full: DemoStream, rows: pd.DataFrame) -> None:
    assert full.manifest["worst_repeat_intent"] == WORST_REPEAT_INTENT
    first = rows[(rows["chain_pos"] <= 1) & (rows["planted"] != "continuation")]
    counts = first.groupby("intent").size()
    rate = first.groupby("intent")["chain_pos"].mean()[counts >= 50]
    assert rate.idxmax() == WORST_REPEAT_INTENT
    assert rate.max() >= 0.25
    followups = rows.loc[rows["chain_pos"] >= 2, "intent"].value_counts()
    assert followups.index[0] == WORST_REPEAT_INTENT


def test_repeat_chains(full: DemoStream, rows: pd.DataFrame) -> None:
    chains = full.manifest["repeat_chains"]
    customers = rows.loc[rows["customer_id"] != "", "customer_id"].nunique()
    assert 0.08 <= len(chains) / customers <= 0.12
    assert {len(c) for c in chains} <= {2, 3, 4}
    by_id = rows.set_index("contact_id")
    members = pd.DataFrame(
        [(i, pos, cid) for i, chain in enumerate(chains) for pos, cid in enumerate(chain, 1)],
        columns=["chain", "pos", "contact_id"],
    ).join(by_id, on="contact_id")
    assert (members["chain_pos"] == members["pos"]).all()
    grouped = members.groupby("chain")
    assert (grouped["customer_id"].nunique() == 1).all()
    assert (members["customer_id"] != "").all()
    assert (grouped["intent"].nunique() == 1).all()
    assert (grouped["chain_id"].nunique() == 1).all()
    gaps = grouped["utc_s"].diff().dropna()
    assert gaps.between(1 * DAY, 6 * DAY).all()
    first_text = grouped["text"].transform("first")
    followup = members["pos"] >= 2
    assert (members.loc[followup, "text"] != first_text[followup]).all()
    assert (by_id["chain_id"] != "").sum() == len(members)
    assert members.loc[followup, "is_escalation"].mean() > rows["is_escalation"].mean()
    switched = members["channel"] != grouped["channel"].transform("first")
    assert switched[followup].mean() > 0.3


def test_continuations_are_minutes_apart(full: DemoStream, rows: pd.DataFrame) -> None:
    pairs = full.manifest["continuations"]
    assert len(pairs) > 0
    by_id = rows.set_index("contact_id")
    original = by_id.loc[[p[0] for p in pairs]].reset_index()
    follow = by_id.loc[[p[1] for p in pairs]].reset_index()
    gap = follow["utc_s"] - original["utc_s"]
    assert gap.between(60, 15 * 60).all()
    assert (original["customer_id"] == follow["customer_id"]).all()
    assert (original["customer_id"] != "").all()
    assert (original["intent"] == follow["intent"]).all()
    assert (follow["planted"] == "continuation").all()
    assert (follow["chain_id"] == "").all() and (original["chain_id"] == "").all()
    assert (rows["planted"] == "continuation").sum() == len(pairs)


def test_different_issue_returns_are_not_repeats(full: DemoStream, rows: pd.DataFrame) -> None:
    by_id = rows.set_index("contact_id")
    for key, max_days in (("different_issue_pairs", 7), ("returning_customer_pairs", 56)):
        pairs = full.manifest[key]
        assert len(pairs) > 0
        earlier = by_id.loc[[p[0] for p in pairs]].reset_index()
        later = by_id.loc[[p[1] for p in pairs]].reset_index()
        assert (earlier["customer_id"] == later["customer_id"]).all()
        assert (earlier["intent"] != later["intent"]).all()
        gap = later["utc_s"] - earlier["utc_s"]
        assert gap.between(1, max_days * DAY).all()


def test_no_unplanted_same_intent_recontacts(rows: pd.DataFrame) -> None:
    """Every same-customer, same-intent recontact within 6 days is a planted chain step."""
    known = rows[rows["customer_id"] != ""].sort_values("utc_s")
    prev = known.groupby(["customer_id", "intent"])["utc_s"].diff()
    recontact = prev.between(0, 6 * DAY)
    planted = (known["chain_pos"] >= 2) | (known["planted"] == "continuation")
    assert (recontact == planted).all()
