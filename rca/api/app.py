"""`create_app(settings)`: the FastAPI application, built per settings (no module globals).

Stages it wires together, outermost first: request metrics, security headers, the request's
time budget (`rca.api.budget`), the body limit, routing with the key/role dependencies, and
problem+json error handlers. The `ServiceState` (snapshot, keys,
encoder) lives on `app.state` and starts and stops with the app's lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry
from starlette.concurrency import run_in_threadpool

from rca import __version__
from rca.api import problems
from rca.api.budget import RequestDeadline
from rca.api.middleware import BodyLimit, Metrics, SecurityHeaders
from rca.api.routes import (
    classify,
    contacts,
    health,
    insights,
    model,
    taxonomy,
    themes,
    vendors,
)
from rca.api.routes.escalations import router as escalations_router
from rca.api.routes.sop import router as sop_router
from rca.api.state import ServiceState
from rca.api.web import routes as web
from rca.api.web.session import SessionCodec
from rca.settings import Settings

DESCRIPTION = """
Root causes of support contacts: recurring **themes**, emerging **spikes**, **repeat-complaint
drivers** and redacted **example cases**. Send an API key in `X-API-Key` (or
`Authorization: Bearer`); roles are reader (GET), writer (also POST) and admin. Errors are
`application/problem+json`.
"""


def _publish_limits(app: FastAPI, settings: Settings) -> None:
    """Put the configured limits (RCA_API_MAX_*) into /openapi.json, so clients and
    generated tests see the same bounds the handlers enforce."""
    page_params = {"limit", "n", "top"}
    arrays = {"ContactsIn": ("contacts", settings.api_max_contacts),
              "ClassifyIn": ("texts", settings.api_max_texts)}  # fmt: skip

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for param in operation.get("parameters", []):
                        if param.get("name") in page_params:
                            param["schema"]["maximum"] = settings.api_max_page
            components = schema.get("components", {}).get("schemas", {})
            for name, (field, most) in arrays.items():
                if name in components:
                    components[name]["properties"][field]["maxItems"] = most
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
    for module in (health, themes, insights, contacts, classify, model, vendors, taxonomy):
        app.include_router(module.router)
    app.include_router(sop_router)  # issue 21
    app.include_router(escalations_router)
    web.install(app, SessionCodec(settings))
    _publish_limits(app, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestDeadline, budget_s=settings.api_request_budget_s)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics, registry=app.state.registry)
    logging.getLogger("rca.api").setLevel(logging.INFO)
    return app
