"""Scenario drivers: neutral settings, exact driver effects, ranges, serialisation and properties."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.config import ALL, REPO_ROOT, SECTORS
from forecasting.crossover import crossing_quarters
from forecasting.drivers import DRIVER_BY_KEY, DRIVERS, SECTOR_ADOPTION, DriverValue, point, triangular, uniform
from forecasting.paths import SamplePaths, stack
from forecasting.scenario import PRESETS, Scenario, apply_scenario, driver_effects

START = pd.Timestamp("2026-01-01")
EMPTY_HISTORY = pd.DataFrame(columns=["unique_id", "ds", "y"])


def flat(
    n: int = 1, h: int = 6, sectors: tuple[str, ...] = ("healthcare",), train: float = 100.0, infer: float = 100.0
) -> SamplePaths:
    """Constant paths: makes every driver's multiplier directly visible."""
    paths = {}
    for s in sectors:
        paths[f"{s}/training"] = np.full((n, h), train)
        paths[f"{s}/inference"] = np.full((n, h), infer)
    return stack(paths, pd.date_range(START, periods=h, freq="QS"), EMPTY_HISTORY)


def one(key: str, value: DriverValue | float, **more: DriverValue | float) -> Scenario:
    return Scenario("t", values={ALL: {key: value, **more}})


def test_baseline_preset_reproduces_the_paths_bit_for_bit() -> None:
    b = flat(n=3, sectors=tuple(SECTORS))
    out = apply_scenario(b, PRESETS["baseline"])
    assert np.array_equal(out.paths, b.paths)
    assert out.paths is not b.paths


def test_every_driver_set_explicitly_to_neutral_reproduces_the_paths() -> None:
    rng = np.random.default_rng(3)
    b = flat(n=4, sectors=tuple(SECTORS))
    b = b.with_paths(b.paths * rng.lognormal(0, 1, b.paths.shape))
    neutral = Scenario("n", values={s: {d.key: d.neutral for d in DRIVERS} for s in (ALL, *SECTORS)})
    assert np.array_equal(apply_scenario(b, neutral).paths, b.paths)


def test_apply_scenario_never_mutates_its_input() -> None:
    b = flat(n=2)
    before = b.paths.copy()
    apply_scenario(b, PRESETS["open_model_boom"])
    assert np.array_equal(b.paths, before)


def test_edge_offload_ramps_linearly_to_the_target_year() -> None:
    # Jump-off 2025Q4; 2027-01-01 is 5 quarters later, so half the inference moves in fifths.
    out = apply_scenario(flat(), one("edge_share", 0.5, edge_year=2027.0))
    np.testing.assert_allclose(out.paths[0, 0, 1], [90, 80, 70, 60, 50, 50], rtol=1e-12)
    assert np.array_equal(out.paths[0, 0, 0], np.full(6, 100.0))


def test_edge_target_year_already_past_applies_the_full_share_at_once() -> None:
    out = apply_scenario(flat(), one("edge_share", 0.3, edge_year=2026.0))
    np.testing.assert_allclose(out.paths[0, 0, 1][1:], np.full(5, 70.0), rtol=1e-12)


def test_realtime_growth_compounds_yearly_on_inference_only() -> None:
    out = apply_scenario(flat(), one("realtime_growth", 0.21))
    np.testing.assert_allclose(out.paths[0, 0, 1, [1, 3, 5]], [110.0, 121.0, 133.1], rtol=1e-12)
    assert np.array_equal(out.paths[0, 0, 0], np.full(6, 100.0))


def test_pretrained_models_move_training_into_a_quarter_as_much_inference() -> None:
    # Share 0.4 phased in over 8 quarters: 0.2 replaced by the 4th quarter.
    out = apply_scenario(flat(), one("pretrained_share", 0.4))
    assert out.paths[0, 0, 0, 3] == pytest.approx(80.0, rel=1e-12)
    assert out.paths[0, 0, 1, 3] == pytest.approx(105.0, rel=1e-12)


def test_cost_decline_raises_inference_spend_when_demand_is_elastic() -> None:
    # Price falls 36%/year with elasticity 2: spend x (0.64)^(1-2) per year, 1.25 after half a year.
    out = apply_scenario(flat(), one("price_decline", 0.36, price_elasticity=2.0))
    assert out.paths[0, 0, 1, 1] == pytest.approx(125.0, rel=1e-12)
    assert out.paths[0, 0, 0, 1] == 100.0


def test_cost_decline_lowers_inference_spend_when_demand_is_inelastic() -> None:
    out = apply_scenario(flat(), one("price_decline", 0.36, price_elasticity=0.5))
    assert out.paths[0, 0, 1, 1] == pytest.approx(100 * 0.64**0.25, rel=1e-12)


