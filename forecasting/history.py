"""Reading the spend history and shaping it into forecastable series."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import store
from .config import PROVENANCE, TOTAL, WORKLOADS, series_id
from .frames import DS, UID, Y


def load_spend(db: Path, provenance: str | None = None) -> pd.DataFrame:
    """Stored spend rows (one per period, sector, region, workload), optionally of one provenance."""
    if provenance is not None and provenance not in PROVENANCE:
        raise ValueError(f"provenance must be one of {sorted(PROVENANCE)}, got {provenance!r}")
    with store.reader(db) as s:
        df = s.frame("history_spend", provenance=provenance)
    df["period"] = pd.to_datetime(df["period"])
    return df


def load_series(db: Path) -> pd.DataFrame:
    """The history as long series ``unique_id, ds, y`` (``sector/workload``), regions summed."""
    with store.reader(db) as s:
        df = s.frame("history_series")
    df[DS] = pd.to_datetime(df[DS])
    return df


def data_fingerprint(db: Path) -> str:
    """Hash of the stored spend history: equal fingerprints mean a refit would see the same data."""
    with store.reader(db) as s:
        return str(s.scalar("data_fingerprint"))


def with_total(series: pd.DataFrame) -> pd.DataFrame:
    """Append ``total/<workload>`` series, the sum over sectors of periods every sector reports."""
    parts = series[UID].str.rpartition("/")
    frame = series.assign(_sector=parts[0], _workload=parts[2])
    frame = frame[frame["_sector"] != TOTAL]
    n_sectors = frame["_sector"].nunique()
    grouped = frame.groupby(["_workload", DS])[Y].agg(["sum", "count"]).reset_index()
    complete = grouped[grouped["count"] == n_sectors]
    totals = pd.DataFrame(
        {UID: [series_id(TOTAL, w) for w in complete["_workload"]], DS: complete[DS], Y: complete["sum"]}
    )
    totals = totals[totals[UID].isin([series_id(TOTAL, w) for w in WORKLOADS])]
    return pd.concat([series, totals], ignore_index=True).sort_values([UID, DS], ignore_index=True)
