"""MLflow tracking and the model registry: runs for fits, `rca-themes` versions, the champion.

The default tracking store is a SQLite file under RCA_HOME with artifacts beside it, so a
single user needs no server; `RCA_MLFLOW_TRACKING_URI` points at a real MLflow server instead.
The registered model is an MLflow pyfunc wrapping a `ThemeCatalog`, so any MLflow tool can
load it; inside rca the catalog is unwrapped and used directly.

The store is the source of truth for which model is which: its `models` row records the
registry version, the run id and the registry (`registry_uri`) of each fit, and a model is
loaded only when the registry agrees (`load_store_model`). In the default local registry the
catalog is read straight from `RCA_HOME/mlartifacts`, whatever absolute path `mlflow.db` kept,
and without writing anything, so a home can be copied, moved or served read-only.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.errors import NotFoundError, NotReadyError, RcaError
from rca.settings import Settings
from rca.store import Store
from rca.store.themes import ModelRow, find_model

EXPERIMENT = "rca-themes"
EVALUATE_EXPERIMENT = "rca-evaluate"
REGISTERED_MODEL = "rca-themes"
CHAMPION = "champion"
CATALOG_ARTIFACT = "catalog"
PYFUNC_FILE = Path(__file__).resolve().parent.parent / "cluster" / "pyfunc_model.py"
ARTIFACTS = "mlartifacts"
#: What the store records as the registry of a model fitted against this home's own SQLite
#: registry: relative, so a copied or moved home agrees with itself.
HOME_REGISTRY = "RCA_HOME/mlflow.db"
#: MLflow's SQL registry marks a deleted version with this stage instead of removing its row.
DELETED_STAGE = "Deleted_Internal"


def _mlflow(settings: Settings) -> Any:
    """Import and point MLflow at this home's store (quietly: its INFO logs are noise here)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    settings.home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    for name in (EXPERIMENT, EVALUATE_EXPERIMENT):
        if mlflow.get_experiment_by_name(name) is None:
            location = None
            if not settings.mlflow_tracking_uri:
                location = _home_location(settings, name)
            mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return mlflow


def _home_location(settings: Settings, experiment: str) -> str:
    return (settings.home / ARTIFACTS / experiment).resolve().as_uri()


def _rehome_experiments(settings: Settings) -> None:
    """Point this home's experiments at its own artifacts folder before a run writes any.

    `mlflow.db` keeps absolute artifact locations; in a copied or moved home they still name
    the original's folder, where a fit would otherwise write. MLflow has no API to change an
    experiment's location, so the local SQLite row is updated (write paths only).
    """
    if settings.mlflow_tracking_uri:
        return
    import sqlite3

    con = sqlite3.connect(settings.home / "mlflow.db")
    try:
        for name in (EXPERIMENT, EVALUATE_EXPERIMENT):
            con.execute(
                "UPDATE experiments SET artifact_location = ? WHERE name = ? "
                "AND artifact_location <> ?",
                [_home_location(settings, name), name, _home_location(settings, name)],
            )
        con.commit()
    finally:
        con.close()


def registry_uri(settings: Settings) -> str:
    """The registry a fit is recorded against in the store (`models.registry_uri`)."""
    return settings.mlflow_tracking_uri or HOME_REGISTRY


def check_registered(settings: Settings, row: ModelRow) -> Any:
    """The registry's entry for a stored model, or a clear refusal when the two disagree."""
    if row.registry_version is None:
        raise RcaError(
            f"model {row.model_version} has no rca-themes version in the registry (its entry "
            "was lost or never made): refit with `rca fit`"
        )
    here = registry_uri(settings)
    if row.registry_uri is not None and row.registry_uri != here:
        raise RcaError(
            f"model {row.model_version} was registered in {row.registry_uri}, but this home's "
            f"registry is {here}: set RCA_MLFLOW_TRACKING_URI back, or refit"
        )
    try:
        entry = _registry_entry(settings, row.registry_version)
    except Exception as exc:  # MLflow raises its own RestException subclasses
        raise RcaError(
            f"the store's model {row.model_version} is rca-themes version "
            f"{row.registry_version}, but the registry has no such version (was mlflow.db "
            "replaced?): refit with `rca fit`"
        ) from exc
    if row.run_id is not None and entry.run_id != row.run_id:
        raise RcaError(
            f"registry and store disagree about rca-themes version {row.registry_version}: "
            f"the store's model {row.model_version} came from run {row.run_id}, the "
            f"registry's version from run {entry.run_id} (was mlflow.db replaced?); refit "
            "with `rca fit`, or promote a version both agree on"
        )
    return entry


