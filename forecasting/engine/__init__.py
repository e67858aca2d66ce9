"""The forecast engine: backtest every model per series, choose or combine, calibrate, draw joint paths.

:func:`forecast` runs five stages, one module each (see ``docs/engine.md``):

1. :mod:`~forecasting.engine.prepare`: the frequency, per-series cleaning, and series too short or
   flat for model selection set aside for a fallback;
2. :mod:`~forecasting.engine.backtest`: per series, in parallel through an
   :class:`~forecasting.executors.Executor`, the scale (log or raw) chosen by backtest and every model
   fitted on the whole series and at rolling origins (:func:`fit_series`, a top-level function of
   plain data);
3. :mod:`~forecasting.engine.choose`: per series, score models and equal-weight combinations of the
   best ones, keep the core combination unless a candidate beats it clearly;
4. :mod:`~forecasting.engine.calibrate`: across series, pool standardised backtest errors per horizon
   step into calibrated quantiles;
5. :mod:`~forecasting.engine.simulate`: per group, joint sample paths from one set of correlated
   normals for all its series.

This module holds the orchestration (:func:`forecast`, :func:`forecast_file`) and re-exports the
stages' public names.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from forecasting.engine.backtest import (
    BACKTEST_COLUMNS,
    MIN_TRAIN,
    Scores,
    SeriesFit,
    SeriesTask,
    backtest_cutoffs,
    fit_series,
    score_candidate,
)

# Not the function calibrate: it would shadow its module, forecasting.engine.calibrate.
from forecasting.engine.calibrate import (
    KNOTS,
    MIN_POOL,
    P_GRID,
    CalibratedForecast,
    calibrate_choices,
    interval_deviations,
)
from forecasting.engine.choose import (
    CORE,
    CORE_YEARLY,
    DEFAULT_RULES,
    MAX_COMBO,
    NAIVE_MARGIN,
    SELECT_MARGIN,
    Choice,
    ChoiceRules,
    benchmark_name,
    choose_forecaster,
    fallback_choice,
)
from forecasting.engine.prepare import (
    LOG_MARGIN,
    MIN_OBS,
    PROBE_ALPHAS,
    TRANSFORMS,
    Calendar,
    PreparedSeries,
    UnusableSeries,
    choose_transform,
    from_model_scale,
    future_dates,
    infer_freq,
    keep_nonnegative,
    normalize_freq,
    prepare_history,
    theta_probe,
    to_model_scale,
)
from forecasting.engine.simulate import joint_normals, joint_paths, residual_correlation, stable_seed
from forecasting.executors import Executor, LocalExecutor
from forecasting.frames import DS, FORECAST_COLUMNS, MODEL, UID, YHAT, Y
from forecasting.models import DEFAULT_MODELS, get_model

log = logging.getLogger(__name__)

#: Most periods one forecast may ask for: five years of daily data, 38 of weekly. ARIMA's exact prediction
#: covariance is horizon x horizon; at 2,000 steps a series takes seconds and a few hundred MB, and far
#: past it memory and time grow with its square and cube.
MAX_HORIZON = 2000
#: Start of the status message of a series on which every model raised (it gets the naive fallback).
EVERY_MODEL_FAILED = "every model failed"
STATUS_COLUMNS = [UID, "status", MODEL, "message"]


@dataclass(frozen=True)
class ForecastOptions:
    """The tuning knobs of a :func:`forecast` run, with its defaults.

    Attributes:
        freq: 'Y', 'Q', 'M', 'W' or 'D' (or a pandas alias); inferred from the dates when None.
        season: season length in periods (None: 1, 4, 12, 52 or 7 by the frequency); 1 for none.
        models: registered model names to choose from (None: :data:`DEFAULT_MODELS`).
        n_paths: sample paths per series.
        seed: run seed of the sample paths (each group's draws are seeded from it and the group key).
        backtest_origins: rolling origins per series.
        backtest_horizon: steps scored per origin (None: the forecast horizon).
        transform: 'log' or 'none' fits every series on that scale (the log only where every value is
            positive); None lets the transform probe choose per series (``choose_transform``).
    """

    freq: str | None = None
    models: Sequence[str] | None = None
    n_paths: int = 1000
    seed: int = 0
    backtest_origins: int = 4
    backtest_horizon: int | None = None
    season: int | None = None
    transform: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.models, str):  # it would be read letter by letter: "unknown model 'e'"
            raise ValueError(f"models must be a list of model names such as ['ets', 'arima'], not {self.models!r}")
        if self.models is not None:  # a tuple, so that options compare and hash by value
            object.__setattr__(self, "models", tuple(self.models))


#: The options :func:`forecast` uses when given none.
DEFAULT_OPTIONS = ForecastOptions()


@dataclass(frozen=True)
class ForecastResult:
    """A run's output: forecasts (FORECAST_COLUMNS), backtest scores, per-series status, joint paths."""

    forecasts: pd.DataFrame
    backtests: pd.DataFrame
    status: pd.DataFrame
    paths: dict[str, np.ndarray]
    future_ds: dict[str, pd.DatetimeIndex]


class SeriesStatus(NamedTuple):
    """How one series was forecast: 'ok', 'fallback' or 'failed', the model used and why."""

    status: str
    model: str
    message: str


@dataclass
class _Run:
    """What a run has settled so far: each series' choice, status and candidate scores."""

    horizon: int
    choices: dict[str, Choice] = field(default_factory=dict)
    status: dict[str, SeriesStatus] = field(default_factory=dict)
    scores: list[Scores] = field(default_factory=list)
    done: int = 0

    def settle_without_fits(self, series: Sequence[PreparedSeries | UnusableSeries]) -> list[PreparedSeries]:
        """Settle the unusable series and those that get a fallback; return the ones to fit, in order."""
        to_fit = []
        for p in series:
            if isinstance(p, UnusableSeries):
                self.status[p.uid] = SeriesStatus("failed", "", p.message)
            elif len(p.y) < MIN_OBS or np.ptp(p.y) == 0:
                self.choices[p.uid], msg = fallback_choice(p.y, self.horizon)
                message = "; ".join(m for m in (p.message, msg) if m)
                self.status[p.uid] = SeriesStatus("fallback", self.choices[p.uid].name, message)
            else:
                to_fit.append(p)
                continue
            self.done += 1
        return to_fit

    def settle_fit(self, fit: SeriesFit, prepared: PreparedSeries) -> None:
        """Choose a series' forecaster from its fits (the naive fallback when every model failed)."""
        if not fit.final:
            self.choices[fit.uid], msg = fallback_choice(prepared.y, self.horizon)
            message = f"{EVERY_MODEL_FAILED} ({fit.failures}); {msg}"
            self.status[fit.uid] = SeriesStatus("fallback", self.choices[fit.uid].name, message)
        else:
            self.choices[fit.uid], series_scores = choose_forecaster(fit)
            self.scores.extend(series_scores)
            notes = [prepared.message, self.choices[fit.uid].note]
            notes += [f"{m} skipped: {why}" for m, why in fit.failures.items()]
            message = "; ".join(n for n in notes if n)
            self.status[fit.uid] = SeriesStatus(prepared.status, self.choices[fit.uid].name, message)
        self.done += 1

    def status_frame(self) -> pd.DataFrame:
        """Every series' status (STATUS_COLUMNS), by id; logs each one that is not 'ok'."""
        for uid, (st, _, msg) in self.status.items():
            if st != "ok":
                log.warning("series %s: %s: %s", uid, st, msg)
        return pd.DataFrame([(u, *self.status[u]) for u in sorted(self.status)], columns=STATUS_COLUMNS)


def forecast(
    history: pd.DataFrame,
    horizon: int,
    options: ForecastOptions = DEFAULT_OPTIONS,
    *,
    groups: Mapping[str, str] | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every series of a long history frame (unique_id, ds, y) ``horizon`` periods ahead.

    Args:
        options: frequency, models, paths, seed and backtest settings (see :class:`ForecastOptions`).
        groups: unique_id -> group key; series of one group get jointly drawn paths.
        executor: where the per-series fits run (default a :class:`LocalExecutor`).
        progress: called with the cumulative number of series finished.

    Raises ``ValueError`` on bad arguments, an unknown model, or a history frame without rows, with bad
    columns or duplicate dates, or of an unsupported frequency.
    """
    names = _check_arguments(horizon, options)
    calendar, series = prepare_history(history, options.freq, options.season)
    prepared = {p.uid: p for p in series if isinstance(p, PreparedSeries)}
    future = _future_dates(prepared, horizon, calendar)  # before any fit: a horizon too long fails at once
    run = _Run(horizon)
    to_fit = run.settle_without_fits(series)
    _warn_where_no_log(to_fit, options.transform)
    if progress and run.done:
        progress(run.done)
    shared = (calendar.season, horizon, names, options.backtest_origins, options.backtest_horizon or horizon)
    tasks = [SeriesTask(p.uid, p.y, *shared, stable_seed(options.seed, p.uid), options.transform) for p in to_fit]
    # As in the fits: extreme values overflow in scores and quantiles; what is not finite is dealt with as such.
    with np.errstate(all="ignore"):
        for fit in (executor or LocalExecutor()).map(fit_series, tasks):
            run.settle_fit(fit, prepared[fit.uid])
            if progress:
                progress(run.done)
        calibrated = calibrate_choices(run.choices, horizon)
        paths = joint_paths(prepared, calibrated, groups or {}, calendar, options.n_paths, options.seed)
        future_ds = {uid: future[uid] for uid in sorted(calibrated)}
        forecasts = _forecast_frame(prepared, calibrated, future_ds, horizon)
    status = run.status_frame()
    backtests = pd.DataFrame([astuple(s) for s in run.scores], columns=BACKTEST_COLUMNS)
    return ForecastResult(forecasts, backtests, status, paths, future_ds)


def _future_dates(
    series: Mapping[str, PreparedSeries], horizon: int, calendar: Calendar
) -> dict[str, pd.DatetimeIndex]:
    """Each series' ``horizon`` dates after its last; ``ValueError`` if they run past the last date pandas holds."""
    dates = {}
    for uid, prepared in series.items():
        try:
            dates[uid] = future_dates(prepared.last, horizon, calendar)
        except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
            raise ValueError(
                f"a horizon of {horizon} periods runs past {pd.Timestamp.max:%Y-%m-%d}, the last date the engine "
                f"can represent (series '{uid}' ends {prepared.last:%Y-%m-%d})"
            ) from exc
    return dates


def _warn_where_no_log(series: Sequence[PreparedSeries], transform: str | None) -> None:
    """Log the series that a run fixed to the log scale but that have values <= 0 (they stay on the raw one)."""
    if transform != "log":
        return
    raw = [p.uid for p in series if not np.all(p.y > 0)]
    if raw:
        shown = ", ".join(raw[:5]) + (f" and {len(raw) - 5} more" if len(raw) > 5 else "")
        log.warning(
            "the log scale was asked for, but %d series have values <= 0 and are fitted raw: %s", len(raw), shown
        )


def _check_arguments(horizon: int, options: ForecastOptions) -> tuple[str, ...]:
    """The model names to try; ``ValueError`` on a bad horizon, option or model name."""
    counts: dict[str, object] = {"horizon": horizon, "n_paths": options.n_paths}
    counts |= {"backtest_origins": options.backtest_origins, "backtest_horizon": options.backtest_horizon}
    for name, value in counts.items():  # backtest_horizon None: the horizon; prepare checks the season
        _check_whole(name, value, 1)
    _check_whole("seed", options.seed, 0)
    if horizon > MAX_HORIZON:
        raise ValueError(f"a horizon of {horizon} periods is more than the engine forecasts ({MAX_HORIZON:,})")
    names = tuple(options.models) if options.models is not None else DEFAULT_MODELS
    for name in names:
        get_model(name)
    if not names:
        raise ValueError("models must name at least one model")
    if options.transform is not None and options.transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)} or None; got {options.transform!r}")
    return names


