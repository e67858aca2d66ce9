"""A corpus of bad import files (each refused with its own one-line problem, every table unchanged) and of
valid but unusual files that must import (BOM, CRLF, quoted commas and line breaks, blank lines)."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting import ingest, store
from forecasting.cli import app
from forecasting.errors import ImportRefusedError

runner = CliRunner()
HEAD = "period,sector,workload,spend_usd\n"
#: The quarter today is in (UTC), the last one an import may hold.
_TODAY = pd.Timestamp.now(tz="UTC").tz_localize(None).to_period("Q")


def table_checksums(db: Path) -> dict[str, str]:
    """Row count and content hash of every table in the DuckDB file, whatever the allow-list says."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        out = {}
        for t in sorted(tables):
            quoted = '"' + t.replace('"', '""') + '"'  # a name read from the catalogue, quoted
            count, digest = con.execute(
                f"select count(*), coalesce(md5(string_agg(x::varchar, '|' order by x::varchar)), '') from {quoted} x"
            ).fetchone() or (0, "")
            out[t] = f"{count}:{digest}"
        return out
    finally:
        con.close()


def _rows(*lines: str) -> str:
    return HEAD + "".join(f"{line}\n" for line in lines)


def _pair(period: str = "2025Q1", sector: str = "Acme", spend: str = "5", training: str = "training") -> str:
    """Two rows of one sector (training and inference) with the given cells."""
    return _rows(f"{period},{sector},{training},{spend}", f"{period},{sector},inference,{spend}")


