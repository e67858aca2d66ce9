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
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd

from .config import SECTORS, TOTAL, TOTAL_LABEL
from .scenario import Baseline

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

    ``p10``/``p50``/``p90`` are ``None`` when fewer than 10/50/90% of paths cross within the horizon;
    ``prob_by_period`` is the share of paths that have crossed by each forecast quarter's start.
    """

    sector: str
    state: str
    crossed_at: pd.Timestamp | None
    p10: pd.Timestamp | None
    p50: pd.Timestamp | None
    p90: pd.Timestamp | None
    prob_by_period: pd.Series = field(compare=False)
    prob_within_horizon: float
    k: int = 1
    threshold: float = 1.0


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
    # The first run start j > 0 always follows a negative gap, so cur - prev > 0 there.
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(j > 0, -prev / (cur - prev), 0.0)
    x = np.where(j > 0, j - 1 + frac, 0.0)
    return np.where(has, x, np.inf)


_DAY_NS = 86_400 * 10**9


def _quarter_index(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[M]").astype(np.int64) // 3


def _quarter_start(qidx: np.ndarray) -> np.ndarray:
    return (np.asarray(qidx) * 3).astype("datetime64[M]").astype("datetime64[ns]")


def quarter_offsets(dates: pd.DatetimeIndex | np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    """Quarters from ``origin``'s quarter start to each date, with the fraction of the quarter elapsed."""
    d = np.asarray(dates, dtype="datetime64[ns]")
    qidx = _quarter_index(d)
    start, end = _quarter_start(qidx), _quarter_start(qidx + 1)
    origin_q = _quarter_index(np.asarray([origin], dtype="datetime64[ns]"))[0]
    return (qidx - origin_q) + (d - start) / (end - start)


