"""Each metric in forecasting.metrics against an independent implementation.

``utilsforecast.losses`` (Nixtla's reference implementations) where it has the metric: MASE, sMAPE,
coverage and the Winkler interval score; a direct formula, written here, where it does not (the
fallbacks of the MASE scale, NaN handling, the MSIS scaling). Definitions differ in places:

- sMAPE: ours is the M3/M4 percentage ``200 * |a - p| / (|a| + |p|)``, in 0-200; utilsforecast's
  ``smape`` is ``|a - p| / (|a| + |p|)``, in 0-1. Ours is 200 times theirs. Both count 0/0 as 0.
- MASE: both scale by the mean absolute seasonal difference of the training series. Ours falls back
  to lag 1 when the series has no more than two seasons, and to the mean absolute level (or 1) when
  the differences are all zero; utilsforecast has no fallback. They are compared where none applies.
- coverage: both count an actual on a bound as inside.
- interval score: utilsforecast's ``winkler_score`` is unscaled; ours divided by the MASE scale is
  the M4 MSIS.
- NaN: ours ignore missing actuals or predictions; utilsforecast's would propagate them, so the
  comparisons use complete data and NaN handling is checked against formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import utilsforecast.losses as uf

from forecasting.metrics import coverage, interval_score, mase, mase_scale, smape

MODEL = "m"


def _case(seed: int, n_train: int = 24, h: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A training series and a test frame with predictions and 80% bounds, in utilsforecast's layout."""
    rng = np.random.default_rng(seed)
    y = 100 + np.cumsum(rng.normal(1.0, 3.0, n_train + h)) + 5 * np.sin(np.arange(n_train + h) * np.pi / 2)
    train = pd.DataFrame({"unique_id": "s", "ds": np.arange(n_train), "y": y[:n_train]})
    actual = y[n_train:]
    pred = actual + rng.normal(0, 4, h)
    half = rng.uniform(1, 8, h)
    test = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": np.arange(n_train, n_train + h),
            "y": actual,
            MODEL: pred,
            f"{MODEL}-lo-80": pred - half,
            f"{MODEL}-hi-80": pred + half,
        }
    )
    return train, test


def _uf(result: pd.DataFrame) -> float:
    return float(result[MODEL].iloc[0])


@pytest.mark.parametrize(("seed", "season"), [(0, 1), (1, 4), (2, 4), (3, 12)])
def test_mase_and_its_scale_match_utilsforecast(seed: int, season: int) -> None:
    train, test = _case(seed, n_train=30)
    expected = _uf(uf.mase(test, [MODEL], season, train))
    scale = mase_scale(train["y"].to_numpy(), season)
    assert mase(test["y"].to_numpy(), test[MODEL].to_numpy(), scale) == pytest.approx(expected, rel=1e-12)
    # utilsforecast's scale, recovered from its MAE and MASE: the mean absolute seasonal difference.
    assert scale == pytest.approx(_uf(uf.mae(test, [MODEL])) / expected, rel=1e-12)


