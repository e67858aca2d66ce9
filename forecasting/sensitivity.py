"""Which assumptions move the crossover: spread attribution, tornado data and goal-seek.

Every function takes the crossover rule's ``k`` (persistence) and ``threshold`` (inference/training
ratio, 1 = the crossover itself) and passes them to :func:`forecasting.crossover.crossing_quarters`.

P50s here are *censored*: a path that does not cross within the horizon counts as crossing one
quarter after the last forecast quarter, so a P50 beyond the horizon is still a number to compare.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from . import quarters
from .config import ALL, TOTAL, sector_label
from .crossover import crossing_quarters
from .drivers import DRIVER_BY_KEY, DRIVERS, DriverValue, point
from .paths import SamplePaths
from .scenario import Scenario, apply_scenario

logger = logging.getLogger(__name__)

TORNADO_COLUMNS = ["driver", "label", "low", "high", "p50_low", "p50_high", "shift_quarters", "censored"]

#: Grid points scanned across a driver's range before bisecting (finds non-monotone brackets too).
GOAL_SEEK_GRID = 9


@dataclass(frozen=True)
class SpreadAttribution:
    """P10-P90 width of crossover times (quarters) in full Monte Carlo and with either source fixed."""

    sector: str
    spread_total: float
    spread_model: float
    spread_assumptions: float
    dominant: str
    censored: bool


@dataclass(frozen=True)
class GoalSeekResult:
    """The driver value that puts a sector's P50 crossover at a target date, or why none does.

    ``reachable_from``/``reachable_to`` bound the P50 dates seen across the driver's range; ``None``
    for ``reachable_to`` means the latest P50 lies beyond the horizon.
    """

    sector: str
    driver: str
    target: pd.Timestamp
    reachable: bool
    value: float | None
    achieved_p50: pd.Timestamp | None
    reachable_from: pd.Timestamp | None
    reachable_to: pd.Timestamp | None
    evaluations: int
    #: The target lies past the forecast horizon (no driver value is searched for).
    beyond_horizon: bool = False

    @property
    def message(self) -> str:
        """The answer in one sentence, naming the sector by its label (:func:`goal_seek_text`)."""
        return goal_seek_text(self, sector_label(self.sector))


def goal_seek_text(res: GoalSeekResult, where: str) -> str:
    """The goal-seek answer in quarters, naming the market ``where``: the value found, or why there is none.

    A value found puts the P50 in the quarter it reaches (``achieved_p50``), which may neighbour the
    target's when the P50 jumps; with none, the sentence gives the quarters the P50 spans across the
    driver's range, or says that the driver does not move it out of one quarter at all.
    """
    d = DRIVER_BY_KEY[res.driver]
    target = quarters.text(res.target)
    if res.value is not None:
        if res.reachable:
            got = quarters.text(res.achieved_p50)
            nearest = "" if got == target else f", the nearest it gets to {target}"
            return f"{d.label} = {res.value:.4g} {d.unit} puts the P50 crossover of {where} in {got}{nearest}."
        return (
            f"The P50 crossover of {where} jumps past {target} near {d.label} = {res.value:.4g} {d.unit}; "
            f"the closest it gets is {quarters.text(res.achieved_p50)}."
        )
    low, high = quarters.text(res.reachable_from), quarters.text(res.reachable_to)
    span = f"{d.min:g} to {d.max:g} {d.unit}"
    if res.beyond_horizon:
        lies = f"from {low} to {high}" if low != high else low if res.reachable_from is None else f"in {low}"
        return (
            f"{target} is beyond the forecast horizon; across {d.label}'s range ({span}) "
            f"the P50 crossover of {where} lies {lies}."
        )
    if low == high:
        stays = low if res.reachable_from is None else f"in {low}"
        return (
            f"{d.label} keeps the P50 crossover of {where} {stays} across its range ({span}): it cannot reach {target}."
        )
    return (
        f"No value of {d.label} from {span} puts the P50 crossover of {where} in {target}: across that range it lies "
        f"from {low} to {high}."
    )


#: Full Monte Carlo, assumptions held at their centre, model paths held at their median.
_Runs = tuple[SamplePaths, SamplePaths, SamplePaths]


def _censored(q: np.ndarray, horizon: int) -> np.ndarray:
    return np.minimum(q, float(horizon))


def p50_quarters(baseline: SamplePaths, sector: str, k: int = 1, threshold: float = 1.0) -> float:
    """Censored P50 crossing time in quarters after ``periods[0]`` (``H`` means beyond the horizon)."""
    q, _ = crossing_quarters(baseline, sector, k, threshold)
    return float(np.quantile(_censored(q, len(baseline.periods)), 0.5, method="inverted_cdf"))


def _spread(q: np.ndarray, horizon: int) -> tuple[float, bool]:
    c = _censored(q, horizon)
    p10, p90 = np.quantile(c, [0.1, 0.9], method="inverted_cdf")
    return float(p90 - p10), bool(p90 >= horizon)


def _attribution_runs(baseline: SamplePaths, scenario: Scenario, seed: int) -> _Runs:
    """Full Monte Carlo, assumptions at their centre, and model paths collapsed to the median path."""
    median = np.broadcast_to(np.median(baseline.paths, axis=0), baseline.paths.shape).copy()
    return (
        apply_scenario(baseline, scenario, seed=seed),
        apply_scenario(baseline, scenario.centred(), seed=seed),
        apply_scenario(baseline.with_paths(median), scenario, seed=seed),
    )


def _attribute(runs: _Runs, sector: str, k: int, threshold: float) -> SpreadAttribution:
    h = len(runs[0].periods)
    (full, c_full), (model, c_model), (assume, c_assume) = (
        _spread(crossing_quarters(run, sector, k, threshold)[0], h) for run in runs
    )
    dominant = "none" if model == assume == 0 else ("model" if model >= assume else "assumptions")
    return SpreadAttribution(sector, full, model, assume, dominant, c_full or c_model or c_assume)


def spread_attribution(
    baseline: SamplePaths, scenario: Scenario, sector: str = TOTAL, k: int = 1, seed: int = 0, threshold: float = 1.0
) -> SpreadAttribution:
    """Compare crossover spread with assumptions fixed at their centre vs model paths at their median."""
    return _attribute(_attribution_runs(baseline, scenario, seed), sector, k, threshold)


def spread_frame(
    baseline: SamplePaths, scenario: Scenario, k: int = 1, seed: int = 0, threshold: float = 1.0
) -> pd.DataFrame:
    """:func:`spread_attribution` for every sector and the total, one row each (its field names)."""
    runs = _attribution_runs(baseline, scenario, seed)
    rows = [asdict(_attribute(runs, s, k, threshold)) for s in (*baseline.sectors, TOTAL)]
    return pd.DataFrame(rows, columns=[f.name for f in fields(SpreadAttribution)])


def with_driver(scenario: Scenario, sector: str, key: str, value: DriverValue | float) -> Scenario:
    """Set one driver for a sector; for ``'total'`` set it for all sectors, replacing overrides."""
    if sector != TOTAL:
        return scenario.with_value(sector, key, value)
    out = scenario.with_value(ALL, key, value)
    for s in scenario.values:
        if s != ALL and key in scenario.values[s]:
            out = out.with_value(s, key, value)
    return out


def _p50_at(
    baseline: SamplePaths, scenario: Scenario, sector: str, key: str, value: float, k: int, seed: int, threshold: float
) -> float:
    moved = with_driver(scenario, sector, key, point(value))
    # Draws are keyed per sector, so one sector's paths need only that sector's baseline.
    part = baseline if sector == TOTAL else baseline.subset((sector,))
    return p50_quarters(apply_scenario(part, moved, seed=seed), sector, k, threshold)


def tornado(
    baseline: SamplePaths,
    scenario: Scenario,
    sector: str = TOTAL,
    k: int = 1,
    seed: int = 0,
    drivers: tuple[str, ...] | None = None,
    threshold: float = 1.0,
) -> pd.DataFrame:
    """Per driver, the P50 crossover at the bottom and top of its range, sorted by absolute shift.

    Returns:
        Columns ``TORNADO_COLUMNS``; ``shift_quarters`` is P50(high) - P50(low) in quarters and
        ``censored`` flags a P50 beyond the horizon at either end (then the shift is a lower bound).
    """
    h = len(baseline.periods)
    origin = baseline.periods[0]
    rows = []
    for key in drivers or tuple(d.key for d in DRIVERS):
        d = DRIVER_BY_KEY[key]
        lo = _p50_at(baseline, scenario, sector, key, d.min, k, seed, threshold)
        hi = _p50_at(baseline, scenario, sector, key, d.max, k, seed, threshold)
        rows.append(
            {
                "driver": key,
                "label": d.label,
                "low": d.min,
                "high": d.max,
                "p50_low": quarters.to_date(lo, origin) if lo < h else None,
                "p50_high": quarters.to_date(hi, origin) if hi < h else None,
                "shift_quarters": hi - lo,
                "censored": bool(lo >= h or hi >= h),
            }
        )
    frame = pd.DataFrame(rows, columns=TORNADO_COLUMNS)
    for col in ("p50_low", "p50_high"):
        frame[col] = pd.to_datetime(frame[col])
    order = frame["shift_quarters"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _bisect(
    f: Callable[[float], float], a: float, fa: float, b: float, fb: float, target: float, tol: float, max_iter: int = 50
) -> tuple[float, float, int]:
    """Bisection on a bracket with (fa - target) and (fb - target) of opposite signs or zero."""
    best, fbest = (a, fa) if abs(fa - target) <= abs(fb - target) else (b, fb)
    n = 0
    while n < max_iter and abs(fbest - target) > tol:
        n += 1
        m = (a + b) / 2
        fm = f(m)
        if abs(fm - target) < abs(fbest - target):
            best, fbest = m, fm
        if (fa - target) * (fm - target) <= 0:
            b, fb = m, fm
        else:
            a, fa = m, fm
    return best, fbest, n


def goal_seek(
    baseline: SamplePaths,
    scenario: Scenario,
    sector: str,
    driver: str,
    target_date: pd.Timestamp | str,
    k: int = 1,
    seed: int = 0,
    tol_quarters: float = 0.02,
    threshold: float = 1.0,
) -> GoalSeekResult:
    """What value of ``driver`` (set as a point) moves ``sector``'s P50 crossover to ``target_date``?"""
    if driver not in DRIVER_BY_KEY:
        raise ValueError(f"unknown driver '{driver}'; expected one of {list(DRIVER_BY_KEY)}")
    if sector != TOTAL and sector not in baseline.sectors:  # 'all' too: one sector's crossover moves, or the total's
        raise ValueError(f"unknown sector '{sector}'; use total or one of {', '.join(baseline.sectors)}")
    d = DRIVER_BY_KEY[driver]
    target = pd.Timestamp(target_date)
    h = len(baseline.periods)
    origin = baseline.periods[0]
    t = float(quarters.offsets(pd.DatetimeIndex([target]), origin)[0])
    calls = 0

    def f(v: float) -> float:
        nonlocal calls
        calls += 1
        return _p50_at(baseline, scenario, sector, driver, v, k, seed, threshold)

    grid = np.linspace(d.min, d.max, GOAL_SEEK_GRID)
    vals = np.array([f(v) for v in grid])
    lo_q, hi_q = float(vals.min()), float(vals.max())
    span_from = quarters.to_date(lo_q, origin) if lo_q < h else None
    span_to = quarters.to_date(hi_q, origin) if hi_q < h else None

    def fail(beyond_horizon: bool = False) -> GoalSeekResult:
        return GoalSeekResult(sector, driver, target, False, None, None, span_from, span_to, calls, beyond_horizon)

    if t >= h:
        return fail(beyond_horizon=True)
    brackets = [i for i in range(len(grid) - 1) if (vals[i] - t) * (vals[i + 1] - t) <= 0]
    if not brackets:
        return fail()
    i = brackets[0]
    value, got, n = _bisect(f, grid[i], vals[i], grid[i + 1], vals[i + 1], t, tol_quarters)
    achieved = quarters.to_date(got, origin) if got < h else None
    ok = abs(got - t) <= 1.0
    logger.debug("goal_seek %s/%s: %d evaluations, |miss| = %.3f quarters", sector, driver, calls, abs(got - t))
    return GoalSeekResult(sector, driver, target, ok, float(value), achieved, span_from, span_to, calls)
