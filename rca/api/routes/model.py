"""GET /v1/model and POST /v1/admin/reload: which model answers, and making it look again."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from rca.api.auth import Admin, Reader
from rca.api.deps import SnapshotDep, StateDep
from rca.api.routes.common import READ_ERRORS
from rca.api.schemas import Health, ModelOut, clean

router = APIRouter(tags=["model"])


@router.get("/v1/model", response_model=ModelOut, responses=READ_ERRORS, dependencies=[Reader])
def model(snapshot: SnapshotDep) -> ModelOut:
    """The serving model version, when it was trained, its metrics and its MLflow run."""
    info = snapshot.model
    return ModelOut(
        model_version=info.model_version,
        registry_version=info.registry_version,
        mlflow_run_id=info.mlflow_run_id,
        trained_at=info.trained_at,
        encoder_id=snapshot.catalog.encoder_id,
        n_themes=info.n_themes,
        assign_threshold=float(snapshot.catalog.assign_threshold),
        metrics=clean(info.metrics),
        snapshot=snapshot.id,
        snapshot_built_at=datetime.fromtimestamp(snapshot.built_at, UTC),
    )


@router.post("/v1/admin/reload", response_model=Health, responses=READ_ERRORS, dependencies=[Admin])
async def reload(state: StateDep) -> Health:
    """Rebuild the snapshot now instead of at the next refresh tick (admin only)."""
    await run_in_threadpool(state.refresh, force=True)
    if not state.ready:
        return Health(status="not ready", detail=state.error)
    return Health(status="ok", model_version=state.current().model.model_version)
