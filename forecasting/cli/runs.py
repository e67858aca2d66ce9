"""Commands on the database and its forecast runs: init, check, refresh, export, schedule, ``vintage ...``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .. import audit

if TYPE_CHECKING:
    from ..dask_executor import DaskExecutor

from .app import (
    DbOption,
    DefinitionOption,
    FormatOption,
    ModelsOption,
    app,
    console,
    model_list,
    out,
    print_table,
    progress_bar,
    resolve_db,
    vintage_app,
)
from .output import FileFormatOption, check_folder, is_stdio, refuse_overwriting

ForceOption = Annotated[
    bool, typer.Option("--force", help="Refit and publish even if data and settings are unchanged.")
]
ExecutorOption = Annotated[
    str, typer.Option("--executor", help="Where fits run: local (processes on this machine) or dask.")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a local cluster).", show_default=False
    ),
]
ManifestOption = Annotated[
    Path | None,
    typer.Option(
        "--from-manifest",
        help="Reproduce a bundle's run from its manifest.json.",
        exists=True,
        dir_okay=False,
        show_default=False,
    ),
]
RestatementOption = Annotated[
    bool,
    typer.Option(
        "--accept-restatement", help="Publish even though past values changed beyond the restatement threshold."
    ),
]
DropOption = Annotated[
    bool,
    typer.Option(
        "--accept-drop",
        help="Publish even though the run drops a series or sector the previous vintage had, or shortens its history.",
    ),
]


BundleOption = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        help="Write every export plus manifest.json into this directory.",
        file_okay=False,
        show_default=False,
    ),
]


@app.command()
def init(
    db: DbOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing database, keeping it beside it as DB.backup-TIME (UTC)."),
    ] = False,
) -> None:
    """Build the database from the shipped data/ files (an existing one only with --force, kept as a backup)."""
    from ..bootstrap import init_db

    path = resolve_db(db, bootstrap=False)
    check_folder(path)  # never creates folders: a typo in --db would build the database somewhere unlooked-for
    summary = init_db(path, force=force)
    audit.record(summary.db, "init", f"{summary.history_rows} history rows" + (" (forced)" if force else ""))
    out.print(
        f"built {summary.db}: {summary.history_rows} history rows, {summary.estimates} published figures "
        f"from {summary.sources} sources, {summary.scenarios} preset scenarios"
        + (f"; the previous file is kept as {summary.backup}" if summary.backup else "")
    )


@app.command()
def check(db: DbOption = None) -> None:
    """Check the database: every table readable, every stored blob as written, every run complete.

    Exit codes: 0 sound; 65 damaged (each finding is printed); 66 no database.
    """
    from ..errors import DatabaseDamagedError
    from ..integrity import check as check_db

    report = check_db(resolve_db(db, bootstrap=False))
    for finding in report.findings:
        out.print(f"{'ok' if finding.ok else 'FAILED'}  {finding.check}: {finding.detail}", soft_wrap=True)
    if not report.ok:
        raise DatabaseDamagedError(f"database {report.db} failed {len(report.problems())} integrity check(s)")


def _executor(executor: str, scheduler: str | None) -> DaskExecutor | None:
    """The executor ``--executor``/``--scheduler`` ask for (``None``: the engine's local pool)."""
    if executor not in ("local", "dask"):
        raise ValueError(f"--executor must be local or dask, got '{executor}'")
    if scheduler and executor != "dask":
        raise ValueError("--scheduler names a Dask scheduler; add --executor dask")
    if executor == "local":
        return None
    from ..dask_executor import DaskExecutor

    pool = DaskExecutor(scheduler)
    if scheduler:
        pool.connect()  # fail fast on an unreachable scheduler or one without the package, before any work
    return pool


@app.command()
def refresh(
    db: DbOption = None,
    force: ForceOption = False,
    executor: ExecutorOption = "local",
    scheduler: SchedulerOption = None,
    from_manifest: ManifestOption = None,
    models: ModelsOption = None,
    accept_restatement: RestatementOption = False,
    accept_drop: DropOption = False,
) -> None:
    """Fit and backtest every series, draw joint paths and crossovers, and publish a new vintage atomically.

    Builds the database from the shipped data when the file does not exist yet.  Exit codes: 0
    published or up to date; 65 refused (invalid, restated or shrinking history, a damaged database);
    75 another refresh (or writer) holds the lock; 130/143 interrupted; 1 any other error.
    """
    from ..config import Settings
    from ..refresh import run_refresh

    pool = _executor(executor, scheduler)
    if not console.is_terminal and logging.getLogger().level == logging.WARNING:
        logging.getLogger("forecasting.refresh").setLevel(logging.INFO)  # structured lines instead of a bar
    try:
        with progress_bar("fitting") as advance:
            summary = run_refresh(
                resolve_db(db, create=True),
                Settings.from_env(),
                force=force,
                executor=pool,
                progress=advance,
                from_manifest=from_manifest,
                models=model_list(models),
                accept_restatement=accept_restatement,
                accept_drop=accept_drop,
            )
    finally:
        if pool is not None:
            pool.close()
    if not summary.published:
        out.print(summary.message)
        return
    audit.record(resolve_db(db), "refresh", f"published {summary.run_id}")
    out.print(
        f"{summary.message}: {summary.n_series} series ({summary.n_ok} ok, {summary.n_fallback} fallback, "
        f"{summary.n_failed} failed) in {summary.timings.get('total', 0):.1f}s"
        + (f"; pruned {len(summary.pruned)} old run(s)" if summary.pruned else "")
    )
    if summary.change_report:
        out.print(summary.change_report)


@app.command("export")
def export_(
    kind: Annotated[
        str,
        typer.Argument(
            help="history, forecasts, crossover, probability, backtests, scenarios or sensitivity "
            "(ignored with --bundle).",
            show_default=False,
        ),
    ] = "forecasts",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (- for stdout); its extension picks the format.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    fmt: FileFormatOption = None,
    bundle: BundleOption = None,
    run: Annotated[str, typer.Option("--run", help="Run id, or latest.")] = "latest",
    scenario: Annotated[str, typer.Option("--scenario", help="Saved scenario to apply.")] = "baseline",
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="Crossover when inference reaches THRESHOLD x training (1 = overtakes; e.g. 1.5 or 2 for "
            "sectors that crossed already). Applies to crossover, probability and sensitivity; adds "
            "_xTHRESHOLD to bundle file names when not 1.",
        ),
    ] = 1.0,
    definition: DefinitionOption = "all",
    db: DbOption = None,
) -> None:
    """Export a run as tidy CSV or Excel (formula-safe), Parquet or JSON, or a reproducible bundle with --bundle."""
    from .. import export

    if is_stdio(bundle):  # a folder named '-' in the working directory is never what was meant
        raise ValueError("--bundle writes a folder of files and cannot go to stdout; name a folder")
    target = bundle if bundle is not None else output
    check_folder(target)
    try:
        if bundle is not None:
            written = export.write_bundle(
                resolve_db(db), bundle, run, scenario, threshold, export.format_for(None, fmt)
            )
            out.print(f"wrote {len(written)} files to {bundle}")
        elif output is None:
            raise ValueError("give --output FILE.csv (or - for stdout, or --bundle DIR)")
        else:
            path = resolve_db(db)
            refuse_overwriting(output, path, "the database")
            _export_table(path, kind, output, fmt, (run, scenario, threshold, definition))
    except OSError as exc:  # a failed write (a full disk) may not name its file: name the target
        exc.filename = str(target) if exc.filename is None else exc.filename
        raise


