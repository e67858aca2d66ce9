"""Column contracts for the frames that pass between modules.

History follows statsforecast's long format (``unique_id``, ``ds``, ``y``); forecasts are long
with Prophet-style names plus the interval level in the bound columns.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

UID, DS, Y = "unique_id", "ds", "y"
MODEL, YHAT = "model", "yhat"
LO80, HI80, LO95, HI95 = "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"

HISTORY_COLUMNS = [UID, DS, Y]
FORECAST_COLUMNS = [UID, DS, MODEL, YHAT, LO80, HI80, LO95, HI95]

#: Columns of the spend history as stored and shipped (``data/spend_history.csv``).
SPEND_COLUMNS = ["period", "sector", "region", "workload", "spend_usd", "provenance", "source_ids", "method"]


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "frame") -> None:
    """Raise ``ValueError`` naming every missing column of ``df``."""
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
    if not pd.api.types.is_numeric_dtype(out[Y]):
        raise ValueError(f"history column '{Y}' must be numeric, got {out[Y].dtype}")
    out[UID] = out[UID].astype(str)
    out[Y] = out[Y].astype(float)
    if out.duplicated([UID, DS]).any():
        raise ValueError(f"history has duplicate ({UID}, {DS}) pairs")
    return out.sort_values([UID, DS], ignore_index=True)
