"""The wheel: it carries the SQL, the data, the pages and the config, and installed on its own it serves the dashboard.

``test_the_installed_wheel_serves_the_dashboard_from_another_directory`` installs the wheel *with its
dependencies* into a fresh virtual environment (no system site-packages), so it proves the wheel's declared
dependencies are enough; it takes a minute or two (pip's cache makes repeats quicker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from forecasting import store
from forecasting.config import REPO_ROOT
from forecasting.errors import MissingExtraError
from tests.servers import streamlit_server
from tests.test_e2e import CHROMIUM, CHROMIUM_ARGS, free_port


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("crossover_forecasting-*.whl")
    return built


def test_a_built_wheel_contains_every_query_the_data_the_pages_the_config_and_the_license(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"forecasting/sql/{q}.sql" for q in store.query_names()} <= names
    assert {f"forecasting/data/{p.name}" for p in store.DATA_DIR.glob("*.csv")} <= names
    assert "forecasting/data/raw/public_estimates.csv" in names
    assert {f"forecasting/ui/pages/{p.name}" for p in (REPO_ROOT / "forecasting/ui/pages").glob("*.py")} <= names
    packages = {p.parent.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "forecasting").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names  # every subpackage is listed in pyproject.toml
    assert {"forecasting/dashboard_app.py", "forecasting/streamlit_config/config.toml", "forecasting/LICENSE"} <= names


def test_the_wheel_declares_the_heavy_packages_only_as_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert not [r for r in core if r.startswith(("prophet", "dask", "authlib"))], core
    assert "Name: crossover-forecasting" in meta and "License-Expression: Apache-2.0" in meta
    for extra in ("prophet", "dask", "oidc", "dev"):
        assert f"Provides-Extra: {extra}" in meta


def test_a_missing_extra_is_one_line_naming_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from forecasting.dask_executor import DaskExecutor
    from forecasting.models.prophet import _import_prophet

    monkeypatch.setitem(sys.modules, "prophet", None)  # import prophet now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'crossover-forecasting\[prophet\]'"):
        _import_prophet()
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'crossover-forecasting\[dask\]'"):
        DaskExecutor(None).connect()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and the dependencies it declares (no extras)."""
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    result = subprocess.run(
        [str(env_dir / "bin" / "pip"), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        env=outside_env(),  # with the checkout on PYTHONPATH, pip would take its egg-info for an installed copy
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return env_dir / "bin"


def outside_env() -> dict[str, str]:
    """This process's environment without what points at the checkout or configures the dashboard."""
    drop = ("PYTHONPATH", "CROSSOVER_DB", "CROSSOVER_AUTH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k not in drop}


def run_installed(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "forecasting"), *args], cwd=cwd, env=outside_env(), capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


@pytest.mark.slow
def test_the_installed_package_checks_its_shipped_data_and_refreshes(installed: Path, elsewhere: Path) -> None:
    check = run_installed(installed, "build-data", "--check", cwd=elsewhere)
    assert check.returncode == 0, check.stderr
    where = subprocess.run(
        [str(installed / "python"), "-c", "import forecasting; print(forecasting.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=outside_env(),
    )
    assert where.stdout.startswith(str(installed.parent)), where.stdout  # not the source checkout
    refresh = run_installed(installed, "-q", "refresh", "--db", "team.duckdb", cwd=elsewhere)
    assert refresh.returncode == 0, refresh.stderr[-3000:]


@pytest.fixture(scope="module")
def served(installed: Path, elsewhere: Path) -> Iterator[str]:
    """``forecasting dashboard --port P`` of the installed package, started from a directory outside the repo."""
    port = free_port()
    command = [str(installed / "forecasting"), "dashboard", "--port", str(port), "--db", "team.duckdb"]
    with streamlit_server(command, elsewhere, outside_env(), port) as url:
        yield url


@pytest.mark.e2e
def test_the_installed_wheel_serves_the_dashboard_from_another_directory(
    installed: Path, elsewhere: Path, served: str
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(served)
            # The vintage line names the shipped history's last quarter and the run just published.
            page.get_by_text("Data through 2026 Q3").first.wait_for(timeout=90_000)
            body = page.inner_text("body")
        finally:
            browser.close()
    assert "Crossover" in body or "crossover" in body
    assert "Traceback" not in body and "error" not in body.lower().split("data through")[0]
    assert (elsewhere / "team.duckdb").exists() and not (elsewhere / ".streamlit").exists()
