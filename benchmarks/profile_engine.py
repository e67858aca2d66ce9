"""Where the engine's time goes: CPU seconds per stage and per model, on a sample of M3 or Tourism.

Runs :func:`forecasting.engine.forecast` in one process (serial executor) with every stage and
every model's ``select`` and ``fit_predict`` wrapped in a CPU timer (``time.process_time``, so other
jobs on a shared machine inflate it less than wall time). Fits are split into the specification
search (``select``), the final fit on the whole series and the refits at the backtest origins.

    python benchmarks/profile_engine.py --sets m3-quarterly,m3-yearly --sample 60
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import FREQS, SETS, load_set  # noqa: E402

import forecasting.engine as engine  # noqa: E402
from forecasting.engine import backtest  # noqa: E402
from forecasting.executors import SerialExecutor  # noqa: E402
from forecasting.models import MODELS  # noqa: E402

#: CPU seconds by (stage, model).
SPENT: defaultdict[tuple[str, str], float] = defaultdict(float)
_PHASE = ["other"]


@contextmanager
def _phase(name: str) -> Iterator[None]:
    _PHASE.append(name)
    try:
        yield
    finally:
        _PHASE.pop()


def _timed(fn: Callable[..., Any], stage: str | None, model: str = "") -> Callable[..., Any]:
    """``fn`` charging its CPU time to ``stage`` (None: the phase it runs in) and ``model``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[(stage or _PHASE[-1], model)] += time.process_time() - start

    return wrapper


def _in_phase(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _phase(name):
            return fn(*args, **kwargs)

    return wrapper


def instrument() -> None:
    """Wrap the stages and every model's methods in CPU timers (this process only)."""
    backtest._fit_final = _in_phase(backtest._fit_final, "final fit")
    backtest.backtest_model = _in_phase(backtest.backtest_model, "backtest origins")
    backtest.choose_transform = _timed(backtest.choose_transform, "transform probe")
    for name, cls in MODELS.items():
        cls.select = _timed(cls.select, "select (spec search)", name)  # type: ignore[method-assign]  # profiling wrapper
        cls.fit_predict = _timed(cls.fit_predict, None, name)  # type: ignore[method-assign]  # profiling wrapper
    for attr, stage in [
        ("prepare_history", "prepare"),
        ("choose_forecaster", "choose (scores, combinations)"),
        ("calibrate_choices", "calibration"),
        ("joint_paths", "path simulation"),
        ("_forecast_frame", "output frame"),
    ]:
        setattr(engine, attr, _timed(getattr(engine, attr), stage))


def profile_set(name: str, sample: int, seed: int, n_paths: int) -> pd.DataFrame:
    """CPU ms per series by stage and model on one set."""
    SPENT.clear()
    train, _ = load_set(name, sample, seed)
    _, kind, h = SETS[name]
    options = engine.ForecastOptions(freq=FREQS[kind][1], backtest_horizon=h, n_paths=n_paths)
    start = time.process_time()
    engine.forecast(train, h, options, executor=SerialExecutor())
    total = time.process_time() - start
    n = train["unique_id"].nunique()
    rows = [(stage, model, 1000 * secs / n) for (stage, model), secs in SPENT.items()]
    rows.append(("total", "", 1000 * total / n))
    table = pd.DataFrame(rows, columns=["stage", "model", "cpu_ms_per_series"])
    table["share"] = table["cpu_ms_per_series"] / (1000 * total / n)
    return table.sort_values("cpu_ms_per_series", ascending=False, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="m3-quarterly,m3-yearly", help=f"comma-separated, of: {','.join(SETS)}")
    parser.add_argument("--sample", type=int, default=60, help="random series per set")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series sample")
    parser.add_argument("--paths", type=int, default=1000, help="sample paths per series")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    instrument()
    for name in args.sets.split(","):
        table = profile_set(name, args.sample, args.seed, args.paths)
        print(f"\n{name}: {args.sample} series, CPU ms per series (serial, {args.paths} paths)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        by_stage = table[table.stage != "total"].groupby("stage")["cpu_ms_per_series"].sum()
        print(by_stage.sort_values(ascending=False).to_string(float_format=lambda v: f"{v:.1f}"), flush=True)


if __name__ == "__main__":
    main()
