"""What a refresh refuses: invalid, restated or shrinking history, broken forecasts, a malformed manifest.

Each gate raises :class:`~forecasting.errors.PublishRefusedError` (exit 65) with every reason,
before anything is written, so the previous vintage stays published.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .config import SETTING_LIMITS, TOTAL, WORKLOADS, setting_problem, split_series_id
from .errors import Problem, PublishRefusedError, ValidationError
from .frames import DS, HI80, HI95, LO80, LO95, UID, YHAT, Y
from .scenario import Scenario
from .vintages import RunInfo

#: Restated rows listed in a refusal message.
SHOWN = 10


def validate_input(history: pd.DataFrame) -> list[Problem]:
    """Every reason the history cannot be forecast and turned into crossovers (empty list = fine)."""
    problems: list[Problem] = []
    if history.empty:
        return [Problem(None, None, "the spend history is empty; import data or run `forecasting init`")]
    workloads: dict[str, set[str]] = {}
    for uid in sorted(history[UID].unique()):
        try:
            sector, workload = split_series_id(uid)
        except ValueError as exc:
            problems.append(Problem(None, UID, str(exc)))
            continue
        workloads.setdefault(sector, set()).add(workload)
    for sector, found in sorted(workloads.items()):
        if sector != TOTAL and set(WORKLOADS) - found:
            problems.append(Problem(None, UID, f"sector '{sector}' has no {sorted(set(WORKLOADS) - found)} series"))
    y = history[Y].to_numpy(dtype=float)
    for i in np.flatnonzero(~np.isfinite(y) | (y < 0))[:SHOWN]:
        problems.append(
            Problem(
                None,
                Y,
                f"{history[UID].iat[i]} at {history[DS].iat[i]:%Y-%m-%d}: value {y[i]} "
                "is not a finite non-negative amount",
            )
        )
    ds = pd.DatetimeIndex(history[DS])
    if not (ds.is_month_start & ds.month.isin([1, 4, 7, 10])).all():
        problems.append(Problem(None, DS, "periods must be quarter starts"))
    return problems


def restatements(previous: pd.DataFrame, current: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Past values the new history changes by more than ``threshold`` (relative) or drops.

    Returns:
        Columns unique_id, ds, y_before, y_after, change (relative; inf for a dropped value).
    """
    merged = pd.merge(
        previous[[UID, DS, Y]], current[[UID, DS, Y]], on=[UID, DS], how="left", suffixes=("_before", "_after")
    )
    before, after = merged["y_before"].to_numpy(float), merged["y_after"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.abs(after - before) / np.maximum(np.abs(before), 1e-9)
    change = np.where(np.isnan(after), np.inf, np.where(before == after, 0.0, change))
    merged["change"] = change
    return merged[merged["change"] > threshold].reset_index(drop=True)


def check_input(
    history: pd.DataFrame, previous: RunInfo | None, previous_history: pd.DataFrame, threshold: float
) -> None:
    """Refuse invalid history, and history restating the previous vintage's by more than ``threshold``.

    ``previous`` is None for a first vintage (or when the user accepted the restatement).
    """
    problems = validate_input(history)
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems)
        raise PublishRefusedError(f"refusing to publish: the history failed validation:\n{shown}")
    if previous is None:
        return
    restated = restatements(previous_history, history, threshold)
    if restated.empty:
        return
    lines = [
        f"  - {r.unique_id} {r.ds:%Y-%m-%d}: {r.y_before:,.0f} -> "
        + ("removed" if np.isnan(r.y_after) else f"{r.y_after:,.0f} ({r.change:+.0%})")
        for r in restated.head(SHOWN).itertuples(index=False)
    ]
    more = f"\n  ... and {len(restated) - SHOWN} more" if len(restated) > SHOWN else ""
    raise PublishRefusedError(
        f"refusing to publish: {len(restated)} past value(s) of vintage {previous.run_id} changed by more "
        f"than {threshold:.0%} or were removed:\n"
        + "\n".join(lines)
        + more
        + "\nCheck the imported data; if the restatement is intended, rerun with --accept-restatement."
    )


def check_output(forecasts: pd.DataFrame, status: pd.DataFrame, horizon: int) -> None:
    """Refuse forecasts with missing, non-finite or disordered bounds, or from no working model at all.

    One series whose models all fail gets a fallback and the run publishes; when that happens to
    every series, the fitting itself is broken (an installation problem, say) and publishing naive
    forecasts over the previous vintage would hide it.
    """
    from .engine import EVERY_MODEL_FAILED  # the engine imports slowly; only a refresh needs it

    broken = status["message"].fillna("").str.startswith(EVERY_MODEL_FAILED)
    if len(status) and broken.all():
        raise PublishRefusedError(
            f"refusing to publish: every model failed on all {len(status)} series, so the fitting itself is "
            f"broken; the first error: {status['message'].iat[0]}. The previous vintage stays published."
        )
    values = forecasts[[LO95, LO80, YHAT, HI80, HI95]].to_numpy(float)
    bad = []
    if not np.isfinite(values).all():
        bad.append("non-finite forecast values")
    if (np.diff(values, axis=1) < -1e-6 * np.maximum(np.abs(values[:, 1:]), 1.0)).any():
        bad.append("bounds out of order (lower95 <= lower80 <= yhat <= upper80 <= upper95)")
    counts = forecasts.groupby(UID).size()
    if (counts != horizon).any():
        bad.append(f"series without {horizon} forecast periods: {sorted(counts[counts != horizon].index)}")
    if bad:
        raise PublishRefusedError("refusing to publish: the forecasts failed validation: " + "; ".join(bad))


