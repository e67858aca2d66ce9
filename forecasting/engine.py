"""The forecast engine: backtest every model per series, choose or combine, calibrate, draw joint paths.

Stages (see ``docs/engine.md``):

1. per series, in parallel through an :class:`~forecasting.executors.Executor`: choose the
   scale (log or raw) by backtest, fit every model on the whole series and at rolling origins
   (:func:`fit_series`, a top-level function of plain data);
2. per series: score models and equal-weight combinations of the best ones, keep the lowest MASE;
3. across series: pool standardised backtest errors per horizon step into calibrated quantiles;
4. per group: draw joint sample paths with one set of correlated normals for all its series.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.executors import Executor, LocalExecutor
from forecasting.frames import DS, FORECAST_COLUMNS, HI80, HI95, LO80, LO95, MODEL, UID, YHAT, Y, validate_history
from forecasting.metrics import coverage, interval_score, mase_scale, smape
from forecasting.models import DEFAULT_MODELS, MODELS, get_model
from forecasting.models.base import Z80, Z95, PointForecast, single_threaded

log = logging.getLogger(__name__)

#: Fewer observations than this get the naive fallback instead of model selection.
MIN_OBS = 6
#: Fewest training points at a backtest origin.
MIN_TRAIN = 5
#: Largest number of models in an equal-weight combination.
MAX_COMBO = 3
#: Models whose equal-weight mean is the default choice for seasonal (quarterly, monthly) series.
CORE = ("ets", "arima", "theta", "prophet")
#: Models whose median is the default choice for yearly series. Compared on the yearly sets of M1,
#: M3 and Tourism, the median of these five beat the mean of ``CORE`` on all three; on the quarterly
#: sets the same change lost accuracy (docs/engine.md).
CORE_YEARLY = ("ets", "arima", "theta", "dotm", "drift", "prophet")
#: A candidate replaces the core combination only when its backtest MASE is this much lower
#: (tuned on M3: selecting on a few noisy origins loses accuracy, see docs/engine.md).
SELECT_MARGIN = 0.75
#: The log scale is chosen only when the probe's backtest error on it is this much lower than on the
#: raw scale (tuned on M3: a log fit that merely ties extrapolates growth too boldly, see docs/engine.md).
LOG_MARGIN = 0.3
#: Smoothing weights the transform probe's simple exponential smoothing chooses from.
PROBE_ALPHAS = np.linspace(0.05, 1.0, 20)
#: Standardised errors wanted per horizon step before the calibration stops widening its window.
MIN_POOL = 150
#: Probability grid on which calibrated quantile functions are stored (includes the interval knots).
P_GRID = np.unique(np.concatenate([np.linspace(0.001, 0.999, 221), [0.025, 0.1, 0.5, 0.9, 0.975]]))
_KNOTS = {name: int(np.searchsorted(P_GRID, p)) for name, p in [(LO95, 0.025), (LO80, 0.1), (HI80, 0.9), (HI95, 0.975)]}
_SEASON = {"Y": 1, "Q": 4, "M": 12}
_MONTHS = {"Y": 12, "Q": 3, "M": 1}
_FREQ_ALIASES = {
    "Y": "Y", "A": "Y", "YS": "Y", "YE": "Y", "AS": "Y", "YEARLY": "Y", "ANNUAL": "Y",
    "Q": "Q", "QS": "Q", "QE": "Q", "QUARTERLY": "Q",
    "M": "M", "MS": "M", "ME": "M", "MONTHLY": "M",
}  # fmt: skip
#: Start of the status message of a series on which every model raised (it gets the naive fallback).
EVERY_MODEL_FAILED = "every model failed"
BACKTEST_COLUMNS = [UID, MODEL, "mase", "smape", "coverage_80", "coverage_95", "interval_score", "chosen"]
STATUS_COLUMNS = [UID, "status", MODEL, "message"]


@dataclass(frozen=True)
class ForecastResult:
    """A run's output: forecasts (FORECAST_COLUMNS), backtest scores, per-series status, joint paths."""

    forecasts: pd.DataFrame
    backtests: pd.DataFrame
    status: pd.DataFrame
    paths: dict[str, np.ndarray]
    future_ds: dict[str, pd.DatetimeIndex]


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
class _Choice:
    """The chosen forecaster of one series, on the model scale, ready for calibration."""

    name: str
    transform: str
    mean: np.ndarray
    sigma: np.ndarray
    u: np.ndarray  # standardised backtest errors, (origins, backtest steps), NaN where missing


