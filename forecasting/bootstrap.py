"""Building the database from the shipped ``data/`` files, and doing it on first use."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import quarters, schema, store
from .errors import DatabaseExistsError
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
    backup: Path | None = None  # where ``force`` kept the file it replaced


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
    return {"sources": sources, "published_estimates": estimates, "spend_history": history, **read_reference(data_dir)}


def read_reference(data_dir: Path = store.DATA_DIR) -> dict[str, pd.DataFrame]:
    """The share model's reference tables (share anchors, crossover claims), empty where a folder has none."""
    out: dict[str, pd.DataFrame] = {}
    anchors_csv, claims_csv = data_dir / "share_anchors.csv", data_dir / "raw" / "crossover_claims.csv"
    if anchors_csv.exists():
        anchors = pd.read_csv(anchors_csv, dtype=str, keep_default_na=False)
        anchors[["t", "value"]] = anchors[["t", "value"]].astype(float)
        out["share_anchors"] = anchors
    if claims_csv.exists():
        claims = pd.read_csv(claims_csv, dtype=str, keep_default_na=False)
        for col in ("crossover_year", "share_year"):
            claims[col] = pd.to_numeric(claims[col], errors="coerce").astype("Int64")
        claims["inference_share"] = pd.to_numeric(claims["inference_share"], errors="coerce")
        out["crossover_claims"] = claims
    return out


def backup_path(db: Path, now: datetime | None = None) -> Path:
    """Where ``init --force`` keeps the file it replaces: ``<db>.backup-<UTC time>``."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return Path(db).with_name(f"{Path(db).name}.backup-{stamp}")


def init_db(db: Path, data_dir: Path = store.DATA_DIR, *, force: bool = False) -> InitSummary:
    """Build a new database file at ``db`` from ``data_dir``, atomically.

    An existing file is refused (:class:`DatabaseExistsError`) unless ``force``; then it is copied to
    :func:`backup_path` first, under the write lock, so no run, scenario or import is lost for good.
    """
    from .scenario_store import seed_presets  # deferred: keeps bootstrap importable on its own

    frames = read_shipped(data_dir)
    backup = None
    with store.writer(db, fresh=True) as s:
        if Path(db).exists():
            if not force:
                raise DatabaseExistsError(
                    f"database {db} exists already; `forecasting init --force` rebuilds it from the shipped "
                    "data and keeps the current file as a backup (its runs, scenarios and imports)"
                )
            backup = backup_path(db)
            shutil.copy2(db, backup)
            log.info("kept the previous database as %s", backup)
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
        backup=backup,
    )


def ensure_db(db: Path) -> Path:
    """Create ``db`` from the shipped data if it is missing, and migrate it if it is older; returns it.

    A file that is not a whole Crossover database (:func:`schema.schema_problem`) raises
    :class:`DatabaseDamagedError` and is left as it is.
    """
    db = Path(db)
    if not db.exists():
        log.info("database %s does not exist yet; building it from the shipped data", db)
        init_db(db)
        return db
    with store.reader(db) as s:
        schema.refuse_newer(s, db)
        problem = schema.schema_problem(s)
        version, applied = s.schema_version(), s.applied_versions()
    if problem is not None:  # never migrate another program's file into ours, nor use a file missing tables
        raise store.damaged(db, problem)
    if schema.pending_versions(applied):
        with store.writer(db) as w:  # the writer migrates before anything else
            if version < 4:  # the reference tables arrived with version 4: fill them from the shipped data
                for table, df in read_reference().items():
                    w.insert(table, df)
    return db
