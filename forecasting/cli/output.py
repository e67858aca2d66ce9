"""Where the command line's output goes: tables, files or ``-``, and log lines.

One home for three rules every command follows:

* a table prints as a rich table on a terminal and as plain tab-separated text off one (never
  wrapped at 80 columns in a pipe), or as ``--format csv|json|parquet`` when asked; Parquet is
  bytes, so it is refused on a terminal;
* ``-`` as an output file means stdout and as an input file stdin;
* log lines carry a UTC timestamp and never wrap; ``--log-format json`` writes one JSON object per
  line (``time``, ``level``, ``logger``, ``message``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

#: What ``--format`` accepts on commands that print tables.
TABLE_FORMATS = ("csv", "json", "parquet")
#: What ``--log-format`` accepts.
LOG_FORMATS = ("text", "json")
#: The file name that means stdout (for ``-o``) or stdin (for an input file).
STDIO = "-"

console = Console(stderr=True, soft_wrap=True)
#: Messages and tables carry user text (scenario, file and sector names): printed as written, never read as
#: rich markup or emoji codes (``[/x]`` would raise after the change it reports had been committed).
out = Console(soft_wrap=True, markup=False, emoji=False)

#: ``--format`` of commands that write a file (exports, forecasts): the file's format.
FileFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="csv, parquet, xlsx or json (default: by the output file's extension, else csv).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Print tables as csv, json or parquet (bytes; not to a terminal). Default: a table on a terminal, "
        "tab-separated text otherwise.",
        show_default=False,
    ),
]


def is_stdio(path: Path | str | None) -> bool:
    """Whether ``path`` is ``-`` (stdout for an output, stdin for an input)."""
    return path is not None and str(path) == STDIO


def check_format(fmt: str | None, choices: tuple[str, ...] = TABLE_FORMATS, option: str = "--format") -> str | None:
    """``fmt`` lower-cased, or ``ValueError`` naming ``option`` and the choices."""
    if fmt is None:
        return None
    value = fmt.strip().lower()
    if value not in choices:
        raise ValueError(f"{option} must be one of {', '.join(choices)}; got '{fmt}'")
    return value


def _stdout_is_terminal() -> bool:
    return out.is_terminal


#: Formats that are bytes, not text: never written to a terminal.
BINARY_FORMATS = ("parquet", "xlsx")


def refuse_binary_on_terminal(fmt: str, path: Path | str = STDIO) -> None:
    """``ValueError`` when ``fmt`` is a binary format bound for stdout and stdout is a terminal."""
    if fmt in BINARY_FORMATS and is_stdio(path) and _stdout_is_terminal():
        raise ValueError(f"--format {fmt} writes bytes; redirect stdout to a file or a pipe")


def check_folder(path: Path | str | None) -> None:
    """Refuse (exit 66) a file ``path`` in a folder that does not exist: output never creates folders.

    Commands call it before their work, so a typo in ``-o`` fails at once rather than after a long fit.
    """
    if path is None or is_stdio(path):
        return
    folder = Path(path).parent
    if not folder.is_dir():
        from ..errors import FileSystemError

        raise FileSystemError(f"cannot write into {folder}: no such folder; create it first", 66)


def refuse_overwriting(output: Path | str | None, kept: Path | str, what: str) -> None:
    """``ValueError`` when ``output`` is the file ``kept`` (``what``: "the database", "the input file").

    Writing there would destroy it: ``export -o crossover.duckdb`` replaced the database with a CSV.
    The same file by another name (a symbolic or hard link, a relative path) counts.
    """
    if output is None or is_stdio(output) or is_stdio(kept):
        return
    target, keep = Path(output), Path(kept)
    if target.resolve() == keep.resolve() or (target.exists() and keep.exists() and target.samefile(keep)):
        raise ValueError(f"{output} is {what}; writing there would destroy it, so name another file")


def write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to the file ``path`` (its folder must exist), or to stdout when ``path`` is ``-``."""
    if is_stdio(path):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from ..export import write_file  # whole or not at all: a full disk leaves no truncated file

    check_folder(path)
    write_file(path, data)


def read_bytes(path: Path | str) -> bytes:
    """The bytes of the file ``path``, or of stdin when ``path`` is ``-``.

    A file that cannot be read is a :class:`~forecasting.errors.FileSystemError` naming it: exit 66
    when it does not exist, else 1.
    """
    if is_stdio(path):
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        from ..errors import FileSystemError

        raise FileSystemError.of(exc, f"cannot read {path}: {exc.strerror or exc}") from exc


def note(message: str, output: Path | str | None = None) -> None:
    """A one-line status message: on stdout, or on stderr when stdout carries the data (``-o -``)."""
    (console if is_stdio(output) else out).print(message, highlight=False, markup=False)


def _plain(df: pd.DataFrame) -> str:
    """Tab-separated text with a header: one line per row, never wrapped, tabs and newlines in cells made spaces."""

    def clean(value: object) -> str:
        return "" if value is None else str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")

    lines = ["\t".join(clean(c) for c in df.columns)]
    lines += ["\t".join(clean(v) for v in row) for row in df.itertuples(index=False, name=None)]
    return "\n".join(lines) + "\n"


def print_table(df: pd.DataFrame, title: str | None = None, fmt: str | None = None) -> None:
    """Print a frame: ``fmt`` if given, else a rich table on a terminal or tab-separated text off one.

    Off a terminal the title goes to stderr, so stdout holds only the header and the rows.
    """
    fmt = check_format(fmt)
    if fmt is not None:
        from .. import export  # the file writers (CSV formula-safe); imported only when a format is asked for

        refuse_binary_on_terminal(fmt)
        write_bytes(STDIO, export.frame_bytes(df, fmt))
        return
    if not _stdout_is_terminal():
        if title:
            note(title, STDIO)  # the data stays plain; the title still reaches the person at the pipe
        sys.stdout.write(_plain(df))
        sys.stdout.flush()
        return
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")  # a narrow terminal wraps cells, never cuts them
    for row in df.itertuples(index=False):
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC ISO 8601), ``level``, ``logger``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback, if any, in ``exc``)."""
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-12-01T19:30:00.123Z INFO forecasting.refresh: message`` (UTC)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        """The record's time in UTC, ISO 8601 with milliseconds and a Z."""
        stamp = datetime.fromtimestamp(record.created, timezone.utc)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def log_handler(log_format: str = "text") -> logging.Handler:
    """The handler for the command's logs on stderr: rich with times on a terminal, else unwrapped lines."""
    fmt = check_format(log_format, LOG_FORMATS, "--log-format")
    if fmt == "text" and console.is_terminal:
        return RichHandler(console=console, show_path=False, show_time=True, omit_repeated_times=False)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def configure_logging(level: int, log_format: str = "text") -> None:
    """Route every log record at ``level`` or above to stderr in ``log_format`` (text or json)."""
    logging.basicConfig(level=level, format="%(message)s", handlers=[log_handler(log_format)], force=True)
