"""Compare two checkouts of the engine on validation windows cut from the training parts (no test part read).

For each set (M3, M1, Tourism; ``benchmarks/accuracy.py``'s samples), the last ``h`` points of every
series' training part become the validation window and the engine of each checkout forecasts the
rest, in a process of its own (the checkout's package and its ``benchmarks/accuracy.py``), with
``accuracy.py``'s options and scores. Series shorter than ``h + 2 * season + 4`` are left out.
Per-series scores are pickled in ``--out``; the comparison is paired, series by series:

- per set, the candidate's mean MASE and MSIS against the baseline's, and the paired z of the difference;
- pooled, the mean over sets (equally weighted) of each set's mean per-series ratio (candidate /
  baseline) with its standard error.

The rule (fixed before it was first used, 2026-12-02): a candidate is adopted only when the pooled
relative MASE of the default engine is below 1 by more than two standard errors and no set's mean
MASE is worse by more than two paired standard errors. Then the test sets are scored once.

    python benchmarks/validate.py --candidate ../variant --out /tmp/val          # this checkout vs ../variant
    python benchmarks/validate.py --candidate ../variant --out /tmp/val --models ets
    python benchmarks/validate.py --out /tmp/val --compare-only                  # the tables from --out's pickles
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve()
SIDES = ("baseline", "candidate")
#: Sets compared when none are named: every yearly, quarterly and monthly set but M1 yearly.
DEFAULT_SETS = [
    "m3-monthly",
    "tourism-monthly",
    "m1-monthly",
    "m3-quarterly",
    "tourism-quarterly",
    "m1-quarterly",
    "m3-yearly",
    "tourism-yearly",
]


def score(root: Path, name: str, sample: int, models: str, out: Path) -> None:
    """Forecast one set's validation windows with the checkout at ``root`` and pickle per-series scores."""
    sys.path[:0] = [str(root), str(root / "benchmarks")]
    import accuracy  # the checkout's own harness and package  # noqa: PLC0415

    import forecasting  # noqa: PLC0415
    from forecasting.metrics import interval_score, mase_scale  # noqa: PLC0415

    if not Path(forecasting.__file__).resolve().is_relative_to(root):
        raise SystemExit(f"the package imported is not the checkout's: {forecasting.__file__}")
    train, _ = accuracy.load_set(name, sample, 0)
    _, kind, h = accuracy.SETS[name]
    _, freq, season = accuracy.FREQS[kind]
    parts, windows = [], {}
    for uid, g in train.groupby("unique_id"):
        if len(g) >= h + 2 * season + 4:
            parts.append(g.iloc[:-h])
            windows[uid] = g["y"].to_numpy()[-h:]
    fit = pd.concat(parts, ignore_index=True)
    fc, secs = accuracy.run_engine(fit, h, freq, models.split(",") if models else None, 4)
    row, _ = accuracy.score(models or "auto", fc, fit, windows, season, secs)
    scales = fit.groupby("unique_id")["y"].apply(lambda y: mase_scale(y.to_numpy(), season))
    per = {}
    for uid, g in fc.groupby("unique_id", sort=False):
        a, g = windows[uid], g.sort_values("ds")
        point, lo95, hi95 = (g[c].to_numpy()[: len(a)] for c in ("yhat", "lo95", "hi95"))
        per[uid] = {
            "mase": float(np.mean(np.abs(a - point)) / scales[uid]),
            "msis": float(interval_score(a, lo95, hi95, 0.95, scales[uid])),
        }
    out.write_bytes(pickle.dumps({"row": row, "per": per}))


def paired(base: dict, other: dict, metric: str) -> tuple[float, float, float, float, float]:
    """Mean ``metric`` of the baseline and the candidate, the paired z of their difference, the mean
    per-series ratio (candidate / baseline) and its standard error."""
    keys = sorted(base)
    b = np.array([base[k][metric] for k in keys])
    x = np.array([other[k][metric] for k in keys])
    d = x - b
    z = d.mean() / (d.std(ddof=1) / np.sqrt(len(d))) if np.any(d) else 0.0
    ratio = x[b > 0] / b[b > 0]
    return b.mean(), x.mean(), z, ratio.mean(), ratio.std(ddof=1) / np.sqrt(len(ratio))


def compare(out: Path, sets: list[str], tag: str) -> pd.DataFrame:
    """Per-set paired comparison of the two checkouts' pickles in ``out``, and the pooled relative scores."""
    rows = []
    for name in sets:
        base, other = (pickle.loads((out / f"{name}.{tag}.{side}.pkl").read_bytes()) for side in SIDES)
        for metric in ("mase", "msis"):
            b, x, z, ratio, se = paired(base["per"], other["per"], metric)
            rows.append({"set": name, "metric": metric, "baseline": b, "candidate": x, "z": z, "ratio": ratio})
            rows[-1]["se"] = se
    table = pd.DataFrame(rows)
    for metric, g in table.groupby("metric"):
        pooled = {"set": "pooled (sets equally weighted)", "metric": metric, "ratio": g["ratio"].mean()}
        pooled["se"] = float(np.sqrt(np.sum(np.square(g["se"]))) / len(g))
        pooled["z"] = (pooled["ratio"] - 1) / pooled["se"]
        table = pd.concat([table, pd.DataFrame([pooled])], ignore_index=True)
    return table


def verdict(table: pd.DataFrame) -> str:
    """The adoption rule (module docstring) applied to a :func:`compare` table."""
    mase = table[table["metric"] == "mase"]
    pooled = mase.iloc[-1]
    worse = mase.iloc[:-1][mase.iloc[:-1]["z"] > 2]["set"].tolist()
    if pooled["z"] < -2 and not worse:
        return f"adopt: pooled relative MASE {pooled['ratio']:.4f} (z {pooled['z']:.2f}), no set clearly worse"
    why = f"pooled relative MASE {pooled['ratio']:.4f} (z {pooled['z']:.2f}, needs < -2)"
    return f"keep the baseline: {why}" + (f"; clearly worse on {', '.join(worse)}" if worse else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidate", type=Path, help="the other checkout's root (a git worktree)")
    parser.add_argument("--baseline", type=Path, default=HERE.parent.parent, help="default: this checkout")
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated set names")
    parser.add_argument("--sample", type=int, default=150, help="random series per set (seed 0)")
    parser.add_argument("--models", default="", help="engine models, comma-separated (default: the engine's)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the per-series pickles")
    parser.add_argument("--compare-only", action="store_true", help="compare the pickles already in --out")
    parser.add_argument("--score", nargs=2, metavar=("ROOT", "SET"), help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args()
    tag = args.models or "auto"
    if args.score:
        root, name = args.score
        side = "baseline" if Path(root).resolve() == args.baseline.resolve() else "candidate"
        return score(Path(root).resolve(), name, args.sample, args.models, args.out / f"{name}.{tag}.{side}.pkl")
    sets = args.sets.split(",")
    if not args.compare_only:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in sets:
            for root in (args.baseline, args.candidate):
                command = [sys.executable, str(HERE), "--score", str(root), name, "--sample", str(args.sample)]
                extra = ["--models", args.models, "--out", str(args.out), "--baseline", str(args.baseline)]
                subprocess.run(command + extra, check=True)
    table = compare(args.out, sets, tag)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(verdict(table))


if __name__ == "__main__":
    main()
