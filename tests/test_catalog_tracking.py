"""The serving catalog: batch-independent assignment, save/load, and the MLflow registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rca.cluster.catalog import ThemeCatalog, assign_to_centroids
from rca.errors import RcaError
from rca.jobs.tracking import champion_version, load_catalog, log_fit, set_champion
from rca.settings import Settings


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _catalog(k: int = 12, d: int = 32, seed: int = 0) -> ThemeCatalog:
    rng = np.random.default_rng(seed)
    return ThemeCatalog(
        model_version="m1",
        encoder_id="enc",
        trained_at="2026-11-23T00:00:00+00:00",
        assign_threshold=0.3,
        theme_ids=[f"T{i + 1:04d}" for i in range(k)],
        labels=[f"theme {i}" for i in range(k)],
        keywords=[[f"kw{i}"] for i in range(k)],
        parent_ids=["G01"] * k,
        parent_labels={"G01": "all"},
        sizes=[10] * k,
        centroids=_unit(rng.normal(size=(k, d))).astype(np.float32),
    )


def test_single_and_batch_assignment_agree_exactly() -> None:
    catalog = _catalog()
    rng = np.random.default_rng(1)
    X = _unit(rng.normal(size=(3000, 32))).astype(np.float32)
    batch_ids, batch_scores = catalog.assign(X)
    for i in range(0, 3000, 7):
        ids, scores = catalog.assign(X[i : i + 1])
        assert ids[0] == batch_ids[i]
        assert scores[0] == batch_scores[i]
    assert "" in batch_ids  # random directions fall below the threshold sometimes


def test_assignment_threshold_and_ties() -> None:
    C = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    idx, score = assign_to_centroids(np.array([[1.0, 0.0], [-1.0, 0.0]]), C, 0.5)
    assert idx.tolist() == [0, -1]  # tie to the lowest index; far point unassigned
    assert score.tolist() == [1.0, 0.0]  # best similarity is reported even when unassigned


def test_catalog_round_trip(tmp_path: Path) -> None:
    catalog = _catalog()
    loaded = ThemeCatalog.load(catalog.save(tmp_path / "c"))
    assert loaded.theme_ids == catalog.theme_ids
    np.testing.assert_array_equal(loaded.centroids, catalog.centroids)


def test_registry_champion_round_trip(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    catalog = _catalog()
    run_id, version = log_fit(
        settings,
        catalog=catalog,
        params={"seed": 1},
        metrics={"n_themes": 12.0},
        artifacts={"themes": catalog.table()},
    )
    assert run_id and version == "1"
    assert champion_version(settings) is None
    with pytest.raises(RcaError, match="no model"):
        load_catalog(settings)
    set_champion(settings, version)
    assert champion_version(settings) == "1"
    loaded = load_catalog(settings)
    assert loaded.theme_ids == catalog.theme_ids
    with pytest.raises(RcaError, match="no rca-themes version"):
        set_champion(settings, "99")
