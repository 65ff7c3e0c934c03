"""Fair comparison of handlers (vendor, site, team, agent) by indirect standardisation.

Why indirect standardisation and not raw rates: a vendor that handles the hardest themes has a
worse raw repeat rate without resolving anything worse. Each contact's *expected* outcome is
the rate of its theme (and stratum: channel, market) over the other handlers; a handler's expected
count E is the sum over its contacts, O its observed count, and O/E says how it does against
what its own mix would predict (the standardised-mortality-ratio method of epidemiology and of
hospital league tables). It needs no model fit, works for any number of handlers, and stays
exact with small counts. A mixed model with theme effects gives the same answer on balanced
data and is slower and harder to explain to the person who must defend the scorecard.

Uncertainty: for a 0/1 outcome (came back, escalated) O is a sum of Bernoulli trials with
chances r·e_c, so the interval for r is a score (Wilson-type) interval with the binomial
variance (and the variance of E itself, estimated from the other handlers), and the test of
r = 1 the larger p of its score test and the exact Poisson test (the score test alone is
anti-conservative with a few expected returns); for counts, Garwood's exact Poisson interval
and the exact Poisson test. A handler is flagged only when Holm's correction over all
handlers compared keeps it below `alpha` (a scorecard of 30 sites would otherwise flag one by
chance every time) and its own interval excludes 1.
Small volumes are shrunk, not ranked: the reported `shrunk_ratio` is the gamma-Poisson
empirical-Bayes estimate (O + k·m) / (E + k), with m the mean ratio and k = m / (the
between-handler variance of the true ratios, by moments), so a site with 4 contacts and 2
returns does not top the table, and fewer than MIN_FLAG_ROWS rows are never flagged.
Continuous outcomes (handle time) use the same expected-by-mix idea with a ratio of sums and
a delta-method interval.

`experiments/vendor_sim.py` checks coverage, the false-flag rate and power by simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Level of the per-handler interval and of the Holm-corrected flag.
DEFAULT_ALPHA = 0.05
#: Fewer rows than this (resolutions, contacts) are shown and shrunk but never flagged: four
#: returns out of four resolutions is an anecdote to read, not a finding about a vendor
#: ("small volumes are shrunk, not ranked"); the simulation's volumes (100+) are unaffected.
MIN_FLAG_ROWS = 20
#: Pseudo-rows by which a stratum's rate leans on the coarser one (a thin stratum's own 0/9
#: is not a rate; 10 rows of prior lets a stratum with ~100 rows speak for itself).
PRIOR_ROWS = 10.0


@dataclass(frozen=True)
class RatioTable:
    """One row per handler: observed, expected, O/E, interval, p, Holm q, flag, shrunk ratio."""

    frame: pd.DataFrame
    outcome: str


def expected_by_mix(
    frame: pd.DataFrame,
    outcome: str,
    strata: Sequence[str],
    *,
    handler: str | None = None,
    min_stratum: int = 1,
) -> pd.Series:
    """Each row's expected outcome: the mean of `outcome` in its stratum over the *other*
    handlers (every row when `handler` is None).

    Why leave the handler out: with a handful of sites, a weak site is a large part of its own
    reference (one of three sites at twice the usual rate moved the reference halfway to it,
    and hid it: O/E 1.15 instead of 1.33). A stratum the other handlers have fewer than
    `min_stratum` rows in falls back to the coarser one (the first stratum column alone, then
    everything), and a handler alone in the data gets NaN: nothing to compare it with.
    """
    return _expected_and_support(frame, outcome, strata, handler, min_stratum)[0]


def _expected_and_support(
    frame: pd.DataFrame,
    outcome: str,
    strata: Sequence[str],
    handler: str | None,
    min_stratum: int,
) -> tuple[pd.Series, pd.Series]:
    """`expected_by_mix` and, per row, how many reference rows its expectation rests on.

    Each finer stratum's rate is shrunk toward the coarser one by PRIOR_ROWS pseudo-rows
    (hierarchical, empirical-Bayes style): a theme the other handlers saw 9 times without a
    return is not a 0 % theme (against 0.1 expected, 6 returns looked 54 times too many).
    """
    values = frame[outcome].astype(float).to_numpy()
    index = frame.index
    # every key as integer codes once (a missing value its own code, as a stratum of its own):
    # grouping by codes with bincount is ~10x faster than pandas' groupby on string keys,
    # which the 1M-contact benchmark spent most of its time in (experiments/bench_vendors.py)
    codes = [_codes(frame[k]) for k in strata]
    own = _codes(frame[handler]) if handler else None
    expected = pd.Series(np.nan, index=index)
    support = pd.Series(0.0, index=index)
    for depth in range(len(strata) + 1):
        keys = codes[:depth]
        total_sum, total_n = _group_sums(values, keys)
        if own is not None:
            own_sum, own_n = _group_sums(values, [*keys, own])
            total_sum, total_n = total_sum - own_sum, total_n - own_n
        if depth == 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                expected = pd.Series(
                    np.where(total_n >= max(min_stratum, 1), total_sum / total_n, np.nan),
                    index=index,
                )
            support = pd.Series(total_n, index=index)
        else:
            prior = PRIOR_ROWS
            expected = (total_sum + prior * expected) / (total_n + prior)
            support = pd.Series(total_n + prior, index=index)
    return expected, support


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a key column; a missing value is a code of its own."""
    return pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)


