"""Writing a forecast run into the store: its rows per table, in one copy-on-write transaction.

A refresh publishes one run (superseding the previous one and pruning beyond the retention); the
crossover backtest stores its replays (replacing the previous replays, publishing nothing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import paths as sample_paths
from . import store, structural
from .frames import DS, FORECAST_COLUMNS, UID, Y
from .integrity import require_complete, require_sound

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
    """A run id: the UTC time it was made, and six random hex digits."""
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


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
            (run_id, uid, int(p.shape[0]), int(p.shape[1]), result.future_ds[uid][0].date(), blob, checksum(blob))
            for uid, p in sorted(result.paths.items())
            for blob in [sample_paths.to_bytes(p)]
        ],
        columns=["run_id", "unique_id", "n_paths", "horizon", "first_ds", "paths", "checksum"],
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
        tables["run_structural"] = pd.DataFrame(
            [{"run_id": run_id, "meta_json": meta, "draws": blob, "checksum": checksum(blob)}]
        )
    return tables


def publish(
    db: Path,
    run_row: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    retention: int,
    before_commit: Callable[[], None] = lambda: None,
) -> tuple[str, ...]:
    """One copy-on-write transaction: insert the run, supersede the previous one, prune old runs.

    The file is checked first (:func:`integrity.require_sound`: nothing is published on a damaged
    file), the new run is checked complete before the commit, and it is
    never pruned, even when the clock went back and it looks older than the runs it supersedes.
    """
    run_id = str(run_row["run_id"].iat[0])
    with store.writer(db) as s:
        require_sound(s, db)
        s.insert("forecast_runs", run_row)
        for table, frame in tables.items():
            s.insert(table, frame)
        s.run("run_supersede", run_id=run_id)
        pruned = tuple(str(r) for r in s.frame("run_prune_ids", keep=retention, run_id=run_id)["run_id"])
        for old in pruned:
            for table in (*RUN_TABLES, "forecast_runs"):
                s.delete_run(table, old)
        require_complete(s, run_id)
        before_commit()
    return pruned


def checksum(blob: bytes) -> str:
    """The SHA-256 hex digest stored beside a blob (DuckDB's ``sha256`` of the same bytes agrees)."""
    return hashlib.sha256(blob).hexdigest()


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
        for old in s.frame("replay_runs")["run_id"]:
            for table in (*RUN_TABLES, "run_kinds", "forecast_runs"):
                s.delete_run(table, str(old))
        for row, frames in zip(rows, tables, strict=True):
            s.insert("forecast_runs", row.assign(status="superseded"))
            for table, frame in frames.items():
                s.insert(table, frame)
