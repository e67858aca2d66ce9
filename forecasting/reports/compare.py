"""Comparisons a user reads: scenarios side by side, how a crossover moved between vintages and why,
and the driver value that puts a crossover where the user wants it.

Every shift between two crossover dates is :func:`forecasting.quarters.shift` (quarters on the
quarter axis, two decimals), whichever face shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import quarters, vintages
from ..config import TOTAL
from ..frames import DS, UID, Y
from ..scenario import BASELINE, SCENARIO_SEED, Scenario
from ..scenario_store import load_scenario
from ..sensitivity import GoalSeekResult, goal_seek
from .tables import crossover_table
from .view import View, open_view

#: Columns of :func:`compare_scenarios`.
SCENARIO_COMPARE_COLUMNS = ["sector", "scenario", "state", "p10", "p50", "p90", "shift_quarters"]
#: Columns of :func:`compare_runs`.
COMPARE_COLUMNS = ["sector", "state_a", "state_b", "p50_a", "p50_b", "shift_quarters", "moved", "cause"]
#: Run settings that change the numbers a refit produces.
FIT_KEYS = ("horizon", "n_paths", "seed", "backtest_origins", "backtest_horizon", "models", "transform")


def compare_scenarios(view: View, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """Crossover P10/P50/P90 per sector under each scenario, with the shift against the first.

    ``shift_quarters`` is the shift of each row's P50 from the first scenario's (a crossover in
    history has every path, so its P50, at the history date); NaN where either lies beyond the
    horizon.  The run is read once for all scenarios.
    """
    if not scenarios:
        raise ValueError("name at least one scenario to compare")
    frames = [crossover_table(view.at(s)) for s in scenarios]
    first = frames[0].set_index("sector")["p50"]
    rows = []
    for frame in frames:
        for r in frame.itertuples():
            shift = quarters.shift(first.get(r.sector), r.p50)
            rows.append((r.sector, r.scenario, r.state, r.p10, r.p50, r.p90, float("nan") if shift is None else shift))
    return pd.DataFrame(rows, columns=SCENARIO_COMPARE_COLUMNS)


def compare_saved(
    db: Path, names: Sequence[str], run_id: str = vintages.LATEST, threshold: float = 1.0
) -> pd.DataFrame:
    """:func:`compare_scenarios` of saved scenarios by name, on a stored run."""
    if not names:
        raise ValueError("name at least one scenario to compare")
    view = open_view(db, run_id, names[0], threshold)
    return compare_scenarios(view, [view.scenario, *(load_scenario(db, n) for n in names[1:])])


def goal_seek_view(view: View, sector: str, driver: str, target: str) -> GoalSeekResult:
    """The value of ``driver`` that moves ``sector``'s P50 crossover into quarter ``target`` (e.g. 2028Q1)."""
    return goal_seek(
        view.run.require_paths(),
        view.scenario,
        sector,
        driver,
        quarters.middle(target),
        seed=SCENARIO_SEED,
        threshold=view.threshold,
    )