#: name -> (file content, expected problem text in the output, file name).
BAD: dict[str, tuple[str | bytes, str, str]] = {
    # --- files
    "empty": ("", "file: file is empty", "f.csv"),
    "whitespace only": ("  \n\n \n", "file: file is empty", "f.csv"),
    "header only": (HEAD, "file has a header but no data rows", "f.csv"),
    "header and blank lines": (HEAD + "\n\n,,,\n", "file has a header but no data rows", "f.csv"),
    "missing column": ("period,sector,spend_usd\n2025Q1,Acme,1\n", "column 'workload': required column", "f.csv"),
    "unknown column": (HEAD.strip() + ",colour\n2025Q1,Acme,training,1,red\n", "column 'colour': unknown", "f.csv"),
    "duplicate column": (HEAD.strip() + ",sector\n2025Q1,Acme,training,1,x\n", "appears more than once", "f.csv"),
    "latin-1": (_pair(sector="Français").encode("latin-1"), "row 2: not valid UTF-8", "f.csv"),
    "utf-16": (_pair().encode("utf-16"), "row 1: not valid UTF-8", "f.csv"),
    "png bytes": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not valid UTF-8", "f.csv"),
    "spreadsheet file": (b"PK\x03\x04", "unsupported file type '.xlsx'", "f.xlsx"),
    "no extension": (_pair(), "unsupported file type ''", "data"),
    "text as parquet": (_pair(), "not a readable Parquet file", "f.parquet"),
    "value in an unnamed column": (
        HEAD.strip() + ",\n2025Q1,Acme,training,1,x\n2025Q1,Acme,inference,1,\n",
        "row 2: a value in a column without a name in the header",
        "f.csv",
    ),
    "too many fields": (_rows("2025Q1,Acme,training,1,extra"), "row 2: row has 5 fields; the header has 4", "f.csv"),
    "too few fields": (_rows("2025Q1,Acme,training"), "row 2: row has 3 fields; the header has 4", "f.csv"),
    "unterminated quote": (_rows('2025Q1,Acme,training,"5'), "row 2: not a readable CSV row", "f.csv"),
    "text after a quote": (_rows('2025Q1,"Acme"x,training,5'), "row 2: not a readable CSV row", "f.csv"),
    # --- names
    "NUL in sector": (_pair(sector="Ac\x00me"), "U+0000 (NUL)", "f.csv"),
    "bell in sector": (_pair(sector="Ac\x07me"), "U+0007", "f.csv"),
    "escape in sector": (_pair(sector="\x1b[31mAcme"), "U+001B", "f.csv"),
    "C1 control in sector": (_pair(sector="Ac\x85me"), "U+0085", "f.csv"),
    "RTL marks and emoji": (_pair(sector="\u200fRetail\u202e😀"), "invisible formatting character U+200F", "f.csv"),
    "zero-width space": (_pair(sector="Ac\u200bme"), "invisible formatting character U+200B", "f.csv"),
    "BOM inside a name": (_pair(sector="Acme\ufeff"), "invisible formatting character U+FEFF", "f.csv"),
    "Retail!!": (_pair(sector="Retail!!"), "sector 'Retail!!' is not the shipped sector 'retail'", "f.csv"),
    "retail dot": (_pair(sector="retail."), "is not the shipped sector 'retail'", "f.csv"),
    "emoji retail": (_pair(sector="Retail 😀"), "is not the shipped sector 'retail'", "f.csv"),
    "fullwidth punctuation": (_pair(sector="Ｒｅｔａｉｌ！"), "sector 'Retail!' is not the shipped sector", "f.csv"),
    "financial-services": (_pair(sector="Financial-Services"), "shipped sector 'financial_services'", "f.csv"),
    "empty sector": (_pair(sector=""), "row 2, column 'sector': sector is empty", "f.csv"),
    "emoji only": (_pair(sector="😀"), "sector '😀' has no letters or digits", "f.csv"),
    "total": (_pair(sector="total"), "'total' is computed as the sum of sectors", "f.csv"),
    "Total spaced": (_pair(sector=" Total "), "'total' is computed as the sum of sectors", "f.csv"),
    "all": (_pair(sector="all"), "'all' is reserved", "f.csv"),
    "Total market": (_pair(sector="Total market"), "sector 'Total market' would show as 'Total market'", "f.csv"),
    "all sectors": (_pair(sector="ALL-Sectors"), "would show as 'All sectors', which the dashboard uses", "f.csv"),
    "long sector": (_pair(sector="a" * 101), "name is 101 characters long; the limit is 100", "f.csv"),
    "two spellings": (
        _rows("2025Q1,Acme Corp,training,1", "2025Q1,Acme-Corp,inference,1"),
        "row 3, column 'sector': 'Acme-Corp' and 'acme corp' (row 2) would both be sector 'acme_corp'",
        "f.csv",
    ),
    "NUL in region": (
        "period,sector,workload,spend_usd,region\n2025Q1,Acme,training,1,eu\x00\n2025Q1,Acme,inference,1,eu\n",
        "row 2, column 'region': contains the control character U+0000",
        "f.csv",
    ),
    "bidi in region": (
        "period,sector,workload,spend_usd,region\n2025Q1,Acme,training,1,\u202aemea\n2025Q1,Acme,inference,1,emea\n",
        "row 2, column 'region': '\u202aemea' contains an invisible formatting character U+202A",
        "f.csv",
    ),
    "NUL in source": (
        "period,sector,workload,spend_usd,source\n2025Q1,Acme,training,1,sur\x00vey\n2025Q1,Acme,inference,1,x\n",
        "row 2, column 'source': contains the control character U+0000",
        "f.csv",
    ),
    "long source": (
        f"period,sector,workload,spend_usd,source\n2025Q1,Acme,training,1,{'s' * 501}\n2025Q1,Acme,inference,1,x\n",
        "source is 501 characters long; the limit is 500",
        "f.csv",
    ),
    # A spreadsheet's semicolon (or tab) CSV is one column: the problem says which separator it used.
    "semicolons": (
        "period;sector;workload;spend_usd\n2025Q1;Acme;training;1\n",
        "unknown column; expected period, sector, workload, spend_usd, region, source (the file looks "
        "semicolon-separated; save it with commas)",
        "f.csv",
    ),
    "unknown workload": (_pair(training="gpu"), "row 2, column 'workload': unknown workload 'gpu'", "f.csv"),
    "empty workload": (_pair(training=""), "row 2, column 'workload': unknown workload ''", "f.csv"),
    "NUL in workload": (_pair(training="training\x00"), "row 2, column 'workload': contains the control", "f.csv"),
    # --- periods
    "spring": (_pair(period="spring"), "row 2, column 'period': cannot parse 'spring'", "f.csv"),
    "quarter 5": (_pair(period="2024Q5"), "cannot parse '2024Q5'", "f.csv"),
    "1899": (_pair(period="1899Q1"), "row 2, column 'period': year 1899 in '1899Q1' is outside 1990-2100", "f.csv"),
    "2199": (_pair(period="2199Q1"), "year 2199 in '2199Q1' is outside 1990-2100", "f.csv"),
    "0000": (_pair(period="0000Q1"), "row 2, column 'period': year 0000 in '0000Q1' is outside 1990-2100", "f.csv"),
    "1600": (_pair(period="1600-01-01"), "year 1600 in '1600-01-01' is outside 1990-2100", "f.csv"),
    "9999": (_pair(period="9999Q4"), "year 9999 in '9999Q4' is outside 1990-2100", "f.csv"),
    "1989 edge": (_pair(period="1989Q4"), "year 1989 in '1989Q4' is outside 1990-2100", "f.csv"),
    # A quarter still to come is not history: a typo like 2027 for 2025 used to land as the sector's
    # last observed quarter (and took a shipped sector out of the crossovers).
    "not begun": (_pair(period="2099Q1"), "row 2, column 'period': '2099Q1' has not begun (today is in", "f.csv"),
    "next quarter": (_pair(period=str(_TODAY + 1)), f"'{_TODAY + 1}' has not begun (today is in {_TODAY})", "f.csv"),
    "mid-quarter date": (_pair(period="2024-08-15"), "cannot parse '2024-08-15'", "f.csv"),
    "month 13": (_pair(period="2024-13"), "cannot parse '2024-13'", "f.csv"),
    "30 February": (_pair(period="2024-02-30"), "cannot parse '2024-02-30'", "f.csv"),
    "five-digit year": (_pair(period="20245Q1"), "cannot parse '20245Q1'", "f.csv"),
    "empty period": (_pair(period=""), "row 2, column 'period': cannot parse ''", "f.csv"),
    "monthly": (_pair(period="2024-02"), "periods are monthly; spend history is quarterly", "f.csv"),
    "yearly": (_pair(period="2024"), "periods are yearly; spend history is quarterly", "f.csv"),
    "mixed frequencies": (
        _rows("2025Q1,Acme,training,1", "2025Q1,Acme,inference,1", "2025-05,Acme,training,1"),
        "mixed frequencies: quarterly (2 rows), monthly (1 rows); e.g. rows [4]",
        "f.csv",
    ),
    # --- numbers
    "1.234,56": (_pair(spend='"1.234,56"'), "row 2, column 'spend_usd': '1.234,56' has a ','", "f.csv"),
    "1,234": (_pair(spend='"1,234"'), "'1,234' has a ','", "f.csv"),
    "1,234,567.8": (_pair(spend='"1,234,567.8"'), "'1,234,567.8' has a ','", "f.csv"),
    "decimal comma": (_pair(spend='"12,5"'), "'12,5' has a ','", "f.csv"),
    "space thousands": (_pair(spend="1 234"), "'1 234' is not a number", "f.csv"),
    "underscores": (_pair(spend="1_000"), "'1_000' is not a number", "f.csv"),
    "dollar sign": (_pair(spend="$100"), "'$100' is not a number", "f.csv"),
    "dangling exponent": (_pair(spend="12e"), "'12e' is not a number", "f.csv"),
    "hex": (_pair(spend="0x10"), "'0x10' is not a number", "f.csv"),
    "Arabic-Indic digits": (_pair(spend="١٢٣"), "'١٢٣' is not a number", "f.csv"),
    "fullwidth digits": (_pair(spend="１２３"), "'１２３' is not a number", "f.csv"),
    "two points": (_pair(spend="1.234.567"), "'1.234.567' is not a number", "f.csv"),
    "empty spend": (_pair(spend=""), "row 2, column 'spend_usd': spend is missing", "f.csv"),
    "NaN": (_pair(spend="NaN"), "row 2, column 'spend_usd': spend is NaN", "f.csv"),
    "inf": (_pair(spend="inf"), "spend is infinite", "f.csv"),
    "-Infinity": (_pair(spend="-Infinity"), "spend is infinite", "f.csv"),
    "overflow": (_pair(spend="1e400"), "spend is infinite", "f.csv"),
    "negative": (_pair(spend="-5"), "row 2, column 'spend_usd': spend -5 is negative", "f.csv"),
    "absurd": (_pair(spend="1e300"), "spend 1e+300 is over $10 trillion in one quarter", "f.csv"),
    # --- the history the import would leave
    "duplicate key": (
        _rows("2025Q1,Acme,training,1", "2025Q1,Acme,inference,1", "2025Q1,ACME,training,2"),
        "row 4: duplicate key 2025Q1 acme/training (worldwide); also in row 2",
        "f.csv",
    ),
    "training only": (_rows("2025Q1,Acme,training,1"), "sector 'acme' has training but no inference rows", "f.csv"),
    "inference only": (_rows("2025Q1,Acme,inference,1"), "sector 'acme' has inference but no training rows", "f.csv"),
    "workloads on other quarters": (
        _rows("2025Q1,Acme,training,1", "2025Q2,Acme,training,1", "2025Q1,Acme,inference,1"),
        "sector 'acme' has training but no inference for 2025Q2",
        "f.csv",
    ),
    "one row of a shipped sector": (
        _rows("2026Q4,retail,training,5"),
        "sector 'retail' has training but no inference for 2026Q4",
        "f.csv",
    ),
    "shipped row without --replace": (
        _rows("2023Q1,healthcare,training,1"),
        "row 2: would overwrite a shipped modelled value; use --replace",
        "f.csv",
    ),
}


