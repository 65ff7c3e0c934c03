"""GET /healthz (the process answers), /readyz (store and model loaded), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rca.api.auth import require
from rca.api.deps import StateDep
from rca.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: no key, no store access."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(state: StateDep) -> Health | JSONResponse:
    """Readiness: the store was reachable and the champion model is loaded."""
    if not state.ready:
        body = Health(status="not ready", detail=state.error)
        return JSONResponse(body.model_dump(), status_code=503)
    detail = "warming theme pages" if state.warming else None
    return Health(status="ok", detail=detail, model_version=state.current().model.model_version)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(request: Request, state: StateDep) -> Response:
    """Request counts and latencies by route and status, in Prometheus text format."""
    if not state.settings.api_metrics_public:
        require("reader")(request)
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
