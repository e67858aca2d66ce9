"""Command-line output: ``-`` for stdout and stdin, ``--format``, tables off a terminal, and log lines."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting import export, reports
from forecasting.cli import app, output
from forecasting.drivers import DRIVERS

from .conftest import copy_db


@pytest.fixture(scope="module")
def published(tiny_published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one published run, this module's copy."""
    return copy_db(tiny_published_template, tmp_path_factory.mktemp("output") / "crossover.duckdb")


def invoke(*args: str, stdin: str | bytes | None = None):  # noqa: ANN201 (click's Result)
    """Run the CLI with stdout and stderr apart."""
    return CliRunner().invoke(app, list(args), input=stdin)


def test_dash_as_output_writes_the_export_to_stdout_and_no_file_named_dash(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "crossover", "-o", "-", "--db", str(published))
    assert result.exit_code == 0, result.output
    table = reports.table("crossover", reports.open_view(published, definition="all"))
    assert result.stdout_bytes == export.to_csv(table)
    assert "wrote" in result.stderr and not (tmp_path / "-").exists()


def test_no_output_option_writes_over_the_database(tiny_published_template: Path, tmp_path: Path) -> None:
    """`export -o crossover.duckdb` replaced the database with a CSV (exit 0); a link to it counts too."""
    db = copy_db(tiny_published_template, tmp_path / "crossover.duckdb")
    (tmp_path / "link.duckdb").hardlink_to(db)
    before = db.read_bytes()
    for args in (
        ["export", "forecasts", "-o", str(db)],
        ["export", "crossover", "-o", str(tmp_path / "link.duckdb")],
        ["backtest", "crossover", "--moves", str(tmp_path / ".." / tmp_path.name / "crossover.duckdb")],
    ):
        result = invoke(*args, "--db", str(db))
        assert result.exit_code == 2, (args, result.output)
        assert "is the database; writing there would destroy it" in result.stderr
    assert db.read_bytes() == before


def test_tables_in_a_pipe_are_tab_separated_lines_that_never_wrap(published: Path) -> None:
    result = invoke("scenario", "drivers")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "key\tdriver\tunit\trange\tdefault\tneutral"
    assert len(lines) == len(DRIVERS) + 1 and all(line.count("\t") == 5 for line in lines)
    assert lines[1].split("\t")[0] == DRIVERS[0].key and max(map(len, lines)) > 80  # long rows stay whole


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_format_prints_the_table_as_csv_json_or_parquet(fmt: str) -> None:
    result = invoke("scenario", "drivers", "--format", fmt)
    assert result.exit_code == 0, result.output
    data = result.stdout_bytes
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(data), dtype=str)
    elif fmt == "json":
        frame = pd.DataFrame(json.loads(data))
    else:
        frame = pd.read_parquet(io.BytesIO(data))
    assert frame["key"].tolist() == [d.key for d in DRIVERS]
    assert frame.columns.tolist() == ["key", "driver", "unit", "range", "default", "neutral"]


def test_parquet_is_refused_on_a_terminal_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)
    result = invoke("scenario", "drivers", "--format", "parquet")
    assert result.exit_code == 2
    assert result.stdout_bytes == b"" and result.stderr.strip().count("\n") == 0
    assert "redirect stdout" in result.stderr


def test_an_excel_export_to_a_terminal_is_refused(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)
    result = invoke("export", "crossover", "-o", "-", "--format", "xlsx", "--db", str(published))
    assert result.exit_code == 2 and result.stdout_bytes == b""
    assert "--format xlsx writes bytes" in result.stderr


def test_an_unknown_format_is_a_bad_argument() -> None:
    result = invoke("scenario", "drivers", "--format", "xml")
    assert result.exit_code == 2 and "--format must be one of csv, json, parquet" in result.stderr


def test_an_unknown_definition_is_refused_naming_every_choice_all_included(published: Path) -> None:
    result = invoke("export", "crossover", "-o", "-", "--definition", "nope", "--db", str(published))
    assert result.exit_code == 2 and "'ai_compute'" in result.stderr and "'all']" in result.stderr


def test_vintage_commands_take_a_format(published: Path) -> None:
    result = invoke("vintage", "list", "--db", str(published), "--format", "json")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json.loads(result.stdout)] == ["published"]
    shown = invoke("vintage", "show", "--db", str(published), "--format", "csv")
    assert shown.exit_code == 0, shown.output
    crossover = pd.read_csv(io.StringIO(shown.stdout))
    assert crossover["sector"].tolist()[-1] == "total"
    assert crossover["prob_within_horizon"].between(0, 1).all()  # data, not "85%"
    assert shown.stderr.startswith("run ")  # the summary lines keep stdout clean


