"""Emerging spikes for one period, with their root causes: the edge used by CLI, API and report.

Reads the analysis frame from the store (the only I/O here), then: series per theme
(`rca.trends.series`), scores (`rca.trends.spikes`), and for each alert the attribute values
behind its excess (`rca.trends.rootcause`). The total volume is scored too and, when it surges,
explained with the theme as one more attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rca.errors import RcaError
from rca.periods import Period, parse_period
from rca.queries.theme_figures import group_members, parent_keys
from rca.repeats.drivers import theme_note
from rca.settings import Settings
from rca.store.analysis import dimension_columns
from rca.trends.coverage import Coverage, coverage_of
from rca.trends.rootcause import ALL_CONTACTS, RootCauseConfig, describing_dimensions, explain
from rca.trends.series import ThemeSeries, build_series, period_names
from rca.trends.spikes import SEVERITIES, SpikeConfig, SpikeScorer, score_total

#: Contact fields that are attributes too (ingested dimensions are the `dim_` columns).
BASE_ATTRIBUTES = ("channel",)
THEME_ATTRIBUTE = "theme_id"
PARENT_ATTRIBUTE = "parent_group"
SPIKE_FIELDS = (
    "theme_id",
    "observed",
    "expected",
    "excess",
    "growth",
    "score",
    "p_value",
    "q_value",
    "kind",
    "severity",
    "first_seen",
    "method",
    "baseline_periods",
)


@dataclass
class SpikeReport:
    """Everything `rca spikes` prints; `payload()` is the stable JSON form."""

    model_version: str | None
    period: Period
    as_of: datetime | None
    partial: bool
    coverage: float
    scored: bool
    method: str
    themes_scored: int
    total: dict[str, Any]
    spikes: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    hidden_spikes: int = 0  # alerts on themes a person hid (small talk, spam): counted, not listed
    granularity: str = "fine"  # "parent": each spike is a parent group (theme_ids: its themes)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {**s, "cause": s["root_cause"]["sentence"], "label": s.get("label")}
            for s in self.spikes
        ]

    def driver_context(self) -> dict[str, dict[str, Any]]:
        """Per spiking theme: its status and root cause, as the driver ranking shows them."""
        return {
            s["theme_id"]: {
                "spike_status": f"{s['kind']} ({s['severity']})",
                "root_cause": s["root_cause"]["sentence"],
                "root_causes": s["root_cause"]["explanations"],
            }
            for s in self.spikes
        }

    def payload(self) -> dict[str, Any]:
        return {
            "command": "spikes",
            "model_version": self.model_version,
            "period": self.period.name,
            "period_kind": self.period.kind,
            "period_start": self.period.start,
            "period_end": self.period.end,
            "as_of": self.as_of,
            "partial": self.partial,
            "coverage": self.coverage,
            "scored": self.scored,
            "method": self.method,
            "themes_scored": self.themes_scored,
            "note": self.note,
            "total": self.total,
            "spikes": self.spikes,
            "hidden_spikes": self.hidden_spikes,
            "granularity": self.granularity,
        }


def detect_spikes(
    settings: Settings,
    period: str = "latest",
    *,
    min_severity: str = "low",
    now: datetime | None = None,
    granularity: str = "fine",
) -> SpikeReport:
    """Load the champion's analysis frame from the store and score `period`.

    `granularity="parent"` scores the parent groups' series with the same scorer: each
    contact counts under its theme's group (`rca.queries.theme_figures.parent_keys`; hidden
    themes under none), and a spike's `theme_id` is the group's key, `theme_ids` its themes.
    """
    from rca.store import Store
    from rca.store.analysis import load_analysis_frame
    from rca.store.curation import curated_themes
    from rca.store.themes import require_champion

    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        frame = load_analysis_frame(con, version)
        names = curated_themes(con, version)
    labels = dict(zip(names["theme_id"], names["label"], strict=True))
    notes = {
        t: note
        for t, d in zip(names["theme_id"], names["description"], strict=True)
        if (note := theme_note(d))
    }
    parents = {
        t: p
        for t, p in zip(names["theme_id"], names["parent_group"], strict=True)
        if isinstance(p, str) and p
    }
    hidden = set(names.loc[names["hidden"], "theme_id"])
    if frame.empty:
        raise RcaError("the store has no contacts")
    if granularity not in ("fine", "parent"):
        raise RcaError("granularity must be fine or parent")
    latest = frame["created_at"].max().to_pydatetime()
    chosen = parse_period(
        period, kind=settings.period, tz=settings.tz, now=now or datetime.now(UTC), latest=latest
    )
    if granularity == "parent":
        report = analyse_parents(frame, names, chosen, settings, min_severity=min_severity)
    else:
        report = analyse(
            frame,
            chosen,
            settings,
            labels=labels,
            parents=parents,
            min_severity=min_severity,
            hidden=hidden,
            notes=notes,
        )
    report.model_version = version
    return report


def analyse_parents(
    frame: pd.DataFrame,
    themes: pd.DataFrame,
    period: Period,
    settings: Settings,
    *,
    min_severity: str = "low",
    coverage: Coverage | None = None,
) -> SpikeReport:
    """`analyse` on the parent groups' series: each contact counts under its theme's group
    (`rca.queries.theme_figures.parent_keys`, curated `themes`; a hidden theme's contacts under
    none), scored by the same scorer. A spike's `theme_id` is the group's key (its name),
    `theme_ids` the group's themes."""
    keys, labels = parent_keys(themes)
    members = group_members(keys)
    grouped = frame.assign(theme_id=frame["theme_id"].map(keys))
    report = analyse(
        grouped, period, settings, labels=labels, min_severity=min_severity, coverage=coverage
    )
    report.granularity = "parent"
    for spike in report.spikes:
        spike["theme_ids"] = sorted(members.get(spike["theme_id"], []))
    return report


