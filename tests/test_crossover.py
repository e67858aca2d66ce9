"""Crossover rule, states and distribution: exact hand-built cases plus synthetic and property checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.crossover import (
    CROSSED_IN_HISTORY,
    CROSSES_WITHIN_HORIZON,
    CROSSOVER_COLUMNS,
    NEVER_IN_PATHS,
    NOT_WITHIN_HORIZON,
    crossing_quarters,
    crossover_distribution,
    crossover_for,
    crossover_frame,
    first_crossing,
)
from forecasting.paths import SamplePaths, stack
from forecasting.quarters import offsets, to_date
from forecasting.reports.tables import probability_rows
from forecasting.scenario import PRESETS, apply_scenario

START = pd.Timestamp("2026-01-01")
TS = pd.Timestamp


def one_sector(train, infer, hist_train=(), hist_infer=(), sector: str = "healthcare") -> SamplePaths:
    """A one-sector baseline from (n_paths, H) or (H,) arrays and an optional history just before it."""
    train, infer = np.atleast_2d(np.asarray(train, float)), np.atleast_2d(np.asarray(infer, float))
    periods = pd.date_range(START, periods=train.shape[1], freq="QS")
    hist_ds = pd.date_range(end=START - pd.offsets.QuarterBegin(startingMonth=1), periods=len(hist_train), freq="QS")
    history = pd.DataFrame(
        {
            "unique_id": [f"{sector}/training"] * len(hist_train) + [f"{sector}/inference"] * len(hist_infer),
            "ds": list(hist_ds) * 2,
            "y": [*hist_train, *hist_infer],
        }
    )
    paths = {f"{sector}/training": train, f"{sector}/inference": infer}
    return stack(paths, periods, history)


def test_crossing_is_interpolated_linearly_within_the_quarter() -> None:
    b = one_sector([10, 10, 10], [6, 12, 14], [10], [4])
    c = crossover_for(b, "healthcare")
    # 2026Q2 is the first quarter with inference >= training. Values sit at quarter ends: gap -4 at
    # 2026-04-01 (end of Q1) and +2 at 2026-07-01 (end of Q2): zero 4/6 of 91 days in, rounded.
    assert c.state == CROSSES_WITHIN_HORIZON
    assert (c.p10, c.p50, c.p90) == (TS("2026-06-01"), TS("2026-06-01"), TS("2026-06-01"))
    assert c.crossed_at is None
    assert c.prob_by_quarter.tolist() == [0.0, 1.0, 1.0]
    assert c.prob_within_horizon == 1.0


def test_crossing_between_last_observed_and_first_forecast_quarter_lands_in_between() -> None:
    b = one_sector([10, 10], [12, 13], [10], [8])
    c = crossover_for(b, "healthcare")
    assert c.state == CROSSES_WITHIN_HORIZON
    assert c.p50 == TS("2026-02-15")  # half of 2026Q1's 90 days: gap -2 at its start, +2 at its end
    assert crossing_quarters(b, "healthcare")[0].tolist() == [0.5]


def test_crossover_in_history_is_reported_with_its_date_even_if_paths_fall_back() -> None:
    b = one_sector([10, 10], [1, 1], [10, 10, 10], [5, 10, 12])
    c = crossover_for(b, "healthcare")
    assert c.state == CROSSED_IN_HISTORY
    # inference == training counts as crossed: at the end of 2025Q3, the quarter where they meet
    assert c.crossed_at == TS("2025-10-01")
    assert c.p50 == TS("2025-10-01")
    assert c.prob_by_quarter.tolist() == [1.0, 1.0]


def test_crossover_is_never_in_paths_when_lines_never_meet() -> None:
    b = one_sector([[10, 10, 10], [10, 10, 10]], [[1, 2, 3], [4, 5, 6]], [10], [1])
    c = crossover_for(b, "healthcare")
    assert (c.state, c.p10, c.p50, c.p90, c.prob_within_horizon) == (NEVER_IN_PATHS, None, None, None, 0.0)
    assert c.prob_by_quarter.tolist() == [0.0, 0.0, 0.0]


def test_a_quarter_in_which_both_spends_are_zero_is_not_a_crossing() -> None:
    # Two paths whose spend falls to zero (a raw-scale band clipped at zero) and one that crosses:
    # both spends at zero meet "inference >= training", but nothing has overtaken anything there.
    train = np.array([[10, 0, 0], [10, 0, 10], [10, 10, 10]], float)
    infer = np.array([[6, 0, 0], [6, 0, 8], [6, 8, 12]], float)
    c = crossover_for(one_sector(train, infer, [10, 0], [4, 0]), "healthcare")
    assert c.crossed_at is None  # the history's zero quarter is not a crossing either
    assert c.prob_within_horizon == pytest.approx(1 / 3)
    assert np.isinf(crossing_quarters(one_sector(train, infer), "healthcare")[0][:2]).all()


def test_crossover_is_not_within_horizon_when_a_minority_of_paths_cross() -> None:
    train = np.full((4, 3), 10.0)
    infer = np.array([[5, 8, 11], [5, 6, 7], [5, 6, 7], [5, 6, 7]], float)
    c = crossover_for(one_sector(train, infer, [10], [4]), "healthcare")
    assert c.state == NOT_WITHIN_HORIZON
    assert c.prob_within_horizon == 0.25
    assert c.p10 == TS("2026-08-31")  # gap -2 -> +1 across 2026Q3: 2/3 of 92 days, rounded to the day
    assert (c.p50, c.p90) == (None, None)
    assert c.prob_by_quarter.tolist() == [0.0, 0.0, 0.25]


def test_threshold_asks_when_inference_reaches_a_multiple_of_training() -> None:
    b = one_sector([10, 10, 10], [12, 18, 21], [10], [8])
    assert crossover_for(b, "healthcare").p50 == TS("2026-02-15")
    twice = crossover_for(b, "healthcare", threshold=2.0)
    assert (twice.state, twice.threshold) == (CROSSES_WITHIN_HORIZON, 2.0)
    assert twice.p50 == TS("2026-08-31")  # gap -2 -> +1 across 2026Q3: 2/3 of 92 days, rounded


@pytest.mark.parametrize("threshold", [0.0, -1.0, float("nan"), float("inf")])
def test_threshold_must_be_a_positive_ratio(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        crossing_quarters(one_sector([1], [2]), "healthcare", threshold=threshold)


def test_a_threshold_too_large_to_reach_is_never_reached_without_a_warning() -> None:
    """A ratio like 1e308 overflows ``threshold * training``: no crossing, and no NumPy warning on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        times, history = crossing_quarters(one_sector([10, 10], [20, 30], [10], [40]), "healthcare", threshold=1e308)
    assert np.isinf(times).all() and np.isinf(history)


