"""Every registered model adapter honours the one model interface."""

from __future__ import annotations

import warnings
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import ForecastOptions, forecast
from forecasting.executors import SerialExecutor
from forecasting.frames import DS, FORECAST_COLUMNS, HI80, HI95, LO80, LO95, MODEL, YHAT
from forecasting.models import MODELS, get_model
from forecasting.models.arima import ArimaSpec
from forecasting.models.base import Z80, Z95, PointForecast, single_threaded
from forecasting.models.dotm import dynamic_ols, fit_dotm
from forecasting.models.ets import EtsSpec
from tests.conftest import make_series

_T = np.arange(24)
_Y = np.log(100) + 0.05 * _T + 0.1 * np.sin(np.pi * _T / 2) + np.random.default_rng(0).normal(0, 0.02, 24)


def _as_the_engine_fits(name: str, y: np.ndarray, horizon: int, season: int) -> tuple[PointForecast, PointForecast]:
    """The calls ``fit_series`` makes on every model: ``select`` once, ``fit_predict`` on the whole
    series and, with the same specification, at a backtest origin (here the series less its last 4)."""
    model = MODELS[name]()
    with single_threaded():
        spec = model.select(y, season)
        return model.fit_predict(y, horizon, season, spec), model.fit_predict(y[:-4], horizon, season, spec)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_honours_the_contract_the_engine_relies_on(name: str) -> None:
    final, origin = _as_the_engine_fits(name, _Y, 8, 4)
    for pf in (final, origin):
        assert type(pf) is PointForecast and [f.name for f in fields(pf)] == ["mean", "sigma"]
        assert pf.mean.shape == (8,) and pf.sigma.shape == (8,)
        assert pf.mean.dtype == float and pf.sigma.dtype == float
        assert np.isfinite(pf.mean).all() and np.isfinite(pf.sigma).all()
        lower_95, lower_80 = pf.mean - Z95 * pf.sigma, pf.mean - Z80 * pf.sigma
        upper_80, upper_95 = pf.mean + Z80 * pf.sigma, pf.mean + Z95 * pf.sigma
        assert np.all(lower_95 <= lower_80) and np.all(lower_80 <= pf.mean)
        assert np.all(pf.mean <= upper_80) and np.all(upper_80 <= upper_95)
        assert np.all(pf.sigma > 0)  # noisy data: a zero sd would give zero-width intervals
    # A fresh adapter on the same data gives the same numbers: the engine's results are seeded only by
    # its run seed, so a model with hidden randomness would make them irreproducible.
    again_final, again_origin = _as_the_engine_fits(name, _Y, 8, 4)
    for pf, again in ((final, again_final), (origin, again_origin)):
        np.testing.assert_array_equal(pf.mean, again.mean)
        np.testing.assert_array_equal(pf.sigma, again.sigma)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_fits_the_shortest_series_it_accepts(name: str) -> None:
    model = MODELS[name]()
    y = _Y[: model.min_length]
    with single_threaded():
        pf = model.fit_predict(y, 3, 4, model.select(y, 4))
    assert pf.mean.shape == (3,) and pf.sigma.shape == (3,)
    assert np.isfinite(pf.mean).all() and np.isfinite(pf.sigma).all() and np.all(pf.sigma >= 0)


