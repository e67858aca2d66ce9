"""The public Python API for notebooks: a few stable functions over the package (``from forecasting import ...``).

Everything here is a thin call into the module that owns the concept (``vintages``, ``reports``,
``engine``, ``frames``); ``docs/api.md`` documents it with an example the tests run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import default_db_path
from .errors import NotFoundError, UnsupportedFrequencyError
from .frames import DS, FREQUENCIES, UID, detect_frequency, validate_history

if TYPE_CHECKING:
    import pandas as pd

    from .crossover import Crossover
    from .engine import ForecastResult
    from .reports.view import View
    from .vintages import RunData


def open_db(path: str | Path | None = None) -> Path:
    """The database file to read: ``path``, else ``$CROSSOVER_DB`` or the default; ``NotFoundError`` if missing.

    Nothing is created: build a database with ``forecasting init`` or ``forecasting refresh``.
    """
    db = Path(path).expanduser() if path is not None else default_db_path()
    if not db.is_file():
        raise NotFoundError(f"no database at {db}; build one with `forecasting refresh --db {db}`")
    return db


def latest_run(db: str | Path | None = None) -> RunData:
    """The latest published run (forecasts, history, status, crossovers, sample paths) of the database."""
    from .vintages import LATEST, load_run

    return load_run(open_db(db), LATEST)


def view(
    db: str | Path | None = None,
    scenario: str = "baseline",
    run: str = "latest",
    threshold: float = 1.0,
    definition: str | None = None,
) -> View:
    """A run read under a saved scenario at a threshold (the object every table is computed from)."""
    from .reports import open_view
    from .share import DEFAULT_DEFINITION

    return open_view(open_db(db), run, scenario, threshold, definition or DEFAULT_DEFINITION)


def crossover_distribution(
    db: str | Path | None = None, scenario: str = "baseline", run: str = "latest", threshold: float = 1.0
) -> dict[str, Crossover]:
    """Each sector's (and the total's) crossover distribution under ``scenario``, keyed by sector.

    A :class:`~forecasting.crossover.Crossover` has ``p10``/``p50``/``p90``, ``probability_by(date)``
    and ``prob_by_quarter``.
    """
    return view(db, scenario, run, threshold).crossovers


def table(kind: str, db: str | Path | None = None, scenario: str = "baseline", run: str = "latest") -> pd.DataFrame:
    """One of the export tables (``forecasting export KIND``): history, forecasts, crossover, probability, ..."""
    from .reports import table as report_table

    return report_table(kind, view(db, scenario, run))


def engine_frequency(history: pd.DataFrame, freq: str | None = None) -> str:
    """The engine's frequency code for ``history`` ('D', 'W', 'M', 'Q' or 'Y'), read from its dates.

    Raises :class:`UnsupportedFrequencyError` (a ``ValueError``, exit code 65) when the dates show no
    calendar frequency or ``freq`` contradicts them; a ``freq`` is taken as given when no series has
    two dates to check it against. The seasonal period follows the frequency
    (:data:`forecasting.frames.FREQUENCIES`: 7 for daily, 52 for weekly data).
    """
    from .engine.prepare import normalize_freq

    if freq is not None and history.groupby(UID)[DS].nunique().max() < 2:
        return normalize_freq(freq)
    try:
        detected = detect_frequency(history)
    except ValueError as exc:  # no series with two dates, or no calendar grid: the data's fault (exit 65)
        raise UnsupportedFrequencyError(str(exc)) from exc
    if freq is not None and normalize_freq(freq) != detected:
        word = FREQUENCIES[detected][0]
        raise UnsupportedFrequencyError(f"the dates are {word} but the frequency asked for is '{freq}'")
    return detected


def forecast_frame(
    history: pd.DataFrame,
    horizon: int,
    freq: str | None = None,
    seed: int = 0,
    models: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    transform: str | None = None,
) -> ForecastResult:
    """Forecast every series of a long frame (``unique_id``, ``ds``, ``y``) ``horizon`` periods ahead.

    The engine backtests its models per series, picks one (or a combination) and calibrates the 80%
    and 95% intervals; ``result.forecasts`` has ``unique_id, ds, model, yhat`` and the bounds. Missing
    or infinite values, missing dates, rows without an id, a boolean ``y`` and an empty frame are refused
    (``ValueError``); the frequency is read from the
    dates (:func:`engine_frequency`). ``progress`` is called with the number of series done so far.
    ``transform`` 'log' or 'none' fixes the scale every series is fitted on (the log only where every
    value is positive); None lets the engine's probe choose per series.
    """
    from .engine import ForecastOptions, forecast

    checked = validate_history(history)
    if checked.empty:
        raise ValueError("history has no rows")
    for what, bad in (
        ("missing value", checked["y"].isna()),
        ("infinite value", checked["y"].isin([float("inf"), float("-inf")])),
        ("missing date", checked[DS].isna()),
    ):
        if bad.any():
            raise ValueError(f"history has {bad.sum()} {what}(s), first in series '{checked.loc[bad, UID].iloc[0]}'")
    code = engine_frequency(checked, freq)
    return forecast(
        checked, horizon, ForecastOptions(freq=code, seed=seed, models=models, transform=transform), progress=progress
    )
