"""When inference spend overtakes training spend, as a distribution over joint sample paths.

Rule: on the grid of observed quarters followed by forecast quarters, a path crosses at the first
quarter ``j`` that starts a run of ``k`` consecutive quarters with inference >= threshold x training
(threshold 1 by default: the crossover itself).  A quarter's spend is a flow that is complete at
the quarter's end, so each value sits at its quarter's end on the time axis; when the quarter
before ``j`` fell short, the crossing date is interpolated linearly between the end of that
quarter and the end of quarter ``j``, where the gap ``inference - threshold x training`` reaches
zero.  So the date always lies inside quarter ``j``, the first quarter in which inference is at
least training.  Times are measured in quarters after the start of the first forecast quarter
(``0`` = ``periods[0]``'s start, ``-1`` = the jump-off quarter's start).
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import quarters
from .config import TOTAL, sector_label
from .paths import SamplePaths

logger = logging.getLogger(__name__)

CROSSED_IN_HISTORY = "crossed_in_history"
CROSSES_WITHIN_HORIZON = "crosses_within_horizon"
NOT_WITHIN_HORIZON = "not_within_horizon"
NEVER_IN_PATHS = "never_in_paths"
STATES = (CROSSED_IN_HISTORY, CROSSES_WITHIN_HORIZON, NOT_WITHIN_HORIZON, NEVER_IN_PATHS)

CROSSOVER_COLUMNS = [
    "sector",
    "label",
    "state",
    "crossed_at",
    "p10",
    "p50",
    "p90",
    "prob_within_horizon",
    "k",
    "threshold",
]


@dataclass(frozen=True)
class Crossover:
    """Crossover distribution of one sector (or the total market) under one set of paths.

    ``p10``/``p50``/``p90`` are ``None`` when fewer than 10/50/90% of paths cross within the horizon.
    ``times`` holds every path's crossing position on the quarter axis (``quarters.offsets`` from
    ``origin``; inf for a path that does not cross within the horizon); :meth:`probability_by` and
    :attr:`prob_by_quarter` read them.
    """

    sector: str
    state: str
    crossed_at: pd.Timestamp | None
    p10: pd.Timestamp | None
    p50: pd.Timestamp | None
    p90: pd.Timestamp | None
    prob_within_horizon: float
    times: np.ndarray = field(compare=False, repr=False)
    origin: pd.Timestamp = field(compare=False, repr=False)
    quarter_ends: pd.DatetimeIndex = field(compare=False, repr=False)
    k: int = 1
    threshold: float = 1.0

    def probability_by(self, when: pd.Timestamp) -> float:
        """Share of paths that have crossed by the end of the day ``when`` (the one definition of "crossed by").

        By the end of a quarter's last day is by the start of the next quarter, so this agrees with
        :attr:`prob_by_quarter` at every quarter end.
        """
        next_day = pd.Timestamp(when).normalize() + pd.Timedelta(days=1)
        at = quarters.offsets(pd.DatetimeIndex([next_day]), self.origin)[0]
        return float((self.times <= at).mean())

    @property
    def prob_by_quarter(self) -> pd.Series:
        """Share of paths crossed by the end of each forecast quarter, indexed by that quarter's last day."""
        # Forecast quarter j (0 = the origin's) ends where quarter j + 1 starts: position j + 1.
        ends = np.arange(1, len(self.quarter_ends) + 1, dtype=float)
        return pd.Series((self.times[:, None] <= ends[None, :]).mean(axis=0), index=self.quarter_ends, name=self.sector)


