"""ARIMA with differencing by KPSS and (p, q) by AICc over a bounded grid, fitted in NumPy.

The model is statsmodels' ``ARIMA(y, order=(p, d, q), seasonal_order=(0, D, 0, m), trend=...)``:
a regression on the trend term with ARIMA errors, whose differencing states start diffuse. Its
exact likelihood is that of the differenced series ``w`` as an ARMA(p, q) with a mean (the
differenced trend term; none when ``d + D = 2``), so this module differences first and fits the
short ARMA by exact maximum likelihood: the AR filter turns the ARMA into a moving average whose
covariance is banded (Ansley 1979), the mean and the innovation variance are concentrated out,
and only the p + q <= 2 coefficients are searched, over the stationary and invertible region.
Forecasts are the exact finite-sample predictions of ``w`` (its autocovariance matrix) integrated
back, with the forecast errors' covariance carried through the integration. Tests check the
forecasts, sds and AICc against statsmodels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg
from scipy.signal import lfilter
from statsmodels.tsa.stattools import kpss

from forecasting.models.base import MAX_STATE_SEASON, Model, PointForecast, aicc_or_aic, cached_fit
from forecasting.models.lbfgsb import minimize_lbfgsb

#: Starting partial autocorrelations tried per coefficient before the local search.
_START_GRID = np.array([-0.8, -0.3, 0.3, 0.8])
#: Step of the forward differences of the likelihood (on the unconstrained coefficients).
_STEP = 1e-7
#: Value of the objective where the covariance is numerically not positive definite.
_BAD = 1e12


@dataclass(frozen=True)
class ArimaSpec:
    """Orders (p, d, q), seasonal differencing D at the season, and the trend term.

    No warm start, unlike ETS: starting the refits from the whole series' coefficients saved no
    time and moved some fits to other optima (Tourism yearly, 80 series: MASE 2.637 -> 2.667).
    """

    p: int
    d: int
    q: int
    seasonal_d: int
    trend: str


@dataclass(frozen=True)
class ArmaFit:
    """Maximum-likelihood ARMA on the differenced series: AR and MA coefficients, mean, variance, llf."""

    phi: np.ndarray
    theta: np.ndarray
    mu: float
    sigma2: float
    llf: float
    nobs: int
    k: int  # estimated mean parameters (coefficients and mean), sigma2 not counted

    @property
    def aicc(self) -> float:
        """statsmodels' AICc (sigma2 counted), falling back to AIC where AICc is undefined."""
        return aicc_or_aic(self.llf, self.nobs, self.k + 1)


def _nonstationary(z: np.ndarray) -> bool:
    if len(z) < 6 or np.ptp(z) == 0:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p_value = kpss(z, regression="c", nlags="auto")[1]
        except OverflowError:
            # The automatic lag is infinite when the residuals' short-lag autocovariances sum to zero
            # (e.g. 105, 101, 103, 103, 103, 103): use the cap statsmodels puts on it, n - 1 lags.
            p_value = kpss(z, regression="c", nlags=len(z) - 1)[1]
    return bool(p_value < 0.05)


def _seasonal_diff_needed(y: np.ndarray, season: int) -> bool:
    # Seasonal strength as in Wang, Smith & Hyndman: seasonal differencing when the
    # seasonal differences vary clearly less than the plain ones.
    if season <= 1 or season > MAX_STATE_SEASON or len(y) < 3 * season:
        return False
    d1 = np.diff(y)
    ds = y[season:] - y[:-season]
    dds = np.diff(ds)
    return bool(np.var(dds) < 0.64 * np.var(d1) and np.var(ds) > 0)


def _diff_poly(spec: ArimaSpec, season: int) -> np.ndarray:
    """Coefficients of (1 - B)^d (1 - B^season)^D, lag 0 first."""
    poly = np.ones(1)
    for _ in range(spec.d):
        poly = np.convolve(poly, [1.0, -1.0])
    for _ in range(spec.seasonal_d):
        seasonal = np.zeros(season + 1)
        seasonal[[0, season]] = 1.0, -1.0
        poly = np.convolve(poly, seasonal)
    return poly


