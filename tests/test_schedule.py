"""Scheduling: cron parsing, job options, a real scheduled refresh, and the documented unit files."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from forecasting import store, vintages
from forecasting.config import REPO_ROOT, Settings
from forecasting.refresh import refresh_lock_path
from forecasting.schedule import (
    JOB_ID,
    MISFIRE_GRACE_SECONDS,
    build_scheduler,
    next_fire_time,
    parse_cron,
    refresh_job,
    run_schedule,
)

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


SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def fire_days(expression: str, n: int) -> list[str]:
    """The next ``n`` fire times after a Saturday noon, as ``Mon 30`` (weekday, day of month)."""
    trigger, after, days = parse_cron(expression), SATURDAY_NOON, []
    for _ in range(n):
        after = trigger.get_next_fire_time(None, after)
        days.append(f"{after:%a %d %H:%M}")
        after += timedelta(minutes=1)
    return days


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 6 * * 1", ["Mon 30 06:00", "Mon 07 06:00"]),
        ("0 6 * * mon", ["Mon 30 06:00", "Mon 07 06:00"]),
        ("0 6 * * 0", ["Sun 29 06:00", "Sun 06 06:00"]),
        ("0 6 * * 7", ["Sun 29 06:00", "Sun 06 06:00"]),
        ("0 6 * * SUN", ["Sun 29 06:00", "Sun 06 06:00"]),
        ("0 6 * * 6", ["Sat 05 06:00", "Sat 12 06:00"]),
        (
            "0 6 * * 1-5",
            ["Mon 30 06:00", "Tue 01 06:00", "Wed 02 06:00", "Thu 03 06:00", "Fri 04 06:00", "Mon 07 06:00"],
        ),
        (
            "0 6 * * mon-fri",
            ["Mon 30 06:00", "Tue 01 06:00", "Wed 02 06:00", "Thu 03 06:00", "Fri 04 06:00", "Mon 07 06:00"],
        ),
        ("0 6 * * 5-7", ["Sun 29 06:00", "Fri 04 06:00", "Sat 05 06:00", "Sun 06 06:00"]),
        ("0 6 * * 0,3", ["Sun 29 06:00", "Wed 02 06:00", "Sun 06 06:00"]),
        ("0 6 * * sun,wed", ["Sun 29 06:00", "Wed 02 06:00", "Sun 06 06:00"]),
        ("0 6 * * */2", ["Sun 29 06:00", "Tue 01 06:00", "Thu 03 06:00", "Sat 05 06:00", "Sun 06 06:00"]),
        ("0 6 * * 1-5/2", ["Mon 30 06:00", "Wed 02 06:00", "Fri 04 06:00", "Mon 07 06:00"]),
        ("30 7 * 12 1", ["Mon 07 07:30", "Mon 14 07:30"]),
    ],
)
def test_weekdays_mean_what_cron_means(expression: str, expected: list[str]) -> None:
    assert fire_days(expression, len(expected)) == expected


def test_a_restricted_day_of_month_and_weekday_fire_on_either_as_cron_does() -> None:
    # The 1st of the month (a Tuesday here) or any Monday.
    assert fire_days("0 6 1 * 1", 3) == ["Mon 30 06:00", "Tue 01 06:00", "Mon 07 06:00"]
    # A day of month with an unrestricted weekday keeps cron's plain meaning.
    assert fire_days("0 6 1 * *", 2) == ["Tue 01 06:00", "Fri 01 06:00"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 6 * *", "must have 5 fields"),
        ("0 6 * * MON 2026", "must have 5 fields"),
        ("61 6 * * MON", "invalid cron expression"),
        ("0 6 * * FUNDAY", "invalid cron expression"),
        ("0 6 * * 8", "weekday '8' is not 0-7"),
        ("0 6 * * 5-1", "runs backwards"),
        ("0 6 * * */0", "bad step"),
        ("0 25 * * 1", "invalid cron expression"),
    ],
)
def test_a_bad_cron_expression_is_a_value_error(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(expression)


@pytest.mark.parametrize(
    ("nickname", "expansion"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@WEEKLY", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ],
)
def test_crons_nicknames_fire_as_their_expansions(nickname: str, expansion: str) -> None:
    """A crontab line may say @daily; it used to be refused as 'must have 5 fields'."""
    assert fire_days(nickname, 4) == fire_days(expansion, 4)


def test_reboot_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(ValueError, match="@reboot names no time"):
        parse_cron("@reboot")


@pytest.mark.parametrize("expression", ["0 6 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 *"])
def test_a_cron_expression_that_never_fires_is_refused(expression: str) -> None:
    parse_cron(expression)  # well formed: only its dates do not exist
    with pytest.raises(ValueError, match="never fires"):
        next_fire_time(expression)


def test_february_29th_and_30th_february_on_mondays_fire() -> None:
    assert next_fire_time("0 0 29 2 *").day == 29
    assert next_fire_time("0 6 30 2 mon").weekday() == 0  # cron fires on either the date or the weekday


@pytest.mark.parametrize("expression", ["0 6 * *", "0 6 30 2 *"])
def test_a_refused_cron_expression_builds_no_database_and_prints_no_start_line(tmp_path: Path, expression: str) -> None:
    from typer.testing import CliRunner

    from forecasting.cli import app

    db = tmp_path / "new.duckdb"
    result = CliRunner().invoke(app, ["schedule", "--cron", expression, "--db", str(db)])
    assert result.exit_code == 2 and "scheduling refreshes" not in result.output
    assert not db.exists()


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


def test_every_scheduled_run_logs_a_start_and_an_end_line_naming_the_run(
    rdb: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="forecasting.schedule"):
        refresh_job(rdb, SETTINGS, ["naive"])
    lines = [r for r in caplog.records if r.name == "forecasting.schedule"]
    run_id = vintages.latest_run_id(rdb)
    assert [r.getMessage().split()[1] for r in lines] == ["event=run_start", "event=run_end"]
    assert f"outcome=published run={run_id}" in lines[1].getMessage()


def test_the_schedule_command_logs_each_run_without_verbose(rdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from forecasting import schedule
    from forecasting.cli import app

    real = schedule.run_schedule
    monkeypatch.setattr(schedule, "run_schedule", lambda *a, **k: real(*a, **k, max_runs=1))
    result = CliRunner().invoke(
        app, ["schedule", "--cron", "0 6 * * 1", "--run-now", "--models", "naive", "--db", str(rdb)]
    )
    assert result.exit_code == 0, result.output
    ends = [line for line in result.stderr.splitlines() if "event=run_end" in line]
    assert len(ends) == 1 and "outcome=published" in ends[0] and re.match(r"\d{4}-\d\d-\d\dT", ends[0])
