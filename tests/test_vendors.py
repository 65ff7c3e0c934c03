"""Vendor scorecards on hand-made frames: who is charged for a return, and fair comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca.repeats.detect import detect_repeats
from rca.vendors.fairness import holm, poisson_ratio_table, shrink
from rca.vendors.scorecard import excess_by_theme, resolution_attempts, scorecard, shortfalls

T0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")


def contacts(rows: list[tuple]) -> pd.DataFrame:
    """(id, customer, hours after T0, theme, vendor, site, agent) → an analysis frame."""
    frame = pd.DataFrame(
        rows, columns=["contact_id", "customer_id", "hours", "theme_id", "vendor", "site",
                       "agent_id"]
    )  # fmt: skip
    frame["created_at"] = T0 + pd.to_timedelta(frame.pop("hours"), unit="h")
    frame["is_escalation"] = False
    frame["handle_time_s"] = 300.0
    frame["csat"] = np.nan
    frame["channel"] = "chat"
    return frame


def test_a_return_is_charged_to_the_handler_of_the_contact_returned_after() -> None:
    frame = contacts([
        ("C1", "U1", 0, "T1", "Acme", "Acme-Manila", "a1"),
        ("C2", "U1", 48, "T1", "Bolt", "Bolt-Cebu", "b1"),  # came back: Acme's resolution failed
        ("C3", "U2", 0, "T1", "Bolt", "Bolt-Cebu", "b1"),
        ("X9", "U9", 24 * 30, "T2", "Bolt", "Bolt-Cebu", "b1"),  # closes every window
    ])  # fmt: skip
    marked = detect_repeats(frame)
    attempts = resolution_attempts(marked).set_index("contact_id")
    assert attempts.loc["C1", "brought_back"] == 1.0
    assert attempts.loc["C2", "brought_back"] == 0.0 and attempts.loc["C3", "brought_back"] == 0.0
    card = scorecard(marked, "vendor").set_index("vendor")
    assert card.loc["Acme", "repeat_rate"] == 1.0
    assert card.loc["Bolt", "repeat_rate"] == 0.0  # handled the return, is not charged for it
    assert card.loc["Bolt", "contacts"] == 3


def test_missing_handler_fields_give_an_empty_card_not_an_error() -> None:
    frame = contacts([("C1", "U1", 0, "T1", None, None, None)])
    marked = detect_repeats(frame)
    assert scorecard(marked, "vendor").empty
    assert scorecard(marked.drop(columns=["team"], errors="ignore"), "vendor").empty
    with pytest.raises(ValueError):
        scorecard(marked, "region")


def test_an_agent_at_two_sites_is_one_agent_and_counts_at_both_sites() -> None:
    frame = contacts([
        ("C1", "U1", 0, "T1", "Acme", "Manila", "a1"),
        ("C2", "U2", 1, "T1", "Acme", "Cebu", "a1"),
        ("C3", "U3", 2, "T1", "Acme", "Cebu", "a2"),
    ])  # fmt: skip
    marked = detect_repeats(frame)
    agents = scorecard(marked, "agent_id").set_index("agent_id")
    assert agents.loc["a1", "contacts"] == 2
    sites = scorecard(marked, "site").set_index("site")
    assert sites.loc["Manila", "contacts"] == 1 and sites.loc["Cebu", "contacts"] == 2


def test_the_hard_mix_is_not_flagged_and_the_weak_site_is() -> None:
    rng = np.random.default_rng(3)
    rates = {"easy": 0.05, "hard": 0.40}
    rows = []
    # 'Hard' takes mostly hard themes at the usual rates; 'Weak' fails twice as often on easy
    for vendor, mix, factor, n in (("Hard", 0.9, 1.0, 2000), ("Norm", 0.2, 1.0, 2000),
                                   ("Weak", 0.2, 2.0, 2000), ("Tiny", 0.2, 1.0, 6)):  # fmt: skip
        themes = np.where(rng.random(n) < mix, "hard", "easy")
        back = [rng.random() < rates[t] * (factor if t == "easy" else 1.0) for t in themes]
        rows += [
            {"vendor": vendor, "theme": t, "back": float(b)}
            for t, b in zip(themes, back, strict=True)
        ]
    frame = pd.DataFrame(rows)
    table = poisson_ratio_table(frame, "vendor", "back", ["theme"]).frame.set_index("vendor")
    assert table.loc["Hard", "raw_rate"] > table.loc["Norm", "raw_rate"] * 2
    assert table.loc["Hard", "flag"] == ""  # worse raw rate, normal once adjusted
    assert table.loc["Weak", "flag"] == "high"
    low, high = table.loc["Weak", ["ratio_low", "ratio_high"]]
    assert low > 1.0 and high < 2.5
    # a handful of contacts is shrunk towards the mean, not ranked
    tiny = table.loc["Tiny"]
    assert tiny["flag"] == "" and abs(tiny["shrunk_ratio"] - 1) <= abs(tiny["ratio"] - 1)


def test_where_a_handler_falls_short_names_its_theme() -> None:
    rows = []
    for i in range(40):
        site = "S1" if i % 2 else "S2"
        theme = "T1" if i % 4 < 2 else "T2"
        rows.append((f"C{i:03d}", f"U{i:03d}", i, theme, "V", site, "a"))
        if site == "S1" and theme == "T1":  # S1's T1 customers all come back
            rows.append((f"R{i:03d}", f"U{i:03d}", i + 30, theme, "V", "S2", "b"))
    rows.append(("Z", "UZ", 24 * 40, "T2", "V", "S2", "b"))
    marked = detect_repeats(contacts(rows))
    worst = excess_by_theme(marked, "site", "S1")
    assert worst.iloc[0]["problem_theme_id"] == "T1" and worst.iloc[0]["excess"] > 0


def test_holm_and_shrinkage_basics() -> None:
    assert list(holm(np.array([0.01, 0.04, 0.03]))) == pytest.approx([0.03, 0.06, 0.06])
    shrunk = shrink(np.array([2.0, 100.0, 120.0, 80.0]), np.array([0.5, 100.0, 100.0, 100.0]))
    assert shrunk[0] < 2.0 / 0.5  # four times expected on half a contact is mostly noise


@pytest.mark.slow
def test_rca_vendors_on_a_fitted_store(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from rca.cli import (
        app,
        commands,  # noqa: F401
    )
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.fit import fit_themes
    from rca.settings import Settings
    from tests.conftest import make_contacts

    frame = make_contacts(300, seed=2)
    rng = np.random.default_rng(0)
    frame["vendor"] = rng.choice(["Acme", "Bolt"], size=len(frame))
    frame["site"] = frame["vendor"] + "-" + rng.choice(["A", "B"], size=len(frame))
    frame["agent_id"] = "agent-" + rng.integers(0, 6, size=len(frame)).astype(str)
    frame["team"] = "Blue"  # one team: nobody else's work to set its share against
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    settings = Settings(home=tmp_path / "home", timezone="Europe/London")
    ingest_paths([str(path)], settings)
    fit_themes(settings, promote="always")
    runner = CliRunner()
    args = ["vendors", "--period", "latest", "--format", "json", "--home", str(settings.home)]
    out = json.loads(runner.invoke(app, [*args, "--level", "site"]).stdout)
    assert {h["site"] for h in out["handlers"]} <= {"Acme-A", "Acme-B", "Bolt-A", "Bolt-B"}
    assert all(h["contacts"] > 0 for h in out["handlers"])
    agents = json.loads(runner.invoke(app, [*args, "--level", "agent_id"]).stdout)["handlers"]
    shown = {h["agent_id"] for h in agents}
    assert shown and not shown & {f"agent-{i}" for i in range(6)}  # keyed hashes, not ids
    again = json.loads(runner.invoke(app, [*args, "--level", "agent_id"]).stdout)["handlers"]
    assert {h["agent_id"] for h in again} == shown  # stable within a home
    # the terminal table: each O/E with its interval in one cell, all columns within the width
    table = runner.invoke(app, ["vendors", "--level", "site", "--home", str(settings.home)])
    assert table.exit_code == 0, table.output
    assert "AHT O/E (95%)" in table.stdout and "…" not in table.stdout
    checked = 0
    for h in out["handlers"]:
        line = next(x for x in table.stdout.splitlines() if f" {h['site']} " in x)
        for metric in ("aht", "escalation", "repeat"):
            ratio, low, high = (h[f"{metric}_ratio{end}"] for end in ("", "_low", "_high"))
            if ratio is not None:  # this export's fields (and closed windows) decide which
                checked += 1
                assert f"{ratio:.2f} ({low:.2f}-{high:.2f})" in line
    assert checked >= len(out["handlers"])
    bad = runner.invoke(app, [*args, "--level", "region"])
    assert bad.exit_code != 0
    tracked = json.loads(runner.invoke(app, [*args, "--level", "site", "--alerts"]).stdout)
    assert tracked["command"] == "vendors" and tracked["granularity"] == "week"
    assert tracked["scored"] == 4 * 3 and isinstance(tracked["alerts"], list)
    assert not any("only" in n for n in tracked["notes"])
    teams = json.loads(runner.invoke(app, [*args, "--level", "team", "--alerts"]).stdout)
    assert teams["scored"] == 3 and any(n.startswith("one team only") for n in teams["notes"])
    quarter = json.loads(runner.invoke(app, [*args, "--level", "site", "--span", "13"]).stdout)
    assert quarter["span"] == 13 and ".." in quarter["period"]
    assert sum(h["contacts"] for h in quarter["handlers"]) == 300  # 70 days: all of them


def test_a_site_weak_on_one_theme_is_found_in_that_cell() -> None:
    rng = np.random.default_rng(5)
    rows, n = [], 0
    for site in ("S1", "S2", "S3", "S4"):
        for theme, rate in (("T1", 0.3), ("T2", 0.1), ("T3", 0.1)):
            factor = 2.0 if (site, theme) == ("S2", "T1") else 1.0
            for _ in range(300):
                n += 1
                back = rng.random() < rate * factor
                rows.append((f"C{n:05d}", f"U{n:05d}", n * 0.01, theme, "V", site, "a"))
                if back:
                    rows.append((f"R{n:05d}", f"U{n:05d}", n * 0.01 + 48, theme, "V", "S9", "b"))
    rows.append(("Z", "UZ", 24 * 400, "T3", "V", "S1", "a"))
    marked = detect_repeats(contacts(rows))
    found = shortfalls(marked, "site")
    assert list(zip(found["site"], found["problem_theme_id"], strict=True))[:1] == [("S2", "T1")]
    assert len(found) == 1


def _tracked_sites(aht_jump: tuple[str, int], repeat_jump: tuple[str, int]) -> pd.DataFrame:
    """14 weeks of 4 sites (120 first contacts a week each, 10 % come back), one site's
    handle time x1.8 in one week and another's returns x4 in another."""
    rng = np.random.default_rng(11)
    rows, seconds, n = [], [], 0
    for week in range(14):
        for site in ("S1", "S2", "S3", "S4"):
            rate = 0.4 if (site, week) == repeat_jump else 0.1
            scale = 1.8 if (site, week) == aht_jump else 1.0
            for _ in range(120):
                n += 1
                hours = week * 168 + rng.uniform(0, 160)
                theme = "T1" if rng.random() < 0.5 else "T2"
                rows.append((f"C{n:05d}", f"U{n:05d}", hours, theme, "V", site, "a"))
                seconds.append(scale * rng.lognormal(6.0, 0.5))
                if rng.random() < rate:
                    rows.append((f"R{n:05d}", f"U{n:05d}", hours + 30, theme, "W", "S9", "b"))
                    seconds.append(rng.lognormal(6.0, 0.5))
    rows.append(("Z", "UZ", 14 * 168 + 24 * 9, "T2", "W", "S9", "b"))  # closes every window
    seconds.append(400.0)
    frame = contacts(rows)
    frame["handle_time_s"] = seconds
    return detect_repeats(frame)


