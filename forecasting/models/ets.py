"""Exponential smoothing (statsmodels ``ETSModel``) with the form chosen by AICc."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from forecasting.models.base import (
    MAX_STATE_SEASON,
    Model,
    PointForecast,
    aicc_or_aic,
    cached_fit,
    residual_sd,
    seasonal_strength,
)
from forecasting.models.lbfgsb import minimize_lbfgsb


@dataclass(frozen=True)
class EtsSpec:
    """One ETS form: error ('add'|'mul'), trend (None|'add'), damping, seasonal (None|'add').

    The backtest refits start cold: warm-started from the whole series' optimum they took half the
    optimiser's work with the same benchmark accuracy, but landed elsewhere on the shipped total
    series (its ETS backtest MASE 0.77 -> 2.03, its calibrated 80% interval 30% wider).
    """

    error: str
    trend: str | None
    damped: bool
    seasonal: str | None


def _model(y: np.ndarray, spec: EtsSpec, season: int) -> ETSModel:
    return ETSModel(
        y,
        error=spec.error,
        trend=spec.trend,
        damped_trend=spec.damped,
        seasonal=spec.seasonal,
        seasonal_periods=season if spec.seasonal else None,
    )


#: Absolute step of the forward differences scipy's L-BFGS-B takes when it is given no gradient.
_FD_STEP = 1e-8


_SQRT_EPS = float(np.finfo(float).eps ** 0.5)


def _forward_gradient(f: Any, x: np.ndarray, f0: float, lb: list[float], ub: list[float]) -> np.ndarray:
    """scipy's 2-point ``approx_derivative`` with an absolute step and bounds, written out (same numbers).

    One parameter at a time in Python floats: with a handful of parameters, NumPy's per-call overhead
    on arrays this small cost more than the arithmetic (the same IEEE operations, so the same steps).
    """
    bounded = any(lo != -np.inf or hi != np.inf for lo, hi in zip(lb, ub, strict=True))
    grad = np.empty_like(x)
    x1 = x.copy()
    for i, xi in enumerate(x.tolist()):
        if (xi + _FD_STEP) - xi == 0:
            h = _SQRT_EPS * (1.0 if xi >= 0 else -1.0) * max(1.0, abs(xi))
        else:
            h = _FD_STEP
        if bounded:
            lower, upper = xi - lb[i], ub[i] - xi
            if abs(h) > max(lower, upper):  # no step of this size fits: as far as the bounds allow
                h = upper if upper >= lower else -lower
            elif xi + h < lb[i] or xi + h > ub[i]:
                h = -h
        x1[i] = xi + h
        grad[i] = (f(x1) - f0) / ((xi + h) - xi)
        x1[i] = xi
    return grad


def _optimise(model: ETSModel, maxiter: int = 200) -> np.ndarray:
    """``model.fit(maxiter=maxiter, return_params=True)``: the same start, bounds, objective and L-BFGS-B
    (driven directly, :mod:`forecasting.models.lbfgsb`), with scipy's finite differences computed here
    instead (they cost as much as the likelihood)."""
    start = model._convert_and_bound_start_params(model.start_params)
    bounds = model._setup_bounds()
    use_beta_star = "smoothing_trend" not in model.bounds
    use_gamma_star = "smoothing_seasonal" not in model.bounds
    if use_beta_star:
        start[1] /= start[0]
    if use_gamma_star:
        start[2] /= 1 - start[0]
    is_fixed = np.array([lo == hi for lo, hi in bounds], dtype=np.int64)
    fixed = np.array([lo if lo == hi else 0.0 for lo, hi in bounds], dtype=float)
    free = ~is_fixed.astype(bool)
    free_bounds = [bounds[i] for i in np.flatnonzero(free)]
    lb = [-np.inf if lo is None else float(lo) for lo, _ in free_bounds]
    ub = [np.inf if hi is None else float(hi) for _, hi in free_bounds]
    yhat, xhat = np.zeros(model.nobs), np.zeros((model.nobs, model._k_states_internal))
    data, nobs, mul = model.endog, model.endog.shape[0], model.error == "mul"

    def f(x: np.ndarray) -> float:
        # ETSModel._loglike_internal's arithmetic, without its per-call checks and conversions.
        model._smoothing_func(x, data, yhat, xhat, is_fixed, fixed, use_beta_star, use_gamma_star)
        res = (data - yhat) / yhat if mul else data - yhat
        # np.mean and np.sum are add.reduce (then a division by the count) behind Python wrappers.
        llf = -model.nobs / 2 * (np.log(2 * np.pi * (np.add.reduce(res * res) / nobs)) + 1)
        if mul:
            yhat[yhat == 0] = 1e-32
            llf -= np.add.reduce(np.log(np.abs(yhat)))
        return float(-llf / nobs)

    def f_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = f(x)
        return f0, _forward_gradient(f, x, f0, lb, ub)

    fitted = np.where(free, 0.0, fixed)
    fitted[free] = minimize_lbfgsb(f_and_grad, start[free], free_bounds, maxiter)
    if use_beta_star:
        fitted[1] *= fitted[0]
    if use_gamma_star:
        fitted[2] *= 1 - fitted[0]
    return np.asarray(model._model_params(fitted))


@dataclass(frozen=True)
class EtsFit:
    """A fitted form: internal parameters (alpha, beta, gamma, phi, initial states), the number of
    estimated parameters, fitted values, residuals (relative with multiplicative errors) and the
    internal state after the last observation (level, trend, s_n, s_n-1, ..., s_n-m+1)."""

    internal: np.ndarray
    k: int
    fitted: np.ndarray
    resid: np.ndarray
    last: np.ndarray


def _smooth(model: ETSModel, params: np.ndarray) -> EtsFit:
    """``model.smooth(params)``'s smoothing pass (the compiled one), without building a results object."""
    internal = np.asarray(model._internal_params(params), dtype=float)
    yhat, xhat = np.zeros(model.nobs), np.zeros((model.nobs, model._k_states_internal))
    k = model._k_params_internal
    model._smoothing_func(internal, model.endog, yhat, xhat, np.zeros(k, dtype=np.int64), np.zeros(k))
    resid = (model.endog - yhat) / yhat if model.error == "mul" else model.endog - yhat
    return EtsFit(internal, len(params), yhat, resid, xhat[-1].copy())


