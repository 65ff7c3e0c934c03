"""Every period answers, on stores shaped like real exports (issue 16).

Real exports are not the demo: a week with no contacts, a store a week behind the clock,
timestamps that are dates only, no customer ids, a dimension that was never filled. For every
day and every week from two periods before the first contact to two after the newest, every
command that takes `--period` exits 0 and says something, every GET route answers 200, every
dashboard page renders and `rca report --dry-run` writes a message; no period of the past is
called partial, and the CLI, the API and the report agree on the period's numbers.
"""

from __future__ import annotations

import json
import re
import shutil
import traceback
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from rca.api.app import create_app
from rca.api.auth import hash_key, new_key
from rca.cli import app as cli_app
from rca.cli import commands  # noqa: F401  (registers the commands)
from rca.ingest.pipeline import ingest_paths
from rca.jobs.fit import fit_themes
from rca.queries.repeat_drivers import load_repeat_analysis
from rca.settings import Settings
from tests.conftest import make_contacts

pytestmark = pytest.mark.slow
KEY = new_key()
STORES = ("gap_week", "dates_only", "demo")


def _build(root: Path, name: str, frame: pd.DataFrame) -> Settings:
    settings = Settings(home=root / name, timezone="Europe/London")
    path = root / f"{name}.csv"
    frame.to_csv(path, index=False)
    ingest_paths([str(path)], settings)
    fit_themes(settings, promote="always")
    return settings


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, fitted_demo: Settings) -> dict:
    root = tmp_path_factory.mktemp("every-period")
    base = make_contacts(500, seed=4)
    created = pd.to_datetime(base["created_at"])
    # a full ISO week with no contacts in the middle of the data
    gap = (created >= "2026-09-28") & (created < "2026-10-05")
    gappy = base.loc[~gap]
    # a date-only export with no customer ids, no escalation flag, no handle time (as the
    # CFPB export) and a channel column that is always empty
    dates = base.drop(columns=["customer_id", "is_escalation", "handle_time_s"]).assign(
        created_at=created.dt.strftime("%Y-%m-%d"), channel=""
    )
    return {
        "gap_week": _build(root, "gap_week", gappy),
        "dates_only": _build(root, "dates_only", dates),
        "demo": fitted_demo,
    }


def sweep_periods(settings: Settings, *, edge_days: int | None = None) -> list[str]:
    """Every day and ISO week from two before the first contact to two after the newest.

    `edge_days` keeps only the days that many from either end (and every week): the demo's
    middle days are ordinary, and its CLI sweep would cost minutes for nothing new.
    """
    coverage = load_repeat_analysis(settings).coverage
    tz = settings.tz
    first, newest = coverage.first.astimezone(tz).date(), coverage.newest.astimezone(tz).date()
    days = [first + timedelta(days=i) for i in range(-2, (newest - first).days + 3)]
    if edge_days is not None:
        days = days[: edge_days + 2] + days[-(edge_days + 2) :]
    weeks: list[str] = []
    for offset in range(-14, (newest - first).days + 15):
        day = first + timedelta(days=offset)
        year, week, _ = day.isocalendar()
        if f"{year}-W{week:02d}" not in weeks:
            weeks.append(f"{year}-W{week:02d}")
    return [d.isoformat() for d in days] + weeks


def _cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, [*args, "--home", str(settings.home)])
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "".join(traceback.format_exception(result.exception))[-600:]
    return result.exit_code, result.stdout, err