def test_faster_adoption_scales_inference_twice_as_much_as_training_in_logs() -> None:
    out = apply_scenario(flat(), one("adoption_speed", 1.2))
    a0, tau = SECTOR_ADOPTION["healthcare"][0], 1.5

    def curve(r: float) -> float:
        return 0.9 / (1 + (0.9 / a0 - 1) * np.exp(-r * tau))

    ratio = curve(1.2) / curve(0.48)
    assert out.paths[0, 0, 1, 5] == pytest.approx(100 * ratio, rel=1e-12)
    assert out.paths[0, 0, 0, 5] == pytest.approx(100 * ratio**0.5, rel=1e-12)


def test_sector_entry_overrides_the_all_sectors_value() -> None:
    sc = Scenario("o", values={ALL: {"edge_share": 0.2}, "retail": {"edge_share": 0.6}})
    assert sc.value_for("retail", "edge_share") == point(0.6)
    assert sc.value_for("healthcare", "edge_share") == point(0.2)
    assert sc.value_for("healthcare", "pretrained_share") == point(0.0)


def test_ranges_draw_one_assumption_set_per_path_within_the_range() -> None:
    out = apply_scenario(flat(n=200), one("edge_share", uniform(0.2, 0.4), edge_year=2026.0), seed=5)
    shares = 1 - out.paths[:, 0, 1, -1] / 100
    assert shares.min() >= 0.2 and shares.max() <= 0.4
    assert len(np.unique(shares)) == 200


def test_an_inherited_range_is_the_same_draw_in_every_sector() -> None:
    b = flat(n=50, sectors=("healthcare", "retail"))
    out = apply_scenario(b, one("edge_share", uniform(0.2, 0.4), edge_year=2026.0), seed=5)
    assert np.array_equal(out.paths[:, 0, 1], out.paths[:, 1, 1])


def test_same_seed_gives_the_same_paths_and_another_seed_does_not() -> None:
    b, sc = flat(n=20), PRESETS["fast_adoption"]
    assert np.array_equal(apply_scenario(b, sc, seed=1).paths, apply_scenario(b, sc, seed=1).paths)
    assert not np.array_equal(apply_scenario(b, sc, seed=1).paths, apply_scenario(b, sc, seed=2).paths)


def test_a_sector_gets_the_same_draws_whichever_other_sectors_the_baseline_holds() -> None:
    b = flat(n=30, sectors=("healthcare", "retail", "other"))
    sc = Scenario("r", values={ALL: {"realtime_growth": uniform(0, 1)}, "retail": {"edge_share": uniform(0, 0.5)}})
    whole = apply_scenario(b, sc, seed=4)
    alone = apply_scenario(b.subset(("retail",)), sc, seed=4)
    assert np.array_equal(alone.paths[:, 0], whole.paths[:, 1])


def test_n_draws_reuses_baseline_paths_in_turn() -> None:
    b = flat(n=3)
    b = b.with_paths(b.paths * np.array([1.0, 2.0, 3.0])[:, None, None, None])
    out = apply_scenario(b, PRESETS["baseline"], n_draws=7)
    assert out.paths[:, 0, 0, 0].tolist() == [100.0, 200.0, 300.0, 100.0, 200.0, 300.0, 100.0]


def test_every_preset_round_trips_through_json() -> None:
    for preset in PRESETS.values():
        assert Scenario.from_dict(json.loads(json.dumps(preset.to_dict()))) == preset


def test_scenarios_survive_pickle_and_deepcopy_as_caches_need() -> None:
    for preset in PRESETS.values():
        assert pickle.loads(pickle.dumps(preset)) == preset
        assert copy.deepcopy(preset) == preset