def _spans(history: pd.DataFrame) -> pd.DataFrame:
    """Per series: quarters held, first and last quarter."""
    return history.groupby(UID)[DS].agg(n="count", first="min", last="max")


def coverage_losses(
    previous_series: set[str],
    previous_history: pd.DataFrame,
    previous_sectors: set[str],
    series: set[str],
    history: pd.DataFrame,
    sectors: set[str],
) -> list[str]:
    """What a new run would lose against the previous one: series, crossover sectors, quarters of history.

    Args:
        previous_series, series: the series ids each run forecasts (``series_status``).
        previous_sectors, sectors: the sectors (and ``total``) of each run's baseline crossover table.
    """
    losses = [f"sector '{s}' would leave the crossover table" for s in sorted(previous_sectors - sectors)]
    losses += [f"series '{u}' would no longer be forecast" for u in sorted(previous_series - series)]
    before, after = _spans(previous_history), _spans(history)
    for uid, b in before.iterrows():
        if uid not in after.index:
            losses.append(f"series '{uid}' would have no history ({b.n} quarters before)")
            continue
        a = after.loc[uid]
        if a.n < b.n or a["last"] < b["last"] or a["first"] > b["first"]:
            losses.append(
                f"series '{uid}' history would shrink from {b.n} quarters ({b['first']:%Y-%m-%d} to "
                f"{b['last']:%Y-%m-%d}) to {a.n} ({a['first']:%Y-%m-%d} to {a['last']:%Y-%m-%d})"
            )
    return losses


def check_coverage(previous: RunInfo | None, losses: list[str]) -> None:
    """Refuse a run that drops or shrinks what the previous vintage had (``previous`` None: accepted)."""
    if previous is None or not losses:
        return
    lines = "\n".join(f"  - {loss}" for loss in losses[:SHOWN])
    more = f"\n  ... and {len(losses) - SHOWN} more" if len(losses) > SHOWN else ""
    raise PublishRefusedError(
        f"refusing to publish: the new run would drop or shrink {len(losses)} thing(s) vintage "
        f"{previous.run_id} had:\n{lines}{more}\n"
        "Check the imported data (a sector needs both workloads over the same quarters); if the loss is "
        "intended, rerun with --accept-drop."
    )


# --------------------------------------------------------------------------- bundle manifests (--from-manifest)


def read_manifest(path: Path) -> dict:
    """A bundle's ``manifest.json`` (written by ``export.write_bundle``), checked whole.

    Raises :class:`ValidationError` (65) naming every field that is missing, of the wrong type or out
    of :data:`~forecasting.config.SETTING_LIMITS`; a file that cannot be read is an ``OSError``.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValidationError([Problem(None, None, f"not JSON: {exc}")], f"manifest {path}") from None
    problems = _manifest_problems(manifest)
    if problems:
        raise ValidationError(problems, f"manifest {path}")
    return manifest


def _manifest_problems(manifest: object) -> list[Problem]:
    """Every reason ``manifest`` is not a usable bundle manifest (empty when it is one)."""
    if not isinstance(manifest, dict):
        return [Problem(None, None, f"a manifest is a JSON object, not {type(manifest).__name__}")]
    problems = [
        Problem(None, key, "missing or not text")
        for key in ("run_id", "data_fingerprint")
        if not isinstance(manifest.get(key), str)
    ]
    settings = manifest.get("settings")
    if not isinstance(settings, dict):
        problems.append(Problem(None, "settings", "missing or not an object of setting: value"))
    else:
        problems += _setting_problems(settings)
    models = manifest.get("models")
    if models is not None and not (isinstance(models, list) and all(isinstance(m, str) for m in models)):
        problems.append(Problem(None, "models", "must be a list of model names or null"))
    history = manifest.get("history")
    columns = history.get("columns") if isinstance(history, dict) else None
    rows = history.get("rows") if isinstance(history, dict) else None
    if columns != [UID, DS, Y] or not isinstance(rows, list):
        problems.append(Problem(None, "history", f"must hold columns {[UID, DS, Y]} and a list of rows"))
    elif not all(isinstance(r, list) and len(r) == 3 for r in rows):
        problems.append(Problem(None, "history", "every row must be [unique_id, ds, y]"))
    return problems + _scenario_problems(manifest.get("scenarios", []))


def _scenario_problems(saved: object) -> list[Problem]:
    """Why a manifest's ``scenarios`` are not a list of scenarios (empty when every one reads)."""
    if not isinstance(saved, list):
        return [Problem(None, "scenarios", "must be a list of scenario objects")]
    problems = []
    for i, raw in enumerate(saved):
        try:
            Scenario.from_dict(raw)
        except ValueError as exc:
            problems.append(Problem(None, f"scenarios[{i}]", str(exc)))
    return problems


def _setting_problems(settings: dict) -> list[Problem]:
    problems = [(name, setting_problem(name, settings[name])) for name in SETTING_LIMITS if name in settings]
    return [Problem(None, f"settings.{name}", problem) for name, problem in problems if problem]
