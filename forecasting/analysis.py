"""Questions asked of a stored forecast run: how scenarios compare, and what a driver must be."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import export, vintages
from .crossover import quarter_middle
from .scenario import SCENARIO_SEED
from .scenario_store import load_scenario
from .sensitivity import GoalSeekResult, goal_seek


def compare_scenarios(
    db: Path, names: Sequence[str], run_id: str = vintages.LATEST, threshold: float = 1.0
) -> pd.DataFrame:
    """Crossover P10/P50/P90 per sector under each scenario, with the P50 shift against the first.

    Returns columns ``sector, scenario, state, p10, p50, p90, shift_quarters`` (whole quarters; NaN
    where either P50 is beyond the horizon).
    """
    if not names:
        raise ValueError("name at least one scenario to compare")
    frames = [export.frame(db, "crossover", run_id, name, threshold) for name in names]
    first = frames[0].set_index("sector")["p50"]
    rows = []
    for frame in frames:
        for r in frame.itertuples():
            shift = vintages.quarters_between(first.get(r.sector), r.p50)
            rows.append((r.sector, r.scenario, r.state, r.p10, r.p50, r.p90, shift))
    return pd.DataFrame(rows, columns=["sector", "scenario", "state", "p10", "p50", "p90", "shift_quarters"])


def goal_seek_run(
    db: Path,
    sector: str,
    driver: str,
    target: str,
    scenario: str = vintages.BASELINE,
    run_id: str = vintages.LATEST,
    threshold: float = 1.0,
) -> GoalSeekResult:
    """The value of ``driver`` that moves ``sector``'s P50 crossover into the quarter ``target`` (e.g. 2028Q1)."""
    run = vintages.load_run(db, run_id)
    if run.baseline is None:
        raise ValueError(f"run {run.run_id} has no sample paths to apply a scenario to")
    return goal_seek(
        run.baseline,
        load_scenario(db, scenario),
        sector,
        driver,
        quarter_middle(target),
        seed=SCENARIO_SEED,
        threshold=export.check_threshold(threshold),
    )
