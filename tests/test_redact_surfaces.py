"""Planted PII never reaches a person: `rca examples`, the API, the dashboard and the e-mail.

The store normally holds pattern-redacted text; names and addresses are left to the
person-facing NER pass (`rca.text.audience`). Here the planted values are written straight
into a copy of the fitted demo store, as if ingest had missed them, and each surface is read
the way a person reads it. All four go through `rca.repeats.examples.example_cases`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rca.api.app import create_app
from rca.api.auth import hash_key, new_key
from rca.report.gather import gather_report
from rca.report.render import render_html, render_text
from rca.settings import Settings
from rca.store import Store
from tests.conftest import copy_home, run_cli

pytestmark = pytest.mark.slow
READER = new_key()
#: Only the person-facing NER pass can see these: no label, no sign-off, no digits.
PLANTED_NAME = "Kevin Drayne"
PLANTED_SENTENCE = f" I spoke to {PLANTED_NAME} at the branch about it."
PLANTED_NOTE = f"Refund approved by {PLANTED_NAME} yesterday."


@pytest.fixture(scope="module")
def planted(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("planted") / "home"
    settings = copy_home(fitted_demo, home)
    settings = settings.model_copy(
        update={
            "api_keys": [f"reader:{hash_key(READER)}:pm"],
            "ui_secret": SecretStr("test-secret"),
        }
    )
    with Store(settings.store_path).write() as con:
        con.execute(
            "UPDATE contacts SET text = text || ?, resolution = ?", [PLANTED_SENTENCE, PLANTED_NOTE]
        )
    return settings


@pytest.fixture(scope="module")
def app(planted: Settings):
    return create_app(planted, background=False)


@pytest.fixture(scope="module")
def theme(app) -> str:
    with TestClient(app):
        return str(app.state.service.current().themes["theme_id"].iloc[0])


def assert_redacted(shown: str) -> None:
    assert PLANTED_NAME not in shown and "Drayne" not in shown
    assert "[NAME]" in shown


def test_cli_examples(planted: Settings, theme: str) -> None:
    result = run_cli("examples", theme, "--n", "3", "--format", "json", home=planted.home)
    assert result.returncode == 0, result.stderr
    cases = json.loads(result.stdout)["cases"]
    assert cases
    assert_redacted(result.stdout)


def test_api_examples_and_drivers(app, theme: str) -> None:
    headers = {"X-API-Key": READER}
    with TestClient(app) as client:
        for kind in ("representative", "recent"):
            response = client.get(
                f"/v1/themes/{theme}/examples", params={"n": 3, "kind": kind}, headers=headers
            )
            assert response.status_code == 200
            assert_redacted(response.text)
        csv = client.get(f"/v1/themes/{theme}/examples", params={"format": "csv"}, headers=headers)
        assert_redacted(csv.text)
        drivers = client.get("/v1/drivers", params={"top": 3}, headers=headers)
        assert_redacted(drivers.text)


def test_dashboard_theme_page(app, theme: str) -> None:
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/ui/login", params={"next": "/ui/"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": READER, "csrf": csrf, "next": "/ui/"})
        detail = client.get(f"/ui/themes/{theme}")
        assert detail.status_code == 200
        assert_redacted(detail.text)
        assert_redacted(client.get(f"/ui/themes/{theme}/examples.csv").text)


def test_email_report_content(planted: Settings) -> None:
    gathered = gather_report(planted, "latest", now=datetime.now(UTC))
    text = render_text(gathered.model)
    html = render_html(gathered.model, {})
    assert_redacted(text)
    assert PLANTED_NAME not in html


def test_vendor_drill_down_chains(planted: Settings) -> None:
    """The repeat chains a vendor page shows under "where it falls short"."""
    from rca.queries.repeat_drivers import load_repeat_analysis
    from rca.queries.vendor_scorecard import handler_chains

    analysis = load_repeat_analysis(planted)
    marked = analysis.marked
    failed = marked.loc[
        marked["contact_id"].isin(set(marked["repeat_of"].dropna()))
        & marked["site"].notna()
        & marked["problem_theme_id"].notna()
    ].iloc[0]
    chains = handler_chains(planted, analysis, "site", failed["site"], failed["problem_theme_id"])
    assert len(chains) >= 2  # the chain holds the failed resolution and the return
    assert_redacted(json.dumps(chains, default=str))