def test_the_corpus_holds_at_least_sixty_bad_inputs() -> None:
    assert len(BAD) >= 60


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_input_is_refused_with_its_problem_and_every_table_is_unchanged(
    db: Path, tmp_path: Path, case: str
) -> None:
    content, expected, name = BAD[case]
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = table_checksums(db)
    result = runner.invoke(app, ["import", str(path), "--db", str(db)])
    assert result.exit_code == 65, result.output
    assert "Traceback" not in result.output
    problem_lines = [line.strip() for line in result.output.splitlines()]
    assert any(expected in line for line in problem_lines), result.output
    assert table_checksums(db) == before


@pytest.mark.parametrize("case", ["latin-1", "utf-16", "text as parquet"])
def test_a_file_that_cannot_be_read_is_not_also_called_empty(tmp_path: Path, case: str) -> None:
    content, expected, name = BAD[case]
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(ImportRefusedError) as refused:
        ingest.validate_file(path)
    assert [expected in str(p) for p in refused.value.problems] == [True]


def test_a_missing_file_is_refused_in_one_line(db: Path, tmp_path: Path) -> None:
    before = table_checksums(db)
    result = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--db", str(db)])
    assert result.exit_code == 66 and f"no file {tmp_path / 'nope.csv'}" in result.output  # README: 66, no such file
    assert table_checksums(db) == before


