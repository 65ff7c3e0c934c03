"""FastAPI dependencies: the process's state, settings and current snapshot, without globals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from rca.api.schemas import Granularity
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


def granularity_level(description: str | None = None) -> Callable[..., Granularity]:
    """A dependency for the ``granularity`` query: its value, else ``RCA_GRANULARITY``.

    One place decides the level a request gets (the API's themes, spikes and drivers, the
    dashboard's pages); ``description`` is what the route's OpenAPI entry says it does.
    """

    query = Query(None, description=description)  # a default, not in `Annotated`: the closure's
    # annotations are strings (PEP 563) that FastAPI resolves in this module, not in the call

    def level(settings: SettingsDep, granularity: Granularity | None = query) -> Granularity:
        return granularity or Granularity(settings.granularity)

    return level
