"""Spend tables from sample paths and history: fans, shares, calendar years, realised errors.

Every spend figure under a scenario comes from the joint sample paths rather than the stored
per-series intervals, so the total market, annual sums, the inference share, every scenario and
the forecasts export come from one consistent set of draws and one quantile function.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import TOTAL, WORKLOADS, series_id
from ..frames import DS, UID, Y
from ..paths import SamplePaths

#: Quantile columns of a fan frame and the probability each one stands for.
QUANTILES = {"p025": 0.025, "p10": 0.10, "p50": 0.50, "p90": 0.90, "p975": 0.975}
FAN_COLUMNS = ["ds", "workload", *QUANTILES]
HISTORY_WIDE_COLUMNS = ["ds", "training", "inference", "share"]


def quantiles(values: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles over axis 0 of a (n_paths, H) array, one array per :data:`QUANTILES` column."""
    qs = np.quantile(values, list(QUANTILES.values()), axis=0)
    return dict(zip(QUANTILES, qs, strict=True))


def fan_frame(paths: SamplePaths, sector: str = TOTAL) -> pd.DataFrame:
    """Quarterly forecast quantiles per workload of a sector (or the total): ``FAN_COLUMNS``."""
    values = paths.of(sector)
    parts = [
        pd.DataFrame({"ds": paths.periods, "workload": w, **quantiles(values[:, i, :])})
        for i, w in enumerate(WORKLOADS)
    ]
    return pd.concat(parts, ignore_index=True)[FAN_COLUMNS]


def history_wide(paths: SamplePaths, sector: str = TOTAL) -> pd.DataFrame:
    """Observed ``ds, training, inference, share`` of a sector; the total sums quarters all sectors report."""
    hist = paths.history
    if len(hist) == 0:
        return pd.DataFrame(columns=HISTORY_WIDE_COLUMNS)
    parts = hist[UID].str.rpartition("/")
    frame = pd.DataFrame({"sector": parts[0], "workload": parts[2], "ds": pd.to_datetime(hist[DS]), "y": hist[Y]})
    if sector == TOTAL:
        frame = frame[frame["sector"].isin(paths.sectors)]
        complete = frame.groupby(["workload", "ds"])["sector"].transform("nunique") == len(paths.sectors)
        frame = frame[complete]
    else:
        frame = frame[frame["sector"] == sector]
    wide = frame.pivot_table(index="ds", columns="workload", values="y", aggfunc="sum")
    wide = wide.reindex(columns=list(WORKLOADS)).dropna().reset_index()
    wide = wide[wide["ds"] < paths.periods[0]]
    wide["share"] = wide["inference"] / (wide["training"] + wide["inference"])
    return wide[HISTORY_WIDE_COLUMNS].reset_index(drop=True)


def share_fan(paths: SamplePaths, sector: str = TOTAL) -> pd.DataFrame:
    """Quantiles of the inference share ``inference / (training + inference)`` per forecast quarter."""
    values = paths.of(sector)
    total = values[:, 0, :] + values[:, 1, :]
    share = np.divide(values[:, 1, :], total, out=np.full_like(total, np.nan), where=total > 0)
    out = pd.DataFrame({"ds": paths.periods, **quantiles(np.nan_to_num(share, nan=0.5))})
    return out[["ds", *QUANTILES]]