def test_driver_values_serialise_as_numbers_or_named_ranges() -> None:
    assert point(0.3).to_json() == 0.3
    assert uniform(0.1, 0.2).to_json() == {"uniform": [0.1, 0.2]}
    assert DriverValue.from_json({"triangular": [0.1, 0.2, 0.5]}) == triangular(0.1, 0.2, 0.5)
    assert triangular(0.1, 0.2, 0.5).centre() == 0.2
    assert uniform(0.1, 0.3).centre() == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x", "values": {ALL: {"edge_share": 0.95}}}, "outside"),
        ({"name": "x", "values": {ALL: {"warp_speed": 1}}}, "unknown driver 'warp_speed'"),
        ({"name": "x", "values": {"total": {"edge_share": 0.1}}}, "bad sector 'total'"),
        ({"name": "x", "values": {ALL: {"edge_share": {"normal": [0, 1]}}}}, "not a driver value"),
        ({"name": " "}, "non-empty name"),
        ({"values": {}}, "needs a 'name'"),
        # A misspelt key saved a scenario with every driver neutral; a dict became the text "{'a': 1}".
        ({"name": "x", "valuess": {ALL: {"edge_share": 0.1}}}, "unknown key 'valuess' in a scenario; expected name"),
        ({"name": "x", "description": {"a": 1}}, "'description' must be text"),
        # A reversed range said "need lo <= mode <= hi, got 0.5, 0.3, 0.1", naming a mode it was never given.
        (
            {"name": "x", "values": {ALL: {"edge_share": {"uniform": [0.5, 0.1]}}}},
            r"^all/edge_share: a uniform range needs low <= high, got \[0.5, 0.1\]$",
        ),
    ],
)
def test_bad_scenarios_are_refused_with_a_clear_message(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario.from_dict(raw)


def test_triangular_with_mode_outside_its_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match=r"a triangular value needs low <= mode <= high, got \[0.5, 0.1, 0.6\]"):
        triangular(0.5, 0.1, 0.6)


def test_from_paths_needs_both_workloads_and_non_negative_spend() -> None:
    periods = pd.date_range(START, periods=2, freq="QS")
    with pytest.raises(ValueError, match="retail/inference"):
        stack({"retail/training": np.ones((1, 2))}, periods, EMPTY_HISTORY)
    with pytest.raises(ValueError, match=">= 0"):
        stack({"retail/training": -np.ones((1, 2)), "retail/inference": np.ones((1, 2))}, periods, EMPTY_HISTORY)


def test_from_paths_refuses_unknown_series_and_irregular_periods() -> None:
    ones = np.ones((1, 2))
    periods = pd.date_range(START, periods=2, freq="QS")
    with pytest.raises(ValueError, match="unknown series"):
        stack({"mars/landing": ones, "mars/inference": ones}, periods, EMPTY_HISTORY)
    paths = {"retail/training": ones, "retail/inference": ones}
    with pytest.raises(ValueError, match="consecutive quarter starts"):
        stack(paths, pd.DatetimeIndex(["2026-01-01", "2026-07-01"]), EMPTY_HISTORY)
    with pytest.raises(ValueError, match="consecutive quarter starts"):
        stack(paths, pd.DatetimeIndex(["2026-01-15", "2026-04-15"]), EMPTY_HISTORY)


def test_from_paths_orders_sectors_as_config_does() -> None:
    periods = pd.date_range(START, periods=2, freq="QS")
    paths = {f"{s}/{w}": np.ones((1, 2)) for s in ("other", "healthcare") for w in ("training", "inference")}
    assert stack(paths, periods, EMPTY_HISTORY).sectors == ("healthcare", "other")


ESTIMATES = pd.read_csv(REPO_ROOT / "data" / "published_estimates.csv").set_index("estimate_id")["value"]


def test_every_cited_estimate_exists_in_the_curated_figures() -> None:
    cited = [e for d in DRIVERS for e in d.estimates] + [row[2] for row in SECTOR_ADOPTION.values()]
    assert [e for e in cited if e not in ESTIMATES.index] == []
    for share, _, estimate in SECTOR_ADOPTION.values():
        assert ESTIMATES[estimate] == share


def test_defaults_follow_from_their_published_figures() -> None:
    y24, y25 = (ESTIMATES[e] for e in DRIVER_BY_KEY["adoption_speed"].estimates)
    ceiling = DRIVER_BY_KEY["adoption_ceiling"].default

    def logit(a: float) -> float:
        return float(np.log(a / (ceiling - a)))

    assert round(logit(y25) - logit(y24), 2) == DRIVER_BY_KEY["adoption_speed"].default
    e25, e30 = (ESTIMATES[e] for e in DRIVER_BY_KEY["edge_share"].estimates)
    # The source counts tasks, the driver spend: the task figure is the upper bound of the default range.
    assert DRIVER_BY_KEY["edge_share"].default_range == (0.0, round((e30 - e25) / (1 - e25), 2))
    assert DRIVER_BY_KEY["edge_share"].published().kind == "uniform"
    # "at least 10x" volume at a 10x price fall: elasticity at least 1, a range starting there.
    assert DRIVER_BY_KEY["price_elasticity"].default_range == (1.0, 1.5)
    # No source measures training replaced by pre-trained models: neutral.
    assert DRIVER_BY_KEY["pretrained_share"].default == DRIVER_BY_KEY["pretrained_share"].neutral == 0.0
    assert ESTIMATES[DRIVER_BY_KEY["price_decline"].estimates[0]] == DRIVER_BY_KEY["price_decline"].default