def test_dash_as_input_reads_a_scenario_from_stdin(published: Path, tmp_path: Path) -> None:
    db = copy_db(published, tmp_path / "x.duckdb")
    scenario = {"name": "piped", "description": "from stdin", "values": {"all": {"edge_share": 0.5}}}
    result = invoke("scenario", "save", "-", "--db", str(db), stdin=json.dumps(scenario))
    assert result.exit_code == 0, result.output
    shown = invoke("scenario", "show", "piped", "--db", str(db))
    assert json.loads(shown.stdout)["values"] == {"all": {"edge_share": 0.5}}


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("forecasting.refresh", logging.INFO, __file__, 1, message, (), None)
    record.created = 1796153400.25  # 2026-12-01T19:30:00.250Z
    return record


def test_json_log_lines_are_one_object_with_utc_time_level_logger_and_message() -> None:
    line = output.JsonFormatter().format(_record("refresh event=done\nsecond line"))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-12-01T19:30:00.250+00:00",
        "level": "INFO",
        "logger": "forecasting.refresh",
        "message": "refresh event=done\nsecond line",
    }


def test_text_log_lines_start_with_a_utc_timestamp() -> None:
    line = output.TextFormatter().format(_record("refresh event=done"))
    assert line == "2026-12-01T19:30:00.250Z INFO forecasting.refresh: refresh event=done"


def test_log_format_json_reaches_stderr_off_a_terminal(published: Path) -> None:
    result = invoke("--log-format", "json", "-v", "refresh", "--db", str(published))
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert entries and all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", e["time"]) for e in entries)
    assert {"forecasting.refresh"} <= {e["logger"] for e in entries}


def test_an_unknown_log_format_is_a_bad_argument() -> None:
    result = invoke("--log-format", "xml", "scenario", "drivers")
    assert result.exit_code == 2 and "--log-format must be one of text, json" in result.stderr


# --------------------------------------------------------------------------- forecast input


def _series_file(path: Path, freq: str, n: int = 24) -> pd.DataFrame:
    """Two trending series at ``freq`` written to ``path`` (CSV or Parquet by its extension)."""
    ds = pd.date_range("2020-01-01", periods=n, freq=freq)
    rng = np.random.default_rng(1)
    frame = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": ds, "y": 100 + 2 * np.arange(n) + rng.normal(0, 1, n)}) for u in "ab"]
    )
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return frame


@pytest.mark.parametrize(("freq", "step"), [("W-MON", pd.Timedelta(days=7)), ("D", pd.Timedelta(days=1))])
def test_forecast_of_weekly_and_daily_data_steps_on_from_the_last_date(
    tmp_path: Path, freq: str, step: pd.Timedelta
) -> None:
    history = _series_file(tmp_path / "in.csv", freq, n=120)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "-h", "3")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out.csv", parse_dates=["ds"])
    last = history["ds"].max()
    assert sorted(out["ds"].unique()) == [last + step * k for k in (1, 2, 3)]


def test_forecast_refuses_non_numeric_and_missing_values_with_row_numbers(tmp_path: Path) -> None:
    frame = _series_file(tmp_path / "in.csv", "MS").astype({"y": object})
    frame.iloc[3, 2], frame.iloc[47, 2] = "12a", ""  # data rows 4 and 48: spreadsheet rows 5 and 49 (trailing)
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 65
    assert "row 5, column 'y': '12a' is not a number" in result.stderr
    assert "row 49, column 'y': missing value" in result.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_forecast_refuses_a_row_without_a_series_id_with_its_row_number(tmp_path: Path, suffix: str) -> None:
    """A row with no id used to become a one-point series named '' (forecast by the naive fallback),
    and the series it was cut from got a gap filled by interpolation. A name like 'NA' is an id."""
    path = tmp_path / f"in{suffix}"
    frame = _series_file(path, "MS").astype({"unique_id": object})
    frame.iloc[3, 0], frame.iloc[30, 0] = None, "NA"
    frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_csv(path, index=False)
    result = invoke("forecast", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 65
    # Numbered as `import` numbers rows: the header is row 1, and a Parquet file's first record row 2.
    assert "row 5, column 'unique_id': missing series id" in result.stderr
    assert "1 problem(s)" in result.stderr and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("columns", [("--id-col", "ds"), ("--value-col", "unique_id"), ("--date-col", "y")])
def test_forecast_refuses_one_column_named_for_two_roles(tmp_path: Path, columns: tuple[str, str]) -> None:
    """`--id-col ds --freq Q` made every date a one-point series, forecast by the naive fallback, with exit 0."""
    _series_file(tmp_path / "in.csv", "QS")
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "--freq", "Q", *columns)
    assert result.exit_code == 2, result.output
    assert "--id-col, --date-col and --value-col must name three different columns" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_forecast_does_not_write_over_its_input(tmp_path: Path) -> None:
    """`forecast in.csv -o in.csv` replaced the series with their forecasts (exit 0)."""
    _series_file(tmp_path / "in.csv", "MS")
    before = (tmp_path / "in.csv").read_bytes()
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "in.csv"))
    assert result.exit_code == 2 and "is the input file; writing there would destroy it" in result.stderr
    assert (tmp_path / "in.csv").read_bytes() == before