def test_the_mase_scale_falls_back_to_lag_one_then_to_the_level() -> None:
    short = np.array([3.0, 5.0, 4.0, 8.0, 9.0, 7.0, 10.0, 12.0])  # 8 points: not more than two seasons of 4
    assert mase_scale(short, 4) == pytest.approx(np.mean(np.abs(np.diff(short))))
    seasonal_flat = np.tile([1.0, 2.0, 3.0, 4.0], 3)  # every lag-4 difference is 0, lag-1 ones are not
    assert mase_scale(seasonal_flat, 4) == pytest.approx(np.mean(np.abs(np.diff(seasonal_flat))))
    assert mase_scale(np.full(10, -6.0), 1) == 6.0
    assert mase_scale(np.zeros(10), 1) == 1.0
    assert mase_scale(np.array([]), 1) == 1.0
    with pytest.raises(ValueError, match="MASE scale must be positive"):
        mase(np.ones(3), np.ones(3), 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_smape_is_200_times_utilsforecasts(seed: int) -> None:
    _, test = _case(seed)
    expected = 200 * _uf(uf.smape(test, [MODEL]))
    assert smape(test["y"].to_numpy(), test[MODEL].to_numpy()) == pytest.approx(expected, rel=1e-12)


def test_smape_counts_zero_pairs_as_zero_ignores_nans_and_is_bounded() -> None:
    test = pd.DataFrame({"unique_id": "s", "ds": range(4), "y": [0.0, 0.0, 5.0, -2.0], MODEL: [0.0, 3.0, 5.0, 2.0]})
    assert smape(test["y"].to_numpy(), test[MODEL].to_numpy()) == pytest.approx(200 * _uf(uf.smape(test, [MODEL])))
    assert smape(test["y"].to_numpy(), test[MODEL].to_numpy()) == pytest.approx(100 * (0 + 2 + 0 + 2) / 4)
    a, p = np.array([10.0, np.nan, 4.0]), np.array([8.0, 3.0, np.nan])
    assert smape(a, p) == pytest.approx(200 * 2 / 18)  # only the complete pair counts
    assert smape(np.array([1.0]), np.array([-1.0])) == 200.0


@pytest.mark.parametrize("seed", range(4))
def test_coverage_matches_utilsforecast(seed: int) -> None:
    _, test = _case(seed, h=40)
    got = coverage(test["y"].to_numpy(), test[f"{MODEL}-lo-80"].to_numpy(), test[f"{MODEL}-hi-80"].to_numpy())
    assert got == pytest.approx(_uf(uf.coverage(test, [MODEL], 80)), abs=1e-12)
    assert 0 < got < 1  # the case has actuals both inside and outside


def test_coverage_counts_actuals_on_a_bound_as_inside_and_ignores_nans() -> None:
    a = np.array([1.0, 3.0, 2.0, 0.5, np.nan])
    lo, hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0]), np.array([3.0, 3.0, 3.0, 3.0, 3.0])
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": range(4), "y": a[:4], MODEL: 2.0, f"{MODEL}-lo-80": lo[:4], f"{MODEL}-hi-80": hi[:4]}
    )
    assert coverage(a, lo, hi) == _uf(uf.coverage(frame, [MODEL], 80)) == 0.75
    assert np.isnan(coverage(np.array([np.nan]), np.zeros(1), np.ones(1)))


@pytest.mark.parametrize("seed", range(4))
def test_interval_score_is_utilsforecasts_winkler_score(seed: int) -> None:
    _, test = _case(seed, h=40)
    lo, hi = test[f"{MODEL}-lo-80"].to_numpy(), test[f"{MODEL}-hi-80"].to_numpy()
    got = interval_score(test["y"].to_numpy(), lo, hi, 0.80)
    assert got == pytest.approx(_uf(uf.winkler_score(test, [MODEL], 80)), rel=1e-12)


def test_msis_is_the_winkler_score_over_the_mase_scale() -> None:
    train, test = _case(5, n_train=30, h=12)
    lo, hi = test[MODEL].to_numpy() - 2.0, test[MODEL].to_numpy() + 2.0
    test = test.assign(**{f"{MODEL}-lo-95": lo, f"{MODEL}-hi-95": hi})
    scale = mase_scale(train["y"].to_numpy(), 4)
    expected = _uf(uf.winkler_score(test, [MODEL], 95)) / scale
    assert interval_score(test["y"].to_numpy(), lo, hi, 0.95, scale) == pytest.approx(expected, rel=1e-12)


def test_interval_score_by_formula_below_inside_and_above() -> None:
    # 90% interval [10, 20]: width 10, a miss costs 2 / 0.1 = 20 per unit outside.
    a = np.array([7.0, 15.0, 21.0])
    assert interval_score(a, np.full(3, 10.0), np.full(3, 20.0), 0.9) == pytest.approx((70 + 10 + 30) / 3)
    with pytest.raises(ValueError, match="level must be a fraction"):
        interval_score(a, a, a, 90)
