"""The database's schema versions: the migrations, what an older file lacks, and a file of a newer version.

Every writer (:func:`forecasting.store.writer`) refuses a newer file and migrates an older one inside its
transaction; :func:`forecasting.bootstrap.ensure_db` does the same before any command reads a file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from . import store
from .errors import NewerDatabaseError

if TYPE_CHECKING:
    from .store import Session

log = logging.getLogger(__name__)

#: Ordered migrations: (version, sql file name).  Append, never edit a released entry.
MIGRATIONS: list[tuple[int, str]] = [
    (1, "schema"),
    (2, "migrate_002"),
    (3, "migrate_003"),
    (4, "migrate_004"),
    (5, "migrate_005"),
    (6, "migrate_006"),
    (7, "migrate_007"),
    (8, "migrate_008"),
]


def latest_schema_version() -> int:
    """The version a fully migrated database has."""
    return MIGRATIONS[-1][0]


def pending_versions(applied: set[int]) -> list[int]:
    """The migrations a file with ``applied`` versions still needs (by membership, not by the highest)."""
    return [version for version, _ in MIGRATIONS if version not in applied]


def newer_problem(session: Session) -> str | None:
    """Why this code must leave the open file alone: a newer release wrote it (a schema version unknown here).

    Reading or writing it with this code could lose what the newer schema holds. None for every other file.
    """
    if (version := session.schema_version()) > latest_schema_version():
        return (
            f"schema version {version} is newer than this release knows (up to {latest_schema_version()}): "
            "a newer release of Crossover wrote it; upgrade crossover-forecasting to use it"
        )
    return None


def refuse_newer(session: Session, db: Path | str) -> None:
    """:class:`NewerDatabaseError` naming ``db`` when :func:`newer_problem` finds one; nothing is done with it."""
    if (problem := newer_problem(session)) is not None:
        raise NewerDatabaseError(f"database {db}: {problem}")


def migrate(session: Session) -> list[int]:
    """Apply pending migrations in order inside the caller's transaction; returns versions applied.

    A migration is pending when its version is not recorded (not merely above the highest recorded),
    so a numbered file that lands after a later one still runs.
    """
    pending = set(pending_versions(session.applied_versions()))
    applied = []
    for version, name in MIGRATIONS:
        if version not in pending:
            continue
        for statement in _statements(store.load_sql(name)):
            session._con.execute(statement)
        session._con.execute("insert into schema_version (version) values ($v)", {"v": version})
        applied.append(version)
    if applied:
        log.info("migrated database schema to version %d", applied[-1])
    return applied


def schema_problem(session: Session) -> str | None:
    """Why the open file is not a whole Crossover database, or None.

    A file without a ``schema_version`` table is another program's DuckDB file (or an empty one): it is
    never migrated into ours.  A file with every migration applied must hold every table of
    :data:`forecasting.store.TABLES`.
    """
    if session.schema_version() == 0:
        return "it has no schema_version table: another program's DuckDB file, or an empty one"
    if (newer := newer_problem(session)) is not None:
        return newer
    if pending_versions(session.applied_versions()):
        return None  # an older file: the migrations add what it lacks
    missing = session.missing_tables()
    return f"tables missing: {', '.join(missing)}" if missing else None


def _statements(script: str) -> list[str]:
    """Split a DDL script on semicolons at line ends (our DDL has no semicolons in strings)."""
    lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