@dataclass(frozen=True)
class _Prepared:
    uid: str
    y: np.ndarray
    last: pd.Timestamp
    status: str
    message: str


# --------------------------------------------------------------------------- per series


def stable_seed(seed: int, key: str) -> int:
    """A 32-bit seed from the run seed and a key, stable across processes (unlike ``hash``)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([seed, digest]).generate_state(1)[0])


def _cutoffs(n: int, origins: int, steps: int) -> np.ndarray:
    cuts = [n - steps - j for j in range(origins)]
    cuts = [c for c in cuts if c >= MIN_TRAIN]
    if not cuts:
        # Short series: origins near the end with whatever steps remain.
        cuts = [c for c in range(n - 1, max(MIN_TRAIN, n - origins) - 1, -1)]
    return np.array(sorted(cuts), dtype=int)


def _to_model(y: np.ndarray, transform: str) -> np.ndarray:
    return np.log(y) if transform == "log" else y


def _from_model(z: np.ndarray, transform: str) -> np.ndarray:
    return np.exp(np.clip(z, -700, 700)) if transform == "log" else z


def _backtest(
    name: str, z: np.ndarray, task: SeriesTask, cutoffs: np.ndarray, spec: object
) -> tuple[np.ndarray, np.ndarray]:
    model = MODELS[name]()
    h = task.backtest_horizon
    mean = np.full((len(cutoffs), h), np.nan)
    sigma = np.full((len(cutoffs), h), np.nan)
    first = 0 if model.max_origins is None else max(len(cutoffs) - model.max_origins, 0)
    for i in range(first, len(cutoffs)):
        cut = int(cutoffs[i])
        if cut < model.min_length:
            continue
        try:
            pf = model.fit_predict(z[:cut], h, task.season, spec)
        except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
            log.debug("%s: %s failed at origin %d: %s", task.uid, name, cut, exc)
            continue
        mean[i], sigma[i] = pf.mean, pf.sigma
    return mean, sigma


def theta_probe(x: np.ndarray, steps: int) -> np.ndarray:
    """Standard Theta (theta = 2) point forecasts: SES with the best grid weight plus half the OLS drift.

    A fast stand-in for the registered ``theta`` model (within about 1e-4 of statsmodels' forecasts
    when its weight lies on the grid), used only to choose the transform: a few hundred microseconds
    against about 25 ms for a statsmodels fit.
    """
    n = len(x)
    drift = np.polyfit(np.arange(n), x, 1)[0] if n > 1 else 0.0
    level = np.full(len(PROBE_ALPHAS), float(x[0]))
    sse = np.zeros(len(PROBE_ALPHAS))
    for v in x[1:]:
        err = v - level
        sse += err * err
        level += PROBE_ALPHAS * err
    best = int(np.argmin(sse))
    a, k = PROBE_ALPHAS[best], np.arange(1, steps + 1)
    return level[best] + 0.5 * drift * ((k - 1) + 1 / a - (1 - a) ** n / a)


def _probe_error(z: np.ndarray, cutoffs: np.ndarray, actual: np.ndarray, scales: np.ndarray, transform: str) -> float:
    mean = np.array([theta_probe(z[:cut], actual.shape[1]) for cut in cutoffs])
    return _scaled_error(mean, actual, scales, transform)


def choose_transform(y: np.ndarray, cutoffs: np.ndarray, actual: np.ndarray, scales: np.ndarray) -> str:
    """'log' when the Theta probe's backtest error on the log scale beats the raw scale's by LOG_MARGIN, else 'none'."""
    if not np.all(y > 0):
        return "none"
    on_log = _probe_error(np.log(y), cutoffs, actual, scales, "log")
    on_raw = _probe_error(y, cutoffs, actual, scales, "none")
    return "log" if on_log < (1 - LOG_MARGIN) * on_raw else "none"


def _scaled_error(bt_mean: np.ndarray, actual: np.ndarray, scales: np.ndarray, transform: str) -> float:
    err = np.abs(_from_model(bt_mean, transform) - actual) / scales[:, None]
    return float(np.nanmean(err)) if np.isfinite(err).any() else np.inf


def fit_series(task: SeriesTask) -> SeriesFit:
    """Choose the scale, then fit every model of ``task`` on the whole series and at each origin."""
    with single_threaded():  # several workers each with multi-threaded BLAS would fight for the cores
        return _fit_series(task)


def _fit_series(task: SeriesTask) -> SeriesFit:
    y, h = task.y, task.backtest_horizon
    cutoffs = _cutoffs(len(y), task.origins, h)
    actual = np.full((len(cutoffs), h), np.nan)
    for i, cut in enumerate(cutoffs):
        seg = y[cut : cut + h]
        actual[i, : len(seg)] = seg
    scales = np.array([mase_scale(y[:c], task.season) for c in cutoffs])
    transform = choose_transform(y, cutoffs, actual, scales)
    z = _to_model(y, transform)
    final: dict[str, PointForecast] = {}
    bt_mean: dict[str, np.ndarray] = {}
    bt_sigma: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}
    for name in task.models:
        model = MODELS[name]()
        if len(z) < model.min_length:
            failures[name] = f"needs {model.min_length} observations, has {len(z)}"
            continue
        try:
            spec = model.select(z, task.season)
            pf = model.fit_predict(z, task.horizon, task.season, spec)
        except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
            failures[name] = str(exc)
            continue
        if not (np.all(np.isfinite(pf.mean)) and np.all(np.isfinite(pf.sigma))):
            failures[name] = "non-finite forecast"
            continue
        final[name] = pf
        bt_mean[name], bt_sigma[name] = _backtest(name, z, task, cutoffs, spec)
    return SeriesFit(task.uid, transform, final, cutoffs, bt_mean, bt_sigma, actual, scales, task.season, failures)


# --------------------------------------------------------------------------- selection


def _score(uid: str, name: str, fit: SeriesFit, mean: np.ndarray, sigma: np.ndarray) -> dict[str, object]:
    t = fit.transform
    pred = _from_model(mean, t)
    rows = np.isfinite(mean).any(axis=1) & np.isfinite(fit.actual).any(axis=1)
    a, p, s = fit.actual[rows], pred[rows], fit.scales[rows]
    bounds = {z: (_from_model(mean - z * sigma, t)[rows], _from_model(mean + z * sigma, t)[rows]) for z in (Z80, Z95)}
    ok = np.isfinite(a) & np.isfinite(p)
    return {
        UID: uid,
        MODEL: name,
        "mase": float(np.nanmean(np.abs(a - p) / s[:, None])) if ok.any() else np.nan,
        "smape": smape(a[ok], p[ok]) if ok.any() else np.nan,
        "coverage_80": coverage(a[ok], bounds[Z80][0][ok], bounds[Z80][1][ok]) if ok.any() else np.nan,
        "coverage_95": coverage(a[ok], bounds[Z95][0][ok], bounds[Z95][1][ok]) if ok.any() else np.nan,
        "interval_score": float(np.nanmean([
            interval_score(a[i], bounds[Z95][0][i], bounds[Z95][1][i], 0.95, s[i])
            for i in range(len(a)) if ok[i].any()
        ])) if ok.any() else np.nan,
        "chosen": False,
    }  # fmt: skip


def _choose(fit: SeriesFit) -> tuple[_Choice, list[dict[str, object]]]:
    """Score singles, combinations of the best ones and the core combination; keep the core unless beaten clearly."""
    order = list(fit.final)
    cands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {
        n: (fit.final[n].mean, fit.final[n].sigma, fit.bt_mean[n], fit.bt_sigma[n]) for n in order
    }
    rows = [_score(fit.uid, n, fit, c[2], c[3]) for n, c in cands.items()]

    def add(name: str, members: list[str], centre: Callable[..., np.ndarray]) -> None:
        # On the model scale (on the log scale, a geometric mean or median in original units). The
        # combined sd is the mean member sd, which calibration then rescales.
        stack = [cands[m] for m in members]
        mean, bt_mean = (centre([c[i] for c in stack], axis=0) for i in (0, 2))
        sigma, bt_sigma = (np.mean([c[i] for c in stack], axis=0) for i in (1, 3))
        cands[name] = (mean, sigma, bt_mean, bt_sigma)
        rows.append(_score(fit.uid, name, fit, bt_mean, bt_sigma))

    ranked = sorted((r for r in rows if np.isfinite(r["mase"])), key=lambda r: (r["mase"], order.index(r[MODEL])))
    for k in range(2, MAX_COMBO + 1):
        members = sorted((str(r[MODEL]) for r in ranked[:k]), key=order.index)
        name = f"combo({','.join(members)})"
        if len(members) == k and name not in cands:
            add(name, members, np.mean)
    yearly = fit.season == 1
    core = [m for m in order if m in (CORE_YEARLY if yearly else CORE)]
    default = core[0] if len(core) == 1 else None
    if len(core) >= 2:
        default = f"{'median' if yearly else 'combo'}({','.join(core)})"
        if default not in cands:
            add(default, core, np.median if yearly else np.mean)
    scored = {str(r[MODEL]): float(r["mase"]) for r in rows if np.isfinite(r["mase"])}
    if scored:
        best = min(scored, key=lambda n: (scored[n], n in fit.final))
        # Backtests of a few origins are noisy: the core combination stays unless another
        # candidate beats it clearly (selection on noise loses accuracy out of sample).
        keep = default in scored and scored[best] >= (1 - SELECT_MARGIN) * scored[default]
        chosen = default if keep else best
    else:
        chosen = default if default in cands else order[0]
    for r in rows:
        r["chosen"] = r[MODEL] == chosen
    mean, sigma, bt_m, bt_s = cands[chosen]
    z_actual = _to_model(np.where(np.isfinite(fit.actual), fit.actual, 1.0), fit.transform)
    z_actual = np.where(np.isfinite(fit.actual), z_actual, np.nan)
    # Errors are standardised by the geometric mean of the sd the model gave at the origin and
    # the final fit's sd at the same step. The origin's alone comes from a shorter, noisier fit
    # and makes the pooled quantiles heavy-tailed (M3 yearly: 80% intervals covered 87%); the
    # final fit's alone ignores what the model expected then (76%). See docs/engine.md.
    steps = bt_s.shape[1]
    final = np.concatenate([sigma, np.repeat(sigma[-1:], max(steps - len(sigma), 0))])[:steps]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(bt_s * final[None, :])
        u = np.where(scale > 0, (z_actual - bt_m) / scale, np.nan)
    return _Choice(chosen, fit.transform, mean, sigma, u), rows


# --------------------------------------------------------------------------- calibration


def calibrate(choices: Sequence[_Choice], horizon: int) -> np.ndarray:
    """Per-step quantile functions (horizon, len(P_GRID)) of pooled standardised backtest errors.

    Step k pools the errors of steps k-w..k+w, widening w until ``MIN_POOL`` errors are in;
    steps past the backtest horizon reuse the last one (the model sd carries the growth).
    Falls back to standard normal quantiles when no series has backtest errors.
    """
    normal = stats.norm.ppf(P_GRID)
    steps = max((c.u.shape[1] for c in choices if c.u.size), default=0)
    if steps == 0:
        return np.tile(normal, (horizon, 1))
    by_step = [np.concatenate([c.u[:, k] for c in choices if c.u.shape[1] > k]) for k in range(steps)]
    by_step = [v[np.isfinite(v)] for v in by_step]
    # Symmetrised (each error also counted with its sign flipped): with a few hundred errors
    # the tails of a signed pool are too noisy, and the point forecast stays the centre.
    by_step = [np.concatenate([v, -v]) for v in by_step]
    if sum(len(v) for v in by_step) < 10:
        return np.tile(normal, (horizon, 1))
    q = np.empty((steps, len(P_GRID)))
    for k in range(steps):
        w = 0
        pool = by_step[k]
        while len(pool) < MIN_POOL and w < steps:
            w += 1
            pool = np.concatenate(by_step[max(k - w, 0) : k + w + 1])
        q[k] = np.quantile(pool, P_GRID)
    return np.vstack([q, np.tile(q[-1], (max(horizon - steps, 0), 1))])[:horizon]


def _deviations(sigma: np.ndarray, quant: np.ndarray) -> np.ndarray:
    """Model-scale deviations from the point forecast, (horizon, P): bounds bracket it and widen with h."""
    dev = sigma[:, None] * quant
    lower, upper = P_GRID < 0.5, P_GRID > 0.5
    dev[:, lower] = np.minimum.accumulate(np.minimum(dev[:, lower], 0.0), axis=0)
    dev[:, upper] = np.maximum.accumulate(np.maximum(dev[:, upper], 0.0), axis=0)
    return np.sort(dev, axis=1)


# --------------------------------------------------------------------------- joint paths


def _innovations(y: np.ndarray, transform: str, season: int) -> np.ndarray:
    d = np.diff(_to_model(y, transform))
    if season > 1 and len(d) >= 2 * season:
        pos = np.arange(len(d)) % season
        means = np.array([d[pos == s].mean() for s in range(season)])
        return d - means[pos]
    return d - d.mean() if len(d) else d


def residual_correlation(residuals: Mapping[str, pd.Series], min_overlap: int = 8) -> np.ndarray:
    """Correlation of aligned residual series (0 where fewer than ``min_overlap`` shared dates), made PSD."""
    keys = list(residuals)
    frame = pd.DataFrame({k: residuals[k] for k in keys})
    corr = frame.corr(min_periods=min_overlap).reindex(index=keys, columns=keys).to_numpy(dtype=float)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    vals, vecs = np.linalg.eigh(corr)
    corr = (vecs * np.clip(vals, 1e-6, None)) @ vecs.T
    d = np.sqrt(np.diag(corr))
    return corr / np.outer(d, d)


def joint_normals(corr: np.ndarray, n_paths: int, horizon: int, seed: int) -> np.ndarray:
    """(n_series, n_paths, horizon) N(0,1) draws, correlated across series and random-walk-like over steps."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(corr)
    eps = rng.standard_normal((n_paths, horizon, len(corr))) @ chol.T
    w = np.cumsum(eps, axis=1) / np.sqrt(np.arange(1, horizon + 1))[None, :, None]
    return np.moveaxis(w, 2, 0)


