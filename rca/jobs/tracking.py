"""MLflow tracking and the model registry: runs for fits, `rca-themes` versions, the champion.

The default tracking store is a SQLite file under RCA_HOME with artifacts beside it, so a
single user needs no server; `RCA_MLFLOW_TRACKING_URI` points at a real MLflow server instead.
The registered model is an MLflow pyfunc wrapping a `ThemeCatalog`, so any MLflow tool can
load it; inside rca the catalog is unwrapped and used directly.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.errors import NotFoundError, NotReadyError
from rca.settings import Settings

EXPERIMENT = "rca-themes"
EVALUATE_EXPERIMENT = "rca-evaluate"
REGISTERED_MODEL = "rca-themes"
CHAMPION = "champion"
CATALOG_ARTIFACT = "catalog"
PYFUNC_FILE = Path(__file__).resolve().parents[1] / "cluster" / "pyfunc_model.py"


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
                location = (settings.home / "mlartifacts" / name).resolve().as_uri()
            mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return mlflow


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
    with mlflow.start_run(run_name=f"fit {catalog.model_version}") as run:
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