def _group_sums(values: np.ndarray, keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the sum of `values` (NaN skipped) and the count of rows in its group
    (everything when no keys)."""
    finite = np.where(np.isnan(values), 0.0, values)
    if not keys:
        return np.full(len(values), finite.sum()), np.full(len(values), float(len(values)))
    group = keys[0]
    for key in keys[1:]:
        group = pd.factorize(group * (int(key.max()) + 1) + key)[0]
    sums = np.bincount(group, weights=finite)
    counts = np.bincount(group).astype(float)
    return sums[group], counts[group]


def poisson_ratio_table(
    frame: pd.DataFrame,
    handler: str,
    outcome: str,
    strata: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
    min_stratum: int = 1,
) -> RatioTable:
    """O/E of a 0/1 (or count) `outcome` per `handler`, case-mix adjusted over `strata`."""
    rows = frame.loc[frame[handler].notna() & frame[outcome].notna()]
    expected, support = _expected_and_support(rows, outcome, strata, handler, min_stratum)
    keep = expected.notna()
    rows, expected, support = rows.loc[keep], expected[keep], support[keep]
    values = rows[outcome].astype(float)
    binary = bool(values.isin([0.0, 1.0]).all())
    data = pd.DataFrame(
        {"handler": rows[handler], "observed": values, "expected": expected,
         "expected_sq": expected**2, "support": support}
    )  # fmt: skip
    grouped = data.groupby("handler")
    table = grouped[["observed", "expected", "expected_sq"]].sum()
    table["expected_var"] = _expected_variance(data).reindex(table.index)
    table["contacts"] = grouped.size()
    table["raw_rate"] = table["observed"] / table["contacts"]
    table["expected_rate"] = table["expected"] / table["contacts"]
    o, e = table["observed"].to_numpy(), table["expected"].to_numpy()
    if binary:
        s2, ve = table["expected_sq"].to_numpy(), table["expected_var"].to_numpy()
        low, high = score_interval(o, e, s2, alpha, ve)
        # the score test's normal tail is too light for a few expected returns (E = 3,
        # O = 9: p 0.0003 against an exact 0.004); the exact Poisson test is not, and is
        # conservative for 0/1 outcomes: the larger of the two decides a flag
        p_value = np.maximum(score_p_value(o, e, s2, ve), poisson_two_sided(o, e))
    else:
        low, high = garwood(o, alpha)
        low, high = low / np.where(e > 0, e, np.nan), high / np.where(e > 0, e, np.nan)
        p_value = poisson_two_sided(o, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = np.where(e > 0, o / e, np.nan)
    table["ratio_low"], table["ratio_high"] = low, high
    table = table.drop(columns=["expected_sq", "expected_var"])
    table["p_value"] = p_value
    table["q_value"] = holm(table["p_value"].to_numpy())
    # a flag needs its own interval to exclude 1 too: where E rests on a handful of reference
    # rows the interval is (0, inf) and "4 returns against 0.15 expected" says nothing (the
    # demo flagged such a 12-resolution cell before this)
    significant = (table["q_value"].to_numpy() <= alpha) & (
        table["contacts"].to_numpy() >= MIN_FLAG_ROWS
    )
    high_flag = significant & (o > e) & (np.asarray(low) > 1)
    low_flag = significant & (o < e) & (np.asarray(high) < 1)
    table["flag"] = np.where(high_flag, "high", np.where(low_flag, "low", ""))
    table["shrunk_ratio"] = shrink(o, e)
    return RatioTable(table.reset_index().rename(columns={"handler": handler}), outcome)


def mean_ratio_table(
    frame: pd.DataFrame,
    handler: str,
    outcome: str,
    strata: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
    min_stratum: int = 1,
) -> RatioTable:
    """Observed over expected mean of a continuous `outcome` (handle time) per `handler`.

    The ratio of sums Σy / Σŷ; its standard error by the delta method from the residuals
    y - ratio·ŷ, which holds for skewed handle times once a handler has a few dozen contacts
    (fewer: the interval is wide and the handler is shrunk, not ranked).
    """
    rows = frame.loc[frame[handler].notna() & frame[outcome].notna()]
    expected = expected_by_mix(rows, outcome, strata, handler=handler, min_stratum=min_stratum)
    rows, expected = rows.loc[expected.notna()], expected.dropna()
    data = pd.DataFrame(
        {"handler": rows[handler], "observed": rows[outcome].astype(float), "expected": expected}
    )
    table = data.groupby("handler")[["observed", "expected"]].sum()
    table["contacts"] = data.groupby("handler").size()
    ratio = table["observed"] / table["expected"].where(table["expected"] > 0)
    per_row = data["handler"].map(ratio).astype(float)  # categories map once each
    data["residual"] = data["observed"] - per_row * data["expected"]
    spread = data.groupby("handler")["residual"].apply(lambda r: float((r**2).sum()))
    n = table["contacts"].to_numpy(dtype=float)
    se = np.sqrt(spread.reindex(table.index).to_numpy() * n / np.maximum(n - 1, 1))
    se = se / table["expected"].to_numpy()
    z = stats.norm.isf(alpha / 2)
    table["raw_mean"] = table["observed"] / table["contacts"]
    table["expected_mean"] = table["expected"] / table["contacts"]
    table["ratio"] = ratio
    table["ratio_low"] = ratio - z * se
    table["ratio_high"] = ratio + z * se
    with np.errstate(divide="ignore", invalid="ignore"):
        table["p_value"] = np.where(se > 0, 2 * stats.norm.sf(np.abs(ratio - 1) / se), 1.0)
    table["q_value"] = holm(table["p_value"].to_numpy())
    significant = (table["q_value"] <= alpha) & (table["contacts"] >= MIN_FLAG_ROWS)
    table["flag"] = np.where(significant, np.where(ratio > 1, "high", "low"), "")
    return RatioTable(table.reset_index().rename(columns={"handler": handler}), outcome)


def _expected_variance(data: pd.DataFrame) -> pd.Series:
    """Per handler, the variance of E from estimating each stratum's rate on the others:
    Σ over its strata of n² · p(1 - p) / M (n its rows there, M the reference rows).
    Left out, the interval ignored that E is itself an estimate (coverage 0.93, not 0.95)."""
    cells = data.groupby(["handler", "expected", "support"]).size().rename("n").reset_index()
    p, m = cells["expected"], cells["support"].clip(lower=1)
    cells["var"] = cells["n"] ** 2 * p * (1 - p) / m
    return cells.groupby("handler")["var"].sum()


def score_interval(
    observed: np.ndarray,
    expected: np.ndarray,
    expected_sq: np.ndarray,
    alpha: float,
    expected_var: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of r in P(outcome) = r · e_c for 0/1 outcomes (a Wilson-type score interval).

    Solves (O - rE)² = z² Var(O | r), Var = Σ r e_c (1 - r e_c) = rE - r²Σe_c²: the binomial
    variance, not the Poisson one, which overstates it when rates are 20-40 % (Garwood's
    interval then covered 99 % in the simulation, not 95 %).
    """
    o, e, s2 = (np.asarray(x, dtype=float) for x in (observed, expected, expected_sq))
    ve = np.zeros_like(e) if expected_var is None else np.asarray(expected_var, dtype=float)
    z2 = stats.norm.isf(alpha / 2) ** 2
    # Var(O - rE) = rE - r²Σe² + r²Var(E)
    a = e**2 + z2 * s2 - z2 * ve
    b = 2 * o * e + z2 * e
    disc = np.sqrt(np.maximum(b**2 - 4 * a * o**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        # a <= 0: E is so uncertain that no upper bound holds at this level
        low = np.where(a > 0, (b - disc) / (2 * a), 0.0)
        high = np.where(a > 0, (b + disc) / (2 * a), np.inf)
    return np.maximum(low, 0.0), high


def score_p_value(
    observed: np.ndarray,
    expected: np.ndarray,
    expected_sq: np.ndarray,
    expected_var: np.ndarray | None = None,
) -> np.ndarray:
    """Two-sided score test of r = 1 for 0/1 outcomes: (O - E) / sqrt(Σe(1 - e) + Var E)."""
    o, e, s2 = (np.asarray(x, dtype=float) for x in (observed, expected, expected_sq))
    ve = np.zeros_like(e) if expected_var is None else np.asarray(expected_var, dtype=float)
    var = e - s2 + ve
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (o - e) / np.sqrt(var), 0.0)
    return np.minimum(1.0, 2 * stats.norm.sf(np.abs(z)))


def garwood(observed: np.ndarray, alpha: float = DEFAULT_ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) two-sided interval for a Poisson mean given `observed` counts."""
    o = np.asarray(observed, dtype=float)
    low = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    return low, high


def poisson_two_sided(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Exact two-sided p-value of O given a Poisson mean E (twice the smaller tail, capped)."""
    o = np.asarray(observed, dtype=float)
    e = np.maximum(np.asarray(expected, dtype=float), 1e-12)
    lower = stats.poisson.cdf(o, e)
    upper = stats.poisson.sf(o - 1, e)
    return np.minimum(1.0, 2 * np.minimum(lower, upper))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, in input order (family-wise, any dependence)."""
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * (n - np.arange(n)))
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def shrink(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Gamma-Poisson empirical-Bayes O/E: (O + k·m) / (E + k), k = m / between-handler variance.

    The variance of the true ratios is estimated by moments: the spread of O/E around 1
    weighted by E, less the Poisson part (mean of 1/E). With no excess spread, k is large and
    every handler is pulled to 1: nothing there to rank.
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = e > 0
    if ok.sum() < 2:
        return np.where(ok, o / np.where(ok, e, 1.0), np.nan)
    ratio = o[ok] / e[ok]
    weights = e[ok] / e[ok].sum()
    mean = float((weights * ratio).sum())
    between = float((weights * (ratio - mean) ** 2).sum()) - mean * float((weights / e[ok]).sum())
    # a gamma prior with mean m and variance v is worth k = m / v expected contacts
    k = mean / between if between > 1e-9 else 1e9
    out = np.full(len(o), np.nan)
    out[ok] = (o[ok] + k * mean) / (e[ok] + k)
    return out
