"""Benchmark models: naive, seasonal naive and random walk with drift (closed-form intervals)."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecasting.models.base import Model, PointForecast, residual_sd


class Naive(Model):
    """Last value carried forward; error sd grows with the square root of the step."""

    name = "naive"
    min_length = 2

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Repeat the last value."""
        s = residual_sd(np.diff(y))
        k = np.arange(1, horizon + 1)
        return PointForecast(np.full(horizon, y[-1]), s * np.sqrt(k))


class SeasonalNaive(Model):
    """Value of the same season one cycle back; plain naive when there is no full cycle."""

    name = "snaive"
    min_length = 2

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Repeat the last observed cycle."""
        m = season if season > 1 and len(y) > season else 1
        s = residual_sd(y[m:] - y[:-m])
        k = np.arange(1, horizon + 1)
        mean = y[len(y) - m + (k - 1) % m]
        return PointForecast(mean, s * np.sqrt((k - 1) // m + 1))


class Drift(Model):
    """Random walk with drift: the line through the first and last observations, extended."""

    name = "drift"
    min_length = 3

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Extend the average change per step."""
        n = len(y)
        d = np.diff(y)
        slope = float(d.mean())
        s = residual_sd(d - slope, dof=1)
        k = np.arange(1, horizon + 1)
        return PointForecast(y[-1] + slope * k, s * np.sqrt(k * (1 + k / (n - 1))))
