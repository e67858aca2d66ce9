"""Cached readers for the dashboard: short-lived read-only connections, results cached per data state.

Every loader takes plain arguments (the database path as text, and a *stamp* or a ``run_id``) so
the cache key changes when the data does: a write replaces the database file atomically, which
changes its inode and modification time (:func:`stamp`), and a refresh publishes a new run id.
No connection outlives a loader, so the refresh job and imports are never blocked by the app.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from .. import backtest, history, imports, ingest, reports, scenario_store, vintages
from ..bootstrap import ensure_db
from ..config import TOTAL, default_db_path
from ..crossover import Crossover, crossover_frame, median_curve_crossing
from ..errors import Problem, ValidationError
from ..locks import pid_alive
from ..reports import View, figures
from ..scenario import BASELINE, SCENARIO_SEED, Scenario
from ..sensitivity import GoalSeekResult, SpreadAttribution, spread_attribution, tornado
from ..share import DEFAULT_DEFINITION, DEFINITIONS

log = logging.getLogger(__name__)

#: Seconds a cached result lives; a new stamp or run id replaces it sooner.
TTL_SECONDS = 600


def database() -> Path:
    """The database file (``$CROSSOVER_DB`` or the default), built from the shipped data if missing, migrated if old."""
    db = default_db_path()
    if db.exists():
        _ensured(str(db), stamp(db))
    else:
        ensure_db(db)
    return db


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner="Preparing the database...")
def _ensured(db: str, data_stamp: str) -> str:
    """``bootstrap.ensure_db`` once per file state (it opens the file; reruns should not)."""
    return str(ensure_db(Path(db)))


def stamp(db: Path | str) -> str:
    """Identity of the file's current state: writes replace the file, so inode and mtime change."""
    try:
        st_ = os.stat(db)
    except FileNotFoundError:
        return "missing"
    return f"{st_.st_ino}:{st_.st_mtime_ns}:{st_.st_size}"


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def spend(db: str, data_stamp: str, provenance: str | None = None) -> pd.DataFrame:
    """Stored spend rows, optionally of one provenance (``history.load_spend``)."""
    return history.load_spend(Path(db), provenance)


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def estimates(db: str, data_stamp: str) -> pd.DataFrame:
    """Published estimates joined with their sources (publisher, title, date, url)."""
    return history.load_estimates(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def sources(db: str, data_stamp: str) -> pd.DataFrame:
    """Every source: source_id, publisher, title, source_date, url."""
    return history.load_sources(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def scenarios(db: str, data_stamp: str) -> pd.DataFrame:
    """Saved scenarios (presets first): name, description, author, is_preset, created_at, updated_at."""
    return scenario_store.list_scenarios(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def scenario(db: str, data_stamp: str, name: str) -> Scenario:
    """One saved scenario by name."""
    return scenario_store.load_scenario(Path(db), name)


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def latest_run_id(db: str, data_stamp: str) -> str | None:
    """The published run's id, or ``None`` before the first refresh."""
    return vintages.latest_run_id(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def runs(db: str, data_stamp: str) -> pd.DataFrame:
    """Every stored forecast run, newest first (``vintages.list_runs``)."""
    return vintages.list_runs(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=4, show_spinner=False)
def run(db: str, run_id: str) -> vintages.RunData:
    """One run's forecasts, backtests, status, stored crossovers and baseline paths."""
    return vintages.load_run(Path(db), run_id)


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def compare(db: str, run_a: str, run_b: str, scenario: str = BASELINE) -> pd.DataFrame:
    """How the crossover estimates under ``scenario`` moved from run ``run_a`` to run ``run_b``, and why."""
    return reports.compare_runs(Path(db), run_a, run_b, scenario)


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def crossover_history(db: str, data_stamp: str) -> pd.DataFrame:
    """Stored crossover estimates of every run with its creation time, oldest run first."""
    return vintages.crossover_history(Path(db))


@dataclass(frozen=True)
class Outcome:
    """A scenario applied to a run: crossovers and chart frames for every sector and the total."""

    crossovers: dict[str, Crossover]
    table: pd.DataFrame  # crossover.CROSSOVER_COLUMNS
    probability: pd.DataFrame  # sector, quarter, crossed_by, probability (reports.tables.probability_rows)
    fans: pd.DataFrame  # sector + figures.FAN_COLUMNS
    shares: pd.DataFrame  # sector, ds, p025 .. p975
    p50_curves: dict[str, pd.Timestamp | None]  # when the P50 curves cross, per sector and the total
    definition: str = DEFAULT_DEFINITION


def _view(
    db: str, run_id: str, scenario_json: str, threshold: float = 1.0, definition: str = DEFAULT_DEFINITION
) -> View:
    return View(run(db, run_id), Scenario.from_dict(json.loads(scenario_json)), threshold, definition)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def outcome(
    db: str, run_id: str, scenario_json: str, threshold: float = 1.0, definition: str = DEFAULT_DEFINITION
) -> Outcome:
    """Apply a scenario (``Scenario.to_dict`` as JSON) to a run's paths under a definition: no model is refitted.

    Crossovers are when inference reaches ``threshold`` x training (1: overtakes it).
    """
    view = _view(db, run_id, scenario_json, threshold, definition)
    keys = list(view.crossovers)
    return Outcome(
        crossovers=view.crossovers,
        p50_curves={k: median_curve_crossing(view.paths, k, threshold) for k in keys},
        definition=definition,
        table=crossover_frame(view.crossovers),
        probability=reports.tables.probability_rows(view.crossovers),
        fans=pd.concat([figures.fan_frame(view.paths, s).assign(sector=s) for s in keys], ignore_index=True),
        shares=pd.concat([figures.share_fan(view.paths, s).assign(sector=s) for s in keys], ignore_index=True),
    )


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def annual(db: str, run_id: str, scenario_json: str, sector: str, definition: str = DEFAULT_DEFINITION) -> pd.DataFrame:
    """Calendar-year spend quantiles of one sector (or the total) under a scenario (``figures.annual_frame``)."""
    paths = _view(db, run_id, scenario_json, definition=definition).paths
    hist = history_frames(db, run_id)
    return figures.annual_frame(paths, sector, hist[hist["sector"] == sector].drop(columns="sector"))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner="Splitting the crossover band by source...")
def crossover_rows(
    db: str, run_id: str, scenario_json: str, threshold: float = 1.0, definition: str = DEFAULT_DEFINITION
) -> pd.DataFrame:
    """The crossover table of one definition with its uncertainty budget (``reports.tables.crossover_rows``)."""
    return reports.tables.crossover_rows(_view(db, run_id, scenario_json, threshold, definition))


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def definition_spread(db: str, run_id: str, scenario_json: str, threshold: float = 1.0) -> pd.DataFrame:
    """The total's crossover P10/P50/P90 under every definition the run answers: definition, label, p10, p50, p90."""
    view = _view(db, run_id, scenario_json, threshold)
    rows = []
    for d in view.run.definitions:
        c = view.under(d).crossovers[TOTAL]
        rows.append(
            {
                "definition": d,
                "label": DEFINITIONS[d],
                "p10": c.p10,
                "p50": c.p50,
                "p90": c.p90,
                "state": c.state,
                "prob_within_horizon": c.prob_within_horizon,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(ttl=TTL_SECONDS, max_entries=4, show_spinner="Scoring the replays...")
def crossover_backtest(db: str, data_stamp: str) -> backtest.Backtest | None:
    """The stored replays of the crossover backtest, scored (``backtest.load``); None before any."""
    result = backtest.load(Path(db))
    return None if result.moves.empty else result


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def claims(db: str, data_stamp: str) -> pd.DataFrame:
    """Published crossover claims (``history.load_claims``)."""
    return history.load_claims(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def share_anchors(db: str, data_stamp: str) -> pd.DataFrame:
    """The published inference shares the share model uses (``history.load_share_anchors``)."""
    return history.load_share_anchors(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def history_frames(db: str, run_id: str) -> pd.DataFrame:
    """Modelled history ``sector, ds, training, inference, share`` behind a run, per sector and for the total."""
    paths = run(db, run_id).paths
    if paths is None:
        return pd.DataFrame(columns=["sector", *figures.HISTORY_WIDE_COLUMNS])
    return figures.history_all(paths)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def spread(db: str, run_id: str, scenario_json: str, sector: str, threshold: float = 1.0) -> SpreadAttribution:
    """Whether model or assumption uncertainty dominates the sector's crossover spread."""
    paths = run(db, run_id).require_paths()
    scn = Scenario.from_dict(json.loads(scenario_json))
    return spread_attribution(paths, scn, sector, seed=SCENARIO_SEED, threshold=threshold)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner="Computing the tornado...")
def tornado_frame(db: str, run_id: str, scenario_json: str, sector: str, threshold: float = 1.0) -> pd.DataFrame:
    """P50 crossover (at ``threshold``) at each driver's range ends for a sector (``sensitivity.tornado``)."""
    paths = run(db, run_id).require_paths()
    scn = Scenario.from_dict(json.loads(scenario_json))
    return tornado(paths, scn, sector, seed=SCENARIO_SEED, threshold=threshold)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner="Searching...")
def goal_seek_result(
    db: str, run_id: str, scenario_json: str, sector: str, driver: str, target: str, threshold: float = 1.0
) -> GoalSeekResult:
    """The driver value that puts the sector's P50 crossover (at ``threshold``) in quarter ``target`` (e.g. 2028Q1)."""
    return reports.goal_seek_view(_view(db, run_id, scenario_json, threshold), sector, driver, target)


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def scenario_comparison(db: str, run_id: str, scenario_jsons: list[str], threshold: float = 1.0) -> pd.DataFrame:
    """P10/P50/P90 per sector under each scenario and the shift against the first (``reports.compare_scenarios``)."""
    scenarios = [Scenario.from_dict(json.loads(j)) for j in scenario_jsons]
    return reports.compare_scenarios(View(run(db, run_id), scenarios[0], threshold), scenarios)


def scenario_json(scn: Scenario) -> str:
    """Canonical JSON of a scenario, the cache key of its results."""
    return json.dumps(scn.to_dict(), sort_keys=True)


def refresh_log_path(db: Path) -> Path:
    """Where a refresh started from the dashboard writes its output: ``<db>.refresh.log`` beside the database."""
    return Path(db).with_name(Path(db).name + ".refresh.log")


def start_refresh(db: Path) -> int:
    """Start ``forecasting refresh --db DB`` as a separate process (never inside the app); returns its pid."""
    log_path = refresh_log_path(db)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            [sys.executable, "-m", "forecasting", "refresh", "--db", str(db)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log.info("started refresh of %s as process %d (log %s)", db, proc.pid, log_path)
    return proc.pid


def refresh_running(pid: int) -> bool:
    """Whether refresh process ``pid`` still runs; an exited child of this server is reaped here.

    A process that is not this server's child (or was reaped already) counts as running while it exists.
    """
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return pid_alive(pid)
    return done == 0


def refresh_log_tail(db: Path) -> str:
    """The last line a refresh started from the dashboard wrote to its log (``""`` when there is none)."""
    try:
        lines = refresh_log_path(db).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if line.strip()), "")


#: File types the upload accepts (``ingest`` checks the content again).
UPLOAD_TYPES = ("csv", "parquet")


def import_upload(
    db: Path, file_name: str, content: bytes, *, replace: bool = False, actor: str = "dashboard"
) -> ingest.ImportSummary:
    """Import uploaded bytes as a user file: saved under a safe temporary name, then ``ingest.import_file``.

    The import is recorded under the upload's own (base) name and ``actor``.  Raises ``ValidationError``
    (with the first problems and their count) for a bad file, before anything is written.
    """
    suffix = Path(file_name).suffix.lower()
    if suffix.lstrip(".") not in UPLOAD_TYPES:
        raise ValidationError(
            [Problem(None, None, f"unsupported file type '{suffix}'; use .csv or .parquet")], what=Path(file_name).name
        )
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(file_name).stem)[:80] or "upload"
    with tempfile.TemporaryDirectory(prefix="crossover-upload-") as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_bytes(content)
        return ingest.import_file(db, path, replace=replace, actor=actor, file_name=path.name)


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def imports_list(db: str, data_stamp: str) -> pd.DataFrame:
    """Every recorded import, newest first (``imports.list_imports``)."""
    return imports.list_imports(Path(db))


@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False)
def cited_sources(db: str, data_stamp: str) -> pd.DataFrame:
    """Per distinct ``source_ids`` of the spend history: ``cited`` (publishers and titles) and ``link`` (a URL).

    Ids are ``;``-separated source ids; text that is not an id (an imported row's file name or source)
    is shown as it is.
    """
    known = sources(db, data_stamp).set_index("source_id")
    rows = []
    for ids in spend(db, data_stamp)["source_ids"].fillna("").unique():
        parts = [p for p in str(ids).split(";") if p]
        found = known.loc[[p for p in parts if p in known.index]]
        other = [p for p in parts if p not in known.index]
        if len(found) == 1 and not other:
            cited = f"{found['publisher'].iloc[0]}: {found['title'].iloc[0]}"
        elif len(found):
            publishers = list(dict.fromkeys(found["publisher"]))
            cited = f"{len(found)} sources: " + ", ".join(publishers[:4]) + (", ..." if len(publishers) > 4 else "")
        else:
            cited = str(ids)
        link = next((u for u in found["url"] if isinstance(u, str) and u), None)
        rows.append({"source_ids": ids, "cited": cited, "link": link})
    return pd.DataFrame(rows, columns=["source_ids", "cited", "link"])


def sources_of(db: str, data_stamp: str, source_ids: pd.Series) -> pd.DataFrame:
    """The sources (publisher, title, source_date, url) the given ``source_ids`` cite, with how many rows cite each."""
    counts = source_ids.fillna("").str.split(";").explode().value_counts()
    known = sources(db, data_stamp)
    cited = known[known["source_id"].isin(counts.index)]
    return cited.assign(rows=cited["source_id"].map(counts).astype(int)).sort_values(
        ["rows", "publisher"], ascending=[False, True], ignore_index=True
    )


def forget_data() -> None:
    """Drop the cached readers a write changes (history, sources cited, imports), so counts update at once."""
    for loader in (spend, cited_sources, imports_list, latest_run_id, runs):
        loader.clear()


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Validation problems as a table: row (as a spreadsheet numbers it; empty for the file), column, problem."""
    return pd.DataFrame(
        {
            "row": pd.array([p.row for p in problems], dtype="Int64"),
            "column": [p.column or "" for p in problems],
            "problem": [p.message for p in problems],
        }
    )


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def export_frame(
    db: str,
    kind: str,
    run_id: str,
    scenario_json: str,
    threshold: float = 1.0,
    definition: str = DEFAULT_DEFINITION,
) -> pd.DataFrame:
    """One table (``reports.table``) of a run under a scenario (saved or edited), as ``forecasting export``."""
    return reports.table(kind, _view(db, run_id, scenario_json, threshold, definition))
