"""Tidy CSV exports of a vintage (CLI and dashboard share them), and reproducible bundles.

Every export is long format with ISO dates, units in the column names (``spend_usd``, ``yhat_usd``)
and ``run_id`` and ``scenario`` columns.  :func:`to_csv` neutralises text cells that a spreadsheet
would run as a formula (OWASP CSV injection): a leading ``=``, ``+``, ``-``, ``@``, tab, CR, LF or NUL
gets a single quote in front; numbers stay numbers.  A bundle holds every export plus a
``manifest.json`` from which ``forecasting refresh --from-manifest`` reproduces the run's numbers.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import platform
import re
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, vintages
from .config import TOTAL, split_series_id
from .frames import DS, HI80, HI95, LO80, LO95, MODEL, UID, YHAT, Y
from .scenario import SCENARIO_SEED

log = logging.getLogger(__name__)

KINDS = ("history", "forecasts", "crossover", "backtests", "scenarios", "sensitivity")
#: Kinds that compute crossovers, so they take the rule's threshold (inference reaches threshold x training).
THRESHOLD_KINDS = ("crossover", "sensitivity")
#: Leading characters a spreadsheet reads as the start of a formula (or that hide one).
RISKY_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: Packages whose versions a bundle manifest records.
PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "prophet", "duckdb")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def neutralise(value: str) -> str:
    """Prefix a single quote to text a spreadsheet would treat as a formula."""
    return "'" + value if value.startswith(RISKY_LEADS) else value


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (RFC 4180 quoting) with ISO dates, formula-neutralised text cells and headers."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; also makes csv quote fields with a CR
    writer.writerow([neutralise(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def check_threshold(threshold: float) -> float:
    """``threshold`` as a float if it is a finite positive ratio; ``ValueError`` otherwise."""
    value = float(threshold)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"threshold (inference/training ratio) must be a positive number, got {threshold}")
    return value


def threshold_suffix(threshold: float = 1.0) -> str:
    """``''`` for the crossover itself (threshold 1), else ``_x<threshold>`` (``_x2``, ``_x1.5``) for file names."""
    value = check_threshold(threshold)
    return "" if value == 1.0 else f"_x{value:g}"


def filename(kind: str, run_id: str, scenario: str, threshold: float = 1.0) -> str:
    """``crossover_<kind>_<run id>_<scenario>[_x<threshold>].csv`` from safe characters only, at most 100 characters.

    The threshold suffix appears only when ``threshold`` is not 1.
    """
    if kind not in KINDS and kind != "manifest":
        raise ValueError(f"unknown export kind '{kind}'; choose one of {KINDS}")
    suffix = threshold_suffix(threshold)
    stem = "_".join(_SAFE_NAME.sub("-", part).strip(".-") or "x" for part in ("crossover", kind, run_id, scenario))
    return stem[: 96 - len(suffix)] + suffix + ".csv"


def _split_ids(frame: pd.DataFrame) -> pd.DataFrame:
    parts = [split_series_id(u) for u in frame[UID]]
    return frame.assign(sector=[p[0] for p in parts], workload=[p[1] for p in parts])


def _scenario(db: Path, name: str):  # type: ignore[no-untyped-def]
    from .scenario_store import load_scenario

    return load_scenario(db, name)


def _scenario_paths(run: vintages.RunData, db: Path, scenario: str):  # type: ignore[no-untyped-def]
    from .scenario import apply_scenario

    return apply_scenario(run.require_baseline(), _scenario(db, scenario), seed=SCENARIO_SEED)


def _history(run: vintages.RunData, db: Path, scenario: str) -> pd.DataFrame:
    out = _split_ids(run.history.rename(columns={Y: "spend_usd"}))
    return out.assign(run_id=run.run_id, scenario=scenario)[
        ["run_id", "scenario", UID, "sector", "workload", DS, "spend_usd"]
    ]


def _forecasts(run: vintages.RunData, db: Path, scenario: str) -> pd.DataFrame:
    usd = {c: f"{c}_usd" for c in (YHAT, LO80, HI80, LO95, HI95)}
    if scenario == vintages.BASELINE:
        out = run.forecasts.rename(columns=usd)
    else:
        # Under a scenario the forecast is the paths' median with their central 80% and 95% ranges.
        adjusted = _scenario_paths(run, db, scenario)
        models = run.forecasts.drop_duplicates(UID).set_index(UID)[MODEL]
        parts = []
        for j, sector in enumerate(adjusted.sectors):
            for w, workload in enumerate(("training", "inference")):
                uid = f"{sector}/{workload}"
                q = np.quantile(adjusted.paths[:, j, w, :], [0.5, 0.1, 0.9, 0.025, 0.975], axis=0)
                bounds = {usd[c]: q[i] for i, c in enumerate((YHAT, LO80, HI80, LO95, HI95))}
                parts.append(pd.DataFrame({UID: uid, DS: adjusted.periods, MODEL: models.get(uid, ""), **bounds}))
        out = pd.concat(parts, ignore_index=True)
    out = _split_ids(out).assign(run_id=run.run_id, scenario=scenario)
    return out[["run_id", "scenario", UID, "sector", "workload", DS, MODEL, *usd.values()]]


def _crossover(run: vintages.RunData, db: Path, scenario: str, threshold: float = 1.0) -> pd.DataFrame:
    from .crossover import crossover_distribution, crossover_frame

    if scenario == vintages.BASELINE and threshold == 1.0:
        frame = run.crossover.copy()  # stored at refresh, for threshold 1
    elif scenario == vintages.BASELINE:
        if run.baseline is None:
            raise ValueError(f"run {run.run_id} has no baseline paths; no crossover at threshold {threshold:g}")
        frame = crossover_frame(crossover_distribution(run.baseline, threshold=threshold))
    else:
        frame = vintages.scenario_crossover(run.require_baseline(), _scenario(db, scenario), threshold)
    frame = frame.assign(run_id=run.run_id, scenario=scenario, threshold=threshold)
    return frame[["run_id", "scenario", "sector", "state", "crossed_at", "p10", "p50", "p90", "prob_within_horizon",
                  "threshold"]]  # fmt: skip


def _backtests(run: vintages.RunData, db: Path, scenario: str) -> pd.DataFrame:
    out = run.backtests.assign(run_id=run.run_id, scenario=scenario)
    return out[["run_id", "scenario", UID, MODEL, "mase", "smape", "coverage_80", "coverage_95", "interval_score",
                "chosen"]]  # fmt: skip


def _scenarios(run: vintages.RunData, db: Path, scenario: str) -> pd.DataFrame:
    """Every driver's effective value for all sectors ('all'), then each sector-specific override."""
    from .scenario import ALL, DRIVERS

    sc = _scenario(db, scenario)
    entries = [(ALL, d, sc.value_for(ALL, d.key)) for d in DRIVERS]
    entries += [(s, d, sc.values[s][d.key]) for s in sc.values if s != ALL for d in DRIVERS if d.key in sc.values[s]]
    rows = [
        {"run_id": run.run_id, "scenario": sc.name, "sector": sector, "driver": d.key, "label": d.label,
         "unit": d.unit, "kind": v.kind, "value": v.centre(), "low": v.lo, "mode": v.mode, "high": v.hi}
        for sector, d, v in entries
    ]  # fmt: skip
    cols = ["run_id", "scenario", "sector", "driver", "label", "unit", "kind", "value", "low", "mode", "high"]
    return pd.DataFrame(rows, columns=cols)


