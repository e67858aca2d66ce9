"""Chart-ready summaries of sample paths and crossovers (pure pandas/numpy, no Streamlit).

The dashboard draws fans from the run's joint sample paths rather than from the stored
per-series intervals, so the total market, annual sums, the inference share and every scenario
come from one consistent set of draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import TOTAL, WORKLOADS, series_id
from ..crossover import (
    CROSSED_IN_HISTORY,
    CROSSES_WITHIN_HORIZON,
    NOT_WITHIN_HORIZON,
    Crossover,
    sector_paths,
)
from ..frames import DS, UID, Y
from ..scenario import Baseline
from ..sensitivity import SpreadAttribution

#: Quantile columns of a fan frame and the probability each one stands for.
QUANTILES = {"p025": 0.025, "p10": 0.10, "p50": 0.50, "p90": 0.90, "p975": 0.975}
FAN_COLUMNS = ["ds", "workload", *QUANTILES]
HISTORY_WIDE_COLUMNS = ["ds", "training", "inference", "share"]


def quarter_text(ts: pd.Timestamp | None) -> str:
    """``2025-07-01`` -> ``2025 Q3``; ``None`` -> ``beyond the horizon``."""
    if ts is None or pd.isna(ts):
        return "beyond the horizon"
    ts = pd.Timestamp(ts)
    return f"{ts.year} Q{ts.quarter}"


def _quantile_rows(values: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles over axis 0 of a (n_paths, H) array, one array per fan column."""
    qs = np.quantile(values, list(QUANTILES.values()), axis=0)
    return dict(zip(QUANTILES, qs, strict=True))


def fan_frame(baseline: Baseline, sector: str = TOTAL) -> pd.DataFrame:
    """Quarterly forecast quantiles per workload of a sector (or the total): ``FAN_COLUMNS``."""
    paths = sector_paths(baseline, sector)
    parts = [
        pd.DataFrame({"ds": baseline.periods, "workload": w, **_quantile_rows(paths[:, i, :])})
        for i, w in enumerate(WORKLOADS)
    ]
    return pd.concat(parts, ignore_index=True)[FAN_COLUMNS]


def history_wide(baseline: Baseline, sector: str = TOTAL) -> pd.DataFrame:
    """Observed ``ds, training, inference, share`` of a sector; the total sums quarters all sectors report."""
    hist = baseline.history
    if len(hist) == 0:
        return pd.DataFrame(columns=HISTORY_WIDE_COLUMNS)
    parts = hist[UID].str.rpartition("/")
    frame = pd.DataFrame({"sector": parts[0], "workload": parts[2], "ds": pd.to_datetime(hist[DS]), "y": hist[Y]})
    if sector == TOTAL:
        frame = frame[frame["sector"].isin(baseline.sectors)]
        complete = frame.groupby(["workload", "ds"])["sector"].transform("nunique") == len(baseline.sectors)
        frame = frame[complete]
    else:
        frame = frame[frame["sector"] == sector]
    wide = frame.pivot_table(index="ds", columns="workload", values="y", aggfunc="sum")
    wide = wide.reindex(columns=list(WORKLOADS)).dropna().reset_index()
    wide = wide[wide["ds"] < baseline.periods[0]]
    wide["share"] = wide["inference"] / (wide["training"] + wide["inference"])
    return wide[HISTORY_WIDE_COLUMNS].reset_index(drop=True)


def share_fan(baseline: Baseline, sector: str = TOTAL) -> pd.DataFrame:
    """Quantiles of the inference share ``inference / (training + inference)`` per forecast quarter."""
    paths = sector_paths(baseline, sector)
    total = paths[:, 0, :] + paths[:, 1, :]
    share = np.divide(paths[:, 1, :], total, out=np.full_like(total, np.nan), where=total > 0)
    out = pd.DataFrame({"ds": baseline.periods, **_quantile_rows(np.nan_to_num(share, nan=0.5))})
    return out[["ds", *QUANTILES]]


