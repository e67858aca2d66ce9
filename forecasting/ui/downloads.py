"""Downloads in the unit the screen shows: spend in USD billions, rounded; CSV, Excel or Parquet bytes.

Every chart draws money in billions of US dollars, so a download of what a chart or table shows carries
the same unit: columns of US dollars (named ``*_usd``, or listed by the caller) become ``*_usd_bn``,
rounded to 4 decimals (USD 0.1 million).  ``forecasting export`` on the command line keeps dollars.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import pandas as pd

from .. import export
from .charts import BILLION  # money on screen: billions of US dollars, as on every chart

UNIT_SUFFIX = "_usd_bn"
#: Decimals of money in USD billions (0.1 million) and of other numbers in a download.
MONEY_DECIMALS = 4
OTHER_DECIMALS = 4
#: File formats offered, with their MIME types; Excel only when ``openpyxl`` is installed.
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def formats() -> list[str]:
    """The formats this installation can write (Excel needs the optional ``openpyxl``)."""
    return [f for f in FORMATS if f != "xlsx" or importlib.util.find_spec("openpyxl") is not None]


def in_shown_units(frame: pd.DataFrame, spend: Sequence[str] = ()) -> pd.DataFrame:
    """``frame`` with its US-dollar columns (``*_usd`` and ``spend``) in USD billions, floats rounded."""
    out = frame.copy()
    names: dict[str, str] = {}
    for col in out.columns:
        name = str(col)
        if name.endswith("_usd") or name in spend:
            out[col] = (out[col].astype(float) / BILLION).round(MONEY_DECIMALS)
            names[name] = name.removesuffix("_usd") + UNIT_SUFFIX
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(OTHER_DECIMALS)
    return out.rename(columns=names)


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The frame as a file in ``fmt`` (CSV and Excel formula-safe; :func:`forecasting.export.frame_bytes`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of {list(FORMATS)}")
    return export.frame_bytes(frame, fmt)
