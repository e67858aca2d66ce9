"""Stage 1, preparation: the data's frequency, per-series cleaning, and the log or raw scale.

Yearly, quarterly and monthly dates step by months; weekly and daily dates by days (seasons of 52 and
7 periods). A history frame is validated and split into one :class:`PreparedSeries` per id: missing values
dropped, missing periods filled by (log-)linear interpolation, or the series set aside as an
:class:`UnusableSeries` when nothing can be forecast from it. :func:`choose_transform` decides,
per series, whether the models fit the log or the raw values (a Theta probe backtested on both).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.frames import DS, FREQUENCIES, PERIOD_MONTHS, UID, Y, detect_frequency, validate_history
from forecasting.models.theta import ses_fit

#: Fewer observations than this get the naive fallback instead of model selection.
MIN_OBS = 6
#: The log scale is chosen only when the probe's backtest error on it is this much lower than on the
#: raw scale (tuned on M3: a log fit that merely ties extrapolates growth too boldly, see docs/engine.md).
LOG_MARGIN = 0.3
#: Scales a caller may fix for every series instead of the probe's choice (``ForecastOptions.transform``).
TRANSFORMS = ("log", "none")
#: Smoothing weights the transform probe's simple exponential smoothing chooses from.
PROBE_ALPHAS = np.linspace(0.05, 1.0, 20)
#: Seasonal period of each frequency code.
SEASON = {code: season for code, (_, season, _) in FREQUENCIES.items()}
#: Days per step of the frequencies whose dates step by days.
STEP_DAYS = {"W": 7, "D": 1}
#: Longest season length a caller may set (a year of days in a weekly cycle's terms: 366 periods).
MAX_SEASON = 366
_FREQ_ALIASES = {
    "Y": "Y",
    "A": "Y",
    "YS": "Y",
    "YE": "Y",
    "AS": "Y",
    "YEARLY": "Y",
    "ANNUAL": "Y",
    "Q": "Q",
    "QS": "Q",
    "QE": "Q",
    "QUARTERLY": "Q",
    "M": "M",
    "MS": "M",
    "ME": "M",
    "MONTHLY": "M",
    "W": "W",
    "WEEKLY": "W",
    "D": "D",
    "DAILY": "D",
}


@dataclass(frozen=True)
class Calendar:
    """The frequency of a run's series, whether their dates fall on month ends, and the season length.

    ``season_length`` overrides the frequency's usual season (:data:`SEASON`), e.g. 7 for weekly
    data with a cycle of seven weeks; None keeps it.
    """

    code: str
    month_end: bool
    season_length: int | None = None

    @property
    def season(self) -> int:
        """Periods per seasonal cycle (1 for yearly data)."""
        return self.season_length or SEASON[self.code]

    def ordinals(self, ds: pd.DatetimeIndex) -> np.ndarray:
        """Dates as integers that grow by one step per period (months or days since year 1970, / step)."""
        if self.code in STEP_DAYS:
            return _wall_days(ds) // STEP_DAYS[self.code]
        return np.asarray(ds.year * 12 + ds.month - 1, dtype=np.int64) // PERIOD_MONTHS[self.code]

    def exact(self, ds: pd.DatetimeIndex) -> np.ndarray:
        """Whether each date lies on the frequency's grid (ordinals are then exact, not rounded down)."""
        if self.code in STEP_DAYS:
            days = _wall_days(ds)
            return np.ones(len(ds), dtype=bool) if len(days) == 0 else (days - days[0]) % STEP_DAYS[self.code] == 0
        months = np.asarray(ds.year * 12 + ds.month, dtype=np.int64)
        return (months - months[0]) % PERIOD_MONTHS[self.code] == 0 if len(months) else np.ones(0, dtype=bool)


