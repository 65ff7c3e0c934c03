"""The report's only read of the store: spikes, their series, drivers and example cases.

One spike scoring (`rca.queries.spike_report.detect_spikes`) and one repeat analysis
(`rca.queries.repeat_drivers.load_repeat_analysis`) per report; the drivers reuse the spikes'
context instead of scoring again, and the charts' series come from the repeat analysis' frame,
which is the same champion view of every contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from rca.periods import Period
from rca.repeats.examples import RECENT, REPRESENTATIVE, case_records, example_cases, in_turn
from rca.report.content import (
    Case,
    Chart,
    ReportModel,
    build_report,
    make_case,
    make_chart,
    sop_lines,
)
from rca.settings import Settings
from rca.text.audience import RedactionPolicy
from rca.trends.series import build_series


@dataclass(frozen=True)
class Gathered:
    """The report model plus the raw payloads behind it (for `--format json` and debugging)."""

    model: ReportModel
    spikes_payload: dict[str, Any]
    drivers: list[dict[str, Any]]


#: Vendor lines in the e-mail, at most.
VENDOR_LINES = 5


def _cases(frame: pd.DataFrame, settings: Settings) -> tuple[Case, ...]:
    return tuple(
        make_case(
            r,
            min_digit_run=settings.redact_min_digit_run,
            keep_handles=tuple(settings.redact_keep_handles),
            tz=settings.tz,
        )
        for r in case_records(frame)
    )


def _driver_cases(settings: Settings, theme_id: str, chosen: Period, analysis: Any) -> pd.DataFrame:
    """A driver's representative cases from the period itself, topped up from before it: a
    week-20 report quoted January complaints under "15 contacts (7 the period before)" on the
    CFPB export, because the theme's representatives were drawn from its whole history."""
    from rca.queries.repeat_drivers import examples_frame

    n = settings.report_cases
    own = examples_frame(settings, theme_id, kind=REPRESENTATIVE, n=n, analysis=analysis,
                         since=chosen.start, until=chosen.end)  # fmt: skip
    if len(own) >= n:
        return own
    before = examples_frame(settings, theme_id, kind=REPRESENTATIVE, n=n, analysis=analysis,
                            until=chosen.start)  # fmt: skip
    before = before.loc[~before["contact_id"].isin(own["contact_id"])]
    return pd.concat([own, before.head(n - len(own))], ignore_index=True)


def gather_report(settings: Settings, period: str, *, now: datetime) -> Gathered:
    """Read the champion's view of `period` and decide what the e-mail says."""
    from rca.queries.repeat_drivers import drivers_payload, load_repeat_analysis
    from rca.queries.spike_report import detect_spikes

    spikes = detect_spikes(settings, period, now=now)
    payload = spikes.payload()
    chosen = spikes.period
    analysis = load_repeat_analysis(settings)
    marked = analysis.marked
    upto = marked.loc[pd.to_datetime(marked["created_at"], utc=True) < pd.Timestamp(chosen.end)]

    charts: dict[str, Chart] = {}
    cases: dict[str, tuple[Case, ...]] = {}
    theme_ids = [s["theme_id"] for s in spikes.spikes]
    if theme_ids and not upto.empty:
        series = build_series(
            upto, chosen.kind, settings.tz, through=chosen, themes=theme_ids,
            as_of=analysis.coverage.through, partial_tolerance=settings.spike_partial_tolerance,
        )  # fmt: skip
        last = series.contacts.iloc[:, -settings.report_chart_periods :]
        for spike in spikes.spikes:
            tid = spike["theme_id"]
            charts[tid] = make_chart(
                list(last.columns), last.loc[tid].tolist(), spike["expected"],
                recent=settings.spike_monitor_periods, partial=series.last_partial,
            )  # fmt: skip
            if settings.report_cases:
                # the newest cases of the period: what this week's rise looks like
                in_period = upto.loc[pd.to_datetime(upto["created_at"], utc=True)
                                     >= pd.Timestamp(chosen.start)]  # fmt: skip
                picked = example_cases(
                    in_period, tid, kind=RECENT, n=settings.report_cases,
                    policy=RedactionPolicy.from_settings(settings, "people"),
                )  # fmt: skip
                cases[tid] = _cases(picked, settings)

    drivers: list[dict[str, Any]] = []
    driver_cases: dict[str, tuple[Case, ...]] = {}
    basis, heading, drivers_note = "repeats", "repeat-complaint drivers", ""
    # RCA_GRANULARITY=parent: the drivers are the parent groups, as `rca drivers` and the API
    # rank them (their spike context from the groups' own series, not the themes' spikes)
    parent = settings.granularity == "parent"
    if settings.report_top_drivers:
        answer = drivers_payload(
            settings, period=chosen.name, top=settings.report_top_drivers,
            context=None if parent else spikes.driver_context(), analysis=analysis,
            granularity="parent" if parent else "fine",
        )  # fmt: skip
        basis, heading, drivers_note = answer["basis"], answer["heading"], answer["note"]
        # a period with no contacts has nothing to rank: the section is left out
        drivers = [d for d in answer["drivers"] if (d.get("figures") or {}).get("contacts")]
        if settings.report_cases:
            for d in drivers:
                per_theme = [  # a parent group's cases come from its themes, in turn
                    _cases(_driver_cases(settings, t, chosen, analysis), settings)
                    for t in d.get("theme_ids") or [d["theme_id"]]
                ]  # fmt: skip
                driver_cases[d["theme_id"]] = tuple(in_turn(per_theme, settings.report_cases))

    vendor_lines = _vendor_lines(settings, chosen.name, analysis)
    significant, flat = _sop_lines(settings, chosen, analysis)
    themes = analysis.themes
    notes = dict(zip(themes["theme_id"], themes["description"], strict=True))
    names = dict(zip(themes["theme_id"], themes["label"], strict=True))
    model = build_report(
        payload, drivers, base_url=settings.report_base_url, generated_at=now, notes=notes,
        theme_names=names,
        charts=charts, cases=cases, driver_cases=driver_cases, drivers_basis=basis,
        drivers_heading=heading,
        drivers_note=drivers_note if drivers else "", vendor_lines=vendor_lines,
        sop_significant=significant, sop_no_effect=flat,
        taxonomy_proposals=_taxonomy_lines(settings), tz=settings.tz,
    )  # fmt: skip
    return Gathered(model, payload, drivers)