def test_forecast_numbers_rows_as_import_does_blank_lines_included(tmp_path: Path) -> None:
    """Rows after a blank line (or after blank lines above the header) were numbered one short per blank,
    so the row a problem named was not the row a spreadsheet shows; blank rows are left out, not refused."""
    _series_file(tmp_path / "in.csv", "MS")
    lines = (tmp_path / "in.csv").read_text().splitlines()
    lines[6] = lines[6].rsplit(",", 1)[0] + ",12a"  # the sixth data row
    text = "\n\n" + "\n".join([*lines[:3], "", " , ,", *lines[3:]]) + "\n\n"  # two lines above the header
    (tmp_path / "in.csv").write_text(text)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 65, result.output
    # Two blank lines, the header (row 3), data rows 4-5, two blank rows (6-7), then data rows 8...: 12a on row 11.
    assert "row 11, column 'y': '12a' is not a number" in result.stderr and "1 problem(s)" in result.stderr


def test_forecast_names_its_input_in_every_report_and_an_empty_one_is_empty(tmp_path: Path) -> None:
    """Reports named the input '-', 'input' or 'history' by stage, and an empty file 'No columns to parse'."""
    empty = invoke("forecast", "-", "-o", "-", stdin=b"\n\n")
    assert (
        empty.exit_code == 65 and "stdin failed validation with 1 problem(s):\n  - file: file is empty" in empty.stderr
    )
    header_only = invoke("forecast", "-", "-o", "-", stdin=b"unique_id,ds,y\n")
    assert "stdin failed validation" in header_only.stderr and "no data rows" in header_only.stderr
    (tmp_path / "in.csv").write_text("unique_id,ds,y\na,2020-01-01,x\n")
    assert f"{tmp_path / 'in.csv'} failed validation" in invoke("forecast", str(tmp_path / "in.csv"), "-o", "-").stderr