# --------------------------------------------------------------------------- public API


def normalize_freq(freq: str) -> str:
    """'Y', 'Q' or 'M' from a pandas alias or a word ('quarterly'); ``ValueError`` otherwise."""
    code = _FREQ_ALIASES.get(freq.strip().upper().split("-")[0])
    if code is None:
        raise ValueError(f"unsupported freq '{freq}'; use yearly (Y), quarterly (Q) or monthly (M)")
    return code


def infer_freq(ds: pd.Series | pd.DatetimeIndex) -> str:
    """'Y', 'Q' or 'M' from the most common month step between consecutive dates of each series."""
    idx = pd.DatetimeIndex(ds).sort_values().unique()
    months = np.diff(idx.year * 12 + idx.month)
    months = months[months > 0]
    if len(months) == 0:
        raise ValueError("cannot infer the frequency from fewer than two distinct dates; pass freq")
    step = int(pd.Series(months).mode().iloc[0])
    code = {12: "Y", 3: "Q", 1: "M"}.get(step)
    if code is None:
        raise ValueError(f"dates are {step} months apart; only yearly, quarterly or monthly data is supported")
    return code


def _future(last: pd.Timestamp, horizon: int, code: str, month_end: bool) -> pd.DatetimeIndex:
    step = _MONTHS[code]
    if month_end:
        return pd.DatetimeIndex([last + pd.offsets.MonthEnd(step * k) for k in range(1, horizon + 1)])
    return pd.DatetimeIndex([last + pd.DateOffset(months=step * k) for k in range(1, horizon + 1)])