def _wall_days(ds: pd.DatetimeIndex) -> np.ndarray:
    """Days since 1970-01-01 of the dates as their clocks show them (a time zone's own calendar days)."""
    local = ds.tz_localize(None) if ds.tz is not None else ds
    return local.to_numpy().astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class PreparedSeries:
    """One series ready to fit: regular, gap-free values in original units and its last date.

    ``status`` is 'ok', or 'fallback' when periods had to be filled (``message`` says how many).
    """

    uid: str
    y: np.ndarray
    last: pd.Timestamp
    status: str
    message: str


@dataclass(frozen=True)
class UnusableSeries:
    """A series nothing can be forecast from (no finite value, or dates off the frequency's grid)."""

    uid: str
    message: str


# --------------------------------------------------------------------------- frequency


def normalize_freq(freq: str) -> str:
    """'Y', 'Q', 'M', 'W' or 'D' from a pandas alias or a word ('quarterly'); ``ValueError`` otherwise."""
    code = _FREQ_ALIASES.get(freq.strip().upper().split("-")[0])
    if code is None:
        raise ValueError(
            f"unsupported freq '{freq}'; use yearly (Y), quarterly (Q), monthly (M), weekly (W) or daily (D)"
        )
    return code


def infer_freq(ds: pd.Series | pd.DatetimeIndex) -> str:
    """'Y', 'Q', 'M', 'W' or 'D' read from the distinct dates in ``ds`` as one series' dates.

    The reading is :func:`forecasting.frames.detect_frequency`'s (the engine reads a frame passed
    without a frequency with it, series by series).
    """
    dates = pd.DatetimeIndex(ds).unique()
    return detect_frequency(pd.DataFrame({UID: np.zeros(len(dates), dtype=np.int64), DS: dates}))


def future_dates(last: pd.Timestamp, horizon: int, calendar: Calendar) -> pd.DatetimeIndex:
    """The ``horizon`` dates after ``last``, on month ends when the history's dates all were.

    Days are calendar days, so dates with a time zone keep their time of day across a clock change.
    """
    if calendar.code in STEP_DAYS:
        return pd.DatetimeIndex(
            [last + pd.DateOffset(days=STEP_DAYS[calendar.code] * k) for k in range(1, horizon + 1)]
        )
    step = PERIOD_MONTHS[calendar.code]
    if calendar.month_end:
        return pd.DatetimeIndex([last + pd.offsets.MonthEnd(step * k) for k in range(1, horizon + 1)])
    return pd.DatetimeIndex([last + pd.DateOffset(months=step * k) for k in range(1, horizon + 1)])


# --------------------------------------------------------------------------- per series


def prepare_history(
    history: pd.DataFrame, freq: str | None, season: int | None = None
) -> tuple[Calendar, list[PreparedSeries | UnusableSeries]]:
    """Validate a long history frame and prepare each of its series, in id order.

    ``freq`` is a frequency alias or word; None infers it from the dates. ``season`` overrides the
    frequency's season length (None keeps it). Raises ``ValueError`` on a frame without rows or with
    bad columns, duplicate dates, an unsupported frequency or a season length outside 1..MAX_SEASON.
    """
    whole = isinstance(season, numbers.Integral) and not isinstance(season, bool)
    if season is not None and not (whole and 1 <= season <= MAX_SEASON):
        raise ValueError(f"season length must be a whole number between 1 and {MAX_SEASON}, got {season!r}")
    hist = validate_history(history)
    if hist.empty:
        raise ValueError("history has no rows")
    code = normalize_freq(freq) if freq else detect_frequency(hist)
    calendar = Calendar(code, bool(hist[DS].dt.is_month_end.all()), season)
    hist = hist.assign(**{UID: hist[UID].astype(str)}).sort_values([UID, DS], ignore_index=True)
    ids = hist[UID].to_numpy()
    dates = pd.DatetimeIndex(hist[DS])
    values = hist[Y].to_numpy(dtype=float)
    uids, starts = np.unique(ids, return_index=True)
    bounds = [*starts[1:], len(ids)]
    series = [
        prepare_series(uid, dates[a:b], values[a:b], calendar) for uid, a, b in zip(uids, starts, bounds, strict=True)
    ]
    return calendar, series