def first_crossing(gap: np.ndarray, k: int = 1) -> np.ndarray:
    """Per row of ``gap`` (inference - training), the fractional grid index of the crossing; inf if none."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    gap = np.atleast_2d(np.asarray(gap, dtype=float))
    n, m = gap.shape
    if m < k:
        return np.full(n, np.inf)
    ok = gap >= 0
    counts = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(ok, axis=1)], axis=1)
    runs = (counts[:, k:] - counts[:, :-k]) == k
    has = runs.any(axis=1)
    j = runs.argmax(axis=1)
    rows = np.arange(n)
    prev = gap[rows, np.maximum(j - 1, 0)]
    cur = gap[rows, j]
    # The first run start j > 0 follows a negative gap, so cur - prev > 0 there, unless the quarter
    # before has no value (a series that starts crossed): then the crossing is at quarter j's end.
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where((j > 0) & np.isfinite(prev), -prev / (cur - prev), 1.0)
    x = np.where(j > 0, j - 1 + frac, 0.0)
    return np.where(has, x, np.inf)


def crossing_gap(train: np.ndarray, infer: np.ndarray, threshold: float) -> np.ndarray:
    """``infer - threshold * train``, the gap :func:`first_crossing` reads, with -inf where a value is
    missing and where it would reach zero without inference spend: both spends at zero is no crossing.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # a ratio like 1e308 overflows: never reached
        gap = infer - threshold * train
        return np.where(np.isfinite(gap) & ((gap < 0) | (infer > 0)), gap, -np.inf)


def check_threshold(threshold: float) -> float:
    """``threshold`` as a float if it is a finite positive ratio; ``ValueError`` otherwise.

    The one check of the rule's threshold: every face passes its user's value through it.
    """
    real = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool)  # not True, not "2"
    value = float(threshold) if real else float("nan")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"threshold (inference/training ratio) must be a positive number, got {threshold!r}")
    return value


def crossing_quarters(paths: SamplePaths, sector: str, k: int = 1, threshold: float = 1.0) -> tuple[np.ndarray, float]:
    """Per path, the crossing time in quarters after ``periods[0]`` (inf if none), and the history one.

    The history crossing is inf unless the observed quarters alone hold a run of ``k``; then every
    path's time equals it.
    """
    threshold = check_threshold(threshold)
    if sector != TOTAL and sector not in paths.sectors:
        raise ValueError(f"sector '{sector}' is not in the paths ({list(paths.sectors)})")
    if paths.back is not None:
        return _crossing_with_back(paths, sector, k, threshold), np.inf
    origin = paths.periods[0]
    ds, train, infer = paths.history_of(sector)
    hist_q = quarters.offsets(ds, origin) + 1.0 if len(ds) else np.array([])  # quarter ends
    hist_x = first_crossing(crossing_gap(train, infer, threshold), k)[0] if len(ds) else np.inf
    sector_paths = paths.of(sector)
    if np.isfinite(hist_x):
        at = float(np.interp(hist_x, np.arange(len(ds)), hist_q))
        return np.full(sector_paths.shape[0], at), at
    # No run of k lies wholly in history, so a run starts at most k-1 quarters before the horizon
    # and the last k observed quarters (one before that start, for interpolation) suffice.
    tail = slice(max(len(ds) - k, 0), len(ds))
    grid_q = np.concatenate([hist_q[tail], quarters.offsets(paths.periods, origin) + 1.0])
    n, h = sector_paths.shape[0], sector_paths.shape[2]
    gap_hist = np.broadcast_to(crossing_gap(train, infer, threshold)[tail], (n, len(grid_q) - h))
    gap = np.concatenate([gap_hist, crossing_gap(sector_paths[:, 0, :], sector_paths[:, 1, :], threshold)], axis=1)
    x = first_crossing(gap, k)
    q = np.full(x.shape, np.inf)
    finite = np.isfinite(x)
    q[finite] = np.interp(x[finite], np.arange(len(grid_q)), grid_q)
    return q, np.inf


def _crossing_with_back(paths: SamplePaths, sector: str, k: int, threshold: float) -> np.ndarray:
    """Crossing times when every path carries its own (modelled) history: one grid, history then forecast."""
    assert paths.back_periods is not None
    origin = paths.periods[0]
    back, future = paths.back_of(sector), paths.of(sector)
    grid_q = np.concatenate([quarters.offsets(paths.back_periods, origin), quarters.offsets(paths.periods, origin)])
    grid_q = grid_q + 1.0  # each value sits at its quarter's end
    gap = np.concatenate(
        [crossing_gap(back[:, 0], back[:, 1], threshold), crossing_gap(future[:, 0], future[:, 1], threshold)], axis=1
    )
    x = first_crossing(gap, k)
    q = np.full(x.shape, np.inf)
    finite = np.isfinite(x)
    q[finite] = np.interp(x[finite], np.arange(len(grid_q)), grid_q)
    return q


