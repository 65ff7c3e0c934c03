"""Repeat figures per theme and period, the driver score, and (slow) the demo's worst offender."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from rca.cli.output import to_json
from rca.periods import periods_between
from rca.repeats.detect import detect_repeats
from rca.repeats.drivers import FIGURE_COLUMNS as FIGURES
from rca.repeats.drivers import (
    OPTIONAL_COMPONENTS,
    UNASSIGNED,
    _summary,
    basis_heading,
    component_ceilings,
    default_weights,
    driver_records,
    growth_lower_bound,
    measured_components,
    period_index,
    rank_drivers,
    theme_period_figures,
    unassigned_repeats,
)

TZ = ZoneInfo("Europe/London")
MEASURED = tuple(OPTIONAL_COMPONENTS)
W1 = pd.Timestamp("2026-11-02 10:00", tz="UTC")  # Monday of 2026-W45


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (customer, days after W1, theme[, escalated[, handle_time_s]])."""
    records = []
    for i, (customer, days, theme, *rest) in enumerate(rows):
        records.append(
            {
                "contact_id": f"C{i:04d}",
                "created_at": W1 + pd.Timedelta(days=days),
                "customer_id": customer,
                "channel": "chat",
                "is_escalation": bool(rest[0]) if rest else False,
                "handle_time_s": float(rest[1]) if len(rest) > 1 else 600.0,
                "resolution": None,
                "text": f"text {i}",
                "theme_id": theme,
            }
        )
    return pd.DataFrame(records)


def weeks(marked: pd.DataFrame) -> list:
    created = pd.to_datetime(marked["created_at"], utc=True)
    return periods_between(created.min(), created.max(), "week", TZ)


def stream() -> pd.DataFrame:
    """Two ISO weeks and a day: TA brings customers back, TB never does, TC is tiny."""
    rows: list[tuple] = []
    for c in range(12):  # TA: 12 customers, 8 of them come back (two of them twice)
        rows.append((f"A{c}", 0.1 * c, "TA", c < 3, 900))
        if c < 8:
            rows.append((f"A{c}", 2 + 0.1 * c, "TA", c < 4, 1200))
        if c < 2:
            rows.append((f"A{c}", 4 + 0.1 * c, "TA", True, 1500))
    for c in range(20):  # TB: many contacts, one each: a theme with no repeats
        rows.append((f"B{c}", 0.2 * c, "TB", False, 300))
    rows += [("C0", 1, "TC"), ("C0", 2, "TC")]  # TC: one customer, one repeat (50 %)
    rows += [("D0", 5.5, "TA"), ("D0", 8.5, "TA")]  # Saturday -> Tuesday: crosses the week
    rows += [(None, 1, None), ("E0", 1, None), ("E0", 2, None, True)]  # unassigned problem
    for c in range(6):  # week 2: TA again, growing
        rows.append((f"F{c}", 7.2 + 0.1 * c, "TA"))
        rows.append((f"F{c}", 8.2 + 0.1 * c, "TA"))
    rows.append(("G0", 14.1, "TB"))  # one contact in a third week keeps week 2 closed-ish
    return frame_of(rows)


@pytest.fixture
def marked() -> pd.DataFrame:
    """Marked with vectors that tie only E0's two unassigned contacts (same text)."""
    frame = stream()
    vectors = np.zeros((len(frame), 2), np.float32)
    vectors[(frame["customer_id"] == "E0").to_numpy(), 0] = 1.0
    return detect_repeats(frame, vectors)


def test_period_index_puts_each_contact_in_its_week(marked: pd.DataFrame) -> None:
    periods = weeks(marked)
    assert [p.name for p in periods] == ["2026-W45", "2026-W46", "2026-W47"]
    idx = period_index(marked["created_at"], periods)
    assert (idx >= 0).all()
    assert period_index(pd.Series([W1 - pd.Timedelta(days=30)]), periods).tolist() == [-1]