def test_persistence_k_skips_a_one_quarter_blip() -> None:
    gap = np.array([[-1.0, 1.0, -1.0, 1.0, 1.0]])
    assert first_crossing(gap, 1).tolist() == [0.5]
    assert first_crossing(gap, 2).tolist() == [2.5]
    assert first_crossing(gap, 3).tolist() == [np.inf]


def test_persistence_run_must_fit_inside_the_horizon() -> None:
    assert first_crossing(np.array([[-1.0, -1.0, -1.0, 3.0]]), 2).tolist() == [np.inf]


def test_first_period_counts_without_interpolation_when_nothing_precedes_it() -> None:
    assert first_crossing(np.array([[0.0, 1.0], [-3.0, 1.0]])).tolist() == [0.0, 0.75]


def test_persistence_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        first_crossing(np.zeros((1, 3)), 0)


def test_unknown_sector_is_refused() -> None:
    with pytest.raises(ValueError, match="retail"):
        crossing_quarters(one_sector([1], [2]), "retail")


def test_total_crosses_on_the_summed_paths_even_when_no_sector_does() -> None:
    periods = pd.date_range(START, periods=3, freq="QS")
    paths = {
        "healthcare/training": np.array([[10.0, 10, 10]]),
        "healthcare/inference": np.array([[5.0, 5, 5]]),
        "retail/training": np.array([[1.0, 1, 1]]),
        "retail/inference": np.array([[0.0, 5, 9]]),
    }
    b = stack(paths, periods, pd.DataFrame(columns=["unique_id", "ds", "y"]))
    res = crossover_distribution(b)
    assert list(res) == ["healthcare", "retail", "total"]
    assert res["healthcare"].state == NEVER_IN_PATHS
    assert res["retail"].p50 == TS("2026-04-19")  # gap -1 -> +4 across 2026Q2: a fifth of 91 days
    assert res["total"].p50 == TS("2026-07-24")  # gap -1 -> +3 across 2026Q3: a quarter of 92 days


