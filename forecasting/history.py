"""Reading the stored spend history, the published estimates and their sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import store
from .config import PROVENANCE


def load_spend(db: Path, provenance: str | None = None) -> pd.DataFrame:
    """Stored spend rows (one per period, sector, region, workload), optionally of one provenance."""
    if provenance is not None and provenance not in PROVENANCE:
        raise ValueError(f"provenance must be one of {sorted(PROVENANCE)}, got {provenance!r}")
    with store.reader(db) as s:
        df = s.frame("history_spend", provenance=provenance)
    df["period"] = pd.to_datetime(df["period"])
    return df


def load_estimates(db: Path) -> pd.DataFrame:
    """Published estimates joined with their sources (publisher, title, source_date, url)."""
    with store.reader(db) as s:
        return s.frame("estimates_all")


def load_sources(db: Path) -> pd.DataFrame:
    """Every source: source_id, publisher, title, source_date, url."""
    with store.reader(db) as s:
        return s.frame("sources_all")


def load_share_anchors(db: Path) -> pd.DataFrame:
    """Published inference shares the share model uses, with definition, bound and publication date."""
    with store.reader(db) as s:
        return s.frame("share_anchors_all")


def load_claims(db: Path) -> pd.DataFrame:
    """Published claims on when inference overtakes training (publisher, definition, year, quote, link)."""
    with store.reader(db) as s:
        return s.frame("claims_all")