def _prepare(uid: str, ds: np.ndarray, months: np.ndarray, y: np.ndarray, code: str) -> _Prepared:
    """Drop missing values, fill missing periods by (log-)linear interpolation, flag degenerate series.

    ``ds``, ``months`` (year * 12 + month) and ``y`` are one series' rows in date order.
    """
    finite = np.isfinite(y)
    ds, months, y = ds[finite], months[finite], y[finite]
    if len(y) == 0:
        return _Prepared(uid, np.array([]), pd.NaT, "failed", "no finite values")
    pos = (months - months[0]) / _MONTHS[code]
    if np.any(pos != np.round(pos)):
        return _Prepared(uid, np.array([]), pd.NaT, "failed", f"dates are not on a regular {code} grid")
    pos = pos.astype(int)
    last = pd.Timestamp(ds[-1])
    full = np.arange(pos[-1] + 1)
    status, notes = "ok", []
    if len(full) > len(pos):
        positive = np.all(y > 0)
        filled = np.interp(full, pos, np.log(y) if positive else y)
        y = np.exp(filled) if positive else filled
        status = "fallback"
        notes.append(
            f"filled {len(full) - len(pos)} missing period(s) by {'log-' if positive else ''}linear interpolation"
        )
    return _Prepared(uid, y, last, status, "; ".join(notes))


