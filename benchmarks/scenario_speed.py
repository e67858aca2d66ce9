"""How long a live scenario recompute takes, against two peers measured in the same run.

Target: from cached baseline paths (1,000 paths, 7 sectors, 16 quarters), applying a scenario with
ranged drivers and recomputing every sector's crossover distribution takes under 50 ms (median);
a tornado over every driver takes under 1 s.

Peers:
  * the same crossover rule written as a straightforward per-path pandas loop;
  * one statsmodels ETS refit of a single 24-quarter series (we never refit: a scenario would
    need 14 of them per path set, and the paths would then have to be resampled).

Run: ``python benchmarks/scenario_speed.py`` from the repo root.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.config import SECTORS, TOTAL  # noqa: E402
from forecasting.crossover import crossing_quarters, crossover_distribution  # noqa: E402
from forecasting.paths import SamplePaths, stack
from forecasting.scenario import PRESETS, apply_scenario  # noqa: E402
from forecasting.sensitivity import goal_seek, tornado  # noqa: E402

N_PATHS, HORIZON, N_HIST = 1000, 16, 24


def make_baseline(seed: int = 7) -> SamplePaths:
    """Log random-walk paths per sector: training growing ~5%/q, inference ~9%/q from 40-70% of it."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2026-01-01", periods=HORIZON, freq="QS")
    hist_ds = pd.date_range(end="2025-10-01", periods=N_HIST, freq="QS")
    rows, paths = [], {}
    for j, s in enumerate(SECTORS):
        level_t, level_i = 100.0 * (1 + j), (40.0 + 5 * j) * (1 + j)
        for w, level, g in (("training", level_t, 0.05), ("inference", level_i, 0.09)):
            steps = np.arange(-N_HIST + 1, 1)
            rows += [(f"{s}/{w}", d, level * (1 + g) ** t) for d, t in zip(hist_ds, steps, strict=True)]
            shocks = rng.normal(np.log1p(g), 0.04, (N_PATHS, HORIZON))
            paths[f"{s}/{w}"] = level * np.exp(np.cumsum(shocks, axis=1))
    history = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    return stack(paths, periods, history)


def naive_crossings(b: SamplePaths) -> dict[str, np.ndarray]:
    """The k=1 crossing rule, one path at a time with pandas (the peer)."""
    out = {}
    for s in (*b.sectors, TOTAL):
        ds, train_h, infer_h = _hist(b, s)
        arr = b.of(s)
        times = []
        for p in range(arr.shape[0]):
            gap = pd.Series(np.concatenate([(infer_h - train_h)[-1:], arr[p, 1] - arr[p, 0]]), index=range(-1, HORIZON))
            hit = gap[gap >= 0]
            if hit.empty:
                times.append(np.inf)
                continue
            j = hit.index[0]
            prev = gap.get(j - 1)
            times.append(float(j) if prev is None else j - 1 + (-prev) / (gap[j] - prev))
        out[s] = np.array(times) + 1.0  # each quarter's value sits at its end: grid index j is quarter end j + 1
    return out


