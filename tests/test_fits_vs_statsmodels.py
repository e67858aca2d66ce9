"""The NumPy ARIMA against statsmodels' ``ARIMA``, the lean ETS optimisation against ``ETSModel.fit``, and the
fits ``select`` hands on to ``fit_predict``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA as StatsARIMA

from forecasting.models import MODELS
from forecasting.models.arima import ARIMA, ArimaSpec, _band, _banded_solve, _coefficients, _fit, _profile
from forecasting.models.ets import (
    _FD_STEP,
    ETS,
    EtsSpec,
    _candidates,
    _fit_aicc,
    _forward_gradient,
    _model,
    _optimise,
    _point,
)
from forecasting.models.ets import _fit as ets_fit


def _arma(rng: np.random.Generator, n: int, phi: float, theta: float) -> np.ndarray:
    e = rng.normal(0, 1, n + 1)
    x = np.zeros(n)
    for t in range(n):
        x[t] = (phi * x[t - 1] if t else 0.0) + e[t + 1] + theta * e[t]
    return x


def _statsmodels(y: np.ndarray, spec: ArimaSpec, season: int, horizon: int) -> tuple[float, np.ndarray, np.ndarray]:
    """statsmodels' llf, mean forecast and sd (with the engine's degrees-of-freedom correction)."""
    seasonal = (0, spec.seasonal_d, 0, season) if spec.seasonal_d else (0, 0, 0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = StatsARIMA(y, order=(spec.p, spec.d, spec.q), seasonal_order=seasonal, trend=spec.trend).fit()
    fc = res.get_forecast(horizon)
    n, k = res.nobs - res.loglikelihood_burn, len(res.params) - 1
    return float(res.llf), np.asarray(fc.predicted_mean), np.asarray(fc.se_mean) * np.sqrt(n / (n - k))


_SPECS = [
    ArimaSpec(p, d, q, big_d, {0: "c", 1: "t"}.get(d + big_d, "n"))
    for d, big_d in [(0, 0), (1, 0), (0, 1), (1, 1)]
    for p, q in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0)]
]


@pytest.mark.parametrize("spec", _SPECS, ids=str)
def test_numpy_arima_forecasts_as_statsmodels_arima_does(spec: ArimaSpec) -> None:
    """Same model, same exact likelihood: our optimum is never worse than statsmodels', and where the
    two optima agree the forecasts and sds agree to 1e-3. (Series of moderate scale: on values in the
    thousands statsmodels' diffuse start is approximate, see the scale test below.)"""
    rng = np.random.default_rng(7)
    agreed = 0
    for _ in range(4):
        x = _arma(rng, 48, 0.6, 0.3)
        y = 5 + 0.1 * np.arange(48) + np.tile([1.0, -0.5, -1.0, 0.5], 12) + (np.cumsum(x) / 4 if spec.d else x)
        pf = ARIMA().fit_predict(y, 8, 4, spec)
        llf, mean, sd = _statsmodels(y, spec, 4, 8)
        ours = _fit(y, spec, 4).llf
        assert ours >= llf - 1e-3
        if ours - llf < 1e-3:
            agreed += 1
            np.testing.assert_allclose(pf.mean, mean, rtol=1e-3, atol=1e-3 * np.abs(y).mean())
            np.testing.assert_allclose(pf.sigma, sd, rtol=2e-3)
    assert agreed >= 3


@pytest.mark.parametrize(("p", "q"), [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0)])
def test_the_banded_likelihood_is_statsmodels_exact_arma_likelihood(p: int, q: int) -> None:
    w = np.random.default_rng(3).normal(2, 1, 30)
    phi, theta = np.array([0.5, -0.2][:p]), np.array([0.4][:q])
    llf, mu, sigma2 = _profile(w, phi, theta, True)
    params = np.r_[mu, phi, theta, sigma2]
    assert llf == pytest.approx(StatsARIMA(w, order=(p, 0, q), trend="c").loglike(params), abs=1e-8)


def test_arima_forecasts_scale_with_the_data() -> None:
    """An exact diffuse start makes the fit independent of the units: the same series in thousands
    gives the forecasts times a thousand (statsmodels' large-but-finite start variance did not)."""
    rng = np.random.default_rng(11)
    y = 3.6 + np.cumsum(0.04 + 0.1 * rng.normal(0, 1, 36))
    spec = ArimaSpec(1, 1, 0, 0, "t")
    small, big = ARIMA().fit_predict(y, 6, 1, spec), ARIMA().fit_predict(1000 * y, 6, 1, spec)
    np.testing.assert_allclose(big.mean, 1000 * small.mean, rtol=1e-5)
    np.testing.assert_allclose(big.sigma, 1000 * small.sigma, rtol=1e-4)