def _check_whole(name: str, value: object, least: int) -> None:
    """``ValueError`` unless ``value`` is None or a whole number (not a bool) of at least ``least``.

    2.5 or True reached NumPy and range() as a TypeError that named no argument.
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least):
        raise ValueError(f"{name} must be a whole number >= {least}, not {value!r}")


def _forecast_frame(
    series: Mapping[str, PreparedSeries],
    forecasts: Mapping[str, CalibratedForecast],
    future_ds: Mapping[str, pd.DatetimeIndex],
    horizon: int,
) -> pd.DataFrame:
    """The published frame (FORECAST_COLUMNS): point forecasts and bounds in original units, by id and date."""
    uids = sorted(forecasts)
    if not uids:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    columns: dict[str, list[np.ndarray]] = {col: [] for col in (YHAT, *KNOTS)}
    for uid in uids:
        c, dev, y = forecasts[uid].choice, forecasts[uid].dev, series[uid].y
        columns[YHAT].append(keep_nonnegative(from_model_scale(c.mean, c.transform), y))
        for col, j in KNOTS.items():
            columns[col].append(keep_nonnegative(from_model_scale(c.mean + dev[:, j], c.transform), y))
    frame = pd.DataFrame(
        {
            UID: np.repeat(uids, horizon),
            DS: np.concatenate([future_ds[uid].to_numpy() for uid in uids]),
            MODEL: np.repeat([forecasts[uid].choice.name for uid in uids], horizon),
            **{col: np.concatenate(parts) for col, parts in columns.items()},
        }
    )
    return frame[FORECAST_COLUMNS]


def forecast_file(
    input_path: str | Path,
    output_path: str | Path,
    horizon: int,
    options: ForecastOptions = DEFAULT_OPTIONS,
    *,
    columns: tuple[str, str, str] = (UID, DS, Y),
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every series of a CSV file and write FORECAST_COLUMNS rows to ``output_path``.

    ``columns`` names the file's id, date and value columns.
    """
    raw = pd.read_csv(input_path)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"{input_path} has no column(s) {missing}; it has {list(raw.columns)}")
    id_col, date_col, value_col = columns
    history = raw[[id_col, date_col, value_col]].rename(columns={id_col: UID, date_col: DS, value_col: Y})
    history[Y] = pd.to_numeric(history[Y], errors="coerce")
    result = forecast(history, horizon, options, executor=executor, progress=progress)
    out = result.forecasts.copy()
    out[DS] = out[DS].dt.strftime("%Y-%m-%d")
    out.to_csv(output_path, index=False)
    return result


