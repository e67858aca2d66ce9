"""Scheduling: cron parsing, job options, a real scheduled refresh, and the documented unit files."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from forecasting import store, vintages
from forecasting.config import REPO_ROOT, Settings
from forecasting.refresh import refresh_lock_path
from forecasting.schedule import JOB_ID, MISFIRE_GRACE_SECONDS, build_scheduler, parse_cron, refresh_job, run_schedule

SETTINGS = Settings(n_paths=50, horizon=8, backtest_origins=2, backtest_horizon=2)
OPERATIONS = (REPO_ROOT / "docs" / "operations.md").read_text()


@pytest.fixture
def rdb(db: Path) -> Path:
    """The tiny data (healthcare, retail), no forecast run yet."""
    return db


def test_a_weekly_cron_expression_fires_on_mondays_at_six_utc() -> None:
    trigger = parse_cron("0 6 * * MON")
    after = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)  # a Saturday
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 6 * *", "must have 5 fields"),
        ("0 6 * * MON 2026", "must have 5 fields"),
        ("61 6 * * MON", "invalid cron expression"),
        ("0 6 * * FUNDAY", "invalid cron expression"),
    ],
)
def test_a_bad_cron_expression_is_a_value_error(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(expression)


def test_the_job_runs_one_instance_at_a_time_and_coalesces_misfires(rdb: Path) -> None:
    scheduler = build_scheduler(rdb, "0 6 * * MON", SETTINGS)
    job = scheduler.get_job(JOB_ID)
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, MISFIRE_GRACE_SECONDS)
    assert job.args == (rdb, SETTINGS, None)
    assert [j.id for j in scheduler.get_jobs()] == [JOB_ID]
    assert [j.id for j in build_scheduler(rdb, "0 6 * * MON", SETTINGS, run_now=True).get_jobs()] == [
        JOB_ID,
        f"{JOB_ID}-now",
    ]


def test_a_scheduled_run_now_publishes_a_vintage(rdb: Path) -> None:
    assert run_schedule(rdb, "0 6 * * MON", SETTINGS, run_now=True, models=["naive", "drift"], max_runs=1) == 1
    runs = vintages.list_runs(rdb)
    assert runs["status"].tolist() == ["published"] and runs["n_series"].tolist() == [4]


def test_a_scheduled_run_that_finds_a_refresh_running_logs_and_carries_on(rdb: Path) -> None:
    with store.file_lock(refresh_lock_path(rdb), 0, "test holder"):
        assert refresh_job(rdb, SETTINGS, ["naive"]) == "failed (75)"
    assert vintages.latest_run_id(rdb) is None


def test_the_operations_guide_ships_the_cron_line_and_systemd_units() -> None:
    assert "flock -n -E 75" in OPERATIONS
    for setting in ("Type=oneshot", "Persistent=true", "OnCalendar=", "SuccessExitStatus=75", "WantedBy=timers.target"):
        assert setting in OPERATIONS, setting


def test_the_schedule_command_rejects_a_bad_cron_expression_with_exit_2(rdb: Path) -> None:
    from typer.testing import CliRunner

    from forecasting.cli import app

    result = CliRunner().invoke(app, ["schedule", "--cron", "0 6 * *", "--db", str(rdb)])
    assert result.exit_code == 2 and "must have 5 fields" in result.output