def test_a_file_over_the_size_limit_is_refused_before_reading(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "IMPORT_MAX_MB", 0.00001)
    path = tmp_path / "f.csv"
    path.write_text(_pair())
    before = table_checksums(db)
    result = runner.invoke(app, ["import", str(path), "--db", str(db)])
    assert result.exit_code == 65 and "the limit is 1e-05 MB" in result.output
    assert table_checksums(db) == before


# --- valid but unusual ------------------------------------------------------------------------------------------

GOOD_ROWS = [("2025Q1", "acme", "training", 10.0), ("2025Q1", "acme", "inference", 4.5)]

UNUSUAL: dict[str, bytes] = {
    "BOM": ("\ufeff" + _rows("2025Q1,Acme,training,10", "2025Q1,Acme,inference,4.5")).encode(),
    "CRLF": _rows("2025Q1,Acme,training,10", "2025Q1,Acme,inference,4.5").replace("\n", "\r\n").encode(),
    "CR only": _rows("2025Q1,Acme,training,10", "2025Q1,Acme,inference,4.5").replace("\n", "\r").encode(),
    "BOM and CRLF": ("\ufeff" + _rows("2025Q1,Acme,training,10", "2025Q1,Acme,inference,4.5"))
    .replace("\n", "\r\n")
    .encode(),
    "blank lines": ("\n" + HEAD + "\n\n2025Q1,Acme,training,10\n\n,,,\n2025Q1,Acme,inference,4.5\n\n").encode(),
    "quoted cells": _rows('"2025Q1","Acme","training","10"', '"2025Q1","Acme","inference","4.5"').encode(),
    "spaces and case": (
        b" Period , SECTOR ,Workload, spend_usd \n 2025Q1 ,  ACME ,Training , 10 \n2025-q1,acme,INFERENCE,4.5e0\n"
    ),
    "empty unnamed columns": (HEAD.strip() + ",,\n2025Q1,Acme,training,10,,\n2025Q1,Acme,inference,4.5,,\n").encode(),
    "no final newline": _rows("2025Q1,Acme,training,10", "2025Q1,Acme,inference,4.5").rstrip("\n").encode(),
    "other period forms": _rows("Q1 2025,Acme,training,10", "2025-01-01,Acme,inference,4.5").encode(),
    "plus sign and exponent": _rows("2025Q1,Acme,training,+1e1", "2025Q1,Acme,inference,.45E1").encode(),
}
#: The quarter in progress may be imported (a run rate, say); the one after it may not.
THIS_QUARTER = _rows(f"{_TODAY},Acme,training,10", f"{_TODAY},Acme,inference,4.5").encode()