@dataclass(frozen=True)
class _Entry:
    version: str
    run_id: str
    source: str


def _registry_entry(settings: Settings, version: str) -> Any:
    """A registered version's run id and source. The home's own SQLite registry is opened
    read-only (MLflow's client would open it for writing and may create experiments), so a
    home on a read-only mount can be served."""
    if settings.mlflow_tracking_uri:
        return _mlflow(settings).MlflowClient().get_model_version(REGISTERED_MODEL, version)
    import sqlite3

    uri = (settings.home / "mlflow.db").resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        rows = con.execute(
            "SELECT version, run_id, source FROM model_versions WHERE name = ? AND version = ? "
            "AND coalesce(current_stage, '') <> ?",
            [REGISTERED_MODEL, int(version), DELETED_STAGE],
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise LookupError(f"no {REGISTERED_MODEL} version {version}")
    return _Entry(str(rows[0][0]), str(rows[0][1]), str(rows[0][2]))


def load_store_model(settings: Settings, model_version: str | None = None) -> ThemeCatalog:
    """A stored model's catalog (the store's champion by default), checked against the
    registry: the catalog served is always the one the store's rows were written by."""
    with Store(settings.store_path).read() as con:
        row = find_model(con, model_version=model_version)
    if row is None:
        raise NotReadyError(
            f"no model {model_version} in the store"
            if model_version
            else "no champion model: run `rca fit` first"
        )
    entry = check_registered(settings, row)
    catalog = _read_catalog(settings, entry)
    if catalog.model_version != row.model_version:
        raise RcaError(
            f"registry and store disagree: rca-themes version {row.registry_version} holds "
            f"model {catalog.model_version}, the store says {row.model_version}; refit"
        )
    return catalog


def _read_catalog(settings: Settings, entry: Any) -> ThemeCatalog:
    """Read a registered catalog without writing: from this home's artifacts folder when the
    registry is the local one (absolute paths in mlflow.db are ignored), else via MLflow."""
    source = str(entry.source)
    if not settings.mlflow_tracking_uri and source.startswith("models:/m-"):
        folder = (
            (settings.home / ARTIFACTS / EXPERIMENT / "models" / source.removeprefix("models:/"))
            / "artifacts"
            / "artifacts"
            / CATALOG_ARTIFACT
        )
        if folder.exists():
            return ThemeCatalog.load(folder)
    return load_catalog(settings, str(entry.version))


def log_fit(
    settings: Settings,
    *,
    catalog: ThemeCatalog,
    params: dict[str, Any],
    metrics: dict[str, float],
    artifacts: dict[str, pd.DataFrame],
    register: bool = True,
) -> tuple[str, str | None]:
    """Log one fit as a run; register the catalog as a new `rca-themes` version.

    Returns (run id, registered version or None).
    """
    mlflow = _mlflow(settings)
    _rehome_experiments(settings)
    with mlflow.start_run(run_name=f"fit {catalog.model_version}") as run:
        mlflow.set_tags({"rca.pid": str(os.getpid()), "rca.host": socket.gethostname()})
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None})
        mlflow.set_tag("rca.model_version", catalog.model_version)
        with tempfile.TemporaryDirectory() as tmp:
            for name, frame in artifacts.items():
                path = Path(tmp) / f"{name}.csv"
                frame.to_csv(path, index=False)
                mlflow.log_artifact(str(path))
            folder = catalog.save(Path(tmp) / CATALOG_ARTIFACT)
            example = pd.DataFrame(catalog.centroids[:2].astype("float64"))
            example.columns = [str(c) for c in example.columns]
            # MLflow prints "Successfully registered model …" itself: the command says it
            with contextlib.redirect_stderr(io.StringIO()):
                info = _log_pyfunc(mlflow, example, folder, register)
        version = getattr(info, "registered_model_version", None)
        return run.info.run_id, (str(version) if version is not None else None)


def _log_pyfunc(mlflow: Any, example: pd.DataFrame, folder: Path, register: bool) -> Any:
    return mlflow.pyfunc.log_model(
        name="theme_model",
        python_model=str(PYFUNC_FILE),
        input_example=example,
        artifacts={CATALOG_ARTIFACT: str(folder)},
        registered_model_name=REGISTERED_MODEL if register else None,
        pip_requirements=["mlflow", "numpy", "pandas"],
    )


