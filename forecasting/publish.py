"""Writing a forecast run into the store: its rows per table, in one copy-on-write transaction.

A refresh publishes one run (superseding the previous one and pruning beyond the retention); the
crossover backtest stores its replays (replacing the previous replays, publishing nothing).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import paths as sample_paths
from . import store, structural
from .frames import DS, FORECAST_COLUMNS, UID, Y

if TYPE_CHECKING:
    from .engine import ForecastResult
    from .structural import Structure

log = logging.getLogger(__name__)

#: Tables holding one run's rows (a pruned run leaves none behind).
RUN_TABLES = (
    "series_status",
    "forecasts",
    "sample_paths",
    "backtest_metrics",
    "crossover_estimates",
    "run_history",
    "run_scenarios",
    "run_structural",
)


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def remove_stale_temporaries(db: Path) -> None:
    """Drop copies left by writers that were killed (only call while holding the write lock)."""
    mine = f".{db.name}.{os.getpid()}.tmp"
    for path in db.parent.glob(f".{db.name}.*.tmp*"):
        if not path.name.startswith(mine):
            log.info("refresh event=stale_temporary_removed path=%s", path)
            path.unlink(missing_ok=True)


def run_tables(
    run_id: str,
    result: ForecastResult,
    structure: Structure | None,
    crossovers: pd.DataFrame,
    history: pd.DataFrame,
    scenarios: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The rows of every per-run table for one run (``crossovers`` has a scenario column).

    ``structure`` (the share model's draws and the sector split) is stored when the run has one.
    """
    forecasts = result.forecasts[FORECAST_COLUMNS].assign(run_id=run_id)
    forecasts[DS] = forecasts[DS].dt.date
    paths = pd.DataFrame(
        [
            (run_id, uid, int(p.shape[0]), int(p.shape[1]), result.future_ds[uid][0].date(), sample_paths.to_bytes(p))
            for uid, p in sorted(result.paths.items())
        ],
        columns=["run_id", "unique_id", "n_paths", "horizon", "first_ds", "paths"],
    )
    status = result.status.assign(run_id=run_id)
    status["message"] = status["message"].fillna("")
    cross = crossovers.assign(run_id=run_id)
    for col in ("crossed_at", "p10", "p50", "p90"):
        cross[col] = pd.to_datetime(cross[col]).dt.date
    hist = history[[UID, DS, Y]].assign(run_id=run_id)
    hist[DS] = hist[DS].dt.date
    tables = {
        "series_status": status,
        "forecasts": forecasts,
        "sample_paths": paths,
        "backtest_metrics": result.backtests.assign(run_id=run_id),
        "crossover_estimates": cross[
            ["run_id", "scenario", "sector", "state", "crossed_at", "p10", "p50", "p90", "prob_within_horizon"]
        ],
        "run_history": hist,
        "run_scenarios": scenarios.rename(columns={"name": "scenario"}).assign(run_id=run_id)[
            ["run_id", "scenario", "params_json"]
        ],
    }
    if structure is not None:
        meta, blob = structural.to_store(structure)
        tables["run_structural"] = pd.DataFrame([{"run_id": run_id, "meta_json": meta, "draws": blob}])
    return tables


def publish(
    db: Path,
    run_row: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    retention: int,
    before_commit: Callable[[], None] = lambda: None,
) -> tuple[str, ...]:
    """One copy-on-write transaction: insert the run, supersede the previous one, prune old runs."""
    run_id = str(run_row["run_id"].iat[0])
    with store.writer(db) as s:
        remove_stale_temporaries(Path(db))
        s.insert("forecast_runs", run_row)
        for table, frame in tables.items():
            s.insert(table, frame)
        s.run("run_supersede", run_id=run_id)
        pruned = tuple(str(r) for r in s.frame("run_prune_ids", keep=retention)["run_id"])
        for old in pruned:
            for table in (*RUN_TABLES, "forecast_runs"):
                s.delete_run(table, old)
        before_commit()
    return pruned


def run_row(
    run_id: str,
    now: datetime,
    fingerprint: str,
    config: dict[str, object],
    version: str,
    seed: int,
    timings: dict[str, float],
    report: str,
) -> pd.DataFrame:
    """The run's ``forecast_runs`` row (``now`` in UTC)."""
    row = {
        "run_id": run_id,
        "created_at": now.replace(tzinfo=None),
        "data_fingerprint": fingerprint,
        "config_json": json.dumps(config, sort_keys=True),
        "code_version": version,
        "status": "published",
        "seed": seed,
        "timings_json": json.dumps({k: round(v, 3) for k, v in timings.items()}, sort_keys=True),
        "change_report": report,
    }
    return pd.DataFrame([row])


def store_replays(db: Path, rows: list[pd.DataFrame], tables: list[dict[str, pd.DataFrame]]) -> None:
    """One transaction: drop the previous replays, insert the new ones (status superseded, never published)."""
    with store.writer(db) as s:
        remove_stale_temporaries(Path(db))
        for old in s.frame("replay_runs")["run_id"]:
            for table in (*RUN_TABLES, "run_kinds", "forecast_runs"):
                s.delete_run(table, str(old))
        for row, frames in zip(rows, tables, strict=True):
            s.insert("forecast_runs", row.assign(status="superseded"))
            for table, frame in frames.items():
                s.insert(table, frame)
