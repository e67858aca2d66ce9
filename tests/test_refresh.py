"""The refresh job: publication, idempotence, gates, fallbacks, retention, and (with real processes)
exclusivity, crash safety at every stage and atomic visibility to readers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting import paths as sample_paths
from forecasting import publish, store, vintages
from forecasting.bootstrap import init_db
from forecasting.cli import app
from forecasting.config import REPO_ROOT, Settings
from forecasting.errors import PublishRefusedError
from forecasting.executors import SerialExecutor
from forecasting.gates import restatements, validate_input
from forecasting.refresh import RefreshSummary, refresh_lock_path, run_refresh

from .conftest import checksums, copy_db, write_tiny_data

MODELS = ["naive", "drift", "ets"]
SETTINGS = Settings(n_paths=50, horizon=8, backtest_origins=2, backtest_horizon=2)
ENV = {
    "CROSSOVER_N_PATHS": "50",
    "CROSSOVER_HORIZON": "8",
    "CROSSOVER_BACKTEST_ORIGINS": "2",
    "CROSSOVER_BACKTEST_HORIZON": "2",
}


def refresh(db: Path, settings: Settings = SETTINGS, **kwargs: Any) -> RefreshSummary:
    return run_refresh(db, settings, models=MODELS, executor=SerialExecutor(), **kwargs)


@pytest.fixture(scope="module")
def three_sectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: three sectors (both workloads each), 2022Q1-2024Q4, no forecast run. Tests get copies."""
    tmp = tmp_path_factory.mktemp("three-sectors")
    path = tmp / "crossover.duckdb"
    init_db(path, write_tiny_data(tmp / "data", ("healthcare", "retail", "manufacturing")))
    return path


@pytest.fixture(scope="module")
def three_sectors_published(three_sectors: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: the three sectors with one vintage published by ``refresh``. Tests get copies."""
    path = copy_db(three_sectors, tmp_path_factory.mktemp("three-published") / "crossover.duckdb")
    assert refresh(path).published
    return path


@pytest.fixture
def rdb(tmp_path: Path, three_sectors: Path) -> Path:
    """A database with three sectors (both workloads each), 2022Q1-2024Q4: this test's own file."""
    return copy_db(three_sectors, tmp_path / "crossover.duckdb")


@pytest.fixture
def published(tmp_path: Path, three_sectors_published: Path) -> Path:
    """``rdb`` after one ``refresh``: one published vintage (this test's own file)."""
    return copy_db(three_sectors_published, tmp_path / "crossover.duckdb")


def _set_spend(db: Path, period: str, sector: str, workload: str, value: float) -> None:
    row = pd.DataFrame(
        [
            {
                "period": pd.Timestamp(period).date(),
                "sector": sector,
                "region": "worldwide",
                "workload": workload,
                "spend_usd": value,
                "provenance": "user",
            }
        ]
    )
    with store.writer(db) as s:
        s.insert("spend_history", row, replace=True)


def _child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **ENV, "PYTHONPATH": str(REPO_ROOT), **extra}


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, f"refresh exited early: {proc.communicate()}"
        assert time.monotonic() < deadline, "refresh never reached the stage"
        time.sleep(0.05)


def test_a_refresh_publishes_one_complete_vintage(rdb: Path) -> None:
    summary = refresh(rdb)
    assert summary.published and summary.previous_run_id is None
    assert (summary.n_series, summary.n_ok, summary.n_fallback, summary.n_failed) == (6, 6, 0, 0)
    run = vintages.load_run(rdb, "latest")
    assert run.run_id == summary.run_id and run.info.status == "published"
    assert len(run.forecasts) == 6 * 8 and len(run.history) == 6 * 12
    with store.reader(rdb) as st:
        blobs = st.frame("paths_run", run_id=run.run_id)
    shapes = {u: sample_paths.from_bytes(b).shape for u, b in zip(blobs["unique_id"], blobs["paths"], strict=True)}
    assert shapes == {u: (50, 8) for u in run.status["unique_id"]}
    assert run.crossover["sector"].tolist() == ["healthcare", "manufacturing", "retail", "total"]
    assert run.paths is not None and run.paths.paths.shape == (50, 3, 2, 8)
    assert run.info.config["models"] == MODELS and run.info.config["n_paths"] == 50
    assert set(run.info.timings) >= {"snapshot", "fit", "crossover"}
    assert run.info.change_report.startswith("first vintage: healthcare: P50 none -> ")