def _hist(b: SamplePaths, sector: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if sector != TOTAL:
        return b.history_arrays[sector]
    parts = list(b.history_arrays.values())
    # Every synthetic sector has the same observed quarters, so summing aligned arrays is exact.
    return parts[0][0], np.sum([p[1] for p in parts], axis=0), np.sum([p[2] for p in parts], axis=0)


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """Wall-clock milliseconds of ``reps`` calls after one warm-up call."""
    fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def ets_refit(series: pd.Series) -> None:
    """One additive-trend ETS fit, as a refit-per-scenario design would need for each series."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ExponentialSmoothing(series, trend="add", initialization_method="estimated").fit()


def p90(xs: list[float]) -> float:
    return float(np.percentile(xs, 90))


def shipped_paths() -> tuple[SamplePaths, object]:
    """The structural paths of a default refresh of the shipped data (1,000 paths, per-path history)."""
    import tempfile

    from forecasting import store, vintages
    from forecasting.bootstrap import init_db
    from forecasting.config import Settings
    from forecasting.refresh import run_refresh

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "crossover.duckdb"
        init_db(db, store.DATA_DIR)
        run_refresh(db, Settings())
        run = vintages.load_run(db, "latest")
    return run.require_paths(), run


def shipped(scenario_name: str = "published") -> None:
    """The live recompute on the shipped data's structural paths, and the uncertainty budget."""
    from forecasting.budget import budget
    from forecasting.scenario import paths_under

    paths, run = shipped_paths()
    scenario = PRESETS[scenario_name]

    def live() -> None:
        crossover_distribution(paths_under(paths, scenario))

    ours = timed(live, 30)
    n, s, _, h = paths.paths.shape
    back = 0 if paths.back is None else paths.back.shape[3]
    print(f"shipped data, '{scenario_name}': scenario + crossover, {n} paths x {s} sectors x ({back} modelled")
    print(f"  history + {h} forecast) quarters: median {statistics.median(ours):7.1f} ms   p90 {p90(ours):7.1f} ms")
    spread = timed(lambda: budget(paths, run.structure, "cloud_ai_infrastructure_spend", scenario), 3)
    print(f"uncertainty budget (32 rebuilds of 400 paths): median {statistics.median(spread):7.0f} ms")


def main() -> None:
    shipped()
    b = make_baseline()
    b.history_arrays  # noqa: B018 - parse the history once, as the app's cached loader does
    scenario = PRESETS["fast_adoption"]  # ranged drivers: one assumption draw per path

    def live() -> None:
        crossover_distribution(apply_scenario(b, scenario, seed=1))

    ours = timed(live, 50)
    print(f"scenario + crossover, {N_PATHS} paths x {len(SECTORS)} sectors x {HORIZON} quarters:")
    print(f"  median {statistics.median(ours):7.1f} ms   p90 {p90(ours):7.1f} ms   (target < 50 ms median)")

    out = apply_scenario(b, scenario, seed=1)
    naive = timed(lambda: naive_crossings(out), 3)
    agree = all(
        np.allclose(naive_crossings(out)[s], crossing_quarters(out, s)[0], equal_nan=True)
        for s in (*out.sectors, TOTAL)
    )
    print(f"peer, per-path pandas loop (crossings only): median {statistics.median(naive):8.1f} ms")
    print(f"  -> vectorised is {statistics.median(naive) / statistics.median(ours):.0f}x faster; same answers: {agree}")

    hist = b.history[b.history["unique_id"] == "healthcare/training"].set_index("ds")["y"].asfreq("QS")
    ets = timed(lambda: ets_refit(hist), 10)
    print(f"peer, one statsmodels ETS refit (1 of 14 series): median {statistics.median(ets):7.1f} ms")
    n_series = 2 * len(SECTORS)
    print(f"  -> one refit costs {statistics.median(ets) / statistics.median(ours):.1f}x a full scenario recompute;")
    print(f"     refitting all {n_series} series would cost {n_series * statistics.median(ets):.0f} ms")

    torn = timed(lambda: tornado(b, scenario, TOTAL, seed=1), 5)
    print(
        f"tornado, all {len(tornado(b, scenario, TOTAL, seed=1))} drivers on the total: "
        f"median {statistics.median(torn):7.1f} ms   p90 {p90(torn):7.1f} ms   (target < 1000 ms)"
    )
    one = timed(lambda: tornado(b, scenario, "healthcare", seed=1), 5)
    print(f"tornado, all drivers on one sector: median {statistics.median(one):7.1f} ms")
    seek = timed(lambda: goal_seek(b, scenario, TOTAL, "edge_share", "2028-01-01", seed=1), 3)
    print(f"goal-seek, edge_share for the total: median {statistics.median(seek):7.1f} ms")


if __name__ == "__main__":
    main()
