"""Forecast vintages: list the stored runs, load any of them, and explain how two runs differ.

A *vintage* is one published refresh: its settings, the history it saw, forecasts, backtests, joint
sample paths, the baseline crossover estimates, and every saved scenario as it stood then (its
assumptions and the crossover estimates they give).  Older vintages stay (up to
``Settings.retention``) so an analyst can see which crossover dates moved and why: new data (the
history a run saw changed), another model (a series' chosen model changed), other settings, or
other assumptions: a scenario edited between the runs, told apart from the rest by re-applying
the earlier run's assumptions to the later run's paths.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import store
from .config import TOTAL, WORKLOADS, series_id, split_series_id
from .crossover import crossover_distribution, crossover_frame
from .errors import NotFoundError
from .frames import DS, UID, Y
from .scenario import SCENARIO_SEED, Baseline, Scenario, apply_scenario
from .scenario_store import load_scenario

log = logging.getLogger(__name__)

#: Name under which a refresh stores its own (assumption-free) crossover estimates.
BASELINE = "baseline"
#: Accepted wherever a run id is: the published run.
LATEST = "latest"

COMPARE_COLUMNS = [
    "sector", "state_a", "state_b", "p50_a", "p50_b", "shift_quarters", "moved", "cause",
]  # fmt: skip


@dataclass(frozen=True)
class RunInfo:
    """One row of ``forecast_runs``, with the JSON columns parsed."""

    run_id: str
    created_at: pd.Timestamp
    data_fingerprint: str
    config: dict[str, object]
    code_version: str
    status: str
    seed: int
    timings: dict[str, float]
    change_report: str


@dataclass(frozen=True, eq=False)
class RunData:
    """Everything one vintage stored; ``baseline`` is None when no sector has both workloads' paths."""

    info: RunInfo
    history: pd.DataFrame  # unique_id, ds, y: what the run was fitted on
    forecasts: pd.DataFrame  # frames.FORECAST_COLUMNS
    backtests: pd.DataFrame  # unique_id, model, mase, smape, coverage_80, coverage_95, interval_score, chosen
    status: pd.DataFrame  # unique_id, status, model, message
    crossover: pd.DataFrame  # sector, state, crossed_at, p10, p50, p90, prob_within_horizon (scenario 'baseline')
    paths: dict[str, np.ndarray]  # unique_id -> (n_paths, horizon)
    future_ds: dict[str, pd.DatetimeIndex]
    baseline: Baseline | None
    scenarios: dict[str, Scenario] = field(default_factory=dict)  # saved scenarios as they stood at the run

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.info.run_id

    def require_baseline(self) -> Baseline:
        """The run's baseline paths; ``ValueError`` when no sector has both workloads' paths."""
        if self.baseline is None:
            raise ValueError(
                f"run {self.run_id} has no sector with both workloads' paths; nothing to apply a scenario to"
            )
        return self.baseline


def paths_to_bytes(paths: np.ndarray) -> bytes:
    """One series' (n_paths, horizon) float array as ``np.save`` bytes (the sample_paths blob)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(paths, dtype=float), allow_pickle=False)
    return buf.getvalue()


def paths_from_bytes(blob: bytes) -> np.ndarray:
    """Inverse of :func:`paths_to_bytes`."""
    return np.load(io.BytesIO(bytes(blob)), allow_pickle=False)


def build_baseline(
    paths: Mapping[str, np.ndarray], future_ds: Mapping[str, pd.DatetimeIndex], history: pd.DataFrame
) -> Baseline | None:
    """Stack per-series paths into a :class:`Baseline` of every sector with both workloads on common periods.

    Sectors missing a workload or forecasting other periods than most series are left out (logged);
    returns None when no sector qualifies.
    """
    if not future_ds:
        return None
    common = Counter(tuple(ix) for ix in future_ds.values()).most_common(1)[0][0]
    sectors: list[str] = []
    for uid in sorted(paths):
        try:
            sector, _ = split_series_id(uid)
        except ValueError:
            continue
        if sector != TOTAL and sector not in sectors:
            sectors.append(sector)
    kept: dict[str, np.ndarray] = {}
    for sector in sectors:
        ids = [series_id(sector, w) for w in WORKLOADS]
        if all(u in paths and tuple(future_ds[u]) == common for u in ids):
            kept.update({u: paths[u] for u in ids})
        else:
            log.warning("sector %s left out of the baseline: it lacks a workload or forecasts other periods", sector)
    if not kept:
        return None
    sectors_kept = {split_series_id(u)[0] for u in kept}
    hist = history[history[UID].map(lambda u: u.rpartition("/")[0] in sectors_kept)]
    try:
        return Baseline.from_paths(kept, pd.DatetimeIndex(common), hist[[UID, DS, Y]])
    except ValueError as exc:
        log.warning("no baseline for crossover: %s", exc)
        return None


def _info(row: pd.Series) -> RunInfo:
    return RunInfo(
        run_id=str(row["run_id"]),
        created_at=pd.Timestamp(row["created_at"]),
        data_fingerprint=str(row["data_fingerprint"]),
        config=json.loads(row["config_json"]),
        code_version=str(row["code_version"]),
        status=str(row["status"]),
        seed=int(row["seed"]),
        timings=json.loads(row["timings_json"] or "{}"),
        change_report=str(row["change_report"]),
    )


def latest_run_id(db: Path) -> str | None:
    """The published run's id, or None before the first refresh."""
    with store.reader(db) as s:
        value = s.scalar("run_latest")
    return None if value is None else str(value)