def annual_frame(baseline: Baseline, sector: str = TOTAL, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Calendar-year spend per workload: observed years as ``p50`` only, later years as path quantiles.

    A year mixing observed and forecast quarters adds the observed quarters to every path; years the
    horizon covers only in part are dropped.  ``history`` is ``history_wide(baseline, sector)`` if already at hand.
    Columns: ``year, workload, observed, *QUANTILES``.
    """
    hist = history_wide(baseline, sector) if history is None else history
    paths = sector_paths(baseline, sector)
    rows = []
    years_hist = hist["ds"].dt.year
    years_fut = baseline.periods.year
    for year in sorted(set(years_hist) | set(years_fut)):
        h_mask = (years_hist == year).to_numpy()
        f_mask = np.asarray(years_fut == year)
        if h_mask.sum() + f_mask.sum() != 4:
            continue
        for i, w in enumerate(WORKLOADS):
            observed = float(hist.loc[h_mask, w].sum())
            if f_mask.any():
                sums = observed + paths[:, i, :][:, f_mask].sum(axis=1)
                q = dict(zip(QUANTILES, np.quantile(sums, list(QUANTILES.values())), strict=True))
            else:
                q = dict.fromkeys(QUANTILES, observed)
            rows.append({"year": int(year), "workload": w, "observed": not f_mask.any(), **q})
    return pd.DataFrame(rows, columns=["year", "workload", "observed", *QUANTILES])


def threshold_text(threshold: float) -> str:
    """``2.0`` -> ``2×``, ``1.25`` -> ``1.25×``: the crossover rule's ratio for labels."""
    return f"{threshold:g}×"


def spread_text(a: SpreadAttribution) -> str:
    """One sentence on the width of the P10-P90 crossover band and which uncertainty drives it."""
    more = " or more" if a.censored else ""
    if a.dominant == "none":
        return f"The P10-P90 crossover band is {a.spread_total:.1f} quarters{more} wide."
    return (
        f"The P10-P90 crossover band is {a.spread_total:.1f} quarters{more} wide; "
        f"{'model' if a.dominant == 'model' else 'assumption'} uncertainty dominates it "
        f"(model alone: {a.spread_model:.1f} quarters, your assumption ranges alone: {a.spread_assumptions:.1f})."
    )


def headline(c: Crossover, subject: str = "Inference") -> str:
    """One sentence on when ``subject`` spend overtakes training, with the 80% range when it lies ahead.

    At a threshold other than 1 the sentence says when it reaches that multiple of training instead.
    """
    if c.threshold == 1.0:
        did, does, cross, not_ = "overtook training", "overtakes training", "cross", "does not overtake training"
    else:
        t = threshold_text(c.threshold)
        did, does, cross, not_ = (
            f"reached {t} training",
            f"reaches {t} training",
            "get there",
            f"does not reach {t} training",
        )
    if c.state == CROSSED_IN_HISTORY:
        return f"{subject} {did} in {quarter_text(c.crossed_at)}."
    if c.state == CROSSES_WITHIN_HORIZON:
        return f"{subject} {does} in {quarter_text(c.p50)} (80% range {quarter_text(c.p10)} to {quarter_text(c.p90)})."
    last = quarter_text(c.prob_by_period.index[-1]) if len(c.prob_by_period) else "the horizon"
    if c.state == NOT_WITHIN_HORIZON:
        return f"{subject} {does} after {last} in most paths: {c.prob_within_horizon:.0%} of paths {cross} by then."
    return f"{subject} {not_} by {last} in any sample path."


def rule_text(threshold: float) -> str:
    """The crossover rule in words: ``inference overtakes training`` or ``inference reaches 2× training``."""
    return (
        "inference overtakes training"
        if threshold == 1.0
        else f"inference reaches {threshold_text(threshold)} training"
    )


def shift_quarters(a: pd.Timestamp | None, b: pd.Timestamp | None) -> float | None:
    """Quarters from date ``a`` to date ``b`` (positive when ``b`` is later), ``None`` if either is missing."""
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    a, b = pd.Timestamp(a), pd.Timestamp(b)
    return round((b - a).days / (365.25 / 4), 1)


def probability_by(c: Crossover, when: pd.Timestamp) -> float:
    """Share of paths that have crossed by the start of quarter ``when`` (1.0 once it crossed in history)."""
    if c.state == CROSSED_IN_HISTORY:
        return 1.0
    prob = c.prob_by_period
    if len(prob) == 0 or pd.Timestamp(when) < prob.index[0]:
        return 0.0
    return float(prob[prob.index <= pd.Timestamp(when)].iloc[-1])


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


def history_all(baseline: Baseline) -> pd.DataFrame:
    """``history_wide`` of every sector of the baseline and the total in one frame (one pivot, not one per sector)."""
    hist = baseline.history
    cols = ["sector", *HISTORY_WIDE_COLUMNS]
    if len(hist) == 0:
        return pd.DataFrame(columns=cols)
    parts = hist[UID].str.rpartition("/")
    long = pd.DataFrame({"sector": parts[0], "workload": parts[2], "ds": pd.to_datetime(hist[DS]), "y": hist[Y]})
    long = long[long["sector"].isin(baseline.sectors) & (long["ds"] < baseline.periods[0])]
    spend = long.rename(columns={"ds": "period", "y": "spend_usd"})
    return history_from_spend(spend)
