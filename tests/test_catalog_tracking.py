"""The serving catalog: batch-independent assignment, save/load, and the MLflow registry."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rca.cluster.catalog import ThemeCatalog, assign_to_centroids
from rca.errors import RcaError
from rca.jobs.tracking import (
    _mlflow,
    champion_version,
    check_registered,
    clean_interrupted_fits,
    load_catalog,
    load_store_model,
    log_fit,
    registry_uri,
    set_champion,
)
from rca.settings import Settings
from rca.store import Store
from rca.store.themes import find_model, set_champion_row, write_fit


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


def _store_row(settings: Settings, catalog: ThemeCatalog, run_id: str, version: str) -> None:
    """The store's record of a fit, as `rca fit` writes it (no themes needed here)."""
    with Store(settings.store_path).write() as con:
        write_fit(
            con,
            catalog=catalog,
            representatives={},
            events=pd.DataFrame(
                {"event": [], "theme_id": [], "related_ids": [], "overlap": [], "similarity": []}
            ),
            assignments=pd.DataFrame({"contact_id": [], "theme_id": [], "similarity": []}),
            model_row={
                "model_version": catalog.model_version,
                "model_id": "enc",
                "mlflow_run_id": run_id,
                "registry_version": version,
                "registry_uri": registry_uri(settings),
                "trained_at": datetime.now(UTC),
                "n_themes": len(catalog.theme_ids),
                "metrics": {},
            },
        )
        set_champion_row(con, catalog.model_version)


def _fit(settings: Settings, model_version: str) -> tuple[ThemeCatalog, str, str]:
    catalog = replace(_catalog(), model_version=model_version)
    run_id, version = log_fit(
        settings, catalog=catalog, params={}, metrics={}, artifacts={"themes": catalog.table()}
    )
    assert version is not None
    return catalog, run_id, version


def test_store_refuses_a_registry_whose_version_is_another_model(tmp_path: Path) -> None:
    before = Settings(home=tmp_path / "before")
    first, run_1, version_1 = _fit(before, "m1")
    _store_row(before, first, run_1, version_1)
    assert load_store_model(before).model_version == "m1"

    settings = Settings(home=tmp_path / "h")  # the same store; mlflow.db and artifacts lost
    settings.home.mkdir()
    shutil.copy(before.store_path, settings.store_path)
    second, run_2, version_2 = _fit(settings, "m2")  # a refit: the registry starts at 1 again
    assert version_2 == version_1
    with pytest.raises(RcaError, match="registry and store disagree"):
        load_store_model(settings)  # the champion m1 is not what version 1 now holds
    with Store(settings.store_path).read() as con:
        stale = find_model(con, registry_version=version_1)
    with pytest.raises(RcaError, match="registry and store disagree"):
        check_registered(settings, stale)  # what `rca promote 1` checks

    _store_row(settings, second, run_2, version_2)  # the refit's own row takes the number
    with Store(settings.store_path).read() as con:
        assert find_model(con, model_version="m1").registry_version is None
        assert find_model(con, registry_version=version_2).model_version == "m2"
    assert load_store_model(settings).model_version == "m2"


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


def test_a_moved_home_loads_its_own_artifacts_and_writes_nothing(tmp_path: Path) -> None:
    original = Settings(home=tmp_path / "a")
    catalog, run_id, version = _fit(original, "m1")
    _store_row(original, catalog, run_id, version)
    moved = Settings(home=tmp_path / "b")
    shutil.move(original.home, moved.home)  # mlflow.db still names tmp/a/... everywhere

    before = _tree(moved.home)
    assert load_store_model(moved).model_version == "m1"
    assert _tree(moved.home) == before  # loading wrote nothing, not even to mlflow.db
    assert not original.home.exists()

    _fit(moved, "m2")  # a fit in the moved home writes its own artifacts folder
    assert not original.home.exists()


def test_an_interrupted_fit_leaves_no_running_run_and_no_orphan_version(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    kept, run_id, version = _fit(settings, "m1")
    _store_row(settings, kept, run_id, version)
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_catalog_tracking import _catalog\n"
        "from rca.jobs.tracking import _mlflow, log_fit\n"
        "from rca.settings import Settings\n"
        "s = Settings(home=Path(sys.argv[1]))\n"
        "c = _catalog()\n"
        "log_fit(s, catalog=c, params={}, metrics={}, artifacts={'themes': c.table()})\n"
        "ml = _mlflow(s)\n"
        "ml.start_run(run_name='killed')\n"
        "from socket import gethostname\n"
        "ml.set_tags({'rca.pid': str(os.getpid()), 'rca.host': gethostname()})\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(settings.home), str(Path(__file__).parent)],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -9, done.stderr[-2000:]
    client = _mlflow(settings).MlflowClient()
    assert len(client.search_model_versions("name = 'rca-themes'")) == 2
    cleaned = clean_interrupted_fits(settings, {run_id})
    assert len(cleaned) == 2, cleaned
    versions = client.search_model_versions("name = 'rca-themes'")
    assert [str(v.version) for v in versions] == [version]
    experiment = client.get_experiment_by_name("rca-themes")
    running = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
    assert running == []
    assert load_store_model(settings).model_version == "m1"
