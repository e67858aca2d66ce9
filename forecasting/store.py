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
import hashlib
import importlib.util
import logging
import os
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import audit, schema
from .config import REPO_ROOT
from .errors import DatabaseBusyError, DatabaseDamagedError, ForecastingError, NotFoundError
from .locks import file_lock, pid_alive

log = logging.getLogger(__name__)

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
    "imports",
    "import_rows",
)

_BUSY_MARKERS = ("lock", "Resource temporarily unavailable")
#: What DuckDB says about a file that is damaged or is not one of its databases.
_DAMAGE_MARKERS = (
    "Corrupt database file",
    "Could not read enough bytes",
    "not a valid DuckDB database",
    "INTERNAL Error",
    "invalidated",
    "Serialization Error",
)
#: Every connection's configuration: no extension is installed or loaded behind the product's back
#: (a SQLite file would otherwise make DuckDB fetch one from the network).
CONNECT_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


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

    def applied_versions(self) -> set[int]:
        """Every migration version recorded in the file (empty for a file without a schema)."""
        if self.schema_version() == 0:
            return set()
        return {int(r[0]) for r in self._con.execute("select version from schema_version").fetchall()}

    def missing_tables(self) -> list[str]:
        """The tables of :data:`TABLES` the file lacks (an older file lacks the newer ones until migrated)."""
        present = _existing_tables(self._con)
        return [t for t in TABLES if t not in present]

    def scan(self, tables: tuple[str, ...] = TABLES) -> dict[str, int]:
        """Read every byte of every row of ``tables`` (DuckDB verifies each block's checksum); rows per table."""
        counts = {}
        for table in tables:
            (counts[table], _) = self._one(f"select count(*), bit_xor(hash(t)) from {_check_table(table)} t")
        return counts

    def _one(self, sql: str) -> tuple[Any, ...]:
        """The single row an aggregate query returns (fixed SQL of this module only)."""
        row = self._con.execute(sql).fetchone()
        if row is None:
            raise ForecastingError(f"the database returned no row for: {sql}")
        return row


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _BUSY_MARKERS)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error means the file is damaged or is not a DuckDB database."""
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in _DAMAGE_MARKERS)


def damaged(db: Path, reason: str) -> DatabaseDamagedError:
    """The one-line error for a file that is damaged or not ours, saying why and what to do."""
    return DatabaseDamagedError(
        f"database {db} is damaged or is not a Crossover database ({reason}); restore a copy or "
        "rebuild it with `forecasting init --force` (which keeps this file as a backup)"
    )


def _damaged(db: Path, exc: BaseException) -> DatabaseDamagedError:
    return damaged(db, _first_line(exc))


@contextmanager
def _translated(db: Path) -> Iterator[None]:
    """Turn DuckDB's errors about the file itself (damaged, busy, unreadable) into one-line product errors."""
    try:
        yield
    except duckdb.Error as exc:
        if is_damage(exc):
            raise _damaged(db, exc) from exc
        if _is_busy(exc):
            raise DatabaseBusyError(f"database {db} is busy (being refreshed?); try again shortly") from exc
        if isinstance(exc, duckdb.IOException):
            raise ForecastingError(f"cannot read or write database {db}: {_first_line(exc)}") from exc
        raise