def _taxonomy_lines(settings: Settings) -> list[str]:
    """The champion refit's proposals no person has answered (a theme it carved out of another,
    a curated theme it split or retired): a program manager reads the e-mail, not the taxonomy
    page, so the e-mail is where they learn a decision waits."""
    from rca.store import Store
    from rca.store.curation import open_proposals
    from rca.store.themes import champion_version_in_store

    with Store(settings.store_path).read() as con:
        champion = champion_version_in_store(con)
        proposals = open_proposals(con, champion) if champion else []
    return [str(p["message"]) for p in proposals]


def _vendor_lines(settings: Settings, period: str, analysis: Any) -> tuple[str, ...]:
    """Sites whose repeats are significantly above what their mix predicts, the themes they
    fall short on, and sites whose handle time, repeat rate or contacts jumped in the week
    against their own history; nothing when handlers are not mapped or none stands out."""
    from rca.queries.vendor_scorecard import vendor_alerts_payload, vendors_payload

    answer = vendors_payload(settings, period=period, level="site", analysis=analysis)
    lines = [
        f"{h['site']}: {h['repeat_ratio']:.2f}× the repeats its mix predicts "
        f"(95% {h['repeat_ratio_low']:.2f}–{h['repeat_ratio_high']:.2f}, "
        f"{h['resolutions']:.0f} resolutions)"
        for h in answer["handlers"]
        if h.get("repeat_flag") == "high"
    ]
    lines += [
        f"{c['site']} on {c['label'] or c['problem_theme_id']}: {c['returned']:.0f} returns "
        f"against {c['expected']:.1f} expected (×{c['ratio']:.2f})"
        for c in answer["shortfalls"][:VENDOR_LINES]
    ]
    tracked = vendor_alerts_payload(settings, period=period, level="site", analysis=analysis)
    lines += [_jump_line(a, period) for a in tracked["alerts"]]
    return tuple(lines[:VENDOR_LINES])


def _sop_lines(settings: Settings, period: Any, analysis: Any) -> tuple[list[str], list[str]]:
    """SOP changes whose effect became significant this period, and those with none after
    `RCA_SOP_REVISION_WEEKS` (nothing when no change is recorded)."""
    from rca.queries.sop_effects import load_changes, sop_digest

    changes, edges = load_changes(settings)
    if not changes:
        return [], []
    digest = sop_digest(analysis, changes, edges, period, settings,
                        weeks=settings.sop_revision_weeks)  # fmt: skip
    return sop_lines(digest)


def _jump_line(alert: dict[str, Any], period: str) -> str:
    """'Keystone-Porto: handle time ×1.82 its usual in 2026-W45 (1408 s against 759 s)'."""
    unit = {"aht": " s", "contacts": "", "repeat_rate": ""}[alert["metric"]]
    scale = 100.0 if alert["metric"] == "repeat_rate" else 1.0
    fmt = "{:.1f}%" if alert["metric"] == "repeat_rate" else "{:.0f}"
    what = {"aht": "handle time", "contacts": "contacts", "repeat_rate": "repeat rate"}
    observed = fmt.format(alert["observed"] * scale) + unit
    usual = fmt.format(alert["expected"] * scale) + unit
    return (
        f"{alert['site']}: {what[alert['metric']]} ×{alert['ratio']:.2f} its usual in {period} "
        f"({observed} against {usual})"
    )
