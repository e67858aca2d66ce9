"""Forecast vintages: list the stored runs and load any of them (the reader of what refreshes publish).

A *vintage* is one published refresh: its settings, the history it saw, forecasts, backtests, joint
sample paths, the baseline crossover estimates, and every saved scenario as it stood then (its
assumptions and the crossover estimates they give).  Older vintages stay (up to
``Settings.retention``) so an analyst can see which crossover dates moved and why: new data (the
history a run saw changed), another model (a series' chosen model changed), other settings, or
other assumptions: a scenario edited between the runs, told apart from the rest by re-applying
the earlier run's assumptions to the later run's paths (``reports.compare_runs``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, store, structural
from . import paths as sample_paths
from .config import sector_of
from .errors import NotFoundError
from .frames import DS, NAIVE_FALLBACK, UID
from .paths import SamplePaths
from .scenario import BASELINE, Scenario
from .scenario_store import load_scenario
from .share import DEFAULT_DEFINITION
from .structural import Structure

log = logging.getLogger(__name__)

#: Modules whose code decides a run's numbers (the dashboard, CLI and exports do not).
NUMERIC_SOURCES = (
    "engine/*.py",
    "executors.py",
    "metrics.py",
    "frames.py",
    "refresh.py",
    "publish.py",
    "share.py",
    "structural.py",
    "paths.py",
    "drivers.py",
    "scenario.py",
    "crossover.py",
    "quarters.py",
    "vintages.py",
    "models/*.py",
)


@cache
def code_version() -> str:
    """Package version plus a digest of the numeric modules as loaded by this process."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(p for pattern in NUMERIC_SOURCES for p in root.glob(pattern)):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


#: Accepted wherever a run id is: the published run.
LATEST = "latest"


@dataclass(frozen=True)
class RunInfo:
    """One row of ``forecast_runs``, with the JSON columns parsed."""

    run_id: str
    created_at: pd.Timestamp  # UTC
    data_fingerprint: str
    config: dict[str, object]
    code_version: str
    status: str
    seed: int
    timings: dict[str, float]
    change_report: str

    @classmethod
    def from_row(cls, row: pd.Series) -> RunInfo:
        """Parse one ``forecast_runs`` row (as the ``run_get`` and ``run_latest`` queries return it)."""
        return cls(
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


@dataclass(frozen=True, eq=False)
class RunData:
    """Everything one vintage stored; ``paths`` is None when no sector has both workloads' paths."""

    info: RunInfo
    history: pd.DataFrame  # unique_id, ds, y: what the run was fitted on
    forecasts: pd.DataFrame  # frames.FORECAST_COLUMNS
    backtests: pd.DataFrame  # unique_id, model, mase, smape, coverage_80, coverage_95, interval_score, chosen
    status: pd.DataFrame  # unique_id, status, model, message
    crossover: pd.DataFrame  # sector, state, crossed_at, p10, p50, p90, prob_within_horizon (scenario 'baseline')
    paths: SamplePaths | None  # under the default definition
    scenarios: dict[str, Scenario] = field(default_factory=dict)  # saved scenarios as they stood at the run
    structure: Structure | None = None  # the structural model's draws; None: the statistical engine alone

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.info.run_id

    @property
    def definitions(self) -> tuple[str, ...]:
        """The share definitions this run can answer under (only the default without a structural model)."""
        return self.structure.draws.definitions if self.structure is not None else (DEFAULT_DEFINITION,)

    def paths_for(self, definition: str = DEFAULT_DEFINITION) -> SamplePaths:
        """The run's sample paths with the structural sectors split under ``definition``."""
        own = self.require_paths()
        if definition == DEFAULT_DEFINITION:
            return own
        if self.structure is None or definition not in self.structure.draws.definitions:
            raise ValueError(
                f"run {self.run_id} has no share model for definition '{definition}'; it answers "
                f"{', '.join(self.definitions)}"
            )
        return structural.attach(own, self.structure, definition)

    def fallback_sectors(self) -> set[str]:
        """Sectors with a series the engine forecast by its naive fallback (too short, or no model fitted).

        Not those with gaps filled (also status ``fallback``, but fitted) or flat ones (a constant series).
        """
        naive = (self.status["status"] == "fallback") & self.status["message"].str.contains(NAIVE_FALLBACK, regex=False)
        return {sector_of(str(uid)) for uid in self.status.loc[naive, UID]}

    def require_paths(self) -> SamplePaths:
        """The run's sample paths; ``ValueError`` when no sector has both workloads' paths."""
        if self.paths is None:
            raise ValueError(
                f"run {self.run_id} has no sector with both workloads' paths; nothing to apply a scenario to"
            )
        return self.paths


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
        return RunInfo.from_row(s.frame("run_get", run_id=rid).iloc[0])


def load_run(db: Path, run_id: str) -> RunData:
    """Load one vintage completely, from one read-only snapshot of the file (``run_id`` may be 'latest')."""
    rid = resolve_run_id(db, run_id)
    with store.reader(db) as s:
        info = RunInfo.from_row(s.frame("run_get", run_id=rid).iloc[0])
        history = s.frame("run_history", run_id=rid)
        forecasts = s.frame("forecast_run", run_id=rid)
        backtests = s.frame("backtest_run", run_id=rid)
        status = s.frame("run_status", run_id=rid)
        crossover = s.frame("crossover_run", run_id=rid, scenario=BASELINE)
        blobs = s.frame("paths_run", run_id=rid)
        snapshots = s.frame("run_scenarios", run_id=rid)
        structured = s.frame("run_structural", run_id=rid)
    history[DS] = pd.to_datetime(history[DS])
    forecasts[DS] = pd.to_datetime(forecasts[DS])
    for col in ("crossed_at", "p10", "p50", "p90"):
        crossover[col] = pd.to_datetime(crossover[col])
    series: dict[str, np.ndarray] = {}
    future_ds: dict[str, pd.DatetimeIndex] = {}
    for row in blobs.itertuples(index=False):
        uid = str(row.unique_id)
        series[uid] = sample_paths.from_bytes(row.paths)
        future_ds[uid] = pd.DatetimeIndex(forecasts.loc[forecasts[UID] == uid, DS].sort_values().to_numpy())
    joint = sample_paths.from_series(series, future_ds, history)
    structure = None
    if len(structured) and joint is not None:
        total = structural.TOTAL_SERIES
        structure = structural.from_store(
            str(structured["meta_json"].iat[0]), structured["draws"].iat[0], history, series[total], future_ds[total]
        )
        joint = structural.attach(joint, structure)
    scenarios = {str(r.scenario): Scenario.from_dict(json.loads(r.params_json)) for r in snapshots.itertuples()}
    return RunData(info, history, forecasts, backtests, status, crossover, joint, scenarios, structure)


def assumptions(db: Path, run: RunData, name: str) -> Scenario:
    """The scenario ``name`` as ``run`` recorded it, else as saved now (runs made before it existed)."""
    if name in run.scenarios:
        return run.scenarios[name]
    log.info("run %s recorded no scenario '%s'; using its current definition", run.run_id, name)
    return load_scenario(db, name)


def crossover_history(db: Path) -> pd.DataFrame:
    """Stored baseline crossover estimates of every run with its creation time, oldest run first."""
    with store.reader(db) as s:
        return s.frame("ui_crossover_history")