def _with_a_late_sector(back: bool) -> SamplePaths:
    """Healthcare observed for 8 quarters (inference overtakes in the 3rd), 'acme' for the last one only."""
    periods = pd.date_range(START, periods=2, freq="QS")
    hist = pd.date_range(end=START - pd.offsets.QuarterBegin(startingMonth=1), periods=8, freq="QS")
    train, infer = np.full(8, 10.0), np.array([4.0, 8, 12, 14, 16, 18, 20, 22])
    rows = [("healthcare/training", d, t) for d, t in zip(hist, train, strict=True)]
    rows += [("healthcare/inference", d, i) for d, i in zip(hist, infer, strict=True)]
    rows += [("acme/training", hist[-1], 10.0), ("acme/inference", hist[-1], 4.0)]
    history = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    paths = {
        "healthcare/training": np.array([[10.0, 10]]),
        "healthcare/inference": np.array([[24.0, 26]]),
        "acme/training": np.array([[10.0, 10]]),
        "acme/inference": np.array([[4.0, 4]]),
    }
    b = stack(paths, periods, history)
    if back:  # observed history on every path, as ``structural.attach`` gives the statistical sectors
        full = np.full((1, 2, 2, 8), np.nan)
        for j, s in enumerate(b.sectors):
            ds, t, i = b.history_of(s)
            pos = hist.get_indexer(pd.DatetimeIndex(ds))
            full[0, j, 0, pos], full[0, j, 1, pos] = t, i
        b = SamplePaths(b.sectors, b.periods, b.paths, b.history, back=full, back_periods=hist)
    return b


@pytest.mark.parametrize("back", [False, True])
def test_a_sector_with_one_recent_quarter_does_not_cut_the_total_s_history(back: bool) -> None:
    res = crossover_distribution(_with_a_late_sector(back))["total"]
    # Healthcare's inference passes its training between its 2nd and 3rd quarters (8 -> 12 against 10);
    # before, the total's history was cut to acme's one quarter and the crossing was missed.
    assert res.state == CROSSED_IN_HISTORY
    assert res.p50 < START - pd.DateOffset(years=1)


def test_quarter_offsets_and_dates_round_trip() -> None:
    dates = pd.DatetimeIndex(["2025-10-01", "2026-01-01", "2026-02-15", "2027-04-01"])
    assert offsets(dates, START).tolist() == [-1.0, 0.0, 0.5, 5.0]
    assert [to_date(q, START) for q in (-1.0, 0.5, 5.0)] == [TS(d) for d in ("2025-10-01", "2026-02-15", "2027-04-01")]
    assert to_date(np.inf, START) is None


def test_tidy_frames_carry_one_row_per_sector_and_per_period() -> None:
    res = crossover_distribution(one_sector([10, 10, 10], [6, 12, 14], [10], [4]))
    frame = crossover_frame(res)
    assert list(frame.columns) == CROSSOVER_COLUMNS
    assert frame["sector"].tolist() == ["healthcare", "total"]
    assert frame["label"].tolist() == ["Healthcare", "Total market"]
    assert frame["p50"].tolist() == [TS("2026-06-01")] * 2
    assert frame[["k", "threshold"]].drop_duplicates().values.tolist() == [[1, 1.0]]
    probs = probability_rows(res)
    assert list(probs.columns) == ["sector", "quarter", "crossed_by", "probability"]
    assert probs["probability"].tolist() == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    # "Crossed by a quarter" is by its end: each row is dated on its quarter's last day.
    first = one_sector([10, 10, 10], [6, 12, 14], [10], [4]).periods
    assert probs["crossed_by"].iloc[:3].tolist() == [p + pd.offsets.QuarterEnd(0) for p in first]
    assert probs["quarter"].iloc[:3].tolist() == [f"{p.year}Q{p.quarter}" for p in first]


