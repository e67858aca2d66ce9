"""Calibration: pooled standardised errors -> per-step quantiles, and the coverage that buys.

First ``calibrate`` itself (known errors in, their quantile function out; the pooling window that widens
until MIN_POOL errors are in), then the whole engine on simulated series whose future is known in
distribution: its 80% and 95% intervals must cover about 80% and 95% of fresh draws of that future.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecasting.engine import ForecastOptions, forecast
from forecasting.engine.calibrate import MAX_GROWTH, MIN_POOL, P_GRID, calibrate, small_sample_factor
from forecasting.executors import SerialExecutor
from forecasting.frames import DS, HI80, HI95, LO80, LO95, UID, Y

# --------------------------------------------------------------------------- calibrate()


def _laplace_quantile(p: np.ndarray, b: float) -> np.ndarray:
    return np.where(p < 0.5, b * np.log(2 * p), -b * np.log(2 * (1 - p)))


def test_errors_from_a_known_distribution_give_back_its_quantiles() -> None:
    # Laplace errors (heavier-tailed than normal), 3 steps, spread over 50 series of 40 origins each.
    rng = np.random.default_rng(0)
    errors = [rng.laplace(0, 1.5, (40, 3)) for _ in range(50)]
    q = calibrate(errors, 3)
    assert q.shape == (3, len(P_GRID))
    inner = (P_GRID >= 0.025) & (P_GRID <= 0.975)
    for k in range(3):
        np.testing.assert_allclose(q[k, inner], _laplace_quantile(P_GRID[inner], 1.5), rtol=0.08, atol=0.03)
    # Symmetrised: the median is exactly 0 and the quantile function odd about it.
    assert np.all(q[:, P_GRID == 0.5] == 0.0)
    np.testing.assert_allclose(q, -q[:, ::-1], atol=1e-9)
    assert np.all(np.diff(q, axis=1) >= 0)


def test_the_quantiles_of_each_step_come_from_that_steps_errors_when_it_has_enough() -> None:
    # Step k's errors are N(0, (k + 1)^2): with 400 of them per step, no step borrows from another.
    rng = np.random.default_rng(1)
    errors = [rng.normal(0, 1, (400, 3)) * np.array([1.0, 2.0, 3.0])]
    q = calibrate(errors, 3)
    at = {p: int(np.searchsorted(P_GRID, p)) for p in (0.1, 0.9)}
    for k in range(3):
        scale = (q[k, at[0.9]] - q[k, at[0.1]]) / (2 * stats.norm.ppf(0.9))
        assert scale == pytest.approx(k + 1, rel=0.12)


def _steps_pools(counts: list[int]) -> list[np.ndarray]:
    """Two series' errors: ``counts[k]`` at step k, all equal to k + 1 so that a pool's values name its steps."""
    rows = max(counts)
    u = np.full((rows, len(counts)), np.nan)
    for k, n in enumerate(counts):
        u[:n, k] = k + 1
    return [u[: rows // 2], u[rows // 2 :]]  # two "series"


def _expected(counts: list[int], windows: list[int]) -> np.ndarray:
    """Quantiles of the symmetrised pool of steps k-w..k+w, written out independently of the engine."""
    rows = []
    for k, w in enumerate(windows):
        steps = range(max(k - w, 0), min(k + w, len(counts) - 1) + 1)
        pool = np.concatenate([np.full(counts[j], j + 1.0) for j in steps])
        rows.append(np.quantile(np.concatenate([pool, -pool]), P_GRID))
    return np.array(rows)


@pytest.mark.parametrize(
    ("per_step", "windows"),
    [
        # Symmetrised, each step holds twice its errors. MIN_POOL / 2 errors make exactly MIN_POOL: enough.
        (MIN_POOL // 2, [0, 0, 0, 0, 0]),
        # One fewer, and each step borrows its neighbours (w = 1; the ends only have one neighbour).
        (MIN_POOL // 2 - 1, [1, 1, 1, 1, 1]),
        # 20 (40 symmetrised): the window widens until 150 are in, further at the ends than in the middle.
        (20, [3, 2, 2, 2, 3]),
    ],
)
def test_a_step_with_too_few_errors_widens_its_window_until_min_pool_are_in(per_step: int, windows: list[int]) -> None:
    assert MIN_POOL == 150, "the windows of the last case are worked out for MIN_POOL = 150"
    counts = [per_step] * 5
    np.testing.assert_array_equal(calibrate(_steps_pools(counts), 5, min_df=None), _expected(counts, windows))


def test_the_window_stops_at_all_steps_when_even_they_hold_fewer_than_min_pool() -> None:
    counts = [10, 10, 10]
    q = calibrate(_steps_pools(counts), 3, min_df=None)
    np.testing.assert_array_equal(q, _expected(counts, [2, 2, 2]))
    np.testing.assert_array_equal(q[0], q[2])


def test_a_long_backtest_whose_later_steps_hold_no_errors_pools_as_the_windows_say() -> None:
    # One short series asked for 300 steps: its origins reach only the first few (the forecast CLI's
    # backtest spans the whole horizon). Each step's window is worked out here by plain counting.
    counts = [12, 12, 10, 8, 6, 4, 2] + [0] * 293
    windows = []
    for k in range(len(counts)):
        w = 0
        while 2 * sum(counts[max(k - w, 0) : k + w + 1]) < MIN_POOL and w < len(counts):
            w += 1
        windows.append(w)
    np.testing.assert_array_equal(calibrate(_steps_pools(counts), 300, min_df=None), _expected(counts, windows))


def test_steps_past_the_backtest_horizon_reuse_the_last_steps_quantiles_when_the_spread_does_not_grow() -> None:
    base = np.random.default_rng(2).normal(0, 1, (200, 1))
    errors = [np.tile(base, (1, 3))]  # the same errors at every step: no growth to extrapolate
    short, long = calibrate(errors, 2), calibrate(errors, 6)
    np.testing.assert_array_equal(long[:3], calibrate(errors, 3))
    np.testing.assert_allclose(long[3:], np.tile(long[2], (3, 1)))
    np.testing.assert_array_equal(short, long[:2])


@pytest.mark.parametrize(("growth", "expected"), [(0.3, 0.3), (1.5, MAX_GROWTH)])
def test_steps_past_the_backtest_horizon_continue_the_spreads_growth_up_to_max_growth(
    growth: float, expected: float
) -> None:
    # Errors whose spread grows as step ** growth: past the 4 backtest steps the quantiles keep growing
    # at that rate (estimated from the 4 steps), at most at MAX_GROWTH.
    base = np.random.default_rng(3).normal(0, 1, (400, 1))
    errors = [base * np.arange(1, 5) ** growth]
    q = calibrate(errors, 12)
    np.testing.assert_array_equal(q[:4], calibrate(errors, 4))
    knot = int(np.searchsorted(P_GRID, 0.9))
    np.testing.assert_allclose(q[4:, knot] / q[3, knot], (np.arange(5, 13) / 4) ** expected, rtol=1e-6)


def test_without_errors_the_quantiles_are_standard_normal_and_with_too_few_widened_normal() -> None:
    normal = np.tile(stats.norm.ppf(P_GRID), (4, 1))
    np.testing.assert_array_equal(calibrate([], 4), normal)
    np.testing.assert_array_equal(calibrate([np.full((3, 2), np.nan)], 4), normal)
    few = [np.array([[1.0, 2.0], [np.nan, 3.0]])]  # < 10 in all, from 2 origins
    np.testing.assert_array_equal(calibrate(few, 4), normal * small_sample_factor(2))
    np.testing.assert_array_equal(calibrate(few, 4, min_df=None), normal)


# --------------------------------------------------------------------------- coverage of the engine's intervals

PHI, N_SERIES, LENGTH, HORIZON, FUTURES = 0.5, 300, 40, 4, 50


def _ar1(start: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    x, prev = np.empty_like(shocks), start
    for t in range(shocks.shape[-1]):
        prev = PHI * prev + shocks[..., t]
        x[..., t] = prev
    return x


def _simulated(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """AR(1) series around 100 with N(0, 1) shocks, and FUTURES independent continuations of each.

    The naive model's sd grows like sqrt(h), the AR(1) error's levels off: uncalibrated Gaussian
    intervals over-cover from the second step on, so coverage near nominal is the calibration's doing.
    """
    rng = np.random.default_rng(seed)
    x = _ar1(np.zeros(N_SERIES), rng.normal(0, 1, (N_SERIES, LENGTH + 50)))[:, 50:]  # burn-in dropped
    future = _ar1(np.repeat(x[:, -1:], FUTURES, axis=1), rng.normal(0, 1, (N_SERIES, FUTURES, HORIZON)))
    ds = pd.date_range("2000-01-01", periods=LENGTH, freq="QS")
    uids = [f"s{i:03d}" for i in range(N_SERIES)]
    history = pd.DataFrame({UID: np.repeat(uids, LENGTH), DS: np.tile(ds, N_SERIES), Y: (100 + x).ravel()})
    return history, 100 + future


def test_calibrated_intervals_cover_the_nominal_share_of_simulated_futures(caplog: pytest.LogCaptureFixture) -> None:
    history, future = _simulated(0)
    options = ForecastOptions(freq="Q", models=("naive", "drift"), n_paths=10)
    with caplog.at_level(logging.ERROR):
        fc = forecast(history, HORIZON, options, executor=SerialExecutor()).forecasts.sort_values([UID, DS])

    def covered(lo: str, hi: str) -> np.ndarray:
        shape = (N_SERIES, 1, HORIZON)
        inside = (future >= fc[lo].to_numpy().reshape(shape)) & (future <= fc[hi].to_numpy().reshape(shape))
        return inside.mean(axis=(0, 1))  # per step

    by_step_80, by_step_95 = covered(LO80, HI80), covered(LO95, HI95)
    assert by_step_80.mean() == pytest.approx(0.80, abs=0.03)
    assert by_step_95.mean() == pytest.approx(0.95, abs=0.02)
    # Per step too: Gaussian intervals from the naive sd would cover about 0.93 and 0.99 at step 4.
    np.testing.assert_allclose(by_step_80, 0.80, atol=0.05)
    np.testing.assert_allclose(by_step_95, 0.95, atol=0.03)


def test_the_widening_for_few_origins_is_the_t_prediction_interval_over_the_normal() -> None:
    # 4 origins: Student t with 3 degrees of freedom times sqrt(1 + 1/4), over the normal quantile.
    knots = [int(np.searchsorted(P_GRID, p)) for p in (0.025, 0.1, 0.9, 0.975)]
    t3, z = [3.182446, 1.637744], [1.959964, 1.281552]  # t(3) and normal quantiles at 0.975 and 0.9, from tables
    wide, narrow = (t / n * np.sqrt(1.25) for t, n in zip(t3, z, strict=True))
    np.testing.assert_allclose(small_sample_factor(4)[knots], [wide, narrow, narrow, wide], rtol=1e-6)
    assert small_sample_factor(4)[int(np.searchsorted(P_GRID, 0.5))] == pytest.approx(np.sqrt(1.25))  # the 0 stays 0
    assert np.all(np.abs(small_sample_factor(800)[knots] - 1) < 0.003)  # hundreds of origins: the empirical quantiles
    # 1 and 4 origins both get MIN_DF = 3 degrees of freedom, so they differ by sqrt(1 + 1/n) alone.
    assert small_sample_factor(1)[knots[-1]] == pytest.approx(small_sample_factor(4)[knots[-1]] * np.sqrt(2 / 1.25))
    errors = [np.random.default_rng(1).normal(0, 1, (4, 6))]  # one series, 4 origins
    np.testing.assert_allclose(calibrate(errors, 6), calibrate(errors, 6, min_df=None) * small_sample_factor(4))


def test_a_run_of_one_random_walk_covers_what_its_intervals_state() -> None:
    # 300 runs of one series each, fitted by the right model (the naive forecast of a random walk):
    # calibrated from its own 4 origins, the 80% / 95% intervals held 0.71 / 0.82 of the next 8
    # values before the widening for few origins; 0.84 / 0.96 with it.
    rng = np.random.default_rng(7)
    held80, held95 = [], []
    options = ForecastOptions(freq="Q", models=("naive",), n_paths=10, transform="none")
    for _ in range(300):
        y = 100 + np.cumsum(rng.normal(0, 1, 48))
        hist = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2010-01-01", periods=40, freq="QS"), "y": y[:40]})
        fc = forecast(hist, 8, options, executor=SerialExecutor()).forecasts
        held80.append(np.mean((y[40:] >= fc[LO80]) & (y[40:] <= fc[HI80])))
        held95.append(np.mean((y[40:] >= fc[LO95]) & (y[40:] <= fc[HI95])))
    assert 0.77 <= np.mean(held80) <= 0.87
    assert 0.93 <= np.mean(held95) <= 0.98