def _fallback_choice(y: np.ndarray, horizon: int) -> tuple[str, _Choice, str]:
    """Short series (< MIN_OBS): naive with Gaussian intervals; constant or all-zero: flat, zero-width."""
    k = np.arange(1, horizon + 1)
    empty = np.empty((0, 0))
    if len(y) >= MIN_OBS and np.ptp(y) == 0:
        flat = _Choice("constant", "none", np.full(horizon, y[-1]), np.zeros(horizon), empty)
        what = "all-zero series" if y[-1] == 0 else f"constant series ({y[-1]:g})"
        return "constant", flat, f"{what}: flat forecast with zero-width intervals"
    transform = "log" if np.all(y > 0) else "none"
    z = _to_model(y, transform)
    s = float(np.sqrt(np.mean(np.diff(z) ** 2))) if len(z) >= 3 else 0.1 * max(abs(z[-1]), 1e-9)
    if transform == "log" and len(z) < 3:
        s = 0.1  # about 10% of the level per step
    msg = "naive forecast with Gaussian intervals"
    if len(y) < MIN_OBS:
        msg = f"too short: only {len(y)} observation(s) (< {MIN_OBS}): {msg}"
    return "naive", _Choice("naive", transform, np.full(horizon, z[-1]), s * np.sqrt(k), empty), msg