def test_figures_per_theme_and_period(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked)).set_index(["period", "theme_id"])
    ta = figures.loc[("2026-W45", "TA")]
    assert ta["repeat_contacts"] == 10  # 8 + 2 second returns
    assert ta["contacts"] == 12 + 10 + 1  # and D0's first contact on Saturday
    assert ta["repeat_rate"] == pytest.approx(10 / 23)
    assert ta["customers_2plus_repeats"] == 2
    assert ta["escalated_repeats"] == 4 + 2
    assert ta["repeat_handle_time_s"] == pytest.approx(8 * 1200 + 2 * 1500)
    assert ta["handle_time_s_total"] == pytest.approx(12 * 900 + 8 * 1200 + 2 * 1500 + 600)
    assert ta["escalation_rate"] == pytest.approx((3 + 4 + 2) / 23)
    # first contacts whose window closed: 4 of TA's 13 never came back (D0's came back later)
    assert ta["one_and_done_rate"] == pytest.approx(4 / 13)


def test_a_theme_with_no_repeats(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked)).set_index(["period", "theme_id"])
    tb = figures.loc[("2026-W45", "TB")]
    assert tb["repeat_contacts"] == 0 and tb["repeat_rate"] == 0
    assert tb["customers_2plus_repeats"] == 0 and tb["escalated_repeats"] == 0
    assert tb["one_and_done_rate"] == 1.0
    ranked = rank_drivers(figures.reset_index(), "2026-W45")
    row = ranked.set_index("theme_id").loc["TB"]
    assert row["components"]["volume"] == 0 and row["trend_direction"] == "none"
    assert "0 repeat contacts" in row["summary"]


def test_a_chain_crossing_the_week_boundary_counts_where_each_contact_falls(
    marked: pd.DataFrame,
) -> None:
    d0 = marked.loc[marked["customer_id"] == "D0"]
    assert d0["repeat_status"].tolist() == ["first", "repeat"]
    figures = theme_period_figures(marked, weeks(marked)).set_index(["period", "theme_id"])
    assert figures.loc[("2026-W46", "TA"), "repeat_contacts"] == 6 + 1


def test_unassigned_problems_are_counted_but_not_ranked(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked))
    assert unassigned_repeats(figures, "2026-W45") == 1
    assert UNASSIGNED not in set(rank_drivers(figures, "2026-W45")["theme_id"])


def test_the_last_window_is_reported_incomplete(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked)).set_index(["period", "theme_id"])
    assert not figures.loc[("2026-W45", "TA"), "incomplete"]
    last = figures.loc[("2026-W47", "TB")]
    assert last["incomplete"] and last["pending_first_contacts"] == 1
    assert pd.isna(last["one_and_done_rate"])  # not "0 % resolved": not known yet


def test_the_theme_that_brings_customers_back_ranks_first(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked))
    ranked = rank_drivers(figures, "2026-W45")
    assert ranked["theme_id"].tolist()[0] == "TA"
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    assert ranked["score"].between(0, 1).all()
    # the tiny theme's 50 % rate is shrunk: it does not outrank TA's volume
    scores = ranked.set_index("theme_id")["score"]
    assert scores["TC"] < scores["TA"]
    top = ranked.iloc[0]
    assert sum(top["components"].values()) == pytest.approx(top["score"], abs=1e-3)


def test_weights_are_configurable(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked))
    only_rate = dataclasses.replace(
        default_weights(), volume=0, escalation=0, handle_time=0, growth=0, rate_prior_contacts=0
    )
    ranked = rank_drivers(figures, "2026-W45", weights=only_rate)
    assert ranked["theme_id"].tolist()[0] == "TC"  # unshrunk, 50 % beats TA's 43 %
    only_growth = dataclasses.replace(
        default_weights(), volume=0, rate=0, escalation=0, handle_time=0, growth=1
    )
    ranked = rank_drivers(figures, "2026-W46", weights=only_growth)
    assert ranked["score"].iloc[0] == 0  # TA's repeats fell (10 -> 7): no positive growth


