"""Commands on data: build the database, import a file, regenerate data/, forecast any series file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import audit
from .app import DbOption, app, out, progress_bar, resolve_db


@app.command()
def init(db: DbOption = None) -> None:
    """Build the database from the shipped data/ files (replaces an existing file atomically)."""
    from ..bootstrap import init_db

    summary = init_db(resolve_db(db, bootstrap=False))
    audit.record(summary.db, "init", f"{summary.history_rows} history rows")
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
    from ..ingest import import_file

    summary = import_file(resolve_db(db), file, replace=replace)
    audit.record(resolve_db(db), "import", f"{file.name}: {summary.inserted} new, {summary.updated} updated")
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
    from ..databuild import run as build_main

    code = build_main(check_only=check)
    raise typer.Exit(code)


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
    from ..engine import ForecastOptions, forecast_file

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
