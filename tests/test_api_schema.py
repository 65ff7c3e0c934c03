"""Schemathesis against /openapi.json: generated requests never get a 5xx, and every response
matches the published schema (status codes, content types, bodies).

Runs in-process over ASGI on a writable copy of the fitted demo (POST /v1/contacts writes), with
an admin key so every operation is reached past authentication.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from conftest import copy_home
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rca.api.app import create_app
from rca.api.auth import hash_key, new_key
from rca.settings import Settings

pytestmark = pytest.mark.slow
ADMIN = new_key()
#: Generated requests per operation: reads get more (periods and cursors are free-form
#: strings); writes embed and store, so they keep the smaller number. Reads were 100 each:
#: half of the suite's slowest test, and the period and cursor fuzzers of
#: test_api_hardening.py already send hundreds of hand-made malformed values to every route.
EXAMPLES = {"GET": 50, "POST": 25}
CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
]


@pytest.fixture(scope="module")
def api_schema(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory):
    home: Path = tmp_path_factory.mktemp("schemathesis") / "home"
    app_settings = copy_home(
        fitted_demo,
        home,
        api_keys=[f"admin:{hash_key(ADMIN)}:fuzz"],
        api_assign_on_ingest=False,  # keep generated contacts cheap: no embedding per call
    )
    app = create_app(app_settings, background=False)
    app.state.service.start()  # what the lifespan does; ASGI transport skips lifespan events
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        app.state.service.stop()


def operations(api_schema) -> list:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_every_operation_is_generated_for(api_schema) -> None:
    labels = {op.label for op in operations(api_schema)}
    assert {"GET /v1/themes", "GET /v1/themes/{theme_id}", "POST /v1/contacts",
            "POST /v1/classify", "GET /v1/drivers", "GET /readyz", "POST /v1/sop-changes",
            "GET /v1/sop-changes", "GET /v1/sop-changes/{change_id}", "GET /v1/sop-review",
            "GET /v1/escalations", "GET /v1/contacts/{contact_id}/deep-dive",
            "GET /v1/taxonomy",
            "GET /v1/taxonomy/history", "POST /v1/taxonomy/rename", "POST /v1/taxonomy/merge",
            "POST /v1/taxonomy/split", "POST /v1/taxonomy/accept", "POST /v1/taxonomy/move",
            "POST /v1/taxonomy/hide", "POST /v1/taxonomy/unhide",
            "POST /v1/taxonomy/create", "POST /v1/taxonomy/import",
            "POST /v1/taxonomy/apply", "POST /v1/taxonomy/reassign",
            "POST /v1/taxonomy/reassign-cases"} <= labels  # fmt: skip


def test_no_server_error_and_responses_match_the_schema(api_schema) -> None:
    failures: list[str] = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES.get(operation.method.upper(), 25),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same examples on every run: a deterministic test
            database=None,
        )
        def run(case) -> None:
            case.call_and_validate(headers={"X-API-Key": ADMIN}, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
