"""Every registered model adapter honours the one model interface."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.models import MODELS

_T = np.arange(24)
_Y = np.log(100) + 0.05 * _T + 0.1 * np.sin(np.pi * _T / 2) + np.random.default_rng(0).normal(0, 0.02, 24)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_returns_ordered_bounds_and_paths_reproducibly(name: str) -> None:
    model = MODELS[name]()
    first = model.forecast(_Y, 8, 4, n_paths=200, seed=3)
    again = MODELS[name]().forecast(_Y, 8, 4, n_paths=200, seed=3)
    assert first.yhat.shape == (8,) and first.paths.shape == (200, 8)
    assert np.all(first.lower_95 <= first.lower_80) and np.all(first.lower_80 <= first.yhat)
    assert np.all(first.yhat <= first.upper_80) and np.all(first.upper_80 <= first.upper_95)
    np.testing.assert_array_equal(first.yhat, again.yhat)
    np.testing.assert_array_equal(first.paths, again.paths)


@pytest.mark.parametrize("name", ["drift", "ets", "arima", "theta", "prophet"])
def test_trend_models_recover_a_known_growth_rate(name: str) -> None:
    fc = MODELS[name]().forecast(_Y, 8, 4, n_paths=10, seed=0)
    slope = (fc.yhat[-1] - fc.yhat[-5]) / 4
    assert slope == pytest.approx(0.05, abs=0.03)
