"""Scale-out: the Dask executor gives exactly the local executor's results, and never needs the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from forecasting import vintages
from forecasting.cli import app
from forecasting.dask_executor import DaskExecutor
from forecasting.engine import ForecastOptions, ForecastResult, forecast
from forecasting.executors import Executor, LocalExecutor

from .conftest import copy_db, make_series


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    parts = [
        make_series(16, seed=i, level=100.0 * (i + 1), growth=0.03 * (i + 1), noise=0.05, unique_id=f"{s}/{w}")
        for i, (s, w) in enumerate(
            [("healthcare", "training"), ("healthcare", "inference"), ("retail", "training"), ("retail", "inference")]
        )
    ]
    return pd.concat(parts, ignore_index=True)


def _run(history: pd.DataFrame, executor: Executor) -> ForecastResult:
    groups = {u: u.split("/")[0] for u in history["unique_id"].unique()}
    options = ForecastOptions(freq="Q", models=["naive", "drift", "ets"], n_paths=40, seed=3, backtest_origins=2)
    return forecast(history, 6, options, groups=groups, executor=executor)


def test_a_local_dask_cluster_gives_exactly_the_local_executors_results(history: pd.DataFrame) -> None:
    local = _run(history, LocalExecutor(workers=2))
    with DaskExecutor(workers=2) as dask:
        distributed = _run(history, dask)
        assert dask._cluster is not None and len(dask._client.scheduler_info()["workers"]) == 2
    assert_frame_equal(distributed.forecasts, local.forecasts)
    assert_frame_equal(distributed.backtests, local.backtests)
    assert_frame_equal(distributed.status, local.status)
    assert sorted(distributed.paths) == sorted(local.paths)
    assert all(np.array_equal(distributed.paths[u], local.paths[u]) for u in local.paths)


def test_the_code_a_worker_runs_never_imports_the_database_driver() -> None:
    # Workers get plain arrays and run engine code only; importing it must not pull in duckdb.
    # (A probe inside live workers is not used: how a worker process starts, and so which modules
    # it inherits from the test process, depends on the platform's multiprocessing method.)
    code = "import sys, forecasting.engine, forecasting.dask_executor; print('duckdb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_results_come_back_in_input_order() -> None:
    with DaskExecutor(workers=2) as dask:
        assert list(dask.map(abs, [-3, 2, -1, 0])) == [3, 2, 1, 0]
        assert list(dask.map(abs, [])) == []


def test_bad_worker_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="workers"):
        DaskExecutor(workers=0)


def test_refresh_with_the_dask_executor_publishes_the_same_forecasts_as_a_local_refresh(
    tmp_path: Path, tiny_db_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {"CROSSOVER_N_PATHS": "50", "CROSSOVER_HORIZON": "8", "CROSSOVER_BACKTEST_ORIGINS": "2"}.items():
        monkeypatch.setenv(key, value)
    outputs = {}
    for executor in ("local", "dask"):
        db = copy_db(tiny_db_template, tmp_path / f"{executor}.duckdb")  # the tiny data: healthcare, retail
        args = ["refresh", "--db", str(db), "--executor", executor, "--models", "naive,drift,ets"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs[executor] = vintages.load_run(db, "latest")
    assert_frame_equal(outputs["dask"].forecasts, outputs["local"].forecasts)
    assert_frame_equal(outputs["dask"].crossover, outputs["local"].crossover)


# --------------------------------------------------------------------------- cluster problems

BLOCK_PACKAGE = '''
"""Dask worker preload: the worker behaves as one without the forecasting package installed."""
import sys


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "forecasting":
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


sys.meta_path.insert(0, _Block())
for _name in [m for m in sys.modules if m.split(".")[0] == "forecasting"]:
    del sys.modules[_name]
'''


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_is_a_one_line_error_naming_it(
    history: pd.DataFrame, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from forecasting import dask_executor
    from forecasting.errors import ClusterError

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address} within 2 s"):
        _run(history, DaskExecutor(address))
    assert time.monotonic() - started < 15
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--executor", "dask", "--scheduler", address])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 69 and len(errors) == 1 and address in errors[0], result.output
    assert "Traceback" not in result.output


def test_a_worker_without_the_package_is_named_in_one_line(history: pd.DataFrame, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    from forecasting.errors import ClusterError

    preload = tmp_path / "block_forecasting.py"
    preload.write_text(BLOCK_PACKAGE)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, preload=[str(preload)]
    ) as cluster:
        with DaskExecutor(cluster.scheduler_address) as executor:
            with pytest.raises(ClusterError, match="workers need the forecasting package installed"):
                _run(history, executor)
