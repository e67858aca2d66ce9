"""Scheduled refreshes in a dedicated process (APScheduler 3.x), for hosts without cron or systemd timers.

Never start this inside the dashboard: Streamlit reruns scripts and may run several replicas, each
of which would start its own scheduler.  The job calls :func:`forecasting.refresh.run_refresh`,
whose own lock makes overlapping runs (from here, cron or a person) harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from . import audit
from .config import Settings
from .errors import ForecastingError

log = logging.getLogger(__name__)

JOB_ID = "refresh"
#: A run missed by up to this many seconds (host asleep, scheduler busy) still runs, once.
MISFIRE_GRACE_SECONDS = 3600


#: Weekday names by cron number (0 = Sunday; 7 is Sunday too). APScheduler numbers days from Monday but
#: reads these names as cron does, so a field is handed over as names.
CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str, expression: str) -> int:
    """A cron weekday number 0-6 (Sunday = 0, and 7 = Sunday) from a number or a three-letter name."""
    word = token.strip().lower()
    if word in CRON_DAYS:
        return CRON_DAYS.index(word)
    if word.isdigit() and int(word) <= 7:
        return int(word) % 7
    raise ValueError(f"invalid cron expression '{expression}': weekday '{token}' is not 0-7 or sun..sat")


def cron_weekdays(field: str, expression: str = "") -> list[int]:
    """The cron weekdays (0 = Sunday) a day-of-week field selects: numbers 0-7, names, ranges, lists, steps."""
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) == 0):
            raise ValueError(f"invalid cron expression '{expression}': bad step in '{item}'")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            lo, hi = span.split("-", 1)
            first, last = _weekday(lo, expression), _weekday(hi, expression)
            last = 7 if last == 0 and hi.strip() == "7" else last  # 5-7: Friday to Sunday
            if last < first:
                raise ValueError(f"invalid cron expression '{expression}': range '{span}' runs backwards")
        else:
            first = _weekday(span, expression)
            last = 6 if step_text else first  # cron reads 1/2 as 1-6/2 (Vixie cron: to the field's end)
        days.update(d % 7 for d in range(first, last + 1, step))
    return sorted(days)


#: cron's nicknames for the usual schedules, as Vixie cron expands them.
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def parse_cron(expression: str, timezone: str = "UTC") -> BaseTrigger:
    """A trigger from a 5-field crontab expression (or one of cron's :data:`NICKNAMES`, ``@daily``), as cron
    reads it; ``ValueError`` says what is wrong.

    Weekdays mean what they mean to cron (0 and 7 = Sunday, 1 = Monday, ``mon-fri``); APScheduler
    numbers them from Monday, so the field is translated to names first.  When both the day of the
    month and the day of the week are restricted (neither starts with ``*``), cron fires on either
    (``0 6 1 * mon``: the 1st of each month and every Monday); so does this trigger.
    """
    nickname = expression.strip().lower()
    if nickname == "@reboot":
        raise ValueError("cron's @reboot names no time to schedule; run `forecasting refresh` at boot instead")
    fields = NICKNAMES.get(nickname, expression).split()
    if len(fields) != 5:
        raise ValueError(f"cron expression '{expression}' must have 5 fields: minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    days = ",".join(CRON_DAYS[d] for d in cron_weekdays(weekday, expression))
    try:
        if day.startswith("*") or weekday.startswith("*"):
            # One side unrestricted: cron ANDs the two, and "*" matches every day anyway.
            return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=timezone)
        by_date = CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone)
        by_weekday = CronTrigger(minute=minute, hour=hour, month=month, day_of_week=days, timezone=timezone)
        return OrTrigger([by_date, by_weekday])
    except ValueError as exc:
        raise ValueError(f"invalid cron expression '{expression}': {exc}") from exc


def next_fire_time(expression: str, timezone: str = "UTC") -> datetime:
    """When ``expression`` next fires; ``ValueError`` if it is malformed or names no date that exists.

    ``0 6 30 2 *`` (30 February) parses but never fires: a scheduler given it would wait forever, so
    it is refused like a malformed one. 29 February fires in the next leap year.
    """
    upcoming = parse_cron(expression, timezone).get_next_fire_time(None, datetime.now().astimezone())
    if upcoming is None:
        raise ValueError(f"cron expression '{expression}' never fires: no date matches its day and month")
    return upcoming


def refresh_job(db: Path, settings: Settings, models: Sequence[str] | None = None) -> str:
    """One scheduled refresh, logged as one start and one end line at INFO or above (the end names the run).

    Errors the package raises on purpose are logged, not fatal to the scheduler; so are unexpected
    ones (with their traceback), so that the next scheduled run still happens.
    """
    from .refresh import run_refresh

    started = time.monotonic()
    log.info("schedule event=run_start db=%s", db)
    try:
        summary = run_refresh(db, settings, models=models)
    except ForecastingError as exc:
        log.error(
            "schedule event=run_end outcome=failed exit_code=%d seconds=%.1f reason=%s",
            exc.exit_code,
            time.monotonic() - started,
            exc,
        )
        return f"failed ({exc.exit_code})"
    except Exception:  # the scheduler outlives any one run; the traceback goes to the log
        log.exception("schedule event=run_end outcome=error seconds=%.1f", time.monotonic() - started)
        return "error"
    outcome = "published" if summary.published else "up_to_date"
    log.info(
        "schedule event=run_end outcome=%s run=%s seconds=%.1f", outcome, summary.run_id, time.monotonic() - started
    )
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
            run_date=datetime.now().astimezone(),
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
    upcoming = next_fire_time(cron)  # refuses an expression that never fires before anything runs
    scheduler = build_scheduler(db, cron, settings, run_now=run_now, models=models)
    runs = 0

    def finished(event: JobExecutionEvent) -> None:
        nonlocal runs
        runs += 1
        if max_runs is not None and runs >= max_runs:
            scheduler.shutdown(wait=False)

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    log.info("schedule event=start cron=%r next=%s", cron, upcoming)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("schedule event=stop")
    return runs
