"""The refresh job: fit and backtest every series, draw joint paths, estimate crossovers, publish a vintage.

Guarantees (each is tested with real processes, see ``docs/operations.md``):

* exclusive: a second refresh of the same database exits at once (:class:`RefreshInProgressError`, 75);
* idempotent: same data fingerprint, fit settings and code publish nothing unless forced;
* gated: invalid history, or history that restates the previous vintage's beyond
  ``Settings.restatement_threshold``, is refused (:class:`PublishRefusedError`, 65);
* tolerant: a series that fails to fit is recorded with its error and a fallback forecast;
* atomic and crash-safe: everything lands in ONE copy-on-write ``store.writer`` transaction, so
  readers see the previous vintage or the new one, and a kill at any point leaves the previous intact.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import paths as sample_paths
from . import publish, quarters, share, store, structural
from .config import SPEND_TRANSFORM, Settings
from .crossover import CROSSOVER_COLUMNS, crossover_distribution, crossover_frame
from .errors import PublishRefusedError, RefreshInProgressError
from .executors import Executor
from .frames import DS, UID, Y
from .gates import check_coverage, check_input, check_output, coverage_losses, read_manifest, validate_input
from .paths import SamplePaths
from .reports.compare import FIT_KEYS, change_report, p50_moves
from .scenario import BASELINE, Scenario, paths_under
from .scenario_store import insert_scenarios, scenario_rows, scenarios_to_restore
from .structural import Structure
from .vintages import RunInfo, code_version

if TYPE_CHECKING:
    from .engine import ForecastResult

log = logging.getLogger(__name__)

#: Environment variables of the test hook that holds a refresh at a named stage (see :func:`_pause`).
PAUSE_ENV, PAUSE_SECONDS_ENV, PAUSE_MARKER_ENV = (
    "CROSSOVER_REFRESH_PAUSE",
    "CROSSOVER_REFRESH_PAUSE_SECONDS",
    "CROSSOVER_REFRESH_PAUSE_MARKER",
)
#: Stages at which the hook can hold a refresh.
PAUSE_STAGES = ("fit", "publish")


@dataclass(frozen=True)
class RefreshSummary:
    """What a refresh did: published a run, or found the published one up to date."""

    published: bool
    run_id: str | None
    previous_run_id: str | None
    data_fingerprint: str
    message: str
    n_series: int = 0
    n_ok: int = 0
    n_fallback: int = 0
    n_failed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    change_report: str = ""
    pruned: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Inputs:
    """The read-only snapshot a refresh works from."""

    history: pd.DataFrame
    fingerprint: str
    config: dict[str, object]
    previous: RunInfo | None
    previous_history: pd.DataFrame
    previous_crossover: pd.DataFrame
    scenarios: pd.DataFrame  # name, params_json: every saved scenario, as the run will record it
    anchors: pd.DataFrame  # share_anchors_all: the share model's inputs
    user_sectors: set[str]  # sectors with imported rows: the statistical engine keeps them
    structural: bool = True  # the database holds share anchors (a replay may know none of them yet)
    previous_series: frozenset[str] = frozenset()  # the series the previous vintage forecast
    restored: tuple[Scenario, ...] = ()  # a bundle's scenarios the database lacks: saved with the run


def refresh_lock_path(db: Path) -> Path:
    """The sidecar file whose flock makes refreshes of ``db`` exclusive."""
    return Path(db).with_name(Path(db).name + ".refresh.lock")


def _pause(stage: str) -> None:
    """Test hook: hold the refresh at ``stage`` when ``$CROSSOVER_REFRESH_PAUSE`` names it."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
    seconds = float(os.environ.get(PAUSE_SECONDS_ENV, "30"))
    log.warning("refresh event=paused stage=%s seconds=%g (test hook %s)", stage, seconds, PAUSE_ENV)
    time.sleep(seconds)


