"""FastAPI dependencies: the process's state, settings and current snapshot, without globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rca.api.snapshot import Snapshot
from rca.api.state import ServiceState
from rca.settings import Settings


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


def get_settings(state: Annotated[ServiceState, Depends(get_state)]) -> Settings:
    return state.settings


def get_snapshot(state: Annotated[ServiceState, Depends(get_state)]) -> Snapshot:
    """The snapshot current when the request arrived: one request never sees two."""
    return state.current()


StateDep = Annotated[ServiceState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