def test_trend_and_explanation(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked))
    context = {"TA": {"spike_status": "spiking (high)", "root_cause": "market = DE explains 80%"}}
    themes = pd.DataFrame({"theme_id": ["TA"], "label": ["Refund missing"],
                           "keywords": [["refund"]], "parent_group": ["Money"]})  # fmt: skip
    ranked = rank_drivers(figures, "2026-W46", themes=themes, context=context, trend_periods=2)
    top = ranked.iloc[0]
    assert top["theme_id"] == "TA" and top["label"] == "Refund missing"
    assert [t["repeat_contacts"] for t in top["trend"]] == [10, 7]
    assert top["trend_direction"] == "falling"
    assert top["previous_repeat_contacts"] == 10
    assert top["repeat_growth"] == pytest.approx(0.7)
    assert "spike: spiking (high)" in top["summary"] and "market = DE" in top["summary"]
    others = ranked.loc[ranked["theme_id"] != "TA"]
    assert others["spike_status"].isna().all() and (others["label"] == others["theme_id"]).all()
    records = driver_records(ranked)
    assert json.loads(to_json({"drivers": records}))["drivers"][0]["figures"]["contacts"] == 13
    assert set(records[0]) >= {"rank", "theme_id", "score", "figures", "components", "trend",
                               "spike_status", "root_cause", "summary"}  # fmt: skip


def test_an_export_without_escalations_or_handle_time_neither_scores_nor_mentions_them(
    marked: pd.DataFrame,
) -> None:
    """A missing field is not a zero (the CFPB export has neither): "0 escalated; 0.0 h of
    handle time" was printed for every theme, and both still weighed in the score."""
    bare = marked.assign(is_escalation=None, handle_time_s=np.nan)
    assert measured_components(bare) == frozenset()
    assert measured_components(marked) == frozenset(MEASURED)
    figures = theme_period_figures(bare, weeks(bare))
    for basis in ("repeats", "contacts"):
        ranked = rank_drivers(figures, "2026-W45", basis=basis, measured=())
        for record in driver_records(ranked):
            assert "escalat" not in record["summary"] and "handle time" not in record["summary"]
            assert record["components"]["escalation"] == record["components"]["handle_time"] == 0
            assert sum(record["components"].values()) == pytest.approx(record["score"], abs=1e-3)
        full = rank_drivers(figures, "2026-W45", basis=basis)
        assert "escalated" in full["summary"].iloc[0]
        # the weight left by the absent components goes to the measured ones, not nowhere
        assert ranked["score"].iloc[0] > full["score"].iloc[0]
    # without customer ids the trend follows contacts (repeats are all zero there)
    contacts = rank_drivers(figures, "2026-W46", basis="contacts", measured=(), trend_periods=2)
    ta = contacts.set_index("theme_id").loc["TA"]
    assert [t["contacts"] for t in ta["trend"]] == [23, 13] and ta["trend_direction"] == "falling"
    assert ta["summary"].startswith("13 contacts (23 the period before)")  # growth's basis
    # a bar is drawn against its part's ceiling: the top theme's volume fills it exactly
    ceilings = component_ceilings(default_weights().as_dict(), ["volume", "growth"])
    assert ceilings == pytest.approx({"volume": 0.35 / 0.45, "growth": 0.10 / 0.45})
    top = contacts["components"].iloc[0]
    filled = max(v / ceilings[c] for c, v in top.items() if c in ceilings)
    assert filled == pytest.approx(1, abs=1e-3)
    assert basis_heading("contacts", ()) == "themes by contacts and growth"
    assert (
        basis_heading("contacts", ("handle_time",)) == "themes by contacts, handle time and growth"
    )
    assert basis_heading("contacts") == "themes by contacts, escalations, handle time and growth"
    assert basis_heading("repeats", ()) == "repeat-complaint drivers"