def p50_moves(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per sector of either crossover frame (sector, state, p50): P50 and state before and after, and the shift."""
    cols = ["sector", "state", "p50"]
    merged = pd.merge(before[cols], after[cols], on="sector", how="outer", suffixes=("_a", "_b"))
    for col in ("p50_a", "p50_b"):
        merged[col] = pd.to_datetime(merged[col])
    shifts = [quarters.shift(a, b) for a, b in zip(merged["p50_a"], merged["p50_b"], strict=True)]
    merged["shift_quarters"] = [float("nan") if s is None else s for s in shifts]
    same_date = (merged["p50_a"] == merged["p50_b"]) | (merged["p50_a"].isna() & merged["p50_b"].isna())
    merged["moved"] = ~same_date | (merged["state_a"].fillna("") != merged["state_b"].fillna(""))
    order = {s: i for i, s in enumerate(sorted(merged["sector"], key=lambda s: (s == TOTAL, s)))}
    return merged.sort_values("sector", key=lambda c: c.map(order), ignore_index=True)


def _p50_text(p50: pd.Timestamp | None, state: object) -> str:
    if p50 is not None and not pd.isna(p50):
        return quarters.label(p50)
    return "none" if state is None or (isinstance(state, float) and pd.isna(state)) else f"none ({state})"


def change_report(moves: pd.DataFrame) -> str:
    """One line per sector: how its P50 crossover moved (:func:`p50_moves` output)."""
    lines = []
    for r in moves.itertuples(index=False):
        before, after = _p50_text(r.p50_a, r.state_a), _p50_text(r.p50_b, r.state_b)
        if not r.moved:
            lines.append(f"{r.sector}: P50 {after} (unchanged)")
        elif pd.notna(r.shift_quarters):
            lines.append(f"{r.sector}: P50 {before} -> {after} ({r.shift_quarters:+.1f} quarters)")
        else:
            lines.append(f"{r.sector}: P50 {before} -> {after}")
    return "\n".join(lines)


def _changed_sectors(a: pd.DataFrame, b: pd.DataFrame, key: list[str], value: str) -> set[str]:
    """Sectors with a row of ``key`` present in only one frame or with a different ``value``."""
    merged = pd.merge(a[key + [value]], b[key + [value]], on=key, how="outer", suffixes=("_a", "_b"))
    diff = merged[~(merged[f"{value}_a"] == merged[f"{value}_b"])]
    return {str(u).rpartition("/")[0] for u in diff[UID]}


def _readings(db: Path, a: vintages.RunData, b: vintages.RunData, scenario: str) -> tuple[pd.DataFrame, ...]:
    """Crossovers of A under its assumptions, B under its own, and B under A's (the last isolates the fit)."""
    if scenario == BASELINE:
        return a.crossover, b.crossover, b.crossover
    assume_a, assume_b = vintages.assumptions(db, a, scenario), vintages.assumptions(db, b, scenario)
    before = crossover_table(View(a, assume_a))
    after = crossover_table(View(b, assume_b))
    same = assume_a.to_dict()["values"] == assume_b.to_dict()["values"]
    return before, after, after if same else crossover_table(View(b, assume_a))


def _causes(
    a: vintages.RunData,
    b: vintages.RunData,
    moves: pd.DataFrame,
    fixed: pd.DataFrame,
    before: pd.DataFrame,
    after: pd.DataFrame,
) -> list[str]:
    by_fit = p50_moves(before, fixed).set_index("sector")["moved"]
    by_assumptions = p50_moves(fixed, after).set_index("sector")["moved"]
    data = _changed_sectors(a.history, b.history, [UID, DS], Y)
    model = _changed_sectors(a.status[[UID, "model"]], b.status[[UID, "model"]], [UID], "model")
    settings = any(a.info.config.get(k) != b.info.config.get(k) for k in FIT_KEYS)
    code = a.info.code_version != b.info.code_version
    causes = []
    for r in moves.itertuples(index=False):
        parts = []
        if r.moved and by_fit.get(r.sector, True):
            touched = [bool(s) if r.sector == TOTAL else r.sector in s for s in (data, model)]
            parts += [name for name, changed in zip(("data", "model"), touched, strict=True) if changed]
            parts += [name for name, changed in (("settings", settings), ("code", code)) if changed]
        if r.moved and by_assumptions.get(r.sector, False):
            parts.append("assumptions")
        causes.append("+".join(parts) or ("unexplained" if r.moved else ""))
    return causes


def compare_runs(db: Path, run_a: str, run_b: str, scenario: str = BASELINE) -> pd.DataFrame:
    """How each crossover P50 moved from run A to run B under ``scenario``, and why.

    Under a saved scenario each run is read with the assumptions it recorded (the scenario's
    current definition for a run made before it was saved).  When those differ, run B's paths are
    also read with run A's assumptions: a P50 that moves between the two readings of B moved because
    of the assumptions; one that moves between A and B under A's assumptions moved for the other causes.

    Returns:
        Columns :data:`COMPARE_COLUMNS`; ``cause`` joins with '+' what moved that sector's P50:
        ``data`` (its history), ``model`` (a chosen model), ``settings`` (horizon, paths, seed,
        backtest), ``code`` (code version), ``assumptions`` (the scenario's drivers); empty when
        the P50 did not move, ``unexplained`` when it moved and none of these changed.
    """
    a, b = vintages.load_run(db, run_a), vintages.load_run(db, run_b)
    before, after, fixed = _readings(db, a, b, scenario)
    moves = p50_moves(before, after)
    moves["cause"] = _causes(a, b, moves, fixed, before, after)
    return moves[COMPARE_COLUMNS]
