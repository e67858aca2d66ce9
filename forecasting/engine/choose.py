"""Stage 3, choice: per series, score the candidates and keep the core combination unless one beats it clearly.

Candidates are the single models, equal-weight combinations of the best ``2..MAX_COMBO`` of them by
backtest MASE, and the core combination (the mean of :data:`CORE` for seasonal data, the median of
:data:`CORE_YEARLY` for yearly data). The core is the default; another candidate replaces it only
when its backtest MASE is below ``1 - SELECT_MARGIN`` of the core's. Whatever is chosen must then
not lose to the naive benchmark on the same backtest by more than ``NAIVE_MARGIN``
(:func:`naive_check`), or the benchmark is used instead. The chosen forecaster's backtest errors
are standardised here, ready for pooling by :func:`~forecasting.engine.calibrate.calibrate`. Series
too short or flat for a backtest get a :func:`fallback_choice` instead. :class:`ChoiceRules` holds
the tuned constants, so that ``benchmarks/tune.py`` can try others on validation windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from forecasting.engine.backtest import Scores, SeriesFit, score_candidate
from forecasting.engine.prepare import MIN_OBS, to_model_scale
from forecasting.frames import NAIVE_FALLBACK
from forecasting.models.base import MAX_STATE_SEASON, residual_sd

#: Largest number of models in an equal-weight combination.
MAX_COMBO = 3
#: Models whose equal-weight mean is the default choice for seasonal (quarterly, monthly) series.
CORE = ("ets", "arima", "theta", "prophet")
#: Models whose median is the default choice for yearly series. Compared on the yearly sets of M1,
#: M3 and Tourism, the median of these five beat the mean of ``CORE`` on all three; on the quarterly
#: sets the same change lost accuracy (docs/engine.md).
CORE_YEARLY = ("ets", "arima", "theta", "dotm", "drift", "prophet")
#: Models whose mean is the default for seasons longer than MAX_STATE_SEASON (weekly data's 52): ETS
#: and ARIMA model no season that long, so in the seasonal core they would flatten the pattern that
#: Theta and DOTM carry by classical decomposition. A design choice for such data, not tuned on any set.
CORE_LONG_SEASON = ("theta", "dotm")
#: A candidate replaces the core combination only when its backtest MASE is this much lower
#: (selecting on a few noisy origins loses accuracy; confirmed on validation windows, docs/engine.md).
SELECT_MARGIN = 0.75

#: The chosen forecaster gives way to the naive benchmark (:func:`benchmark_name`) when its backtest
#: MASE exceeds the benchmark's by more than this fraction. Chosen on validation windows cut from the
#: training part of M3, M1 and Tourism (benchmarks/tune.py): the tightest margin whose validation MASE
#: is not clearly worse than the best margin's; at 0 (whenever it is worse) MASE rose by 2%.
NAIVE_MARGIN = 0.5
#: Exponent of the origin's sd in the scale of a backtest error (the final fit's sd gets the rest).
#: Chosen on the same validation windows by per-horizon-bucket coverage (docs/engine.md, "Calibration").
ORIGIN_WEIGHT = 0.75

#: Combines member forecasts stacked on axis 0 (``np.mean`` or ``np.median``).
Centre = Callable[..., np.ndarray]


@dataclass(frozen=True)
class ChoiceRules:
    """The tuned constants of the choice, defaulting to the module's; ``benchmarks/tune.py`` varies them.

    ``core`` and ``core_yearly`` are (members, centre) pairs, the centre ``"mean"`` or ``"median"``.
    """

    select_margin: float = SELECT_MARGIN
    naive_margin: float = NAIVE_MARGIN
    origin_weight: float = ORIGIN_WEIGHT
    core: tuple[tuple[str, ...], str] = (CORE, "mean")
    core_yearly: tuple[tuple[str, ...], str] = (CORE_YEARLY, "median")

    def core_of(self, season: int) -> tuple[tuple[str, ...], str]:
        """Members and centre of the default combination for data of this season length."""
        if season == 1:
            return self.core_yearly
        return (CORE_LONG_SEASON, "mean") if season > MAX_STATE_SEASON else self.core


#: The shipped rules.
DEFAULT_RULES = ChoiceRules()


@dataclass(frozen=True)
class Candidate:
    """A candidate forecaster of one series on the model scale: final forecast and backtest forecasts."""

    mean: np.ndarray
    sigma: np.ndarray
    bt_mean: np.ndarray
    bt_sigma: np.ndarray


@dataclass(frozen=True)
class Choice:
    """The chosen forecaster of one series, on the model scale, ready for calibration.

    ``u`` holds the standardised backtest errors (origins, backtest steps; NaN where missing),
    empty for a fallback, which then gets normal quantiles. ``note`` says why the naive benchmark
    replaced the forecaster chosen first (empty when it did not).
    """

    name: str
    transform: str
    mean: np.ndarray
    sigma: np.ndarray
    u: np.ndarray
    note: str = ""


def choose_forecaster(fit: SeriesFit, rules: ChoiceRules = DEFAULT_RULES) -> tuple[Choice, list[Scores]]:
    """Score singles, combinations of the best ones and the core combination; keep the core unless beaten clearly.

    The choice then passes :func:`naive_check`. Returns the choice and the scores of every candidate,
    the chosen one flagged.
    """
    order = list(fit.final)
    cands = {n: Candidate(fit.final[n].mean, fit.final[n].sigma, fit.bt_mean[n], fit.bt_sigma[n]) for n in order}
    rows = [score_candidate(n, fit, c.bt_mean, c.bt_sigma) for n, c in cands.items()]

    def add(name: str, members: list[str], centre: Centre) -> None:
        cands[name] = combine([cands[m] for m in members], centre)
        rows.append(score_candidate(name, fit, cands[name].bt_mean, cands[name].bt_sigma))

    ranked = sorted((r for r in rows if np.isfinite(r.mase)), key=lambda r: (r.mase, order.index(r.model)))
    for k in range(2, MAX_COMBO + 1):
        members = sorted((r.model for r in ranked[:k]), key=order.index)
        name = f"combo({','.join(members)})"
        if len(members) == k and name not in cands:
            add(name, members, np.mean)
    members_of_core, centre = rules.core_of(fit.season)
    core = [m for m in order if m in members_of_core]
    default = core[0] if len(core) == 1 else None
    if len(core) >= 2:
        default = f"{'median' if centre == 'median' else 'combo'}({','.join(core)})"
        if default not in cands:
            add(default, core, np.median if centre == "median" else np.mean)
    chosen, note = naive_check(rows, select(rows, default, fit, rules.select_margin), fit.season, rules.naive_margin)
    rows = [replace(r, chosen=r.model == chosen) for r in rows]
    best = cands[chosen]
    u = standardised_errors(fit, best, rules.origin_weight)
    return Choice(chosen, fit.transform, best.mean, best.sigma, u, note), rows


def benchmark_name(season: int) -> str:
    """The naive benchmark a choice must not lose to: seasonal naive for seasonal data, else naive.

    The seasonal naive is the benchmark MASE itself is scaled by; on seasonal data the plain naive
    ignores the season the other models carry.
    """
    return "snaive" if season > 1 else "naive"


def naive_check(rows: list[Scores], chosen: str, season: int, margin: float = NAIVE_MARGIN) -> tuple[str, str]:
    """``chosen``, or the naive benchmark if ``chosen``'s backtest MASE exceeds the benchmark's by over ``margin``.

    ``margin`` is a fraction (0.5: more than 1.5 times the benchmark's). Both were scored on the same
    origins. Returns the name and a note saying why the benchmark replaced the first choice (empty
    if it did not, or if the benchmark is not among the models, or either has no backtest score).
    """
    bench = benchmark_name(season)
    mase = {r.model: float(r.mase) for r in rows}
    if chosen == bench or not (np.isfinite(mase.get(bench, np.nan)) and np.isfinite(mase.get(chosen, np.nan))):
        return chosen, ""
    if mase[chosen] > (1 + margin) * mase[bench]:
        why = f"{chosen}'s backtest MASE {mase[chosen]:.3g} is more than {1 + margin:g}x {bench}'s {mase[bench]:.3g}"
        return bench, f"{bench} used: {why}"
    return chosen, ""


def combine(members: list[Candidate], centre: Centre) -> Candidate:
    """An equal-weight combination: the ``centre`` of the members' means, the mean of their sds.

    On the model scale (on the log scale, a geometric mean or median in original units). The
    combined sd is the mean member sd, which calibration then rescales.
    """
    mean, bt_mean = (centre([getattr(c, a) for c in members], axis=0) for a in ("mean", "bt_mean"))
    sigma, bt_sigma = (np.mean([getattr(c, a) for c in members], axis=0) for a in ("sigma", "bt_sigma"))
    return Candidate(mean, sigma, bt_mean, bt_sigma)


def select(rows: list[Scores], default: str | None, fit: SeriesFit, margin: float = SELECT_MARGIN) -> str:
    """The chosen candidate's name: ``default`` unless another's backtest MASE is below ``1 - SELECT_MARGIN`` of it.

    Backtests of a few origins are noisy: the core combination stays unless another candidate beats
    it clearly (selection on noise loses accuracy out of sample). Ties go to combinations. Without
    any scored candidate, the default if there is one, else the first model fitted.
    """
    scored = {r.model: float(r.mase) for r in rows if np.isfinite(r.mase)}
    if scored:
        best = min(scored, key=lambda n: (scored[n], n in fit.final))
        if default is not None and default in scored and scored[best] >= (1 - margin) * scored[default]:
            return default
        return best
    return default if default is not None else next(iter(fit.final))


def standardised_errors(fit: SeriesFit, chosen: Candidate, origin_weight: float = ORIGIN_WEIGHT) -> np.ndarray:
    """Backtest errors of ``chosen`` on the model scale, divided by the sd expected (origins, steps).

    Errors are standardised by a weighted geometric mean of the sd the model gave at the origin and
    the final fit's sd at the same step (weight ``origin_weight`` on the origin's). The origin's alone
    comes from a shorter, noisier fit and makes the pooled quantiles heavy-tailed; the final fit's
    alone ignores what the model expected then. See docs/engine.md.
    """
    z_actual = to_model_scale(np.where(np.isfinite(fit.actual), fit.actual, 1.0), fit.transform)
    z_actual = np.where(np.isfinite(fit.actual), z_actual, np.nan)
    sigma, bt_s = chosen.sigma, chosen.bt_sigma
    steps = bt_s.shape[1]
    final = np.concatenate([sigma, np.repeat(sigma[-1:], max(steps - len(sigma), 0))])[:steps]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = bt_s**origin_weight * final[None, :] ** (1 - origin_weight)
        return np.where(scale > 0, (z_actual - chosen.bt_mean) / scale, np.nan)


def fallback_choice(y: np.ndarray, horizon: int) -> tuple[Choice, str]:
    """The forecaster of a series without model selection, and the status message saying why.

    Short series (< MIN_OBS): naive with Gaussian intervals; constant or all-zero: flat, zero-width.
    """
    k = np.arange(1, horizon + 1)
    empty = np.empty((0, 0))
    if len(y) >= MIN_OBS and np.ptp(y) == 0:
        flat = Choice("constant", "none", np.full(horizon, y[-1]), np.zeros(horizon), empty)
        what = "all-zero series" if y[-1] == 0 else f"constant series ({y[-1]:g})"
        return flat, f"{what}: flat forecast with zero-width intervals"
    transform = "log" if np.all(y > 0) else "none"
    z = to_model_scale(y, transform)
    s = residual_sd(np.diff(z)) if len(z) >= 3 else 0.1 * max(abs(z[-1]), 1e-9)  # the RMS step change
    if transform == "log" and len(z) < 3:
        s = 0.1  # about 10% of the level per step
    msg = NAIVE_FALLBACK
    if len(y) < MIN_OBS:
        msg = f"too short: only {len(y)} observation(s) (< {MIN_OBS}): {msg}"
    return Choice("naive", transform, np.full(horizon, z[-1]), s * np.sqrt(k), empty), msg
