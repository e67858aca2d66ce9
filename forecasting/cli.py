"""The ``forecasting`` command line: a thin typer face over the package.

Each command gathers its arguments, calls one package function and reports the result.  Errors
the package raises on purpose (:class:`ForecastingError`) are printed without a traceback and
exit with the error's code (1 by default, 2 for a bad argument, 65 for invalid data, 75 when the
database or the refresh lock is busy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from . import __version__
from .config import DB_ENV, default_db_path
from .errors import ForecastingError


class _Group(TyperGroup):
    """Turns the package's own errors into a message and an exit code, without a traceback."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except ForecastingError as exc:
            _print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except ValueError as exc:  # a pure function refused an argument the user gave
            _print_error(exc)
            raise typer.Exit(2) from None


def _print_error(exc: Exception) -> None:
    # Unwrapped: paths and run ids stay whole in logs and pipes (a terminal wraps lines itself).
    console.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)


app = typer.Typer(
    name="forecasting",
    cls=_Group,
    help="Forecast cloud AI spend by sector and workload, and when inference overtakes training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(cls=_Group, help="List, show, save, copy and delete named scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")

console = Console(stderr=True)
out = Console()

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help=f"Database file. Default: ${DB_ENV}, else crossover.duckdb in the repository.",
        show_default=False,
        dir_okay=False,
    ),
]


def _db(db: Path | None, *, bootstrap: bool = True) -> Path:
    """Resolve the database path, building it from the shipped data on first use."""
    from .bootstrap import ensure_db

    path = db or default_db_path()
    return ensure_db(path) if bootstrap else path


