"""The HTTP service through FastAPI's TestClient on a real fitted store (no mocks).

The store is the session's fitted demo (read-only here); tests that post contacts use a copy.
Real-server behaviour (start, promote, reload, pagination under change) is in
test_api_server.py.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_home
from fastapi.testclient import TestClient

from rca.api.app import create_app
from rca.api.auth import ROLES, hash_key, new_key
from rca.settings import Settings
from rca.store import Store

pytestmark = pytest.mark.slow
KEYS = {role: new_key() for role in ROLES}
GET_ROUTES = [
    "/v1/themes",
    "/v1/themes/{theme}",
    "/v1/themes/{theme}/examples",
    "/v1/drivers",
    "/v1/spikes",
    "/v1/model",
]


def keyed(settings: Settings, **overrides: object) -> Settings:
    keys = [f"{role}:{hash_key(key)}:{role}-test" for role, key in KEYS.items()]
    return settings.model_copy(update={"api_keys": keys, **overrides})


def auth(role: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}


@pytest.fixture(scope="module")
def client(fitted_demo: Settings):
    with TestClient(create_app(keyed(fitted_demo), background=False)) as c:
        yield c


@pytest.fixture(scope="module")
def theme(client: TestClient) -> str:
    page = client.get("/v1/themes", params={"limit": 1}, headers=auth("reader")).json()
    return page["items"][0]["theme_id"]


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


# -- auth -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", GET_ROUTES)
def test_reads_need_a_known_key_of_any_role(client: TestClient, theme: str, route: str) -> None:
    url = route.format(theme=theme)
    is_problem(client.get(url), 401)
    is_problem(client.get(url, headers={"X-API-Key": "rca_not-a-key"}), 401)
    for role in ROLES:
        assert client.get(url, headers=auth(role)).status_code == 200, role


def test_bearer_header_works_too(client: TestClient) -> None:
    response = client.get("/v1/model", headers={"Authorization": f"Bearer {KEYS['reader']}"})
    assert response.status_code == 200


def test_writes_need_writer_or_admin(client: TestClient) -> None:
    body = {"texts": ["my card payment was declined"]}
    is_problem(client.post("/v1/classify", json=body), 401)
    is_problem(client.post("/v1/classify", json=body, headers=auth("reader")), 403)
    is_problem(client.post("/v1/contacts", json={"contacts": [{}]}, headers=auth("reader")), 403)
    for role in ("writer", "admin"):
        assert client.post("/v1/classify", json=body, headers=auth(role)).status_code == 200


def test_reload_is_admin_only(client: TestClient) -> None:
    is_problem(client.post("/v1/admin/reload", headers=auth("writer")), 403)
    response = client.post("/v1/admin/reload", headers=auth("admin"))
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "detail": None, "model_version": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model_version"]
    assert client.get("/metrics").status_code == 200


def test_keys_never_reach_the_log(fitted_demo: Settings, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(keyed(fitted_demo), background=False)) as c:
        c.get("/v1/model", headers=auth("admin"))
        c.get("/v1/themes/nope", headers=auth("reader"))
        c.get("/v1/model", headers={"X-API-Key": "rca_wrong-key-value"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert all(key not in text for key in KEYS.values())
    assert "rca_wrong-key-value" not in text


def test_keys_file_is_reread_without_restart(fitted_demo: Settings, tmp_path: Path) -> None:
    from rca.api.auth import add_key

    settings = fitted_demo.model_copy(update={"api_keys_file": tmp_path / "keys.toml"})
    with TestClient(create_app(settings, background=False)) as c:
        assert c.get("/v1/model", headers={"X-API-Key": "rca_x"}).status_code == 401
        key = add_key(tmp_path / "keys.toml", role="reader", name="late")
        assert c.get("/v1/model", headers={"X-API-Key": key}).status_code == 200
    assert key not in (tmp_path / "keys.toml").read_text()


# -- errors ---------------------------------------------------------------------------------------
def test_malformed_period_is_400(client: TestClient, theme: str) -> None:
    for url in ("/v1/themes", "/v1/drivers", "/v1/spikes", f"/v1/themes/{theme}"):
        body = is_problem(
            client.get(url, params={"period": "week 46"}, headers=auth("reader")), 400
        )
        assert "ISO week" in body["detail"]
    is_problem(client.get("/v1/themes", params={"period": "2026-W60"}, headers=auth("reader")), 400)


def test_unknown_theme_is_404(client: TestClient) -> None:
    for url in ("/v1/themes/T9999", "/v1/themes/T9999/examples"):
        body = is_problem(client.get(url, headers=auth("reader")), 404)
        assert "T9999" in body["detail"]


def test_validation_errors_are_422_with_field_paths(client: TestClient) -> None:
    body = is_problem(client.get("/v1/themes?limit=0", headers=auth("reader")), 422)
    assert body["errors"][0]["loc"] == "query.limit"
    body = is_problem(client.get("/v1/themes?sort=size", headers=auth("reader")), 422)
    assert body["errors"][0]["loc"] == "query.sort"
    body = is_problem(client.get("/v1/themes?limit=201", headers=auth("reader")), 422)
    assert body["errors"][0]["loc"] == "query.limit" and "200" in body["errors"][0]["msg"]
    body = is_problem(client.post("/v1/classify", json={"texts": "x"}, headers=auth("writer")), 422)
    assert body["errors"][0]["loc"] == "body.texts"
    body = is_problem(
        client.post("/v1/classify", json={"texts": ["a"] * 65}, headers=auth("writer")), 422
    )
    assert body["errors"][0]["loc"] == "body.texts"
    response = client.post(
        "/v1/classify",
        content=b"{not json",
        headers={**auth("writer"), "content-type": "application/json"},
    )
    is_problem(response, 422)


def test_oversized_bodies_are_413(fitted_demo: Settings) -> None:
    app = create_app(keyed(fitted_demo, api_max_body_bytes=2_000), background=False)
    with TestClient(app) as c:
        big = {"texts": ["x" * 3_000]}
        is_problem(c.post("/v1/classify", json=big, headers=auth("writer")), 413)

        def chunks():  # no Content-Length: the limit must bite while streaming
            yield b'{"texts": ["'
            for _ in range(10):
                yield b"y" * 500
            yield b'"]}'

        response = c.post(
            "/v1/classify",
            content=chunks(),
            headers={**auth("writer"), "content-type": "application/json"},
        )
        is_problem(response, 413)


def test_cursor_errors_are_400(client: TestClient) -> None:
    is_problem(client.get("/v1/themes?cursor=garbage", headers=auth("reader")), 400)
    first = client.get("/v1/themes?limit=2", headers=auth("reader")).json()
    response = client.get(
        "/v1/themes", params={"limit": 2, "sort": "growth", "cursor": first["next_cursor"]},
        headers=auth("reader"),
    )  # fmt: skip
    is_problem(response, 400)


def test_no_store_is_503_until_there_is_one(tmp_path: Path) -> None:
    settings = keyed(Settings(home=tmp_path / "empty"))
    with TestClient(create_app(settings, background=False)) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 503
        body = is_problem(c.get("/v1/themes", headers=auth("reader")), 503)
        assert "rca demo" in body["detail"] or "rca fit" in body["detail"]


# -- answers --------------------------------------------------------------------------------------
def test_themes_pages_cover_every_theme_once_in_order(client: TestClient) -> None:
    for sort, column in (
        ("volume", "volume"),
        ("repeats", "repeat_contacts"),
        ("growth", "growth"),
    ):
        seen, cursor = [], None
        while True:
            params = {"limit": 7, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/themes", params=params, headers=auth("reader")).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = [t["theme_id"] for t in seen]
        assert len(ids) == len(set(ids)) == page["total_themes"]
        values = [t[column] for t in seen]
        assert values == sorted(values, reverse=True)
    total = sum(t["volume"] for t in seen)
    assert total <= page["total_volume"]
    assert abs(sum(t["share"] for t in seen) - total / page["total_volume"]) < 1e-9


def test_theme_detail_has_series_root_cause_repeats_and_lineage(
    client: TestClient, theme: str
) -> None:
    detail = client.get(f"/v1/themes/{theme}", headers=auth("reader")).json()
    assert detail["theme_id"] == theme and detail["keywords"]
    assert 1 <= len(detail["series"]) <= 12
    assert detail["series"][-1]["period"] == detail["period"]
    assert detail["series"][-1]["volume"] == detail["figures"]["volume"]
    assert detail["root_cause"]["sentence"]
    assert detail["repeats"]["repeat_contacts"] >= 0
    assert any(e["event"] == "new" for e in detail["lineage"]["events"])
    assert detail["links"]["examples"] == f"/v1/themes/{theme}/examples"


def test_examples_json_and_csv(client: TestClient, theme: str) -> None:
    for kind in ("representative", "recent", "escalated", "repeat"):
        response = client.get(
            f"/v1/themes/{theme}/examples", params={"n": 3, "kind": kind}, headers=auth("reader")
        )
        assert response.status_code == 200, kind
        assert all(c["kind"] == kind for c in response.json()["items"])
    response = client.get(
        f"/v1/themes/{theme}/examples", params={"n": 3, "format": "csv"}, headers=auth("reader")
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") >= 2
    assert '"contact_id"' in text.splitlines()[0]


def test_drivers_have_ranks_explanations_and_two_cases(client: TestClient) -> None:
    payload = client.get("/v1/drivers", params={"top": 3}, headers=auth("reader")).json()
    drivers = payload["drivers"]
    assert [d["rank"] for d in drivers] == [1, 2, 3]
    assert all(d["summary"] and set(d["components"]) >= {"volume", "rate"} for d in drivers)
    assert all(1 <= len(d["examples"]) <= 2 for d in drivers if d["theme_id"] != "unassigned")
    more = client.get("/v1/drivers", params={"top": 5}, headers=auth("reader")).json()
    assert [d["theme_id"] for d in more["drivers"][:3]] == [d["theme_id"] for d in drivers]


def test_parent_drivers_rank_groups_with_their_themes_and_cases(client: TestClient) -> None:
    top = 200  # every theme of the period: each group is checked against all its themes
    fine = client.get("/v1/drivers", params={"top": top}, headers=auth("reader")).json()
    assert len(fine["drivers"]) < top
    response = client.get(
        "/v1/drivers", params={"top": top, "granularity": "parent"}, headers=auth("reader")
    )
    assert response.status_code == 200, response.text
    parent = response.json()
    assert parent["granularity"] == "parent" and fine["granularity"] == "fine"
    contacts = {d["theme_id"]: d["figures"]["contacts"] for d in fine["drivers"]}
    assert len(parent["drivers"]) < len(fine["drivers"])  # the demo's fit has parent groups
    for group in parent["drivers"]:
        assert group["theme_ids"] and group["summary"]
        assert group["figures"]["contacts"] == sum(contacts.get(t, 0) for t in group["theme_ids"])
        assert 1 <= len(group["examples"]) <= 2
    bad = client.get("/v1/drivers", params={"granularity": "weekly"}, headers=auth("reader"))
    assert bad.status_code == 422


def test_spikes_filter_by_severity(client: TestClient) -> None:
    everything = client.get("/v1/spikes", headers=auth("reader")).json()
    high = client.get("/v1/spikes", params={"min_severity": "high"}, headers=auth("reader"))
    high_ids = {s["theme_id"] for s in high.json()["spikes"]}
    assert high_ids <= {s["theme_id"] for s in everything["spikes"]}
    assert all(s["severity"] == "high" for s in high.json()["spikes"])
    assert all(s["links"]["theme"].startswith("/v1/themes/") for s in everything["spikes"])


def test_model_is_the_stores_champion(client: TestClient, fitted_demo: Settings) -> None:
    from rca.jobs.tracking import champion_version

    model = client.get("/v1/model", headers=auth("reader")).json()
    with Store(fitted_demo.store_path).read() as con:
        row = con.execute(
            "SELECT model_version, mlflow_run_id FROM models WHERE is_champion"
        ).fetchall()
    assert (model["model_version"], model["mlflow_run_id"]) == row[0]
    assert model["registry_version"] == champion_version(fitted_demo)
    assert model["n_themes"] > 5 and "assigned_fraction" in model["metrics"]


def test_classify_redacts_first_and_matches_the_catalog(client: TestClient) -> None:
    texts = [
        "My card payment to 4111 1111 1111 1111 was declined, email me at a.b@example.com",
        "My card payment to [CARD] was declined, email me at [EMAIL]",
        "Where is my parcel? It was due last week.",
    ]
    out = client.post("/v1/classify", json={"texts": texts}, headers=auth("writer")).json()
    first, second, third = out["results"]
    assert first == second  # the PII never reached the encoder
    assert first["assigned"] and third["assigned"] and first["theme_id"] != third["theme_id"]
    single = client.post("/v1/classify", json={"texts": texts[2:]}, headers=auth("writer"))
    alone = single.json()["results"][0]  # batch padding moves the float32 vector by ~1e-7
    assert alone["theme_id"] == third["theme_id"]
    assert np.isclose(alone["similarity"], third["similarity"], atol=1e-4)


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/v1/themes/T9999", headers=auth("reader"))
    text = client.get("/metrics").text
    assert 'route="/v1/themes/{theme_id}",status="404"' in text
    assert "rca_http_request_duration_seconds_bucket" in text
    assert "T9999" not in text


def test_openapi_publishes_the_configured_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    params = schema["paths"]["/v1/themes"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "limit")["schema"]["maximum"] == 200
    assert schema["components"]["schemas"]["ClassifyIn"]["properties"]["texts"]["maxItems"] == 64
    assert client.get("/docs").status_code == 200


# -- writes ---------------------------------------------------------------------------------------
def test_post_contacts_validates_like_ingest_and_is_idempotent(
    fitted_demo: Settings, tmp_path: Path
) -> None:
    settings = keyed(copy_home(fitted_demo, tmp_path / "home"))
    good = {
        "contact_id": "API-1",
        "created_at": "2026-11-20T10:00:00Z",
        "text": "My card payment failed twice, call me on +44 7700 900123",
        "customer_id": "CU-API",
        "channel": "chat",
        "dimensions": {"market": "DE", "app_version": "5.14.2"},
    }
    batch = [
        good,
        {**good, "contact_id": "API-2", "text": ""},
        {**good, "contact_id": "API-3", "created_at": "yesterday-ish"},
        {**good, "contact_id": "API-1"},  # duplicate in the batch
        {**good, "contact_id": "API-4", "is_escalation": "maybe"},
    ]
    with TestClient(create_app(settings, background=False)) as c:
        before = c.get("/v1/model", headers=auth("reader")).json()["snapshot"]
        response = c.post("/v1/contacts", json={"contacts": batch}, headers=auth("writer"))
        assert response.status_code == 200, response.text
        out = response.json()
        statuses = [r["status"] for r in out["results"]]
        assert statuses == ["inserted", "rejected", "rejected", "rejected", "rejected"]
        reasons = [r["reason"] for r in out["results"][1:]]
        assert "text" in reasons[0] and "created_at" in reasons[1]
        assert "duplicate" in reasons[2] and "is_escalation" in reasons[3]
        assert out["assigned"] == 1
        again = c.post("/v1/contacts", json={"contacts": batch}, headers=auth("writer")).json()
        assert [r["status"] for r in again["results"]][0] == "unchanged"
        changed = {**good, "text": "My card payment failed three times now"}
        third = c.post("/v1/contacts", json={"contacts": [changed]}, headers=auth("writer"))
        assert third.json()["results"][0]["status"] == "updated"
        assert c.get("/v1/model", headers=auth("reader")).json()["snapshot"] != before
    with Store(settings.store_path).read() as con:
        text, market = con.execute(
            "SELECT c.text, d.value FROM contacts c JOIN contact_dimensions d USING (contact_id) "
            "WHERE contact_id = 'API-1' AND d.name = 'market'"
        ).fetchall()[0]
        quarantined = con.execute(
            "SELECT count(*) FROM quarantine WHERE file LIKE 'api:%'"
        ).fetchall()[0][0]
        assigned = con.execute(
            "SELECT count(*) FROM assignments WHERE contact_id = 'API-1'"
        ).fetchall()[0][0]
    assert market == "DE" and "three times" in text
    assert quarantined == 4  # the re-post of the same batch added nothing
    assert assigned == 1


def test_post_contacts_limits(fitted_demo: Settings, tmp_path: Path) -> None:
    settings = keyed(copy_home(fitted_demo, tmp_path / "home"), api_max_contacts=3)
    with TestClient(create_app(settings, background=False)) as c:
        many = {"contacts": [{"contact_id": str(i)} for i in range(4)]}
        body = is_problem(c.post("/v1/contacts", json=many, headers=auth("writer")), 422)
        assert body["errors"][0]["loc"] == "body.contacts"
        body = is_problem(
            c.post("/v1/contacts", json={"contacts": []}, headers=auth("writer")), 422
        )
        reserved = {"contacts": [{"contact_id": "x", "created_at": "2026-11-20T10:00:00Z",
                                  "text": "hi", "dimensions": {"text": "clash"}}]}  # fmt: skip
        out = c.post("/v1/contacts", json=reserved, headers=auth("writer")).json()
        assert out["results"][0]["status"] == "rejected"
        assert "contact field" in out["results"][0]["reason"]


def test_cursor_is_opaque_json(client: TestClient) -> None:
    page = client.get("/v1/themes?limit=2", headers=auth("reader")).json()
    raw = page["next_cursor"] + "=" * (-len(page["next_cursor"]) % 4)
    decoded = json.loads(base64.urlsafe_b64decode(raw))
    assert decoded["offset"] == 2 and decoded["sort"] == "volume"


def test_vendor_scorecard_by_role(client: TestClient) -> None:
    sites = client.get("/v1/vendors", params={"level": "site"}, headers=auth("reader"))
    assert sites.status_code == 200, sites.text
    body = sites.json()
    assert body["level"] == "site" and {h["site"] for h in body["handlers"]}
    one = body["handlers"][0]["site"]
    detail = client.get(f"/v1/vendors/{one}", params={"level": "site"}, headers=auth("reader"))
    assert detail.status_code == 200 and [h["site"] for h in detail.json()["handlers"]] == [one]
    is_problem(client.get("/v1/vendors/nobody", headers=auth("reader")), 404)
    # agent ids are personal data: a reader cannot list them, a writer sees keyed hashes
    is_problem(client.get("/v1/vendors", params={"level": "agent_id"}, headers=auth("reader")),
               403)  # fmt: skip
    agents = client.get("/v1/vendors", params={"level": "agent_id"}, headers=auth("writer"))
    assert agents.status_code == 200
    assert all(h["agent_id"].startswith("agent-") for h in agents.json()["handlers"])
    is_problem(client.get("/v1/vendors", params={"level": "region"}, headers=auth("reader")), 422)


def test_the_demo_aht_jump_is_alerted_in_its_week_by_api_and_e_mail(
    client: TestClient, fitted_demo: Settings
) -> None:
    from datetime import datetime

    from rca.periods import period_of
    from rca.queries.repeat_drivers import load_repeat_analysis
    from rca.report.gather import _vendor_lines

    manifest = json.loads((fitted_demo.home.parent / "demo" / "manifest.json").read_text())
    jump = manifest["vendors"]["aht_jump"]
    noon = datetime.fromisoformat(jump["week"]["start"]).replace(hour=12, tzinfo=fitted_demo.tz)
    week = period_of(noon, "week", fitted_demo.tz).name
    params = {"level": "site", "period": week}
    alerts = client.get("/v1/vendor-alerts", params=params, headers=auth("reader"))
    assert alerts.status_code == 200, alerts.text
    body = alerts.json()
    assert body["granularity"] == "week" and body["scored"] >= 7 * 3
    hits = [(a["site"], a["metric"]) for a in body["alerts"]]
    assert (jump["site"], "aht") in hits
    assert len(hits) <= 2  # the planted jump, and at most one other at alpha 0.008 x 21 scores
    detail = client.get(f"/v1/vendors/{jump['site']}", params=params, headers=auth("reader"))
    assert detail.status_code == 200
    got = detail.json()
    assert [a["metric"] for a in got["alerts"]] == ["aht"]
    assert got["series"][-1]["period"] == week and got["series"][-1]["aht_s"] > 0
    one_week_before = client.get(
        "/v1/vendor-alerts", params={**params, "period": got["series"][-2]["period"]},
        headers=auth("reader"),
    ).json()  # fmt: skip
    assert (jump["site"], "aht") not in [
        (a["site"], a["metric"]) for a in one_week_before["alerts"]
    ]
    lines = _vendor_lines(fitted_demo, week, load_repeat_analysis(fitted_demo))
    assert any(line.startswith(f"{jump['site']}: handle time ×") for line in lines), lines


def test_a_post_with_thousands_of_dimension_keys_is_refused_with_a_reason(
    fitted_demo: Settings, tmp_path: Path
) -> None:
    """Through the HTTP route (not only `ingest_records`): one record, 3,000 keys."""
    settings = keyed(copy_home(fitted_demo, tmp_path / "home"))
    wide = {
        "contact_id": "API-WIDE",
        "created_at": "2026-11-20T10:00:00Z",
        "text": "My card payment failed",
        "dimensions": {f"field_{i}": str(i) for i in range(3_000)},
    }
    with TestClient(create_app(settings, background=False)) as c:
        response = c.post("/v1/contacts", json={"contacts": [wide]}, headers=auth("writer"))
        assert response.status_code == 200, response.text
        row = response.json()["results"][0]
        assert row["status"] == "rejected" and "3000 dimension keys" in row["reason"]
