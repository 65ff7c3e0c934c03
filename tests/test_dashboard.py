"""The dashboard's pages and sessions through TestClient on the fitted demo store.

The browser path (log in, follow a driver, download, log out) is in test_dashboard_e2e.py.
"""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pydantic import SecretStr

from rca.api.app import create_app
from rca.api.auth import hash_key, new_key
from rca.api.web.charts import series_svg, usual_range
from rca.api.web.session import COOKIE
from rca.settings import Settings

pytestmark = pytest.mark.slow
READER, WRITER = new_key(), new_key()
PAGES = [
    "/ui/",
    "/ui/themes/{theme}",
    "/ui/themes?granularity=parent",
    "/ui/model",
    "/ui/classify",
    "/ui/themes/{theme}/examples.csv",
    "/ui/vendors",
    "/ui/vendors/vendor/Keystone",
]


def ui_settings(settings: Settings, **overrides: object) -> Settings:
    keys = [f"reader:{hash_key(READER)}:pm", f"writer:{hash_key(WRITER)}:sop"]
    return settings.model_copy(
        update={"api_keys": keys, "ui_secret": SecretStr("test-secret"), **overrides}
    )


def login(client: TestClient, key: str, next_url: str = "/ui/"):
    page = client.get("/ui/login", params={"next": next_url})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/ui/login", data={"api_key": key, "csrf": csrf, "next": next_url})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def app(fitted_demo: Settings):
    return create_app(ui_settings(fitted_demo), background=False)


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def theme(app) -> str:
    with TestClient(app):  # runs the lifespan: the snapshot is loaded
        return app.state.service.current().themes["theme_id"].iloc[0]


def test_no_page_shows_data_without_a_session(client: TestClient, theme: str) -> None:
    for url in PAGES:
        response = client.get(url.format(theme=theme))
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/ui/login?next=")
    client.cookies.set(COOKIE, "forged.value.sig", path="/ui")
    assert client.get("/ui/").status_code == 303


def test_login_sets_a_signed_http_only_cookie_and_returns_to_next(client: TestClient) -> None:
    response = login(client, READER, "/ui/model")
    assert response.status_code == 303 and response.headers["location"] == "/ui/model"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert READER not in cookie and hash_key(READER) not in cookie
    assert client.get("/ui/model").status_code == 200


def test_bad_key_bad_csrf_and_open_redirects_are_refused(client: TestClient) -> None:
    assert login(client, "rca_wrong").status_code == 401
    response = client.post("/ui/login", data={"api_key": READER, "csrf": "x", "next": "/ui/"})
    assert response.status_code == 400 and COOKIE not in response.headers.get("set-cookie", "")
    assert login(client, READER, "https://evil.example/").headers["location"] == "/ui/"
    assert login(client, READER, "//evil.example/ui").headers["location"] == "/ui/"