def test_a_site_whose_aht_or_repeat_rate_jumps_in_a_week_is_an_alert_and_others_are_not() -> None:
    from zoneinfo import ZoneInfo

    from rca.periods import period_of
    from rca.trends.spikes import SpikeConfig
    from rca.vendors.jumps import handler_series, score_handlers

    tz = ZoneInfo("UTC")
    marked = _tracked_sites(aht_jump=("S2", 11), repeat_jump=("S3", 9))
    series = handler_series(marked, "site", "week", tz)
    assert series is not None and series.handlers == ["S1", "S2", "S3", "S4", "S9"]
    weeks = series.names
    config = SpikeConfig()
    alerts = set()
    for week in weeks[6:14]:
        scores = score_handlers(series, week, config)
        alerts |= {(r.site, r.metric, week) for r in scores.itertuples() if r.alert}
    jump = period_of(T0.to_pydatetime() + pd.Timedelta(weeks=11), "week", tz).name
    back = period_of(T0.to_pydatetime() + pd.Timedelta(weeks=9), "week", tz).name
    assert ("S2", "aht", jump) in alerts
    assert ("S3", "repeat_rate", back) in alerts
    # the returns S3 caused are contacts at S9 that week: a true jump in S9's work too
    others = alerts - {("S2", "aht", jump), ("S3", "repeat_rate", back), ("S9", "contacts", back)}
    assert len(others) <= 1, others  # 5 handlers x 3 metrics x 8 weeks at alpha 0.008
    row = score_handlers(series, jump, config).set_index(["site", "metric"]).loc[("S2", "aht")]
    assert 1.5 < row["ratio"] < 2.2 and row["observed"] > 1.5 * row["expected"]


