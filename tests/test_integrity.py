"""The integrity check: readable tables, blobs as written, whole runs; damaged and foreign files refused."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forecasting import integrity, store
from forecasting.bootstrap import ensure_db
from forecasting.cli import app
from forecasting.errors import DatabaseDamagedError
from forecasting.executors import SerialExecutor
from forecasting.refresh import run_refresh

from .conftest import TINY_MODELS, TINY_SETTINGS, checksums, copy_db

runner = CliRunner()


@pytest.fixture
def published(tmp_path: Path, tiny_published_template: Path) -> Path:
    return copy_db(tiny_published_template, tmp_path / "crossover.duckdb")


def _error_line(result) -> str:  # noqa: ANN001  (click's Result)
    assert "Traceback" not in result.output, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_sound_database_passes_every_check(published: Path) -> None:
    report = integrity.check(published)
    assert report.ok, report.problems()
    assert [f.check for f in report.findings] == ["tables readable", "blob checksums", "runs complete"]
    result = runner.invoke(app, ["check", "--db", str(published)])
    assert result.exit_code == 0 and result.output.count("ok  ") == 3, result.output


def test_a_changed_path_blob_fails_its_checksum_and_blocks_the_next_refresh(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("update sample_paths set paths = paths || '\\x00'::blob where unique_id = 'retail/inference'")
    report = integrity.check(published)
    assert not report.ok and "sample_paths" in report.problems()[0] and "retail/inference" in report.problems()[0]
    result = runner.invoke(app, ["check", "--db", str(published)])
    assert result.exit_code == 65 and "FAILED  blob checksums" in result.output
    before = checksums(published)
    with pytest.raises(DatabaseDamagedError, match="failed its integrity check, so nothing was published"):
        run_refresh(published, TINY_SETTINGS, models=TINY_MODELS, executor=SerialExecutor(), force=True)
    assert checksums(published) == before


def test_a_run_missing_its_forecasts_is_incomplete(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("delete from forecasts where unique_id = 'healthcare/training'")
    (problem,) = integrity.check(published).problems()
    assert problem.startswith("runs complete: run ") and "forecast rows for 4 series x 8 quarters" in problem


def test_a_truncated_file_is_reported_damaged_on_reads_and_writes(published: Path, tmp_path: Path) -> None:
    with open(published, "r+b") as fh:
        fh.truncate(published.stat().st_size // 2)
    digest = store.file_digest(published)
    upload = tmp_path / "mine.csv"
    upload.write_text("period,sector,workload,spend_usd\n2025Q1,acme,training,1\n2025Q1,acme,inference,1\n")
    commands = (
        ["vintage", "list"],
        ["scenario", "set", "x", "edge_share", "0.4"],
        ["import", str(upload)],
        ["refresh", "--force", "--models", "naive"],
    )
    for command in commands:
        result = runner.invoke(app, [*command, "--db", str(published)])
        assert result.exit_code == 65, (command, result.output)
        assert f"database {published} is damaged" in _error_line(result)
    assert store.file_digest(published) == digest
    assert list(published.parent.glob(f".{published.name}.*")) == []


def test_random_bytes_in_a_used_block_are_found_and_elsewhere_change_nothing(published: Path) -> None:
    original = checksums(published)
    size, block = published.stat().st_size, 256 * 1024
    found = 0
    rng = random.Random(7)
    for offset in range(3 * 4096, size, block):
        damaged = published.with_name(f"damaged-{offset}.duckdb")
        damaged.write_bytes(published.read_bytes())
        with open(damaged, "r+b") as fh:
            fh.seek(offset)
            fh.write(rng.randbytes(min(block, size - offset)))
        try:
            sound = integrity.check(damaged).ok
        except DatabaseDamagedError:
            sound = False
        if sound:  # the bytes landed in free space: every table reads as before
            assert checksums(damaged) == original, offset
        found += not sound
        damaged.unlink()
    assert found >= 1


def test_a_sqlite_file_is_refused_in_one_line_without_loading_an_extension(tmp_path: Path) -> None:
    lite = tmp_path / "lite.duckdb"
    sqlite3.connect(lite).execute("create table t (a)").connection.commit()
    with pytest.raises(DatabaseDamagedError, match="is damaged or is not a Crossover database"):
        with store.reader(lite):
            pass
    result = runner.invoke(app, ["scenario", "list", "--db", str(lite)])
    assert result.exit_code == 65 and f"database {lite}" in _error_line(result)


@pytest.mark.parametrize("tables", [["create table t (a integer)"], []], ids=["another program's", "empty"])
def test_a_duckdb_file_that_is_not_ours_is_refused_and_left_as_it_was(tmp_path: Path, tables: list[str]) -> None:
    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    for statement in tables:
        con.execute(statement)
    con.close()
    before = foreign.read_bytes()
    with pytest.raises(DatabaseDamagedError, match="no schema_version table"):
        ensure_db(foreign)
    for args in (["vintage", "list"], ["scenario", "list"], ["import", "--list"], ["check"]):
        result = runner.invoke(app, [*args, "--db", str(foreign)])
        assert result.exit_code == 65, result.output
        assert "no schema_version table" in result.output
    assert foreign.read_bytes() == before  # no migration wrote our tables into it


def test_a_database_missing_a_table_is_damaged_for_check_and_every_command(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("drop table run_scenarios")
    report = integrity.check(published)
    assert not report.ok and report.problems() == ["schema: tables missing: run_scenarios"]
    for args in (["check"], ["export", "history", "-o", "-"], ["vintage", "show"]):
        result = runner.invoke(app, [*args, "--db", str(published)])
        assert result.exit_code == 65, result.output
        assert "tables missing: run_scenarios" in _error_line(result) or "FAILED  schema" in result.output


def test_every_connection_turns_extension_autoloading_off_and_uses_utc(published: Path) -> None:
    with store.reader(published) as s:
        row = s._con.execute(
            "select current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions'), "
            "current_setting('TimeZone')"
        ).fetchone()
    assert row == (False, False, "UTC")


def test_an_older_file_gets_checksums_for_the_blobs_it_holds(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("alter table sample_paths drop column checksum")
        s._con.execute("alter table run_structural drop column checksum")
        s._con.execute("delete from schema_version where version = 7")
    assert ensure_db(published) == published
    with store.reader(published) as s:
        assert 7 in s.applied_versions()
    assert integrity.check(published).ok


def test_a_migration_numbered_below_the_newest_still_runs(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("delete from schema_version where version = 5")  # as if 5 had landed after 7
    with store.writer(published) as s:
        assert 5 in s.applied_versions()


def test_a_writer_reads_every_table_before_it_writes(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    real = store.Session.scan
    monkeypatch.setattr(
        store.Session, "scan", lambda self, tables=store.TABLES: seen.append(tables) or real(self, tables)
    )
    with store.writer(published):
        pass
    assert seen and set(seen[0]) == set(store.TABLES)