def test_pages_render_for_a_reader(client: TestClient, theme: str) -> None:
    login(client, READER)
    week = client.get("/ui/")
    assert week.status_code == 200 and "Top repeat-complaint drivers" in week.text
    assert "<svg" in week.text and "<script" not in week.text
    detail = client.get(f"/ui/themes/{theme}", params={"kind": "escalated"})
    assert detail.status_code == 200
    for part in ("Root cause", "Repeats", "Example cases", "Lineage", 'role="img"'):
        assert part in detail.text
    csv = client.get(f"/ui/themes/{theme}/examples.csv", params={"kind": "recent"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8").startswith('\ufeff"kind"')
    assert "Recent fits (MLflow)" in client.get("/ui/model").text


def test_a_theme_charts_spike_marks_are_the_spike_reports(client: TestClient, app) -> None:
    """The chart marks each earlier period from flags scored without root causes (what kept a
    cold day page at 8 s); every mark must still be a spike `GET /v1/spikes` lists, and
    every listed spike a mark, whichever of the two was computed first."""
    login(client, READER)
    snapshot = app.state.service.current()
    periods = [p.name for p in snapshot.analysis.periods][-6:]
    listed = {
        name: {s["theme_id"] for s in client.get("/v1/spikes", params={"period": name},
                                                   headers={"X-API-Key": READER}).json()["spikes"]}
        for name in periods[3:]
    }  # fmt: skip
    assert any(listed.values()), "the demo has spikes in its last weeks"
    for theme_id in sorted(set().union(*listed.values())):
        marks = snapshot.flagged(theme_id, periods)
        page = client.get(f"/ui/themes/{theme_id}", params={"period": periods[-1]})
        assert page.status_code == 200
        for name, marked in zip(periods, marks, strict=True):
            report = snapshot.spikes(snapshot.period(name))
            spiking = {s["theme_id"] for s in report.spikes} if report is not None else set()
            assert marked == (theme_id in spiking), (theme_id, name)
            shown = re.search(rf"<title>{name}: [0-9]+ — spike</title>", page.text) is not None
            assert shown == marked, (theme_id, name)


def test_the_themes_page_switches_to_parent_groups_with_the_apis_figures(
    client: TestClient, app
) -> None:
    """The Themes page at both levels shows the figures of GET /v1/themes?granularity=…: a
    group's contacts are the sum of its themes', and each theme is listed under its group."""
    login(client, READER)
    snapshot = app.state.service.current()
    period = snapshot.period("latest")
    groups = snapshot.group_rows(period)
    fine = snapshot.theme_rows(period).set_index("theme_id")
    page = client.get("/ui/themes", params={"granularity": "parent"})
    assert page.status_code == 200 and 'aria-current="true">Parent groups' in page.text
    for group in groups.itertuples():
        assert group.volume == fine.loc[group.theme_ids, "volume"].sum()
        shown = re.escape(str(escape(group.label)))  # as Jinja writes it
        row = re.search(rf'<tr data-row="{shown}">(.*?)</tr>', page.text, re.S)
        assert row and f'data-label="Contacts">{group.volume}<' in row.group(1)
        for theme_id in group.theme_ids:
            assert f"/ui/themes/{theme_id}?" in row.group(1)
    if not snapshot.has_parent_groups:
        assert "no useful parent level" in page.text
    themes = client.get("/ui/themes", params={"granularity": "fine"}).text
    visible = fine.loc[~fine["hidden"]]
    assert themes.count("<tr data-row=") == len(visible)
    assert 'aria-current="true">Themes' in themes


def test_the_week_page_ranks_drivers_by_parent_group_with_their_themes(
    client: TestClient, app
) -> None:
    """The week page's drivers switch to parent groups like `rca drivers --granularity parent`:
    each group row names its themes, linked, in the ranking of GET /v1/drivers."""
    login(client, READER)
    snapshot = app.state.service.current()
    period = snapshot.period("latest")
    ranked = snapshot.drivers(period, 10, granularity="parent")["drivers"]
    page = client.get("/ui/", params={"granularity": "parent"})
    assert page.status_code == 200
    assert 'aria-current="true">Parent groups' in page.text
    assert "(parent groups)" in page.text
    at = 0
    for driver in ranked:
        label = str(escape(driver["label"]))
        at = page.text.index(label, at)  # in rank order
        for theme_id in driver["theme_ids"]:
            assert f"/ui/themes/{theme_id}?period={period.name}" in page.text
    fine = client.get("/ui/", params={"granularity": "fine"}).text
    assert 'aria-current="true">Themes' in fine and "(parent groups)" not in fine


def test_the_vendors_page_shows_the_scorecard_chart_and_drill_down(client: TestClient) -> None:
    login(client, READER)
    page = client.get("/ui/vendors")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert 'aria-current="page">Vendors' in html
    for vendor in ("Northwind", "Meridian", "Keystone"):
        assert f'href="/ui/vendors/vendor/{vendor}?period=' in html
    assert 'aria-labelledby="oe-title oe-desc"' in html  # the O/E chart with intervals
    assert "level=agent_id" not in html  # the agent level is not offered to a reader
    sites = client.get("/ui/vendors", params={"level": "site"}).text
    assert "Keystone-Porto" in sites and "Where they fall short" in sites
    detail = client.get("/ui/vendors/site/Keystone-Porto")
    assert detail.status_code == 200
    assert "Where it falls short" in detail.text and "Per week" in detail.text
    assert detail.text.count('class="chart"') == 3  # contacts, AHT, repeat rate
    assert client.get("/ui/vendors", params={"level": "agent_id"}).status_code == 403
    assert client.get("/ui/vendors/site/Nowhere").status_code == 404
    assert client.get("/ui/vendors", params={"level": "region"}).status_code == 422


def test_the_model_page_labels_every_metric_the_fit_logged(client: TestClient, app) -> None:
    """The page listed MLflow keys and raw floats (unassigned_fraction 0.002476): each metric
    the fit logged now has a label, a unit and a section, none falls back to "Other", and the
    key stays beside it."""
    from rca.api.web.model_facts import FIRST_FIT, METRIC_ROWS

    login(client, READER)
    metrics = app.state.service.current().model.metrics
    page = client.get("/ui/model").text
    labelled = {key for _, key, _, _ in METRIC_ROWS}
    assert metrics and set(metrics) <= labelled, set(metrics) - labelled
    assert "<caption>Other</caption>" not in page
    refits = {key for section, key, _, _ in METRIC_ROWS if section == "Across refits"}
    first = "id_stability" not in metrics  # a first fit says so instead of a column of zeros
    assert (str(escape(FIRST_FIT)) in page) == first
    for key in metrics:
        assert (f"<code>{key}</code>" in page) == (not first or key not in refits), key
    assert f"{metrics['n_contacts']:,.0f}</td>" in page
    assert f"{100 * metrics['unassigned_fraction']:.1f} %</td>" in page


def test_every_vendor_o_e_on_the_pages_carries_its_interval_and_flag(
    client: TestClient, app
) -> None:
    """AHT and escalation O/E were printed bare beside repeats' interval, and the detail page
    dropped their flags: every O/E a manager reads comes with its 95 % interval and flag."""
    from rca.api.routes.vendors import scorecard_answer
    from rca.api.web.vendor_pages import DEFAULT_SPAN

    login(client, READER)
    snapshot = app.state.service.current()
    period = snapshot.period("latest").name
    card = scorecard_answer(snapshot, snapshot.settings, period, "site", DEFAULT_SPAN)
    page = client.get("/ui/vendors", params={"level": "site"}).text
    for h in card["handlers"]:
        row = re.search(rf">{re.escape(h['site'])}</a></td>(.*?)</tr>", page, re.S)
        assert row, h["site"]
        detail = client.get(f"/ui/vendors/site/{h['site']}").text
        for metric in ("aht", "escalation", "repeat"):
            interval = f"{h[metric + '_ratio_low']:.2f}–{h[metric + '_ratio_high']:.2f}"
            assert f'{h[metric + "_ratio"]:.2f} <span class="ci">({interval})' in row.group(1)
            assert interval in detail
            if h[f"{metric}_flag"] == "high":
                assert detail.count('class="bad">high') >= 1


def test_the_agent_level_is_for_writers_and_shows_keyed_hashes(client: TestClient) -> None:
    login(client, WRITER)
    page = client.get("/ui/vendors", params={"level": "agent_id"})
    assert page.status_code == 200
    assert re.search(r"/ui/vendors/agent_id/agent-[0-9a-f]{8}\?", page.text)
    assert not re.search(r">(CEB|POR|LIS|MAN|DAV|PUN|HYD)\d\d<", page.text)  # raw agent ids


def test_errors_are_html_pages_on_the_dashboard(client: TestClient) -> None:
    login(client, READER)
    missing = client.get("/ui/themes/T9999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    bad = client.get("/ui/", params={"period": "soon"})
    assert bad.status_code == 400 and "ISO week" in bad.text


def test_classify_needs_a_writer_and_a_csrf_token(client: TestClient) -> None:
    login(client, READER)
    token = csrf_of(client.get("/ui/classify").text)
    text = {"text": "My card payment was declined", "csrf": token}
    assert client.post("/ui/classify", data=text).status_code == 403
    client.cookies.clear()
    login(client, WRITER)
    token = csrf_of(client.get("/ui/classify").text)
    assert client.post("/ui/classify", data={**text, "csrf": "stale"}).status_code == 400
    page = client.post("/ui/classify", data={**text, "csrf": token})
    assert page.status_code == 200 and "Nearest stored cases" in page.text


def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    login(client, READER)
    assert client.post("/ui/logout", data={"csrf": "nope"}).status_code == 400
    token = csrf_of(client.get("/ui/").text)
    response = client.post("/ui/logout", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    assert client.get("/ui/").status_code == 303


def test_sessions_expire_and_die_with_their_key(fitted_demo: Settings) -> None:
    short = create_app(ui_settings(fitted_demo, ui_session_hours=1 / 3600), background=False)
    with TestClient(short, follow_redirects=False) as c:
        login(c, READER)
        assert c.get("/ui/model").status_code == 200
        time.sleep(2.1)  # itsdangerous counts whole seconds: 1 s lifetime, 2 s later
        assert c.get("/ui/model").status_code == 303
    revoked = create_app(ui_settings(fitted_demo), background=False)
    with TestClient(revoked, follow_redirects=False) as c:
        login(c, READER)
        service = revoked.state.service
        service._keyring = type(service._keyring)({}, service._keyring.mtime)
        assert c.get("/ui/model").status_code == 303


def test_usual_range_and_chart() -> None:
    assert usual_range([10, 10, 10], 2) is None
    low, high = usual_range([10, 12, 8, 10, 30], 4)
    assert low < 10 < high < 30
    svg = series_svg(["W1", "W2", "W3", "W4", "W5"], [10, 12, 8, 10, 30],
                     flagged=[False, False, False, False, True], title="A <theme>")  # fmt: skip
    assert svg.count("<circle") == 5 and svg.count('class="point spike"') == 1
    assert "A &lt;theme&gt;" in svg and "Spikes in W5" in svg
