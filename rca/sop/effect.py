"""The effect of an SOP change on a theme's rate: difference-in-differences over periods.

Why this design. A theme's repeat rate moves for many reasons besides its procedure: the
season, a volume surge, a product change that hits every theme. Comparing the theme's rate
after the change with before would credit (or blame) the SOP for all of it. The other themes,
whose procedures did not change, carry the shared movements; the theme's *gap* to them,
period by period, does not. The effect is the mean gap after minus the mean gap before, in
rate points ("repeat rate down 14 points against the other themes").

Why per-period gaps with a Welch interval and not one pooled 2 × 2 table: rates wander from
period to period far more than binomial noise (overdispersion, weekly mix), and a pooled
table's interval ignores that, so null changes look significant; the spread of the gaps
themselves measures the real noise. The gap is taken on the log scale (log rate ratio to
the other themes), because shared shocks multiply rates: a surge that lifts every theme's
repeat rate by 30 % widens a points gap between a 30 % theme and a 15 % control, and a
points-scale DiD would call that an effect; the log gap does not move. The change is
reported back in points at the theme's own rate before. An interrupted time series on the
theme alone was the other candidate; it cannot tell a concurrent surge from the change, and
`experiments/sop_sim.py` shows the cost (its false-significant rate for null changes, and
the coverage of both, under seasonality and a surge).

Too early: the interval's half-width says which change could be told apart from noise
today. When it is wider than `detectable` (5 points by default) the verdict is "too early",
with the periods and contacts so far.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from rca.text.counted import counted

#: The smallest change in rate points a manager wants to be able to see.
DEFAULT_DETECTABLE = 0.05
DEFAULT_ALPHA = 0.05
#: Periods needed on each side before any interval is given.
MIN_PERIODS = 2


@dataclass(frozen=True)
class Effect:
    """What a change did to one rate of its theme, against the other themes."""

    before: float | None  # the theme's rate before (pooled)
    after: float | None  # and after
    change: float | None  # difference-in-differences, rate points (after - before gap)
    low: float | None
    high: float | None
    p_value: float | None
    periods_before: int
    periods_after: int
    contacts_after: int
    verdict: str  # not_measured | too_early | no_effect | improved | worsened
    sentence: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def not_measured(
    metric: str, why: str, *, periods_before: int, periods_after: int, contacts_after: int
) -> Effect:
    """The effect on a rate the store cannot measure (``why``: what it lacks). Absent is not
    zero: on the CFPB export, with no customer ids and no escalation flag, a change read "too
    early" on its repeat rate for ever and "no effect, 0% before, 0% after" on its escalations.
    """
    return Effect(None, None, None, None, None, None, periods_before, periods_after,
                  contacts_after, "not_measured", f"{metric}: not measured: {why}")  # fmt: skip


def did_effect(
    theme_events: np.ndarray,
    theme_total: np.ndarray,
    other_events: np.ndarray,
    other_total: np.ndarray,
    change_at: int,
    *,
    metric: str = "repeat rate",
    lower_is_better: bool = True,
    alpha: float = DEFAULT_ALPHA,
    detectable: float = DEFAULT_DETECTABLE,
) -> Effect:
    """The change's effect on `metric` from per-period counts (periods before `change_at`
    are before; `change_at` and later are after). Periods where either side has no contacts
    carry no gap and are skipped."""
    te, tt, oe, ot = (np.asarray(x, dtype=float) for x in
                      (theme_events, theme_total, other_events, other_total))  # fmt: skip
    index = np.arange(len(tt))
    usable = (tt > 0) & (ot > 0)
    gap = np.full(len(tt), np.nan)
    gap[usable] = log_rate(te[usable], tt[usable]) - log_rate(oe[usable], ot[usable])
    before_mask = usable & (index < change_at)
    after_mask = usable & (index >= change_at)
    nb, na = int(before_mask.sum()), int(after_mask.sum())
    contacts_after = int(tt[index >= change_at].sum())
    rate_before = _rate(te[index < change_at], tt[index < change_at])
    rate_after = _rate(te[index >= change_at], tt[index >= change_at])
    if nb < MIN_PERIODS or na < MIN_PERIODS:
        return Effect(rate_before, rate_after, None, None, None, None, nb, na, contacts_after,
                      "too_early", f"{counted(na, 'period')} after the change, "
                      f"{contacts_after} contacts so far: not yet enough to tell a "
                      f"{detectable * 100:.0f}-point change in the {metric}")  # fmt: skip
    g0, g1 = gap[before_mask], gap[after_mask]
    log_change = float(g1.mean() - g0.mean())
    v0, v1 = g0.var(ddof=1) / nb, g1.var(ddof=1) / na
    se = float(np.sqrt(v0 + v1))
    # Welch-Satterthwaite degrees of freedom
    df = (v0 + v1) ** 2 / (v0**2 / (nb - 1) + v1**2 / (na - 1)) if se > 0 else float(nb + na - 2)
    margin = float(stats.t.isf(alpha / 2, df) * se)
    p_value = float(2 * stats.t.sf(abs(log_change) / se, df)) if se > 0 else 1.0
    # reported in rate points at the theme's own rate before: what a manager reads
    # (smoothed like the gaps: a theme with no events before still gets an interval in points)
    before_idx = index < change_at
    base = float((te[before_idx].sum() + 0.5) / (tt[before_idx].sum() + 1.0))
    change, low, high = (base * (np.exp(x) - 1) for x in
                         (log_change, log_change - margin, log_change + margin))  # fmt: skip
    change, low, high = float(change), float(low), float(high)
    half = (high - low) / 2
    if p_value > alpha and half > detectable:
        verdict = "too_early"
        sentence = (
            f"{na} periods after the change, {contacts_after} contacts so far: the {metric} "
            f"moved {change * 100:+.1f} points against the other themes (95% "
            f"{low * 100:+.1f} to {high * 100:+.1f}), not yet enough to tell a "
            f"{detectable * 100:.0f}-point change"
        )
    else:
        better = change < 0 if lower_is_better else change > 0
        verdict = "no_effect" if p_value > alpha else ("improved" if better else "worsened")
        what = {"no_effect": "no change told apart from noise", "improved": "improved",
                "worsened": "worsened"}[verdict]  # fmt: skip
        sentence = (
            f"{metric}: {what}, {change * 100:+.1f} points against the other themes "
            f"(95% {low * 100:+.1f} to {high * 100:+.1f}; {_pct(rate_before)} before, "
            f"{_pct(rate_after)} after; {nb} periods before, {na} after, "
            f"{contacts_after} contacts after)"
        )
    return Effect(rate_before, rate_after, change, low, high, p_value, nb, na, contacts_after,
                  verdict, sentence)  # fmt: skip


def log_rate(events: np.ndarray, total: np.ndarray) -> np.ndarray:
    """log of the rate with half an event added: finite for a period with none."""
    return np.log((events + 0.5) / (total + 1.0))


def _rate(events: np.ndarray, total: np.ndarray) -> float | None:
    return float(events.sum() / total.sum()) if total.sum() > 0 else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