def _synthetic(noise: float, seed: int = 1, n: int = 400) -> SamplePaths:
    """Training flat at 100, inference 60 + 5k: noiseless, they meet in quarter 8, i.e. at its end (9.0)."""
    rng = np.random.default_rng(seed)
    k = np.arange(16)
    level = np.exp(noise * rng.standard_normal((n, 1)) + noise / 4 * rng.standard_normal((n, 16)))
    return one_sector(np.full((n, 16), 100.0), (60 + 5 * k) * level, [100, 100], [50, 55])


def test_p50_of_a_known_crossing_lies_within_one_quarter_of_it() -> None:
    c = crossover_for(_synthetic(noise=0.1), "healthcare")
    assert abs(offsets(pd.DatetimeIndex([c.p50]), START)[0] - 9.0) <= 1.0


def test_p10_p90_band_narrows_as_noise_shrinks() -> None:
    widths = []
    for noise in (0.2, 0.1, 0.02):
        c = crossover_for(_synthetic(noise=noise), "healthcare")
        widths.append((c.p90 - c.p10).days)
    assert widths[0] > widths[1] > widths[2]


@st.composite
def baselines(draw: st.DrawFn) -> SamplePaths:
    """Two sectors, a few paths, random walks that may or may not cross."""
    seed = draw(st.integers(0, 2**31 - 1))
    n, h = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    rng = np.random.default_rng(seed)
    periods = pd.date_range(START, periods=h, freq="QS")
    paths = {}
    for s in ("retail", "other"):
        paths[f"{s}/training"] = 100 * np.exp(np.cumsum(rng.normal(0, 0.3, (n, h)), axis=1))
        paths[f"{s}/inference"] = 60 * np.exp(np.cumsum(rng.normal(0.1, 0.3, (n, h)), axis=1))
    hist = pd.DataFrame(
        {
            "unique_id": ["retail/training", "retail/inference", "other/training", "other/inference"],
            "ds": [TS("2025-10-01")] * 4,
            "y": [100.0, 60.0, 100.0, 60.0],
        }
    )
    return stack(paths, periods, hist)


@settings(max_examples=40, deadline=None)
@given(baselines(), st.floats(0.01, 1000.0), st.integers(1, 3))
def test_scaling_every_spend_by_a_constant_leaves_crossover_times_unchanged(b: SamplePaths, c: float, k: int) -> None:
    scaled = SamplePaths(b.sectors, b.periods, b.paths * c, b.history.assign(y=b.history["y"] * c))
    for s in (*b.sectors, "total"):
        np.testing.assert_allclose(crossing_quarters(scaled, s, k)[0], crossing_quarters(b, s, k)[0], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(baselines())
def test_total_equals_sum_of_sectors_on_every_path(b: SamplePaths) -> None:
    out = apply_scenario(b, PRESETS["open_model_boom"])
    total = out.of("total")
    np.testing.assert_allclose(total, out.of("retail") + out.of("other"), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(baselines(), st.integers(1, 3))
def test_probability_by_period_never_decreases_and_ends_at_the_within_horizon_share(b: SamplePaths, k: int) -> None:
    for c in crossover_distribution(b, k).values():
        probs = c.prob_by_quarter.to_numpy()
        assert (np.diff(probs) >= 0).all()
        assert probs[-1] == c.prob_within_horizon


@settings(max_examples=40, deadline=None)
@given(baselines(), st.floats(0.2, 3.0), st.floats(0.2, 3.0))
def test_a_higher_threshold_never_makes_a_crossing_earlier(b: SamplePaths, r1: float, r2: float) -> None:
    lo, hi = sorted((r1, r2))
    for s in (*b.sectors, "total"):
        assert (crossing_quarters(b, s, threshold=hi)[0] >= crossing_quarters(b, s, threshold=lo)[0] - 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(baselines(), st.integers(1, 3))
def test_a_longer_persistence_never_makes_a_crossing_earlier(b: SamplePaths, k: int) -> None:
    for s in (*b.sectors, "total"):
        assert (crossing_quarters(b, s, k + 1)[0] >= crossing_quarters(b, s, k)[0]).all()
