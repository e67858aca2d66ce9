"""Building the database from the shipped ``data/`` files, and doing it on first use."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import quarters, store
from .frames import SPEND_COLUMNS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitSummary:
    """What ``init`` loaded."""

    db: Path
    sources: int
    estimates: int
    history_rows: int
    scenarios: int


def read_shipped(data_dir: Path = store.DATA_DIR) -> dict[str, pd.DataFrame]:
    """The shipped tables as frames, keyed by table name, typed as the schema expects."""
    read = lambda name: pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)  # noqa: E731
    sources = read("sources.csv")
    estimates = read("published_estimates.csv")
    estimates["value"] = estimates["value"].astype(float)
    estimates["year"] = pd.to_numeric(estimates["year"], errors="coerce").astype("Int64")
    history = read("spend_history.csv")[SPEND_COLUMNS]
    history["period"] = pd.to_datetime(history["period"].map(quarters.start)).dt.date
    history["spend_usd"] = history["spend_usd"].astype(float)
    return {"sources": sources, "published_estimates": estimates, "spend_history": history}


def init_db(db: Path, data_dir: Path = store.DATA_DIR) -> InitSummary:
    """Build a new database file at ``db`` from ``data_dir`` (replacing any file there, atomically)."""
    from .scenario_store import seed_presets  # deferred: keeps bootstrap importable on its own

    frames = read_shipped(data_dir)
    with store.writer(db, fresh=True) as s:
        for table, df in frames.items():
            s.insert(table, df)
        n_scenarios = seed_presets(s)
    log.info("built %s from %s", db, data_dir)
    return InitSummary(
        db=Path(db),
        sources=len(frames["sources"]),
        estimates=len(frames["published_estimates"]),
        history_rows=len(frames["spend_history"]),
        scenarios=n_scenarios,
    )


def ensure_db(db: Path) -> Path:
    """Create ``db`` from the shipped data if it is missing, and migrate it if it is older; returns it."""
    db = Path(db)
    if not db.exists():
        log.info("database %s does not exist yet; building it from the shipped data", db)
        init_db(db)
        return db
    with store.reader(db) as s:
        version = s.schema_version()
    if version < store.latest_schema_version():
        with store.writer(db):  # the writer migrates before anything else
            pass
    return db