def _version(value: bool) -> None:
    if value:
        out.print(f"forecasting {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log progress (-v) or debug detail (-vv).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Forecast cloud AI spend by workload and sector; estimate when inference overtakes training."""
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )
    for noisy in ("cmdstanpy", "prophet", "distributed", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


@app.command()
def init(db: DbOption = None) -> None:
    """Build the database from the shipped data/ files (replaces an existing file atomically)."""
    from .bootstrap import init_db

    summary = init_db(db or default_db_path())
    out.print(
        f"built {summary.db}: {summary.history_rows} history rows, {summary.estimates} published figures "
        f"from {summary.sources} sources, {summary.scenarios} preset scenarios"
    )


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or Parquet file in long format: period, sector, workload, spend_usd (optional region, source).",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Let imported rows overwrite shipped rows.")] = False,
) -> None:
    """Import your own spend data: every row lands, or (on any problem) none does."""
    from .ingest import import_file

    summary = import_file(_db(db), file, replace=replace)
    out.print(
        f"imported {summary.rows} rows from {file.name} ({summary.first_period} to {summary.last_period}, "
        f"sectors: {', '.join(summary.sectors)}): {summary.inserted} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


@app.command("build-data")
def build_data(
    check: Annotated[
        bool, typer.Option("--check", help="Only verify the shipped files are reproduced exactly.")
    ] = False,
) -> None:
    """Regenerate data/ from the curated published figures (byte for byte)."""
    from .build_data import main as build_main

    code = build_main(["--check"] if check else [])
    raise typer.Exit(code)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal (nothing otherwise); yields a 'done so far' callback."""
    if not console.is_terminal:
        yield lambda done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


@app.command()
def forecast(
    input: Annotated[
        Path,
        typer.Argument(
            help="CSV file in long format, one row per series and period.",
            show_default=False,
            exists=True,
            dir_okay=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="CSV file to write the forecasts to.", show_default=False, dir_okay=False),
    ],
    horizon: Annotated[int, typer.Option("--horizon", "-h", min=1, help="Periods to forecast.")] = 8,
    id_col: Annotated[str, typer.Option("--id-col", help="Column naming the series.")] = "unique_id",
    date_col: Annotated[str, typer.Option("--date-col", help="Column with the period's date.")] = "ds",
    value_col: Annotated[str, typer.Option("--value-col", help="Column with the value.")] = "y",
    freq: Annotated[
        str | None,
        typer.Option("--freq", help="Y, Q or M (pandas aliases accepted); inferred from the dates when omitted."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the sample paths.")] = 0,
) -> None:
    """Forecast any series file with the dashboard's engine: backtest, pick, calibrate intervals.

    Writes unique_id, ds, model, yhat and the 80% and 95% bounds for each series and period.
    """
    from .engine import ForecastOptions, forecast_file

    n_series = _count_series(input, id_col)
    with progress_bar("fitting", n_series) as advance:
        options = ForecastOptions(freq=freq, seed=seed)
        result = forecast_file(input, output, horizon, options, columns=(id_col, date_col, value_col), progress=advance)
    fallbacks = result.status[result.status["status"] != "ok"]
    out.print(
        f"wrote {len(result.forecasts)} rows for {n_series} series to {output}"
        + (f" ({len(fallbacks)} on a fallback model; see the log)" if len(fallbacks) else "")
    )


def _count_series(path: Path, id_col: str) -> int | None:
    """Number of distinct series ids in a CSV file (None if the column is absent)."""
    import pandas as pd

    try:
        return int(pd.read_csv(path, usecols=[id_col])[id_col].nunique())
    except ValueError:
        return None


def _print_table(df, title: str | None = None) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")  # a narrow terminal wraps cells, never cuts them
    for row in df.itertuples(index=False):
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)


@scenario_app.command("list")
def scenario_list(db: DbOption = None) -> None:
    """List saved scenarios (presets first)."""
    from .scenario_store import list_scenarios

    table = list_scenarios(_db(db))
    table["updated_at"] = table["updated_at"].dt.strftime("%Y-%m-%d %H:%M")
    table["description"] = table["description"].map(lambda d: d if len(d) <= 70 else d[:69] + "…")
    _print_table(table[["name", "is_preset", "author", "updated_at", "description"]])


@scenario_app.command("show")
def scenario_show(
    name: Annotated[str, typer.Argument(help="Scenario name.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Print a scenario's assumptions as JSON."""
    import json

    from .scenario_store import load_scenario

    out.print_json(json.dumps(load_scenario(_db(db), name).to_dict()))


@scenario_app.command("save")
def scenario_save(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON file with the scenario (as `scenario show` prints it).",
            show_default=False,
            exists=True,
            dir_okay=False,
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Save under this name instead of the file's.")] = None,
    db: DbOption = None,
) -> None:
    """Save (create or update) a scenario from a JSON file."""
    import json

    from .scenario import Scenario
    from .scenario_store import save_scenario

    data = json.loads(file.read_text(encoding="utf-8"))
    if name:
        data["name"] = name
    scenario = Scenario.from_dict(data)
    save_scenario(_db(db), scenario)
    out.print(f"saved scenario '{scenario.name}'")


@scenario_app.command("set")
def scenario_set(
    name: Annotated[
        str, typer.Argument(help="Scenario to change (created from the baseline if new).", show_default=False)
    ],
    driver: Annotated[
        str, typer.Argument(help="Driver key, e.g. edge_share (see `scenario drivers`).", show_default=False)
    ],
    value: Annotated[
        str,
        typer.Argument(
            help="A number, LO:HI for a uniform range, or LO:MODE:HI for a triangular one.", show_default=False
        ),
    ],
    sector: Annotated[str, typer.Option("--sector", help="Sector id, or 'all' for every sector.")] = "all",
    db: DbOption = None,
) -> None:
    """Set one driver of a scenario, for one sector or all, as the dashboard's sliders do."""
    from .errors import NotFoundError
    from .scenario import PRESETS, DriverValue, Scenario
    from .scenario_store import load_scenario, save_scenario

    path = _db(db)
    try:
        scenario = load_scenario(path, name)
    except NotFoundError:
        scenario = Scenario.from_dict({**PRESETS["baseline"].to_dict(), "name": name, "description": ""})
    parts = [float(p) for p in value.split(":")]
    raw: object = parts[0] if len(parts) == 1 else {"uniform" if len(parts) == 2 else "triangular": parts}
    updated = scenario.with_value(sector, driver, DriverValue.from_json(raw))
    save_scenario(path, updated)
    out.print(f"{name}: {sector}/{driver} = {value}")


@scenario_app.command("drivers")
def scenario_drivers() -> None:
    """List the scenario drivers with their units, ranges, defaults and reasons."""
    import pandas as pd

    from .scenario import DRIVERS

    rows = [(d.key, d.label, d.unit, f"{d.min:g}..{d.max:g}", f"{d.default:g}", f"{d.neutral:g}") for d in DRIVERS]
    _print_table(pd.DataFrame(rows, columns=["key", "driver", "unit", "range", "default", "neutral"]))


ThresholdOption = Annotated[
    float, typer.Option("--threshold", help="Crossover when inference reaches this multiple of training.")
]
RunOption = Annotated[str, typer.Option("--run", help="Forecast run id, or latest.")]


@scenario_app.command("compare")
def scenario_compare(
    names: Annotated[list[str], typer.Argument(help="Two or more scenario names; shifts are against the first.",
                                               show_default=False)],
    run: RunOption = "latest",
    threshold: ThresholdOption = 1.0,
    db: DbOption = None,
) -> None:
    """Compare the crossover of every sector under several scenarios, side by side."""
    from .analysis import compare_scenarios
    from .frames import quarter_label

    table = compare_scenarios(_db(db), names, run, threshold)

    def cell(row) -> str:  # type: ignore[no-untyped-def]
        if row.p50 is None or row.p50 != row.p50:
            return "beyond horizon"
        if row.shift_quarters != row.shift_quarters or row.scenario == names[0]:
            return quarter_label(row.p50)
        return f"{quarter_label(row.p50)} ({row.shift_quarters:+.0f})"

    table["p50 (shift in quarters)"] = [cell(r) for r in table.itertuples()]
    wide = table.pivot(index="sector", columns="scenario", values="p50 (shift in quarters)")
    order = list(dict.fromkeys(table["sector"]))
    _print_table(wide.loc[order, list(dict.fromkeys(names))].reset_index(), title="P50 crossover (shift vs first)")


@scenario_app.command("goal-seek")
def scenario_goal_seek(
    sector: Annotated[str, typer.Argument(help="Sector id, or total.", show_default=False)],
    driver: Annotated[str, typer.Argument(help="Driver key, e.g. edge_share.", show_default=False)],
    target: Annotated[str, typer.Argument(help="Quarter the P50 crossover should fall in, e.g. 2028Q1.",
                                          show_default=False)],
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario the other drivers come from.")] = "baseline",
    run: RunOption = "latest",
    threshold: ThresholdOption = 1.0,
    db: DbOption = None,
) -> None:
    """Find the driver value that moves a sector's P50 crossover into a target quarter."""
    from .analysis import goal_seek_run

    result = goal_seek_run(_db(db), sector, driver, target, scenario, run, threshold)
    out.print(result.message)
    if not result.reachable:
        raise typer.Exit(1)


@scenario_app.command("copy")
def scenario_copy(
    name: Annotated[str, typer.Argument(help="Scenario to copy.", show_default=False)],
    new_name: Annotated[str, typer.Argument(help="Name of the copy.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Copy a scenario under a new name."""
    from .scenario_store import copy_scenario

    copy_scenario(_db(db), name, new_name)
    out.print(f"copied '{name}' to '{new_name}'")


@scenario_app.command("delete")
def scenario_delete(
    name: Annotated[str, typer.Argument(help="Scenario to delete.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Delete a saved scenario (presets cannot be deleted)."""
    from .scenario_store import delete_scenario

    delete_scenario(_db(db), name)
    out.print(f"deleted scenario '{name}'")


# --------------------------------------------------------------------------- refresh, export, schedule, vintages

vintage_app = typer.Typer(
    cls=_Group, help="List, show and compare forecast vintages (published runs).", no_args_is_help=True
)
app.add_typer(vintage_app, name="vintage")

ModelsOption = Annotated[
    str | None,
    typer.Option(
        "--models",
        help="Comma-separated engine models to choose from, e.g. naive,drift,ets (default: the engine's full set).",
        show_default=False,
    ),
]


def _models(models: str | None) -> list[str] | None:
    return [m.strip() for m in models.split(",") if m.strip()] if models else None


@contextmanager
def _refresh_progress() -> Iterator[Callable[[int, int], None]]:
    """A rich bar for 'series fitted' on a terminal; elsewhere the refresh logs structured lines."""
    if not console.is_terminal:
        if logging.getLogger().level == logging.WARNING:  # default verbosity; -q keeps it quiet
            logging.getLogger("forecasting.refresh").setLevel(logging.INFO)
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("fitting", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def refresh(
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Refit and publish even if data and settings are unchanged.")
    ] = False,
    executor: Annotated[
        str, typer.Option("--executor", help="Where fits run: local (processes on this machine) or dask.")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a local cluster).", show_default=False
        ),
    ] = None,
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from-manifest",
            help="Reproduce a bundle's run from its manifest.json.",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    models: ModelsOption = None,
    accept_restatement: Annotated[
        bool,
        typer.Option(
            "--accept-restatement", help="Publish even though past values changed beyond the restatement threshold."
        ),
    ] = False,
) -> None:
    """Fit and backtest every series, draw joint paths and crossovers, and publish a new vintage atomically.

    Exit codes: 0 published or up to date; 65 refused (invalid or restated history); 66 no database;
    75 another refresh (or writer) holds the lock; 1 any other error.
    """
    from .config import Settings
    from .refresh import run_refresh

    if executor not in ("local", "dask"):
        raise ValueError(f"--executor must be local or dask, got '{executor}'")
    if scheduler and executor != "dask":
        raise ValueError("--scheduler names a Dask scheduler; add --executor dask")
    pool = None
    if executor == "dask":
        from .dask_executor import DaskExecutor

        pool = DaskExecutor(scheduler)
    try:
        with _refresh_progress() as advance:
            summary = run_refresh(
                _db(db),
                Settings.from_env(),
                force=force,
                executor=pool,
                progress=advance,
                from_manifest=from_manifest,
                models=_models(models),
                accept_restatement=accept_restatement,
            )
    finally:
        if pool is not None:
            pool.close()
    if not summary.published:
        out.print(summary.message)
        return
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
            help="history, forecasts, crossover, backtests, scenarios or sensitivity (ignored with --bundle).",
            show_default=False,
        ),
    ] = "forecasts",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV file to write.", dir_okay=False, show_default=False)
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Write every export plus manifest.json into this directory.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    run: Annotated[str, typer.Option("--run", help="Run id, or latest.")] = "latest",
    scenario: Annotated[str, typer.Option("--scenario", help="Saved scenario to apply.")] = "baseline",
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="Crossover when inference reaches THRESHOLD x training (1 = overtakes; e.g. 1.5 or 2 for "
            "sectors that crossed already). Applies to crossover and sensitivity; adds _x<THRESHOLD> to bundle "
            "file names when not 1.",
        ),
    ] = 1.0,
    db: DbOption = None,
) -> None:
    """Export a run as tidy CSV (formula-safe), or a reproducible bundle with --bundle."""
    from . import export

    if bundle is not None:
        written = export.write_bundle(_db(db), bundle, run, scenario, threshold)
        out.print(f"wrote {len(written)} files to {bundle}")
        return
    if output is None:
        raise ValueError("give --output FILE.csv (or --bundle DIR)")
    rows = export.write_export(_db(db), kind, output, run, scenario, threshold)
    out.print(f"wrote {rows} {kind} rows to {output}")