def analyse(
    frame: pd.DataFrame,
    period: Period,
    settings: Settings,
    *,
    labels: dict[str, str] | None = None,
    parents: dict[str, str] | None = None,
    min_severity: str = "low",
    coverage: Coverage | None = None,
    as_of: datetime | None = None,
    hidden: set[str] | None = None,
    notes: dict[str, str] | None = None,
    explain_causes: bool = True,
) -> SpikeReport:
    """Score `period` on an analysis frame (pure apart from reading `settings`).

    `coverage` is how far the data reaches (default: from this frame's own timestamps); it
    decides whether the period is partial, so pass the store's when the frame is a slice.
    `as_of` overrides how far the data is complete (an export known to cover a period).
    A period the data does not reach answers with a note and zeros, never an error.
    `parents` (theme id → parent group) lets a volume surge be explained by a group of
    themes when no single theme carries it. `notes` (theme id → the theme's note: template
    campaign, one company) go into each spike's `description`, as in the themes list.
    `explain_causes=False` scores without the root causes (each `root_cause` is None): which
    themes were flagged, for marking a chart's earlier periods, at a fraction of the cost.
    """
    if min_severity not in SEVERITIES:
        raise RcaError(f"--min-severity must be one of {', '.join(SEVERITIES)}")
    tz, kind = settings.tz, period.kind
    spike_config = SpikeConfig.from_settings(settings, kind)
    coverage = coverage or coverage_of(frame["created_at"], tz)
    if coverage is not None and as_of is not None:
        coverage = replace(coverage, through=as_of)
    report = SpikeReport(
        model_version=frame.attrs.get("model_version"),
        period=period,
        as_of=coverage.through if coverage else None,
        partial=False,
        coverage=coverage.fraction(period) if coverage else 0.0,
        scored=False,
        method=spike_config.method,
        themes_scored=0,
        total=empty_total(),
    )
    if coverage is None or coverage.outside(period):
        # nothing to score, and no reason to build a series out to a far-away period
        report.note = coverage.empty_note(period) if coverage else "the store has no contacts"
        return report
    frame = frame.loc[frame["created_at"] < period.end]
    series = build_series(
        frame,
        kind,
        tz,
        through=period,
        as_of=coverage.through,
        partial_tolerance=settings.spike_partial_tolerance,
    )
    report.partial, report.coverage = series.last_partial, series.coverage
    report.scored, report.themes_scored = True, len(series.themes)
    if series.last_partial:
        if settings.spike_partial == "skip":
            report.scored = False
            report.note = f"{period.name} is partial ({series.coverage:.0%}): not scored"
            return report
        window = coverage.through - period.start
        series = build_series(
            frame, kind, tz, through=period, as_of=coverage.through, window=window
        )
        report.note = (
            f"{period.name} is partial: the data reaches {_moment(coverage)}, "
            f"{series.coverage:.0%} of the period; every period is compared over its first "
            f"{_span(window)}"
        )
    history = len(series.names) - 1
    if history < spike_config.min_history:
        report.note = " ".join(
            filter(
                None,
                [
                    report.note,
                    f"not enough history to score {period.name} fully: {history} earlier "
                    f"{kind}s, {spike_config.min_history} needed"
                    + (" (a short-history test is used)" if history else ""),
                ],
            )
        )
    scored = SpikeScorer(spike_config).fit(series).score(period.name)
    t = len(series.names) - 1
    rows = frame.assign(period=period_names(frame["created_at"], kind, tz).to_numpy())
    if series.window is not None:
        starts = {p.name: pd.Timestamp(p.start) for p in series.periods}
        elapsed = rows["created_at"] - rows["period"].map(starts)
        rows = rows.loc[(elapsed < pd.Timedelta(series.window)).to_numpy()]
    attributes = [a for a in (*BASE_ATTRIBUTES, *dimension_columns(rows)) if _varies(rows, a)]
    baseline_names = _quiet_baseline(series, spike_config)
    theme_attributes = [THEME_ATTRIBUTE]
    rows = _explained_rows(rows, attributes)
    if parents:
        rows = rows.assign(parent_group=rows["theme_id"].map(parents))
        theme_attributes.append(PARENT_ATTRIBUTE)
    named = {k: f"{v} ({k})" if v and v != k else k for k, v in (labels or {}).items()}
    report.total = _total(
        series, t, spike_config, rows, theme_attributes + attributes, settings, explain_causes,
        value_names={THEME_ATTRIBUTE: named},
    )  # fmt: skip
    keep = SEVERITIES[SEVERITIES.index(min_severity) :]
    alerts = scored.loc[scored["alert"] & scored["severity"].isin(keep)]
    if hidden:
        is_hidden = alerts["theme_id"].isin(hidden)
        report.hidden_spikes = int(is_hidden.sum())
        alerts = alerts.loc[~is_hidden]
    new_theme = explain_causes and (alerts["kind"] == "new_theme").any()
    describing = describing_dimensions(rows, attributes) if new_theme else []
    rc_config = RootCauseConfig.from_settings(settings)
    for spike in alerts.to_dict(orient="records"):
        cause = (
            _explain_theme(
                rows, spike, period.name, baseline_names, attributes, describing, rc_config
            )
            if explain_causes
            else None
        )
        spike["label"] = (labels or {}).get(spike["theme_id"])
        spike["description"] = (notes or {}).get(spike["theme_id"])  # template, one company
        spike["root_cause"] = cause
        report.spikes.append(
            {k: spike.get(k) for k in (*SPIKE_FIELDS, "label", "description", "root_cause")}
        )
    return report