@pytest.mark.parametrize(("p", "q", "m"), [(0, 1, 12), (1, 0, 30), (1, 1, 40), (2, 1, 25), (2, 0, 3)])
def test_the_direct_banded_solve_is_scipys_to_the_bit(p: int, q: int, m: int) -> None:
    """ARIMA's likelihood calls LAPACK's banded Cholesky directly: the factor and the solution must be
    those of ``cholesky_banded`` and ``cho_solve_banded``, and a band that is not positive definite
    must still raise ``LinAlgError`` (the likelihood's 'bad point')."""
    from scipy import linalg

    rng = np.random.default_rng(12 + p + q)
    for _ in range(20):
        phi, theta = _coefficients(rng.normal(0, 1, p + q), p)
        ab, b = _band(phi, theta, m), rng.normal(0, 1, (m, 2))
        chol, sol = _banded_solve(ab, b)
        expected = linalg.cholesky_banded(ab, lower=True, check_finite=False)
        assert np.array_equal(chol, expected)
        assert np.array_equal(sol, linalg.cho_solve_banded((expected, True), b, check_finite=False))
    with pytest.raises(np.linalg.LinAlgError):
        _banded_solve(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 0.0]]), np.ones((3, 1)))


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_select_hands_its_fit_to_the_same_series_only(name: str) -> None:
    """The final fit reuses the winning fit of ``select`` (same numbers as a fresh fit); a backtest origin,
    a shorter series, is refitted."""
    rng = np.random.default_rng(2)
    y = 10 + np.cumsum(rng.normal(0.2, 1, 40)) + np.tile([2.0, -1.0, -2.0, 1.0], 10)
    model = MODELS[name]()
    spec = model.select(y, 4)
    for series in (y, y[:-4]):
        reused, fresh = model.fit_predict(series, 8, 4, spec), MODELS[name]().fit_predict(series, 8, 4, spec)
        np.testing.assert_array_equal(reused.mean, fresh.mean)
        np.testing.assert_array_equal(reused.sigma, fresh.sigma)


def test_ets_selection_criterion_is_the_fitted_results_aicc() -> None:
    y = 20 + np.cumsum(np.random.default_rng(4).normal(0.3, 1, 30))
    for spec in [EtsSpec("add", None, False, None), EtsSpec("mul", "add", True, None)]:
        ic, _, _ = _fit_aicc(y, spec, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _model(y, spec, 1).fit(disp=False, maxiter=200).aicc
        assert ic == pytest.approx(expected, rel=1e-12)
    assert isinstance(ETS().select(y, 1), EtsSpec)


def test_lean_ets_optimisation_lands_exactly_where_etsmodel_fit_does() -> None:
    """Same start, bounds, objective and optimiser, the finite differences written out: the same
    parameters to the last bit, for every form the search tries (multiplicative, damped, seasonal)."""
    rng = np.random.default_rng(8)
    t = np.arange(32)
    y = 50 * np.exp(0.02 * t) * (1 + 0.1 * np.tile([1.0, -0.5, -1.0, 0.5], 8)) * np.exp(rng.normal(0, 0.03, 32))
    for series in (y, np.log(y)):
        for spec in _candidates(series, 4):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = _model(series, spec, 4).fit(disp=False, maxiter=200, return_params=True)
            np.testing.assert_array_equal(_optimise(_model(series, spec, 4)), expected)


def test_ets_forecasts_and_residuals_are_those_of_statsmodels_results() -> None:
    """The forecast from the last state and the residuals, computed without statsmodels' results
    object, equal its ``forecast`` and ``resid`` for every form (seasonal, damped, multiplicative)."""
    rng = np.random.default_rng(9)
    t = np.arange(30)
    y = 40 * np.exp(0.015 * t) * (1 + 0.15 * np.tile([1.0, -0.5, -1.0, 0.5], 8)[:30]) * np.exp(rng.normal(0, 0.04, 30))
    for spec in _candidates(y, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _model(y, spec, 4).fit(disp=False, maxiter=200)
        fit = ets_fit(y, spec, 4)
        np.testing.assert_allclose(_point(fit, spec, 4, 9), res.forecast(9), rtol=1e-10)
        np.testing.assert_allclose(fit.resid, res.resid, rtol=1e-10, atol=1e-12)
        assert fit.k == len(res.params)


@pytest.mark.parametrize(
    ("x", "lb", "ub"),
    [
        ([0.3, 0.1, 0.95, 120.0], [1e-4, 1e-4, 0.8, -np.inf], [0.9999, 0.9999, 0.98, np.inf]),  # inside
        ([0.9999, 1e-4, 0.98, -5.0], [1e-4, 1e-4, 0.8, -np.inf], [0.9999, 0.9999, 0.98, np.inf]),  # at bounds
        ([0.5, 1e12, -3e9], [-np.inf] * 3, [np.inf] * 3),  # unbounded; a 1e-8 step is lost on 1e12
        ([0.5, 0.5], [0.5, 0.5 - 5e-9], [0.5 + 4e-9, 0.5 + 5e-9]),  # bounds narrower than the step
    ],
)
def test_the_finite_differences_are_scipys_to_the_bit(x: list[float], lb: list[float], ub: list[float]) -> None:
    """ETS's optimiser computes scipy's two-point gradient itself; it must be the very same numbers."""
    from scipy.optimize._numdiff import approx_derivative

    def f(v: np.ndarray) -> float:
        return float(np.sum(np.sin(v) * v**2) + np.prod(np.cos(v / 7)))

    at = np.array(x)
    expected = approx_derivative(f, at, method="2-point", abs_step=_FD_STEP, bounds=(np.array(lb), np.array(ub)))
    assert np.array_equal(_forward_gradient(f, at, f(at), lb, ub), expected)
