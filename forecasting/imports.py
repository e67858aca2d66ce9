"""Imports as units: each import that changed the spend history is recorded, listed and can be undone.

An import's record (``imports``) says when (UTC), which file, how many rows and who; its rows
(``import_rows``) keep each value it wrote and the value it replaced, so an undo removes exactly that
import's rows and puts back what they replaced, in one transaction.  Imports and undos both refuse
to leave a sector with one workload on quarters the other lacks (:func:`unbalanced`): the refresh
could not fit it, or would leave the sector out of the crossovers.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import quarters, store
from .config import WORKLOADS
from .errors import ImportRefusedError, ImportUndoError, NotFoundError, Problem

log = logging.getLogger(__name__)

#: Quarters named in a refusal before "and N more".
_SHOWN = 4


@dataclass(frozen=True)
class UndoSummary:
    """What an undo did: rows removed (the import added them) and restored (it had replaced them)."""

    import_id: int
    file_name: str
    removed: int
    restored: int
    sectors: tuple[str, ...]


def now_utc() -> pd.Timestamp:
    """The current time in UTC, without a zone (how the store keeps timestamps)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def unbalanced(session: store.Session, sectors: set[str]) -> list[Problem]:
    """For each of ``sectors``: a problem if its training and inference do not cover the same quarters."""
    rows = session.frame("import_history_rows")
    rows = rows[rows["sector"].isin(sectors)]
    problems = []
    for sector, group in rows.groupby("sector"):
        have = {w: set(pd.to_datetime(group.loc[group["workload"] == w, "period"])) for w in WORKLOADS}
        for w, other in (WORKLOADS, WORKLOADS[::-1]):
            missing = sorted(have[w] - have[other])
            if not missing:
                continue
            shown = ", ".join(quarters.label(q) for q in missing[:_SHOWN])
            more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
            what = f"has {w} but no {other} rows" if not have[other] else f"has {w} but no {other} for {shown}{more}"
            problems.append(
                Problem(
                    None, None, f"sector '{sector}' {what}: the refresh needs both workloads over the same quarters"
                )
            )
    return problems


def span_notes(session: store.Session, sectors: set[str]) -> tuple[str, ...]:
    """Warnings for ``sectors`` whose last quarter is not the one most series end on (left out of crossovers)."""
    rows = session.frame("import_history_rows")
    last = pd.to_datetime(rows["period"]).groupby([rows["sector"], rows["workload"]]).max()
    if last.empty:
        return ()
    common = Counter(last.to_list()).most_common(1)[0][0]
    ends = last.groupby(level="sector").max()
    return tuple(
        f"sector '{s}' ends in {quarters.label(ends[s])} while the history ends in {quarters.label(common)}: "
        "the refresh forecasts it but leaves it out of the crossovers until it ends in the same quarter"
        for s in sorted(sectors)
        if s in ends and ends[s] != common
    )


def record(session: store.Session, written: pd.DataFrame, meta: dict[str, object]) -> int:
    """Store one import: its rows (``written``: key, new value, before_* columns) and its record; returns its id.

    ``meta`` holds file_name, row_count, inserted, updated, unchanged, actor, sectors, first_period, last_period.
    """
    import_id = int(session.scalar("import_next_id"))
    session.insert("import_rows", written.assign(import_id=import_id))
    session.insert("imports", pd.DataFrame([{**meta, "import_id": import_id, "imported_at": now_utc()}]))
    return import_id


def list_imports(db: Path) -> pd.DataFrame:
    """Every recorded import, newest first (columns of ``sql/import_list.sql``); empty before the first."""
    with store.reader(db) as s:
        if "imports" not in _tables(s):
            return pd.DataFrame(columns=_LIST_COLUMNS)
        return s.frame("import_list")


_LIST_COLUMNS = [
    "import_id",
    "imported_at",
    "file_name",
    "row_count",
    "inserted",
    "updated",
    "unchanged",
    "actor",
    "sectors",
    "first_period",
    "last_period",
    "undone_at",
    "undone_by",
]


def _tables(session: store.Session) -> set[str]:
    """Tables an older, not yet migrated file may lack are checked by the version it records."""
    return {"imports", "import_rows"} if session.schema_version() >= 6 else set()


def undo_import(db: Path, import_id: int, actor: str) -> UndoSummary:
    """Remove exactly the rows import ``import_id`` wrote and put back what they replaced, in one transaction.

    Raises NotFoundError for an unknown id, ImportUndoError when it was undone already or a later
    import (not undone) wrote some of the same rows, and ImportRefusedError when the undo would leave
    a sector with one workload on quarters the other lacks.
    """
    with store.writer(db) as s:
        found = s.frame("import_get", import_id=int(import_id))
        if found.empty:
            raise NotFoundError(f"no import with id {import_id}; `forecasting import --list` shows them")
        rec = found.iloc[0]
        if pd.notna(rec["undone_at"]):
            when = f"{pd.Timestamp(rec['undone_at']):%Y-%m-%d %H:%M:%S} UTC"
            raise ImportUndoError(f"import {import_id} ({rec['file_name']}) was undone already, at {when}")
        blockers = s.frame("import_blockers", import_id=int(import_id))
        if not blockers.empty:
            later = ", ".join(f"{b.import_id} ({b.file_name}, {b.row_count} rows)" for b in blockers.itertuples())
            raise ImportUndoError(
                f"import {import_id} cannot be undone before the later imports {later}: undo those first"
            )
        s.run("import_undo_delete", import_id=int(import_id))
        s.run("import_undo_restore", import_id=int(import_id))
        sectors = set(str(rec["sectors"]).split(";")) - {""}
        problems = unbalanced(s, sectors)
        if problems:
            raise ImportRefusedError(problems, what=f"undoing import {import_id}")
        s.run("import_mark_undone", import_id=int(import_id), undone_at=now_utc(), undone_by=actor)
    summary = UndoSummary(
        int(import_id), str(rec["file_name"]), int(rec["inserted"]), int(rec["updated"]), tuple(sorted(sectors))
    )
    log.info("undid import %d: %s", import_id, summary)
    return summary