def annual_frame(paths: SamplePaths, sector: str = TOTAL, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Calendar-year spend per workload: observed years as ``p50`` only, later years as path quantiles.

    A year mixing observed and forecast quarters adds the observed quarters to every path; years the
    horizon covers only in part are dropped.  ``history`` is ``history_wide(paths, sector)`` if already at hand.
    Columns: ``year, workload, observed, *QUANTILES``.
    """
    hist = history_wide(paths, sector) if history is None else history
    values = paths.of(sector)
    rows = []
    years_hist = hist["ds"].dt.year
    years_fut = paths.periods.year
    for year in sorted(set(years_hist) | set(years_fut)):
        h_mask = (years_hist == year).to_numpy()
        f_mask = np.asarray(years_fut == year)
        if h_mask.sum() + f_mask.sum() != 4:
            continue
        for i, w in enumerate(WORKLOADS):
            observed = float(hist.loc[h_mask, w].sum())
            if f_mask.any():
                sums = observed + values[:, i, :][:, f_mask].sum(axis=1)
                q = dict(zip(QUANTILES, np.quantile(sums, list(QUANTILES.values())), strict=True))
            else:
                q = dict.fromkeys(QUANTILES, observed)
            rows.append({"year": int(year), "workload": w, "observed": not f_mask.any(), **q})
    return pd.DataFrame(rows, columns=["year", "workload", "observed", *QUANTILES])


def series_ids(sector: str) -> list[str]:
    """Both workload series ids of a sector."""
    return [series_id(sector, w) for w in WORKLOADS]


def history_from_spend(spend: pd.DataFrame) -> pd.DataFrame:
    """Stored spend rows (``history.load_spend``) as ``sector, ds, training, inference, share``, plus the total.

    Regions are summed; the total covers the quarters every sector reports both workloads for.
    """
    cols = ["sector", *HISTORY_WIDE_COLUMNS]
    if spend.empty:
        return pd.DataFrame(columns=cols)
    wide = spend.pivot_table(index=["sector", "period"], columns="workload", values="spend_usd", aggfunc="sum")
    wide = wide.reindex(columns=list(WORKLOADS)).dropna().reset_index().rename(columns={"period": "ds"})
    n_sectors = wide["sector"].nunique()
    complete = wide.groupby("ds")["sector"].transform("nunique") == n_sectors
    total = wide[complete].groupby("ds")[list(WORKLOADS)].sum().reset_index().assign(sector=TOTAL)
    out = pd.concat([wide, total], ignore_index=True)
    out["ds"] = pd.to_datetime(out["ds"])
    out["share"] = out["inference"] / (out["training"] + out["inference"])
    return out[cols].sort_values(["sector", "ds"], ignore_index=True)


def empty_fan() -> pd.DataFrame:
    """A fan frame without rows (history-only charts)."""
    return pd.DataFrame(columns=FAN_COLUMNS)


def observed_series(spend: pd.DataFrame) -> pd.DataFrame:
    """Stored spend rows as long ``unique_id, ds, y`` series (``sector/workload``), regions summed."""
    if spend.empty:
        return pd.DataFrame(columns=[UID, DS, Y])
    g = spend.groupby(["sector", "workload", "period"], as_index=False)["spend_usd"].sum()
    return pd.DataFrame(
        {UID: g["sector"] + "/" + g["workload"], DS: pd.to_datetime(g["period"]), Y: g["spend_usd"].astype(float)}
    )


def realised_errors(forecasts: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """An earlier run's forecasts against the values observed since: error, percent error, interval hits.

    Args:
        forecasts: ``frames.FORECAST_COLUMNS``.
        observed: long ``unique_id, ds, y``.
    """
    f = forecasts.assign(ds=pd.to_datetime(forecasts[DS]))
    m = f.merge(observed, on=[UID, DS], how="inner")
    out = pd.DataFrame(
        {
            UID: m[UID],
            DS: m[DS],
            "yhat": m["yhat"],
            Y: m[Y],
            "error": m[Y] - m["yhat"],
            "pct_error": np.where(m[Y] != 0, (m[Y] - m["yhat"]) / m[Y].where(m[Y] != 0, 1.0), np.nan),
            "inside_80": (m[Y] >= m["yhat_lower_80"]) & (m[Y] <= m["yhat_upper_80"]),
            "inside_95": (m[Y] >= m["yhat_lower_95"]) & (m[Y] <= m["yhat_upper_95"]),
        }
    )
    return out.sort_values([UID, DS], ignore_index=True)


def history_all(paths: SamplePaths) -> pd.DataFrame:
    """``history_wide`` of every sector of the paths and the total in one frame (one pivot, not one per sector)."""
    hist = paths.history
    cols = ["sector", *HISTORY_WIDE_COLUMNS]
    if len(hist) == 0:
        return pd.DataFrame(columns=cols)
    parts = hist[UID].str.rpartition("/")
    long = pd.DataFrame({"sector": parts[0], "workload": parts[2], "ds": pd.to_datetime(hist[DS]), "y": hist[Y]})
    long = long[long["sector"].isin(paths.sectors) & (long["ds"] < paths.periods[0])]
    spend = long.rename(columns={"ds": "period", "y": "spend_usd"})
    return history_from_spend(spend)