def quarters_to_date(q: float, origin: pd.Timestamp) -> pd.Timestamp | None:
    """Inverse of :func:`quarter_offsets` for one value, rounded to the day; ``None`` for inf/NaN."""
    if not np.isfinite(q):
        return None
    whole = int(np.floor(q))
    qidx = _quarter_index(np.asarray([origin], dtype="datetime64[ns]"))[0] + whole
    start = int(_quarter_start(qidx).astype(np.int64))
    end = int(_quarter_start(qidx + 1).astype(np.int64))
    ns = int(start + round((q - whole) * (end - start)))
    return pd.Timestamp((ns + _DAY_NS // 2) // _DAY_NS * _DAY_NS)


def quarter_middle(when: pd.Timestamp | str) -> pd.Timestamp:
    """The middle of the quarter holding ``when`` (a date or a label such as ``2028Q1``).

    Crossover dates fall inside a quarter, so "cross in 2028 Q1" is best aimed at its middle.
    """
    label = isinstance(when, str) and "Q" in when.upper()
    quarter = pd.Period(when.strip().upper() if label else pd.Timestamp(when), "Q")  # type: ignore[union-attr]
    start, end = quarter.start_time, (quarter + 1).start_time
    return (start + (end - start) / 2).normalize()


def _history(baseline: Baseline, sector: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ds, training, inference) observed for a sector or, summed on common quarters, the total."""
    arrays = baseline.history_arrays
    if sector != TOTAL:
        return arrays[sector]
    common = reduce(np.intersect1d, [a[0] for a in arrays.values()]) if arrays else np.array([], "M8[ns]")
    train = np.zeros(len(common))
    infer = np.zeros(len(common))
    for ds, t, i in arrays.values():
        pos = np.searchsorted(ds, common)
        train += t[pos]
        infer += i[pos]
    return common, train, infer


def sector_paths(baseline: Baseline, sector: str) -> np.ndarray:
    """(n_paths, 2, H) paths of a sector, or of the total summed path by path."""
    if sector == TOTAL:
        return baseline.paths.sum(axis=1)
    return baseline.paths[:, baseline.sectors.index(sector)]


def crossing_quarters(baseline: Baseline, sector: str, k: int = 1, threshold: float = 1.0) -> tuple[np.ndarray, float]:
    """Per path, the crossing time in quarters after ``periods[0]`` (inf if none), and the history one.

    The history crossing is inf unless the observed quarters alone hold a run of ``k``; then every
    path's time equals it.
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold (inference/training ratio) must be a positive number, got {threshold}")
    if sector != TOTAL and sector not in baseline.sectors:
        raise ValueError(f"sector '{sector}' is not in the baseline ({list(baseline.sectors)})")
    origin = baseline.periods[0]
    ds, train, infer = _history(baseline, sector)
    hist_q = quarter_offsets(ds, origin) + 1.0 if len(ds) else np.array([])  # quarter ends
    hist_x = first_crossing(infer - threshold * train, k)[0] if len(ds) else np.inf
    paths = sector_paths(baseline, sector)
    if np.isfinite(hist_x):
        at = float(np.interp(hist_x, np.arange(len(ds)), hist_q))
        return np.full(paths.shape[0], at), at
    # No run of k lies wholly in history, so a run starts at most k-1 quarters before the horizon
    # and the last k observed quarters (one before that start, for interpolation) suffice.
    tail = slice(max(len(ds) - k, 0), len(ds))
    grid_q = np.concatenate([hist_q[tail], quarter_offsets(baseline.periods, origin) + 1.0])
    gap_hist = np.broadcast_to((infer - threshold * train)[tail], (paths.shape[0], len(grid_q) - paths.shape[2]))
    gap = np.concatenate([gap_hist, paths[:, 1, :] - threshold * paths[:, 0, :]], axis=1)
    x = first_crossing(gap, k)
    q = np.full(x.shape, np.inf)
    finite = np.isfinite(x)
    q[finite] = np.interp(x[finite], np.arange(len(grid_q)), grid_q)
    return q, np.inf


def summarise(
    baseline: Baseline, sector: str, q: np.ndarray, history_q: float, k: int = 1, threshold: float = 1.0
) -> Crossover:
    """Turn per-path crossing times (quarters after ``periods[0]``) into a :class:`Crossover`."""
    origin = baseline.periods[0]
    ends = quarter_offsets(baseline.periods, origin) + 1.0  # crossed by the end of each forecast quarter
    prob = pd.Series((q[:, None] <= ends[None, :]).mean(axis=0), index=baseline.periods, name=sector)
    p10, p50, p90 = np.quantile(q, [0.1, 0.5, 0.9], method="inverted_cdf")
    within = float(np.isfinite(q).mean())
    if np.isfinite(history_q):
        state = CROSSED_IN_HISTORY
    elif np.isfinite(p50):
        state = CROSSES_WITHIN_HORIZON
    elif within > 0:
        state = NOT_WITHIN_HORIZON
    else:
        state = NEVER_IN_PATHS
    return Crossover(
        sector,
        state,
        quarters_to_date(history_q, origin),
        quarters_to_date(p10, origin),
        quarters_to_date(p50, origin),
        quarters_to_date(p90, origin),
        prob,
        within,
        k,
        threshold,
    )


def crossover_for(baseline: Baseline, sector: str, k: int = 1, threshold: float = 1.0) -> Crossover:
    """The crossover distribution of one sector id, or of ``'total'``."""
    q, hist = crossing_quarters(baseline, sector, k, threshold)
    return summarise(baseline, sector, q, hist, k, threshold)


def crossover_distribution(baseline: Baseline, k: int = 1, threshold: float = 1.0) -> dict[str, Crossover]:
    """Crossover distributions keyed by each sector id of the baseline, plus ``'total'``."""
    return {s: crossover_for(baseline, s, k, threshold) for s in (*baseline.sectors, TOTAL)}


def _label(sector: str) -> str:
    return TOTAL_LABEL if sector == TOTAL else SECTORS.get(sector, sector)


def crossover_frame(results: dict[str, Crossover]) -> pd.DataFrame:
    """One row per sector (and total) with state, dates and probability, for tables and exports."""
    rows = [
        {
            "sector": c.sector,
            "label": _label(c.sector),
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


def probability_frame(results: dict[str, Crossover]) -> pd.DataFrame:
    """Long frame ``sector, ds, prob``: the probability that crossover has happened by each quarter."""
    parts = [
        pd.DataFrame({"sector": c.sector, "ds": c.prob_by_period.index, "prob": c.prob_by_period.to_numpy()})
        for c in results.values()
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["sector", "ds", "prob"])
