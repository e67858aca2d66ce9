"""The wheel carries the SQL files, the shipped data and the dashboard pages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from forecasting import store
from forecasting.config import REPO_ROOT


def test_a_built_wheel_contains_every_query_the_data_and_the_pages(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("crossover_forecasting-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"forecasting/sql/{q}.sql" for q in store.query_names()} <= names
    assert {f"forecasting/data/{p.name}" for p in store.DATA_DIR.glob("*.csv")} <= names
    assert "forecasting/data/raw/public_estimates.csv" in names
    assert {f"forecasting/ui/pages/{p.name}" for p in (REPO_ROOT / "forecasting/ui/pages").glob("*.py")} <= names
    packages = {p.parent.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "forecasting").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names  # every subpackage is listed in pyproject.toml