def test_contacts_no_handler_took_falling_away_make_no_handler_an_alert() -> None:
    """The handlers' work is steady while contacts nobody handled (a social channel, a bot)
    fall from 400 a week to 40: no handler's share of the handled work moved, so no contacts
    alert. With every contact as the offset, all four sites "jumped" at once."""
    from zoneinfo import ZoneInfo

    from rca.trends.spikes import SpikeConfig
    from rca.vendors.jumps import handler_series, score_handlers

    tz = ZoneInfo("UTC")
    marked = _tracked_sites(aht_jump=("S2", 99), repeat_jump=("S3", 99))  # neither happens
    rng = np.random.default_rng(4)
    loose = [
        (f"X{week:02d}{i:03d}", f"UX{week:02d}{i:03d}", week * 168 + rng.uniform(0, 160), "T1",
         None, None, None)
        for week in range(14) for i in range(400 if week < 13 else 40)
    ]  # fmt: skip
    frame = pd.concat([marked, detect_repeats(contacts(loose))], ignore_index=True)
    series = handler_series(frame, "site", "week", tz)
    assert series is not None
    last = series.names[13]
    scores = score_handlers(series, last, SpikeConfig())
    jumped = scores.loc[(scores["metric"] == "contacts") & scores["alert"], "site"].tolist()
    assert jumped == []
    assert series.total[last] == series.contacts[last].sum()  # the handled work


