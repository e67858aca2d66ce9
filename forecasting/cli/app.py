"""The ``forecasting`` command line: a thin typer face over the package.

Each command gathers its arguments, calls one package function and reports the result.  Errors
the package raises on purpose (:class:`ForecastingError`) are printed without a traceback and
exit with the error's code (1 by default, 2 for a bad argument, 65 for invalid data or a damaged
database, 66 for a missing run, database, file or folder, 75 when the database or the refresh lock
is busy); ``_Group.invoke`` maps every other failure the same way (see its docstring).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, Protocol

import click
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from .. import __version__
from ..config import DB_ENV, default_db_path
from ..errors import EXIT_INTERRUPTED, EXIT_TERMINATED, FileSystemError, ForecastingError, NotFoundError
from .output import FormatOption, check_folder, configure_logging, console, out, print_table

__all__ = ["FormatOption", "app", "console", "out", "print_table", "progress_bar", "resolve_db"]


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every ``finally`` (temporary copies, the pool) runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


#: click's own exceptions, from the installed click and from the copy that typer (0.2x) vendors.
_CLICK_EXCEPTIONS: tuple[type[BaseException], ...] = (
    click.exceptions.Exit,
    click.ClickException,
    typer.Exit,
    typer.Abort,
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class _Group(TyperGroup):
    """Turns every failure a user can meet into one line and an exit code; a traceback only with ``-v``.

    The package's own errors carry their code; a file-system error names its path (66 when a file or
    folder does not exist, else 1); Ctrl-C exits 130 and SIGTERM 143, after writers removed their
    temporary copies (the database stays as it was); anything else is an internal error (1).
    """

    def invoke(self, ctx: Any) -> Any:  # click's Context, which typer re-exports or vendors by version
        previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
        try:
            return super().invoke(ctx)
        except ForecastingError as exc:
            _fail(exc, exc.exit_code)
        except ValueError as exc:  # a pure function refused an argument the user gave
            _fail(exc, 2)
        except BrokenPipeError:  # the reader has gone (`| head -1`): click stops quietly, exit 1
            raise
        except OSError as exc:
            error = file_system_error(exc)
            _fail(error, error.exit_code)
        except RecursionError as exc:
            _fail(ValueError(f"the input is nested too deeply to read ({exc})"), 65)
        except KeyboardInterrupt:
            _fail(RuntimeError("interrupted; nothing was changed by the unfinished step"), EXIT_INTERRUPTED)
        except _Terminated:
            _fail(RuntimeError("terminated (SIGTERM); nothing was changed by the unfinished step"), EXIT_TERMINATED)
        except _CLICK_EXCEPTIONS:  # usage errors and exits: click prints them and sets the code
            raise
        except Exception as exc:  # noqa: BLE001  (the last line of defence: one line, the traceback on -v)
            _fail(RuntimeError(f"internal error: {type(exc).__name__}: {exc}; rerun with -v for the traceback"), 1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, _Group):  # a group clears its own in get_params
            _bare_flags(command.get_params(ctx))
        return command


def _bare_flags(params: list[Any]) -> list[Any]:
    """Flags (and ``-v``'s count) show no value placeholder in help; returns ``params``.

    typer 0.2x prints a type for every option, flags too (``--force <bool>``, ``--help <bool>``), which
    reads as if the flag took a value; an empty metavar leaves the column blank, as click itself does.
    """
    for param in params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
    return params


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _fail(exc: Exception, code: int) -> NoReturn:
    """Print ``exc`` as one error line (with the traceback when logging is at -v) and exit with ``code``."""
    if logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger("forecasting.cli").error("traceback of the error below", exc_info=True)
    _print_error(exc)
    raise typer.Exit(code) from None


def file_system_error(exc: OSError) -> FileSystemError:
    """An OSError as a one-line :class:`FileSystemError` naming the path (exit 66 if it does not exist)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return FileSystemError.of(exc, f"a file could not be read or written: {reason}")
    also = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return FileSystemError.of(exc, f"cannot use {exc.filename}{also}: {reason}")


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
    # Markdown reflows a docstring's paragraphs to the terminal (Rich markup keeps the source's line
    # breaks); it reads <word> as an HTML tag, so help text writes DB, not <db> (tests/test_cli.py).
    rich_markup_mode="markdown",
)
scenario_app = typer.Typer(cls=_Group, help="List, show, save, copy and delete named scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
vintage_app = typer.Typer(
    cls=_Group, help="List, show and compare forecast vintages (published runs).", no_args_is_help=True
)
app.add_typer(vintage_app, name="vintage")
backtest_app = typer.Typer(
    cls=_Group, help="Backtests of the crossover estimate against figures published later.", no_args_is_help=True
)
app.add_typer(backtest_app, name="backtest")

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help=f"Database file. Default: ${DB_ENV}, else crossover.duckdb in the repository.",
        show_default=False,
        dir_okay=False,
    ),
]