def _coefficients(x: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """AR (stationary) and MA (invertible) coefficients from unconstrained values, via partial autocorrelations."""
    r = x / np.sqrt(1 + x**2)
    phi = r[:p].copy()
    if p == 2:  # Durbin-Levinson from the two partial autocorrelations
        phi = np.array([r[0] * (1 - r[1]), r[1]])
    return phi, r[p:]


def _psi(phi: np.ndarray, theta: np.ndarray, n: int) -> np.ndarray:
    """First ``n`` MA(infinity) weights of the ARMA, psi_0 = 1."""
    psi = np.zeros(n)
    for j in range(n):
        psi[j] = (1.0 if j == 0 else theta[j - 1] if j <= len(theta) else 0.0) + sum(
            phi[i] * psi[j - 1 - i] for i in range(min(len(phi), j))
        )
    return psi


def _acov(phi: np.ndarray, theta: np.ndarray, nlags: int) -> np.ndarray:
    """Autocovariances gamma(0 .. nlags - 1) of the ARMA with unit innovation variance (exact)."""
    p, q = len(phi), len(theta)
    th = np.concatenate(([1.0], theta))
    psi = _psi(phi, theta, q + 1)
    rhs = np.array([sum(th[j] * psi[j - k] for j in range(k, q + 1)) for k in range(max(p, q) + 1)])
    # gamma(k) - sum_i phi_i gamma(|k - i|) = rhs_k for k = 0..p: a (p+1)-square system.
    a = np.eye(p + 1)
    for k in range(p + 1):
        for i in range(1, p + 1):
            a[k, abs(k - i)] -= phi[i - 1]
    gamma = np.zeros(max(nlags, p + 1, q + 1))
    gamma[: p + 1] = np.linalg.solve(a, rhs[: p + 1])
    for k in range(p + 1, len(gamma)):
        gamma[k] = sum(phi[i] * gamma[k - 1 - i] for i in range(p)) + (rhs[k] if k <= q else 0.0)
    return gamma[:nlags]


def _band(phi: np.ndarray, theta: np.ndarray, m: int) -> np.ndarray:
    """Lower band (scipy layout) of the unit-variance covariance of (w_1..w_p, phi(B) w_{p+1}..phi(B) w_m)."""
    p, q = len(phi), len(theta)
    b = max(p, q)
    th = np.concatenate(([1.0], theta))
    ab = np.zeros((b + 1, m))
    for lag in range(min(q, b) + 1):  # the moving-average part: gamma_x(lag)
        ab[lag, :] = th[: q + 1 - lag] @ th[lag:]
    if p:
        gamma, psi = _acov(phi, theta, p), _psi(phi, theta, b + 1)
        for j in range(min(p, m)):  # columns of the first p (AR-start) values
            for lag in range(b + 1):
                r = j + lag
                if r < p:
                    ab[lag, j] = gamma[lag]
                elif r < m:  # cov(x_r, w_j) = sum_i theta_i psi_{j - r + i}
                    ab[lag, j] = sum(th[i] * psi[j - r + i] for i in range(q + 1) if j - r + i >= 0)
    return ab


#: LAPACK's banded Cholesky factorisation and solve for float64, the routines scipy's
#: ``cholesky_banded`` and ``cho_solve_banded`` call (their checks and array conversions cost more
#: than the factorisation of these small bands).
_PBTRF, _PBTRS = linalg.get_lapack_funcs(("pbtrf", "pbtrs"), (np.zeros((1, 1)),))


def _banded_solve(ab: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower Cholesky factor of the positive definite band ``ab`` (scipy's lower layout) and the
    solution of ``A x = b``: ``cholesky_banded(ab, lower=True)`` and ``cho_solve_banded``, the same numbers."""
    chol, info = _PBTRF(ab, lower=1)
    if info > 0:
        raise linalg.LinAlgError(f"{info}-th leading minor not positive definite")
    if info == 0:
        sol, info = _PBTRS(chol, b, lower=1)
    if info < 0:
        raise ValueError(f"illegal value in argument {-info} of LAPACK's banded Cholesky")
    return chol, sol


def _profile(w: np.ndarray, phi: np.ndarray, theta: np.ndarray, has_mean: bool) -> tuple[float, float, float]:
    """Exact log-likelihood of ``w`` with the mean and innovation variance at their optimum: (llf, mu, sigma2)."""
    m, p = len(w), len(phi)
    u = np.convolve(w, np.concatenate(([1.0], -phi)))[:m]
    u[:p] = w[:p]
    v = np.full(m, 1.0 - phi.sum())
    v[:p] = 1.0
    chol, sol = _banded_solve(_band(phi, theta, m), np.stack((u, v), axis=1))
    quad, mu = float(u @ sol[:, 0]), 0.0
    if has_mean:
        mu = float(v @ sol[:, 0]) / float(v @ sol[:, 1])
        quad -= mu * float(v @ sol[:, 0])
    sigma2 = max(quad / m, 1e-300)
    llf = -0.5 * m * (np.log(2 * np.pi * sigma2) + 1) - np.sum(np.log(chol[0]))
    return float(llf), mu, sigma2


def _fit_arma(w: np.ndarray, p: int, q: int, has_mean: bool) -> ArmaFit:
    """Exact maximum likelihood over the stationary, invertible region (grid of starts, then L-BFGS-B)."""
    if len(w) < 2:
        raise ValueError(f"ARIMA needs at least 2 differenced values, got {len(w)}")

    def neg(x: np.ndarray) -> float:
        try:
            return -_profile(w, *_coefficients(x, p), has_mean)[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return _BAD

    def neg_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        # Forward differences written out: scipy's own finite differencing costs more than the fits.
        f = neg(x)
        return f, np.array([(neg(x + step) - f) / _STEP for step in _STEP * np.eye(len(x))])

    x = np.zeros(0)
    if p + q:
        starts = np.stack(np.meshgrid(*[_START_GRID] * (p + q)), -1).reshape(-1, p + q)
        x0 = min((r / np.sqrt(1 - r**2) for r in starts), key=neg)
        x = minimize_lbfgsb(neg_and_grad, x0)
    phi, theta = _coefficients(x, p)
    llf, mu, sigma2 = _profile(w, phi, theta, has_mean)
    return ArmaFit(phi, theta, mu, sigma2, llf, len(w), p + q + int(has_mean))


def _solve_pos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(linalg.cho_solve(linalg.cho_factor(a, lower=True), b))
    except linalg.LinAlgError:
        return np.asarray(linalg.lstsq(a, b)[0])


def _forecast(y: np.ndarray, fit: ArmaFit, poly: np.ndarray, horizon: int) -> PointForecast:
    """Exact predictions of the differenced series, integrated back, with the sd of each step's error."""
    m, h = fit.nobs, horizon
    gamma = _acov(fit.phi, fit.theta, m + h)
    cross = gamma[m + np.arange(h)[:, None] - np.arange(m)[None, :]]  # cov(future i, past t)
    sol = _solve_pos(linalg.toeplitz(gamma[:m]), np.column_stack([y_diff(y, poly) - fit.mu, cross.T]))
    w_hat = fit.mu + cross @ sol[:, 0]
    cov = linalg.toeplitz(gamma[:h]) - cross @ sol[:, 1:]
    level = np.concatenate((y, np.zeros(h)))
    n = len(y)
    for i in range(h):
        level[n + i] = w_hat[i] - poly[1:] @ level[n + i - 1 : n + i - len(poly) : -1]
    impulse = np.zeros(h)
    impulse[0] = 1.0
    integrate = linalg.toeplitz(lfilter([1.0], poly, impulse), impulse)
    # sigma2 is the maximum-likelihood one (SSE / n), biased low on short series: take the
    # estimated coefficients and mean off the count as the other models do.
    scale = fit.sigma2 * m / max(m - fit.k, 1)
    # diag(I C I'): the product through BLAS, not einsum's three-index loop (cubic in h in pure C loops:
    # 0.3 s a call at h = 1000); the two agree to 1e-15 relative.
    var = scale * np.einsum("ij,ij->i", integrate @ cov, integrate)
    return PointForecast(level[n:], np.sqrt(np.maximum(var, 0.0)))


def y_diff(y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """``y`` differenced by the polynomial ``poly`` (lag 0 first): the values from len(poly) - 1 on."""
    return np.convolve(y, poly, mode="valid")


def _fit(y: np.ndarray, spec: ArimaSpec, season: int) -> ArmaFit:
    return _fit_arma(y_diff(y, _diff_poly(spec, season)), spec.p, spec.q, spec.trend != "n")


class ARIMA(Model):
    """Non-seasonal ARIMA(p, d, q) with optional seasonal differencing, drift when integrated once."""

    name = "arima"
    min_length = 6

    def __init__(self) -> None:
        #: The series, order and fit of the last ``select``, reused when the same series is forecast.
        self._selected: tuple[np.ndarray, ArimaSpec, ArmaFit] | None = None

    def select(self, y: np.ndarray, season: int) -> ArimaSpec:
        """KPSS for d in {0, 1}, then the lowest-AICc (p, q) in {0, 1}^2 (plus (2, 0) from 40 points)."""
        big_d = 1 if _seasonal_diff_needed(y, season) else 0
        z = y[season:] - y[:-season] if big_d else y
        d = 1 if _nonstationary(z) else 0
        trend = {0: "c", 1: "t"}.get(d + big_d, "n")
        grid = [(0, 0), (1, 0), (0, 1), (1, 1)] + ([(2, 0)] if len(y) >= 40 else [])
        best, best_ic = ArimaSpec(0, d, 0, big_d, trend), np.inf
        for p, q in grid:
            spec = ArimaSpec(p, d, q, big_d, trend)
            try:
                fit = _fit(y, spec, season)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aicc) and fit.aicc < best_ic:
                best, best_ic = spec, fit.aicc
                self._selected = (y, spec, fit)
        return best

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit the given orders (or select them) and forecast with the exact error variance."""
        spec = spec if isinstance(spec, ArimaSpec) else self.select(y, season)
        if spec.seasonal_d and len(y) < 2 * season + 2:
            spec = ArimaSpec(spec.p, spec.d, spec.q, 0, {0: "c", 1: "t"}.get(spec.d, "n"))
        fit = cached_fit(self._selected, y, spec) or _fit(y, spec, season)
        return _forecast(y, fit, _diff_poly(spec, season), horizon)