def test_a_repeat_rate_is_not_scored_before_its_windows_close() -> None:
    from zoneinfo import ZoneInfo

    from rca.vendors.jumps import handler_series

    marked = _tracked_sites(aht_jump=("S2", 11), repeat_jump=("S3", 9))
    marked = detect_repeats(marked.loc[marked["contact_id"] != "Z"].drop(
        columns=[c for c in marked if c not in contacts([]).columns]))  # fmt: skip
    series = handler_series(marked, "site", "week", ZoneInfo("UTC"))
    assert series is not None
    last = series.long().groupby("period")["resolved"].sum()
    assert last.iloc[-1] == 0  # the newest week's windows are open: nothing is counted yet
    assert last.iloc[0] > 0


def test_a_vendor_with_a_handful_of_contacts_is_shrunk_not_flagged_in_the_scorecard() -> None:
    rng = np.random.default_rng(8)
    rows, n = [], 0
    for vendor, count, rate in (("Big1", 600, 0.1), ("Big2", 600, 0.1), ("Tiny", 4, 1.0)):
        for _ in range(count):
            n += 1
            rows.append((f"C{n:05d}", f"U{n:05d}", n * 0.05, "T1", vendor, vendor, "a"))
            if rng.random() < rate:  # every one of Tiny's customers comes back
                rows.append((f"R{n:05d}", f"U{n:05d}", n * 0.05 + 30, "T1", "Big1", "Big1", "b"))
    rows.append(("Z", "UZ", 24 * 60, "T1", "Big2", "Big2", "b"))
    card = scorecard(detect_repeats(contacts(rows)), "vendor").set_index("vendor")
    tiny = card.loc["Tiny"]
    assert tiny["repeat_rate"] == 1.0 and tiny["repeat_ratio"] > 5  # 4 of 4 against ~0.4
    assert tiny["repeat_flag"] == ""  # 4 of 4 is an anecdote: shown, shrunk, never flagged
    assert tiny["repeat_shrunk_ratio"] < tiny["repeat_ratio"] / 4  # mostly noise: pulled in
    assert list(card.index)[-1] == "Tiny"  # the table is by volume, not ranked by ratio