def test_unchanged_data_and_settings_publish_nothing_unless_forced(published: Path) -> None:
    first = vintages.latest_run_id(published)
    before = checksums(published)
    again = refresh(published)
    assert not again.published and again.message.startswith("up to date") and again.run_id == first
    assert checksums(published) == before
    forced = refresh(published, force=True)
    assert forced.published and forced.previous_run_id == first
    runs = vintages.list_runs(published)
    assert runs["status"].tolist() == ["published", "superseded"]


def test_a_changed_setting_is_not_up_to_date(published: Path) -> None:
    assert refresh(published, Settings(n_paths=60, horizon=8, backtest_origins=2, backtest_horizon=2)).published


def test_retention_prunes_old_runs_and_all_their_rows_in_the_same_transaction(rdb: Path) -> None:
    keep2 = Settings(n_paths=50, horizon=8, backtest_origins=2, backtest_horizon=2, retention=2)
    ids = [refresh(rdb, keep2, force=True).run_id for _ in range(3)]
    assert vintages.list_runs(rdb)["run_id"].tolist() == [ids[2], ids[1]]
    with store.reader(rdb) as s:
        for table in publish.RUN_TABLES:
            assert s.frame("run_history", run_id=ids[0]).empty
            assert len(s._con.execute(f"select * from {table} where run_id = $r", {"r": ids[0]}).fetchall()) == 0


def test_history_that_restates_the_previous_vintage_is_refused_with_a_reason(published: Path) -> None:
    _set_spend(published, "2023-01-01", "retail", "training", 9e9)
    before = checksums(published)
    with pytest.raises(PublishRefusedError, match=r"1 past value\(s\) of vintage .* changed by more than 25%") as exc:
        refresh(published)
    assert "retail/training 2023-01-01: 2,431,012,500 -> 9,000,000,000 (+270%)" in str(exc.value)
    assert exc.value.exit_code == 65
    assert checksums(published) == before
    assert refresh(published, accept_restatement=True).published


def test_restatements_lists_changed_and_removed_values_only() -> None:
    ds = pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"])
    before = pd.DataFrame({"unique_id": "a/training", "ds": ds, "y": [100.0, 100.0, 100.0]})
    after = pd.DataFrame({"unique_id": "a/training", "ds": ds[:2], "y": [120.0, 130.0]})
    found = restatements(before, after, 0.25)
    assert found["ds"].tolist() == list(ds[1:])
    assert found["change"].round(6).tolist() == [0.3, np.inf]