def _fit(y: np.ndarray, spec: EtsSpec, season: int) -> EtsFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _model(y, spec, season)
        return _smooth(model, _optimise(model))


def _point(fit: EtsFit, spec: EtsSpec, season: int, horizon: int) -> np.ndarray:
    """Mean forecast from the last state: level + (damped) trend growth + the season's matching state."""
    h = np.arange(1, horizon + 1)
    mean = np.full(horizon, fit.last[0])
    if spec.trend:
        mean += (np.cumsum(fit.internal[3] ** h) if spec.damped else h) * fit.last[1]
    if spec.seasonal:
        mean += fit.last[2 + season * ((h - 1) // season + 1) - h]
    return mean


def _fit_aicc(y: np.ndarray, spec: EtsSpec, season: int) -> tuple[float, ETSModel, np.ndarray]:
    """AICc (AIC where undefined) of the fitted form, its model and parameters, without building results.

    The same optimisation and criterion as ``_fit(...).aicc``; the results object (a smoothing pass
    and its bookkeeping) is built only for a form that wins.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _model(y, spec, season)
        params = _optimise(model)
        llf = float(model.loglike(params))
    return aicc_or_aic(llf, model.nobs, model.k_params + 1), model, params


def _candidates(y: np.ndarray, season: int) -> list[EtsSpec]:
    errors = ["add", "mul"] if np.all(y > 0) else ["add"]
    # An undamped additive trend extrapolates too boldly over long horizons (and on the log
    # scale it is exponential growth); a damped trend only, as M3/M4 evidence suggests.
    trends: list[tuple[str | None, bool]] = [(None, False)]
    trends.append(("add", True) if len(y) >= 8 else ("add", False))
    seasonals: list[str | None] = [None]
    if 1 < season <= MAX_STATE_SEASON and len(y) >= 3 * season and seasonal_strength(y, season) > 0.3:
        seasonals.append("add")
    return [EtsSpec(e, t, d, s) for e in errors for t, d in trends for s in seasonals]


class ETS(Model):
    """ETS with error, trend, damping and seasonality picked by AICc on the whole series."""

    name = "ets"
    min_length = 4

    def __init__(self) -> None:
        #: The series, form and fit of the last ``select``, reused when the same series is forecast.
        self._selected: tuple[np.ndarray, EtsSpec, EtsFit] | None = None

    def select(self, y: np.ndarray, season: int) -> EtsSpec:
        """Fit every candidate form and keep the one with the lowest AICc."""
        best, best_ic = EtsSpec("add", None, False, None), np.inf
        for spec in _candidates(y, season):
            try:
                ic, model, params = _fit_aicc(y, spec, season)
                if not (np.isfinite(ic) and ic < best_ic):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = _smooth(model, params)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.all(np.isfinite(fit.fitted)):
                best, best_ic = spec, ic
                self._selected = (y, spec, fit)
        return best

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit the given form (or select one) and forecast with the class-1 analytic variance."""
        spec = spec if isinstance(spec, EtsSpec) else self.select(y, season)
        if spec.error == "mul" and not np.all(y > 0):
            spec = EtsSpec("add", spec.trend, spec.damped, spec.seasonal)
        if spec.seasonal and len(y) < 2 * season + 2:
            spec = EtsSpec(spec.error, spec.trend, spec.damped, None)

        fit = cached_fit(self._selected, y, spec) or _fit(y, spec, season)
        mean = _point(fit, spec, season, horizon)
        return PointForecast(mean, _sigma(fit, spec, season, horizon, mean))


def _sigma(fit: EtsFit, spec: EtsSpec, season: int, horizon: int, mean: np.ndarray) -> np.ndarray:
    """Error sd per step: sigma * sqrt(1 + sum c_j^2), c_j = alpha + beta*phi_j + gamma*[j % m == 0]."""
    alpha = float(fit.internal[0])
    beta = float(fit.internal[1]) if spec.trend else 0.0
    gamma = float(fit.internal[2]) if spec.seasonal else 0.0
    phi = float(fit.internal[3]) if spec.damped else 1.0
    j = np.arange(1, horizon)
    phi_j = np.cumsum(phi**j) if spec.damped else j.astype(float)
    c = alpha + beta * phi_j + gamma * ((j % max(season, 1)) == 0)
    growth = np.sqrt(1 + np.concatenate([[0.0], np.cumsum(c**2)]))
    # statsmodels' sigma is the maximum-likelihood one (SSE / n); with a handful of parameters
    # on 15 points that is biased low, so divide by n - k as R's forecast::ets does.
    s = residual_sd(fit.resid, dof=fit.k)
    # With multiplicative errors the residuals are relative: scale by the forecast level.
    return s * np.abs(mean) * growth if spec.error == "mul" else s * growth
