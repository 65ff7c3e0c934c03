"""Emerging spikes for one period, with their root causes: the edge used by CLI, API and report.

Reads the analysis frame from the store (the only I/O here), then: series per theme
(`rca.trends.series`), scores (`rca.trends.spikes`), and for each alert the attribute values
behind its excess (`rca.trends.rootcause`). The total volume is scored too and, when it surges,
explained with the theme as one more attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from rca.errors import RcaError
from rca.periods import Period, parse_period
from rca.settings import Settings
from rca.store.analysis import dimension_columns
from rca.trends.rootcause import RootCauseConfig, describing_dimensions, explain
from rca.trends.series import ThemeSeries, build_series, period_names
from rca.trends.spikes import SEVERITIES, SpikeConfig, SpikeScorer, score_total

#: Contact fields that are attributes too (ingested dimensions are the `dim_` columns).
BASE_ATTRIBUTES = ("channel",)
THEME_ATTRIBUTE = "theme_id"
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
        }


def detect_spikes(
    settings: Settings,
    period: str = "latest",
    *,
    min_severity: str = "low",
    now: datetime | None = None,
) -> SpikeReport:
    """Load the champion's analysis frame from the store and score `period`."""
    from rca.store import Store
    from rca.store.analysis import load_analysis_frame
    from rca.store.themes import require_champion

    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        frame = load_analysis_frame(con, version)
        labels = dict(
            con.execute(
                "SELECT theme_id, label FROM themes WHERE model_version = ?", [version]
            ).fetchall()
        )
    if frame.empty:
        raise RcaError("the store has no contacts")
    latest = frame["created_at"].max().to_pydatetime()
    chosen = parse_period(
        period, kind=settings.period, tz=settings.tz, now=now or datetime.now(UTC), latest=latest
    )
    report = analyse(frame, chosen, settings, labels=labels, min_severity=min_severity)
    report.model_version = version
    return report


def analyse(
    frame: pd.DataFrame,
    period: Period,
    settings: Settings,
    *,
    labels: dict[str, str] | None = None,
    min_severity: str = "low",
    as_of: datetime | None = None,
) -> SpikeReport:
    """Score `period` on an analysis frame (pure apart from reading `settings`)."""
    if min_severity not in SEVERITIES:
        raise RcaError(f"--min-severity must be one of {', '.join(SEVERITIES)}")
    tz, kind = settings.tz, period.kind
    spike_config = SpikeConfig.from_settings(settings, kind)
    frame = frame.loc[frame["created_at"] < period.end]
    if frame.empty or frame["created_at"].min() >= period.end:
        raise RcaError(f"no contacts up to the end of {period.name}")
    stop = as_of or frame["created_at"].max().to_pydatetime()
    series = build_series(
        frame,
        kind,
        tz,
        through=period,
        as_of=stop,
        partial_tolerance=settings.spike_partial_tolerance,
    )
    report = SpikeReport(
        model_version=frame.attrs.get("model_version"),
        period=period,
        as_of=stop,
        partial=series.last_partial,
        coverage=series.coverage,
        scored=True,
        method=spike_config.method,
        themes_scored=len(series.themes),
        total={},
    )
    if series.last_partial:
        if settings.spike_partial == "skip":
            report.scored = False
            report.note = f"{period.name} is partial ({series.coverage:.0%}): not scored"
            return report
        window = stop - period.start
        series = build_series(frame, kind, tz, through=period, as_of=stop, window=window)
        report.note = (
            f"{period.name} is partial ({series.coverage:.0%}); every period is compared over "
            f"its first {window}"
        )
    scored = SpikeScorer(spike_config).fit(series).score(period.name)
    t = len(series.names) - 1
    rows = frame.assign(period=period_names(frame["created_at"], kind, tz).to_numpy())
    if series.window is not None:
        starts = {p.name: pd.Timestamp(p.start) for p in series.periods}
        elapsed = rows["created_at"] - rows["period"].map(starts)
        rows = rows.loc[(elapsed < pd.Timedelta(series.window)).to_numpy()]
    attributes = [*BASE_ATTRIBUTES, *dimension_columns(rows)]
    baseline_names = _quiet_baseline(series, spike_config)
    report.total = _total(series, t, spike_config, rows, attributes, settings)
    keep = SEVERITIES[SEVERITIES.index(min_severity) :]
    alerts = scored.loc[scored["alert"] & scored["severity"].isin(keep)]
    describing = (
        describing_dimensions(rows, attributes) if (alerts["kind"] == "new_theme").any() else []
    )
    rc_config = RootCauseConfig.from_settings(settings)
    for spike in alerts.to_dict(orient="records"):
        cause = _explain_theme(
            rows, spike, period.name, baseline_names, attributes, describing, rc_config
        )
        spike["label"] = (labels or {}).get(spike["theme_id"])
        spike["root_cause"] = cause
        report.spikes.append({k: spike.get(k) for k in (*SPIKE_FIELDS, "label", "root_cause")})
    return report


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
) -> dict[str, Any]:
    """The all-contacts surge check; when it fires, which themes and values drove it."""
    weekday = None
    if series.kind == "day":
        weekday = np.array([p.start.weekday() for p in series.periods])
    total = score_total(series.total.to_numpy(dtype=float), t, config, weekday)
    total["root_cause"] = None
    if total.get("alert"):
        frame = rows.assign(theme_id=rows["theme_id"].fillna("unassigned"))
        now = frame["period"] == series.names[t]
        result = explain(
            frame.loc[now],
            [THEME_ATTRIBUTE, *attributes],
            # compared with the period before: what changed, not how the mix drifted since
            baseline=frame.loc[frame["period"] == series.names[t - 1]],
            expected_total=total["expected"],
            config=RootCauseConfig.from_settings(settings),
            subject="all contacts",
        )
        total["root_cause"] = result.as_dict()
    return total
