"""Stage 4, calibration: pool standardised backtest errors across series into per-step quantiles.

:func:`calibrate` turns the chosen forecasters' standardised backtest errors into an empirical
quantile function per horizon step, stored on the probability grid :data:`P_GRID`; a series' interval
bounds are then its point forecast plus its model sd times those quantiles
(:func:`interval_deviations`), made monotone so intervals never narrow with the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from forecasting.engine.choose import Choice
from forecasting.frames import HI80, HI95, LO80, LO95

#: Standardised errors wanted per horizon step before the calibration stops widening its window.
MIN_POOL = 150
#: Probability grid on which calibrated quantile functions are stored (includes the interval knots).
P_GRID = np.unique(np.concatenate([np.linspace(0.001, 0.999, 221), [0.025, 0.1, 0.5, 0.9, 0.975]]))
#: Largest growth exponent of the quantiles past the backtest horizon (:func:`extend_past_backtest`).
MAX_GROWTH = 0.5
#: Fewest degrees of freedom of the small-sample widening (:func:`small_sample_factor`): the fewest
#: with a finite variance. One or two origins cannot estimate a spread, and with 1 (a Cauchy) log-scale
#: bounds overflow. 3 met the validation rule on both windows, 2 on one (docs/engine.md, "Calibration").
MIN_DF = 3
#: Index in :data:`P_GRID` of the probability of each published bound.
KNOTS = {name: int(np.searchsorted(P_GRID, p)) for name, p in [(LO95, 0.025), (LO80, 0.1), (HI80, 0.9), (HI95, 0.975)]}


@dataclass(frozen=True)
class CalibratedForecast:
    """A series' chosen forecaster and its calibrated deviations, from which its bounds and paths are drawn.

    ``dev`` (horizon, len(P_GRID)) holds model-scale deviations from ``choice.mean`` at each grid
    probability.
    """

    choice: Choice
    dev: np.ndarray


def normal_quantiles(horizon: int) -> np.ndarray:
    """Standard normal quantiles at :data:`P_GRID`, one row per step (horizon, len(P_GRID))."""
    return np.tile(stats.norm.ppf(P_GRID), (horizon, 1))


def small_sample_factor(units: int, min_df: float = MIN_DF) -> np.ndarray:
    """Factor on each quantile of :data:`P_GRID` for a spread estimated from ``units`` backtest origins.

    The errors of one origin's steps move together, so a run's calibration rests on about as many
    independent draws as it has (series, origin) pairs. A new error's quantile given a spread
    estimated from n draws is the Student t's with n - 1 degrees of freedom times sqrt(1 + 1/n)
    (the prediction interval of a normal sample); the factor is that over the normal quantile, so a
    run of hundreds of series keeps its empirical quantiles (factor about 1) while a run of one
    series with 4 origins gets 1.43x at the 80% bounds and 1.81x at the 95% ones.
    """
    z = stats.norm.ppf(P_GRID)
    ratio = np.divide(stats.t.ppf(P_GRID, max(units - 1, min_df)), z, out=np.ones_like(z), where=z != 0)
    return ratio * np.sqrt(1 + 1 / max(units, 1))


def calibrate(
    errors: Sequence[np.ndarray], horizon: int, max_growth: float = MAX_GROWTH, min_df: float | None = MIN_DF
) -> np.ndarray:
    """Per-step quantile functions (horizon, len(P_GRID)) of pooled standardised backtest errors.

    ``errors`` holds one (origins, backtest steps) array per series, NaN where missing. Each error
    also counts with its sign flipped, so the quantiles are symmetric and the point forecast stays
    the centre. Step k pools the errors of steps k-w..k+w, widening w until ``MIN_POOL`` errors are
    in; steps past the backtest horizon extend the last one (:func:`extend_past_backtest`, at most
    ``max_growth``). The quantiles are widened for the number of origins they rest on
    (:func:`small_sample_factor`, at least ``min_df`` degrees of freedom; None: not widened, for
    comparisons). Falls back to standard normal quantiles when there are no errors, widened alike
    when there are only a few (fewer than 10 in all).
    """
    steps = max((u.shape[1] for u in errors if u.size), default=0)
    if steps == 0:
        return normal_quantiles(horizon)
    units = sum(int(np.isfinite(u).any(axis=1).sum()) for u in errors)
    widen = small_sample_factor(units, min_df) if min_df is not None and units else np.ones(len(P_GRID))
    by_step = [np.concatenate([u[:, k] for u in errors if u.shape[1] > k]) for k in range(steps)]
    by_step = [v[np.isfinite(v)] for v in by_step]
    # Symmetrised: with a few hundred errors the tails of a signed pool are too noisy.
    by_step = [np.concatenate([v, -v]) for v in by_step]
    if sum(len(v) for v in by_step) < 10:
        return normal_quantiles(horizon) * widen
    # Errors before each step: the window's size is counted, and its errors joined once it is wide enough
    # (joining at every widening cost cubic time in the steps, minutes for a horizon of 600).
    before = np.concatenate([[0], np.cumsum([len(v) for v in by_step])])
    q = np.empty((steps, len(P_GRID)))
    for k in range(steps):
        w = 0
        while before[min(k + w + 1, steps)] - before[max(k - w, 0)] < MIN_POOL and w < steps:
            w += 1
        q[k] = np.quantile(np.concatenate(by_step[max(k - w, 0) : k + w + 1]), P_GRID)
    return extend_past_backtest(q * widen, horizon, max_growth)


def extend_past_backtest(q: np.ndarray, horizon: int, max_growth: float = MAX_GROWTH) -> np.ndarray:
    """Quantiles (horizon, P) from those of the backtest's steps, extrapolated past its last step.

    The standardised errors' spread often grows with the step faster than the model sds allow for.
    Past the last backtest step K, the last row is scaled by (k / K) ** b, where b is the slope of
    the log spread (the 10%-90% range) on the log step over the backtest's steps, held in
    [0, max_growth] (0: reuse step K's quantiles, as before). Checked on validation windows (docs/engine.md).
    """
    steps = len(q)
    if horizon <= steps:
        return q[:horizon]
    b = 0.0
    spread = q[:, KNOTS[HI80]] - q[:, KNOTS[LO80]]
    if steps >= 2 and np.all(spread > 0):
        b = float(np.clip(np.polyfit(np.log(np.arange(1, steps + 1)), np.log(spread), 1)[0], 0.0, max_growth))
    grow = (np.arange(steps + 1, horizon + 1) / steps) ** b
    return np.vstack([q, q[-1] * grow[:, None]])


def interval_deviations(sigma: np.ndarray, quant: np.ndarray) -> np.ndarray:
    """Model-scale deviations from the point forecast, (horizon, P): bounds bracket it and widen with h."""
    dev = sigma[:, None] * quant
    lower, upper = P_GRID < 0.5, P_GRID > 0.5
    dev[:, lower] = np.minimum.accumulate(np.minimum(dev[:, lower], 0.0), axis=0)
    dev[:, upper] = np.maximum.accumulate(np.maximum(dev[:, upper], 0.0), axis=0)
    return np.sort(dev, axis=1)


def calibrate_choices(
    choices: Mapping[str, Choice], horizon: int, max_growth: float = MAX_GROWTH, min_df: float | None = MIN_DF
) -> dict[str, CalibratedForecast]:
    """Every series' calibrated forecast: pooled quantiles where it has backtest errors, normal ones if not."""
    quant = calibrate([c.u for c in choices.values() if c.u.size], horizon, max_growth, min_df)
    normal = normal_quantiles(horizon)
    return {
        uid: CalibratedForecast(c, interval_deviations(c.sigma, quant if c.u.size else normal))
        for uid, c in choices.items()
    }
