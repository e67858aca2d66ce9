"""Importing a user's file: every problem reported at once, all or nothing, idempotent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting import ingest, store
from forecasting.cli import app
from forecasting.errors import ValidationError
from forecasting.ingest import import_file, parse_period

from .conftest import checksums

runner = CliRunner()
GOOD = "period,sector,workload,spend_usd\n2025Q1,Acme Corp,training,100\n2025Q1,Acme Corp,inference,50\n"


def _write(tmp_path: Path, text: str | bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BAD_FILES = {
    "missing column": ("period,sector,spend_usd\n2025Q1,retail,1\n", "column 'workload': required column is missing"),
    "unknown column": (
        "period,sector,workload,spend_usd,colour\n2025Q1,retail,training,1,red\n",
        "column 'colour': unknown column",
    ),
    "unparseable period": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,1\nspring,retail,training,2\n",
        "row 3, column 'period': cannot parse 'spring'",
    ),
    "mixed frequencies": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,1\n2025-02,retail,training,2\n"
        "2025Q2,retail,training,3\n",
        "mixed frequencies: quarterly (2 rows), monthly (1 rows); e.g. rows [3]",
    ),
    "unknown workload": (
        "period,sector,workload,spend_usd\n2025Q1,retail,fine-tuning,1\n",
        "row 2, column 'workload': unknown workload 'fine-tuning'",
    ),
    "negative spend": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,-5\n",
        "row 2, column 'spend_usd': spend -5 is negative",
    ),
    "NaN spend": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,NaN\n",
        "row 2, column 'spend_usd': spend is NaN",
    ),
    "infinite spend": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,inf\n",
        "row 2, column 'spend_usd': spend is infinite",
    ),
    "text spend": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,lots\n",
        "row 2, column 'spend_usd': 'lots' is not a number",
    ),
    "duplicate keys": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,1\n2025Q2,retail,training,1\n2025Q1,Retail,training,2\n",
        "row 4: duplicate key 2025Q1 retail/training (worldwide); also in row 2",
    ),
    "empty file": ("", "file: file is empty"),
    "header only": ("period,sector,workload,spend_usd\n", "file: file has a header but no data rows"),
    "wrong encoding": (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,1\n2025Q1,Fran\xe7ais,training,1\n".encode("latin-1"),
        "row 3: not valid UTF-8",
    ),
    "total sector": (
        "period,sector,workload,spend_usd\n2025Q1,total,training,1\n",
        "row 2, column 'sector': 'total' is computed",
    ),
    "overwrites shipped row": (
        "period,sector,workload,spend_usd\n2023Q1,healthcare,training,1\n",
        "row 2: would overwrite a shipped modelled value; use --replace",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_exits_non_zero_naming_the_row_and_problem_and_changes_nothing(
    db: Path, tmp_path: Path, case: str
) -> None:
    text, expected = BAD_FILES[case]
    before = checksums(db)
    result = runner.invoke(app, ["import", str(_write(tmp_path, text)), "--db", str(db)])
    assert result.exit_code == 65, result.output
    assert expected in " ".join(result.output.split()), result.output
    assert checksums(db) == before


def test_a_file_over_the_size_limit_is_refused_before_reading(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "IMPORT_MAX_MB", 0.00001)
    before = checksums(db)
    result = runner.invoke(app, ["import", str(_write(tmp_path, GOOD)), "--db", str(db)])
    assert result.exit_code == 65
    assert "the limit is 1e-05 MB" in result.output
    assert checksums(db) == before


def test_every_problem_in_a_file_is_reported_at_once(db: Path, tmp_path: Path) -> None:
    text = (
        "period,sector,workload,spend_usd\n2025Q1,retail,training,-1\nlater,retail,inference,2\n2025Q2,retail,gpu,x\n"
    )
    with pytest.raises(ValidationError) as info:
        import_file(db, _write(tmp_path, text))
    assert [(p.row, p.column) for p in info.value.problems] == [
        (2, "spend_usd"),
        (3, "period"),
        (4, "workload"),
        (4, "spend_usd"),
    ]


def test_one_bad_row_among_good_ones_lands_nothing(db: Path, tmp_path: Path) -> None:
    before = checksums(db)
    with pytest.raises(ValidationError):
        import_file(db, _write(tmp_path, GOOD + "2025Q2,Acme Corp,training,-1\n"))
    assert checksums(db) == before


def test_a_good_file_lands_with_user_provenance_and_a_summary(db: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(_write(tmp_path, GOOD)), "--db", str(db)])
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    expected = "imported 2 rows from upload.csv as import 1 (2025Q1 to 2025Q1, sectors: acme_corp): 2 new, 0 updated"
    assert expected in message
    with store.reader(db) as s:
        rows = s.frame("history_spend", provenance="user")
    assert rows[["sector", "workload", "spend_usd", "provenance", "source_ids"]].to_dict("records") == [
        {
            "sector": "acme_corp",
            "workload": "inference",
            "spend_usd": 50.0,
            "provenance": "user",
            "source_ids": "upload.csv",
        },
        {
            "sector": "acme_corp",
            "workload": "training",
            "spend_usd": 100.0,
            "provenance": "user",
            "source_ids": "upload.csv",
        },
    ]


def test_importing_the_same_file_twice_changes_nothing(db: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    import_file(db, path)
    before = checksums(db)
    summary = import_file(db, path)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, 2)
    assert checksums(db) == before


def test_a_changed_value_is_updated_in_place(db: Path, tmp_path: Path) -> None:
    import_file(db, _write(tmp_path, GOOD))
    summary = import_file(db, _write(tmp_path, GOOD.replace(",100", ",120")))
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    with store.reader(db) as s:
        rows = s.frame("history_spend", provenance="user")
    assert sorted(rows["spend_usd"]) == [50.0, 120.0]


def test_replace_lets_an_import_overwrite_a_shipped_row(db: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, "period,sector,workload,spend_usd,source\n2023Q1,Healthcare,training,7,My survey\n")
    summary = import_file(db, path, replace=True)
    assert (summary.inserted, summary.updated) == (0, 1)
    with store.reader(db) as s:
        row = s.frame("history_spend", provenance="user")
    assert row[["sector", "spend_usd", "source_ids"]].to_dict("records") == [
        {"sector": "healthcare", "spend_usd": 7.0, "source_ids": "My survey"}
    ]


def test_parquet_files_import_like_csv(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "upload.parquet"
    pd.DataFrame(
        {
            "period": ["2025Q1", "2025Q1"],
            "sector": ["retail x", "retail x"],
            "workload": ["training", "inference"],
            "spend_usd": [1.5, 2.5],
            "region": ["emea", "emea"],
        }
    ).to_parquet(path)
    summary = import_file(db, path)
    assert (summary.rows, summary.inserted, summary.sectors) == (2, 2, ("retail_x",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024Q3", ("Q", "2024-07-01")),
        ("2024-q3", ("Q", "2024-07-01")),
        ("Q3 2024", ("Q", "2024-07-01")),
        ("2024-07-01", ("Q", "2024-07-01")),
        ("2024-08", ("M", "2024-08-01")),
        ("2024", ("Y", "2024-01-01")),
        ("2024-08-15", None),
        ("2024Q5", None),
        ("", None),
    ],
)
def test_periods_parse_as_quarters_months_or_years(text: str, expected: tuple[str, str] | None) -> None:
    parsed = parse_period(text)
    assert (parsed and (parsed[0], f"{parsed[1]:%Y-%m-%d}")) == expected


# --- imports as units: recorded, listed, undone ----------------------------------------------------------------

ACME_Q2 = "period,sector,workload,spend_usd\n2025Q2,Acme Corp,training,110\n2025Q2,Acme Corp,inference,60\n"


def test_an_import_is_recorded_with_its_id_time_file_rows_and_actor(db: Path, tmp_path: Path) -> None:
    from forecasting.imports import list_imports

    before = pd.Timestamp.now(tz="UTC").tz_localize(None)
    summary = import_file(db, _write(tmp_path, GOOD), actor="ana")
    listed = list_imports(db)
    assert summary.import_id == 1
    row = listed.iloc[0]
    assert (row["import_id"], row["file_name"], row["row_count"], row["inserted"], row["actor"]) == (
        1,
        "upload.csv",
        2,
        2,
        "ana",
    )
    assert before - pd.Timedelta(seconds=1) <= row["imported_at"] <= pd.Timestamp.now(tz="UTC").tz_localize(None)
    assert pd.isna(row["undone_at"])


def test_an_import_that_changes_nothing_is_not_recorded(db: Path, tmp_path: Path) -> None:
    from forecasting.imports import list_imports

    import_file(db, _write(tmp_path, GOOD))
    assert import_file(db, _write(tmp_path, GOOD)).import_id is None
    assert list_imports(db)["import_id"].tolist() == [1]


def test_undo_removes_exactly_that_imports_rows(db: Path, tmp_path: Path) -> None:
    from forecasting.imports import undo_import

    import_file(db, _write(tmp_path, GOOD, "first.csv"))
    with store.reader(db) as s:
        history_before = s.frame("history_spend", provenance=None)
    second = import_file(db, _write(tmp_path, ACME_Q2, "second.csv"))
    done = undo_import(db, second.import_id or 0, actor="ana")
    assert (done.removed, done.restored) == (2, 0)
    with store.reader(db) as s:
        pd.testing.assert_frame_equal(s.frame("history_spend", provenance=None), history_before)


def test_undo_of_a_replacing_import_puts_the_shipped_values_back(db: Path, tmp_path: Path) -> None:
    from forecasting.imports import undo_import

    with store.reader(db) as s:
        shipped = s.frame("import_history_rows") if s.schema_version() >= 6 else s.frame("history_keys")
    text = "period,sector,workload,spend_usd\n2023Q1,Healthcare,training,7\n2023Q1,Healthcare,inference,8\n"
    summary = import_file(db, _write(tmp_path, text), replace=True)
    assert summary.updated == 2
    undo_import(db, summary.import_id or 0, actor="ana")
    with store.reader(db) as s:
        now = s.frame("history_keys")
    cols = ["period", "sector", "region", "workload", "provenance", "spend_usd", "source_ids"]
    key = ["period", "sector", "region", "workload"]
    pd.testing.assert_frame_equal(
        now[cols].sort_values(key, ignore_index=True), shipped[cols].sort_values(key, ignore_index=True)
    )


def test_undo_refuses_an_unknown_id_a_second_undo_and_an_earlier_import_a_later_one_changed(
    db: Path, tmp_path: Path
) -> None:
    first = import_file(db, _write(tmp_path, GOOD, "first.csv"))
    import_file(db, _write(tmp_path, GOOD.replace(",100", ",120"), "second.csv"))
    result = runner.invoke(app, ["import", "--undo", "99", "--db", str(db)])
    assert result.exit_code == 66 and "no import with id 99" in result.output
    result = runner.invoke(app, ["import", "--undo", str(first.import_id), "--db", str(db)])
    assert result.exit_code == 65
    assert "cannot be undone before the later imports 2 (second.csv, 2 rows): undo those first" in result.output
    assert runner.invoke(app, ["import", "--undo", "2", "--db", str(db)]).exit_code == 0
    result = runner.invoke(app, ["import", "--undo", "2", "--db", str(db)])
    assert result.exit_code == 65 and "import 2 (second.csv) was undone already" in result.output


def test_undo_refuses_to_leave_a_sector_with_one_workload(db: Path, tmp_path: Path) -> None:
    from forecasting.errors import ImportRefusedError
    from forecasting.imports import undo_import

    head = "period,sector,workload,spend_usd,region\n"
    first = import_file(db, _write(tmp_path, head + "2025Q1,Acme,training,1,emea\n2025Q1,Acme,inference,1,apac\n"))
    import_file(db, _write(tmp_path, head + "2025Q1,Acme,training,1,apac\n", "more.csv"))
    before = checksums(db)
    with pytest.raises(ImportRefusedError, match="sector 'acme' has training but no inference rows"):
        undo_import(db, first.import_id or 0, actor="ana")
    assert checksums(db) == before


def test_the_cli_lists_imports_in_a_table_and_undoes_one(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["import", "--list", "--db", str(db)]).output.strip() == "no imports recorded"
    assert runner.invoke(app, ["import", str(_write(tmp_path, GOOD)), "--db", str(db)]).exit_code == 0
    listed = runner.invoke(app, ["import", "--list", "--db", str(db)])
    assert listed.exit_code == 0
    line = next(ln for ln in listed.output.splitlines() if "upload.csv" in ln)
    cells = line.split("\t")  # off a terminal a table is tab-separated lines
    assert cells[0] == "1" and cells[2:] == ["upload.csv", "2", "2", "0", ingest_user(), "acme_corp", "active"]
    undone = runner.invoke(app, ["import", "--undo", "1", "--db", str(db)])
    assert undone.exit_code == 0 and "undid import 1 (upload.csv): 2 rows removed, 0 restored" in undone.output
    assert "undone 20" in runner.invoke(app, ["import", "--list", "--db", str(db)]).output


def ingest_user() -> str:
    from forecasting.audit import os_user

    return os_user()


def test_import_needs_exactly_one_of_a_file_list_or_undo(db: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "--db", str(db)]).exit_code == 2
    assert runner.invoke(app, ["import", str(_write(tmp_path, GOOD)), "--list", "--db", str(db)]).exit_code == 2


def test_a_sector_ending_in_another_quarter_imports_with_a_note_naming_it(db: Path, tmp_path: Path) -> None:
    # The tiny history ends in 2024Q4; a sector ending in 2025Q1 would be left out of the crossovers.
    result = runner.invoke(app, ["import", str(_write(tmp_path, GOOD)), "--db", str(db)])
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "note: sector 'acme_corp' ends in 2025Q1 while the history ends in 2024Q4" in message
    ending_with_the_rest = GOOD.replace("2025Q1", "2024Q4").replace("Acme Corp", "Beta")
    assert import_file(db, _write(tmp_path, ending_with_the_rest, "beta.csv")).notes == ()
