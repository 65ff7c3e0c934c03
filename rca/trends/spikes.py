"""Spike scoring: which themes rose abnormally in a period, given their own history.

Method (``auto``), chosen by ``experiments/spike_backtest.py``:

* **Burst test** - an improved-Farrington-style quasi-Poisson GLM per theme over the baseline
  window, with log(contacts of every *other* theme) as the offset, so a theme that grows only
  because all contacts grew is not a spike; day-of-week terms for daily periods; baseline
  periods with large Anscombe residuals down-weighted so an old spike does not hide a new one;
  the per-theme overdispersion shrunk toward the pooled one (short baselines make the
  per-theme estimate too noisy to trust on its own); a negative-binomial mid-p tail that adds
  the uncertainty of the fitted mean, re-referred to Student's t with the dispersion's degrees
  of freedom (the theme's residual df plus the pool's weight), because that dispersion is
  estimated, not known.
* **Build-up test** - EWMA of quantile residuals over the last `monitor_periods`, against a
  baseline that ends before them, so a slow ramp does not raise its own baseline.
* The two p-values combined by a weighted Bonferroni union (`burst_share` = 90 % of the
  level to the burst test, the rest to EWMA), made exact for the two tests' correlation
  (bivariate normal). An even split halved the level of the burst test, which carries
  one-period bursts; EWMA needs only a small share to find four-period ramps.
* Each eligible theme (>= `min_volume` contacts) is tested at `alpha` (0.008): the expected
  false alarms per theme-period, the measure the issue sets a budget for (1 per 100). The
  correction for the number of themes scored is Bonferroni's bound on the expected false
  alarms per period: once alpha x themes would exceed `max_false_alarms` (2), the level falls
  to max_false_alarms / themes. Benjamini-Hochberg (the earlier choice) tests every theme at
  about fdr / themes when nothing is spiking, so a theme's power fell as themes were added
  (30 themes: ~0.0017 per test, 0.6 false alarms per 100 theme-periods, unused budget).
* Themes with fewer than `min_history` baseline periods use an EARS C1-style test (mean and
  spread of the few periods there are, scaled to exposure).

Calibration of the burst test (400 null streams of the backtest generator, 96,000
theme-periods): with a normal reference, nominal 0.005 / 0.01 gave real 0.008 / 0.014 false
alarms per theme-period, so alpha had to sit at half the budget. Two causes: the pool was the
median of Pearson dispersions, and the median of chi-square / df lies below 1 (~6 % low at
11 df), now corrected; and the dispersion is estimated from ~12 periods, now a t reference.
After both (pool weight 30 df): real 0.0053 / 0.0102 at nominal 0.005 / 0.01, so alpha is set
near the budget, 0.008 (auto, with EWMA: 0.84 false alarms per 100 theme-periods).
At an equal real false-alarm rate the t reference changes little (it is nearly monotone in
the old p-value); the gain in power is from the stronger pooling (30 df instead of 10), which
the calibrated reference now allows without anticonservative p-values.

Why (experiments/results/spike_backtest.md, 40 reps): auto has 0.84 false alarms per 100
theme-periods (0.72 in volume-wide surges; z-score 2.5 and 6.4; before the calibration 0.93
and 0.89), recall 0.86 for +100 % one-period bursts at >= 20 contacts/period (0.72 at 20, 1.00
at 100; unchanged) and 0.97 for four-period +100 % ramps at 20 (Farrington alone: 0.93). On
200 paired streams per condition, +100 % bursts at 20/period went from 0.835 to 0.840 recall
with false alarms 0.93 -> 0.84 per 100 theme-periods (0.98 -> 0.89 in surges). Recall near
0.84 at 20/period is close to the limit of what 1 % false alarms allows: 20 -> 40 overdispersed
counts against a mean fitted from 12 periods; the 40-rep table's figure for that cell moves by
+-0.07 with the draw.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special, stats

from rca.trends.glm import MIN_RATE_PSEUDO_COUNT, fit_quasi_poisson, upper_mid_p

if TYPE_CHECKING:
    from rca.settings import Settings
    from rca.trends.series import ThemeSeries

METHODS = ("auto", "farrington", "ewma", "ears", "zscore")
KINDS = ("burst", "sustained_rise", "new_theme")
SEVERITIES = ("low", "medium", "high")
#: The naive baseline's rule: three standard deviations above the mean of raw counts.
ZSCORE_THRESHOLD = 3.0
#: EARS C1 uses the seven periods before the current one.
EARS_BASELINE = 7
#: Above this smaller p-value, the two tests are combined by plain Bonferroni (cheap, and
#: nothing there is near an alert).
EXACT_COMBINE_BELOW = 0.1
#: Mean residual of the monitor window's earlier half that makes a rise "sustained".
SUSTAINED_EARLY_Z = 1.0
#: Themes averaging fewer contacts than this per period do not set the pooled dispersion.
MIN_POOL_MEAN = 3.0
#: A dispersion trend in volume needs this many informative themes over this ratio of volumes.
MIN_TREND_THEMES = 8
TREND_MIN_VOLUME_RANGE = 4.0
DAYS_PER_WEEK = 7
#: Bisection steps of `growth_lower_bound` (log-ratio interval shrinks 2^-40: far below print).
GRADE_BISECTIONS = 40
#: Level of the volume-wide surge test: one series, one test per period, no multiplicity.
TOTAL_ALPHA = 0.05


@dataclass(frozen=True)
class SpikeConfig:
    """Thresholds of spike scoring; `from_settings` is the single source of the defaults."""

    method: str = "auto"
    baseline_periods: int = 12
    min_history: int = 6
    monitor_periods: int = 4
    ewma_lambda: float = 0.4
    min_volume: int = 10
    alpha: float = 0.008
    max_false_alarms: float = 2.0
    burst_share: float = 0.9
    dispersion_prior_df: float = 30.0
    outlier_residual: float = 2.58
    new_theme_max_ratio: float = 0.1
    t_reference: bool = True
    high_q: float = 0.05
    high_growth: float = 2.0
    medium_q: float = 0.05
    medium_growth: float = 1.5

    @classmethod
    def from_settings(cls, settings: Settings | None = None, kind: str = "week") -> SpikeConfig:
        """The `RCA_SPIKE_*` settings (their declared defaults when `settings` is None)."""
        from rca.settings import Settings

        def value(name: str) -> object:
            return getattr(settings, name) if settings else Settings.model_fields[name].default

        baseline = value("spike_baseline_days" if kind == "day" else "spike_baseline_weeks")
        names = {f.name for f in fields(cls)} - {"baseline_periods"}
        return cls(baseline_periods=int(baseline), **{n: value(f"spike_{n}") for n in names})

    def with_method(self, method: str) -> SpikeConfig:
        if method not in METHODS:
            raise ValueError(f"unknown spike method {method!r}; use one of {METHODS}")
        return replace(self, method=method)


@dataclass(frozen=True)
class _Scores:
    """Per-theme raw results of one test before the multiple-testing correction."""

    expected: np.ndarray
    variance: np.ndarray
    p_value: np.ndarray


class SpikeScorer:
    """Estimator-shaped: ``SpikeScorer(config).fit(series).score("2026-W47")``."""

    def __init__(self, config: SpikeConfig | None = None, *, method: str | None = None) -> None:
        config = config or SpikeConfig.from_settings()
        self.config = config.with_method(method) if method else config.with_method(config.method)

    def fit(self, series: ThemeSeries) -> SpikeScorer:
        weekday = None
        if series.kind == "day":
            weekday = np.array([p.start.weekday() for p in series.periods])
        return self.fit_arrays(
            series.contacts.to_numpy(dtype=float),
            series.total.to_numpy(dtype=float),
            themes=series.themes,
            names=series.names,
            weekday=weekday,
            first_at=series.first_at,
        )

    def fit_arrays(
        self,
        counts: np.ndarray,
        total: np.ndarray,
        *,
        themes: list[str] | None = None,
        names: list[str] | None = None,
        weekday: np.ndarray | None = None,
        first_at: pd.DataFrame | None = None,
    ) -> SpikeScorer:
        """Counts (themes x periods) and all contacts per period (the exposure)."""
        self.counts_ = np.asarray(counts, dtype=float)
        self.total_ = np.asarray(total, dtype=float)
        m, n = self.counts_.shape
        self.themes_ = themes or [str(i) for i in range(m)]
        self.names_ = names or [str(i) for i in range(n)]
        self.weekday_ = weekday
        self.first_at_ = first_at
        # every other theme's contacts: a theme's own spike must not raise its own exposure
        self.exposure_ = np.maximum(self.total_[None, :] - self.counts_, 1.0)
        return self

    # --- scoring ------------------------------------------------------------------------------

    def score(self, period: str | int) -> pd.DataFrame:
        """One row per theme: observed, expected, p/q-values, growth, kind, severity, alert."""
        t = self.names_.index(period) if isinstance(period, str) else int(period)
        cfg = self.config
        y = self.counts_[:, t]
        n_hist = min(t, cfg.baseline_periods)
        method = cfg.method
        if method == "auto" and n_hist < cfg.min_history:
            method = "ears"
        p_ewma = np.ones_like(y)
        z_window = np.zeros((len(y), 0))
        if n_hist == 0 or not len(y):  # no history, or no themes at all: nothing to fit
            expected, variance = np.zeros_like(y), np.zeros_like(y)
            p_value, used = np.ones_like(y), "none"
        elif method == "zscore":
            scores = self._zscore(t)
            expected, variance, p_value, used = (*_unpack(scores), "zscore")
        elif method == "ears":
            expected, variance, p_value, used = (*_unpack(self._ears(t)), "ears")
        else:
            burst = self._farrington(t, n_hist)
            expected, variance, p_value, used = (*_unpack(burst), "farrington")
            if method in {"auto", "ewma"}:
                p_ewma, z_window = self._ewma(t)
                if method == "ewma":
                    p_value, used = p_ewma, "ewma"
                elif z_window.shape[1]:
                    p_value = min_p_of_two(p_value, p_ewma, self._ewma_rho, cfg.burst_share)
                    used = "farrington+ewma"
        new, first_idx, old_rate = self._new_themes(t)
        reference = (expected, variance)  # what the severity is graded against
        if new.any() and method != "zscore":
            # a new theme is judged against the quiet time before it first appeared
            quiet = np.maximum(old_rate[new] * self.exposure_[new, t], MIN_RATE_PSEUDO_COUNT)
            p_value = p_value.copy()
            p_value[new] = np.minimum(p_value[new], upper_mid_p(y[new], quiet, quiet))
            reference = (expected.copy(), variance.copy())
            reference[0][new], reference[1][new] = quiet, quiet
        return self._frame(
            t, y, expected, variance, p_value, z_window, new, first_idx, used, reference
        )

    def _frame(
        self,
        t: int,
        y: np.ndarray,
        expected: np.ndarray,
        variance: np.ndarray,
        p_value: np.ndarray,
        z_window: np.ndarray,
        new: np.ndarray,
        first_idx: np.ndarray,
        used: str,
        reference: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        cfg = self.config
        eligible = y >= cfg.min_volume
        q_value = np.ones_like(p_value)
        q_value[eligible] = capped_bonferroni(p_value[eligible], cfg.alpha, cfg.max_false_alarms)
        safe_expected = np.maximum(expected, MIN_RATE_PSEUDO_COUNT)
        growth = y / safe_expected
        z = (y - expected) / np.sqrt(np.maximum(variance, MIN_RATE_PSEUDO_COUNT))
        if cfg.method == "zscore":
            alert = eligible & (z >= ZSCORE_THRESHOLD)
            q_value = p_value.copy()
        else:
            alert = eligible & (q_value <= cfg.alpha) & (y > expected)
        # a rise is sustained when the earlier half of the monitor window was already high;
        # a jump from a normal recent past is a burst, however long it then lasts
        early = z_window[:, : z_window.shape[1] // 2]
        sustained = early.mean(axis=1) >= SUSTAINED_EARLY_Z if early.size else np.zeros_like(new)
        kind = np.where(new, "new_theme", np.where(sustained, "sustained_rise", "burst"))
        severity = grade(y, *(reference or (expected, variance)), cfg)
        frame = pd.DataFrame(
            {
                "theme_id": self.themes_,
                "period": self.names_[t],
                "observed": y.astype(np.int64),
                "expected": expected,
                "excess": y - expected,
                "growth": growth,
                "score": z,
                "p_value": p_value,
                "q_value": q_value,
                "kind": kind,
                "severity": severity,
                "alert": alert,
                "first_seen": self._first_seen(first_idx),
                "method": used,
                "baseline_periods": min(t, cfg.baseline_periods),
            }
        )
        return frame.sort_values(["alert", "q_value", "score"], ascending=[False, True, False])

    def _first_seen(self, first_idx: np.ndarray) -> list[object]:
        """For a new theme, its earliest contact in the whole series: when a reader is told
        "first seen", a theme with members months before its rise was not new that week."""
        if self.first_at_ is None:
            return [None] * len(first_idx)
        earliest = self.first_at_.min(axis=1).to_numpy()
        return [earliest[i] if j >= 0 else None for i, j in enumerate(first_idx)]

    # --- the tests ----------------------------------------------------------------------------

    def _design(self, idx: np.ndarray) -> np.ndarray:
        """Intercept, plus weekday dummies (Monday the reference) for daily periods."""
        ones = np.ones((len(idx), 1))
        if self.weekday_ is None:
            return ones
        dummies = np.eye(DAYS_PER_WEEK)[self.weekday_[idx]][:, 1:]
        return np.hstack([ones, dummies])

    def _glm(
        self, baseline: np.ndarray, targets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit on `baseline`, predict `targets`: mean and variance (m, T), and the covariance
        of the fitted means' errors between targets (m, T, T), which EWMA must not ignore."""
        cfg = self.config
        y = self.counts_[:, baseline]
        log_exp = np.log(self.exposure_[:, baseline])
        fit = fit_quasi_poisson(
            y, self._design(baseline), log_exp, outlier_residual=cfg.outlier_residual
        )
        dispersion = moderated_dispersion(
            fit.dispersion, fit.df, y.mean(axis=1), cfg.dispersion_prior_df
        )
        self._dispersion_df = dispersion_df(fit.df, y.mean(axis=1), cfg.dispersion_prior_df)
        design = self._design(targets)
        means, variances = [], []
        floor_rate = MIN_RATE_PSEUDO_COUNT / self.exposure_[:, baseline].sum(axis=1)
        for j, target in enumerate(targets):
            mu, var = fit.predict(design[j], np.log(self.exposure_[:, target]), dispersion)
            mu = np.maximum(mu, floor_rate * self.exposure_[:, target])
            means.append(mu)
            variances.append(np.maximum(var, mu))
        mean = np.stack(means, axis=1)
        shared = np.einsum("ik,mkl,jl->mij", design, fit.cov_unscaled, design)
        shared *= dispersion[:, None, None] * mean[:, :, None] * mean[:, None, :]
        return mean, np.stack(variances, axis=1), shared

    def _farrington(self, t: int, n_hist: int) -> _Scores:
        baseline = np.arange(t - n_hist, t)
        mu, var, _ = self._glm(baseline, np.array([t]))
        y = self.counts_[:, t]
        p = upper_mid_p(y, mu[:, 0], var[:, 0])
        if self.config.t_reference:
            p = t_reference(p, self._dispersion_df)
        return _Scores(mu[:, 0], var[:, 0], p)

    def _ewma(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """EWMA p-value and the monitor window's quantile residuals (empty: too little history)."""
        cfg = self.config
        start = t - cfg.monitor_periods + 1
        n_base = min(start, cfg.baseline_periods)
        m = self.counts_.shape[0]
        if start < 0 or n_base < cfg.min_history:
            return np.ones(m), np.zeros((m, 0))
        window = np.arange(start, t + 1)
        mu, var, shared = self._glm(np.arange(start - n_base, start), window)
        midp = upper_mid_p(self.counts_[:, window], mu, var)
        residuals = stats.norm.isf(midp)
        lam = cfg.ewma_lambda
        weights = lam * (1 - lam) ** np.arange(len(window))[::-1]
        statistic = residuals @ weights
        # residuals share the error of one fitted baseline: correlated, not independent
        sd = np.sqrt(_residual_covariance(var, shared) @ weights @ weights)
        self._ewma_rho = weights[-1] / sd  # correlation with the current period's residual
        p = stats.norm.sf(statistic / sd)
        if cfg.t_reference:
            p = t_reference(p, self._dispersion_df)
        return p, residuals

    def _ears(self, t: int) -> _Scores:
        """EARS C1 on exposure-scaled counts: mean and spread of up to 7 earlier periods."""
        baseline = np.arange(max(0, t - EARS_BASELINE), t)
        y = self.counts_[:, baseline]
        exposure = self.exposure_[:, baseline]
        rate = np.maximum(y.sum(axis=1), MIN_RATE_PSEUDO_COUNT) / exposure.sum(axis=1)
        expected = rate * self.exposure_[:, t]
        residual = y - rate[:, None] * exposure
        spread = residual.var(axis=1, ddof=1) if len(baseline) > 1 else np.zeros(len(rate))
        scale = self.exposure_[:, t] / exposure.mean(axis=1)
        # plus the error of a mean taken from very few periods (it is most of the error here)
        mean_error = expected * self.exposure_[:, t] / exposure.sum(axis=1)
        variance = np.maximum(spread * scale, expected) + mean_error
        z = (self.counts_[:, t] - expected) / np.sqrt(variance)
        return _Scores(expected, variance, stats.norm.sf(z))

    def _zscore(self, t: int) -> _Scores:
        """The naive baseline: raw counts against the mean and SD of the baseline window."""
        baseline = self.counts_[:, max(0, t - self.config.baseline_periods) : t]
        mean = baseline.mean(axis=1)
        sd = baseline.std(axis=1, ddof=1) if baseline.shape[1] > 1 else np.zeros(len(mean))
        variance = np.maximum(sd**2, 1e-12)
        z = (self.counts_[:, t] - mean) / np.sqrt(variance)
        return _Scores(mean, variance, stats.norm.sf(z))

    def _new_themes(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Themes quiet before the monitor window and active now; index of first activity.

        Quiet must be evidence, not a short history: the CFPB export's first full week called a
        theme "new" because the one day of data before it (6 complaints) held none of its
        contacts, 1.4 expected at its rate, which is none by chance 25 % of the time. A theme is
        new only when so few earlier contacts are unlikely at today's rate (Poisson, ``alpha``)."""
        cfg = self.config
        m = self.counts_.shape[0]
        rate_now = self.counts_[:, t] / self.exposure_[:, t]
        start = max(0, t - cfg.monitor_periods + 1)
        window = np.arange(start, t + 1)
        rates = self.counts_[:, window] / self.exposure_[:, window]
        active = rates > cfg.new_theme_max_ratio * rate_now[:, None]
        active &= self.counts_[:, window] > 0
        first = np.where(active.any(axis=1), window[np.argmax(active, axis=1)], -1)
        new = np.zeros(m, bool)
        old_rate = np.full(m, np.inf)
        for i in np.flatnonzero((first > 0) & (self.counts_[:, t] >= cfg.min_volume)):
            old = np.arange(max(0, first[i] - cfg.baseline_periods), first[i])
            old_rate[i] = self.counts_[i, old].sum() / self.exposure_[i, old].sum()
            # quiet before, and the history long enough that quiet means something: at today's
            # rate the earlier periods would have held this many contacts, and held no more
            # than they did with probability under alpha (Poisson)
            seen_if_old = rate_now[i] * self.exposure_[i, old].sum()
            quiet = stats.poisson.cdf(self.counts_[i, old].sum(), seen_if_old) < cfg.alpha
            new[i] = old_rate[i] <= cfg.new_theme_max_ratio * rate_now[i] and quiet
        return new, np.where(new, first, -1), old_rate


def growth_lower_bound(
    observed: np.ndarray, expected: np.ndarray, variance: np.ndarray, level: float
) -> np.ndarray:
    """The smallest ratio r = true mean / expected that the observed count still allows at
    one-sided `level`: the rise is at least r-fold, with confidence 1 - level.

    Solved by bisection on log r, the mean and variance scaled together (the dispersion
    held), with the same negative-binomial mid-p tail as the tests.
    """
    y = np.asarray(observed, dtype=float)
    mu = np.maximum(np.asarray(expected, dtype=float), MIN_RATE_PSEUDO_COUNT)
    var = np.maximum(np.asarray(variance, dtype=float), mu)
    lo = np.full(len(y), np.log(1e-3))
    hi = np.log(np.maximum(y, 1.0) / mu) + np.log(10.0)
    for _ in range(GRADE_BISECTIONS):
        mid = (lo + hi) / 2
        r = np.exp(mid)
        # the tail grows with r: if y is still surprising at r-fold, the truth is above r
        surprising = upper_mid_p(y, r * mu, r * var) < level
        lo, hi = np.where(surprising, mid, lo), np.where(surprising, hi, mid)
    return np.exp(lo)


def grade(
    observed: np.ndarray, expected: np.ndarray, variance: np.ndarray, config: SpikeConfig
) -> np.ndarray:
    """Severity from how large the rise is *at least*, given its uncertainty.

    high: the volume is at least `high_growth` (2) times expected with confidence 1 - `high_q`
    (95 %); medium: at least `medium_growth` (1.5) times with confidence 1 - `medium_q` (95 %);
    else low. One confidence for both: a 99.99 % bound graded the demo's planted doubling of a
    50-a-week theme (101 against 53) "low"; at 95 % it is medium, and an 8x week high. A lower
    confidence bound grows with the size of the excess and with its significance, so the
    grade is monotone in both: a bigger or surer rise is never graded lower (the earlier
    rule, q below a cut AND growth above one, rated an 8x week below a 14x day).
    """
    high = growth_lower_bound(observed, expected, variance, config.high_q) >= config.high_growth
    medium = (
        growth_lower_bound(observed, expected, variance, config.medium_q) >= config.medium_growth
    )
    return np.where(high, "high", np.where(medium, "medium", "low"))


def min_p_of_two(p1: np.ndarray, p2: np.ndarray, rho: np.ndarray, share: float = 0.5) -> np.ndarray:
    """P-value of the weighted-Bonferroni union of two one-sided tests correlated by `rho`.

    The first test gets `share` of the level and the second the rest: at level a, alert when
    p1 <= share * a or p2 <= (1 - share) * a. The smallest such a is min(p1 / share,
    p2 / (1 - share)); its exact level under a bivariate normal is lower, because the burst
    and EWMA statistics share the current period (`rho` is a lower bound on their
    correlation), so the answer is the exact one, never above the Bonferroni one.
    """
    if share >= 1.0:
        return np.asarray(p1, dtype=float)
    bound = np.minimum(np.asarray(p1) / share, np.asarray(p2) / (1 - share))
    out = np.minimum(1.0, bound)
    for i in np.flatnonzero(bound < EXACT_COMBINE_BELOW):
        z1 = stats.norm.isf(share * bound[i])
        z2 = stats.norm.isf((1 - share) * bound[i])
        r = float(np.clip(rho[i], 0.0, 0.999))
        both_below = stats.multivariate_normal.cdf([z1, z2], cov=[[1, r], [r, 1]])
        floor = max(share, 1 - share) * bound[i]  # the level of the test that fired, alone
        out[i] = float(np.clip(1.0 - both_below, floor, bound[i]))
    return out


def capped_bonferroni(p_values: np.ndarray, alpha: float, max_false_alarms: float) -> np.ndarray:
    """P-values adjusted for the number of themes scored, to be compared with `alpha`.

    Each theme-period is tested at `alpha`, so a report of m themes expects alpha * m false
    alarms. That is the issue's own measure (false alarms per theme-period) and it does not
    shrink a theme's power as more themes are scored, as an FDR or family-wise correction
    would (with nothing spiking, Benjamini-Hochberg tests every theme at about q / m).
    Once alpha * m would exceed `max_false_alarms` per period, the level falls to
    max_false_alarms / m: Bonferroni's bound on the expected number of false alarms.
    """
    p = np.asarray(p_values, dtype=float)
    factor = max(1.0, alpha * len(p) / max_false_alarms)
    return np.minimum(p * factor, 1.0)


def _residual_covariance(variance: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Correlation of standardised residuals whose expected values come from one fit."""
    scale = np.sqrt(variance)
    corr = shared / (scale[:, :, None] * scale[:, None, :])
    idx = np.arange(variance.shape[1])
    corr[:, idx, idx] = 1.0
    return corr


def _unpack(scores: _Scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return scores.expected, scores.variance, scores.p_value


def moderated_dispersion(
    dispersion: np.ndarray, df: np.ndarray, mean_count: np.ndarray, prior_df: float
) -> np.ndarray:
    """Per-theme overdispersion shrunk toward the pooled one, never below Poisson (1).

    The pool is taken over themes with enough volume for the estimate to mean something. When
    there are enough of them over a wide range of volumes, the pool is a *trend* in volume
    (log dispersion linear in log mean, as edgeR's trended dispersion): on five years of real
    CFPB series the dispersion rose from ~1.2 at 10-19 contacts a period to ~3 at 200-499 and
    ~17 above 500, and one pooled value (set by the many small themes) made large themes
    alarm four to sixteen times too often. Otherwise the pool is one value, the median.
    """
    informative = mean_count >= MIN_POOL_MEAN
    pool: float | np.ndarray = 1.0
    if informative.any():
        typical_df = float(np.median(df[informative]))
        log_mean = np.log(np.maximum(mean_count, MIN_RATE_PSEUDO_COUNT))
        if informative.sum() >= MIN_TREND_THEMES and np.ptp(log_mean[informative]) >= np.log(
            TREND_MIN_VOLUME_RANGE
        ):
            x, y = log_mean[informative], np.log(np.maximum(dispersion[informative], 1e-3))
            slope, intercept = np.polyfit(x, y, 1)
            slope = float(np.clip(slope, 0.0, 1.0))
            intercept = float(np.mean(y) - slope * np.mean(x))
            # E[log(chi2_df / df)] < 0: the line of log estimates sits low; it is moved back
            bias = float(special.digamma(typical_df / 2) + np.log(2 / typical_df))
            pool = np.exp(intercept + slope * log_mean - bias)
        else:
            # the median of chi-square / df lies below its mean (1): unbiased, it is scaled back
            pool = float(np.median(dispersion[informative])) * typical_df
            pool /= float(stats.chi2.median(typical_df))
    pooled = np.maximum(pool, 1.0)
    return np.maximum((df * dispersion + prior_df * pooled) / (df + prior_df), 1.0)


def dispersion_df(df: np.ndarray, mean_count: np.ndarray, prior_df: float) -> np.ndarray:
    """Degrees of freedom of `moderated_dispersion`: the theme's own plus the prior's, which
    counts only when the pool holds other themes (a lone series is its own pool)."""
    pooled = int((mean_count >= MIN_POOL_MEAN).sum()) >= 2
    return np.asarray(df, dtype=float) + (prior_df if pooled else 0.0)


def t_reference(p_values: np.ndarray, df: np.ndarray) -> np.ndarray:
    """One-sided p-values re-referred from the normal to Student's t with `df`.

    The burst and EWMA tests standardise by an overdispersion estimated from a dozen periods;
    treating it as known (a normal reference) made nominal 0.005 a real ~0.008.
    """
    z = stats.norm.isf(np.clip(p_values, 1e-300, 1.0))
    return np.clip(stats.t.sf(z, np.broadcast_to(df, z.shape)), 1e-300, 1.0)


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (q-values), in the input order."""
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def score_total(
    total: np.ndarray, t: int, config: SpikeConfig, weekday: np.ndarray | None = None
) -> dict[str, float | bool | str]:
    """Is all contact volume itself surging? The same GLM without an exposure offset."""
    scorer = SpikeScorer(config, method="farrington")
    counts = np.asarray(total, dtype=float)[None, :]
    scorer.fit_arrays(counts, np.zeros_like(counts[0]), weekday=weekday)
    scorer.exposure_ = np.ones_like(counts)  # no offset: the total is its own exposure
    n_hist = min(t, config.baseline_periods)
    if n_hist < 2:
        keys = ("expected", "excess", "growth", "score", "p_value", "severity")
        return {"observed": int(counts[0, t]), **dict.fromkeys(keys), "alert": False}
    scores = scorer._farrington(t, n_hist)
    expected, variance, p = (float(v[0]) for v in _unpack(scores))
    growth = counts[0, t] / max(expected, MIN_RATE_PSEUDO_COUNT)
    severity = str(grade(counts[:, t], np.array([expected]), np.array([variance]), config)[0])
    return {
        "observed": int(counts[0, t]),
        "expected": expected,
        "excess": counts[0, t] - expected,
        "growth": growth,
        "score": (counts[0, t] - expected) / np.sqrt(variance),
        "p_value": p,
        "alert": bool(p <= TOTAL_ALPHA and counts[0, t] > expected),
        "severity": severity,
    }
