"""The uvicorn entry point: an app factory that reads Settings from the environment.

`rca serve --workers N` starts N processes; each imports this factory, so `--home` reaches them
through RCA_HOME in the environment rather than through a module global.
"""

from __future__ import annotations

from fastapi import FastAPI

from rca.api.app import create_app
from rca.settings import get_settings


def app_from_env() -> FastAPI:
    return create_app(get_settings())
