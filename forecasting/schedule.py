"""Scheduled refreshes in a dedicated process (APScheduler 3.x), for hosts without cron or systemd timers.

Never start this inside the dashboard: Streamlit reruns scripts and may run several replicas, each
of which would start its own scheduler.  The job calls :func:`forecasting.refresh.run_refresh`,
whose own lock makes overlapping runs (from here, cron or a person) harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from . import audit
from .config import Settings
from .errors import ForecastingError

log = logging.getLogger(__name__)

JOB_ID = "refresh"
#: A run missed by up to this many seconds (host asleep, scheduler busy) still runs, once.
MISFIRE_GRACE_SECONDS = 3600


def parse_cron(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger from a 5-field crontab expression; ``ValueError`` says what is wrong with it."""
    if len(expression.split()) != 5:
        raise ValueError(f"cron expression '{expression}' must have 5 fields: minute hour day month weekday")
    try:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression '{expression}': {exc}") from exc


def refresh_job(db: Path, settings: Settings, models: Sequence[str] | None = None) -> str:
    """One scheduled refresh; errors the package raises on purpose are logged, not fatal to the scheduler."""
    from .refresh import run_refresh

    try:
        summary = run_refresh(db, settings, models=models)
    except ForecastingError as exc:
        log.error("schedule event=refresh_failed exit_code=%d reason=%s", exc.exit_code, exc)
        return f"failed ({exc.exit_code})"
    log.info("schedule event=refresh_done published=%s run=%s", summary.published, summary.run_id)
    if summary.published:
        audit.record(db, "refresh", f"published {summary.run_id} (scheduled)")
    return summary.message


def build_scheduler(
    db: Path,
    cron: str,
    settings: Settings,
    *,
    run_now: bool = False,
    models: Sequence[str] | None = None,
    timezone: str = "UTC",
) -> BlockingScheduler:
    """A blocking scheduler with one refresh job: memory job store, one instance at a time, coalesced misfires."""
    trigger = parse_cron(cron, timezone)
    options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}
    scheduler = BlockingScheduler(timezone=timezone, job_defaults=options)
    scheduler.add_job(
        refresh_job,
        trigger,
        args=(Path(db), settings, models),
        id=JOB_ID,
        name="forecasting refresh",
        replace_existing=True,
        **options,
    )
    if run_now:
        scheduler.add_job(
            refresh_job,
            "date",
            run_date=datetime.now(trigger.timezone),
            args=(Path(db), settings, models),
            id=f"{JOB_ID}-now",
            name="forecasting refresh (now)",
        )
    return scheduler


def run_schedule(
    db: Path,
    cron: str,
    settings: Settings,
    *,
    run_now: bool = False,
    models: Sequence[str] | None = None,
    max_runs: int | None = None,
) -> int:
    """Run refreshes on ``cron`` until interrupted (or after ``max_runs`` runs); returns the runs done."""
    scheduler = build_scheduler(db, cron, settings, run_now=run_now, models=models)
    runs = 0

    def finished(event: JobExecutionEvent) -> None:
        nonlocal runs
        runs += 1
        if max_runs is not None and runs >= max_runs:
            scheduler.shutdown(wait=False)

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    job = scheduler.get_job(JOB_ID)
    upcoming = job.trigger.get_next_fire_time(None, datetime.now(job.trigger.timezone))
    log.info("schedule event=start cron=%r next=%s", cron, upcoming)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("schedule event=stop")
    return runs
