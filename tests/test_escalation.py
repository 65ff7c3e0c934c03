"""The escalation deep dive on the fitted demo store (real embeddings, real store)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rca.cli import (
    app,
    commands,  # noqa: F401
)
from rca.queries.escalation import deep_dive
from rca.queries.repeat_drivers import load_repeat_analysis
from rca.settings import Settings

pytestmark = pytest.mark.slow


def test_a_late_escalation_has_its_chain_causes_and_similar_resolved_cases(
    fitted_demo: Settings,
) -> None:
    marked = load_repeat_analysis(fitted_demo).marked
    escalated = marked.loc[marked["is_escalation"].fillna(False).astype(bool)]
    late = escalated.sort_values("created_at").iloc[-1]
    report = deep_dive(fitted_demo, late["contact_id"])
    assert report["contact"]["contact_id"] == late["contact_id"]
    assert report["theme"]["theme_id"] == late["theme_id"]
    assert report["escalation_flag"] is True  # the demo's contacts carry one
    assert late["contact_id"] in {c["contact_id"] for c in report["chain"]}
    similar = report["similar_escalations"]
    assert len(similar) >= 3 and all(s["created_at"] < late["created_at"] for s in similar)
    assert sum(1 for s in similar if s["resolution"]) >= 1
    assert [s["similarity"] for s in similar] == sorted(s["similarity"] for s in similar)[::-1]


def test_rca_escalation_answers_in_json_and_refuses_an_unknown_contact(
    fitted_demo: Settings,
) -> None:
    marked = load_repeat_analysis(fitted_demo).marked
    one = marked.loc[marked["is_escalation"].fillna(False).astype(bool), "contact_id"].iloc[-1]
    home = ["--home", str(fitted_demo.home)]
    result = CliRunner().invoke(app, ["escalation", one, *home])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["command"] == "escalation"
    assert CliRunner().invoke(app, ["escalation", "NOPE", *home]).exit_code != 0
