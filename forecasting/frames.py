"""Column contracts for the frames that pass between modules.

History follows statsforecast's long format (``unique_id``, ``ds``, ``y``); forecasts are long
with Prophet-style names plus the interval level in the bound columns.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .import_policy import separator_hint

UID, DS, Y = "unique_id", "ds", "y"
MODEL, YHAT = "model", "yhat"
LO80, HI80, LO95, HI95 = "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"

HISTORY_COLUMNS = [UID, DS, Y]
FORECAST_COLUMNS = [UID, DS, MODEL, YHAT, LO80, HI80, LO95, HI95]
#: How a series' status message names the engine's naive fallback: a random walk with no trend whose spread
#: comes from a few step changes, or is assumed (a series too short for the models, or one none could fit).
NAIVE_FALLBACK = "naive forecast with Gaussian intervals"

#: Columns of the spend history as stored and shipped (``data/spend_history.csv``).
SPEND_COLUMNS = ["period", "sector", "region", "workload", "spend_usd", "provenance", "source_ids", "method"]


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "frame") -> None:
    """Raise ``ValueError`` naming every missing column of ``df`` (or saying that ``df`` is no frame)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(df.columns)}")


def validate_history(df: pd.DataFrame) -> pd.DataFrame:
    """Check a long history frame and return it sorted, with ``ds`` as datetime and ``y`` float."""
    require_columns(df, HISTORY_COLUMNS, "history")
    out = df[HISTORY_COLUMNS].copy()
    if not pd.api.types.is_datetime64_any_dtype(out[DS]):
        try:
            out[DS] = pd.to_datetime(out[DS])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"history column '{DS}' must be datetime-like: {exc}") from exc
    if not pd.api.types.is_numeric_dtype(out[Y]) or pd.api.types.is_bool_dtype(out[Y]):
        raise ValueError(f"history column '{Y}' must be numeric, got {out[Y].dtype}")
    _, no_ids = _id_problems(out[UID].reset_index(drop=True), pd.RangeIndex(len(out)), UID)
    if no_ids:  # as text, a missing id would become a series of its own named 'None' or 'nan'
        raise ValueError(f"history has {len(no_ids)} row(s) without a {UID}, the first at position {no_ids[0].row}")
    out[UID] = out[UID].astype(str)
    out[Y] = out[Y].astype(float)
    if out.duplicated([UID, DS]).any():
        raise ValueError(f"history has duplicate ({UID}, {DS}) pairs")
    return out.sort_values([UID, DS], ignore_index=True)


# --------------------------------------------------------------------------- series files

#: Calendar frequencies by the usual gap in days between consecutive dates of a series: code, word,
#: periods per seasonal cycle.
FREQUENCIES = {
    "D": ("daily", 7, (1, 1)),
    "W": ("weekly", 52, (7, 7)),
    "M": ("monthly", 12, (28, 31)),
    "Q": ("quarterly", 4, (89, 92)),
    "Y": ("yearly", 1, (365, 366)),
}
#: Months per period of the frequencies whose dates step by calendar months (the engine's grid).
PERIOD_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_PERIOD_WORDS = {"M": "month", "Q": "quarter", "Y": "year"}
_MISSING_WORDS = ("", "na", "nan", "n/a", "null", "none", "-")
PARQUET_MAGIC = b"PAR1"


def read_table(data: bytes, name: str = "input") -> pd.DataFrame:
    """A CSV (UTF-8) or Parquet file's rows as a frame whose index is each row's number.

    Rows are numbered as ``forecasting import`` numbers them (docs/data.md): as a spreadsheet does,
    the header is row 1 and every record counts, blank ones included (they are left out, not refused);
    a Parquet file's first record is row 2, as if a header row were there. CSV cells stay text (so a
    value like ``12a`` can be reported, not coerced). :class:`ValidationError` (exit 65) when the bytes
    are neither.
    """
    if not data.strip():
        raise ValidationError([Problem(None, None, "file is empty")], name)
    frame = _parquet_rows(data, name) if data[:4] == PARQUET_MAGIC else _csv_rows(data, name)
    blank = frame.isna() | frame.astype(str).apply(lambda column: column.str.strip().eq(""))
    return frame[~blank.all(axis=1)]