@pytest.mark.parametrize("store", STORES)
def test_every_command_answers_every_period(stores: dict, store: str, tmp_path: Path) -> None:
    settings = stores[store]
    periods = sweep_periods(settings, edge_days=3 if store == "demo" else None)
    newest = load_repeat_analysis(settings).coverage.newest.astimezone(settings.tz).date()
    failures = []
    days = [p for p in periods if "-W" not in p]
    # spikes (the partial-period rule) on every day; drivers and themes, which share the
    # routes' query code swept day by day over HTTP below, on the edges and every third day
    sampled = set(days[:4] + days[-4:] + days[::3])
    for period in periods:
        for command in ("spikes", "drivers", "themes"):
            if command != "spikes" and "-W" not in period and period not in sampled:
                continue
            code, out, err = _cli(settings, command, "--period", period, "--format", "json")
            if code != 0:
                failures.append(f"{command} {period}: exit {code}: {err[-300:]}")
                continue
            payload = json.loads(out)
            if command == "spikes" and payload["partial"] and not _holds(period, newest):
                failures.append(f"spikes {period}: a past period called partial")
    # the report job, by the week (its unit): the weeks around the data's edges, where empty,
    # partial and not-yet-covered periods are, and every third week between (each report
    # gathers every section: the sweep's costliest command)
    weeks = [p for p in periods if "-W" in p]
    for period in [w for i, w in enumerate(weeks) if i < 4 or i >= len(weeks) - 4 or i % 3 == 0]:
        code, _out, err = _cli(
            settings, "report", "--period", period, "--dry-run", "--out", str(tmp_path / period)
        )
        if code != 0 or not list((tmp_path / period).glob("*.eml")):
            failures.append(f"report {period}: exit {code}: {err[-300:]}")
    assert not failures, "\n".join(failures[:20])


def _holds(period: str, day: date) -> bool:
    """Does `period` (a day or an ISO week) hold `day`?"""
    if "-W" in period:
        year, week, _ = day.isocalendar()
        return period == f"{year}-W{week:02d}"
    return period == day.isoformat()


@pytest.mark.parametrize("store", STORES)
def test_every_route_and_page_answers_every_period(stores: dict, store: str) -> None:
    settings = stores[store].model_copy(
        update={"api_keys": [f"reader:{hash_key(KEY)}:pm"], "ui_secret": SecretStr("s")}
    )
    app = create_app(settings, background=False)
    with TestClient(app, follow_redirects=False) as client:
        theme = app.state.service.current().themes["theme_id"].iloc[0]
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": KEY, "csrf": csrf, "next": "/ui/"})
        failures = []
        periods = sweep_periods(stores[store])
        if store == "demo":  # its middle days are ordinary (no gap, no date-only rule): edges
            days = [p for p in periods if "-W" not in p]  # and every third day, every week
            keep = set(days[:5] + days[-5:] + days[::3])
            periods = [p for p in periods if "-W" in p or p in keep]
        for period in periods:
            for url in (
                "/v1/spikes",
                "/v1/drivers",
                "/v1/themes",
                f"/v1/themes/{theme}",
                f"/v1/themes/{theme}/examples",
                "/ui/",
                f"/ui/themes/{theme}",
            ):
                response = client.get(url, params={"period": period}, headers={"X-API-Key": KEY})
                if response.status_code != 200:
                    failures.append(f"{url}?period={period}: {response.status_code}")
        assert not failures, "\n".join(failures[:20])


