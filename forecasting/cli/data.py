"""Commands on data: import a file, regenerate data/, forecast any series file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .. import audit
from .app import DbOption, app, out, print_table, progress_bar, resolve_db
from .output import FileFormatOption, FormatOption

if TYPE_CHECKING:
    import pandas as pd

    from ..ingest import ImportSummary


@app.command("import")
def import_(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV or Parquet file in long format: period, sector, workload, spend_usd (optional region, source); "
            "- reads stdin.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Let imported rows overwrite shipped rows.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the recorded imports, newest first.")] = False,
    undo: Annotated[
        int | None,
        typer.Option("--undo", metavar="ID", help="Undo import ID: remove its rows, put back what they replaced."),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Import your own spend data (every row lands, or none does); list or undo earlier imports."""
    if sum((file is not None, list_, undo is not None)) != 1:
        raise typer.BadParameter("give a FILE to import, or --list, or --undo ID (one of them)")
    if list_:
        _list_imports(resolve_db(db), fmt)
    elif undo is not None:
        _undo_import(resolve_db(db), undo)
    elif file is not None:
        _import_file(resolve_db(db), file, replace)


def _import_file(db: Path, file: Path, replace: bool) -> None:
    from ..errors import NotFoundError
    from ..ingest import import_file
    from .output import is_stdio

    if is_stdio(file):
        summary = _import_stdin(db, replace)
    elif not file.exists():
        raise NotFoundError(f"no file {file}; check the path")
    else:
        summary = import_file(db, file, replace=replace, actor=audit.os_user())
    name = STDIN_NAME if is_stdio(file) else file.name
    recorded = (
        f" as import {summary.import_id}" if summary.import_id is not None else " (nothing changed; not recorded)"
    )
    audit.record(db, "import", f"{name}: {summary.inserted} new, {summary.updated} updated{recorded}")
    out.print(
        f"imported {summary.rows} rows from {name}{recorded} ({summary.first_period} to {summary.last_period}, "
        f"sectors: {', '.join(summary.sectors)}): {summary.inserted} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )
    for note in summary.notes:
        out.print(f"note: {note}")


#: The file name an import read from stdin (``import -``) is recorded under.
STDIN_NAME = "stdin"


def _import_stdin(db: Path, replace: bool) -> ImportSummary:
    """Import the CSV or Parquet file piped to stdin (Parquet by its magic bytes), read up to the size limit."""
    import sys
    import tempfile

    from ..config import IMPORT_MAX_MB
    from ..frames import PARQUET_MAGIC
    from ..ingest import import_file

    data = sys.stdin.buffer.read(int(IMPORT_MAX_MB * 1e6) + 1)  # one byte over: the size check refuses it
    suffix = ".parquet" if data.startswith(PARQUET_MAGIC) else ".csv"
    with tempfile.TemporaryDirectory(prefix="crossover-import-") as folder:
        path = Path(folder) / f"{STDIN_NAME}{suffix}"
        path.write_bytes(data)
        return import_file(db, path, replace=replace, actor=audit.os_user(), file_name=STDIN_NAME)


def _list_imports(db: Path, fmt: str | None = None) -> None:
    from ..imports import list_imports

    frame = list_imports(db)
    if frame.empty and fmt is None:
        out.print("no imports recorded")
        return
    shown = frame[["import_id", "imported_at", "file_name", "row_count", "inserted", "updated", "actor", "sectors"]]
    undone = frame["undone_at"].map(lambda t: "" if t is None or t != t else f"undone {t:%Y-%m-%d %H:%M:%S}")
    print_table(
        shown.assign(
            imported_at=frame["imported_at"].map(lambda t: f"{t:%Y-%m-%d %H:%M:%S}"),
            sectors=frame["sectors"].str.replace(";", ", "),
            status=undone.where(undone != "", "active"),
        ).rename(
            columns={
                "import_id": "id",
                "imported_at": "imported (UTC)",
                "file_name": "file",
                "row_count": "rows",
                "inserted": "new",
                "actor": "by",
            }
        ),
        title="Imports",
        fmt=fmt,
    )


def _undo_import(db: Path, import_id: int) -> None:
    from ..imports import undo_import

    summary = undo_import(db, import_id, actor=audit.os_user())
    out.print(
        f"undid import {summary.import_id} ({summary.file_name}): {summary.removed} rows removed, "
        f"{summary.restored} restored"
    )
    audit.record(db, "import.undo", f"import {summary.import_id} ({summary.file_name})")


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


#: ``forecast``'s options that take more than a line to declare.
SeriesFileArg = Annotated[
    Path,
    typer.Argument(
        help="CSV or Parquet file in long format, one row per series and period (- reads stdin).",
        show_default=False,
        dir_okay=False,
    ),
]
ForecastOutputOption = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="File to write the forecasts to (- for stdout); .parquet, .xlsx or .json pick the format, else CSV.",
        show_default=False,
        dir_okay=False,
    ),
]
FreqOption = Annotated[
    str | None,
    typer.Option(
        "--freq",
        help="Y, Q, M, W or D (pandas aliases too); read from the dates when omitted, and checked against them.",
    ),
]
TransformOption = Annotated[
    str,
    typer.Option(
        "--transform",
        help="Scale the models fit: auto (a probe chooses per series), log (series of positive values) or none.",
    ),
]