def resolve_db(db: Path | None, *, bootstrap: bool = True, create: bool = False) -> Path:
    """Resolve the database path (``--db``, else ``$CROSSOVER_DB``, else the default) and make it usable.

    ``create``: build a missing file from the shipped data (only ``refresh`` and ``schedule`` ask;
    ``init`` builds it itself).  Every other command refuses a missing file with exit 66, so a
    mistyped ``--db`` never leaves a new database behind.  ``bootstrap=False`` only resolves the path.
    An existing file of an older schema is migrated.
    """
    from ..bootstrap import ensure_db

    path = db or default_db_path()
    if not bootstrap:
        return path
    if not path.exists() and not create:
        raise NotFoundError(f"no database at {path}; check --db (or ${DB_ENV}), or build one with `forecasting init`")
    if not path.exists():
        check_folder(path)  # a new database is never put in a folder a typo in --db would create
    return ensure_db(path)


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
    log_format: Annotated[
        str,
        typer.Option("--log-format", help="Log lines as text (UTC timestamps) or json (one object per line)."),
    ] = "text",
) -> None:
    """Forecast cloud AI spend by workload and sector; estimate when inference overtakes training."""
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    try:
        configure_logging(level, log_format)
    except ValueError as exc:
        _print_error(exc)
        raise typer.Exit(2) from None
    for noisy in ("cmdstanpy", "prophet", "distributed", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


class Advance(Protocol):
    """A progress callback: ``done`` items so far, and the total once it is known."""

    def __call__(self, done: int, total: int | None = None) -> None: ...


def _quiet(done: int, total: int | None = None) -> None:
    """The progress callback off a terminal: logs say what happens instead."""


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Advance]:
    """A rich progress bar on a terminal (nothing otherwise); yields an :class:`Advance` callback."""
    if not console.is_terminal:
        yield _quiet
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total)  # rich keeps the total when given None

        yield advance


ThresholdOption = Annotated[
    float, typer.Option("--threshold", help="Crossover when inference reaches this multiple of training.")
]
RunOption = Annotated[str, typer.Option("--run", help="Forecast run id, or latest.")]
DefinitionOption = Annotated[
    str,
    typer.Option(
        "--definition",
        help="What the inference share measures: cloud_ai_infrastructure_spend (the default), ai_compute, "
        "accelerator_or_dc_revenue, ai_dc_workloads_or_capacity, or all (every one the run answers).",
    ),
]


ModelsOption = Annotated[
    str | None,
    typer.Option(
        "--models",
        help="Comma-separated engine models to choose from, e.g. naive,drift,ets (default: the engine's full set).",
        show_default=False,
    ),
]


def model_list(models: str | None) -> list[str] | None:
    """``--models a,b`` as a list (``None``: the engine's default set)."""
    return [m.strip() for m in models.split(",") if m.strip()] if models else None
