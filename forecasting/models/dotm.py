"""Dynamic optimised Theta (DOTM, Fiorucci et al. 2016): SES plus a trend line refitted at every step.

The standard Theta method fixes theta = 2 and draws its trend line once through the whole
series. DOTM estimates theta, the smoothing weight and the initial level by least squares on
the one-step errors, and its trend line at step t uses only the data up to t (an OLS line
refreshed recursively), so a trend that changed years ago weighs less than in the fixed line.

For a fixed smoothing weight the one-step forecast is linear in the initial level and in
``1 - 1/theta``, so the fit is a grid over the weight with a two-column least-squares solve at
each point; it needs NumPy only and takes well under a millisecond per series.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.tsa.seasonal import seasonal_decompose

from forecasting.models.base import Model, PointForecast, power_of_two_unit, residual_sd

#: Smoothing weights searched.
ALPHAS = np.linspace(0.01, 0.99, 99)
#: Largest 1 - 1/theta (theta <= 20): beyond it the trend line alone drives the forecast.
MAX_TREND_WEIGHT = 0.95


def dynamic_ols(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercept ``A[t]`` and slope ``B[t]`` of the OLS line through ``y[:t]`` against 1..t, t = 0..n.

    ``A[0] = B[0] = 0`` and ``A[1] = y[0]``, ``B[1] = 0`` (one point has no slope).
    """
    n = len(y)
    t = np.arange(1, n + 1, dtype=float)
    sy, sty = np.cumsum(y), np.cumsum(t * y)
    st, stt = t * (t + 1) / 2, t * (t + 1) * (2 * t + 1) / 6
    den = t * stt - st**2
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(den > 0, (t * sty - st * sy) / np.where(den > 0, den, 1.0), 0.0)
    intercept = sy / t - slope * (t + 1) / 2
    return np.concatenate([[0.0], intercept]), np.concatenate([[0.0], slope])


def fit_dotm(y: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """Least-squares DOTM fit: smoothing weight, initial level, trend weight ``1 - 1/theta``, residuals.

    The fit is linear in the data, so a series beyond ``MAX_PLAIN_SIZE`` in magnitude (or below its
    inverse) is fitted divided by a power of two, exactly, and its level and residuals multiplied back.
    """
    unit = power_of_two_unit(y)
    if unit != 1.0:
        alpha, level0, c, resid = _least_squares(y / unit)
        return alpha, level0 * unit, c, resid * unit
    return _least_squares(y)


def _least_squares(y: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """:func:`fit_dotm` on a series whose squares do not overflow."""
    n = len(y)
    a_ols, b_ols = dynamic_ols(y)
    alpha = ALPHAS[:, None]
    t = np.arange(1, n + 1)
    decay = (1 - alpha) ** (t - 1)  # (alphas, n): weight of the initial level in level[t-1]
    # SES level driven by the data alone (initial level 0): s[t] = alpha y[t] + (1 - alpha) s[t-1].
    s = np.zeros((len(ALPHAS), n))
    for i in range(1, n):
        s[:, i] = ALPHAS * y[i - 1] + (1 - ALPHAS) * s[:, i - 1]
    # Trend term of the one-step forecast of y[t] made at t-1 (1-based t).
    g = decay * a_ols[:-1] + (1 - (1 - alpha) ** t) / alpha * b_ols[:-1]
    target = y[None, :] - s
    designs = np.stack((decay, g), axis=2)  # row i: np.column_stack([decay[i], g[i]])
    level0, c = np.empty(len(ALPHAS)), np.empty(len(ALPHAS))
    for i in range(len(ALPHAS)):
        level0[i], c[i] = np.linalg.lstsq(designs[i], target[i], rcond=None)[0]
        if not 0.0 <= c[i] <= MAX_TREND_WEIGHT:
            c[i] = np.clip(c[i], 0.0, MAX_TREND_WEIGHT)
            level0[i] = decay[i] @ (target[i] - c[i] * g[i]) / (decay[i] @ decay[i])
    # Each row's sum is the one a 1-D sum of that row gives (the reduction runs along contiguous rows).
    sse = np.sum((target - level0[:, None] * decay - c[:, None] * g) ** 2, axis=1)
    sse[np.isnan(sse)] = np.inf
    best = int(np.argmin(sse))  # the first of equal minima
    if sse[best] < np.inf:
        a, level, trend = float(ALPHAS[best]), float(level0[best]), float(c[best])
    else:  # no grid point gives a finite fit: the middle weight, the first value as the level, no trend
        best = int(np.argmin(np.abs(ALPHAS - 0.5)))
        a, level, trend = 0.5, float(y[0]), 0.0
    resid = target[best] - level * decay[best] - trend * g[best]
    return a, level, trend, resid


def dotm_forecast(y: np.ndarray, horizon: int) -> tuple[np.ndarray, float, np.ndarray]:
    """DOTM point forecasts of a non-seasonal series, with the smoothing weight and one-step residuals."""
    n = len(y)
    alpha, level0, c, resid = fit_dotm(y)
    level = level0
    for v in y:
        level = alpha * v + (1 - alpha) * level
    a_ols, b_ols = dynamic_ols(y)
    h = np.arange(1, horizon + 1)
    trend = (1 - alpha) ** n * a_ols[n] + ((h - 1) + (1 - (1 - alpha) ** (n + 1)) / alpha) * b_ols[n]
    return level + c * trend, alpha, resid


def _seasonal_factors(y: np.ndarray, season: int) -> np.ndarray | None:
    """Multiplicative (or additive, for non-positive data) season factors when lag ``season`` is significant."""
    if season <= 1 or len(y) < 3 * season:
        return None
    x = y - y.mean()
    denom = float(x @ x)
    if denom == 0:
        return None
    acf = np.array([float(x[k:] @ x[:-k]) / denom for k in range(1, season + 1)])
    # 90% test of the lag-season autocorrelation with Bartlett's standard error.
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / len(y))
    if abs(acf[-1]) <= limit:
        return None
    model = "multiplicative" if np.all(y > 0) else "additive"
    seasonal = seasonal_decompose(y, model=model, period=season).seasonal
    return np.asarray(seasonal[:season], dtype=float)


class DynamicTheta(Model):
    """DOTM with a classical decomposition first when the seasonal autocorrelation is significant."""

    name = "dotm"
    min_length = 4

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Deseasonalise if needed, fit DOTM, reseasonalise; SES-style error growth."""
        factors = _seasonal_factors(y, season)
        multiplicative = factors is not None and np.all(y > 0)
        if factors is not None:
            pattern = np.resize(factors, len(y))
            y = y / pattern if multiplicative else y - pattern
        mean, alpha, resid = dotm_forecast(y, horizon)
        # The first few one-step errors come from a trend line through one or two points.
        # Degrees of freedom: theta, alpha and the initial level, plus the season factors.
        dof = 3 + (season - 1 if factors is not None else 0)
        s = residual_sd(resid[min(3, len(resid) - 1) :], dof=dof)
        k = np.arange(1, horizon + 1)
        sigma = s * np.sqrt(1 + (k - 1) * alpha**2)
        if factors is not None:
            future = np.resize(np.roll(factors, -(len(y) % season)), horizon)
            mean = mean * future if multiplicative else mean + future
            sigma = sigma * future if multiplicative else sigma
        return PointForecast(mean, sigma)