@app.command()
def forecast(
    input: SeriesFileArg,
    output: ForecastOutputOption,
    horizon: Annotated[int, typer.Option("--horizon", "-h", min=1, help="Periods to forecast.")] = 8,
    id_col: Annotated[str, typer.Option("--id-col", help="Column naming the series.")] = "unique_id",
    date_col: Annotated[str, typer.Option("--date-col", help="Column with the period's date.")] = "ds",
    value_col: Annotated[str, typer.Option("--value-col", help="Column with the value.")] = "y",
    freq: FreqOption = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for the sample paths.")] = 0,
    transform: TransformOption = "auto",
    fmt: FileFormatOption = None,
) -> None:
    """Forecast any series file with the dashboard's engine: backtest, pick, calibrate intervals.

    Writes unique_id, ds, model, yhat and the 80% and 95% bounds for each series and period. The
    frequency (daily, weekly, monthly, quarterly, yearly) is read from the dates, one per file (a
    series of another frequency is refused by name); missing or non-numeric values are refused with
    their row numbers (exit 65).
    """
    from .. import export
    from ..api import forecast_frame
    from ..engine.prepare import TRANSFORMS
    from ..frames import read_history, read_table
    from .output import (
        check_folder,
        check_format,
        is_stdio,
        note,
        read_bytes,
        refuse_binary_on_terminal,
        refuse_overwriting,
        write_bytes,
    )

    columns = _distinct_columns(id_col, date_col, value_col)
    chosen = export.format_for(output, fmt)
    scale = check_format(transform, ("auto", *TRANSFORMS), "--transform")
    refuse_binary_on_terminal(chosen, output)
    check_folder(output)
    refuse_overwriting(output, input, "the input file")
    name = STDIN_NAME if is_stdio(input) else str(input)  # what every problem report names, as import does
    history = read_history(read_table(read_bytes(input), name), columns, name)
    n_series = history["unique_id"].nunique()
    if chosen == "xlsx":  # refused before the fits, not after them
        export.check_xlsx_rows(n_series * horizon)
    with progress_bar("fitting", n_series) as advance:
        result = forecast_frame(
            history, horizon, freq, seed, progress=advance, transform=None if scale == "auto" else scale
        )
    _refuse_if_nothing_forecast(result.status)
    write_bytes(output, export.frame_bytes(result.forecasts, chosen))
    note(f"wrote {len(result.forecasts)} rows for {n_series} series to {output}{_fallbacks(result.status)}", output)


def _fallbacks(status: pd.DataFrame) -> str:
    """`` (2 on a fallback model; 1 with no forecast; see the log)`` for the closing line, or ``''``."""
    counts = [
        (int((status["status"] == "fallback").sum()), "on a fallback model"),
        (int((status["status"] == "failed").sum()), "with no forecast"),
    ]
    shown = "; ".join(f"{n} {what}" for n, what in counts if n)
    return f" ({shown}; see the log)" if shown else ""


def _distinct_columns(id_col: str, date_col: str, value_col: str) -> tuple[str, str, str]:
    """The three columns; ``ValueError`` if one is named twice (`--id-col ds` made each date a series)."""
    columns = (id_col, date_col, value_col)
    if len(set(columns)) < len(columns):
        raise ValueError(f"--id-col, --date-col and --value-col must name three different columns, not {columns}")
    return columns


def _refuse_if_nothing_forecast(status: pd.DataFrame) -> None:
    """A :class:`ValidationError` (exit 65) naming each series and why, when no series could be forecast.

    Writing an empty file and exiting 0 would pass for success in a script.
    """
    from ..errors import Problem, ValidationError

    failed = status[status["status"] == "failed"]
    if len(status) and len(failed) == len(status):
        problems = [
            Problem(None, None, f"series '{uid}': {message}")
            for uid, message in zip(failed["unique_id"], failed["message"], strict=True)
        ]
        raise ValidationError(problems, "history")