def test_an_excel_output_too_long_for_a_sheet_is_refused_before_the_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas refused a sheet over 1,048,576 rows only when writing, after every series was fitted."""
    import forecasting.api

    def no_fits(*args: object, **kwargs: object) -> None:
        raise AssertionError("the series were fitted")

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 5)
    monkeypatch.setattr(forecasting.api, "forecast_frame", no_fits)
    _series_file(tmp_path / "in.csv", "MS")  # two series x 3 periods = 6 rows
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.xlsx"), "-h", "3")
    assert result.exit_code == 2, result.output
    assert "an Excel sheet holds at most 5 rows under its header and this table has 6" in result.stderr
    assert not (tmp_path / "out.xlsx").exists()
    with pytest.raises(ValueError, match="write CSV or Parquet instead"):
        export.to_xlsx(pd.DataFrame({"a": range(6)}))


def test_forecast_of_a_tab_separated_file_says_so(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.csv", "MS").to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    result = invoke("forecast", str(tmp_path / "in.tsv"), "-o", "-")
    assert result.exit_code == 65 and "(the file looks tab-separated; save it with commas)" in result.stderr


def test_forecast_of_monthly_data_starts_the_month_after_the_last_observation(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.csv", "MS")
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", "-", "-h", "3")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), parse_dates=["ds"])
    assert out.loc[out["unique_id"] == "a", "ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-01-01",
        "2022-02-01",
        "2022-03-01",
    ]


def test_forecast_reads_parquet_and_stdin_and_gives_the_same_numbers_as_csv(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.parquet", "QS", n=20)
    pd.read_parquet(tmp_path / "in.parquet").to_csv(tmp_path / "in.csv", index=False)
    from_parquet = invoke("forecast", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "p.parquet"), "-h", "2")
    assert from_parquet.exit_code == 0, from_parquet.output
    piped = invoke(
        "forecast", "-", "-o", str(tmp_path / "c.parquet"), "-h", "2", stdin=(tmp_path / "in.csv").read_bytes()
    )
    assert piped.exit_code == 0, piped.output
    got = pd.read_parquet(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "c.parquet"))
    assert got["ds"].min() == pd.Timestamp("2025-01-01") and len(got) == 4


def test_forecast_refuses_a_frequency_the_dates_contradict(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.csv", "MS")
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "--freq", "Q")
    assert result.exit_code == 65 and "the dates are monthly but the frequency asked for is 'Q'" in result.stderr


def test_forecast_refuses_a_file_of_mixed_frequencies_naming_the_odd_series(tmp_path: Path) -> None:
    monthly = [("m1", d) for d in pd.date_range("2015-01-31", periods=36, freq="ME")]
    monthly += [("m2", d) for d in pd.date_range("2015-01-31", periods=36, freq="ME").delete(5)]  # one gap only
    quarterly = [("q", d) for d in pd.date_range("2015-03-31", periods=12, freq="QE")]
    rows = pd.DataFrame(monthly + quarterly, columns=["unique_id", "ds"]).assign(y=lambda f: 10.0 + f.index % 7)
    rows.to_csv(tmp_path / "in.csv", index=False)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 65, result.output
    assert "mixed frequencies: most series are monthly, but 'q' (quarterly) is not" in result.stderr
    assert not (tmp_path / "o.csv").exists()
    rows[rows["unique_id"] != "q"].to_csv(tmp_path / "in.csv", index=False)  # a gap is no other frequency
    assert invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")).exit_code == 0


def test_forecast_refuses_a_parquet_column_of_booleans_as_csv_refuses_true(tmp_path: Path) -> None:
    ds = pd.date_range("2020-03-31", periods=12, freq="QE")
    pd.DataFrame({"unique_id": "a", "ds": ds, "y": [True, False] * 6}).to_parquet(tmp_path / "in.parquet")
    result = invoke("forecast", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 65 and "'True' is not a number" in result.stderr, result.output


def test_forecast_refuses_a_negative_seed_as_a_bad_argument(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.csv", "QS")
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "--seed", "-1")
    assert result.exit_code == 2 and "--seed" in result.output and not (tmp_path / "o.csv").exists()


def test_forecast_can_fix_the_scale_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    _series_file(tmp_path / "in.csv", "QS", n=24)  # linear trends: the probe keeps them on the raw scale

    def last_spread(*extra: str) -> tuple[float, float]:
        result = invoke("forecast", str(tmp_path / "in.csv"), "-o", "-", "-h", "6", *extra)
        assert result.exit_code == 0, result.output
        last = pd.read_csv(io.StringIO(result.stdout)).iloc[-1]
        return last["yhat_upper_80"] - last["yhat"], last["yhat"] - last["yhat_lower_80"]

    above, below = last_spread()
    assert above == pytest.approx(below)
    above, below = last_spread("--transform", "log")
    assert above > below
    refused = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "--transform", "sqrt")
    assert refused.exit_code == 2 and "--transform must be one of auto, log, none; got 'sqrt'" in refused.stderr
    assert not (tmp_path / "o.csv").exists()


def test_a_table_title_goes_to_stderr_in_a_pipe(published: Path) -> None:
    result = invoke("vintage", "show", "--db", str(published))
    assert result.exit_code == 0, result.output
    assert "crossover (baseline)" in result.stderr and "crossover (baseline)" not in result.stdout
    assert "sector\tstate\t" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        ("unique_id,ds,y\ncaf\xe9,2020-01-01,1\ncaf\xe9,2020-04-01,2\n".encode("latin-1"), "is not UTF-8"),
        (b"PAR1 not really parquet", "cannot read it as Parquet"),
        (b"unique_id,ds,y\na,2020-01-01,1\nb,2020-01-02,2\n", "cannot tell the frequency"),
        (b"unique_id,ds,y\na,2020-01-01,1\na,2020-01-15,2\na,2020-01-29,3\n", "14 days apart"),
    ],
)
def test_forecast_refuses_a_file_it_cannot_read_as_series_with_exit_65(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "in.csv").write_bytes(content)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 65, result.output  # invalid data, as the README says; was 2 (a bad argument)
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()


def test_forecast_counts_series_with_no_forecast_apart_and_refuses_a_file_of_only_those(tmp_path: Path) -> None:
    weeks = pd.date_range("2020-01-05", periods=30, freq="W-SUN")
    shifted = weeks.delete(10).insert(10, weeks[10] + pd.Timedelta(days=1))  # one date off the weekly grid
    good = pd.DataFrame({"unique_id": "good", "ds": weeks, "y": np.arange(30.0) + 1})
    good.assign(unique_id="off", ds=shifted).to_csv(tmp_path / "off.csv", index=False)
    result = invoke("forecast", str(tmp_path / "off.csv"), "-o", str(tmp_path / "o.csv"), "-h", "2")
    assert result.exit_code == 65, result.output  # was 0, an empty file and "1 on a fallback model"
    assert "series 'off': dates are not on a regular W grid" in result.stderr
    assert not (tmp_path / "o.csv").exists()
    pd.concat([good, pd.read_csv(tmp_path / "off.csv")]).to_csv(tmp_path / "in.csv", index=False)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "-h", "2")
    assert result.exit_code == 0, result.output
    assert "wrote 2 rows for 2 series" in result.stdout and "(1 with no forecast; see the log)" in result.stdout


def test_forecast_reads_dates_whose_utc_offset_changes_with_daylight_saving(tmp_path: Path) -> None:
    days = pd.date_range("2020-03-01", periods=60, freq="D", tz="Europe/Paris")  # +01:00, then +02:00
    frame = pd.DataFrame({"unique_id": "a", "ds": [t.isoformat() for t in days], "y": np.arange(60.0) % 7 + 10})
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = invoke("forecast", str(tmp_path / "in.csv"), "-o", "-", "-h", "2")
    assert result.exit_code == 0, result.output  # was 2: "Tz-aware datetime.datetime cannot be converted"
    assert "Warning" not in result.stderr
    assert pd.read_csv(io.StringIO(result.stdout))["ds"].tolist() == ["2020-04-30", "2020-05-01"]


def test_user_text_is_printed_as_written_not_read_as_rich_markup(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(published, tmp_path / "crossover.duckdb")
    name = "[/x]:smile:[b]"
    result = invoke("scenario", "copy", "baseline", name, "--db", str(db))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"copied 'baseline' to '{name}'\n"
    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)  # the rich table a terminal gets
    result = invoke("scenario", "list", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert name in result.stdout


def test_dash_as_input_imports_csv_or_parquet_from_stdin(published: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"period": ["2025Q1", "2025Q1"], "sector": ["Acme", "Acme"], "workload": ["training", "inference"]}
    )
    for name, data in (
        ("csv", frame.assign(spend_usd=[10.0, 4.0]).to_csv(index=False).encode()),
        ("parquet", frame.assign(spend_usd=[11.0, 5.0]).to_parquet()),
    ):
        db = copy_db(published, tmp_path / name / "crossover.duckdb")
        result = invoke("import", "-", "--db", str(db), stdin=data)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("imported 2 rows from stdin as import 1"), result.stdout
        assert not Path("-").exists()


def test_importing_a_missing_file_exits_66_and_changes_nothing(published: Path, tmp_path: Path) -> None:
    db = copy_db(published, tmp_path / "crossover.duckdb")
    before = db.read_bytes()
    result = invoke("import", str(tmp_path / "missing.csv"), "--db", str(db))
    assert result.exit_code == 66, result.output
    assert f"no file {tmp_path / 'missing.csv'}" in result.output
    assert db.read_bytes() == before


def test_the_import_list_takes_a_format_and_its_csv_is_formula_safe(published: Path, tmp_path: Path) -> None:
    db = copy_db(published, tmp_path / "crossover.duckdb")
    data = tmp_path / "=1+1.csv"
    data.write_text("period,sector,workload,spend_usd\n2025Q1,Acme,training,10\n2025Q1,Acme,inference,4\n")
    assert invoke("import", str(data), "--db", str(db)).exit_code == 0
    result = invoke("import", "--list", "--format", "csv", "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert rows["file"].tolist() == ["'=1+1.csv"] and rows["status"].tolist() == ["active"]
    listed = invoke("import", "--list", "--format", "json", "--db", str(copy_db(published, tmp_path / "e.duckdb")))
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