def _snapshot(
    db: Path,
    settings: Settings,
    models: Sequence[str] | None,
    manifest: dict | None,
    restored: tuple[Scenario, ...] = (),
) -> _Inputs:
    """Read history, fingerprint and the published vintage from one read-only view of the file.

    ``restored`` (a bundle's scenarios the file lacks) join the saved ones, as the run will record them.
    """
    with store.reader(db) as s:
        s.scan(tuple(t for t in store.TABLES if s.columns(t)))  # a damaged file fails here, before any fitting
        history = s.frame("history_series")
        fingerprint = str(s.scalar("data_fingerprint"))
        prev_row = s.frame("run_latest")
        prev = None if prev_row.empty else RunInfo.from_row(prev_row.iloc[0])
        prev_history = s.frame("run_history", run_id=prev.run_id if prev else "")
        prev_cross = s.frame("crossover_run", run_id=prev.run_id if prev else "", scenario=BASELINE)
        scenarios = s.frame("scenario_all")
        if restored:
            scenarios = pd.concat([scenarios, scenario_rows(list(restored))[scenarios.columns]], ignore_index=True)
        anchors = s.frame("share_anchors_all")
        user_sectors = set(s.frame("history_user_sectors")["sector"])
        prev_series = frozenset(s.frame("run_status", run_id=prev.run_id if prev else "")[UID])
    if manifest is not None:
        history = pd.DataFrame(manifest["history"]["rows"], columns=manifest["history"]["columns"])
        fingerprint = str(manifest["data_fingerprint"])
    history[DS] = pd.to_datetime(history[DS])
    history[Y] = history[Y].astype(float)
    prev_history[DS] = pd.to_datetime(prev_history[DS])
    history = history.sort_values([UID, DS], ignore_index=True)
    return _Inputs(
        history,
        fingerprint,
        settings.run_config(models),
        prev,
        prev_history,
        prev_cross,
        scenarios,
        anchors,
        user_sectors,
        not anchors.empty,
        prev_series,
        restored,
    )


def _up_to_date(inputs: _Inputs, version: str) -> bool:
    prev = inputs.previous
    if prev is None or prev.data_fingerprint != inputs.fingerprint or prev.code_version != version:
        return False
    return all(prev.config.get(k) == inputs.config.get(k) for k in FIT_KEYS)


def _scenario_crossovers(paths: SamplePaths | None, scenarios: pd.DataFrame) -> pd.DataFrame:
    """Crossover estimates under every saved scenario but the baseline (stored on its own)."""
    frames = [
        crossover_frame(
            crossover_distribution(paths_under(paths, Scenario.from_dict(json.loads(r.params_json))))
        ).assign(scenario=r.name)
        for r in scenarios.itertuples(index=False)
        if paths is not None and r.name != BASELINE
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["scenario", *CROSSOVER_COLUMNS])


def _settings_from(manifest: dict) -> Settings:
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in manifest["settings"].items() if k in known})


def run_refresh(
    db: Path,
    settings: Settings,
    *,
    force: bool = False,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    from_manifest: Path | None = None,
    models: Sequence[str] | None = None,
    accept_restatement: bool = False,
    accept_drop: bool = False,
) -> RefreshSummary:
    """Fit, backtest and simulate every series, then publish the vintage atomically (or explain why not).

    Args:
        progress: called with (series done, series total) while fitting.
        from_manifest: reproduce a bundle's run: its history, settings and models replace the
            database's history and ``settings``/``models``.
        models: engine model names to choose from (None: the engine's default set).
        accept_restatement: publish even if past values changed beyond the restatement threshold.
        accept_drop: publish even if the run drops a series or crossover sector the previous vintage
            had, or holds a shorter history of one.
    """
    db = Path(db)
    with refresh_lock(db):
        accepted = (accept_restatement, accept_drop)
        return _refresh(db, settings, force, executor, progress, from_manifest, models, accepted)


def refresh_lock(db: Path) -> AbstractContextManager[None]:
    """The refresh lock of ``db``, taken at once or refused with :class:`RefreshInProgressError` (75).

    A lock whose recorded holder has died is waited for briefly (its workers die with it), never kept.
    """

    def busy(who: str) -> RefreshInProgressError:
        return RefreshInProgressError(
            f"another refresh of {db} is running ({who}); this one exits without changing anything"
        )

    return store.file_lock(refresh_lock_path(db), 0, f"the refresh lock on {db}", busy)


