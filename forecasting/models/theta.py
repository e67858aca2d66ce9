"""Theta method (statsmodels ``ThetaModel``): SES with drift, deseasonalised when seasonal."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from statsmodels.tsa.forecasting.theta import ThetaModel

from forecasting.models.base import Model, PointForecast, residual_sd


class Theta(Model):
    """Standard Theta (theta = 2) with statsmodels' automatic seasonality test."""

    name = "theta"
    min_length = 4

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit ThetaModel; the error sd from the one-step errors on the series it smoothed."""
        seasonal = season > 1 and len(y) >= 3 * season
        # Multiplicative decomposition needs positive data; the model scale may be a log.
        method = "multiplicative" if seasonal and np.all(y > 0) else "additive"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ThetaModel(y, period=season if seasonal else 1, deseasonalize=seasonal, method=method).fit()
            mean = np.asarray(res.forecast(horizon), dtype=float)
            # The season factors statsmodels applied (neutral when its test found no season),
            # for the next max(horizon, season) periods; the history repeats them.
            future = np.asarray(res.forecast_components(max(horizon, season))["seasonal"], dtype=float)
        multiplicative = method == "multiplicative"
        deseasonalised = seasonal and bool(np.any(future != (1.0 if multiplicative else 0.0)))
        smoothed = y
        if deseasonalised:
            pattern = future[(np.arange(len(y)) - len(y)) % season]
            smoothed = y / pattern if multiplicative else y - pattern
        alpha = float(np.clip(res.params["alpha"], 1e-4, 1.0))
        drift = float(res.params["b0"]) / 2
        # statsmodels' prediction_intervals refits a state-space SES (~70 ms); the SES
        # variance sigma^2 (1 + (k-1) alpha^2) from the one-step errors is the same formula.
        level, errors = smoothed[0], []
        for v in smoothed[1:]:
            errors.append(v - level - drift)
            level = alpha * v + (1 - alpha) * (level + drift)
        # Degrees of freedom: the weight, the drift and the mean taken off the errors, plus the
        # season factors.
        dof = 3 + (season - 1 if deseasonalised else 0)
        s = residual_sd(np.asarray(errors) - np.mean(errors), dof=dof)
        k = np.arange(1, horizon + 1)
        sigma = s * np.sqrt(1 + (k - 1) * alpha**2)
        return PointForecast(mean, sigma * future[:horizon] if deseasonalised and multiplicative else sigma)