def _user_rows(db: Path) -> list[tuple[str, str, str, float]]:
    with store.reader(db) as s:
        rows = s.frame("history_spend", provenance="user")
    return sorted(
        (f"{p.year}Q{p.quarter}", sec, w, float(v))
        for p, sec, w, v in zip(
            pd.to_datetime(rows["period"]).dt.to_period("Q"),
            rows["sector"],
            rows["workload"],
            rows["spend_usd"],
            strict=True,
        )
    )


@pytest.mark.parametrize("case", list(UNUSUAL))
def test_a_valid_but_unusual_file_imports(db: Path, tmp_path: Path, case: str) -> None:
    path = tmp_path / "unusual.csv"
    path.write_bytes(UNUSUAL[case])
    summary = ingest.import_file(db, path, actor="test")
    assert (summary.rows, summary.inserted) == (2, 2)
    assert _user_rows(db) == sorted(GOOD_ROWS)


def test_the_quarter_in_progress_imports(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "now.csv"
    path.write_bytes(THIS_QUARTER)
    assert ingest.import_file(db, path, actor="test").inserted == 2


def test_quoted_commas_and_line_breaks_stay_in_the_source_text(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(
        b'period,sector,workload,spend_usd,source\r\n2025Q1,Acme,training,10,"Survey, 2025\r\nwave 2"\r\n'
        b'2025Q1,Acme,inference,4.5,"say ""hi"", then\ttab"\r\n'
    )
    ingest.import_file(db, path, actor="test")
    with store.reader(db) as s:
        rows = s.frame("history_spend", provenance="user").sort_values("workload")
    assert rows["source_ids"].tolist() == ['say "hi", then\ttab', "Survey, 2025\r\nwave 2"]


def test_a_cyrillic_sector_is_kept_in_its_own_letters(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "cyr.csv"
    path.write_text(_pair(sector="Розничная Торговля"), encoding="utf-8")
    summary = ingest.import_file(db, path, actor="test")
    assert summary.sectors == ("розничная_торговля",)


def test_compatibility_forms_are_normalised_nfkc_onto_the_same_name(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "nfkc.csv"
    path.write_text(_pair(sector="Ｈｅａｌｔｈｃａｒｅ", period="2025Q1"), encoding="utf-8")  # fullwidth letters
    summary = ingest.import_file(db, path, actor="test")
    assert summary.sectors == ("healthcare",)


# --- row numbers ------------------------------------------------------------------------------------------------


def test_row_numbers_match_a_spreadsheet_whatever_blank_lines_and_quoted_breaks_there_are(
    db: Path, tmp_path: Path
) -> None:
    lines = [
        "period,sector,workload,spend_usd,source",  # row 1
        "2025Q1,Acme,training,1,a",  # row 2
        "",  # row 3 (blank)
        "2025Q1,Acme,inference,1,a",  # row 4
        '2025Q2,Acme,training,1,"two',  # row 5: one record over two lines
        'lines"',
        "",  # row 6
        "",  # row 7
        ",,,,",  # row 8 (empty cells)
        "2025Q2,Acme,inference,1,b",  # row 9
        "",  # row 10
        "",  # row 11
        "2025Q3,Acme,training,-1,c",  # row 12: the bad one
    ]
    path = tmp_path / "blanks.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportRefusedError) as info:
        ingest.import_file(db, path, actor="test")
    assert [(p.row, p.column) for p in info.value.problems] == [(12, "spend_usd")]


def test_a_huge_bad_file_keeps_the_first_thousand_problems_and_counts_them_all(tmp_path: Path) -> None:
    buf = io.StringIO()
    buf.write(HEAD)
    for i in range(3000):
        buf.write(f"2025Q9,Acme{i},training,1\n")  # one problem per row
    path = tmp_path / "many.csv"
    path.write_text(buf.getvalue())
    with pytest.raises(ImportRefusedError) as info:
        ingest.validate_file(path)
    assert info.value.total == 3000
    assert [p.row for p in info.value.problems] == list(range(2, 1002))
    assert "failed validation with 3,000 problems; the first 1,000 by row" in str(info.value)
