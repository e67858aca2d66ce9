"""Shared fixtures: a tiny shipped-data folder, a database built from it, and a series maker."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import store
from forecasting.bootstrap import init_db

# Keep Streamlit, Prophet and friends quiet and offline in every test process.
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


def make_series(
    n: int = 24,
    *,
    seed: int = 0,
    start: str = "2019-01-01",
    freq: str = "QS",
    level: float = 100.0,
    growth: float = 0.05,
    season: float = 0.0,
    noise: float = 0.02,
    unique_id: str = "s",
) -> pd.DataFrame:
    """A long frame (unique_id, ds, y) with multiplicative growth, quarterly season and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level * (1 + growth) ** t * (1 + season * np.sin(2 * np.pi * t / 4)) * np.exp(rng.normal(0, noise, n))
    return pd.DataFrame({"unique_id": unique_id, "ds": pd.date_range(start, periods=n, freq=freq), "y": y})


def write_tiny_data(folder: Path, sectors: tuple[str, ...] = ("healthcare", "retail")) -> Path:
    """Write a minimal shipped-data folder (two sectors, 2022Q1-2024Q4) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "source_id": ["src-a"],
            "publisher": ["Example Research"],
            "title": ["AI spend"],
            "source_date": ["2024-01-01"],
            "url": ["https://example.org/ai"],
        }
    ).to_csv(folder / "sources.csv", index=False)
    pd.DataFrame(
        {
            "estimate_id": ["est-1"],
            "metric": ["ai_optimized_iaas_spend"],
            "scope": ["global"],
            "sector": [""],
            "year": ["2024"],
            "period": [""],
            "value": ["7.447"],
            "unit": ["usd_billion"],
            "kind": ["actual"],
            "source_id": ["src-a"],
            "note": [""],
        }
    ).to_csv(folder / "published_estimates.csv", index=False)
    rows = []
    quarters = pd.period_range("2022Q1", "2024Q4", freq="Q")
    for si, sector in enumerate(sectors):
        for qi, q in enumerate(quarters):
            rows.append((str(q), sector, "worldwide", "training", 1e9 * (1 + si) * 1.05**qi))
            rows.append((str(q), sector, "worldwide", "inference", 0.4e9 * (1 + si) * 1.12**qi))
    history = pd.DataFrame(rows, columns=["period", "sector", "region", "workload", "spend_usd"])
    history["provenance"], history["source_ids"], history["method"] = "modelled", "src-a", "test"
    history.to_csv(folder / "spend_history.csv", index=False)
    return folder


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A shipped-data folder with two sectors and three years of quarters."""
    return write_tiny_data(tmp_path / "data")


@pytest.fixture
def db(tmp_path: Path, tiny_data: Path) -> Path:
    """A database file built from the tiny data folder."""
    path = tmp_path / "crossover.duckdb"
    init_db(path, tiny_data)
    return path


@pytest.fixture
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file built from the real shipped data/ folder."""
    path = tmp_path_factory.mktemp("shipped") / "crossover.duckdb"
    init_db(path, store.DATA_DIR)
    return path


def checksums(db: Path) -> dict[str, str]:
    """Per-table content hashes of a database file."""
    with store.reader(db) as s:
        return s.checksums()