def _export_table(db: Path, kind: str, output: Path, fmt: str | None, view_args: tuple[str, str, float, str]) -> None:
    """Write one export table (``view_args``: run, scenario, threshold, definition) to ``output`` or stdout."""
    from .. import export, reports
    from .output import note, refuse_binary_on_terminal, write_bytes

    chosen = export.format_for(output, fmt)
    refuse_binary_on_terminal(chosen, output)
    table = reports.table(kind, reports.open_view(db, *view_args))
    write_bytes(output, export.frame_bytes(table, chosen))
    note(f"wrote {len(table)} {kind} rows to {output}", output)


@app.command()
def schedule(
    cron: Annotated[
        str,
        typer.Option(
            "--cron",
            help='Crontab expression (5 fields, or @daily, @weekly, ...), e.g. "0 6 * * MON".',
            show_default=False,
        ),
    ],
    db: DbOption = None,
    run_now: Annotated[bool, typer.Option("--run-now", help="Also refresh once right away.")] = False,
    models: ModelsOption = None,
) -> None:
    """Run refreshes on a cron schedule in this process (APScheduler); stop with Ctrl-C."""
    from ..config import Settings
    from ..schedule import next_fire_time, run_schedule

    next_fire_time(cron)  # a bad expression is refused before the database is built
    path = resolve_db(db, create=True)  # and a missing folder before the line is printed
    out.print(f"scheduling refreshes of {db or path} at '{cron}'; Ctrl-C stops")
    if logging.getLogger().level > logging.INFO and logging.getLogger().level < logging.ERROR:  # not -q
        logging.getLogger("forecasting.schedule").setLevel(logging.INFO)  # one line per run, even without -v
    run_schedule(path, cron, Settings.from_env(), run_now=run_now, models=model_list(models))


