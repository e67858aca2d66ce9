"""Series per second of the forecast engine on synthetic series: local process pool vs a Dask LocalCluster.

Usage: python benchmarks/scale.py [--n 1000 10000] [--models ets,theta,naive] [--workers 2]

Each synthetic series has 24 quarters of noisy multiplicative growth; pairs of series share a
"sector" so paths are drawn jointly as in a refresh.  The cheap model subset keeps 10,000 series
within minutes; the ratio (Dask / local) is what the benchmark is for.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.dask_executor import DaskExecutor  # noqa: E402
from forecasting.engine import ForecastOptions, forecast  # noqa: E402
from forecasting.executors import LocalExecutor  # noqa: E402


def synthetic(n: int, periods: int = 24, seed: int = 0) -> pd.DataFrame:
    """``n`` series named ``s<k>/training`` and ``s<k>/inference`` (unique_id, ds, y)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2019-01-01", periods=periods, freq="QS")
    t = np.arange(periods)
    growth = rng.uniform(0.0, 0.12, n)[:, None]
    level = rng.uniform(1e6, 1e9, n)[:, None]
    y = level * (1 + growth) ** t * np.exp(rng.normal(0, 0.05, (n, periods)))
    ids = [f"s{k // 2:05d}/{'training' if k % 2 == 0 else 'inference'}" for k in range(n)]
    return pd.DataFrame({"unique_id": np.repeat(ids, periods), "ds": np.tile(ds, n), "y": y.ravel()})


def timed(history: pd.DataFrame, executor: object, models: list[str]) -> float:
    """Seconds for one engine run over every series of ``history``."""
    groups = {u: u.split("/")[0] for u in history["unique_id"].unique()}
    start = time.perf_counter()
    options = ForecastOptions(freq="Q", models=models, n_paths=200, seed=1, backtest_origins=2)
    forecast(history, 8, options, groups=groups, executor=executor)  # type: ignore[arg-type]  # local pool or Dask: both Executors
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000], help="numbers of series to time")
    parser.add_argument("--models", default="ets,theta,naive", help="engine models to choose from")
    parser.add_argument("--workers", type=int, default=2, help="processes (local) and workers (Dask)")
    args = parser.parse_args(argv)
    models = args.models.split(",")
    print(f"models={models} workers={args.workers} horizon=8 n_paths=200 backtest_origins=2")
    print(f"{'series':>8} {'local s':>9} {'local/s':>9} {'dask s':>9} {'dask/s':>9} {'dask/local':>11}")
    with DaskExecutor(workers=args.workers) as dask:
        timed(synthetic(8), dask, models)  # start the cluster and import the engine on the workers
        for n in args.n:
            history = synthetic(n)
            local = timed(history, LocalExecutor(workers=args.workers), models)
            distributed = timed(history, dask, models)
            print(
                f"{n:>8} {local:>9.1f} {n / local:>9.1f} {distributed:>9.1f} {n / distributed:>9.1f} "
                f"{local / distributed:>11.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