def forecast(
    history: pd.DataFrame,
    horizon: int,
    *,
    freq: str | None = None,
    models: Sequence[str] | None = None,
    groups: Mapping[str, str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    backtest_origins: int = 4,
    backtest_horizon: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every series of a long history frame (unique_id, ds, y) ``horizon`` periods ahead.

    Args:
        freq: 'Y', 'Q' or 'M' (or a pandas alias); inferred from the dates when None.
        models: registered model names to choose from (default :data:`DEFAULT_MODELS`).
        groups: unique_id -> group key; series of one group get jointly drawn paths.
        backtest_horizon: steps scored per origin (default ``horizon``).
        progress: called with the cumulative number of series finished.
    """
    if horizon < 1 or n_paths < 1 or backtest_origins < 1:
        raise ValueError("horizon, n_paths and backtest_origins must be >= 1")
    names = tuple(models) if models is not None else DEFAULT_MODELS
    for name in names:
        get_model(name)
    if not names:
        raise ValueError("models must name at least one model")
    hist = validate_history(history)
    if hist.empty:
        raise ValueError("history has no rows")
    code = normalize_freq(freq) if freq else infer_freq(hist[DS])
    season, bt_h = _SEASON[code], backtest_horizon or horizon
    if bt_h < 1:
        raise ValueError("backtest_horizon must be >= 1")
    month_end = bool(hist[DS].dt.is_month_end.all())

    hist = hist.assign(**{UID: hist[UID].astype(str)}).sort_values([UID, DS], ignore_index=True)
    ids = hist[UID].to_numpy()
    dates = hist[DS].to_numpy()
    months = (hist[DS].dt.year * 12 + hist[DS].dt.month).to_numpy()
    values = hist[Y].to_numpy(dtype=float)
    uids, starts = np.unique(ids, return_index=True)
    bounds = [*starts[1:], len(ids)]
    prepared = [
        _prepare(uid, dates[a:b], months[a:b], values[a:b], code)
        for uid, a, b in zip(uids, starts, bounds, strict=True)
    ]
    choices: dict[str, _Choice] = {}
    status: dict[str, tuple[str, str, str]] = {}
    rows: list[dict[str, object]] = []
    tasks = []
    done = 0
    for p in prepared:
        if p.status == "failed":
            status[p.uid] = ("failed", "", p.message)
        elif len(p.y) < MIN_OBS or np.ptp(p.y) == 0:
            name, choices[p.uid], msg = _fallback_choice(p.y, horizon)
            status[p.uid] = ("fallback", name, "; ".join(m for m in (p.message, msg) if m))
        else:
            tasks.append(
                SeriesTask(p.uid, p.y, season, horizon, names, backtest_origins, bt_h, stable_seed(seed, p.uid))
            )
            continue
        done += 1
    if progress and done:
        progress(done)
    by_uid = {p.uid: p for p in prepared}
    for fit in (executor or LocalExecutor()).map(fit_series, tasks):
        if not fit.final:
            name, choices[fit.uid], msg = _fallback_choice(by_uid[fit.uid].y, horizon)
            status[fit.uid] = ("fallback", name, f"{EVERY_MODEL_FAILED} ({fit.failures}); {msg}")
        else:
            choices[fit.uid], series_rows = _choose(fit)
            rows.extend(series_rows)
            p = by_uid[fit.uid]
            notes = [p.message] + [f"{m} skipped: {why}" for m, why in fit.failures.items()]
            status[fit.uid] = (p.status, choices[fit.uid].name, "; ".join(n for n in notes if n))
        done += 1
        if progress:
            progress(done)

    quant = calibrate([c for c in choices.values() if c.u.size], horizon)
    out = _assemble(by_uid, choices, quant, horizon, code, month_end, season, groups or {}, n_paths, seed)
    for uid, (st, _, msg) in status.items():
        if st != "ok":
            log.warning("series %s: %s: %s", uid, st, msg)
    status_df = pd.DataFrame([(u, *status[u]) for u in sorted(status)], columns=STATUS_COLUMNS)
    backtests = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    return ForecastResult(out[0], backtests, status_df, out[1], out[2])


def _assemble(
    prepared: Mapping[str, _Prepared],
    choices: Mapping[str, _Choice],
    quant: np.ndarray,
    horizon: int,
    code: str,
    month_end: bool,
    season: int,
    groups: Mapping[str, str],
    n_paths: int,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, pd.DatetimeIndex]]:
    """Bounds from the calibrated deviations, and joint paths drawn group by group."""
    normal = np.tile(stats.norm.ppf(P_GRID), (horizon, 1))
    devs = {uid: _deviations(c.sigma, quant if c.u.size else normal) for uid, c in choices.items()}
    members: dict[str, list[str]] = {}
    for uid in sorted(choices):
        members.setdefault(groups.get(uid, f"\x00{uid}"), []).append(uid)
    paths: dict[str, np.ndarray] = {}
    for key in sorted(members):
        uids = members[key]
        resid = {}
        for uid in uids:
            p = prepared[uid]
            r = _innovations(p.y, choices[uid].transform, season)
            # Aligned on months since year 0: the series of a group share the frequency.
            months = p.last.year * 12 + p.last.month + _MONTHS[code] * np.arange(-len(r) + 1, 1)
            resid[uid] = pd.Series(r, index=months)
        corr = residual_correlation(resid) if len(uids) > 1 else np.ones((1, 1))
        w = joint_normals(corr, n_paths, horizon, stable_seed(seed, key))
        u = stats.norm.cdf(w)
        for i, uid in enumerate(uids):
            c, dev = choices[uid], devs[uid]
            z = np.empty((n_paths, horizon))
            for k in range(horizon):
                z[:, k] = c.mean[k] + np.interp(u[i, :, k], P_GRID, dev[k])
            paths[uid] = _finish(_from_model(z, c.transform), prepared[uid].y)
    uids = sorted(choices)
    future_ds = {uid: _future(prepared[uid].last, horizon, code, month_end) for uid in uids}
    columns: dict[str, list[np.ndarray]] = {col: [] for col in (YHAT, *_KNOTS)}
    for uid in uids:
        c, dev, y = choices[uid], devs[uid], prepared[uid].y
        columns[YHAT].append(_finish(_from_model(c.mean, c.transform), y))
        for col, j in _KNOTS.items():
            columns[col].append(_finish(_from_model(c.mean + dev[:, j], c.transform), y))
    if not uids:
        return pd.DataFrame(columns=FORECAST_COLUMNS), paths, future_ds
    forecasts = pd.DataFrame({
        UID: np.repeat(uids, horizon),
        DS: np.concatenate([future_ds[uid].to_numpy() for uid in uids]),
        MODEL: np.repeat([choices[uid].name for uid in uids], horizon),
        **{col: np.concatenate(parts) for col, parts in columns.items()},
    })  # fmt: skip
    return forecasts[FORECAST_COLUMNS], paths, future_ds


def _finish(values: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Keep forecasts of non-negative series non-negative (spend cannot go below zero)."""
    return np.maximum(values, 0.0) if np.all(y >= 0) else values


def forecast_file(
    input_path: str | Path,
    output_path: str | Path,
    horizon: int,
    id_col: str = UID,
    date_col: str = DS,
    value_col: str = Y,
    freq: str | None = None,
    *,
    models: Sequence[str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    backtest_origins: int = 4,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every series of a CSV file and write FORECAST_COLUMNS rows to ``output_path``."""
    raw = pd.read_csv(input_path)
    missing = [c for c in (id_col, date_col, value_col) if c not in raw.columns]
    if missing:
        raise ValueError(f"{input_path} has no column(s) {missing}; it has {list(raw.columns)}")
    history = raw[[id_col, date_col, value_col]].rename(columns={id_col: UID, date_col: DS, value_col: Y})
    history[Y] = pd.to_numeric(history[Y], errors="coerce")
    result = forecast(
        history, horizon, freq=freq, models=models, n_paths=n_paths, seed=seed,
        backtest_origins=backtest_origins, executor=executor, progress=progress,
    )  # fmt: skip
    out = result.forecasts.copy()
    out[DS] = out[DS].dt.strftime("%Y-%m-%d")
    out.to_csv(output_path, index=False)
    return result
