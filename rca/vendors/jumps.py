"""Daily (or weekly) tracking of handlers: contacts, handle time and repeat rate per period,
and which handler-periods are alerts.

A partner-operations manager tracks vendor contacts daily: a site whose volume, handle time or
repeat rate jumps on a day or a week must surface the day it happens, not at the next
quarterly review. Each metric is scored against the handler's *own* history, with the spike
scoring the product uses for themes where the metric is a count:

* **contacts**: `rca.trends.spikes.SpikeScorer` exactly as for themes (quasi-Poisson GLM with
  the *other* handlers' contacts as the offset, EWMA build-up, weekday terms for days), so a
  site whose share of the work jumps is an alert and a volume-wide surge is not. The work is
  the contacts *handled at this level*: contacts no handler took (a social channel, a bot, the
  newest threads of an export still open) move on their own, and counting them in the offset
  made every vendor an alert at once when they fell (the demo's last week: social contacts 240
  -> 70 a week, and all three vendors "jumped" x1.2; experiments/results/vendor_demo.md).
* **repeat rate**: the same scorer on the returns of the handler's resolutions, with the
  number of those resolutions as the exposure (a rate is a count over its exposure; the GLM's
  offset is made for it). Only resolutions whose repeat window has closed are counted: in the
  newest periods the ones the customer came back after are known at once and the others are
  not, and counting the known ones alone would make every recent period look like a jump.
  A period's repeat rate is therefore scored once its windows have closed (a week later).
* **handle time**: not a count, so not the GLM. Handle times are right-skewed (a few
  two-hour calls among five-minute ones) and a process change scales them (x1.8 is x1.8 for
  short and long contacts alike), so each period is summarised by the mean of log handle time
  and compared with the handler's earlier periods on that scale: the centre is their median
  and the spread their MAD, so an earlier bad week does not raise its own baseline (the role
  the GLM's outlier down-weighting plays for counts). The spread of the period means is split
  into between-period variance (MAD² less the sampling part) plus this period's own sampling
  variance (pooled within-period variance / contacts) plus the median's own error, and the
  z referred to Student's t with (baseline periods - 1) df: a robust one-sample t. A ratio of
  geometric means is reported (exp of the log difference).

Every metric's p-values are corrected for the number of handlers scored as themes are
(`capped_bonferroni`: `alpha` per handler-period, at most `max_false_alarms` expected per
period and metric), and only rises alert. Pure: the repeat-marked analysis frame in, frames out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy import stats

from rca.periods import Period, period_of, periods_between
from rca.trends.series import period_names
from rca.trends.spikes import SpikeConfig, SpikeScorer, capped_bonferroni
from rca.vendors.scorecard import BROUGHT_BACK, resolution_attempts

METRICS = ("contacts", "repeat_rate", "aht")
#: A period with fewer timed contacts than this says nothing about the handler's usual AHT.
MIN_TIMED_BASELINE = 5
#: MAD → standard deviation for a normal distribution.
MAD_SCALE = 1.4826
#: Floor on the variance of a period's mean log AHT (identical handle times everywhere).
MIN_LOG_VARIANCE = 1e-6
#: Exposure of a period with no closed resolution: the GLM needs a positive one; with no
#: returns either, such a period adds nothing to the fit.
EMPTY_EXPOSURE = 1e-3
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class HandlerSeries:
    """Dense handler x period matrices (rows: handlers, columns: period names, oldest first)."""

    level: str
    kind: str
    periods: tuple[Period, ...]
    contacts: pd.DataFrame
    total: pd.Series  # contacts handled at this level per period: the contacts' exposure
    resolved: pd.DataFrame  # resolutions whose repeat window has closed
    returned: pd.DataFrame  # of those, the ones the customer came back after
    timed: pd.DataFrame  # contacts with a handle time
    aht_s: pd.DataFrame  # mean handle time (what a manager reads), NaN where none
    log_aht: pd.DataFrame  # mean of log handle time (what is tested)
    log_aht_var: pd.DataFrame  # within-period variance of log handle time

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.periods]

    @property
    def handlers(self) -> list[str]:
        return list(self.contacts.index)

    def long(self, handler: str | None = None) -> pd.DataFrame:
        """One row per handler and period: contacts, aht_s, resolved, returned, repeat_rate."""
        rows = [handler] if handler is not None else self.handlers
        idx = pd.MultiIndex.from_product([rows, self.names], names=[self.level, "period"])
        out = pd.DataFrame(index=idx).reset_index()
        for name in ("contacts", "aht_s", "resolved", "returned"):
            out[name] = getattr(self, name).loc[rows].to_numpy().reshape(-1)
        out["repeat_rate"] = out["returned"] / out["resolved"].where(out["resolved"] > 0)
        return out


def handler_series(
    marked: pd.DataFrame, level: str, kind: str, tz: ZoneInfo, *, through: Period | None = None
) -> HandlerSeries | None:
    """The handlers' series from the first contact to `through` (default: the newest); None
    when no contact has a handler at `level`."""
    if level not in marked or marked[level].notna().sum() == 0:
        return None
    reads = ["contact_id", "created_at", level, "handle_time_s", "repeat_status", "repeat_of",
             "window_closed"]  # fmt: skip
    marked = marked[[c for c in reads if c in marked]]  # row selections copy these only
    created = marked["created_at"]
    frame = marked if through is None else marked.loc[created < through.end]
    if frame.empty:
        return None
    last = through or period_of(frame["created_at"].max().to_pydatetime(warn=False), kind, tz)
    periods = tuple(
        periods_between(frame["created_at"].min().to_pydatetime(warn=False), last.start, kind, tz)
    )
    names = [p.name for p in periods]
    frame = frame.assign(period=period_names(frame["created_at"], kind, tz).to_numpy())
    frame = frame.assign(**{level: frame[level].astype(str).where(frame[level].notna())})
    frame = frame.assign(**{level: frame[level].astype("category")})  # group by codes
    handled = frame.loc[frame[level].notna()]
    total = handled.groupby("period").size().reindex(names, fill_value=0).astype(float)
    handlers = sorted(str(h) for h in handled[level].unique())
    keys = [handled[level], handled["period"]]

    def wide(values: pd.Series, fill: float | None = 0.0) -> pd.DataFrame:
        out = values.unstack("period").reindex(index=handlers, columns=names)
        return out.astype(float) if fill is None else out.fillna(fill).astype(float)

    seconds = pd.to_numeric(handled["handle_time_s"], errors="coerce")
    log_time = np.log(seconds.where(seconds > 0))
    attempts = resolution_attempts(frame)
    closed = attempts.loc[attempts[level].notna() & attempts["window_closed"].astype(bool)]
    closed_keys = [closed[level], closed["period"]]
    return HandlerSeries(
        level=level,
        kind=kind,
        periods=periods,
        contacts=wide(handled.groupby(keys).size()),
        total=total,
        resolved=wide(closed.groupby(closed_keys).size()),
        returned=wide(closed[BROUGHT_BACK].groupby(closed_keys).sum()),
        timed=wide(log_time.groupby(keys).count()),
        aht_s=wide(seconds.where(seconds > 0).groupby(keys).mean(), fill=None),
        log_aht=wide(log_time.groupby(keys).mean(), fill=None),
        log_aht_var=wide(log_time.groupby(keys).var(ddof=1), fill=None),
    )


def score_handlers(series: HandlerSeries, period: str, config: SpikeConfig) -> pd.DataFrame:
    """One row per handler and metric for `period`: observed, expected, ratio, p, q, alert.

    Columns: <level>, metric, period, observed, expected, ratio, p_value, q_value, alert,
    severity, method, baseline_periods. For contacts, observed/expected are counts; for the
    repeat rate, rates (returns over closed resolutions); for handle time, mean seconds of the
    period and the median of the baseline periods' means (the ratio is of geometric means).
    """
    if period not in series.names or not series.handlers:
        return pd.DataFrame(columns=[series.level, "metric", "period", "alert"])
    t = series.names.index(period)
    weekday = None
    if series.kind == "day":
        weekday = np.array([p.start.weekday() for p in series.periods])
    frames = [
        _count_scores(series, t, config, weekday),
        _repeat_scores(series, t, config, weekday),
        _aht_scores(series, t, config),
    ]
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "period", period)
    return out.sort_values(["alert", "q_value"], ascending=[False, True], kind="stable")


def _count_scores(
    series: HandlerSeries, t: int, config: SpikeConfig, weekday: np.ndarray | None
) -> pd.DataFrame:
    scorer = SpikeScorer(config).fit_arrays(
        series.contacts.to_numpy(), series.total.to_numpy(), themes=series.handlers,
        names=series.names, weekday=weekday,
    )  # fmt: skip
    return _from_spikes(scorer.score(t), series.level, "contacts")


def _repeat_scores(
    series: HandlerSeries, t: int, config: SpikeConfig, weekday: np.ndarray | None
) -> pd.DataFrame:
    returned = series.returned.to_numpy()
    resolved = series.resolved.to_numpy()
    scorer = SpikeScorer(config).fit_arrays(
        returned, np.zeros(returned.shape[1]), themes=series.handlers, names=series.names,
        weekday=weekday,
    )  # fmt: skip
    scorer.exposure_ = np.maximum(resolved, EMPTY_EXPOSURE)  # a rate: returns per resolution
    scored = _from_spikes(scorer.score(t), series.level, "repeat_rate")
    per = pd.Series(resolved[:, t], index=series.handlers)
    exposure = scored[series.level].map(per).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scored["observed"] = np.where(exposure > 0, scored["observed"] / exposure, np.nan)
        scored["expected"] = np.where(exposure > 0, scored["expected"] / exposure, np.nan)
    scored["basis"] = exposure
    return scored


def _from_spikes(scored: pd.DataFrame, level: str, metric: str) -> pd.DataFrame:
    out = scored.rename(columns={"theme_id": level, "growth": "ratio"})
    out = out.assign(metric=metric, observed=out["observed"].astype(float))
    return out[[level, "metric", "observed", "expected", "ratio", "p_value", "q_value", "alert",
                "severity", "method", "baseline_periods"]]  # fmt: skip


def _aht_scores(series: HandlerSeries, t: int, config: SpikeConfig) -> pd.DataFrame:
    """The robust one-sample t on mean log handle time (see the module's docstring)."""
    start = max(0, t - config.baseline_periods)
    timed = series.timed.to_numpy()
    base_n = timed[:, start:t]
    usable = base_n >= MIN_TIMED_BASELINE
    base_m = np.where(usable, series.log_aht.to_numpy()[:, start:t], np.nan)
    base_v = np.where(usable, series.log_aht_var.to_numpy()[:, start:t], np.nan)
    n_base = usable.sum(axis=1)
    n_now = timed[:, t]
    m_now = series.log_aht.to_numpy()[:, t]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a handler with no usable baseline
        centre = np.nanmedian(base_m, axis=1)
        mad = MAD_SCALE * np.nanmedian(np.abs(base_m - centre[:, None]), axis=1)
        within = np.nansum((base_n - 1) * np.where(usable, base_v, 0), axis=1) / np.maximum(
            np.where(usable, base_n - 1, 0).sum(axis=1), 1
        )
        sampling = np.nanmean(np.where(usable, within[:, None] / base_n, np.nan), axis=1)
        between = np.maximum(mad**2 - sampling, 0.0)
        centre_error = (np.pi / 2) * np.maximum(mad**2, sampling) / np.maximum(n_base, 1)
        variance = between + within / np.maximum(n_now, 1) + centre_error
        sd = np.sqrt(np.maximum(variance, MIN_LOG_VARIANCE))
        z = (m_now - centre) / sd
    df = np.maximum(n_base - 1, 1)
    testable = (n_base >= config.min_history) & np.isfinite(z)
    p = np.where(testable, stats.t.sf(np.where(testable, z, 0.0), df), 1.0)
    eligible = testable & (n_now >= config.min_volume)
    q = np.ones_like(p)
    q[eligible] = capped_bonferroni(p[eligible], config.alpha, config.max_false_alarms)
    ratio = np.exp(m_now - centre)
    aht_now = series.aht_s.to_numpy()[:, t]
    aht_base = series.aht_s.to_numpy()[:, start:t]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(np.where(usable, aht_base, np.nan), axis=1)
        quantile = stats.t.isf(config.high_q, df)
        lower = np.exp(m_now - centre - quantile * sd)
    severity = np.where(
        lower >= config.high_growth,
        "high",
        np.where(lower >= config.medium_growth, "medium", "low"),
    )
    return pd.DataFrame(
        {
            series.level: series.handlers,
            "metric": "aht",
            "observed": aht_now,
            "expected": expected,
            "ratio": ratio,
            "p_value": p,
            "q_value": q,
            "alert": eligible & (q <= config.alpha) & (z > 0),
            "severity": severity,
            "method": np.where(testable, "robust-t", "none"),
            "baseline_periods": n_base,
        }
    )


def track(
    marked: pd.DataFrame, level: str, period: Period, tz: ZoneInfo, config: SpikeConfig
) -> tuple[HandlerSeries | None, pd.DataFrame]:
    """The handlers' series through `period` (of its kind, day or week) and its scores."""
    series = handler_series(marked, level, period.kind, tz, through=period)
    if series is None:
        return None, pd.DataFrame(columns=[level, "metric", "period", "alert"])
    return series, score_handlers(series, period.name, config)
