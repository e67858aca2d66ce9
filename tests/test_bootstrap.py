"""Building the database from data/ files, and on first use."""

from __future__ import annotations

from pathlib import Path

from forecasting import store
from forecasting.bootstrap import ensure_db, init_db

from .conftest import checksums


def test_init_accepts_a_data_folder_with_no_history_rows(tmp_path: Path, tiny_data: Path) -> None:
    header = (tiny_data / "spend_history.csv").read_text().splitlines()[0]
    (tiny_data / "spend_history.csv").write_text(header + "\n")
    summary = init_db(tmp_path / "empty.duckdb", tiny_data)
    assert (summary.history_rows, summary.sources, summary.estimates) == (0, 1, 1)


def test_the_shipped_data_loads_with_every_row_sourced(shipped_db: Path) -> None:
    with store.reader(shipped_db) as s:
        history = s.frame("history_spend", provenance=None)
        sources = set(s.frame("sources_all")["source_id"])
    assert len(history) == 434 and set(history["provenance"]) == {"modelled"}
    cited = {sid for ids in history["source_ids"] for sid in ids.split(";")}
    assert cited <= sources


def test_ensure_db_leaves_an_existing_current_database_alone(db: Path) -> None:
    before = checksums(db)
    stamp = db.stat().st_mtime_ns
    assert ensure_db(db) == db
    assert checksums(db) == before and db.stat().st_mtime_ns == stamp
