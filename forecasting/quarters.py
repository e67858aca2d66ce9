"""The one quarter vocabulary: labels, parsing, the fractional quarter axis and shifts between dates.

Spend is a quarterly flow, so every date the product shows is placed on a *quarter axis*: a date's
position is its quarter's index plus the fraction of that quarter elapsed at the date (the 1st of
January is ``q + 0``, the middle of February about ``q + 0.5``).  Crossover dates are interpolated
inside a quarter, so this axis is continuous.  Two rules follow and hold on every face:

* **shift** between two dates (:func:`shift`) is the difference of their positions: a full quarter
  later is ``+1.0`` whatever the quarter's length in days, and two dates inside one quarter differ
  by a fraction.  Reports round it to two decimals; screens and tables show one.
* **crossed by a quarter** means crossed by that quarter's *end* (:func:`end`): a quarter's spend
  is complete only when it ends.

Labels: ``2028Q1`` in files and on the command line (:func:`label`), ``2028 Q1`` in prose
(:func:`text`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeAlias

import numpy as np
import pandas as pd

#: What :func:`text` says for a date that does not exist (beyond the forecast horizon).
BEYOND = "beyond the horizon"

#: Quarter labels :func:`parse` reads: ``2028Q1``, ``2028-Q1``, ``2028 Q1`` and ``Q1 2028`` (any case).
LABEL = re.compile(r"^\s*(?:(\d{4})\s*-?\s*Q([1-4])|Q([1-4])\s*-?\s*(\d{4}))\s*$", re.IGNORECASE)

#: Anything that names a quarter: a date, a timestamp or a label.
When: TypeAlias = "pd.Timestamp | dt.date | str"


def from_label(text: str) -> pd.Period | None:
    """The quarter a label names (``2028Q1``, ``2028-Q1``, ``2028 Q1``, ``Q1 2028``), else ``None``."""
    m = LABEL.match(text)
    if not m:
        return None
    year, q = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    return pd.Period(year=int(year), quarter=int(q), freq="Q")


def parse(when: When) -> pd.Period:
    """The quarter holding ``when``: a date, a timestamp or a label such as ``2028Q1`` or ``Q1 2028``.

    Raises ``ValueError`` for text that is neither a quarter label nor an ISO date.
    """
    if isinstance(when, str):
        labelled = from_label(when)
        if labelled is not None:
            return labelled
        try:
            when = pd.Timestamp(when.strip())
        except ValueError as exc:
            raise ValueError(f"not a quarter or a date: {when!r} (expected e.g. 2028Q1 or 2028-02-15)") from exc
    if pd.isna(when):
        raise ValueError("a missing date has no quarter")
    return pd.Timestamp(when).to_period("Q")


def label(when: When) -> str:
    """``2024-07-01`` -> ``2024Q3``: the label of files, exports and the command line."""
    p = parse(when)
    return f"{p.year}Q{p.quarter}"


def text(when: When | None) -> str:
    """``2025-07-01`` -> ``2025 Q3`` for prose and screens; ``None`` or NaT -> ``beyond the horizon``."""
    if when is None or (not isinstance(when, str) and pd.isna(when)):
        return BEYOND
    p = parse(when)
    return f"{p.year} Q{p.quarter}"


def start(when: When) -> pd.Timestamp:
    """The first day of the quarter holding ``when``."""
    return parse(when).start_time


def end(when: When) -> pd.Timestamp:
    """The last day of the quarter holding ``when`` (its end, where a quarter's spend is complete)."""
    return parse(when).end_time.normalize()


def middle(when: When) -> pd.Timestamp:
    """The middle day of the quarter holding ``when``: "cross in 2028 Q1" is best aimed there."""
    p = parse(when)
    first, after = p.start_time, (p + 1).start_time
    return (first + (after - first) / 2).normalize()


def _index(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[M]").astype(np.int64) // 3


def _first_day(qidx: np.ndarray) -> np.ndarray:
    return (np.asarray(qidx) * 3).astype("datetime64[M]").astype("datetime64[ns]")


def offsets(dates: pd.DatetimeIndex | np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    """Positions of ``dates`` on the quarter axis, counted from the start of ``origin``'s quarter."""
    d = np.asarray(dates, dtype="datetime64[ns]")
    qidx = _index(d)
    first, after = _first_day(qidx), _first_day(qidx + 1)
    origin_q = _index(np.asarray([origin], dtype="datetime64[ns]"))[0]
    return (qidx - origin_q) + (d - first) / (after - first)


_DAY_NS = 86_400 * 10**9


def to_date(q: float, origin: pd.Timestamp) -> pd.Timestamp | None:
    """Inverse of :func:`offsets` for one position, rounded to the day; ``None`` for inf or NaN."""
    if not np.isfinite(q):
        return None
    whole = int(np.floor(q))
    qidx = _index(np.asarray([origin], dtype="datetime64[ns]"))[0] + whole
    first = int(_first_day(qidx).astype(np.int64))
    after = int(_first_day(qidx + 1).astype(np.int64))
    ns = int(first + round((q - whole) * (after - first)))
    return pd.Timestamp((ns + _DAY_NS // 2) // _DAY_NS * _DAY_NS)


def shift(a: pd.Timestamp | None, b: pd.Timestamp | None) -> float | None:
    """Quarters from date ``a`` to date ``b`` on the quarter axis (positive when ``b`` is later).

    ``None`` when either date is missing (a crossover beyond the horizon has no date).  Rounded to
    two decimals: dates are whole days, so finer digits would be noise.
    """
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    ta, tb = pd.Timestamp(a), pd.Timestamp(b)
    return round(float(offsets(pd.DatetimeIndex([tb]), ta)[0] - offsets(pd.DatetimeIndex([ta]), ta)[0]), 2)