def resolve_run_id(db: Path, run_id: str) -> str:
    """``'latest'`` -> the published run's id; any other id is checked to exist (NotFoundError if not)."""
    with store.reader(db) as s:
        if run_id == LATEST:
            found = s.scalar("run_latest")
            if found is None:
                raise NotFoundError(f"no forecast run in {db} yet; run `forecasting refresh --db {db}` first")
            return str(found)
        if s.scalar("run_get", run_id=run_id) is None:
            raise NotFoundError(f"no forecast run '{run_id}' in {db}; `forecasting vintage list` shows the runs")
    return run_id


def list_runs(db: Path) -> pd.DataFrame:
    """Every stored run, newest first, with per-series status counts and its change report."""
    with store.reader(db) as s:
        runs = s.frame("run_list")
    runs["created_at"] = pd.to_datetime(runs["created_at"])
    return runs


def run_info(db: Path, run_id: str) -> RunInfo:
    """The run's metadata (``run_id`` may be 'latest')."""
    rid = resolve_run_id(db, run_id)
    with store.reader(db) as s:
        return _info(s.frame("run_get", run_id=rid).iloc[0])


def load_run(db: Path, run_id: str) -> RunData:
    """Load one vintage completely, from one read-only snapshot of the file (``run_id`` may be 'latest')."""
    rid = resolve_run_id(db, run_id)
    with store.reader(db) as s:
        info = _info(s.frame("run_get", run_id=rid).iloc[0])
        history = s.frame("run_history", run_id=rid)
        forecasts = s.frame("forecast_run", run_id=rid)
        backtests = s.frame("backtest_run", run_id=rid)
        status = s.frame("run_status", run_id=rid)
        crossover = s.frame("crossover_run", run_id=rid, scenario=BASELINE)
        blobs = s.frame("paths_run", run_id=rid)
        snapshots = s.frame("run_scenarios", run_id=rid)
    history[DS] = pd.to_datetime(history[DS])
    forecasts[DS] = pd.to_datetime(forecasts[DS])
    for col in ("crossed_at", "p10", "p50", "p90"):
        crossover[col] = pd.to_datetime(crossover[col])
    paths: dict[str, np.ndarray] = {}
    future_ds: dict[str, pd.DatetimeIndex] = {}
    for row in blobs.itertuples(index=False):
        paths[row.unique_id] = paths_from_bytes(row.paths)
        future_ds[row.unique_id] = pd.DatetimeIndex(
            forecasts.loc[forecasts[UID] == row.unique_id, DS].sort_values().to_numpy()
        )
    baseline = build_baseline(paths, future_ds, history)
    scenarios = {str(r.scenario): Scenario.from_dict(json.loads(r.params_json)) for r in snapshots.itertuples()}
    return RunData(info, history, forecasts, backtests, status, crossover, paths, future_ds, baseline, scenarios)


def scenario_crossover(baseline: Baseline, scenario: Scenario, threshold: float = 1.0) -> pd.DataFrame:
    """Crossover estimates (``crossover_frame`` columns) of ``baseline`` under ``scenario`` (SCENARIO_SEED draws)."""
    adjusted = apply_scenario(baseline, scenario, seed=SCENARIO_SEED)
    return crossover_frame(crossover_distribution(adjusted, threshold=threshold))