def _fit(
    inputs: _Inputs,
    settings: Settings,
    models: Sequence[str] | None,
    executor: Executor | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[ForecastResult, Structure | None]:
    """Fit the engine's series (one group of paths per sector), then the structural model where it applies.

    The structural sectors' total is one engine series; the share model splits its paths into
    sectors and workloads (``structural.py``), and those paths join the result like any series'.
    """
    from .engine import ForecastOptions, forecast

    p = structural.plan(inputs.history, inputs.user_sectors, inputs.structural)
    total = int(p.engine_history[UID].nunique())

    def advance(done: int) -> None:
        if progress:
            progress(done, total)
        if done == 1:
            _pause("fit")

    options = ForecastOptions(
        freq="Q",
        models=models,
        n_paths=settings.n_paths,
        seed=settings.seed,
        backtest_origins=settings.backtest_origins,
        backtest_horizon=settings.backtest_horizon,
        transform=SPEND_TRANSFORM,
    )
    groups = {u: u.rpartition("/")[0] for u in p.engine_history[UID].unique()}
    result = forecast(p.engine_history, settings.horizon, options, groups=groups, executor=executor, progress=advance)
    if not p.sectors or structural.TOTAL_SERIES not in result.paths:
        return result, None
    periods = result.future_ds[structural.TOTAL_SERIES]
    structure = structural.structure_for(
        p, structural.anchors_of(inputs.anchors), result.paths[structural.TOTAL_SERIES], periods, settings.seed
    )
    series = structural.sector_series(structure)
    model = result.status.set_index(UID).loc[structural.TOTAL_SERIES, "model"]
    note = f"the share model's split of the total's paths (total: {model})"
    status = pd.DataFrame([(u, "ok", structural.MODEL, note) for u in sorted(series)], columns=result.status.columns)
    return replace(
        result,
        forecasts=pd.concat([result.forecasts, structural.forecast_rows(series, periods)], ignore_index=True),
        status=pd.concat([result.status, status], ignore_index=True).sort_values(UID, ignore_index=True),
        paths={**result.paths, **series},
        future_ds={**result.future_ds, **dict.fromkeys(series, periods)},
    ), structure


def _crossovers(
    result: ForecastResult, structure: Structure | None, inputs: _Inputs, timings: dict[str, float]
) -> tuple[pd.DataFrame, str]:
    """Crossover estimates under the baseline and every saved scenario, and the change report."""
    t = time.perf_counter()
    joint = sample_paths.from_series(result.paths, result.future_ds, inputs.history)
    if joint is not None and structure is not None:
        joint = structural.attach(joint, structure)
    empty = pd.DataFrame(columns=CROSSOVER_COLUMNS)
    cross = crossover_frame(crossover_distribution(joint)) if joint is not None else empty
    timings["crossover"] = time.perf_counter() - t
    t = time.perf_counter()
    under_scenarios = _scenario_crossovers(joint, inputs.scenarios)
    timings["scenarios"] = time.perf_counter() - t
    first = inputs.previous is None
    moves = p50_moves(cross.iloc[:0] if first else inputs.previous_crossover, cross)
    report = "first vintage: " + change_report(moves).replace("\n", "; ") if first else change_report(moves)
    return pd.concat([cross.assign(scenario=BASELINE), under_scenarios], ignore_index=True), report


def _refresh(
    db: Path,
    settings: Settings,
    force: bool,
    executor: Executor | None,
    progress: Callable[[int, int], None] | None,
    from_manifest: Path | None,
    models: Sequence[str] | None,
    accepted: tuple[bool, bool],
) -> RefreshSummary:
    """The refresh under its lock; ``accepted``: (restatements, drops) the user accepted."""
    started = time.perf_counter()
    store.refuse_read_only(db)  # before the fit, not at the publish
    manifest = read_manifest(from_manifest) if from_manifest else None
    if manifest is not None:
        settings, models = _settings_from(manifest), manifest.get("models")
    # A bundle re-runs under its own scenarios: those the file lacks are saved with the run it publishes.
    restored = tuple(scenarios_to_restore(db, manifest.get("scenarios", []))) if manifest is not None else ()
    inputs = _snapshot(db, settings, models, manifest, restored)
    timings = {"snapshot": time.perf_counter() - started}
    version = code_version()
    prev_id = inputs.previous.run_id if inputs.previous else None
    n_series = inputs.history[UID].nunique()
    log.info(
        "refresh event=snapshot series=%d rows=%d fingerprint=%s previous=%s",
        n_series,
        len(inputs.history),
        inputs.fingerprint[:12],
        prev_id,
    )
    if not force and _up_to_date(inputs, version):
        log.info("refresh event=up_to_date run=%s", prev_id)
        message = f"up to date: run {prev_id} was fitted on the same data, settings and code"
        insert_scenarios(db, restored)  # checked in the snapshot; nothing else to write
        return RefreshSummary(False, prev_id, prev_id, inputs.fingerprint, message)
    gated = None if accepted[0] else inputs.previous
    check_input(inputs.history, gated, inputs.previous_history, settings.restatement_threshold)

    t = time.perf_counter()
    result, structure = _fit(inputs, settings, models, executor, progress)
    timings["fit"] = time.perf_counter() - t
    log.info("refresh event=fitted series=%d seconds=%.2f", len(result.status), timings["fit"])
    check_output(result.forecasts, result.status, settings.horizon)
    return _publish_run(db, inputs, result, structure, settings, version, timings, started, accepted[1])


def _publish_run(
    db: Path,
    inputs: _Inputs,
    result: ForecastResult,
    structure: Structure | None,
    settings: Settings,
    version: str,
    timings: dict[str, float],
    started: float,
    accept_drop: bool = False,
) -> RefreshSummary:
    """Estimate the crossovers of a checked fit, write the run in one transaction and summarise it."""
    prev_id = inputs.previous.run_id if inputs.previous else None
    crossovers, report = _crossovers(result, structure, inputs, timings)
    if not accept_drop:
        check_coverage(inputs.previous, _losses(inputs, result, crossovers))

    now = datetime.now(timezone.utc)
    run_id = publish.new_run_id(now)
    t = time.perf_counter()
    timings["total_before_publish"] = t - started
    run_row = publish.run_row(run_id, now, inputs.fingerprint, inputs.config, version, settings.seed, timings, report)
    tables = publish.run_tables(run_id, result, structure, crossovers, inputs.history, inputs.scenarios)
    if inputs.restored:  # in the run's own transaction: a refused or failed run saves none of them
        tables["scenarios"] = scenario_rows(list(inputs.restored))
    pruned = publish.publish(db, run_row, tables, settings.retention, lambda: _pause("publish"))
    timings["publish"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    log.info(
        "refresh event=published run=%s previous=%s pruned=%d seconds=%.2f",
        run_id,
        prev_id,
        len(pruned),
        timings["total"],
    )
    counts = result.status["status"].value_counts()
    counted = {f"n_{k}": int(counts.get(k, 0)) for k in ("ok", "fallback", "failed")}
    return RefreshSummary(
        True,
        run_id,
        prev_id,
        inputs.fingerprint,
        f"published run {run_id}",
        n_series=len(result.status),
        timings=timings,
        change_report=report,
        pruned=pruned,
        **counted,
    )


def _losses(inputs: _Inputs, result: ForecastResult, crossovers: pd.DataFrame) -> list[str]:
    """What the new run would drop or shrink against the previous vintage (see ``gates.coverage_losses``)."""
    baseline = crossovers[crossovers["scenario"] == BASELINE]
    return coverage_losses(
        set(inputs.previous_series),
        inputs.previous_history,
        set(inputs.previous_crossover["sector"]),
        set(result.status[UID]),
        inputs.history,
        set(baseline["sector"]),
    )


# --------------------------------------------------------------------------- replays for the crossover backtest


def _as_of(inputs: _Inputs, as_of: pd.Timestamp) -> _Inputs:
    """The snapshot as it could have been on ``as_of``: history to that quarter, anchors public by then.

    The modelled history's levels and sector weights were derived with figures published later (the
    Gartner totals date from September 2025); the crossover does not depend on them (it is where the
    share passes one half), and the split of the history is redrawn from the replay's own share model.
    """
    history = inputs.history[inputs.history[DS] <= quarters.start(as_of)]
    known = [
        r.Index
        for r in inputs.anchors.itertuples()
        if (d := share.publication_date(str(r.published))) is not None and d <= as_of
    ]
    config = {**inputs.config, "as_of": str(as_of.date()), "kind": "replay"}
    return replace(
        inputs,
        history=history.reset_index(drop=True),
        config=config,
        previous=None,
        previous_history=inputs.previous_history.iloc[:0],
        previous_crossover=inputs.previous_crossover.iloc[:0],
        anchors=inputs.anchors.loc[known],
    )


def run_replays(
    db: Path,
    settings: Settings,
    as_of: Sequence[pd.Timestamp],
    *,
    models: Sequence[str] | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Re-run the estimate as of each date and store every replay as a run of kind ``replay``.

    The previous replays are replaced in the same transaction; the published run is untouched.
    Returns the replays' run ids, in the order of ``as_of``.
    """
    db = Path(db)
    with refresh_lock(db):
        full = _snapshot(db, settings, models, None)
        version, rows, tables = code_version(), [], []
        for i, date in enumerate(as_of):
            inputs = _as_of(full, pd.Timestamp(date))
            problems = validate_input(inputs.history)
            if problems:
                raise PublishRefusedError(f"cannot replay as of {date:%Y-%m-%d}: {problems[0]}")
            result, structure = _fit(inputs, settings, models, executor, None)
            check_output(result.forecasts, result.status, settings.horizon)
            crossovers, _ = _crossovers(result, structure, inputs, {})
            now = datetime.now(timezone.utc)
            run_id = f"replay-{date:%Y%m%d}-{uuid.uuid4().hex[:6]}"
            note = f"replay as of {date:%Y-%m-%d}"
            rows.append(
                publish.run_row(run_id, now, inputs.fingerprint, inputs.config, version, settings.seed, {}, note)
            )
            no_scenarios = inputs.scenarios.iloc[:0]
            frames = publish.run_tables(run_id, result, structure, crossovers, inputs.history, no_scenarios)
            frames["run_kinds"] = pd.DataFrame(
                [{"run_id": run_id, "kind": "replay", "as_of": pd.Timestamp(date).date()}]
            )
            tables.append(frames)
            if progress:
                progress(i + 1, len(as_of))
        publish.store_replays(db, rows, tables)
    return [str(r["run_id"].iat[0]) for r in rows]
