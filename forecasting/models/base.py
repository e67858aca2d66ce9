"""The one model interface: an adapter fits one series (a float array) and forecasts it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np
from scipy import stats
from threadpoolctl import ThreadpoolController

#: Longest season the state-space models (ETS, ARIMA) model with seasonal states: with 52 weekly or
#: more states and a few cycles of data their fits are slow and the states poorly determined (R's
#: ``forecast::ets`` refuses seasons over 24 for the same reason). Longer seasons are left to the
#: models that deseasonalise by classical decomposition (Theta, DOTM) and to the seasonal naive.
MAX_STATE_SEASON = 24
#: Normal quantiles of the two interval levels the package reports.
Z80 = float(stats.norm.ppf(0.9))
Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class PointForecast:
    """A model's mean forecast and the standard deviation of its error per step (model scale)."""

    mean: np.ndarray
    sigma: np.ndarray


@dataclass(frozen=True)
class ModelForecast:
    """One series' forecast: point, 80%/95% bounds and sample paths of shape (n_paths, horizon)."""

    yhat: np.ndarray
    lower_80: np.ndarray
    upper_80: np.ndarray
    lower_95: np.ndarray
    upper_95: np.ndarray
    paths: np.ndarray


@cache
def _blas_pools() -> ThreadpoolController:
    """This process's BLAS/OpenMP pools, found once (a scan of the loaded libraries costs ~8 ms)."""
    return ThreadpoolController()


def single_threaded() -> Any:
    """A context in which BLAS uses one thread: small fits only lose to contention (ARIMA ~10x slower)."""
    return _blas_pools().limit(limits=1)


class Model(ABC):
    """Base adapter: subclasses implement :meth:`fit_predict`, optionally :meth:`select`.

    ``select`` chooses a specification (ETS form, ARIMA order) from a whole series; the
    backtest refits that specification at each origin, so the search runs once per series.
    """

    name: ClassVar[str] = ""
    #: Fewest observations the adapter accepts.
    min_length: ClassVar[int] = 2
    #: Most backtest origins worth spending on this model (None: all of them).
    max_origins: ClassVar[int | None] = None

    def select(self, y: np.ndarray, season: int) -> Any:
        """Choose a specification for ``y``; the default has nothing to choose."""
        return None

    @abstractmethod
    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit ``y`` and return the mean forecast and error sd for ``horizon`` steps."""

    def forecast(
        self, y: np.ndarray, horizon: int, season: int = 1, *, n_paths: int = 1000, seed: int = 0
    ) -> ModelForecast:
        """Fit ``y`` and return the model's own (Gaussian) intervals and seeded sample paths."""
        y = _check_input(y, horizon, self.min_length, self.name)
        with single_threaded():
            point = self.fit_predict(y, horizon, season, self.select(y, season))
        mean, sigma = point.mean, np.maximum(point.sigma, 0.0)
        rng = np.random.default_rng(seed)
        # Random-walk-correlated standard normals: marginally N(0, 1) at every step.
        steps = np.arange(1, horizon + 1)
        w = np.cumsum(rng.standard_normal((n_paths, horizon)), axis=1) / np.sqrt(steps)
        return ModelForecast(
            yhat=mean,
            lower_80=mean - Z80 * sigma,
            upper_80=mean + Z80 * sigma,
            lower_95=mean - Z95 * sigma,
            upper_95=mean + Z95 * sigma,
            paths=mean + sigma * w,
        )


def _check_input(y: np.ndarray, horizon: int, min_length: int, name: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if y.ndim != 1 or len(y) < min_length:
        raise ValueError(f"model '{name}' needs a 1-d series of at least {min_length} values, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"model '{name}' got non-finite values")
    return y


#: Largest magnitude whose squares are summed as they are (1e150 squared is 1e300), and its inverse the
#: smallest: values beyond are divided by a power of two first (exactly) and the result multiplied back,
#: so that their squares neither overflow nor underflow to zero (which made zero-width intervals).
MAX_PLAIN_SIZE = 1e150


def power_of_two_unit(x: np.ndarray) -> float:
    """1, or for values whose largest magnitude lies outside 1/:data:`MAX_PLAIN_SIZE` to :data:`MAX_PLAIN_SIZE`
    (and is not zero) the power of two at or below it."""
    size = float(np.max(np.abs(x))) if len(x) else 0.0
    plain = size == 0 or not np.isfinite(size) or 1 / MAX_PLAIN_SIZE <= size <= MAX_PLAIN_SIZE
    return 1.0 if plain else float(2.0 ** np.floor(np.log2(size)))


def residual_sd(resid: np.ndarray, dof: int = 0) -> float:
    """Root mean square of finite residuals, with ``dof`` parameters taken off the count."""
    r = np.asarray(resid, dtype=float)
    r = r[np.isfinite(r)]
    if len(r) == 0:
        return 0.0
    unit = power_of_two_unit(r)
    if unit != 1.0:
        return unit * residual_sd(r / unit, dof)
    return float(np.sqrt(np.sum(r**2) / max(len(r) - dof, 1)))


def aicc_or_aic(llf: float, nobs: int, k: int) -> float:
    """AICc of a fit with ``k`` estimated parameters on ``nobs`` points; AIC where AICc is undefined."""
    dof = nobs - k - 1
    return -2 * llf + 2 * k * nobs / dof if dof > 0 else -2 * llf + 2 * k


def cached_fit(cache: tuple[np.ndarray, Any, Any] | None, y: np.ndarray, spec: Any) -> Any:
    """The fit ``select`` kept (series, specification, fit) if of this very series and specification, else None."""
    if cache is None or cache[1] != spec or len(cache[0]) != len(y) or not np.array_equal(cache[0], y):
        return None
    return cache[2]


def seasonal_strength(y: np.ndarray, season: int) -> float:
    """Share of the variance of the first differences explained by their season means (0-1)."""
    if season <= 1 or len(y) < 2 * season + 1:
        return 0.0
    d = np.diff(np.asarray(y, dtype=float))
    pos = np.arange(len(d)) % season
    means = np.array([d[pos == s].mean() for s in range(season)])
    total = float(np.var(d))
    return float(np.var(means[pos]) / total) if total > 0 else 0.0
