"""The ``forecasting`` command line: a thin typer face over the package.

Each command gathers its arguments, calls one package function and reports the result.  Errors
the package raises on purpose (``ForecastingError``) are printed without a traceback and exit with
the error's code (1 by default, 2 for a bad argument, 65 for invalid data, 75 when the database or
the refresh lock is busy).  ``app.py`` holds the app and the shared options; each other module
one group of commands.
"""

from __future__ import annotations

from . import backtests, data, runs, scenarios, serve  # noqa: F401  (importing registers the commands)
from .app import app, console, out, progress_bar

__all__ = ["app", "console", "main", "out", "progress_bar"]


def main() -> None:
    """Console-script entry point."""
    app()
