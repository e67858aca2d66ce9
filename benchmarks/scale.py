"""Series per second of the forecast engine on synthetic series: the local process pool against a
Dask LocalCluster of 1 and of 2 workers, and each executor's overhead per task.

Usage: python benchmarks/scale.py [--n 1000 10000] [--models ets,theta,naive] [--workers 2]
                                 [--origins 2] [--executors serial,local,dask1,dask2]

Each synthetic series has 24 quarters of noisy multiplicative growth; pairs of series share a
"sector" so paths are drawn jointly as in a refresh. The cheap model subset keeps 10,000 series
within minutes (``--models default`` uses the engine's defaults). The overhead is the time per task
of shipping a real fit's input to a worker and a result back, with no fit (``id`` as the task): it
is what a worker adds to every series whatever the models cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.dask_executor import DaskExecutor  # noqa: E402
from forecasting.engine import ForecastOptions, SeriesTask, forecast  # noqa: E402
from forecasting.executors import Executor, LocalExecutor, SerialExecutor  # noqa: E402


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


def timed(history: pd.DataFrame, executor: Executor, models: Sequence[str] | None, origins: int = 2) -> float:
    """Seconds for one engine run over every series of ``history``, backtesting at ``origins`` origins."""
    groups = {u: u.split("/")[0] for u in history["unique_id"].unique()}
    start = time.perf_counter()
    options = ForecastOptions(freq="Q", models=models, n_paths=200, seed=1, backtest_origins=origins)
    forecast(history, 8, options, groups=groups, executor=executor)
    return time.perf_counter() - start


def overhead_ms(executor: Executor, n: int = 2000) -> float:
    """Milliseconds per task of mapping a no-op over ``n`` tasks of a real fit's size through ``executor``."""
    y = np.linspace(1.0, 2.0, 24)
    tasks = [SeriesTask(f"s{k}", y, 4, 8, ("ets", "theta", "naive"), 2, 8, k) for k in range(n)]
    start = time.perf_counter()
    for _ in executor.map(id, tasks):
        pass
    return 1000 * (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000], help="numbers of series to time")
    parser.add_argument("--models", default="ets,theta,naive", help="engine models, or 'default' for the engine's")
    parser.add_argument("--workers", type=int, default=2, help="processes of the local pool")
    parser.add_argument("--origins", type=int, default=2, help="backtest origins (the engine's default is 4)")
    parser.add_argument(
        "--executors", default="serial,local,dask1,dask2", help="which to time, of: serial,local,dask1,dask2"
    )
    args = parser.parse_args(argv)
    models = None if args.models == "default" else args.models.split(",")
    chosen = args.executors.split(",")
    print(f"models={models or 'default'} local workers={args.workers} horizon=8 n_paths=200", end=" ")
    print(f"backtest_origins={args.origins}")
    local = LocalExecutor(workers=args.workers)
    with DaskExecutor(workers=1) as dask1, DaskExecutor(workers=2) as dask2:
        every: dict[str, Executor] = {"serial": SerialExecutor(), "local": local, "dask1": dask1, "dask2": dask2}
        executors = {k: every[k] for k in chosen}
        for name in {"dask1", "dask2"} & set(chosen):  # start the clusters and import the engine on their workers
            timed(synthetic(8), executors[name], models)
        print("overhead per task (ms): " + ", ".join(f"{k} {overhead_ms(e):.2f}" for k, e in executors.items()))
        print(f"{'series':>8} " + " ".join(f"{k + ' s':>10} {k + '/s':>10}" for k in executors))
        for n in args.n:
            history = synthetic(n)
            secs = {k: timed(history, e, models, args.origins) for k, e in executors.items()}
            print(f"{n:>8} " + " ".join(f"{secs[k]:>10.1f} {n / secs[k]:>10.1f}" for k in executors), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
