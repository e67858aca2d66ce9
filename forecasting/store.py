"""The DuckDB store: the only module that imports ``duckdb``.

Design (see docs/architecture.md): the database is one file that no process ever holds open for
writing.  Readers open it read-only for the span of one query batch.  Every write (init, import,
scenario save, refresh publish) is *copy-on-write*: under a cross-process lock the file is copied
to a temporary sibling, the change runs there in one transaction, the copy is checkpointed, closed
and atomically renamed over the original.  So a write is all-or-nothing, a crash leaves the old
file untouched, and readers never wait on a writer's lock.

Queries live in ``sql/NAME.sql`` (one statement each) and are loaded by name; values are always
bound as ``$name`` parameters.  Table names only ever come from :data:`TABLES`.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from .config import REPO_ROOT
from .errors import DatabaseBusyError, ForecastingError, NotFoundError

log = logging.getLogger(__name__)

#: Ordered migrations: (version, sql file name).  Append, never edit a released entry.
MIGRATIONS: list[tuple[int, str]] = [
    (1, "schema"),
    (2, "migrate_002"),
    (3, "migrate_003"),
    (4, "migrate_004"),
    (5, "migrate_005"),
    (8, "migrate_008"),
]

#: Tables that code may name in generated statements (inserts, deletes by run, checksums).
TABLES = (
    "schema_version",
    "sources",
    "published_estimates",
    "spend_history",
    "scenarios",
    "forecast_runs",
    "series_status",
    "forecasts",
    "sample_paths",
    "backtest_metrics",
    "crossover_estimates",
    "run_history",
    "run_scenarios",
    "share_anchors",
    "crossover_claims",
    "run_structural",
    "run_kinds",
)

_BUSY_MARKERS = ("lock", "Resource temporarily unavailable")


def _resource_dir(package: str, fallback: Path) -> Path:
    """Directory of an installed data package (``sql/`` and ``data/`` ship as such), or its source folder."""
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else fallback


SQL_DIR = _resource_dir("forecasting.sql", REPO_ROOT / "sql")
DATA_DIR = _resource_dir("forecasting.data", REPO_ROOT / "data")


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/NAME.sql``; raises ``ValueError`` for names that are not plain words."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"query name {name!r} must be letters, digits and underscores")
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no query named {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


def query_names() -> list[str]:
    """Names of every query file shipped in ``sql/`` (schema included)."""
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))


def _check_table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"table {table!r} is not in the allow-list {TABLES}")
    return table


class Session:
    """A connection wrapper that runs named queries with bound parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self._con = con
        self.read_only = read_only

    def _execute(self, query: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
        try:
            return self._con.execute(load_sql(query), params or None)
        except duckdb.Error:
            log.error("query %s failed with parameters %r", query, params)
            raise

    def frame(self, query: str, /, **params: Any) -> pd.DataFrame:
        """Run a named query and return its rows as a DataFrame."""
        return self._execute(query, params).df()

    def scalar(self, query: str, /, **params: Any) -> Any:
        """Run a named query and return the first column of its first row (None if no row)."""
        row = self._execute(query, params).fetchone()
        return None if row is None else row[0]

    def run(self, query: str, /, **params: Any) -> None:
        """Run a named statement for its effect."""
        self._execute(query, params)

    def columns(self, table: str) -> list[str]:
        """Column names of an allow-listed table, in table order."""
        rows = self._con.execute(
            "select column_name from information_schema.columns where table_name = $t order by ordinal_position",
            {"t": _check_table(table)},
        ).fetchall()
        return [r[0] for r in rows]

    def insert(self, table: str, df: pd.DataFrame, *, replace: bool = False) -> int:
        """Append ``df`` to an allow-listed table (``replace``: upsert on the primary key); returns rows."""
        if self.read_only:
            raise ValueError("insert needs a writer session")
        known = self.columns(table)
        unknown = [c for c in df.columns if c not in known]
        if unknown:
            raise ValueError(f"columns {unknown} are not columns of {table} ({known})")
        if df.empty:
            return 0
        cols = ", ".join(f'"{c}"' for c in df.columns)  # names checked against the catalogue above
        verb = "insert or replace into" if replace else "insert into"
        self._con.register("_incoming", df)
        try:
            self._con.execute(f"{verb} {table} ({cols}) select {cols} from _incoming")
        finally:
            self._con.unregister("_incoming")
        return len(df)

    def delete_run(self, table: str, run_id: str) -> None:
        """Delete one run's rows from an allow-listed per-run table."""
        self._con.execute(f"delete from {_check_table(table)} where run_id = $run_id", {"run_id": run_id})

    def checksums(self) -> dict[str, str]:
        """Row count and an order-independent content hash per table, for change detection."""
        out: dict[str, str] = {}
        for table in TABLES:
            count, digest = self._one(
                f"select count(*), coalesce(md5(string_agg(t::varchar, '|' order by t::varchar)), '') from {table} t"
            )
            out[table] = f"{count}:{digest}"
        return out

    def schema_version(self) -> int:
        """Highest applied migration, 0 for a file without a schema_version table."""
        (exists,) = self._one("select count(*) from information_schema.tables where table_name = 'schema_version'")
        if not exists:
            return 0
        (version,) = self._one("select coalesce(max(version), 0) from schema_version")
        return int(version)

    def _one(self, sql: str) -> tuple[Any, ...]:
        """The single row an aggregate query returns (fixed SQL of this module only)."""
        row = self._con.execute(sql).fetchone()
        if row is None:
            raise ForecastingError(f"the database returned no row for: {sql}")
        return row


def latest_schema_version() -> int:
    """The version a fully migrated database has."""
    return MIGRATIONS[-1][0]


def migrate(session: Session) -> list[int]:
    """Apply pending migrations in order inside the caller's transaction; returns versions applied."""
    current = session.schema_version()
    applied = []
    for version, name in MIGRATIONS:
        if version <= current:
            continue
        for statement in _statements(load_sql(name)):
            session._con.execute(statement)
        session._con.execute("insert into schema_version (version) values ($v)", {"v": version})
        applied.append(version)
    if applied:
        log.info("migrated database schema to version %d", applied[-1])
    return applied


def _statements(script: str) -> list[str]:
    """Split a DDL script on semicolons at line ends (our DDL has no semicolons in strings)."""
    lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _BUSY_MARKERS)