def prepare_series(
    uid: str, ds: pd.DatetimeIndex, y: np.ndarray, calendar: Calendar
) -> PreparedSeries | UnusableSeries:
    """Drop missing values, fill missing periods by (log-)linear interpolation, flag unusable series.

    ``ds`` and ``y`` are one series' rows in date order.
    """
    finite = np.isfinite(y)
    ds, y = ds[finite], y[finite]
    if len(y) == 0:
        return UnusableSeries(uid, "no finite values")
    if not np.all(calendar.exact(ds)):
        return UnusableSeries(uid, f"dates are not on a regular {calendar.code} grid")
    ordinals = calendar.ordinals(ds)
    pos = ordinals - ordinals[0]
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
    return PreparedSeries(uid, y, last, status, "; ".join(notes))


# --------------------------------------------------------------------------- the transform


def to_model_scale(y: np.ndarray, transform: str) -> np.ndarray:
    """Values on the scale the models fit: their log for the 'log' transform, else unchanged."""
    return np.log(y) if transform == "log" else y


def from_model_scale(z: np.ndarray, transform: str) -> np.ndarray:
    """Model-scale values back in original units (``exp``, clipped against overflow, for 'log')."""
    return np.exp(np.clip(z, -700, 700)) if transform == "log" else z


def keep_nonnegative(values: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Keep forecasts of non-negative series non-negative (spend cannot go below zero)."""
    return np.maximum(values, 0.0) if np.all(y >= 0) else values


def theta_probe(x: np.ndarray, steps: int) -> np.ndarray:
    """Standard Theta (theta = 2) point forecasts: SES with the best grid weight plus half the OLS drift.

    A fast stand-in for the registered ``theta`` model (within about 1e-4 of statsmodels' forecasts
    when its weight lies on the grid), used only to choose the transform: a few hundred microseconds
    against about 25 ms for a statsmodels fit.
    """
    n = len(x)
    drift = np.polyfit(np.arange(n), x, 1)[0] if n > 1 else 0.0
    sse, level = ses_fit(x, PROBE_ALPHAS)
    best = int(np.argmin(sse))
    a, k = PROBE_ALPHAS[best], np.arange(1, steps + 1)
    return level[best] + 0.5 * drift * ((k - 1) + 1 / a - (1 - a) ** n / a)


def choose_transform(
    y: np.ndarray, cutoffs: np.ndarray, actual: np.ndarray, scales: np.ndarray, fixed: str | None = None
) -> str:
    """'log' when the Theta probe's backtest error on the log scale beats the raw scale's by LOG_MARGIN, else 'none'.

    ``cutoffs`` are the backtest origins, ``actual`` the values after each (origins, steps; NaN past
    the end) and ``scales`` the MASE scale at each origin. A ``fixed`` scale (one of
    :data:`TRANSFORMS`) is used without the probe; the log scale only where every value is positive.
    """
    if not np.all(y > 0):
        return "none"
    if fixed is not None:
        return fixed
    on_log = _probe_error(np.log(y), cutoffs, actual, scales, "log")
    on_raw = _probe_error(y, cutoffs, actual, scales, "none")
    return "log" if on_log < (1 - LOG_MARGIN) * on_raw else "none"


def _probe_error(z: np.ndarray, cutoffs: np.ndarray, actual: np.ndarray, scales: np.ndarray, transform: str) -> float:
    """Mean scaled absolute error of the Theta probe's backtest forecasts of ``z`` (a model-scale series)."""
    mean = np.array([theta_probe(z[:cut], actual.shape[1]) for cut in cutoffs])
    err = np.abs(from_model_scale(mean, transform) - actual) / scales[:, None]
    return float(np.nanmean(err)) if np.isfinite(err).any() else np.inf