def test_past_days_of_a_date_only_store_are_complete(stores: dict) -> None:
    """A date-only source's days are whole days: only the newest period may be partial."""
    settings = stores["dates_only"]
    analysis = load_repeat_analysis(settings)
    assert analysis.coverage.date_only
    code, out, _ = _cli(settings, "spikes", "--period", "latest", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    # the newest day is covered to its end, so `latest` as a day-or-week period is judged
    # against the end of that day, never against its midnight timestamp
    assert payload["coverage"] > 0.1


def test_an_empty_period_after_the_data_says_so(stores: dict) -> None:
    settings = stores["gap_week"]
    newest = load_repeat_analysis(settings).coverage.newest.astimezone(settings.tz).date()
    year, week, _ = (newest + timedelta(days=14)).isocalendar()
    code, out, _ = _cli(settings, "spikes", "--period", f"{year}-W{week:02d}", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["total"]["observed"] == 0 and not payload["spikes"]
    assert "is ingestion behind" in payload["note"] and newest.isoformat() in payload["note"]


def test_the_themes_list_of_an_empty_period_says_so(stores: dict) -> None:
    """`rca themes` listed zeros after the data with nothing to say why; the API and the
    page carry the same note."""
    settings = stores["gap_week"]
    newest = load_repeat_analysis(settings).coverage.newest.astimezone(settings.tz).date()
    year, week, _ = (newest + timedelta(days=14)).isocalendar()
    name = f"{year}-W{week:02d}"
    for level in ("fine", "parent"):
        code, out, err = _cli(settings, "themes", "--period", name, "--granularity", level,
                              "--format", "json")  # fmt: skip
        assert code == 0, err
        payload = json.loads(out)
        assert payload["total_volume"] == 0
        assert "is ingestion behind" in payload["note"] and newest.isoformat() in payload["note"]
    code, out, _ = _cli(settings, "themes", "--period", "2026-W40", "--format", "json")
    assert code == 0 and json.loads(out)["note"] == ""  # a gap week inside the data: complete
    settings = settings.model_copy(
        update={"api_keys": [f"reader:{hash_key(KEY)}:pm"], "ui_secret": SecretStr("s")}
    )
    app = create_app(settings, background=False)
    with TestClient(app, follow_redirects=False) as client:
        body = client.get("/v1/themes", params={"period": name}, headers={"X-API-Key": KEY})
        assert "is ingestion behind" in body.json()["note"]
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": KEY, "csrf": csrf, "next": "/ui/"})
        html = client.get("/ui/themes", params={"period": name, "granularity": "parent"}).text
        assert "is ingestion behind" in html


def test_a_partial_weeks_growth_reads_the_same_days_of_the_week_before(stores: dict) -> None:
    """A date-only store ending on a Monday: its last week set one day against seven and read
    as a collapse. Every list counts the previous week's Monday only, and agrees."""
    settings = stores["dates_only"]
    analysis = load_repeat_analysis(settings)
    newest = analysis.coverage.newest.astimezone(settings.tz).date()
    assert newest.isoweekday() == 1  # the fixture's newest contact: one day of its week
    year, week, _ = newest.isocalendar()
    name = f"{year}-W{week:02d}"
    monday = pd.Timestamp(newest, tz=settings.tz) - pd.Timedelta(days=7)
    marked = analysis.marked
    created = pd.to_datetime(marked["created_at"], utc=True)
    early = marked.loc[(created >= monday) & (created < monday + pd.Timedelta(days=1))]
    expected = early["theme_id"].dropna().value_counts().to_dict()
    assert sum(expected.values()) > 0
    code, out, err = _cli(settings, "themes", "--period", name, "--top", "100",
                          "--format", "json")  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert "same span of the period before" in payload["note"]
    fine = {r["theme_id"]: r for r in payload["themes"] if r["theme_id"]}
    for theme_id, row in fine.items():
        assert row["previous_volume"] == expected.get(theme_id, 0), theme_id
        assert row["growth"] == pytest.approx((row["volume"] + 1) / (row["previous_volume"] + 1))
    code, out, err = _cli(settings, "themes", "--period", name, "--granularity", "parent",
                          "--top", "100", "--format", "json")  # fmt: skip
    assert code == 0, err
    groups = json.loads(out)["groups"]
    assert sum(g["previous_volume"] for g in groups) == sum(
        r["previous_volume"] for r in fine.values()
    )
    settings = settings.model_copy(
        update={"api_keys": [f"reader:{hash_key(KEY)}:pm"], "ui_secret": SecretStr("s")}
    )
    with TestClient(create_app(settings, background=False), follow_redirects=False) as client:
        body = client.get("/v1/themes", params={"period": name, "limit": 100},
                          headers={"X-API-Key": KEY}).json()  # fmt: skip
        for item in body["items"]:
            assert item["previous_volume"] == fine[item["theme_id"]]["previous_volume"]
            assert item["growth"] == pytest.approx(fine[item["theme_id"]]["growth"])
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": KEY, "csrf": csrf, "next": "/ui/"})
        theme_id = body["items"][0]["theme_id"]
        html = client.get(f"/ui/themes/{theme_id}", params={"period": name}).text
        assert "in the first 1 day of the period before" in html
        # the spike report and the drivers both said the week is partial, in two wordings
        week = client.get("/ui/", params={"period": name}).text
        assert week.count(f"{name} is partial") == 1 and "(dates only))" not in week
    code, out, err = _cli(settings, "drivers", "--period", name, "--top", "100",
                          "--format", "json")  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert "same span of the period before" in payload["note"]
    for driver in payload["drivers"]:  # "9 contacts (25 the period before)" was seven days
        theme_id = driver["theme_id"]
        said = f"({expected.get(theme_id, 0)} in the first 1 day of the period before)"
        assert said in driver["summary"], (theme_id, driver["summary"])


def test_a_gap_week_is_complete_and_zero(stores: dict) -> None:
    code, out, _ = _cli(stores["gap_week"], "spikes", "--period", "2026-W40", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["total"]["observed"] == 0 and not payload["partial"]
    assert payload["coverage"] == 1.0


def test_escalations_and_sop_effects_of_a_store_without_the_fields_say_so(
    stores: dict, tmp_path: Path
) -> None:
    """Absent is not zero, in the escalation list and an SOP change's effects: on the CFPB
    export the page read "0 escalations of 53 contacts", a change's repeat rate "too early" for
    ever and its escalation rate "no effect, 0% before, 0% after"."""
    home = tmp_path / "home"
    shutil.copytree(stores["dates_only"].home, home)
    settings = stores["dates_only"].model_copy(update={"home": home})
    code, out, err = _cli(settings, "escalations", "--period", "latest", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["contacts"] > 0 and listed["escalations"] is None and listed["themes"] == []
    assert "carry no escalation flag" in listed["note"]
    theme = load_repeat_analysis(settings).themes["theme_id"].iloc[0]
    code, out, err = _cli(settings, "sop", "add", "--theme", theme, "--title", "New script",
                          "--effective", "2026-10-05", "--format", "json")  # fmt: skip
    assert code == 0, err
    change_id = json.loads(out)["change_id"]
    code, out, err = _cli(settings, "sop", "show", change_id, "--format", "json")
    assert code == 0, err
    effects = json.loads(out)["effects"]
    assert {m: e["verdict"] for m, e in effects.items()} == {
        "repeat rate": "not_measured", "escalation rate": "not_measured"
    }  # fmt: skip
    assert "no customer ids" in effects["repeat rate"]["sentence"]
    assert "no escalation flag" in effects["escalation rate"]["sentence"]
    assert all(e["before"] is None and e["after"] is None for e in effects.values())
    code, out, err = _cli(settings, "sop", "review", "--format", "json")
    assert code == 0, err
    review = json.loads(out)
    assert review["queue"] == [] and review["overall_escalation_rate"] is None
    assert "repeat rate not measured" in review["note"] and "escalation rate" in review["note"]
    app = create_app(
        settings.model_copy(
            update={"api_keys": [f"reader:{hash_key(KEY)}:pm"], "ui_secret": SecretStr("s")}
        ),
        background=False,
    )
    with TestClient(app, follow_redirects=False) as client:
        api = client.get("/v1/escalations", headers={"X-API-Key": KEY})
        assert api.status_code == 200 and api.json()["escalations"] is None
        shown = client.get(f"/v1/sop-changes/{change_id}", headers={"X-API-Key": KEY})
        assert shown.status_code == 200, shown.text[:300]
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": KEY, "csrf": csrf, "next": "/ui/"})
        html = client.get("/ui/escalations").text
        assert "carry no escalation flag" in html and "0 escalations" not in html
        html = client.get(f"/ui/themes/{theme}").text
        assert "not measured" in html and "no effect" not in html


def test_a_store_without_customers_escalations_or_handle_time_says_only_what_it_has(
    stores: dict, tmp_path: Path
) -> None:
    """Absent is not zero: the CFPB export has no customer ids, escalation flag or handle
    time, and every theme read "0 escalated; 0.0 h of handle time" with repeat columns of 0."""
    settings = stores["dates_only"]
    code, out, _ = _cli(settings, "drivers", "--period", "latest", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["basis"] == "contacts" and payload["measured"] == []
    assert payload["heading"] == "themes by contacts and growth"
    assert "ranked by contacts and growth" in payload["note"]
    assert "carry no escalation flag and no handle time" in payload["note"]
    for driver in payload["drivers"]:
        assert "escalat" not in driver["summary"] and "handle time" not in driver["summary"]
        figures = driver["figures"]  # null, not 0: every one read 0 repeats and 0 escalated
        assert figures["contacts"] > 0
        for key in ("repeat_contacts", "repeat_rate", "escalated", "handle_time_s_total"):
            assert figures[key] is None, key
    totals = payload["totals"]
    assert totals["repeat"] is None and totals["repeat_rate"] is None
    assert totals["no_customer"] == totals["contacts"] > 0
    code, table, _ = _cli(settings, "drivers", "--period", "latest")
    assert code == 0 and "top themes by contacts and growth, " in table
    assert "repeat_contacts" not in table and "escalated" not in table and "handle_h" not in table
    code, _, err = _cli(
        settings, "report", "--period", "latest", "--dry-run", "--out", str(tmp_path)
    )
    assert code == 0, err
    text = (tmp_path / "report.txt").read_text()
    assert "THEMES BY CONTACTS" in text and "ESCALATIONS" not in text
    assert "0 escalated" not in text and "h of handle time" not in text
    app = create_app(
        settings.model_copy(
            update={"api_keys": [f"reader:{hash_key(KEY)}:pm"], "ui_secret": SecretStr("s")}
        ),
        background=False,
    )
    with TestClient(app, follow_redirects=False) as client:
        theme = app.state.service.current().themes["theme_id"].iloc[0]
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/ui/login", data={"api_key": KEY, "csrf": csrf, "next": "/ui/"})
        html = client.get(f"/ui/themes/{theme}").text
        assert "No customer ids in this store" in html
        assert "Repeat rate" not in html and "Escalated repeats" not in html
        week = client.get("/ui/").text
        assert "Top themes by contacts and growth</h2>" in week and "Repeat rate" not in week
        assert 'data-label="Contacts"' in week
        for part in ("rate", "escalation", "handle time"):  # not scored: no bar
            assert f'class="bar-label">{part}<' not in week
        assert 'class="bar-label">volume<' in week
        # each bar is drawn against the most its part can earn here (volume 0.35 of the 0.45
        # measured): the top theme's volume bar ran to 222 % of its track, over the figures
        widths = [int(w) for w in re.findall(r'class="bar" style="width: (\d+)%', week)]
        assert widths and max(widths) == 100
        # a contact's deep dive: bool(NA) of the missing escalation flag was a 500 on every
        # contact of such a store (page, API and `rca escalation`)
        contact = app.state.service.current().analysis.marked["contact_id"].iloc[0]
        dive = client.get(f"/ui/contacts/{contact}")
        assert dive.status_code == 200, dive.text[:300]
        day = re.search(r'<p class="meta">(\d{4}-\d{2}-\d{2}) ', dive.text)
        assert day, "a date-only contact has its day, without 00:00"
        # no vendor field: the notes say what to map, and no empty chart or "none fall short"
        vendors = client.get("/ui/vendors").text
        assert "No contacts with a vendor" in vendors and "map the vendor field" in vendors
        assert "Repeats against the mix" not in vendors and "fall short" not in vendors
        # no flag is not "too few escalations" (the page's words for a theme with one or two)
        assert "carry no escalation flag" in dive.text and "Too few escalations" not in dive.text
        api = client.get(f"/v1/contacts/{contact}/deep-dive", headers={"X-API-Key": KEY})
        assert api.json()["escalation_flag"] is False
        assert api.status_code == 200 and api.json()["contact"]["is_escalation"] is None
        # the themes list read "Repeat rate 0%" and "escalated 0" for every theme
        for level in ("fine", "parent"):
            body = client.get("/v1/themes", params={"granularity": level},
                              headers={"X-API-Key": KEY}).json()  # fmt: skip
            rows = body["items"] or body["groups"]
            assert rows and sum(r["volume"] for r in rows) > 0
            for row in rows:
                for key in ("repeat_contacts", "repeat_rate", "escalated", "escalation_rate"):
                    assert row[key] is None, (level, key)
            html = client.get("/ui/themes", params={"granularity": level}).text
            assert "Repeat rate" not in html and "the store has no customer ids" in html
        refused = client.get("/v1/themes", params={"sort": "repeats"}, headers={"X-API-Key": KEY})
        assert refused.status_code == 400 and "no customer ids" in refused.text
    code, _, err = _cli(settings, "escalation", str(contact))
    assert code == 0, err
    code, out, err = _cli(settings, "themes", "--format", "json")
    assert code == 0, err
    assert all(r["escalation_rate"] is None for r in json.loads(out)["themes"])
    code, out, err = _cli(settings, "themes", "--granularity", "parent", "--format", "json")
    assert code == 0, err
    for group in json.loads(out)["groups"]:
        assert group["repeat_rate"] is None and group["escalated"] is None
    code, table, _ = _cli(settings, "themes", "--granularity", "parent")
    assert code == 0 and "repeat_rate" not in table
