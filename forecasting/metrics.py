"""Forecast accuracy and interval metrics (pure numpy; NaN-aware where noted)."""

from __future__ import annotations

import numpy as np


def mase_scale(y: np.ndarray, season: int = 1) -> float:
    """In-sample mean absolute (seasonal) naive error of ``y``: the MASE denominator.

    Falls back to lag 1 when the series is shorter than two seasons, and to the mean
    absolute level (or 1) when the differences are all zero, so the scale is never 0.
    """
    y = np.asarray(y, dtype=float)
    m = season if season > 1 and len(y) > 2 * season else 1
    if len(y) > m:
        scale = float(np.mean(np.abs(y[m:] - y[:-m])))
        if scale > 0:
            return scale
        if m > 1 and len(y) > 1:
            scale = float(np.mean(np.abs(np.diff(y))))
            if scale > 0:
                return scale
    level = float(np.mean(np.abs(y))) if len(y) else 0.0
    return level if level > 0 else 1.0


def mase(actual: np.ndarray, predicted: np.ndarray, scale: float) -> float:
    """Mean absolute error divided by ``scale`` (see :func:`mase_scale`), ignoring NaNs."""
    if scale <= 0:
        raise ValueError(f"MASE scale must be positive, got {scale}")
    return float(np.nanmean(np.abs(np.asarray(actual) - np.asarray(predicted)))) / scale


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0-200), M3/M4 definition; pairs of zeros count as 0."""
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    denom = np.abs(a) + np.abs(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(denom > 0, 2 * np.abs(a - p) / denom, 0.0)
    terms = np.where(np.isnan(a) | np.isnan(p), np.nan, terms)
    return 100 * float(np.nanmean(terms))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of actuals inside [lower, upper], ignoring NaNs."""
    a = np.asarray(actual, dtype=float)
    ok = ~np.isnan(a)
    inside = (a >= np.asarray(lower)) & (a <= np.asarray(upper))
    return float(np.mean(inside[ok])) if ok.any() else float("nan")


def interval_score(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float, scale: float = 1.0) -> float:
    """Mean Winkler interval score of a central ``level`` interval divided by ``scale`` (MSIS if MASE scale)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be a fraction in (0, 1), got {level}")
    a, lo, hi = (np.asarray(v, dtype=float) for v in (actual, lower, upper))
    alpha = 1 - level
    with np.errstate(over="ignore", invalid="ignore"):  # bounds of extreme series: an infinite score, not a warning
        below = np.where(a < lo, (2 / alpha) * (lo - a), 0.0)
        above = np.where(a > hi, (2 / alpha) * (a - hi), 0.0)  # an infinite bound costs its width, not NaN
        score = np.where(np.isnan(a), np.nan, (hi - lo) + below + above)  # a missing actual is not scored
    return float(np.nanmean(score)) / scale
