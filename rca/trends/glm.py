"""A small batched quasi-Poisson GLM: one shared design, many themes fitted at once.

Why not statsmodels: the model is tiny (an intercept, plus day-of-week for daily periods) and
is refitted for hundreds of themes every period, and in the backtest thousands of times; one
vectorised IRLS over all themes is a few lines, exact for this case, and adds no dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

IRLS_ITERATIONS = 25
IRLS_TOLERANCE = 1e-8
ETA_BOUNDS = (-30.0, 30.0)  # keeps exp() finite for themes with no contacts at all
#: Ridge on non-intercept terms: a weekday with no contacts gets a finite, shrunk effect.
RIDGE = 1.0
#: Starting rate (and the scorer's floor): a baseline of zeros expects half a contact, not none.
MIN_RATE_PSEUDO_COUNT = 0.5
MID_P_CLIP = 1e-300


@dataclass(frozen=True)
class GlmFit:
    """Coefficients per theme, the information matrix and the (moderated) dispersion."""

    beta: np.ndarray  # (m, k)
    cov_unscaled: np.ndarray  # (m, k, k): (X'WX)^-1
    dispersion: np.ndarray  # (m,) raw Pearson estimate, >= 0
    df: np.ndarray  # (m,) residual degrees of freedom

    def predict(
        self, x: np.ndarray, log_exposure: np.ndarray, dispersion: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected counts (m,) at design row `x` and their predictive variance.

        The variance adds the uncertainty of the fitted mean to the count's own quasi-Poisson
        variance, as Farrington's threshold does, so short baselines are not over-confident.
        """
        eta = np.clip(self.beta @ x + log_exposure, *ETA_BOUNDS)
        mu = np.exp(eta)
        var_eta = np.einsum("k,mkl,l->m", x, self.cov_unscaled, x) * dispersion
        return mu, dispersion * mu + mu**2 * var_eta


def fit_quasi_poisson(
    y: np.ndarray,
    design: np.ndarray,
    log_exposure: np.ndarray,
    *,
    outlier_residual: float | None = None,
) -> GlmFit:
    """Fit log E[y] = design @ beta + log_exposure for every row of `y` (m themes x n periods).

    With `outlier_residual`, refit once with Farrington's down-weighting of baseline periods
    whose Anscombe residual exceeds it, so an earlier spike does not inflate the baseline.
    """
    weights = np.ones_like(y, dtype=float)
    fit, mu = _irls(y, design, log_exposure, weights)
    if outlier_residual is not None:
        phi = np.maximum(_pearson_dispersion(y, mu, weights, design.shape[1]), 1.0)
        anscombe = 1.5 * (np.cbrt(y) ** 2 - np.cbrt(mu) ** 2) / np.maximum(mu, 1e-12) ** (1 / 6)
        scaled = anscombe / np.sqrt(phi)[:, None]
        with np.errstate(divide="ignore"):  # where scaled is 0 the ratio is not used
            weights = np.where(scaled > outlier_residual, (outlier_residual / scaled) ** 2, 1.0)
        fit, mu = _irls(y, design, log_exposure, weights)
    return fit


def _irls(
    y: np.ndarray, design: np.ndarray, log_exposure: np.ndarray, weights: np.ndarray
) -> tuple[GlmFit, np.ndarray]:
    m, n = y.shape
    k = design.shape[1]
    penalty = np.eye(k) * RIDGE
    penalty[0, 0] = 0.0
    beta = np.zeros((m, k))
    exposure_sum = np.exp(log_exposure).sum(axis=1)
    beta[:, 0] = np.log((y.sum(axis=1) + MIN_RATE_PSEUDO_COUNT) / np.maximum(exposure_sum, 1e-12))
    for _ in range(IRLS_ITERATIONS):
        eta = np.clip(beta @ design.T + log_exposure, *ETA_BOUNDS)
        mu = np.exp(eta)
        z = eta - log_exposure + (y - mu) / mu
        w = weights * mu
        xtwx = np.einsum("nk,mn,nl->mkl", design, w, design) + penalty
        xtwz = np.einsum("nk,mn->mk", design, w * z)
        new = np.linalg.solve(xtwx, xtwz[..., None])[..., 0]
        done = np.max(np.abs(new - beta)) < IRLS_TOLERANCE
        beta = new
        if done:
            break
    eta = np.clip(beta @ design.T + log_exposure, *ETA_BOUNDS)
    mu = np.exp(eta)
    w = weights * mu
    xtwx = np.einsum("nk,mn,nl->mkl", design, w, design) + penalty
    df = np.maximum(weights.sum(axis=1) - k, 1.0)
    fit = GlmFit(
        beta=beta,
        cov_unscaled=np.linalg.inv(xtwx),
        dispersion=_pearson_dispersion(y, mu, weights, k),
        df=df,
    )
    return fit, mu


def _pearson_dispersion(y: np.ndarray, mu: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    df = np.maximum(weights.sum(axis=1) - k, 1.0)
    return (weights * (y - mu) ** 2 / np.maximum(mu, 1e-12)).sum(axis=1) / df


def upper_mid_p(observed: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """P(Y > y) + P(Y = y)/2 under a negative binomial with this mean and variance.

    Poisson where the variance does not exceed the mean. The mid-p keeps small counts from
    being over-conservative, and its normal quantile is a well-behaved residual for EWMA.
    """
    observed = np.asarray(observed, dtype=float)
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    variance = np.asarray(variance, dtype=float)
    over = variance > mean * (1 + 1e-9)
    size = np.where(over, mean**2 / np.maximum(variance - mean, 1e-12), 1.0)
    prob = size / (size + mean)
    nb_tail = stats.nbinom.sf(observed, size, prob) + 0.5 * stats.nbinom.pmf(observed, size, prob)
    po_tail = stats.poisson.sf(observed, mean) + 0.5 * stats.poisson.pmf(observed, mean)
    return np.clip(np.where(over, nb_tail, po_tail), MID_P_CLIP, 1.0)
