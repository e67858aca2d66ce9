"""The integrity of a database file: every table readable, every stored blob as written, every run whole.

``forecasting check`` runs :func:`check` and prints each finding.  Every writer reads each table of
its copy whole before it changes anything (``store.writer``), which is the cheap part of the same
check; a refresh then checks the blobs and runs of the copy it is about to publish into
(:func:`require_sound`) and the run it adds before the commit (:func:`require_complete`).  DuckDB
verifies a checksum on every block it reads, so reading a table whole is what finds a damaged block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import schema, store
from .errors import DatabaseDamagedError, PublishRefusedError

#: Findings listed per check before "... and N more".
SHOWN = 10


@dataclass(frozen=True)
class Finding:
    """One check's outcome: its name, whether it passed and what it found."""

    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    """Every finding of an integrity check of one database file."""

    db: Path
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(f.ok for f in self.findings)

    def problems(self) -> list[str]:
        """The failed checks as ``check: detail`` lines."""
        return [f"{f.check}: {f.detail}" for f in self.findings if not f.ok]


def _listed(items: list[str]) -> str:
    more = f" ... and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return "; ".join(items[:SHOWN]) + more


def tables_readable(s: store.Session) -> Finding:
    """Read every row of every table (a damaged block fails DuckDB's checksum on the way)."""
    damaged, rows = [], 0
    present = [t for t in store.TABLES if s.columns(t)]  # an older file lacks the newer tables
    for table in present:
        try:
            rows += s.scan((table,))[table]
        except Exception as exc:  # noqa: BLE001  (any error of the read; only damage is a finding)
            if not store.is_damage(exc):
                raise
            damaged.append(f"{table} ({str(exc).splitlines()[0]})")
    if damaged:
        return Finding("tables readable", False, "cannot read " + _listed(damaged))
    return Finding("tables readable", True, f"{len(present)} tables, {rows} rows read whole")


def blobs_match(s: store.Session) -> Finding:
    """Every stored blob of sample paths and structural draws has the checksum written with it."""
    if "checksum" not in s.columns("sample_paths"):
        return Finding("blob checksums", True, "not stored yet (a file older than schema 7); the next write adds them")
    bad = s.frame("integrity_blobs")
    if not bad.empty:
        items = [f"{r.table_name} {r.run_id} {r.unique_id}".rstrip() for r in bad.itertuples(index=False)]
        return Finding("blob checksums", False, f"{len(items)} blob(s) differ from their checksum: " + _listed(items))
    n = int(s.frame("integrity_runs")["n_paths"].sum())
    return Finding("blob checksums", True, f"{n} path blob(s) and the structural draws match their checksums")


def run_problems(s: store.Session, run_id: str | None = None) -> list[str]:
    """Why stored runs (or the one named) are incomplete; an empty list when every one is whole."""
    runs = s.frame("integrity_runs")
    if run_id is not None:
        runs = runs[runs["run_id"] == run_id]
        if runs.empty:
            return [f"run {run_id} is not stored"]
    problems = []
    for r in runs.itertuples(index=False):
        horizon = 0 if pd.isna(r.horizon) else int(r.horizon)
        reasons = []
        if r.n_series == 0:
            reasons.append("no series")
        if not r.n_fitted * horizon <= r.n_forecasts <= r.n_series * horizon or horizon < 1:
            reasons.append(f"{r.n_forecasts} forecast rows for {r.n_series} series x {horizon} quarters")
        if not r.n_fitted <= r.n_paths <= r.n_series:
            reasons.append(f"sample paths of {r.n_paths} of {r.n_series} series")
        if r.n_crossovers == 0:
            reasons.append("no baseline crossover")
        if r.n_history == 0:
            reasons.append("no history")
        if reasons:
            problems.append(f"run {r.run_id} ({r.status}): " + ", ".join(reasons))
    return problems


def runs_complete(s: store.Session) -> Finding:
    """Every stored run holds all its rows, and at most one run is published."""
    problems = run_problems(s)
    runs = s.frame("integrity_runs")
    published = runs[runs["status"] == "published"]
    if len(published) > 1:
        problems.append(f"{len(published)} runs are published at once: {', '.join(published['run_id'])}")
    if problems:
        return Finding("runs complete", False, _listed(problems))
    return Finding("runs complete", True, f"{len(runs)} run(s) complete, {len(published)} published")


def findings(s: store.Session) -> tuple[Finding, ...]:
    """Every check, in order, on an open session (only the schema's when the file is not a whole Crossover one)."""
    problem = schema.schema_problem(s)
    if problem is not None:  # the other checks would only trip over the tables it lacks
        return (Finding("schema", False, problem),)
    readable = tables_readable(s)
    if not readable.ok:  # the other checks would only trip over the same damage
        return (readable,)
    return (readable, blobs_match(s), runs_complete(s))


def check(db: Path) -> Report:
    """Run every check on the file ``db`` (read-only); a file DuckDB cannot open raises DatabaseDamagedError."""
    db = Path(db)
    with store.reader(db) as s:
        return Report(db, findings(s))


def require_sound(s: store.Session, db: Path) -> None:
    """Raise :class:`DatabaseDamagedError` naming every failed check (the refresh, before it publishes).

    ``s`` is a writer's session: :func:`store.writer` has read every table of the copy already (a damaged
    block fails there), so only the blob checksums and the runs' completeness are checked here.
    """
    report = Report(Path(db), (blobs_match(s), runs_complete(s)))
    if not report.ok:
        raise DatabaseDamagedError(
            f"database {db} failed its integrity check, so nothing was published: "
            + " | ".join(report.problems())
            + "; `forecasting check` lists the findings"
        )


def require_complete(s: store.Session, run_id: str) -> None:
    """Raise :class:`PublishRefusedError` unless ``run_id`` holds all its rows (checked before the commit)."""
    problems = run_problems(s, run_id)
    if problems:
        raise PublishRefusedError("refusing to publish an incomplete run: " + "; ".join(problems))