def _sensitivity(run: vintages.RunData, db: Path, scenario: str, threshold: float = 1.0) -> pd.DataFrame:
    from .sensitivity import TORNADO_COLUMNS, tornado

    if run.baseline is None:
        raise ValueError(f"run {run.run_id} has no baseline paths; no sensitivity to compute")
    sc = _scenario(db, scenario)
    parts = [tornado(run.baseline, sc, s, seed=SCENARIO_SEED, threshold=threshold).assign(sector=s)
             for s in (*run.baseline.sectors, TOTAL)]  # fmt: skip
    out = pd.concat(parts, ignore_index=True).assign(run_id=run.run_id, scenario=scenario, threshold=threshold)
    return out[["run_id", "scenario", "sector", *TORNADO_COLUMNS, "threshold"]]


_BUILDERS = {
    "history": _history,
    "forecasts": _forecasts,
    "crossover": _crossover,
    "backtests": _backtests,
    "scenarios": _scenarios,
    "sensitivity": _sensitivity,
}


def _build(kind: str, run: vintages.RunData, db: Path, scenario: str, threshold: float) -> pd.DataFrame:
    if kind in THRESHOLD_KINDS:
        return _BUILDERS[kind](run, db, scenario, threshold)  # type: ignore[call-arg]
    return _BUILDERS[kind](run, db, scenario)


