"""`create_app(settings)`: the FastAPI application, built per settings (no module globals).

Stages it wires together, outermost first: request metrics, the body limit, routing with the
key/role dependencies, and problem+json error handlers. The `ServiceState` (snapshot, keys,
encoder) lives on `app.state` and starts and stops with the app's lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.concurrency import run_in_threadpool

from rca import __version__
from rca.api import problems
from rca.api.middleware import BodyLimit, Metrics
from rca.api.routes import classify, contacts, health, insights, model, themes
from rca.api.state import ServiceState
from rca.settings import Settings

DESCRIPTION = """
Root causes of support contacts: recurring **themes**, emerging **spikes**, **repeat-complaint
drivers** and redacted **example cases**. Send an API key in `X-API-Key` (or
`Authorization: Bearer`); roles are reader (GET), writer (also POST) and admin. Errors are
`application/problem+json`.
"""


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    """The service for one RCA_HOME. `background=False` skips the refresh thread (tests that
    drive `state.refresh()` themselves)."""
    state = ServiceState(settings, background=background)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.start)
        try:
            yield
        finally:
            await run_in_threadpool(state.stop)

    app = FastAPI(
        title="rca",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.service = state
    app.state.registry = CollectorRegistry()
    problems.install(app)
    for module in (health, themes, insights, contacts, classify, model):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(Metrics, registry=app.state.registry)
    logging.getLogger("rca.api").setLevel(logging.INFO)
    return app