@contextmanager
def reader(db: Path, timeout: float = 5.0) -> Iterator[Session]:
    """A short-lived read-only session; retries while the file is locked, then raises DatabaseBusyError."""
    db = Path(db)
    if not db.exists():
        raise NotFoundError(f"database {db} does not exist; run `forecasting init --db {db}` first")
    deadline = time.monotonic() + timeout
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                if _is_busy(exc):
                    raise DatabaseBusyError(f"database {db} is busy (being refreshed?); try again shortly") from exc
                raise ForecastingError(f"cannot open database {db}: {exc}") from exc
            time.sleep(0.05)
    try:
        yield Session(con, read_only=True)
    finally:
        con.close()


def lock_path(db: Path) -> Path:
    """The sidecar file whose flock serialises writers of ``db``."""
    return Path(db).with_name(Path(db).name + ".lock")


@contextmanager
def file_lock(path: Path, timeout: float | None, what: str) -> Iterator[None]:
    """Hold an exclusive flock on ``path``; ``timeout=0`` fails at once, ``None`` waits forever."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    raise DatabaseBusyError(f"{what} is held by another process; try again shortly") from exc
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def writer(db: Path, *, fresh: bool = False, timeout: float = 60.0) -> Iterator[Session]:
    """Copy-on-write transaction on ``db``: all of the block's changes land atomically, or none do.

    ``fresh`` starts from an empty file instead of a copy (used by ``init``).  Migrations run first.
    """
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock_path(db), timeout, f"the write lock on {db}"):
        tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
        wal = tmp.with_name(tmp.name + ".wal")
        _remove_quietly(tmp, wal)
        if db.exists() and not fresh:
            shutil.copyfile(db, tmp)
        con = duckdb.connect(str(tmp))
        try:
            session = Session(con, read_only=False)
            con.execute("begin transaction")
            migrate(session)
            yield session
            con.execute("commit")
            con.execute("checkpoint")
        except BaseException:
            con.close()
            _remove_quietly(tmp, wal)
            raise
        con.close()
        _fsync_path(tmp)
        os.replace(tmp, db)
        _fsync_path(db.parent)


def file_digest(db: Path) -> str:
    """SHA-256 of the database file's bytes (cheap identity of a published state)."""
    h = hashlib.sha256()
    with open(db, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