def test_growth_bound_rarely_sees_growth_in_noise_and_sees_a_real_tripling() -> None:
    """Two periods at the same Poisson rate: growth is scored at most 10 % of the time (the
    bound's confidence), at small and large volumes; a tripling of 30 contacts is seen."""
    rng = np.random.default_rng(0)
    for rate in (0.5, 2.0, 10.0, 60.0):
        before, now = rng.poisson(rate, 20_000), rng.poisson(rate, 20_000)
        false_alarms = np.mean(growth_lower_bound(now, before, 0.9) > 1.0)
        assert false_alarms <= 0.10, (rate, false_alarms)
    before, now = rng.poisson(30, 2_000), rng.poisson(90, 2_000)
    assert np.mean(growth_lower_bound(now, before, 0.9) > 1.5) > 0.95
    assert growth_lower_bound(np.array([0]), np.array([0]), 0.9)[0] == 0.0


def test_a_theme_going_from_none_to_one_contact_does_not_outrank_on_growth() -> None:
    """Seen on the CFPB export (2023-W20): a 1-contact theme, new that week, ranked above a
    steady 8-contact theme because log2((1 + 1) / (0 + 1)) was the week's largest growth."""
    rows = [(0, "2023-W19", "BIG", 38), (1, "2023-W20", "BIG", 40), (0, "2023-W19", "MID", 8),
            (1, "2023-W20", "MID", 8), (1, "2023-W20", "NEW", 1)]  # fmt: skip
    figures = pd.DataFrame(
        [{"period_idx": i, "period": p, "theme_id": t, **dict.fromkeys(FIGURES, 0),
          "contacts": n, "first_contacts": n, "incomplete": False} for i, p, t, n in rows]
    )  # fmt: skip
    ranked = rank_drivers(figures, "2023-W20", basis="contacts", measured=())
    assert ranked["theme_id"].tolist() == ["BIG", "MID", "NEW"]
    assert ranked.set_index("theme_id").loc["NEW", "components"]["growth"] == 0


def test_a_driver_without_a_note_has_none_when_another_has_one(marked: pd.DataFrame) -> None:
    """pandas 3 turned the other themes' None into NaN once one theme had a note: the week page
    printed "nan" under every other driver (seen on the CFPB export, whose Wells Fargo theme
    has a note)."""
    figures = theme_period_figures(marked, weeks(marked))
    themes = pd.DataFrame(
        {"theme_id": ["TA", "TB"], "label": ["Refund missing", "Late"],
         "keywords": [["refund"], ["late"]], "parent_group": [None, None],
         "description": pd.array(["Mostly one company: Acme (90% of its texts)", None],
                                 dtype="str")}
    )  # fmt: skip
    records = driver_records(rank_drivers(figures, "2026-W45", themes=themes))
    notes = {r["theme_id"]: r["description"] for r in records}
    assert notes["TA"].startswith("Mostly one company")
    assert all(note is None for t, note in notes.items() if t != "TA")


def test_unknown_period_gives_an_empty_ranking(marked: pd.DataFrame) -> None:
    figures = theme_period_figures(marked, weeks(marked))
    assert rank_drivers(figures, "2020-W01").empty