def test_input_without_a_sectors_inference_series_fails_validation(rdb: Path) -> None:
    history = pd.DataFrame(
        {
            "unique_id": ["a/training", "b/training", "b/inference", "nonsense"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-01"]),
            "y": [1.0, -2.0, 3.0, 4.0],
        }
    )
    assert [str(p) for p in validate_input(history)] == [
        "file, column 'unique_id': 'nonsense' is not a sector/workload series id",
        "file, column 'unique_id': sector 'a' has no ['inference'] series",
        "file, column 'y': b/training at 2024-01-01: value -2.0 is not a finite non-negative amount",
        "file, column 'ds': periods must be quarter starts",
    ]


def test_a_series_that_cannot_be_fitted_gets_a_fallback_and_the_run_still_publishes(rdb: Path) -> None:
    with store.writer(rdb) as s:
        s._con.execute(
            "delete from spend_history where sector = 'retail' and workload = 'inference' "
            "and period < date '2024-04-01'"
        )
    summary = refresh(rdb)
    assert summary.published and (summary.n_ok, summary.n_fallback) == (5, 1)
    status = vintages.load_run(rdb, "latest").status.set_index("unique_id")
    assert status.loc["retail/inference", "status"] == "fallback"
    assert status.loc["retail/inference", "message"] == (
        "too short: only 3 observation(s) (< 6): naive forecast with Gaussian intervals"
    )


def test_a_run_in_which_every_model_fails_on_every_series_is_refused(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.models import MODELS as REGISTRY

    first = vintages.latest_run_id(published)
    before = checksums(published)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("solver library missing")

    for name in MODELS:
        monkeypatch.setattr(REGISTRY[name], "fit_predict", broken)
    with pytest.raises(PublishRefusedError, match="every model failed on all 6 series.*solver library missing"):
        refresh(published, force=True)
    assert checksums(published) == before
    assert vintages.latest_run_id(published) == first


def test_the_cli_says_up_to_date_and_exits_65_on_a_refused_publication(
    rdb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    args = ["refresh", "--db", str(rdb), "--models", ",".join(MODELS)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "published run" in first.output and "healthcare: P50 none -> " in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "up to date" in second.output
    _set_spend(rdb, "2022-01-01", "healthcare", "inference", 1.0)
    refused = runner.invoke(app, args)
    assert refused.exit_code == 65, refused.output
    assert "refusing to publish" in refused.output


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("horizon", 2.5, "must be an integer, got 2.5"),
        ("backtest_origins", True, "must be an integer, got True"),
        ("restatement_threshold", "0.3", "must be a number, got '0.3'"),
        ("n_paths", 10**12, "must be 10 to 100,000, got 1,000,000,000,000"),
        ("seed", 2**63, "must be 0 to 9,223,372,036,854,775,807"),
    ],
)
def test_a_setting_is_checked_by_one_rule_in_code_and_in_a_manifest(name: str, value: object, message: str) -> None:
    """Settings built in code (a half quarter of horizon used to be accepted) and a bundle's manifest
    are refused by the same rule, with the same words."""
    from forecasting.gates import _setting_problems

    with pytest.raises(ValueError, match=re.escape(f"setting {name} (CROSSOVER_{name.upper()}) {message}")):
        Settings(**{name: value})  # type: ignore[arg-type]
    valid_neighbour = {"seed": 8} if name != "seed" else {"horizon": 8}
    (problem,) = _setting_problems({name: value, **valid_neighbour})
    assert problem.column == f"settings.{name}" and problem.message.startswith(message)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CROSSOVER_N_PATHS", "1e9", "CROSSOVER_N_PATHS must be an integer, got '1e9'"),
        ("CROSSOVER_HORIZON", "100000", "setting horizon (CROSSOVER_HORIZON) must be 1 to 400"),
        ("CROSSOVER_SEED", "-1", "setting seed (CROSSOVER_SEED) must be 0 to"),
        ("CROSSOVER_RESTATEMENT_THRESHOLD", "nan", "got nan"),
    ],
)
def test_a_setting_out_of_range_in_the_environment_is_refused_before_any_work(
    rdb: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    before = checksums(rdb)
    result = CliRunner().invoke(app, ["refresh", "--db", str(rdb), "--models", ",".join(MODELS)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "snapshot" not in result.output and "Traceback" not in result.output
    assert checksums(rdb) == before


def test_every_setting_s_limits_hold_however_the_settings_are_made() -> None:
    with pytest.raises(ValueError, match="n_paths"):
        Settings(n_paths=10**12)
    with pytest.raises(ValueError, match="backtest_origins"):
        Settings(backtest_origins=0)


# --------------------------------------------------------------------------- real processes

_DRIVER = """
import os, sys, time
from pathlib import Path
from forecasting.config import Settings
from forecasting.executors import SerialExecutor
from forecasting.refresh import run_refresh
if os.environ.get("HOLD_RENAME"):
    real = os.replace
    def held(a, b):
        Path(os.environ["HOLD_RENAME"]).write_text("held")
        time.sleep(60)
        real(a, b)
    os.replace = held
run_refresh(Path(sys.argv[1]), Settings(n_paths=50, horizon=8, backtest_origins=2, backtest_horizon=2),
            models=["naive", "drift", "ets"], executor=SerialExecutor(), force=True)
"""


@pytest.mark.parametrize("stage", ["fit", "publish", "rename"])
def test_killing_a_refresh_at_any_stage_leaves_the_previous_vintage_intact(published: Path, stage: str) -> None:
    rdb = published
    first = vintages.latest_run_id(rdb)
    before, digest = checksums(rdb), store.file_digest(rdb)
    marker = rdb.with_name(f"at-{stage}")
    extra = (
        {"HOLD_RENAME": str(marker)}
        if stage == "rename"
        else {"CROSSOVER_REFRESH_PAUSE": stage, "CROSSOVER_REFRESH_PAUSE_MARKER": str(marker)}
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(rdb)],
        env=_child_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for(marker, proc)
        if stage != "fit":
            assert list(rdb.parent.glob(f".{rdb.name}.*.tmp")), "the writer's copy should exist while held"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the job and its fitting workers, as systemd would
        proc.wait()
    assert checksums(rdb) == before and store.file_digest(rdb) == digest
    assert vintages.latest_run_id(rdb) == first
    following = refresh(rdb, force=True)
    assert following.published and following.previous_run_id == first
    assert list(rdb.parent.glob(f".{rdb.name}.*.tmp*")) == []


def test_a_second_refresh_exits_75_at_once_while_one_is_running(rdb: Path) -> None:
    marker = rdb.with_name("at-fit")
    cmd = [sys.executable, "-m", "forecasting", "refresh", "--db", str(rdb), "--models", ",".join(MODELS)]
    env = _child_env(CROSSOVER_REFRESH_PAUSE="fit", CROSSOVER_REFRESH_PAUSE_MARKER=str(marker))
    first = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _wait_for(marker, first)
        before = checksums(rdb)
        started = time.monotonic()
        second = subprocess.run(cmd, env=_child_env(), capture_output=True, text=True, timeout=60)
        assert second.returncode == 75, second.stderr
        assert f"another refresh of {rdb} is running (process {first.pid})" in " ".join(second.stderr.split())
        assert time.monotonic() - started < 15  # interpreter start-up; the lock check itself does not wait
        assert checksums(rdb) == before
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert refresh_lock_path(rdb).exists()


_READER = """
import json, sys, time
from pathlib import Path
from forecasting import store
db, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
seen = []
while not stop.exists():
    with store.reader(db) as s:
        run = s.scalar("run_latest")
        published = int(s._con.execute("select count(*) from forecast_runs where status = 'published'").fetchone()[0])
        seen.append([run, published, len(s.frame("forecast_run", run_id=run)), len(s.frame("paths_run", run_id=run)),
                     len(s.frame("crossover_run", run_id=run, scenario="baseline")),
                     len(s.frame("run_history", run_id=run))])
    time.sleep(0.005)
out.write_text(json.dumps(seen))
"""


def test_a_reader_polling_during_refreshes_always_sees_one_complete_vintage(published: Path) -> None:
    rdb = published
    first = vintages.latest_run_id(rdb)
    stop, out = rdb.with_name("stop"), rdb.with_name("seen.json")
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(rdb), str(stop), str(out)], env=_child_env())
    try:
        time.sleep(1.5)
        later = [refresh(rdb, force=True).run_id for _ in range(2)]
        time.sleep(0.5)
    finally:
        stop.write_text("")
        reader.wait(timeout=60)
    seen = json.loads(out.read_text())
    assert len(seen) > 20
    assert {tuple(row[1:]) for row in seen} == {(1, 48, 6, 4, 72)}
    assert {row[0] for row in seen} <= {first, *later}
    assert seen[0][0] == first and seen[-1][0] == later[-1]