@pytest.mark.parametrize("name", ["drift", "ets", "arima", "theta", "prophet"])
def test_trend_models_recover_a_known_growth_rate(name: str) -> None:
    fc = MODELS[name]().forecast(_Y, 8, 4, n_paths=10, seed=0)
    slope = (fc.yhat[-1] - fc.yhat[-5]) / 4
    assert slope == pytest.approx(0.05, abs=0.03)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_through_the_engine_gives_the_published_frame_reproducibly(name: str) -> None:
    hist = make_series(20, seed=1, season=0.1, unique_id="s")
    options = ForecastOptions(freq="Q", models=[name], n_paths=50, seed=9)
    first = forecast(hist, 6, options, executor=SerialExecutor())
    again = forecast(hist, 6, options, executor=SerialExecutor())
    fc = first.forecasts
    assert list(fc.columns) == FORECAST_COLUMNS
    assert len(fc) == 6 and fc[MODEL].eq(name).all()
    assert first.status[["status", MODEL]].values.tolist() == [["ok", name]]
    assert (fc[DS] > hist[DS].max()).all() and fc[DS].is_monotonic_increasing
    assert (fc[LO95] <= fc[LO80]).all() and (fc[LO80] <= fc[YHAT]).all()
    assert (fc[YHAT] <= fc[HI80]).all() and (fc[HI80] <= fc[HI95]).all()
    assert not fc[[YHAT, LO80, HI80, LO95, HI95]].isna().any().any()
    pd.testing.assert_frame_equal(fc, again.forecasts)
    np.testing.assert_array_equal(first.paths["s"], again.paths["s"])


_T40 = np.arange(40)
_LINE = 50 + 2.0 * _T40 + np.random.default_rng(1).normal(0, 0.5, 40)
#: Slope each model extrapolates from a line of slope 2: Theta (theta = 2) halves the trend line;
#: ETS's damped trend starts at the slope and decays; logistic growth bends toward its capacity;
#: dynamic Theta estimates theta (near 20 here, the trend line almost whole).
_SLOPES = {
    "drift": (2.0, 0.1),
    "arima": (2.0, 0.1),
    "prophet": (2.0, 0.15),
    "theta": (1.0, 0.1),
    "ets": (1.8, 0.25),
    "dotm": (1.9, 0.15),
}


@pytest.mark.parametrize("name", sorted(_SLOPES))
def test_each_trend_model_recovers_a_known_linear_slope(name: str) -> None:
    expected, tol = _SLOPES[name]
    fc = MODELS[name]().forecast(_LINE, 4, 1, n_paths=10, seed=0)
    assert np.diff(fc.yhat) == pytest.approx(np.full(3, expected), abs=tol)
    assert fc.yhat[0] == pytest.approx(_LINE[-1] + expected, abs=2.0)


def test_level_models_carry_the_last_value_forward_exactly() -> None:
    for name in ("naive", "snaive"):
        fc = MODELS[name]().forecast(_LINE, 4, 1, n_paths=10, seed=0)
        np.testing.assert_array_equal(fc.yhat, np.full(4, _LINE[-1]))


_PATTERN = np.array([10.0, -5.0, -10.0, 5.0])
_SEASONAL = 100 + np.tile(_PATTERN, 8) + np.random.default_rng(2).normal(0, 0.5, 32)


@pytest.mark.parametrize("name", ["snaive", "ets", "arima", "theta", "dotm", "prophet", "prophet_logistic"])
def test_each_seasonal_model_recovers_the_quarterly_pattern(name: str) -> None:
    fc = MODELS[name]().forecast(_SEASONAL, 8, 4, n_paths=10, seed=0)
    np.testing.assert_allclose(fc.yhat - fc.yhat.mean(), np.tile(_PATTERN, 2), atol=1.5)


@pytest.mark.parametrize("name", ["snaive", "ets", "arima", "theta", "dotm"])
def test_each_seasonal_model_error_sd_measures_the_noise_not_the_season(name: str) -> None:
    # Noise sd 0.5 around a pattern of +-10: a one-step sd near 10 would mean residuals taken
    # before the season was removed.
    fc = MODELS[name]().fit_predict(_SEASONAL, 4, 4)
    assert 0.3 < fc.sigma[0] < 1.0


def _local_level(e: np.ndarray) -> np.ndarray:
    """ETS(A,N,N) with alpha 0.5 and level 10, driven by the innovations ``e``."""
    return 10 + e + np.concatenate([[0.0], 0.5 * np.cumsum(e[:-1])])