__all__ = [
    "BACKTEST_COLUMNS",
    "CORE",
    "CORE_YEARLY",
    "DEFAULT_OPTIONS",
    "DEFAULT_RULES",
    "EVERY_MODEL_FAILED",
    "KNOTS",
    "LOG_MARGIN",
    "TRANSFORMS",
    "MAX_COMBO",
    "MAX_HORIZON",
    "MIN_OBS",
    "MIN_POOL",
    "MIN_TRAIN",
    "NAIVE_MARGIN",
    "PROBE_ALPHAS",
    "P_GRID",
    "SELECT_MARGIN",
    "STATUS_COLUMNS",
    "Calendar",
    "CalibratedForecast",
    "Choice",
    "ChoiceRules",
    "ForecastOptions",
    "ForecastResult",
    "PreparedSeries",
    "Scores",
    "SeriesFit",
    "SeriesStatus",
    "SeriesTask",
    "UnusableSeries",
    "backtest_cutoffs",
    "benchmark_name",
    "calibrate_choices",
    "choose_forecaster",
    "choose_transform",
    "fallback_choice",
    "fit_series",
    "forecast",
    "forecast_file",
    "from_model_scale",
    "future_dates",
    "infer_freq",
    "interval_deviations",
    "joint_normals",
    "joint_paths",
    "keep_nonnegative",
    "normalize_freq",
    "residual_correlation",
    "score_candidate",
    "stable_seed",
    "theta_probe",
    "to_model_scale",
]
