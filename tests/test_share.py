"""The share model: S-curves fitted to anchors of several definitions, bounds as bounds, evidence weights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from forecasting import share
from forecasting.share import Anchor, crossing_year, fit

CLOUD, COMPUTE = "cloud_ai_infrastructure_spend", "ai_compute"


def exact(family: int, k: float, t0: float, offset: float, definition: str, years: list[float]) -> list[Anchor]:
    """Anchors lying exactly on one curve."""
    y = share.logit_curve(np.array([family]), np.array([k]), np.array([t0]), np.array(years))[0] + offset
    return [Anchor(definition, t, float(special.expit(v))) for t, v in zip(years, y, strict=True)]


def test_many_exact_anchors_pin_the_curve_and_its_crossing_year() -> None:
    anchors = exact(0, 0.6, 2026.0, 0.0, CLOUD, [2020.0 + i for i in range(12)])
    draws = fit(anchors, 800, seed=3)
    years = crossing_year(draws, CLOUD)
    assert np.median(years) == pytest.approx(2026.0, abs=0.15)
    assert np.quantile(years, 0.9) - np.quantile(years, 0.1) < 1.0


def test_an_offset_definition_is_read_as_the_same_curve_moved_in_logit() -> None:
    cloud = exact(0, 0.5, 2026.0, -0.25, CLOUD, [2021.0, 2023.0, 2025.0, 2027.0, 2029.0])
    compute = exact(0, 0.5, 2026.0, 0.25, COMPUTE, [2021.0, 2023.0, 2025.0, 2027.0, 2029.0])
    draws = fit(cloud + compute, 800, seed=5, definitions=(CLOUD, COMPUTE))
    gap = draws.offsets[:, 1] - draws.offsets[:, 0]
    assert np.median(gap) == pytest.approx(0.5, abs=0.1)
    # Compute's share is ahead, so it crosses one half earlier: 0.5 logit / 0.5 per year = one year.
    assert np.median(crossing_year(draws, CLOUD) - crossing_year(draws, COMPUTE)) == pytest.approx(1.0, abs=0.2)


def test_a_lower_bound_is_a_bound_not_a_point() -> None:
    points = exact(0, 0.4, 2027.0, 0.0, CLOUD, [2022.0, 2024.0, 2026.0])
    as_bound = fit([*points, Anchor(CLOUD, 2030.0, 0.55, "lower")], 800, seed=2)
    as_point = fit([*points, Anchor(CLOUD, 2030.0, 0.55, "point")], 800, seed=2)
    at_2030_bound = np.median(as_bound.share(CLOUD, np.array([2030.0])))
    at_2030_point = np.median(as_point.share(CLOUD, np.array([2030.0])))
    # The curve through the points reaches ~0.77 by 2030: a point at 0.55 pulls it down, a bound does not.
    assert at_2030_bound > 0.7 > at_2030_point


def test_the_evidence_prefers_the_family_that_made_the_data() -> None:
    years = [2018.0 + i for i in range(14)]
    gompertz = fit(exact(1, 0.35, 2025.0, 0.0, CLOUD, years), 400, seed=1)
    logistic = fit(exact(0, 0.35, 2025.0, 0.0, CLOUD, years), 400, seed=1)
    assert {f.family: f.weight for f in gompertz.fits}["gompertz"] > 0.9
    assert {f.family: f.weight for f in logistic.fits}["logistic"] > 0.9


def test_without_anchors_the_priors_give_a_wide_answer() -> None:
    years = crossing_year(fit([], 1000, seed=0), CLOUD)
    assert np.quantile(years, 0.9) - np.quantile(years, 0.1) > 8


def test_the_fit_is_deterministic_for_a_seed_and_moves_with_it() -> None:
    anchors = exact(0, 0.4, 2026.0, 0.0, CLOUD, [2022.0, 2024.0, 2026.0])
    a, b, c = fit(anchors, 300, seed=9), fit(anchors, 300, seed=9), fit(anchors, 300, seed=10)
    assert np.array_equal(a.k, b.k) and np.array_equal(a.t0, b.t0) and np.array_equal(a.family, b.family)
    assert not np.array_equal(a.k, c.k)


def test_draws_round_trip_through_plain_arrays() -> None:
    draws = fit(exact(0, 0.4, 2026.0, 0.0, CLOUD, [2022.0, 2026.0]), 50, seed=1)
    again = share.ShareDraws.from_arrays(draws.definitions, draws.to_arrays())
    t = np.array([2024.0, 2028.0])
    assert np.array_equal(again.share(CLOUD, t), draws.share(CLOUD, t))


def test_anchors_refuse_unknown_definitions_bounds_and_shares_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="unknown definition"):
        Anchor("gpu_hours", 2025.0, 0.5)
    with pytest.raises(ValueError, match="bound"):
        Anchor(CLOUD, 2025.0, 0.5, "about")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        Anchor(CLOUD, 2025.0, 1.0)
