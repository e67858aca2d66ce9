"""The store: named queries, copy-on-write writes, migrations and lock handling."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from forecasting import schema, store
from forecasting.errors import DatabaseBusyError, NotFoundError

from .conftest import checksums

SAMPLE_PARAMS = {
    "provenance": None,
    "name": "no-such-scenario",
    "description": "d",
    "author": "a",
    "params_json": "{}",
    "is_preset": False,
    "run_id": "no-such-run",
    "run_a": "no-such-run",
    "run_b": "no-such-run",
    "scenario": "baseline",
    "unique_id": "healthcare/inference",
    "sector": "healthcare",
    "keep": 5,
    "limit": 10,
    "import_id": 999,
    "undone_at": pd.Timestamp("2026-01-01"),
    "undone_by": "test",
    "at_utc": "2026-01-01 00:00:00",
    "actor": "a",
    "action": "scenario.save",
    "detail": "d",
}


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("query", [q for q in store.query_names() if q != "schema" and not q.startswith("migrate")])
def test_every_sql_file_runs_against_the_fixture_database(db: Path, query: str) -> None:
    names = sorted(set(re.findall(r"\$([a-z_][a-z0-9_]*)", store.load_sql(query))))
    missing = [n for n in names if n not in SAMPLE_PARAMS]
    assert not missing, f"add sample values for {missing} to SAMPLE_PARAMS"
    before = checksums(db)
    with pytest.raises(_Rollback), store.writer(db) as s:
        s.frame(query, **{n: SAMPLE_PARAMS[n] for n in names})
        raise _Rollback
    assert checksums(db) == before


def test_every_sql_file_starts_with_a_header_naming_it() -> None:
    for query in store.query_names():
        first = store.load_sql(query).splitlines()[0]
        assert first.startswith(f"-- {query}:"), f"{query}.sql must start with '-- {query}: ...'"


def test_a_failed_write_leaves_the_file_and_directory_as_they_were(db: Path) -> None:
    before = checksums(db)
    listing = sorted(p.name for p in db.parent.iterdir())
    with pytest.raises(RuntimeError), store.writer(db) as s:
        s.run("scenario_delete", name="baseline")
        s.insert("sources", pd.DataFrame({"source_id": ["x"], "publisher": ["p"], "title": ["t"]}))
        raise RuntimeError("interrupted")
    assert checksums(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == listing


def test_a_successful_write_is_visible_to_the_next_reader(db: Path) -> None:
    with store.writer(db) as s:
        s.insert("sources", pd.DataFrame({"source_id": ["x"], "publisher": ["p"], "title": ["t"]}))
    with store.reader(db) as s:
        assert "x" in set(s.frame("sources_all")["source_id"])


def test_insert_refuses_tables_and_columns_outside_the_allow_list(db: Path) -> None:
    with pytest.raises(ValueError, match="allow-list"), store.writer(db) as s:
        s.insert("pg_catalog; drop table sources", pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="not columns of sources"), store.writer(db) as s:
        s.insert("sources", pd.DataFrame({"source_id": ["x"], 'evil"': ["y"]}))


def test_query_names_must_be_plain_words() -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        store.load_sql("../schema")


def test_rerunning_migrations_is_a_no_op(db: Path) -> None:
    before = checksums(db)
    with store.writer(db) as s:
        assert schema.migrate(s) == []
    assert checksums(db) == before


def test_an_older_database_is_upgraded_in_place_keeping_its_rows(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    for p in store.SQL_DIR.glob("*.sql"):
        (sql_dir / p.name).write_text(p.read_text())
    (sql_dir / "migrate_test.sql").write_text(
        "-- migrate_test: add a column.\nalter table sources add column if not exists licence varchar;\n"
    )
    released = schema.latest_schema_version()
    monkeypatch.setattr(store, "SQL_DIR", sql_dir)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (99, "migrate_test")])
    store.load_sql.cache_clear()
    with store.reader(db) as s:
        rows_before = len(s.frame("history_spend", provenance=None))
        assert s.schema_version() == released
    with store.writer(db):
        pass
    with store.reader(db) as s:
        assert s.schema_version() == 99
        assert "licence" in s.columns("sources")
        assert len(s.frame("history_spend", provenance=None)) == rows_before
    store.load_sql.cache_clear()


def test_a_database_of_a_newer_release_is_left_alone_by_every_face(db: Path) -> None:
    """A file a newer release wrote (schema version 99) was read and written by this one, exit 0, and
    `check` called it sound; a refresh would have published into a schema it does not know."""
    import duckdb

    from forecasting import integrity
    from forecasting.bootstrap import ensure_db
    from forecasting.errors import NewerDatabaseError

    with duckdb.connect(str(db)) as con:
        con.execute("insert into schema_version (version) values (99)")
    before = checksums(db)
    message = "schema version 99 is newer than this release knows (up to 8)"
    with pytest.raises(NewerDatabaseError, match=re.escape(f"database {db}: {message}")):
        ensure_db(db)
    with pytest.raises(NewerDatabaseError, match=re.escape(message)), store.writer(db) as w:
        w.run("scenario_delete", name="anything")
    report = integrity.check(db)
    assert not report.ok and report.findings[0].check == "schema" and message in report.findings[0].detail
    assert checksums(db) == before


def test_reading_a_missing_database_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="forecasting init"), store.reader(tmp_path / "none.duckdb"):
        pass


def _hold(code: str) -> subprocess.Popen[str]:
    """Start a Python process that runs ``code``, prints 'ready' and then sleeps until killed."""
    script = textwrap.dedent(code) + "\nprint('ready', flush=True)\nimport time; time.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_reader_reports_busy_while_another_process_holds_the_file_for_writing(db: Path) -> None:
    proc = _hold(f"import duckdb; con = duckdb.connect({str(db)!r})")
    try:
        with pytest.raises(DatabaseBusyError, match="busy"), store.reader(db, timeout=0.3):
            pass
    finally:
        proc.kill()
        proc.wait()
    with store.reader(db) as s:
        assert s.schema_version() == schema.latest_schema_version()


def test_a_writer_waits_for_the_write_lock_and_then_gives_up_clearly(db: Path) -> None:
    lock = store.lock_path(db)
    proc = _hold(
        f"import fcntl, os; fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX)"
    )
    try:
        with pytest.raises(DatabaseBusyError, match="write lock"), store.writer(db, timeout=0.3):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_a_write_keeps_the_file_mode_owner_and_group(db: Path) -> None:
    db.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(db, 4321, 4321)  # as root (CI): as if a service account owned the file
    owner = (db.stat().st_uid, db.stat().st_gid)
    with store.writer(db) as s:
        s.run("scenario_delete", name="nothing")
    st = db.stat()
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, *owner)


def test_a_read_only_database_file_is_not_written(db: Path) -> None:
    before = db.read_bytes()
    db.chmod(0o444)  # no write bit for anyone: refused even for root, whom the bits do not stop
    with pytest.raises(PermissionError, match="read-only"):
        with store.writer(db) as s:
            s.run("scenario_delete", name="nothing")
    assert db.read_bytes() == before and db.stat().st_mode & 0o777 == 0o444
    with store.reader(db) as s:  # reads still work
        assert s.schema_version() == schema.latest_schema_version()
