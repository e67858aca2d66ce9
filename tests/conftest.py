"""Shared fixtures: a tiny shipped-data folder, databases built from it and from the shipped data, and a series maker.

Building a database (``init_db``) and publishing a forecast (``run_refresh``) are the slow steps most tests
only need as a starting point, so each such starting point is built once per session, as a *template*,
and every test (or module) gets its own copy of the file: tests that write never touch a template.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import store
from forecasting.bootstrap import init_db
from forecasting.config import Settings
from forecasting.executors import SerialExecutor
from forecasting.refresh import run_refresh

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


#: The quick refresh of the tiny data most tests publish (three simple models, 50 paths, eight quarters ahead).
TINY_SETTINGS = Settings(n_paths=50, horizon=8, backtest_origins=2, backtest_horizon=2)
TINY_MODELS = ["naive", "drift", "ets"]
#: The quick refresh of the shipped data the dashboard tests publish (two models, 200 paths).
SHIPPED_SETTINGS = Settings(n_paths=200, backtest_origins=2, backtest_horizon=2)
SHIPPED_MODELS = ("naive", "drift")


@contextmanager
def read_only(db: Path) -> Iterator[None]:
    """Around the tests that share a fixture's database: fail at the end if any of them wrote to it."""
    before = checksums(db)
    yield
    assert checksums(db) == before, f"a test wrote to the shared {db}; it should copy it first"


def copy_db(source: Path, target: Path) -> Path:
    """Copy a database file (no process may hold it open for writing) to ``target``; returns ``target``.

    Its write-lock file comes along, so the copy looks like a database built at ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if store.lock_path(source).exists():
        shutil.copyfile(store.lock_path(source), store.lock_path(target))
    return target


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A shipped-data folder with two sectors and three years of quarters."""
    return write_tiny_data(tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: the tiny data (healthcare, retail) with no forecast run. Never write it: use ``db``."""
    folder = tmp_path_factory.mktemp("tiny-template")
    path = folder / "crossover.duckdb"
    init_db(path, write_tiny_data(folder / "data"))
    return path


@pytest.fixture(scope="session")
def tiny_published_template(tiny_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: the tiny data with one run published with ``TINY_SETTINGS`` and ``TINY_MODELS``."""
    path = copy_db(tiny_db_template, tmp_path_factory.mktemp("tiny-published") / "crossover.duckdb")
    summary = run_refresh(path, TINY_SETTINGS, models=TINY_MODELS, executor=SerialExecutor())
    assert summary.published, summary.message
    return path


@pytest.fixture(scope="session")
def shipped_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: the real shipped data/ folder, no forecast run. Never write it: use ``shipped_db``."""
    path = tmp_path_factory.mktemp("shipped-template") / "crossover.duckdb"
    init_db(path, store.DATA_DIR)
    return path


@pytest.fixture(scope="session")
def shipped_published_template(shipped_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: the shipped data with one run published with ``SHIPPED_SETTINGS`` and ``SHIPPED_MODELS``."""
    path = copy_db(shipped_db_template, tmp_path_factory.mktemp("shipped-published") / "crossover.duckdb")
    summary = run_refresh(path, SHIPPED_SETTINGS, models=SHIPPED_MODELS)
    assert summary.published, summary.message
    return path


@pytest.fixture
def db(tmp_path: Path, tiny_db_template: Path) -> Path:
    """This test's own database file built from the tiny data folder (two sectors), no forecast run."""
    return copy_db(tiny_db_template, tmp_path / "crossover.duckdb")


@pytest.fixture
def shipped_db(tmp_path: Path, shipped_db_template: Path) -> Path:
    """This test's own database file built from the real shipped data/ folder, no forecast run."""
    return copy_db(shipped_db_template, tmp_path / "shipped" / "crossover.duckdb")


def checksums(db: Path) -> dict[str, str]:
    """Per-table content hashes of a database file."""
    with store.reader(db) as s:
        return s.checksums()


def failing_refresh(db: Path) -> int:
    """A stand-in for ``forecasting refresh`` that writes a reason to the refresh log and exits at once."""
    with open(db.with_name(db.name + ".refresh.log"), "ab") as log:  # ui.data.refresh_log_path
        code = "print('refused: the history of retail shrank'); raise SystemExit(65)"
        return subprocess.Popen([sys.executable, "-c", code], stdout=log).pid


def wait_for_exit(pid: int) -> None:
    """Wait (up to 10 s) until process ``pid`` has exited (a zombie not yet reaped counts as exited)."""
    for _ in range(200):
        if not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower():
            return
        time.sleep(0.05)