def _ar1(e: np.ndarray) -> np.ndarray:
    """AR(1) with coefficient 0.5 around 5, driven by the innovations ``e``."""
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, len(e)):
        x[t] = 0.5 * x[t - 1] + e[t]
    return 5 + x


@pytest.mark.parametrize(
    ("name", "spec", "simulate"),
    [("ets", EtsSpec("add", None, False, None), _local_level), ("arima", ArimaSpec(1, 0, 0, 0, "c"), _ar1)],
)
def test_one_step_variance_is_not_biased_low_on_short_series(name: str, spec: object, simulate) -> None:
    # Each series is its model's own process with unit innovations, 12 points long. The
    # maximum-likelihood variance (SSE / n) averages about (n - k) / n = 0.83 here.
    rng = np.random.default_rng(1)
    model = MODELS[name]()
    variances = [model.fit_predict(simulate(rng.normal(0, 1, 12)), 1, 1, spec).sigma[0] ** 2 for _ in range(150)]
    assert np.mean(variances) == pytest.approx(1.0, abs=0.1)


def test_the_registry_rejects_an_unknown_name_and_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'x'; known models: \['arima', 'dotm', 'drift'"):
        get_model("x")


def test_dynamic_theta_trend_line_is_the_ols_line_of_each_prefix() -> None:
    y = _LINE[:12]
    intercept, slope = dynamic_ols(y)
    for t in range(2, 13):
        b, a = np.polyfit(np.arange(1, t + 1), y[:t], 1)
        assert (intercept[t], slope[t]) == pytest.approx((a, b))
    assert (intercept[1], slope[1]) == (y[0], 0.0)


def test_dynamic_theta_residuals_match_the_model_recursion() -> None:
    y = 10 + 0.5 * np.arange(30) + np.random.default_rng(4).normal(0, 1, 30)
    alpha, level, c, resid = fit_dotm(y)
    assert 0 < alpha < 1 and 0 <= c <= 0.95
    intercept, slope = dynamic_ols(y)
    for t in range(1, 31):
        trend = (1 - alpha) ** (t - 1) * intercept[t - 1] + (1 - (1 - alpha) ** t) / alpha * slope[t - 1]
        assert y[t - 1] - (level + c * trend) == pytest.approx(resid[t - 1])
        level = alpha * y[t - 1] + (1 - alpha) * level


def _dotm_grid_point(y: np.ndarray, alpha: float) -> tuple[float, float, float, np.ndarray]:
    """DOTM at one smoothing weight, written plainly: the two-column least squares of the one-step
    errors, the trend weight clipped to [0, 0.95] with the level refitted, and the sum of squares."""
    n = len(y)
    intercept, slope = dynamic_ols(y)
    decay = (1 - alpha) ** np.arange(n)
    s = np.zeros(n)
    for t in range(1, n):
        s[t] = alpha * y[t - 1] + (1 - alpha) * s[t - 1]
    g = decay * intercept[:-1] + (1 - (1 - alpha) ** np.arange(1, n + 1)) / alpha * slope[:-1]
    target = y - s
    level, c = np.linalg.lstsq(np.column_stack([decay, g]), target, rcond=None)[0]
    if not 0.0 <= c <= 0.95:
        c = float(np.clip(c, 0.0, 0.95))
        level = decay @ (target - c * g) / (decay @ decay)
    resid = target - level * decay - c * g
    return float(np.sum(resid**2)), float(level), float(c), resid


def test_dotm_fit_is_the_first_best_point_of_its_grid_each_solved_on_its_own() -> None:
    """The grid is solved row by row and scored at once; the result must be the grid point that a
    plain one-weight-at-a-time search picks (the first of equal minima), to the bit."""
    from forecasting.models.dotm import ALPHAS

    rng = np.random.default_rng(13)
    t = np.arange(40.0)
    cases = [
        10 + 0.5 * t + rng.normal(0, 1, 40),  # a trend
        50 + np.cumsum(rng.normal(0, 2, 40)),  # a random walk
        200 - 4 * t + rng.normal(0, 1, 40),  # falling: the trend weight clips at 0
        10 + 2 * t + rng.normal(0, 0.1, 40),  # a near-perfect line: it clips at 0.95
        np.full(12, 7.0),  # constant: every point fits exactly, so the first weight wins
        np.array([3.0, 5.0, 4.0, 6.0]),  # as short as DOTM goes
    ]
    for y in cases:
        points = [_dotm_grid_point(y, float(a)) for a in ALPHAS]
        best = min(range(len(ALPHAS)), key=lambda i: points[i][0])
        alpha, level, c, resid = fit_dotm(y)
        assert (alpha, level, c) == (float(ALPHAS[best]), points[best][1], points[best][2])
        assert np.array_equal(resid, points[best][3])


def test_numpy_theta_forecasts_as_statsmodels_theta_model_does() -> None:
    """The NumPy Theta is statsmodels' ThetaModel (default fit) written out: the same seasonality test,
    decomposition, drift and SES weight, so the same forecasts; and its weight is never a worse
    least-squares fit than statsmodels' (whose optimiser can stop short)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    from forecasting.models.theta import ses_sse, ses_weight

    rng = np.random.default_rng(5)
    t = np.arange(40)
    cases = [
        (100 + 2 * t + 10 * np.sin(np.pi * t / 2) + rng.normal(0, 1, 40), 4),
        (np.exp(3 + 0.02 * t + rng.normal(0, 0.05, 40)), 1),
        (50 + np.cumsum(rng.normal(0.5, 2, 40)), 4),
        (_Y, 4),
    ]
    for y, season in cases:
        seasonal = season > 1
        method = "multiplicative" if seasonal and np.all(y > 0) else "additive"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ThetaModel(y, period=season, deseasonalize=seasonal, method=method).fit()
        ours = MODELS["theta"]().fit_predict(y, 8, season)
        np.testing.assert_allclose(ours.mean, np.asarray(res.forecast(8)), rtol=1e-4)
        theirs = np.array([float(res.params["alpha"])])
        assert ses_sse(y, np.array([ses_weight(y)]))[0] <= ses_sse(y, theirs)[0] * (1 + 1e-9)


def test_theta_s_one_weight_search_sums_exactly_as_the_vectorised_smoother() -> None:
    """The bounded search sums SES errors in Python floats; the grid in NumPy: the same sums to the bit,
    so the weight (and every Theta forecast) is the one the NumPy-only search gave."""
    from forecasting.models.theta import _ses_sse_one, ses_sse

    rng = np.random.default_rng(11)
    for n in (2, 5, 40, 300):
        y = np.exp(rng.normal(0, 1, n).cumsum() * 0.1) * 10 ** rng.uniform(-3, 6)
        alphas = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 30)])
        assert [_ses_sse_one([float(v) for v in y], float(a)) for a in alphas] == ses_sse(y, alphas).tolist()


def test_arima_selects_where_kpss_automatic_lag_is_infinite() -> None:
    # Mean 103, residuals 2, -2, 0, 0, 0, 0: the short-lag autocovariances sum to zero, which makes
    # statsmodels' automatic KPSS lag infinite (an OverflowError that used to end the whole run).
    short = np.array([105.0, 101, 103, 103, 103, 103])
    assert MODELS["arima"]().select(short, 4).d in (0, 1)
    counts = np.array([105.0, 101, 103, 103, 103, 103, 100, 101, 100, 108, 109, 109, 110, 110, 108, 109])
    history = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2015-03-31", periods=16, freq="QE"), "y": counts})
    out = forecast(history, 4, ForecastOptions(n_paths=50), executor=SerialExecutor()).forecasts
    assert len(out) == 4 and np.isfinite(out[[YHAT, LO95, HI95]].to_numpy()).all()
