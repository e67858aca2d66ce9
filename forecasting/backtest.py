"""Backtest of the crossover estimate: replay it as of past quarter ends, score it on what was published later.

Every published figure has a publication date.  A *replay* re-runs the whole estimate as of a
quarter end with only the share anchors public by then (``refresh.run_replays``).  It is then scored
on every share anchor published *after* its date:

* a point anchor is scored on the replay's predictive distribution of that definition's share at
  that time (the curve draws plus the definition's anchor noise): whether the 80% and 95% intervals
  hold it, the interval score of the 95% interval and the CRPS (both in share points, lower is
  better);
* a bound ("more than 65% by 2029") is scored by the probability the replay gave it;
* every later anchor also says whether the crossover had happened by its date under its definition
  (a share at or above one half: crossed; below: not yet), and the replay's probability of that is
  recorded.

Published crossover claims are other people's forecasts, not outcomes: the table of how the call
moved shows them beside the replays but they are not scored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from . import quarters, store, structural, vintages
from .config import TOTAL, Settings
from .crossover import Crossover, crossover_distribution
from .share import Anchor, publication_date

log = logging.getLogger(__name__)

#: First as-of quarter of the backtest (the issue's start; the first share anchor was published in 2024).
FIRST = "2022Q4"
#: Draws of the predictive noise per sample path when scoring a point anchor.
NOISE_DRAWS = 4
SCORE_COLUMNS = [
    "as_of",
    "run_id",
    "anchor_id",
    "definition",
    "kind",
    "t",
    "value",
    "bound",
    "published",
    "horizon_years",
    "p10",
    "p50",
    "p90",
    "covered_80",
    "covered_95",
    "interval_score_95",
    "crps",
    "prob_true",
    "crossed",
    "prob_crossed_event",
]
#: The pooled scores (each a mean over the group's scored figures).
POOLED_SCORES = ["coverage_80", "coverage_95", "interval_score_95", "crps", "prob_true", "prob_crossed_event"]
POOLED_COLUMNS = ["group", "definition", "kind", "n", *POOLED_SCORES]
MOVE_COLUMNS = ["as_of", "run_id", "definition", "sector", "state", "p10", "p50", "p90", "anchors_known"]
#: Factors tried on the replays' predictive intervals (spread around the median, in logit).
WIDENING_GRID = (0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5)
#: The factor the rule chose on the shipped data's replays (docs/data.md section 5): no change.
WIDENING = 1.0


def as_of_dates(first: str = FIRST, last: pd.Timestamp | None = None) -> list[pd.Timestamp]:
    """Quarter ends from ``first`` through ``last`` (a date in the last quarter to replay)."""
    end = quarters.parse(last) if last is not None else quarters.parse(pd.Timestamp.today()) - 1
    periods = pd.period_range(quarters.parse(first), end, freq="Q")
    return [quarters.end(p.start_time) for p in periods]


@dataclass(frozen=True)
class Backtest:
    """The replays' scores on later figures, pooled, and how the call moved."""

    scores: pd.DataFrame  # SCORE_COLUMNS: one row per replay and later anchor
    pooled: pd.DataFrame  # POOLED_COLUMNS
    moves: pd.DataFrame  # MOVE_COLUMNS: the crossover per replay, definition and sector
    widening: pd.DataFrame  # factor, coverage_80, coverage_95, error: the rule's evidence