def test_every_driver_default_cites_a_source_or_states_an_assumption() -> None:
    for d in DRIVERS:
        assert d.min <= d.neutral <= d.max and d.min <= d.default <= d.max
        assert any(ch.isdigit() for ch in d.reason), d.key


# -- properties ---------------------------------------------------------------------------------


def drv(key: str) -> st.SearchStrategy[float]:
    d = DRIVER_BY_KEY[key]
    return st.floats(d.min, d.max, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random scenario with a point value for every driver."""
    return Scenario("h", values={ALL: {d.key: draw(drv(d.key)) for d in DRIVERS}})


@st.composite
def random_baselines(draw: st.DrawFn) -> SamplePaths:
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n, h = 4, draw(st.integers(3, 8))
    paths = {}
    for s in ("financial_services", "manufacturing"):
        paths[f"{s}/training"] = 100 * np.exp(np.cumsum(rng.normal(0, 0.2, (n, h)), axis=1))
        paths[f"{s}/inference"] = 50 * np.exp(np.cumsum(rng.normal(0.15, 0.2, (n, h)), axis=1))
    return stack(paths, pd.date_range(START, periods=h, freq="QS"), EMPTY_HISTORY)


@settings(max_examples=40, deadline=None)
@given(random_baselines())
def test_neutral_settings_equal_the_baseline_on_any_paths(b: SamplePaths) -> None:
    assert np.array_equal(apply_scenario(b, PRESETS["baseline"]).paths, b.paths)


@settings(max_examples=40, deadline=None)
@given(random_baselines(), scenarios())
def test_no_scenario_makes_any_spend_negative(b: SamplePaths, sc: Scenario) -> None:
    out = apply_scenario(b, sc)
    assert (out.paths >= 0).all() and np.isfinite(out.paths).all()


@settings(max_examples=40, deadline=None)
@given(scenarios(), st.sampled_from(list(SECTORS)))
def test_edge_and_pretrained_shares_stay_within_zero_and_one(sc: Scenario, sector: str) -> None:
    values = {d.key: sc.value_for(sector, d.key).mode for d in DRIVERS}
    fx = driver_effects(sector, values, pd.date_range(START, periods=12, freq="QS"))
    for share in (fx.cloud, fx.pretrained):
        assert ((share >= 0) & (share <= 1)).all()
    assert (fx.training >= 0).all() and (fx.inference >= 0).all() and (fx.conversion >= 0).all()


@settings(max_examples=30, deadline=None)
@given(random_baselines(), scenarios(), drv("edge_share"), drv("edge_share"))
def test_more_edge_offload_never_makes_crossover_earlier(b: SamplePaths, sc: Scenario, e1: float, e2: float) -> None:
    lo, hi = sorted((e1, e2))
    for s in (*b.sectors, "total"):
        q_lo = crossing_quarters(apply_scenario(b, sc.with_value(ALL, "edge_share", lo)), s)[0]
        q_hi = crossing_quarters(apply_scenario(b, sc.with_value(ALL, "edge_share", hi)), s)[0]
        assert (q_hi >= q_lo - 1e-9).all()


@settings(max_examples=30, deadline=None)
@given(random_baselines(), scenarios(), drv("pretrained_share"), drv("pretrained_share"))
def test_more_pretrained_proliferation_never_makes_crossover_later(
    b: SamplePaths, sc: Scenario, p1: float, p2: float
) -> None:
    lo, hi = sorted((p1, p2))
    for s in (*b.sectors, "total"):
        q_lo = crossing_quarters(apply_scenario(b, sc.with_value(ALL, "pretrained_share", lo)), s)[0]
        q_hi = crossing_quarters(apply_scenario(b, sc.with_value(ALL, "pretrained_share", hi)), s)[0]
        assert (q_hi <= q_lo + 1e-9).all()


def test_an_imported_sector_takes_scenarios_like_a_shipped_one() -> None:
    b = flat(n=2, sectors=("healthcare", "acme_corp"))
    assert b.sectors == ("healthcare", "acme_corp")
    edge = apply_scenario(b, Scenario("t", values={"acme_corp": {"edge_share": 0.5, "edge_year": 2026.0}}))
    assert np.array_equal(edge.paths[:, 0], b.paths[:, 0])
    assert (edge.paths[:, 1, 1] < b.paths[:, 1, 1]).all()


def test_total_is_not_a_sector_of_a_baseline() -> None:
    with pytest.raises(ValueError, match="unknown series"):
        flat(sectors=("total",))