@app.command()
def schedule(
    cron: Annotated[
        str, typer.Option("--cron", help='Crontab expression (5 fields), e.g. "0 6 * * MON".', show_default=False)
    ],
    db: DbOption = None,
    run_now: Annotated[bool, typer.Option("--run-now", help="Also refresh once right away.")] = False,
    models: ModelsOption = None,
) -> None:
    """Run refreshes on a cron schedule in this process (APScheduler); stop with Ctrl-C."""
    from .config import Settings
    from .schedule import run_schedule

    out.print(f"scheduling refreshes of {db or default_db_path()} at '{cron}'; Ctrl-C stops")
    run_schedule(_db(db), cron, Settings.from_env(), run_now=run_now, models=_models(models))


@vintage_app.command("list")
def vintage_list(db: DbOption = None) -> None:
    """List the stored runs, newest first."""
    from .vintages import list_runs

    runs = list_runs(_db(db))
    runs["created_at"] = runs["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    runs["data_fingerprint"] = runs["data_fingerprint"].str[:12]
    _print_table(
        runs[["run_id", "created_at", "status", "data_fingerprint", "n_series", "n_ok", "n_fallback", "n_failed"]]
    )


@vintage_app.command("show")
def vintage_show(
    run: Annotated[str, typer.Argument(help="Run id, or latest.")] = "latest",
    db: DbOption = None,
) -> None:
    """Show one run: settings, per-series status and model, and its baseline crossovers."""
    from .vintages import load_run

    data = load_run(_db(db), run)
    info = data.info
    out.print(
        f"run {info.run_id} ({info.status}), created {info.created_at:%Y-%m-%d %H:%M:%S} UTC, data "
        f"{info.data_fingerprint[:12]}, code {info.code_version}, seed {info.seed}"
    )
    out.print("settings: " + ", ".join(f"{k}={v}" for k, v in sorted(info.config.items())))
    _print_table(data.status, title="series")
    table = data.crossover.copy()
    for col in ("crossed_at", "p10", "p50", "p90"):
        table[col] = table[col].dt.strftime("%Y-%m-%d").fillna("")
    table["prob_within_horizon"] = table["prob_within_horizon"].map("{:.0%}".format)
    _print_table(table, title="crossover (baseline)")
    if info.change_report:
        out.print(info.change_report)


@vintage_app.command("compare")
def vintage_compare(
    run_a: Annotated[str, typer.Argument(help="Earlier run id.", show_default=False)],
    run_b: Annotated[str, typer.Argument(help="Later run id, or latest.")] = "latest",
    scenario: Annotated[
        str, typer.Option("--scenario", help="Compare under this saved scenario, each run with its own assumptions.")
    ] = "baseline",
    db: DbOption = None,
) -> None:
    """Which crossover P50 dates moved between two runs: data, model, settings, code or assumptions."""
    from .vintages import compare_runs

    table = compare_runs(_db(db), run_a, run_b, scenario)
    for col in ("p50_a", "p50_b"):
        table[col] = table[col].dt.strftime("%Y-%m-%d").fillna("")
    table["shift_quarters"] = table["shift_quarters"].map(lambda q: "" if q != q else f"{q:+.0f}")
    _print_table(table)


def main() -> None:
    """Console-script entry point."""
    app()
