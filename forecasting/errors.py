"""Exceptions raised by the forecasting package.

Every error the package raises on purpose derives from :class:`ForecastingError`, so the CLI
and the dashboard can catch one type, show its message and exit cleanly.  Pure functions raise
plain ``ValueError`` for bad arguments.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass


class ForecastingError(Exception):
    """Base class for errors that carry a message meant for the user."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One validation finding: where it is (1-based data row, or None for the file) and what."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class ValidationError(ForecastingError):
    """Input data failed validation; ``problems`` lists every finding at once."""

    exit_code = 65  # EX_DATAERR

    def __init__(self, problems: list[Problem], what: str = "input") -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:1000])
        more = f"\n  ... and {len(problems) - 1000} more" if len(problems) > 1000 else ""
        super().__init__(f"{what} failed validation with {len(problems)} problem(s):\n{shown}{more}")


class DatabaseBusyError(ForecastingError):
    """The database file is locked by another process for longer than we are willing to wait."""

    exit_code = 75  # EX_TEMPFAIL


class RefreshInProgressError(ForecastingError):
    """Another refresh holds the refresh lock; this one exits without touching anything."""

    exit_code = 75  # EX_TEMPFAIL


class PublishRefusedError(ForecastingError):
    """A refresh computed a vintage but a publication gate refused it (e.g. restated history)."""

    exit_code = 65


class NotFoundError(ForecastingError):
    """A named object (scenario, run, series) does not exist."""

    exit_code = 66  # EX_NOINPUT


class DatabaseDamagedError(ForecastingError):
    """The database file is damaged, truncated or not a Crossover (DuckDB) database; nothing was written."""

    exit_code = 65  # EX_DATAERR


class NewerDatabaseError(ForecastingError):
    """The database was written by a newer version of this package (a schema version it does not know)."""

    exit_code = 65  # EX_DATAERR


class UnsupportedFrequencyError(ForecastingError, ValueError):
    """The data's dates are at a frequency the forecast engine cannot fit, or not the one asked for.

    A ``ValueError`` too, which the Python API documents for dates it cannot read a frequency from.
    """

    exit_code = 65  # EX_DATAERR


class DatabaseExistsError(ForecastingError):
    """``init`` found a database at the path and was not told to replace it (``--force``)."""

    exit_code = 1


class FileSystemError(ForecastingError):
    """A file or folder could not be read or written (missing, full, read-only); the message names the path.

    Exit 66 when the file or folder does not exist, 1 otherwise (full disk, permissions, a read-only
    file system, a damaged medium).
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def of(cls, exc: OSError, message: str) -> FileSystemError:
        """``message`` about ``exc``, with exit 66 when the file or a folder on its path does not exist."""
        return cls(message, 66 if exc.errno in (errno.ENOENT, errno.ENOTDIR) else 1)


class ClusterError(ForecastingError):
    """The Dask cluster cannot run the fits: its scheduler is unreachable or its machines lack the package."""

    exit_code = 69  # EX_UNAVAILABLE


#: Exit status of a command interrupted by Ctrl-C (SIGINT) or stopped by SIGTERM: 128 + the signal.
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class ImportRefusedError(ValidationError):
    """An import was refused; ``problems`` holds the first ones by row and ``total`` counts every one."""

    def __init__(self, problems: list[Problem], what: str = "input", total: int | None = None) -> None:
        super().__init__(problems, what)
        self.total = len(problems) if total is None else total
        if self.total > len(problems):
            shown = "\n".join(f"  - {p}" for p in problems)
            self.args = (
                f"{what} failed validation with {self.total:,} problems; the first {len(problems):,} by row:\n{shown}",
            )


class ImportUndoError(ForecastingError):
    """An import cannot be undone (already undone, a later import changed its rows, or a sector would break)."""

    exit_code = 65


class PermissionDeniedError(ForecastingError):
    """The signed-in user's role does not allow this change (the dashboard's write guard)."""

    exit_code = 77  # EX_NOPERM


class MissingExtraError(ForecastingError):
    """A feature needs an optional extra that is not installed; the message names the pip command."""