def set_champion(settings: Settings, version: str) -> None:
    mlflow = _mlflow(settings)
    client = mlflow.MlflowClient()
    try:
        client.get_model_version(REGISTERED_MODEL, version)
    except Exception as exc:  # MLflow raises its own RestException subclasses
        raise NotFoundError(f"no {REGISTERED_MODEL} version {version}") from exc
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version)


def champion_version(settings: Settings) -> str | None:
    mlflow = _mlflow(settings)
    try:
        mv = mlflow.MlflowClient().get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
    except Exception:
        return None
    return str(mv.version)


def load_catalog(settings: Settings, version: str | None = None) -> ThemeCatalog:
    """The champion's catalog (or a given version's), via the MLflow registry."""
    mlflow = _mlflow(settings)
    uri = (
        f"models:/{REGISTERED_MODEL}/{version}"
        if version
        else (f"models:/{REGISTERED_MODEL}@{CHAMPION}")
    )
    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as exc:
        message = f"no model at {uri}: run `rca fit` first ({exc})".splitlines()[0]
        raise NotReadyError(message) from exc
    return model.unwrap_python_model().catalog


def log_evaluation(settings: Settings, *, params: dict[str, Any], metrics: dict[str, float]) -> str:
    """One `rca evaluate` run in the `rca-evaluate` experiment; returns its run id."""
    mlflow = _mlflow(settings)
    mlflow.set_experiment(EVALUATE_EXPERIMENT)
    with mlflow.start_run(run_name=f"evaluate {Path(str(params.get('input', ''))).name}") as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics(metrics)
        return run.info.run_id


def recent_fits(settings: Settings, n: int = 10) -> list[dict[str, Any]]:
    """The newest `n` fit runs with their key metrics, newest first (the dashboard's model page)."""
    mlflow = _mlflow(settings)
    runs = mlflow.search_runs(
        experiment_names=[EXPERIMENT], order_by=["attributes.start_time DESC"], max_results=n
    )
    out = []
    for row in runs.to_dict(orient="records"):
        out.append(
            {
                "run_id": row.get("run_id"),
                "started_at": row.get("start_time"),
                "model_version": row.get("tags.rca.model_version"),
                "n_contacts": row.get("metrics.n_contacts"),
                "n_themes": row.get("metrics.n_themes"),
                "assigned_fraction": row.get("metrics.assigned_fraction"),
                "id_stability": row.get("metrics.id_stability"),
            }
        )
    return out


def _alive(run: Any) -> bool:
    """Whether the process that logged `run` may still be working on it. Another host's
    processes cannot be seen, so its runs count as alive and are never touched; a run
    without rca's tags predates them and is stale."""
    host, pid = run.data.tags.get("rca.host"), run.data.tags.get("rca.pid", "")
    if host is None or not pid.isdigit():
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def discard_fit(settings: Settings, run_id: str, registry_version: str | None) -> None:
    """Undo a fit's registry side when its store write failed: no orphan version remains."""
    client = _mlflow(settings).MlflowClient()
    if registry_version is not None:
        client.delete_model_version(REGISTERED_MODEL, registry_version)
    client.set_terminated(run_id, "FAILED")


def clean_interrupted_fits(settings: Settings, stored_run_ids: set[str]) -> list[str]:
    """Close what a killed fit left behind: its run still "running", its registered version
    that no store row names. Only runs whose process is gone (same host) are touched, and
    versions are deleted only from this home's own registry."""
    mlflow = _mlflow(settings)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    done: list[str] = []
    runs = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
    for run in runs:
        if not _alive(run):
            client.set_terminated(run.info.run_id, "KILLED")
            done.append(f"run {run.info.run_id} left running by a killed fit: marked killed")
    if settings.mlflow_tracking_uri:
        return done  # a shared registry holds other homes' versions: never delete there
    try:
        versions = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    except Exception:  # no registered model yet
        versions = []
    for version in versions:
        if version.run_id in stored_run_ids:
            continue
        try:
            run = client.get_run(version.run_id)
        except Exception:  # the run itself is gone
            run = None
        if run is not None and _alive(run):
            continue
        client.delete_model_version(REGISTERED_MODEL, version.version)
        done.append(f"rca-themes version {version.version} (no store row): deleted")
    return done


def tag_run(settings: Settings, run_id: str, tags: dict[str, str]) -> None:
    """Mirror what happened to a fitted model since (its taxonomy's edits) on its MLflow run,
    where the model's history lives; the store stays the source of truth."""
    mlflow = _mlflow(settings)
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_tag(run_id, key, str(value)[:5000])
