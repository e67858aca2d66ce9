"""Stage 2, fit and backtest: every model on the whole series and at rolling origins, and their scores.

:func:`fit_series` is a top-level function of plain data (:class:`SeriesTask` in, :class:`SeriesFit`
out), so any :class:`~forecasting.executors.Executor` can ship it to another process. It chooses the
scale (:func:`~forecasting.engine.prepare.choose_transform`), fits each model once on the whole
series and refits the chosen specification at each backtest origin. :func:`score_candidate` turns
a candidate's backtest forecasts into :class:`Scores`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from forecasting.engine.prepare import choose_transform, from_model_scale, to_model_scale
from forecasting.metrics import coverage, interval_score, mase_scale, smape
from forecasting.models import MODELS
from forecasting.models.base import Z80, Z95, PointForecast, single_threaded

log = logging.getLogger(__name__)

#: Fewest training points at a backtest origin.
MIN_TRAIN = 5
#: Errors a model may raise on a series it cannot fit; they make it skip that series (or origin).
#: ArithmeticError covers numeric failures inside a library's estimator (an overflowing automatic lag,
#: a division by zero) that one odd series must not turn into the failure of a whole run.
FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError)


@dataclass(frozen=True)
class SeriesTask:
    """Plain-data input of :func:`fit_series` (picklable for any executor)."""

    uid: str
    y: np.ndarray
    season: int
    horizon: int
    models: tuple[str, ...]
    origins: int
    backtest_horizon: int
    seed: int
    #: The scale to fit on, ``"none"`` or ``"log"`` (the log only where every value is positive); None
    #: lets the probe choose (``choose_transform``).
    transform: str | None = None


@dataclass(frozen=True)
class SeriesFit:
    """Plain-data output of :func:`fit_series`; means and sds are on the model scale."""

    uid: str
    transform: str
    final: dict[str, PointForecast]
    cutoffs: np.ndarray
    bt_mean: dict[str, np.ndarray]
    bt_sigma: dict[str, np.ndarray]
    actual: np.ndarray
    scales: np.ndarray
    season: int
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scores:
    """One candidate's backtest scores on one series (NaN where no origin could be scored).

    ``mase`` and ``interval_score`` (the 95% interval's, on the MASE scale) are means over the
    origins' steps; ``smape`` is in percent (0-200); coverages are fractions of scored actuals.
    """

    unique_id: str
    model: str
    mase: float
    smape: float
    coverage_80: float
    coverage_95: float
    interval_score: float
    chosen: bool = False


#: Columns of :attr:`ForecastResult.backtests`: the fields of :class:`Scores`.
BACKTEST_COLUMNS = [f.name for f in fields(Scores)]


# --------------------------------------------------------------------------- fitting


def backtest_cutoffs(n: int, origins: int, steps: int) -> np.ndarray:
    """Training lengths of the rolling origins, ascending: ``origins`` cut-offs ending ``steps`` before ``n``.

    Origins with fewer than MIN_TRAIN training points are dropped; when none is left (a short series),
    origins near the end are used with whatever steps remain.
    """
    cuts = [n - steps - j for j in range(origins)]
    cuts = [c for c in cuts if c >= MIN_TRAIN]
    if not cuts:
        cuts = [c for c in range(n - 1, max(MIN_TRAIN, n - origins) - 1, -1)]
    return np.array(sorted(cuts), dtype=int)


def fit_series(task: SeriesTask) -> SeriesFit:
    """Choose the scale, then fit every model of ``task`` on the whole series and at each origin.

    NumPy's floating-point warnings are silenced: a model that overflows on a series of extreme
    values yields non-finite numbers, which the engine treats as that model's failure (and says so
    in the series' status), instead of a page of warnings on the user's terminal.
    """
    # Several workers each with multi-threaded BLAS would fight for the cores.
    with single_threaded(), np.errstate(all="ignore"):
        return _fit_series(task)


def _fit_series(task: SeriesTask) -> SeriesFit:
    y, h = task.y, task.backtest_horizon
    cutoffs = backtest_cutoffs(len(y), task.origins, h)
    actual = np.full((len(cutoffs), h), np.nan)
    for i, cut in enumerate(cutoffs):
        seg = y[cut : cut + h]
        actual[i, : len(seg)] = seg
    scales = np.array([mase_scale(y[:c], task.season) for c in cutoffs])
    transform = choose_transform(y, cutoffs, actual, scales, task.transform)
    z = to_model_scale(y, transform)
    final: dict[str, PointForecast] = {}
    bt_mean: dict[str, np.ndarray] = {}
    bt_sigma: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}
    for name in task.models:
        fitted = _fit_final(name, z, task)
        if isinstance(fitted, str):
            failures[name] = fitted
            continue
        final[name], spec = fitted
        bt_mean[name], bt_sigma[name] = backtest_model(name, z, task, cutoffs, fallback=spec)
    return SeriesFit(task.uid, transform, final, cutoffs, bt_mean, bt_sigma, actual, scales, task.season, failures)


def _fit_final(name: str, z: np.ndarray, task: SeriesTask) -> tuple[PointForecast, Any] | str:
    """Model ``name``'s forecast of the whole model-scale series and its specification, or why it failed."""
    model = MODELS[name]()
    if len(z) < model.min_length:
        return f"needs {model.min_length} observations, has {len(z)}"
    try:
        spec = model.select(z, task.season)
        pf = model.fit_predict(z, task.horizon, task.season, spec)
    except FIT_ERRORS as exc:
        return str(exc)
    if not (np.all(np.isfinite(pf.mean)) and np.all(np.isfinite(pf.sigma))):
        return "non-finite forecast"
    return pf, spec


def backtest_model(
    name: str, z: np.ndarray, task: SeriesTask, cutoffs: np.ndarray, fallback: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Means and sds (origins, backtest steps) of model ``name`` refitted at each origin.

    The specification (ETS form, ARIMA orders) is selected once, on the training part of the first
    origin the model is tried at, and refitted at every origin: no origin's forecast depends on the
    points it is scored on, so the backtest's errors (and the intervals calibrated from them) carry
    the uncertainty of the selection as well. Selecting at every origin measured the same on
    validation windows at twice the cost (docs/engine.md, "Backtest, selection and combination").
    ``fallback`` (the whole series' specification) is used only when that selection fails. NaN rows
    where the model was not tried (too few points, beyond its ``max_origins``) or failed.
    """
    model = MODELS[name]()
    h = task.backtest_horizon
    mean = np.full((len(cutoffs), h), np.nan)
    sigma = np.full((len(cutoffs), h), np.nan)
    first = 0 if model.max_origins is None else max(len(cutoffs) - model.max_origins, 0)
    tried = [i for i in range(first, len(cutoffs)) if cutoffs[i] >= model.min_length]
    if not tried:
        return mean, sigma
    try:
        spec = model.select(z[: int(cutoffs[tried[0]])], task.season)
    except FIT_ERRORS as exc:
        log.debug("%s: %s selection failed at origin %d: %s", task.uid, name, cutoffs[tried[0]], exc)
        spec = fallback
    for i in tried:
        cut = int(cutoffs[i])
        try:
            pf = model.fit_predict(z[:cut], h, task.season, spec)
        except FIT_ERRORS as exc:
            log.debug("%s: %s failed at origin %d: %s", task.uid, name, cut, exc)
            continue
        mean[i], sigma[i] = pf.mean, pf.sigma
    return mean, sigma


# --------------------------------------------------------------------------- scoring


def score_candidate(name: str, fit: SeriesFit, mean: np.ndarray, sigma: np.ndarray) -> Scores:
    """Backtest scores of a candidate whose model-scale means and sds at ``fit``'s origins are given.

    Bounds are the Gaussian 80% and 95% intervals of ``sigma``, back-transformed like the means.
    """
    t = fit.transform
    pred = from_model_scale(mean, t)
    rows = np.isfinite(mean).any(axis=1) & np.isfinite(fit.actual).any(axis=1)
    a, p, s = fit.actual[rows], pred[rows], fit.scales[rows]
    bounds = {
        z: (from_model_scale(mean - z * sigma, t)[rows], from_model_scale(mean + z * sigma, t)[rows])
        for z in (Z80, Z95)
    }
    ok = np.isfinite(a) & np.isfinite(p)
    if not ok.any():
        return Scores(fit.uid, name, np.nan, np.nan, np.nan, np.nan, np.nan)
    lo95, hi95 = bounds[Z95]
    return Scores(
        unique_id=fit.uid,
        model=name,
        mase=float(np.nanmean(np.abs(a - p) / s[:, None])),
        smape=smape(a[ok], p[ok]),
        coverage_80=coverage(a[ok], bounds[Z80][0][ok], bounds[Z80][1][ok]),
        coverage_95=coverage(a[ok], lo95[ok], hi95[ok]),
        interval_score=float(
            np.nanmean([interval_score(a[i], lo95[i], hi95[i], 0.95, s[i]) for i in range(len(a)) if ok[i].any()])
        ),
    )
