"""Tornado data, goal-seek and the model-vs-assumption spread attribution."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.config import ALL
from forecasting.crossover import crossover_for
from forecasting.drivers import DRIVERS, uniform
from forecasting.paths import SamplePaths, stack
from forecasting.quarters import offsets
from forecasting.quarters import text as quarter_text
from forecasting.scenario import PRESETS, Scenario, apply_scenario
from forecasting.sensitivity import (
    TORNADO_COLUMNS,
    goal_seek,
    p50_quarters,
    spread_attribution,
    spread_frame,
    tornado,
    with_driver,
)

START = pd.Timestamp("2026-01-01")
H = 12


def noisy(
    n: int = 200, seed: int = 0, noise: float = 0.05, sectors: tuple[str, ...] = ("retail", "other")
) -> SamplePaths:
    """Training flat near 100, inference rising 60 + 5k with per-path noise: crosses near quarter 8."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range(START, periods=H, freq="QS")
    paths = {}
    for s in sectors:
        paths[f"{s}/training"] = 100 * np.exp(noise * rng.standard_normal((n, 1)) + np.zeros((1, H)))
        paths[f"{s}/inference"] = (60 + 5 * np.arange(H)) * np.exp(noise * rng.standard_normal((n, H)))
    history = pd.DataFrame(
        {
            "unique_id": [f"{s}/{w}" for s in sectors for w in ("training", "inference")],
            "ds": [pd.Timestamp("2025-10-01")] * (2 * len(sectors)),
            "y": [100.0, 55.0] * len(sectors),
        }
    )
    return stack(paths, periods, history)


def quarters(date: pd.Timestamp) -> float:
    return float(offsets(pd.DatetimeIndex([date]), START)[0])


def test_tornado_has_one_row_per_driver_sorted_by_absolute_shift() -> None:
    frame = tornado(noisy(), PRESETS["baseline"], "retail")
    assert list(frame.columns) == TORNADO_COLUMNS
    assert sorted(frame["driver"]) == sorted(d.key for d in DRIVERS)
    shifts = frame["shift_quarters"].abs().tolist()
    assert shifts == sorted(shifts, reverse=True)


def test_tornado_signs_follow_each_driver_direction() -> None:
    frame = tornado(noisy(), PRESETS["baseline"], "total").set_index("driver")
    assert frame.loc["edge_share", "shift_quarters"] > 0
    assert frame.loc["pretrained_share", "shift_quarters"] < 0
    assert frame.loc["realtime_growth", "shift_quarters"] < 0
    # With no edge share the target year cannot matter, and at unit elasticity neither can the price.
    assert frame.loc["edge_year", "shift_quarters"] == 0.0
    assert frame.loc["price_decline", "shift_quarters"] == 0.0


def test_tornado_flags_a_p50_beyond_the_horizon_as_censored() -> None:
    row = tornado(noisy(), PRESETS["baseline"], "retail", drivers=("edge_share",)).iloc[0]
    assert bool(row["censored"]) is True
    assert pd.isna(row["p50_high"])
    assert row["shift_quarters"] == pytest.approx(H - quarters(row["p50_low"]), abs=0.02)


def test_with_driver_for_total_replaces_sector_overrides() -> None:
    sc = Scenario("s", values={"retail": {"edge_share": 0.5}})
    moved = with_driver(sc, "total", "edge_share", 0.1)
    assert moved.value_for("retail", "edge_share").mode == 0.1
    assert moved.value_for("other", "edge_share").mode == 0.1


def test_goal_seek_answer_fed_back_reproduces_the_target_within_a_quarter() -> None:
    b, sc = noisy(), PRESETS["baseline"]
    target = pd.Timestamp("2027-04-01")
    res = goal_seek(b, sc, "retail", "pretrained_share", target)
    assert res.reachable and res.value is not None
    again = crossover_for(apply_scenario(b, sc.with_value("retail", "pretrained_share", res.value)), "retail")
    assert abs(quarters(again.p50) - quarters(target)) <= 1.0
    assert again.p50 == res.achieved_p50


def test_goal_seek_reports_the_reachable_interval_when_the_target_is_out_of_range() -> None:
    res = goal_seek(noisy(), PRESETS["baseline"], "retail", "adoption_ceiling", "2026-02-01")
    assert (res.reachable, res.value, res.achieved_p50) == (False, None, None)
    assert res.reachable_from is not None and res.reachable_from > pd.Timestamp("2026-02-01")
    # One sentence for the command line and the page (sensitivity.goal_seek_text), naming the sector.
    assert res.message.startswith("No value of AI adoption ceiling from ") and "crossover of Retail" in res.message
    assert quarter_text(res.reachable_from) in res.message
    assert not re.search(r"\d{4}-\d{2}-\d{2}", res.message)  # quarters, as every screen names crossover dates
    assert res.evaluations == 9


def test_goal_seek_refuses_a_target_beyond_the_horizon() -> None:
    res = goal_seek(noisy(), PRESETS["baseline"], "retail", "edge_share", "2031-01-01")
    assert res.reachable is False
    assert "beyond the forecast horizon" in res.message


def test_goal_seek_refuses_an_unknown_driver() -> None:
    with pytest.raises(ValueError, match="unknown driver 'magic'"):
        goal_seek(noisy(), PRESETS["baseline"], "retail", "magic", "2027-01-01")


def test_point_assumptions_leave_all_spread_to_the_model() -> None:
    res = spread_attribution(noisy(noise=0.1), PRESETS["baseline"], "retail")
    assert res.spread_assumptions == 0.0
    assert res.spread_model == res.spread_total > 0
    assert res.dominant == "model"


def test_identical_paths_leave_all_spread_to_the_assumptions() -> None:
    sc = Scenario("r", values={ALL: {"realtime_growth": uniform(0.0, 0.8)}})
    res = spread_attribution(noisy(noise=0.0), sc, "retail")
    assert res.spread_model == 0.0
    assert res.spread_assumptions > 0
    assert res.dominant == "assumptions"


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 0.6))
def test_p50_moves_monotonically_with_edge_share(seed: int, step: float) -> None:
    b = noisy(n=20, seed=seed)
    sc = PRESETS["baseline"]
    lo = p50_quarters(apply_scenario(b, sc.with_value(ALL, "edge_share", 0.0)), "total")
    hi = p50_quarters(apply_scenario(b, sc.with_value(ALL, "edge_share", step)), "total")
    assert hi >= lo


def test_spread_frame_has_a_row_per_sector_and_the_total_matching_the_single_call() -> None:
    b, sc = noisy(noise=0.1), PRESETS["fast_adoption"]
    frame = spread_frame(b, sc, seed=3)
    assert frame["sector"].tolist() == ["retail", "other", "total"]
    single = spread_attribution(b, sc, "other", seed=3)
    assert frame.set_index("sector").loc["other", "spread_total"] == single.spread_total
    assert frame.set_index("sector").loc["other", "dominant"] == single.dominant


def test_goal_seek_honours_the_threshold_rule() -> None:
    b, sc = noisy(), PRESETS["baseline"]
    target = pd.Timestamp("2028-01-01")
    res = goal_seek(b, sc, "retail", "realtime_growth", target, threshold=1.5)
    assert res.reachable and res.value is not None
    moved = apply_scenario(b, sc.with_value("retail", "realtime_growth", res.value))
    assert abs(quarters(crossover_for(moved, "retail", threshold=1.5).p50) - quarters(target)) <= 1.0