@vintage_app.command("list")
def vintage_list(db: DbOption = None, fmt: FormatOption = None) -> None:
    """List the stored runs, newest first."""
    from ..vintages import list_runs

    runs = list_runs(resolve_db(db))
    runs["created_at"] = runs["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    runs["data_fingerprint"] = runs["data_fingerprint"].str[:12]
    print_table(
        runs[["run_id", "created_at", "status", "data_fingerprint", "n_series", "n_ok", "n_fallback", "n_failed"]],
        fmt=fmt,
    )


@vintage_app.command("show")
def vintage_show(
    run: Annotated[str, typer.Argument(help="Run id, or latest.")] = "latest",
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Show one run: settings, per-series status and model, and its baseline crossovers.

    With --format only the crossover table goes to stdout (the rest to stderr).
    """
    from ..vintages import load_run
    from .output import STDIO, note

    data = load_run(resolve_db(db), run)
    info = data.info
    where = STDIO if fmt else None
    note(
        f"run {info.run_id} ({info.status}), created {info.created_at:%Y-%m-%d %H:%M:%S} UTC, data "
        f"{info.data_fingerprint[:12]}, code {info.code_version}, seed {info.seed}",
        where,
    )
    note("settings: " + ", ".join(f"{k}={v}" for k, v in sorted(info.config.items())), where)
    if not fmt:
        print_table(data.status, title="series")
    table = data.crossover.copy()
    if not fmt:  # for reading; --format keeps dates and fractions as data
        for col in ("crossed_at", "p10", "p50", "p90"):
            table[col] = table[col].dt.strftime("%Y-%m-%d").fillna("")
        table["prob_within_horizon"] = table["prob_within_horizon"].map("{:.0%}".format)
    print_table(table, title="crossover (baseline)", fmt=fmt)
    if info.change_report:
        note(info.change_report, where)


@vintage_app.command("compare")
def vintage_compare(
    run_a: Annotated[str, typer.Argument(help="Earlier run id.", show_default=False)],
    run_b: Annotated[str, typer.Argument(help="Later run id, or latest.")] = "latest",
    scenario: Annotated[
        str, typer.Option("--scenario", help="Compare under this saved scenario, each run with its own assumptions.")
    ] = "baseline",
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Which crossover P50 dates moved between two runs: data, model, settings, code or assumptions."""
    from ..reports import compare_runs

    table = compare_runs(resolve_db(db), run_a, run_b, scenario)
    if not fmt:  # for reading; --format keeps dates and numbers as data
        for col in ("p50_a", "p50_b"):
            table[col] = table[col].dt.strftime("%Y-%m-%d").fillna("")
        table["shift_quarters"] = table["shift_quarters"].map(lambda q: "" if q != q else f"{q:+.1f}")
    print_table(table, fmt=fmt)
