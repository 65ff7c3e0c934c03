"""`rca refresh`: the pure drift checks, and the whole job on a real fitted store (real model,
real DuckDB, real MLflow registry): new contacts assigned without a refit, only new texts
embedded, a planted off-topic issue reported as a new dense region, refit due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home, run_cli

from rca.jobs.refresh_batches import period_theme_counts
from rca.jobs.refresh_drift import DriftRules, dense_regions, refit_verdict, unassigned_drift
from rca.settings import Settings
from rca.store import Store

PLACES = ("north", "south", "east", "west", "riverside", "airport", "harbour", "central",
          "old town", "station")  # fmt: skip
WHEN = ("again", "this morning", "today", "since Monday")
#: Two issues no support theme of a marketplace resembles (cosine < 0.18 to every centroid of
#: the demo's fits), each dense among its own paraphrases.
NOVEL = {
    "violin": "The violin string snapped during rehearsal in the {p} concert hall {w}",
    "penguin": "The penguins at the {p} zoo enclosure look sleepy {w}",
}
NOVEL_SIZES = {"violin": 40, "penguin": 30}
KNOWN = 150
RULES = DriftRules(margin=0.05, window_days=7, min_window_contacts=10, new_region_min_size=20)


# --- pure checks ------------------------------------------------------------------------------


def _window(ids: list[str | None], days_ago: list[float]) -> tuple[pd.Series, pd.Series]:
    end = pd.Timestamp("2026-11-22T12:00:00Z")
    created = pd.Series([end - pd.Timedelta(days=d) for d in days_ago])
    return pd.Series(ids, dtype=object), created


def test_drift_compares_the_recent_window_with_the_fit() -> None:
    ids, created = _window(["T1"] * 8 + [None, ""] + [None] * 5, [1] * 10 + [30] * 5)
    check = unassigned_drift(ids, created, 0.02, RULES)
    assert check.window_contacts == 10  # the five old unassigned contacts are outside
    assert check.window_unassigned == 2 and check.unassigned_fraction == pytest.approx(0.2)
    assert check.limit == pytest.approx(0.07) and check.judged and check.drifted
    calm = unassigned_drift(ids, created, 0.18, RULES)
    assert calm.judged and not calm.drifted


def test_drift_is_not_judged_on_too_few_contacts_or_without_a_fit_share() -> None:
    ids, created = _window([None] * 5, [1] * 5)
    assert not unassigned_drift(ids, created, 0.0, RULES).judged
    ids, created = _window([None] * 20, [1] * 20)
    check = unassigned_drift(ids, created, None, RULES)
    assert not check.judged and not check.drifted and check.limit is None
    assert refit_verdict(check, []) == (False, [])


def test_dense_regions_find_a_tight_group_among_scattered_vectors() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=32)
    tight = centre + rng.normal(scale=0.05, size=(30, 32))
    scattered = rng.normal(size=(25, 32))
    X = np.vstack([tight, scattered])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    texts = [f"lift stuck floor {i % 3}" for i in range(30)] + [f"note {i}" for i in range(25)]
    ids = [f"C{i}" for i in range(len(X))]
    regions = dense_regions(X, texts, ids, min_size=20)
    assert len(regions) == 1
    assert 25 <= regions[0].size <= 32
    assert set(regions[0].example_contact_ids) <= {f"C{i}" for i in range(30)}
    assert "lift" in " ".join(regions[0].keywords)
    assert dense_regions(X[:10], texts[:10], ids[:10], min_size=20) == []


def test_period_theme_counts_are_canonical() -> None:
    frame = pd.DataFrame(
        {"period": ["2026-W47", "2026-W46", "2026-W47", "2026-W47"],
         "theme_id": ["T2", "T1", None, "T2"]}
    )  # fmt: skip
    counts = period_theme_counts(frame)
    assert counts.to_dict(orient="list") == {
        "period": ["2026-W46", "2026-W47", "2026-W47"],
        "theme_id": ["T1", "", "T2"],
        "contacts": [1, 1, 2],
    }


# --- the whole job on a real store ------------------------------------------------------------


def novel_texts() -> dict[str, list[str]]:
    return {
        name: [t.format(p=p, w=w) for p in PLACES for w in WHEN][: NOVEL_SIZES[name]]
        for name, t in NOVEL.items()
    }


def write_new_contacts(settings: Settings, path: Path, *, known: int = KNOWN) -> pd.DataFrame:
    """New contacts in the store's last days: `known` reuse texts the store has embedded (so
    they are cached), plus the novel issues' paraphrases (never embedded)."""
    with Store(settings.store_path).read() as con:
        last = con.execute("SELECT max(created_at) FROM contacts").fetchone()[0]
        reused = con.execute(
            "SELECT text, channel FROM contacts ORDER BY contact_id DESC LIMIT ?", [known]
        ).df()
    novel = [(name, t) for name, texts in novel_texts().items() for t in texts]
    texts = reused["text"].tolist() + [t for _, t in novel]
    kinds = ["known"] * len(reused) + [name for name, _ in novel]
    end = last.astimezone(UTC) if isinstance(last, datetime) else last
    frame = pd.DataFrame(
        {
            "contact_id": [f"NEW{i:05d}" for i in range(len(texts))],
            "created_at": [
                (end - timedelta(minutes=17 * i + 5)).isoformat() for i in range(len(texts))
            ],  # fmt: skip
            "text": texts,
            "customer_id": [f"NC{i:04d}" for i in range(len(texts))],
            "channel": "chat",
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame.assign(kind=kinds)


@pytest.fixture
def refreshed_home(fitted_demo: Settings, tmp_path: Path) -> tuple[Settings, pd.DataFrame, Path]:
    settings = copy_home(fitted_demo, tmp_path / "home")
    new = write_new_contacts(settings, tmp_path / "exports" / "today.csv")
    return settings, new, tmp_path / "exports" / "today.csv"


@pytest.mark.slow
def test_refresh_assigns_new_contacts_and_reports_the_new_issues(refreshed_home) -> None:
    settings, new, path = refreshed_home
    with Store(settings.store_path).read() as con:
        fits_before = con.execute("SELECT count(*) FROM models").fetchone()[0]
    result = run_cli("refresh", str(path), "--format", "json", home=settings.home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    assert out["command"] == "refresh" and out["engine"] == "local"
    assert out["ingest"]["totals"]["inserted"] == len(new)
    assert out["contacts_processed"] == len(new)
    assert out["new_vectors"] == sum(NOVEL_SIZES.values())  # reused texts come from the cache
    assert sum(c["contacts"] for c in out["counts"]) == len(new)
    assert out["unassigned"] == sum(NOVEL_SIZES.values())

    assert out["refit_due"] is True
    assert out["drift"]["judged"] and out["drift"]["drifted"]
    sizes = sorted(r["size"] for r in out["new_regions"])
    assert sizes == sorted(NOVEL_SIZES.values())
    words = [" ".join(r["keywords"]).lower() for r in out["new_regions"]]
    assert any("violin" in w for w in words) and any("penguin" in w for w in words)
    assert len(out["reasons"]) == 1 + len(NOVEL_SIZES)
    assert out["spikes"]["period"] == out["repeats"]["period"]
    assert set(out["repeats"]["totals"]) >= {"contacts", "repeat_rate"}
    assert set(out["seconds"]) >= {"ingest", "embed", "assign", "drift", "new_regions", "total"}

    with Store(settings.store_path).read() as con:
        champion = con.execute("SELECT model_version FROM models WHERE is_champion").fetchone()
        assigned = con.execute(
            "SELECT contact_id, theme_id FROM assignments WHERE model_version = ? "
            "AND contact_id LIKE 'NEW%'",
            [champion[0]],
        ).df()
        assert con.execute("SELECT count(*) FROM models").fetchone()[0] == fits_before  # no fit
    assert len(assigned) == len(new)
    theme = assigned.set_index("contact_id")["theme_id"].reindex(new["contact_id"])
    assert theme[(new["kind"] != "known").to_numpy()].isna().all()
    assert theme[(new["kind"] == "known").to_numpy()].notna().mean() > 0.95

    again = run_cli("refresh", str(path), "--format", "json", home=settings.home)
    second = json.loads(again.stdout)
    assert second["contacts_processed"] == 0 and second["new_vectors"] == 0
    assert second["ingest"]["totals"]["unchanged"] == len(new)


@pytest.mark.slow
def test_refresh_without_new_issues_is_not_due(fitted_demo: Settings, tmp_path: Path) -> None:
    from rca.jobs.refresh import refresh

    settings = copy_home(fitted_demo, tmp_path / "home")
    path = tmp_path / "known.csv"
    new = write_new_contacts(settings, path)
    known = new.loc[new["kind"] == "known"].drop(columns="kind")
    known.to_csv(path, index=False)
    result = refresh(settings, [str(path)], summarise=False)
    assert result.processed == len(known) and result.new_vectors == 0
    assert not result.new_regions and result.drift.judged
    assert result.refit_due is False and result.reasons == []
    assert result.spikes is None and result.repeats is None  # summarise=False


def test_refresh_table_and_csv_formats(refreshed_home) -> None:
    settings, _new, path = refreshed_home
    table = run_cli("refresh", str(path), home=settings.home)
    assert table.returncode == 0, table.stderr
    assert "refit_due" in table.stdout and "refit due:" in table.stderr
    csv = run_cli("refresh", "--format", "csv", home=settings.home)
    assert csv.returncode == 0 and csv.stdout.splitlines()[0] == "item,value"
    assert "contacts_processed,0" in csv.stdout  # nothing left to assign
    rows = dict(line.split(",", 1) for line in csv.stdout.splitlines()[1:])
    assert rows["repeat_contacts"].isdigit(), rows  # it read a key the totals never had: empty


def test_refresh_refuses_an_unknown_engine(refreshed_home) -> None:
    settings, _new, _path = refreshed_home
    result = run_cli("refresh", "--engine", "spark", home=settings.home)
    assert result.returncode == 2 and "--engine" in result.stderr
