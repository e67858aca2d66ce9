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