def _connect(path: Path, read_only: bool, db: Path) -> duckdb.DuckDBPyConnection:
    """A connection to ``path`` (``db`` or a copy of it) with :data:`CONNECT_CONFIG`, its clock in UTC.

    A file DuckDB cannot open as a database (random bytes, a SQLite file: with autoloading off it
    asks for an extension instead of fetching one) is :class:`DatabaseDamagedError`; a busy file
    raises DuckDB's own error, which the reader retries.
    """
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=CONNECT_CONFIG)
    except duckdb.Error as exc:
        if _is_busy(exc):
            raise
        if is_damage(exc) or "xtension" in str(exc):  # a foreign file makes DuckDB ask for an extension
            raise _damaged(db, exc) from exc
        raise ForecastingError(f"cannot open database {db}: {_first_line(exc)}") from exc
    try:
        con.execute("set TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def reader(db: Path, timeout: float = 5.0) -> Iterator[Session]:
    """A short-lived read-only session; retries while the file is locked, then raises DatabaseBusyError."""
    db = Path(db)
    if not db.exists():
        raise NotFoundError(f"no database at {db}; run `forecasting init --db {db}` first")
    deadline = time.monotonic() + timeout
    with _translated(db):
        while True:
            try:
                con = _connect(db, read_only=True, db=db)
                break
            except duckdb.IOException as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        try:
            yield Session(con, read_only=True)
        finally:
            con.close()


def lock_path(db: Path) -> Path:
    """The sidecar file whose flock serialises writers of ``db``."""
    return Path(db).with_name(Path(db).name + ".lock")


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


def _temporary(db: Path, pid: int) -> Path:
    return db.with_name(f".{db.name}.{pid}.tmp")


def remove_stale_temporaries(db: Path) -> list[Path]:
    """Remove the copies (and their WAL files) that writers of ``db`` left when they died; returns them.

    Call while holding the write lock: a copy whose owner is this process or is still alive stays.
    """
    removed = []
    for path in Path(db).parent.glob(f".{Path(db).name}.*.tmp*"):
        owner = path.name[len(f".{Path(db).name}.") :].split(".", 1)[0]
        if owner.isdigit() and (int(owner) == os.getpid() or pid_alive(int(owner))):
            continue
        log.info("store event=stale_temporary_removed path=%s", path)
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@contextmanager
def writer(db: Path, *, fresh: bool = False, timeout: float = 60.0) -> Iterator[Session]:
    """Copy-on-write transaction on ``db``: all of the block's changes land atomically, or none do.

    ``fresh`` starts from an empty file instead of a copy (used by ``init``).  Before the block runs,
    stale copies of dead writers are removed, every table of the copy is read whole (a damaged file
    raises :class:`DatabaseDamagedError` and nothing is written) and pending migrations run.  A copy
    that fails half-way (a full disk, an interrupt) is removed.
    """
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock_path(db), timeout, f"the write lock on {db}"):
        refuse_read_only(db)
        remove_stale_temporaries(db)
        tmp = _temporary(db, os.getpid())
        wal = tmp.with_name(tmp.name + ".wal")
        _remove_quietly(tmp, wal)
        try:
            with _translated(db):
                if db.exists() and not fresh:
                    shutil.copyfile(db, tmp)
                con = _connect(tmp, read_only=False, db=db)
                try:
                    yield from _transaction(con, db)
                finally:
                    con.close()
            _keep_permissions(db, tmp)
            _fsync_path(tmp)
            os.replace(tmp, db)
        except BaseException:
            _remove_quietly(tmp, wal)
            raise
        _fsync_path(db.parent)


def refuse_read_only(db: Path) -> None:
    """``PermissionError`` naming ``db`` when the file is read-only (no write bit, or none for this user).

    A write renames a copy over the file, which only the folder's permissions would otherwise stop.
    """
    try:
        mode = db.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & 0o222 or not os.access(db, os.W_OK):
        raise PermissionError(errno.EACCES, "the database file is read-only (chmod u+w allows writes)", str(db))


def _keep_permissions(db: Path, tmp: Path) -> None:
    """Give the copy the mode, owner and group of the file it replaces, so a write never widens access.

    The owner is kept where the system allows it (root writing a service's file); otherwise the copy
    stays the writer's own.
    """
    try:
        st = db.stat()
    except FileNotFoundError:
        return  # a new database: the umask decides, as for any new file
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    with suppress(PermissionError):
        os.chown(tmp, st.st_uid, st.st_gid)


def _transaction(con: duckdb.DuckDBPyConnection, db: Path) -> Iterator[Session]:
    """Check the copy of ``db``, migrate it and hand it to the writer's block inside one committed transaction.

    The audit row of an ``audit.attributed`` block being run commits in the same transaction as its change.
    """
    session = Session(con, read_only=False)
    schema.refuse_newer(session, db)
    session.scan(tuple(t for t in TABLES if t in _existing_tables(con)))
    con.execute("begin transaction")
    schema.migrate(session)
    yield session
    entry = audit.pending()
    if entry is not None:
        entry.insert(session)
    con.execute("commit")
    con.execute("checkpoint")
    if entry is not None:
        entry.recorded = True


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}


def file_digest(db: Path) -> str:
    """SHA-256 of the database file's bytes (cheap identity of a published state)."""
    h = hashlib.sha256()
    with open(db, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