def median_curve_crossing(paths: SamplePaths, sector: str, threshold: float = 1.0) -> pd.Timestamp | None:
    """When the P50 curves cross: the first time the median inference reaches ``threshold`` x median training.

    This is not the P50 of the crossing dates: each path crosses at its own time, and the median of
    those times can lie before, after or without any crossing of the median curves.  Both are shown.
    """
    threshold = check_threshold(threshold)
    origin = paths.periods[0]
    future = np.median(paths.of(sector), axis=0)  # (2, H)
    grid_q = quarters.offsets(paths.periods, origin) + 1.0
    curves = future
    if paths.back is not None and paths.back_periods is not None:
        back = np.median(paths.back_of(sector), axis=0)
        grid_q = np.concatenate([quarters.offsets(paths.back_periods, origin) + 1.0, grid_q])
        curves = np.concatenate([back, future], axis=1)
    else:
        ds, train, infer = paths.history_of(sector)
        if len(ds):
            grid_q = np.concatenate([quarters.offsets(ds, origin) + 1.0, grid_q])
            curves = np.concatenate([np.vstack([train, infer]), future], axis=1)
    x = first_crossing(crossing_gap(curves[0], curves[1], threshold))[0]
    if not np.isfinite(x):
        return None
    return quarters.to_date(float(np.interp(x, np.arange(len(grid_q)), grid_q)), origin)


def summarise(
    paths: SamplePaths, sector: str, q: np.ndarray, history_q: float, k: int = 1, threshold: float = 1.0
) -> Crossover:
    """Turn per-path crossing times (quarters after ``periods[0]``) into a :class:`Crossover`."""
    origin = paths.periods[0]
    p10, p50, p90 = np.quantile(q, [0.1, 0.5, 0.9], method="inverted_cdf")
    within = float(np.isfinite(q).mean())
    if paths.back is not None and p50 <= 0:  # most paths crossed within the (modelled) history
        history_q = float(p50)
    if np.isfinite(history_q):
        state = CROSSED_IN_HISTORY
    elif np.isfinite(p50):
        state = CROSSES_WITHIN_HORIZON
    elif within > 0:
        state = NOT_WITHIN_HORIZON
    else:
        state = NEVER_IN_PATHS
    ends = pd.DatetimeIndex([quarters.end(d) for d in paths.periods])
    crossed_at, d10, d50, d90 = (quarters.to_date(x, origin) for x in (history_q, p10, p50, p90))
    return Crossover(sector, state, crossed_at, d10, d50, d90, within, q, origin, ends, k, threshold)


def crossover_for(paths: SamplePaths, sector: str, k: int = 1, threshold: float = 1.0) -> Crossover:
    """The crossover distribution of one sector id, or of ``'total'``."""
    q, hist = crossing_quarters(paths, sector, k, threshold)
    return summarise(paths, sector, q, hist, k, threshold)


def crossover_distribution(paths: SamplePaths, k: int = 1, threshold: float = 1.0) -> dict[str, Crossover]:
    """Crossover distributions keyed by each sector id of the paths, plus ``'total'``."""
    return {s: crossover_for(paths, s, k, threshold) for s in (*paths.sectors, TOTAL)}


def crossover_frame(results: dict[str, Crossover]) -> pd.DataFrame:
    """One row per sector (and total) with state, dates and probability: :data:`CROSSOVER_COLUMNS`."""
    rows = [
        {
            "sector": c.sector,
            "label": sector_label(c.sector),
            "state": c.state,
            "crossed_at": c.crossed_at,
            "p10": c.p10,
            "p50": c.p50,
            "p90": c.p90,
            "prob_within_horizon": c.prob_within_horizon,
            "k": c.k,
            "threshold": c.threshold,
        }
        for c in results.values()
    ]
    frame = pd.DataFrame(rows, columns=CROSSOVER_COLUMNS)
    for col in ("crossed_at", "p10", "p50", "p90"):
        frame[col] = pd.to_datetime(frame[col])
    return frame
