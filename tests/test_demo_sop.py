"""The demo's planted SOP changes (rca.demo.planted_sop): only what each change says moves."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rca.demo import DemoConfig, generate_demo, load_corpus
from rca.demo.planted_sop import (
    EFFECTIVE_INTENT,
    MARKET,
    MARKET_FACTOR,
    MARKET_INTENT,
    effective_day,
    themes_for_intents,
    themes_holding_intents,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CONFIG = DemoConfig(n_contacts=20_000, seed=0)


@pytest.fixture(scope="module")
def streams():
    corpus = load_corpus(DATA_DIR)
    return generate_demo(corpus, CONFIG), generate_demo(corpus, replace(CONFIG, sop_changes=True))


def test_without_the_flag_nothing_is_planted(streams) -> None:
    plain, _ = streams
    assert "sop_changes" not in plain.manifest


def test_the_effective_change_halves_its_intents_returns_and_touches_nothing_else(streams):
    plain, planted = streams
    entry = {p["kind"]: p for p in planted.manifest["sop_changes"]}
    rates = entry["effective"]["truth_repeat_rate_after"]
    assert rates["with_change"] == pytest.approx(rates["without_change"] / 2, rel=0.2)
    assert len(planted.contacts) == len(plain.contacts)
    moved = plain.contacts["customer_id"] != planted.contacts["customer_id"]
    day = effective_day(CONFIG.end).isoformat()
    assert moved.sum() == entry["effective"]["followups_moved"] > 0
    assert (plain.truth.loc[moved, "intent"] == EFFECTIVE_INTENT).all()
    assert (planted.contacts.loc[moved, "created_at"].str.slice(0, 10) >= day).all()
    for column in ("text", "created_at", "channel", "market"):
        pd.testing.assert_series_equal(plain.contacts[column], planted.contacts[column])
    kept = {tuple(c) for c in planted.manifest["repeat_chains"]}
    assert kept < {tuple(c) for c in plain.manifest["repeat_chains"]}
    assert planted.manifest["counts"]["repeat_chains"] == len(kept)


def test_the_market_change_cuts_escalations_in_its_market_only(streams) -> None:
    plain, planted = streams
    changed = plain.contacts["is_escalation"] != planted.contacts["is_escalation"]
    assert changed.sum() > 0 and not planted.contacts.loc[changed, "is_escalation"].any()
    assert (planted.contacts.loc[changed, "market"] == MARKET).all()
    assert (plain.truth.loc[changed, "intent"] == MARKET_INTENT).all()
    entry = next(p for p in planted.manifest["sop_changes"] if p["kind"] == "market")
    rates = entry["truth_escalation_rate_in_market"]
    assert rates["after"] < rates["before"] * (MARKET_FACTOR + 0.25)
    assert entry["scope"] == {"market": MARKET}


def test_each_intent_goes_to_the_theme_holding_most_of_it() -> None:
    truth = pd.DataFrame({"contact_id": list("abcde"), "intent": ["x", "x", "x", "y", "z"]})
    assignments = pd.DataFrame({"contact_id": list("abcd"),
                                "theme_id": ["T1", "T2", "T2", np.nan]})  # fmt: skip
    assert themes_for_intents(truth, assignments, ["x", "y", "z"]) == {
        "x": "T2", "y": None, "z": None,
    }  # fmt: skip


def test_a_change_goes_to_every_theme_holding_a_real_share_of_its_intent() -> None:
    truth = pd.DataFrame({"contact_id": [f"c{i}" for i in range(20)],
                          "intent": ["x"] * 19 + ["y"]})  # fmt: skip
    themes = ["T1"] * 9 + ["T2"] * 8 + ["T3"] + [np.nan] + ["T4"]  # T3: 1 of 18, noise
    assignments = pd.DataFrame({"contact_id": truth["contact_id"], "theme_id": themes})
    assert themes_holding_intents(truth, assignments, ["x", "y", "z"]) == {
        "x": ["T1", "T2"], "y": ["T4"], "z": [],
    }  # fmt: skip