def test_parent_drivers_are_the_sums_of_their_themes(fitted_demo) -> None:
    """`rca drivers --granularity parent`: each group's figures are its themes' sums, every
    ranked theme is in one group, and the totals are the fine level's."""
    from conftest import run_cli

    from rca.errors import RcaError
    from rca.queries.repeat_drivers import drivers_payload, load_repeat_analysis

    analysis = load_repeat_analysis(fitted_demo)
    kwargs = {"top": 1000, "analysis": analysis, "context": {}}
    fine = drivers_payload(fitted_demo, **kwargs)
    parent = drivers_payload(fitted_demo, granularity="parent", **kwargs)
    by_theme = {d["theme_id"]: d["figures"] for d in fine["drivers"]}
    covered: list[str] = []
    for group in parent["drivers"]:
        assert group["theme_ids"], group
        for key in ("contacts", "repeat_contacts", "escalated", "escalated_repeats"):
            total = sum(by_theme[t][key] for t in group["theme_ids"] if t in by_theme)
            assert group["figures"][key] == total, (group["label"], key)
        covered += group["theme_ids"]
    assert len(covered) == len(set(covered)) and set(by_theme) - {"unassigned"} <= set(covered)
    assert len(parent["drivers"]) < len(fine["drivers"])
    assert parent["totals"] == fine["totals"]
    with pytest.raises(RcaError, match="fine or parent"):
        drivers_payload(fitted_demo, granularity="weekly", **kwargs)
    done = run_cli("drivers", "--granularity", "parent", "-f", "json", home=fitted_demo.home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["granularity"] == "parent"


def test_the_email_ranks_parent_groups_at_the_parent_level(fitted_demo) -> None:
    """`RCA_GRANULARITY=parent`: the e-mail's drivers are the groups `rca drivers` ranks, each
    listing its themes, its cases drawn from them, and linking to the parent view."""
    from datetime import UTC, datetime, timedelta

    from rca.queries.repeat_drivers import drivers_payload
    from rca.report.gather import gather_report
    from rca.report.render import render_text

    settings = fitted_demo.model_copy(update={"granularity": "parent", "report_cases": 2})
    gathered = gather_report(settings, "latest", now=datetime.now(UTC))
    period = gathered.spikes_payload["period"]
    ranked = drivers_payload(settings, period=period, top=settings.report_top_drivers,
                             granularity="parent")  # fmt: skip
    expected = [d["theme_id"] for d in ranked["drivers"] if d["figures"]["contacts"]]
    assert [d["theme_id"] for d in gathered.drivers] == expected and expected
    model = gathered.model
    text = render_text(model)
    for driver, item in zip(gathered.drivers, model.drivers, strict=True):
        assert item.themes and len(item.themes) == len(driver["theme_ids"])
        assert all(f"({t})" in " ".join(item.themes) for t in driver["theme_ids"])
        assert f"granularity=parent&period={period}" in item.link
        assert "Themes: " + "; ".join(item.themes) in text
        assert f"{item.label} ({item.theme_id})" not in text  # a group's name is not its id
        assert 0 < len(item.cases) <= 2
    fine = gather_report(fitted_demo, "latest", now=datetime.now(UTC))
    assert all(not item.themes for item in fine.model.drivers)
    # a report on an earlier week shows no case written after that week
    start = gathered.spikes_payload["period_start"]
    earlier_week = (start - timedelta(days=3)).strftime("%G-W%V")
    earlier = gather_report(settings, earlier_week, now=datetime.now(UTC))
    end = earlier.spikes_payload["period_end"].date().isoformat()
    cases = [c for item in earlier.model.drivers for c in item.cases]
    assert cases and all(c.created_at[:10] < end for c in cases), (end, cases[:2])
    # a theme's cases are the week's own where it has enough of them: the CFPB export's week-20
    # mail quoted January complaints under "15 contacts (7 the period before)"
    fine_week = gather_report(fitted_demo.model_copy(update={"report_cases": 2}), earlier_week,
                              now=datetime.now(UTC))  # fmt: skip
    first = fine_week.spikes_payload["period_start"].date().isoformat()
    # (a week's near-duplicate texts and a conversation's later turns are one case, so the
    # week's own may be fewer than its contacts: earlier cases top them up, after them)
    assert fine_week.model.drivers
    for item in fine_week.model.drivers:  # every driver has contacts in the week
        assert item.cases and first <= item.cases[0].created_at[:10] < end, item.cases
        assert all(c.created_at[:10] < end for c in item.cases)


# --- the demo stream, end to end (slow: builds and fits its own small store) ---------------


@pytest.mark.slow
def test_demo_worst_repeat_offender_is_the_top_driver(tmp_path: Path) -> None:
    from rca.demo import DemoConfig, write_demo
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.fit import fit_themes
    from rca.queries.repeat_drivers import drivers_payload, examples_frame, load_repeat_analysis
    from rca.settings import Settings

    settings = Settings(home=tmp_path / "home")
    contacts, truth_csv, manifest_json = write_demo(
        tmp_path / "demo", settings.datasets_dir, DemoConfig(n_contacts=4_000, weeks=6, seed=3)
    )
    ingest_paths([str(contacts)], settings)
    fit_themes(settings, promote="always")
    analysis = load_repeat_analysis(settings)

    truth = pd.read_csv(truth_csv, keep_default_na=False)
    marked = analysis.marked.merge(truth, on="contact_id", suffixes=("", "_truth"))
    actual = marked["chain_pos_truth"] >= 2
    found = marked["repeat_status"] == "repeat"
    assert (actual & found).sum() / found.sum() >= 0.9  # precision
    assert (actual & found).sum() / actual.sum() >= 0.9  # recall
    assert not found[marked["planted"] == "continuation"].any()

    worst = json.loads(manifest_json.read_text())["worst_repeat_intent"]
    payload = drivers_payload(settings, period="latest", top=5, analysis=analysis)
    top_theme = payload["drivers"][0]["theme_id"]
    # the top driver is the worst intent's theme: an intent the fit splits over two themes
    # (a refund intent's "not showing" and its generic wording) is found in either
    assert marked.loc[marked["theme_id"] == top_theme, "intent"].mode().iloc[0] == worst
    worst_theme = top_theme
    cases = examples_frame(settings, worst_theme, kind="repeat", n=2, analysis=analysis)
    assert cases["chain_id"].nunique() == 2 and (cases["chain_pos"] >= 1).all()
    assert np.isin(cases["contact_id"], marked["contact_id"]).all()

    from conftest import run_cli

    done = run_cli("drivers", "--top", "3", "--format", "json", home=settings.home)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["command"] == "drivers" and out["drivers"][0]["theme_id"] == worst_theme
    done = run_cli("examples", worst_theme, "--n", "2", "--format", "csv", "--bom",
                   home=settings.home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeff") and done.stdout.count("\n") >= 3


def test_summary_without_spike_context_says_nothing_about_spikes() -> None:
    row = {
        "repeat_contacts": 3,
        "repeat_rate": 0.2,
        "contacts": 15,
        "customers_2plus_repeats": 0,
        "escalated_repeats": 1,
        "repeat_handle_time_s": 3600.0,
        "one_and_done_rate": float("nan"),
        "repeat_growth": None,
        "trend_direction": "steady",
        "spike_status": float("nan"),
        "root_cause": float("nan"),
        "incomplete": False,
    }
    text = _summary(row, MEASURED)
    assert "nan" not in text and "spike" not in text
    row |= {"spike_status": "burst (high)", "root_cause": "90% of the excess comes from market=DE."}
    assert "spike: burst (high); 90% of the excess comes from market=DE." in _summary(row, MEASURED)


def test_cases_from_vectors_read_together_are_the_cases_read_one_theme_at_a_time(
    fitted_demo,
) -> None:
    """A driver list reads its themes' vectors in one store read (`member_vectors`); every
    theme's representative and escalated cases are the same as when each reads its own."""
    from rca.queries.repeat_drivers import examples_frame, load_repeat_analysis, member_vectors
    from rca.repeats.examples import case_records

    analysis = load_repeat_analysis(fitted_demo)
    themes = analysis.themes["theme_id"].tolist()[:12]
    together = member_vectors(fitted_demo, analysis, themes)
    assert len(together[0]) > 0
    for theme in themes:
        for kind in ("representative", "escalated"):
            alone = examples_frame(fitted_demo, theme, kind=kind, n=3, analysis=analysis)
            read = examples_frame(
                fitted_demo, theme, kind=kind, n=3, analysis=analysis, prefetched=together
            )
            assert case_records(read) == case_records(alone), (theme, kind)