def _parquet_rows(data: bytes, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(None, None, f"cannot read it as Parquet: {exc}")], name) from exc
    return frame.set_axis(pd.RangeIndex(2, 2 + len(frame)))


def _csv_rows(data: bytes, name: str) -> pd.DataFrame:
    try:
        lines = data.decode("utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError as exc:
        problem = f"neither UTF-8 CSV nor Parquet (byte {exc.start} is not UTF-8)"
        raise ValidationError([Problem(None, None, problem)], name) from exc
    lead = next((i for i, line in enumerate(lines) if line.strip(" \t\r\n,")), len(lines))  # blanks above the header
    try:
        text = io.StringIO("".join(lines[lead:]))
        frame = pd.read_csv(text, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError([Problem(None, None, f"cannot read it as CSV: {exc}")], name) from exc
    return frame.set_axis(pd.RangeIndex(lead + 2, lead + 2 + len(frame)))


def _value_problems(values: pd.Series, rows: pd.Index, column: str) -> tuple[pd.Series, list[Problem]]:
    """Values as floats, and a problem for each missing, non-numeric or infinite one."""
    text = values.astype("string").str.strip()
    missing = values.isna() | text.str.lower().isin(_MISSING_WORDS).fillna(True)
    # Booleans count as numbers to pandas; a Parquet column of True/False is refused like CSV's "True".
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    numbers = pd.to_numeric(values if numeric else text, errors="coerce")
    numbers = numbers.astype(float)
    problems = []
    for row, is_missing, number, raw in zip(rows, missing, numbers, text, strict=True):
        if is_missing:
            problems.append(Problem(int(row), column, "missing value; fill it or drop the row"))
        elif np.isnan(number):
            problems.append(Problem(int(row), column, f"'{raw}' is not a number"))
        elif np.isinf(number):
            problems.append(Problem(int(row), column, f"'{raw}' is not a finite number"))
    return numbers, problems


def _id_problems(values: pd.Series, rows: pd.Index, column: str) -> tuple[pd.Series, list[Problem]]:
    """Series ids as stripped text, and a problem for each empty or missing one.

    Only an empty cell (or a Parquet null) is missing: words like ``NA`` can name a series (North America).
    """
    missing = values.isna().to_numpy()
    ids = values.astype(str).str.strip().where(~missing, "")
    problems = [Problem(int(row), column, "missing series id; fill it or drop the row") for row in rows[ids.eq("")]]
    return ids, problems


def _clock_time(text: str) -> pd.Timestamp:
    """The date and time ``text`` shows, without its UTC offset (NaT if it is no date)."""
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tz is not None else stamp


def _date_problems(values: pd.Series, rows: pd.Index, column: str) -> tuple[pd.Series, list[Problem]]:
    """Dates parsed, and a problem for each empty or unparseable one."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:
        text = values.astype("string").str.strip()
        with warnings.catch_warnings():  # pandas' notice about mixed UTC offsets, which are handled below
            warnings.simplefilter("ignore", FutureWarning)
            dates = pd.to_datetime(text, errors="coerce", format="mixed")
        if not pd.api.types.is_datetime64_any_dtype(dates):  # offsets differ (daylight saving): clock times
            dates = pd.to_datetime(text.map(_clock_time, na_action="ignore"), errors="coerce")
    problems = [
        Problem(int(row), column, f"cannot read '{raw}' as a date (use e.g. 2024-03-31)")
        for row, date, raw in zip(rows, dates, values, strict=True)
        if pd.isna(date)
    ]
    return dates, problems


def read_history(raw: pd.DataFrame, columns: tuple[str, str, str] = (UID, DS, Y), name: str = "input") -> pd.DataFrame:
    """A long history frame (unique_id, ds, y) from a file's rows (:func:`read_table`), refusing every bad row at once.

    ``columns`` names the file's id, date and value columns, ``name`` the file. Raises :class:`ValidationError` listing
    every missing column, missing or non-numeric value, unreadable date and duplicate (id, date),
    each with its row number (``raw``'s index); nothing is dropped silently.
    """
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        found = f"the file has {list(raw.columns)}{''.join(separator_hint(str(c)) for c in raw.columns[:1])}"
        raise ValidationError([Problem(None, c, f"no such column; {found}") for c in missing], name)
    if raw.empty:
        raise ValidationError([Problem(None, None, "no data rows")], name)
    id_col, date_col, value_col = columns
    rows = pd.Index(raw.index)
    dates, problems = _date_problems(raw[date_col].reset_index(drop=True), rows, date_col)
    values, value_problems = _value_problems(raw[value_col].reset_index(drop=True), rows, value_col)
    ids, id_problems = _id_problems(raw[id_col].reset_index(drop=True), rows, id_col)
    history = pd.DataFrame({UID: ids.to_numpy(), DS: dates, Y: values})
    dup = history.duplicated([UID, DS], keep=False) & history[DS].notna() & history[UID].ne("")
    problems += value_problems + id_problems
    problems += [
        Problem(int(r), date_col, f"second row for series '{u}' on {d:%Y-%m-%d}")
        for r, u, d in zip(rows[dup.to_numpy()], history.loc[dup, UID], history.loc[dup, DS], strict=True)
    ]
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")), name)
    return history.sort_values([UID, DS], ignore_index=True)


def detect_frequency(history: pd.DataFrame) -> str:
    """'D', 'W', 'M', 'Q' or 'Y' (:data:`FREQUENCIES`) read from the dates of a long history frame.

    Dates that count off one calendar month (quarter, year) at a time, whatever the day, are monthly
    (quarterly, yearly): see :func:`_calendar_frequency`. Otherwise the most common gap in days
    decides. ``ValueError`` when no series has two dates, the usual gap matches no calendar frequency,
    a series is of another frequency than the file's, or a series has two dates in one period.
    """
    ordered = history.sort_values([UID, DS])
    gaps = ordered.groupby(UID)[DS].diff().dt.days.set_axis(ordered[UID].to_numpy()).dropna()
    gaps = gaps[gaps > 0]
    if gaps.empty:
        raise ValueError("cannot tell the frequency: no series has two dates; pass --freq")
    calendar = _calendar_frequency(ordered)
    if calendar is not None:
        return calendar
    gap = int(gaps.mode().iloc[0])
    code = _grid_of(gap)
    if code is None:
        raise ValueError(
            f"dates are usually {gap} days apart, which is no daily, weekly, monthly, quarterly or yearly grid"
        )
    _refuse_mixed_frequencies(gaps, code)
    if code in PERIOD_MONTHS:
        _refuse_two_dates_in_a_period(ordered, code)
    return code


def _grid_of(gap: int) -> str | None:
    """The frequency (:data:`FREQUENCIES`) whose step ``gap`` days is, if any."""
    return next((code for code, (_, _, (low, high)) in FREQUENCIES.items() if low <= gap <= high), None)


def usual_steps(steps: pd.Series) -> pd.Series:
    """Each series' most common step, for the series with two steps or more, in id order.

    ``steps`` holds numbers indexed by series id. Ties go to the smallest step, as with
    ``Series.mode``; one count of every (series, step) pair instead of a mode per series, which
    took half a second per 10,000 series.
    """
    pairs = pd.DataFrame({UID: steps.index, "step": steps.to_numpy()})
    counts = pairs.groupby([UID, "step"]).size().rename("n").reset_index()
    counts = counts.sort_values([UID, "n", "step"], ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates(UID)
    usual = pd.Series(first["step"].to_numpy().astype(int), index=pd.Index(first[UID].to_numpy()), name=None)
    sizes = pairs.groupby(UID).size()
    return usual[sizes.reindex(usual.index).to_numpy() >= 2]


def _refuse_mixed_frequencies(gaps: pd.Series, code: str) -> None:
    """``ValueError`` naming the series whose own usual step (over 2+ steps) is of another frequency than ``code``.

    ``gaps`` holds the days between consecutive dates, indexed by series. Forecast at the file's
    frequency, a quarterly series in a monthly file would have two of every three months filled in.
    """
    grids = {uid: _grid_of(gap) for uid, gap in usual_steps(gaps).items()}
    _refuse_others(code, {uid: grid for uid, grid in grids.items() if grid is not None and grid != code})


def _refuse_others(code: str, other: dict[str, str]) -> None:
    """``ValueError`` naming (up to five of) the series ``other`` maps to a frequency unlike the file's ``code``."""
    if other:
        named = ", ".join(f"'{uid}' ({FREQUENCIES[grid][0]})" for uid, grid in list(other.items())[:5])
        more = f" and {len(other) - 5} more" if len(other) > 5 else ""
        verb = "is" if len(other) == 1 else "are"
        raise ValueError(
            f"mixed frequencies: most series are {FREQUENCIES[code][0]}, but {named}{more} {verb} not; "
            "forecast one frequency per file"
        )


# --------------------------------------------------------------------------- calendar periods


def _months(ordered: pd.DataFrame) -> pd.Series:
    """Each date's month number (year * 12 + month - 1), whatever its day."""
    return ordered[DS].dt.year * 12 + ordered[DS].dt.month - 1


def _period_steps(ordered: pd.DataFrame, code: str) -> pd.Series:
    """Periods (months, quarters or years by number) between consecutive dates, indexed by series."""
    periods = _months(ordered) // PERIOD_MONTHS[code]
    return periods.groupby(ordered[UID].to_numpy()).diff().set_axis(ordered[UID].to_numpy()).dropna()


def _calendar_frequency(ordered: pd.DataFrame) -> str | None:
    """'M', 'Q' or 'Y' when the dates count off calendar periods by number, whatever the day; else None.

    The rule, for months (quarters, years): no series has two dates in one month, the most common
    step over the file is one month, and some series has three dates or more. Daily or weekly data
    never passes: three consecutive days or weeks always put two dates in one month. Two dates
    alone (31 January, 1 February) could be either, so the gap in days decides for such files.
    Raises ``ValueError`` for a series of another frequency, or quarterly (yearly) dates that fall
    in different months of their quarters (years), which the engine's grid cannot place.
    """
    if ordered.groupby(UID).size().max() < 3:
        return None
    for code, months in PERIOD_MONTHS.items():
        steps = _period_steps(ordered, code)
        if steps.min() >= 1 and int(steps.mode().iloc[0]) == 1:
            grids = {uid: _step_grid(step * months) for uid, step in usual_steps(steps).items()}
            _refuse_others(code, {uid: grid for uid, grid in grids.items() if grid is not None and grid != code})
            _refuse_months_off_the_grid(ordered, code)
            return code
    return None


def _step_grid(months: int) -> str | None:
    """The frequency whose step is ``months`` calendar months, if any."""
    return next((code for code, step in PERIOD_MONTHS.items() if step == months), None)


def _refuse_months_off_the_grid(ordered: pd.DataFrame, code: str) -> None:
    """``ValueError`` naming a series whose quarterly (yearly) dates lie in different months of their periods."""
    months = _months(ordered)
    offset = (months - months.groupby(ordered[UID].to_numpy()).transform("first")) % PERIOD_MONTHS[code]
    off = ordered[offset.to_numpy() != 0]
    if len(off):
        uid, word = off[UID].iloc[0], _PERIOD_WORDS[code]
        first = ordered.loc[ordered[UID] == uid, DS].iloc[0]
        raise ValueError(
            f"series '{uid}' is {FREQUENCIES[code][0]} but its dates fall in different months of their "
            f"{word}s ({first:%Y-%m-%d}, {off[DS].iloc[0]:%Y-%m-%d}); date every {word} in the same month, "
            f"e.g. on its last day"
        )


def _refuse_two_dates_in_a_period(ordered: pd.DataFrame, code: str) -> None:
    """``ValueError`` naming a series with two dates in one month (quarter, year) of a ``code`` file.

    The engine places monthly dates by month number, so the second date of a month would be
    forecast as if it were the next month's.
    """
    ids = ordered[UID].to_numpy()
    twice = ((_months(ordered) // PERIOD_MONTHS[code]).groupby(ids).diff() == 0).to_numpy()
    if twice.any():
        at, word = int(np.argmax(twice)), _PERIOD_WORDS[code]
        uid, before, second = ids[at], ordered[DS].iloc[at - 1], ordered[DS].iloc[at]
        raise ValueError(
            f"series '{uid}' has two dates in one {word} ({before:%Y-%m-%d}, {second:%Y-%m-%d}); "
            f"{FREQUENCIES[code][0]} data needs one date per {word}"
        )
