"""Theta method (theta = 2) in NumPy: SES with drift, deseasonalised when seasonal.

The same method as statsmodels' ``ThetaModel`` (its default, non-MLE fit): the seasonality test on
the lag-``season`` autocorrelation at 90%, classical decomposition, the drift ``b0`` as the OLS slope
on time, simple exponential smoothing from a known initial level (the first value) with the weight
that minimises the one-step squared errors, and the forecast ``level + b0 / 2 * (k - 1 + 1/alpha -
(1 - alpha)^n / alpha)``. Written out, it forecasts to within about 1e-6 of statsmodels
(``tests/test_models.py``) in a tenth of the time: the backtest refits it at every origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from statsmodels.tsa.seasonal import seasonal_decompose

from forecasting.models.base import Model, PointForecast, residual_sd

#: Smoothing weights tried before the bounded search refines the best one.
ALPHA_GRID = np.linspace(0.0, 1.0, 21)
#: 10% critical value of a chi-squared(1): the seasonality test statsmodels' ThetaModel applies.
SEASON_TEST_CRITICAL = 2.705543454095404


def _seasonal(y: np.ndarray, season: int, multiplicative: bool) -> tuple[np.ndarray, bool] | None:
    """Season factors (one per position in the cycle) and whether they divide, when the test finds a season."""
    x = y - y.mean()
    c0 = float(x @ x)
    if c0 == 0:
        return None
    rho = np.array([1.0] + [float(x[k:] @ x[:-k]) / c0 for k in range(1, season + 1)])
    if len(y) * rho[-1] ** 2 / np.sum(rho[:-1] ** 2) <= SEASON_TEST_CRITICAL:
        return None
    factors = np.asarray(seasonal_decompose(y, model="mul" if multiplicative else "add", period=season).seasonal)
    if multiplicative and factors.min() <= 0:
        return _additive(y, season), False
    return factors[:season], multiplicative


def _additive(y: np.ndarray, season: int) -> np.ndarray:
    return np.asarray(seasonal_decompose(y, model="add", period=season).seasonal)[:season]


def ses_fit(y: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SES started at the first value, for each weight in ``alphas``: one-step squared error sums and final levels."""
    level = np.full(len(alphas), float(y[0]))
    sse = np.zeros(len(alphas))
    for v in y[1:]:
        err = v - level
        sse += err * err
        level += alphas * err
    return sse, level


def ses_sse(y: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """One-step squared error sums of SES started at the first value, for each weight in ``alphas``."""
    return ses_fit(y, alphas)[0]


def _ses_sse_one(values: list[float], alpha: float) -> float:
    """:func:`ses_sse` for one weight, in Python floats: the same IEEE operations in the same order, so the
    same sum to the bit, without NumPy's per-call cost on one-element arrays (the bounded search calls it
    about twenty times a fit)."""
    level, sse = values[0], 0.0
    for v in values[1:]:
        err = v - level
        sse += err * err
        level += alpha * err
    return sse


def ses_weight(y: np.ndarray) -> float:
    """The SES weight in [0, 1] with the least one-step squared error: a grid, then a bounded search."""
    sse = ses_sse(y, ALPHA_GRID)
    best = int(np.argmin(sse))
    step = ALPHA_GRID[1] - ALPHA_GRID[0]
    lo, hi = max(ALPHA_GRID[best] - step, 0.0), min(ALPHA_GRID[best] + step, 1.0)
    values = [float(v) for v in y]
    res = minimize_scalar(
        lambda a: _ses_sse_one(values, float(a)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-7}
    )
    refined = float(res.x)
    return refined if _ses_sse_one(values, refined) <= sse[best] else float(ALPHA_GRID[best])


class Theta(Model):
    """Standard Theta (theta = 2), deseasonalised when the series has three cycles and a significant season."""

    name = "theta"
    min_length = 4

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit Theta; the error sd from the one-step errors on the series it smoothed."""
        n = len(y)
        found = _seasonal(y, season, bool(np.all(y > 0))) if season > 1 and n >= 3 * season else None
        smoothed = y
        if found is not None:
            factors, multiplicative = found
            pattern = factors[np.arange(n) % season]
            smoothed = y / pattern if multiplicative else y - pattern
        t = np.arange(n, dtype=float)
        b0 = float(np.polyfit(t, smoothed, 1)[0]) if n > 1 else 0.0
        alpha = ses_weight(smoothed)
        level = float(ses_fit(smoothed, np.array([alpha]))[1][0])
        k = np.arange(horizon, dtype=float)
        if alpha > 0:
            k += 1 / alpha - (1 - alpha) ** n / alpha
        mean = level + 0.5 * b0 * k
        alpha_sd, drift = float(np.clip(alpha, 1e-4, 1.0)), b0 / 2
        # The SES variance sigma^2 (1 + (k-1) alpha^2) from the one-step errors of SES with drift.
        values = [float(v) for v in smoothed]  # Python floats: the same arithmetic, without NumPy scalars' cost
        lvl, errors = values[0], []
        for v in values[1:]:
            errors.append(v - lvl - drift)
            lvl = alpha_sd * v + (1 - alpha_sd) * (lvl + drift)
        # Degrees of freedom: the weight, the drift and the mean taken off the errors, plus the
        # season factors.
        dof = 3 + (season - 1 if found is not None else 0)
        s = residual_sd(np.asarray(errors) - np.mean(errors), dof=dof)
        sigma = s * np.sqrt(1 + np.arange(horizon) * alpha_sd**2)
        if found is not None:
            future = factors[(n + np.arange(horizon)) % season]
            mean = mean * future if multiplicative else mean + future
            sigma = sigma * future if multiplicative else sigma
        return PointForecast(mean, sigma)