def run(
    db: Path,
    settings: Settings,
    first: str = FIRST,
    *,
    models: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Replay the estimate as of every quarter end from ``first`` to the history's last quarter and score it."""
    from .refresh import run_replays

    with store.reader(db) as s:
        observed = pd.to_datetime(s.frame("history_series")["ds"])
    dates = as_of_dates(first, quarters.end(observed.max()))
    if not dates:
        raise ValueError(f"no quarter to replay from {first} to {quarters.label(observed.max())}")
    if dates[0] < quarters.end(observed.min()):  # as of then, nothing was observed: there is nothing to fit
        begins = quarters.label(observed.min())
        raise ValueError(f"the history begins in {begins}: replays start there at the earliest, not at {first}")
    run_replays(db, settings, dates, models=models, progress=progress)
    return load(db)


def _anchors(db: Path) -> list[Anchor]:
    with store.reader(db) as s:
        return structural.anchors_of(s.frame("share_anchors_all"))


def load(db: Path, definition: str | None = None) -> Backtest:
    """Score the stored replays (``definition``: only that definition's figures and calls)."""
    with store.reader(db) as s:
        replays = s.frame("replay_runs")
    anchors = _anchors(db)
    scores: list[dict[str, object]] = []
    moves: list[dict[str, object]] = []
    spreads: list[tuple[np.ndarray, float]] = []
    for r in replays.itertuples(index=False):
        run = vintages.load_run(db, str(r.run_id))
        as_of = pd.Timestamp(r.as_of)
        crossings = crossovers_of(run)
        scores += score_rows(run, as_of, anchors, crossings)
        moves += call(run, as_of, anchors, crossings).to_dict("records")
        spreads += _logit_spreads(run, as_of, anchors, definition)
    score_frame = pd.DataFrame(scores, columns=SCORE_COLUMNS)
    move_frame = pd.DataFrame(moves, columns=MOVE_COLUMNS)
    if definition is not None:
        score_frame = score_frame[score_frame["definition"] == definition].reset_index(drop=True)
        move_frame = move_frame[move_frame["definition"] == definition].reset_index(drop=True)
    return Backtest(score_frame, pool(score_frame), move_frame, widening(spreads))


def _logit_spreads(
    run: vintages.RunData, as_of: pd.Timestamp, anchors: Sequence[Anchor], definition: str | None
) -> list[tuple[np.ndarray, float]]:
    """Per later point anchor: the predictive draws' deviations from their median, and the truth's (logit)."""
    out = []
    for a in anchors:
        public = publication_date(a.published)
        later = public is not None and public > as_of and a.bound == "point"
        if not later or run.structure is None or (definition is not None and a.definition != definition):
            continue
        x = special.logit(np.clip(_predictive(run, a, run.info.seed), 1e-9, 1 - 1e-9))
        median = float(np.median(x))
        out.append((x - median, float(special.logit(a.value)) - median))
    return out


def widening(spreads: Sequence[tuple[np.ndarray, float]]) -> pd.DataFrame:
    """The rule learned on the replays: the factor on the predictive spread with the best 80% and 95% coverage.

    Each factor scales every replay's predictive distribution around its median (in logit); the rule
    keeps 1 (no change) unless another factor lowers |coverage_80 - 0.8| + |coverage_95 - 0.95| by more
    than two scores' worth (2 / n: one figure in or out moves a coverage by 1 / n), and then the best
    one.  ``chosen`` marks the factor kept.
    """
    rows = []
    for f in WIDENING_GRID:
        hit80 = [np.quantile(f * dev, 0.1) <= y <= np.quantile(f * dev, 0.9) for dev, y in spreads]
        hit95 = [np.quantile(f * dev, 0.025) <= y <= np.quantile(f * dev, 0.975) for dev, y in spreads]
        c80, c95 = (float(np.mean(h)) if h else float("nan") for h in (hit80, hit95))
        rows.append({"factor": f, "coverage_80": c80, "coverage_95": c95, "error": abs(c80 - 0.8) + abs(c95 - 0.95)})
    table = pd.DataFrame(rows)
    if not spreads:  # nothing scored yet: nothing to learn, keep 1
        return table.assign(chosen=table["factor"] == 1.0)
    margin = 2 / len(spreads)
    unchanged = int(np.flatnonzero(table["factor"] == 1.0)[0])
    best = int(table["error"].idxmin())
    keep = best if table["error"].iat[unchanged] - table["error"].iat[best] > margin else unchanged
    return table.assign(chosen=table.index == keep)


def _predictive(run: vintages.RunData, anchor: Anchor, seed: int) -> np.ndarray:
    """Draws of the share an anchor states, from the replay's posterior: curve plus the anchor noise."""
    assert run.structure is not None
    draws = run.structure.draws
    d = draws.definitions.index(anchor.definition)
    logit = draws.logit(anchor.definition, np.array([anchor.t]))[:, 0]
    rng = np.random.default_rng([seed, d, int(anchor.t * 100)])
    noise = rng.standard_normal((len(logit), NOISE_DRAWS)) * draws.sigma[:, [d]]
    x = (logit[:, None] + noise).ravel()
    median = np.median(x)
    return special.expit(median + WIDENING * (x - median))


def _crps(x: np.ndarray, y: float) -> float:
    """Sample CRPS: E|X - y| - E|X - X'| / 2 (the sorted-sample form, exact for the sample)."""
    x = np.sort(x)
    n = len(x)
    return float(np.mean(np.abs(x - y)) - np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / n**2)


def _interval_score(lo: float, hi: float, y: float, alpha: float = 0.05) -> float:
    return float((hi - lo) + 2 / alpha * max(lo - y, 0.0) + 2 / alpha * max(y - hi, 0.0))


def crossovers_of(run: vintages.RunData) -> dict[str, dict[str, Crossover]]:
    """A replay's crossover distribution per definition, then per sector and the total (none without paths)."""
    if run.paths is None:
        return {}
    return {d: crossover_distribution(run.paths_for(d)) for d in run.definitions}


def score_rows(
    run: vintages.RunData,
    as_of: pd.Timestamp,
    anchors: Sequence[Anchor],
    crossings: dict[str, dict[str, Crossover]],
) -> list[dict[str, object]]:
    """One replay's scores on every anchor published after ``as_of`` (rows of SCORE_COLUMNS).

    ``crossings`` is the replay's ``crossovers_of``: the crossing-event score reads the total's.
    """
    if run.structure is None:
        return []
    rows: list[dict[str, object]] = []
    for a in anchors:
        public = publication_date(a.published)
        if public is None or public <= as_of or a.definition not in run.definitions:
            continue
        x = _predictive(run, a, run.info.seed)
        p10, p50, p90, p025, p975 = np.quantile(x, [0.1, 0.5, 0.9, 0.025, 0.975])
        point = a.bound == "point"
        crossed = a.value >= 0.5 if a.bound != "upper" else False
        when = _decimal_date(a.t)
        prob_cross = crossings[a.definition][TOTAL].probability_by(when)
        rows.append(
            {
                "as_of": as_of.date(),
                "run_id": run.run_id,
                "anchor_id": a.ref,
                "definition": a.definition,
                "kind": "share",
                "t": a.t,
                "value": a.value,
                "bound": a.bound,
                "published": a.published,
                "horizon_years": round(a.t - (as_of.year + (as_of.dayofyear / 365.25)), 2),
                "p10": p10,
                "p50": p50,
                "p90": p90,
                "covered_80": bool(p10 <= a.value <= p90) if point else None,
                "covered_95": bool(p025 <= a.value <= p975) if point else None,
                "interval_score_95": _interval_score(p025, p975, a.value) if point else None,
                "crps": _crps(x, a.value) if point else None,
                "prob_true": float(np.mean(x > a.value) if a.bound == "lower" else np.mean(x < a.value))
                if not point
                else None,
                "crossed": crossed,
                "prob_crossed_event": prob_cross if crossed else 1 - prob_cross,
            }
        )
    return rows


def _decimal_date(t: float) -> pd.Timestamp:
    year = int(np.floor(t))
    return pd.Timestamp(year, 1, 1) + pd.Timedelta(days=round((t - year) * 365.25))


def _pooled_row(group: str, definition: str, kind: str, part: pd.DataFrame) -> dict[str, object]:
    points = part[part["bound"] == "point"]
    bounds = part[part["bound"] != "point"]
    mean = lambda col, frame: float(pd.to_numeric(frame[col]).mean()) if len(frame) else float("nan")  # noqa: E731
    return {
        "group": group,
        "definition": definition,
        "kind": kind,
        "n": len(part),
        "coverage_80": mean("covered_80", points),
        "coverage_95": mean("covered_95", points),
        "interval_score_95": mean("interval_score_95", points),
        "crps": mean("crps", points),
        "prob_true": mean("prob_true", bounds),
        "prob_crossed_event": mean("prob_crossed_event", part),
    }


def pool(scores: pd.DataFrame) -> pd.DataFrame:
    """Scores pooled over replays: all figures, then per definition, then per kind of anchor."""
    rows = [_pooled_row("all", "all", "all", scores)]
    for d, part in scores.groupby("definition", sort=True):
        rows.append(_pooled_row("definition", str(d), "all", part))
    for b, part in scores.groupby("bound", sort=True):
        rows.append(_pooled_row("bound", "all", str(b), part))
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


def call(
    run: vintages.RunData,
    as_of: pd.Timestamp,
    anchors: Sequence[Anchor],
    crossings: dict[str, dict[str, Crossover]],
) -> pd.DataFrame:
    """How the call stood at one replay: the crossover per definition and sector (MOVE_COLUMNS).

    ``crossings`` is the replay's ``crossovers_of``.
    """
    if not crossings:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    known = sum(1 for a in anchors if (d := publication_date(a.published)) is not None and d <= as_of)
    rows = []
    for d, by_sector in crossings.items():
        for sector, c in by_sector.items():
            rows.append(
                {
                    "as_of": as_of.date(),
                    "run_id": run.run_id,
                    "definition": d,
                    "sector": sector,
                    "state": c.state,
                    "p10": c.p10,
                    "p50": c.p50,
                    "p90": c.p90,
                    "anchors_known": known,
                }
            )
    return pd.DataFrame(rows, columns=MOVE_COLUMNS)