def quarters_between(a: pd.Timestamp | None, b: pd.Timestamp | None) -> float:
    """Signed number of quarters from ``a`` to ``b`` (NaN if either is missing)."""
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return float("nan")
    return float((b.year - a.year) * 4 + (b.quarter - a.quarter))


def p50_moves(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per sector of either frame (crossover rows with sector, state, p50): P50 and state before and after."""
    cols = ["sector", "state", "p50"]
    merged = pd.merge(before[cols], after[cols], on="sector", how="outer", suffixes=("_a", "_b"))
    for col in ("p50_a", "p50_b"):
        merged[col] = pd.to_datetime(merged[col])
    merged["shift_quarters"] = [quarters_between(a, b) for a, b in zip(merged["p50_a"], merged["p50_b"], strict=True)]
    same_date = (merged["p50_a"] == merged["p50_b"]) | (merged["p50_a"].isna() & merged["p50_b"].isna())
    merged["moved"] = ~same_date | (merged["state_a"].fillna("") != merged["state_b"].fillna(""))
    order = {s: i for i, s in enumerate(sorted(merged["sector"], key=lambda s: (s == TOTAL, s)))}
    return merged.sort_values("sector", key=lambda c: c.map(order), ignore_index=True)


def change_report(moves: pd.DataFrame) -> str:
    """One line per sector: how its P50 crossover moved (``p50_moves`` output)."""
    lines = []
    for r in moves.itertuples(index=False):
        before = _fmt(r.p50_a, r.state_a)
        after = _fmt(r.p50_b, r.state_b)
        if not r.moved:
            lines.append(f"{r.sector}: P50 {after} (unchanged)")
        elif np.isfinite(r.shift_quarters):
            lines.append(f"{r.sector}: P50 {before} -> {after} ({r.shift_quarters:+.0f} quarters)")
        else:
            lines.append(f"{r.sector}: P50 {before} -> {after}")
    return "\n".join(lines)


def _fmt(p50: pd.Timestamp | None, state: object) -> str:
    if p50 is not None and not pd.isna(p50):
        return f"{p50.year}Q{p50.quarter}"
    return "none" if state is None or (isinstance(state, float) and np.isnan(state)) else f"none ({state})"


def _sector_of(uid: str) -> str:
    return uid.rpartition("/")[0]


def _changed_sectors(a: pd.DataFrame, b: pd.DataFrame, key: list[str], value: str) -> set[str]:
    """Sectors with a row of ``key`` present in only one frame or with a different ``value``."""
    merged = pd.merge(a[key + [value]], b[key + [value]], on=key, how="outer", suffixes=("_a", "_b"))
    diff = merged[~(merged[f"{value}_a"] == merged[f"{value}_b"])]
    return {_sector_of(u) for u in diff[UID]}


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
    a, b = load_run(db, run_a), load_run(db, run_b)
    if scenario == BASELINE:
        before, after, fixed = a.crossover, b.crossover, b.crossover
    else:
        assume_a, assume_b = _assumptions(db, a, scenario), _assumptions(db, b, scenario)
        before = scenario_crossover(a.require_baseline(), assume_a)
        after = scenario_crossover(b.require_baseline(), assume_b)
        same = _drivers(assume_a) == _drivers(assume_b)
        fixed = after if same else scenario_crossover(b.require_baseline(), assume_a)
    moves = p50_moves(before, after)
    by_fit = p50_moves(before, fixed).set_index("sector")["moved"]
    by_assumptions = p50_moves(fixed, after).set_index("sector")["moved"]
    data = _changed_sectors(a.history, b.history, [UID, DS], Y)
    chosen = lambda r: r.status[[UID, "model"]]  # noqa: E731
    model = _changed_sectors(chosen(a), chosen(b), [UID], "model")
    fit_keys = ("horizon", "n_paths", "seed", "backtest_origins", "backtest_horizon", "models")
    settings = any(a.info.config.get(k) != b.info.config.get(k) for k in fit_keys)
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
    moves["cause"] = causes
    return moves[COMPARE_COLUMNS]


def _assumptions(db: Path, run: RunData, name: str) -> Scenario:
    """The scenario as ``run`` recorded it, else as saved now (runs before it existed, or before migration 3)."""
    if name in run.scenarios:
        return run.scenarios[name]
    log.info("run %s recorded no scenario '%s'; using its current definition", run.run_id, name)
    return load_scenario(db, name)


def _drivers(scenario: Scenario) -> dict[str, dict[str, object]]:
    return scenario.to_dict()["values"]