def _explained_rows(rows: pd.DataFrame, attributes: list[str]) -> pd.DataFrame:
    """Only the columns the explanations read, with no `attrs`.

    Each spike is explained over four slices of these rows. Sliced whole, every slice copied
    the contacts' text, and pandas deep-copied the frame's `attrs` (the repeat rules and
    metric) on every operation after it: a cold day page spent most of its 7 s there.
    """
    keep = list(dict.fromkeys(["theme_id", "period", *attributes]))
    slim = rows[keep].copy()
    slim.attrs = {}
    return slim


def _varies(rows: pd.DataFrame, column: str) -> bool:
    """An attribute with one value (or none: a field never mapped) cannot explain anything."""
    return column in rows and rows[column].replace("", np.nan).nunique(dropna=True) >= 2


def empty_total() -> dict[str, Any]:
    """The total-volume block of a period with nothing scored."""
    keys = ("expected", "excess", "growth", "score", "p_value", "severity", "root_cause")
    return {"observed": 0, **dict.fromkeys(keys), "alert": False}


def _moment(coverage: Coverage) -> str:
    """When the data stops, as a reader says it: a day for date-only sources."""
    return coverage.reach()


def _span(window: timedelta) -> str:
    """'3 days 19 h 59 min' instead of Python's '3 days, 19:59:00'."""
    minutes = int(window.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]  # fmt: skip
    return " ".join(p for p in parts if p) or "0 min"