def frame(db: Path, kind: str, run_id: str = vintages.LATEST, scenario: str = vintages.BASELINE,
          threshold: float = 1.0) -> pd.DataFrame:  # fmt: skip
    """The tidy export ``kind`` (one of :data:`KINDS`) of a run under a saved scenario.

    ``threshold`` (crossover when inference reaches threshold x training) applies to
    :data:`THRESHOLD_KINDS` only; another kind with a threshold other than 1 is a ``ValueError``.
    """
    if kind not in _BUILDERS:
        raise ValueError(f"unknown export kind '{kind}'; choose one of {KINDS}")
    threshold = check_threshold(threshold)
    if threshold != 1.0 and kind not in THRESHOLD_KINDS:
        raise ValueError(f"a threshold applies to the {' and '.join(THRESHOLD_KINDS)} exports only, not '{kind}'")
    return _build(kind, vintages.load_run(Path(db), run_id), Path(db), scenario, threshold)


def write_export(db: Path, kind: str, output: Path, run_id: str = vintages.LATEST,
                 scenario: str = vintages.BASELINE, threshold: float = 1.0) -> int:  # fmt: skip
    """Write one export to ``output``; returns the number of data rows."""
    df = frame(db, kind, run_id, scenario, threshold)
    Path(output).write_bytes(to_csv(df))
    log.info("export event=written kind=%s rows=%d path=%s", kind, len(df), output)
    return len(df)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "crossover": __version__}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def manifest(run: vintages.RunData, scenario: str, threshold: float = 1.0) -> dict[str, object]:
    """What a bundle records: run id, fingerprint, settings, models, versions and the history as used."""
    config = dict(run.info.config)
    history = run.history.sort_values([UID, DS])
    return {
        "format": "crossover-bundle/1",
        "run_id": run.run_id,
        "created_at": run.info.created_at.isoformat(),
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_fingerprint": run.info.data_fingerprint,
        "code_version": run.info.code_version,
        "scenario": scenario,
        "threshold": threshold,
        "seed": run.info.seed,
        "scenario_seed": SCENARIO_SEED,
        "settings": {k: v for k, v in config.items() if k not in ("models", "freq")},
        "models": config.get("models"),
        "packages": _versions(),
        "history": {
            "columns": [UID, DS, Y],
            "rows": [
                [u, f"{d:%Y-%m-%d}", float(y)] for u, d, y in zip(history[UID], history[DS], history[Y], strict=True)
            ],
        },
    }


def write_bundle(db: Path, directory: Path, run_id: str = vintages.LATEST,
                 scenario: str = vintages.BASELINE, threshold: float = 1.0) -> dict[str, Path]:  # fmt: skip
    """Write every export of a run plus ``manifest.json`` into ``directory``; returns kind -> path.

    ``threshold`` applies to the crossover and sensitivity files, whose names then carry it.
    """
    threshold = check_threshold(threshold)
    run = vintages.load_run(Path(db), run_id)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for kind in _BUILDERS:
        t = threshold if kind in THRESHOLD_KINDS else 1.0
        path = directory / filename(kind, run.run_id, scenario, t)
        path.write_bytes(to_csv(_build(kind, run, Path(db), scenario, t)))
        written[kind] = path
    written["manifest"] = directory / "manifest.json"
    written["manifest"].write_text(json.dumps(manifest(run, scenario, threshold), indent=1) + "\n", encoding="utf-8")
    log.info("export event=bundle run=%s scenario=%s files=%d dir=%s", run.run_id, scenario, len(written), directory)
    return written