def _quiet_baseline(series: ThemeSeries, config: SpikeConfig) -> list[str]:
    """Periods before the monitor window: the 'normal' mix a spike is compared with."""
    end = max(len(series.names) - config.monitor_periods, 0)
    if end == 0:  # too short for a quiet window: use whatever came before
        end = len(series.names) - 1
    return series.names[max(0, end - config.baseline_periods) : end]


def _explain_theme(
    rows: pd.DataFrame,
    spike: dict[str, Any],
    period: str,
    baseline_names: list[str],
    attributes: list[str],
    describing: list[str],
    config: RootCauseConfig,
) -> dict[str, Any]:
    mine = rows["theme_id"] == spike["theme_id"]
    now = rows["period"] == period
    before = rows["period"].isin(baseline_names)
    new = spike["kind"] == "new_theme"
    dims = [a for a in attributes if not (new and a in describing)]
    result = explain(
        rows.loc[mine & now],
        dims,
        baseline=None if new else rows.loc[mine & before],
        expected_total=None if new else spike["expected"],
        population_current=rows.loc[~mine & now],
        population_baseline=rows.loc[~mine & before],
        config=config,
        subject="this theme" if not new else "this new theme (compared with all contacts)",
    )
    return result.as_dict()


def _total(
    series: ThemeSeries,
    t: int,
    config: SpikeConfig,
    rows: pd.DataFrame,
    attributes: list[str],
    settings: Settings,
    explain_causes: bool = True,
    value_names: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The all-contacts surge check; when it fires, which themes, groups of themes and values
    drove it (`attributes` starts with the theme and, when known, its parent group; a theme
    reads by its name, `value_names`)."""
    weekday = None
    if series.kind == "day":
        weekday = np.array([p.start.weekday() for p in series.periods])
    total = score_total(series.total.to_numpy(dtype=float), t, config, weekday)
    total["root_cause"] = None
    if total.get("alert") and explain_causes:
        filled = {a: rows[a].fillna("unassigned") for a in (THEME_ATTRIBUTE, PARENT_ATTRIBUTE)
                  if a in rows}  # fmt: skip
        frame = rows.assign(**filled)
        now = frame["period"] == series.names[t]
        result = explain(
            frame.loc[now],
            attributes,
            # compared with the period before: what changed, not how the mix drifted since
            baseline=frame.loc[frame["period"] == series.names[t - 1]],
            expected_total=total["expected"],
            config=RootCauseConfig.from_settings(settings),
            subject=ALL_CONTACTS,
            value_names=value_names,
        )
        total["root_cause"] = result.as_dict()
    return total
