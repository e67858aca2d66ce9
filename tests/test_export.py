"""Exports: formula-safe CSV, safe file names, tidy frames per kind, and bundles that reproduce a run."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from forecasting import export, reports, vintages
from forecasting.bootstrap import init_db
from forecasting.cli import app
from forecasting.config import REPO_ROOT
from forecasting.errors import ForecastingError
from forecasting.executors import SerialExecutor
from forecasting.refresh import run_refresh
from forecasting.scenario import Scenario
from forecasting.scenario_store import save_scenario

from .conftest import TINY_MODELS, TINY_SETTINGS, copy_db, write_tiny_data


@pytest.fixture(scope="module")
def published(tiny_published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one published run (two sectors; ``TINY_SETTINGS``, ``TINY_MODELS``), this module's copy."""
    return copy_db(tiny_published_template, tmp_path_factory.mktemp("export") / "crossover.duckdb")


def test_to_csv_writes_the_golden_string() -> None:
    df = pd.DataFrame(
        {
            "run_id": ["r1", "r1", "r1"],
            "label": ['=1+2";=1+2', "@SUM(A1)", "plain, with comma"],
            "ds": pd.to_datetime(["2025-01-01", "2025-04-01", None]),
            "yhat_usd": [-1.5, 2.0, np.nan],
            "n": [1, -2, 3],
            "chosen": [True, False, True],
        }
    )
    assert export.to_csv(df) == (
        b"run_id,label,ds,yhat_usd,n,chosen\r\n"
        b'r1,"\'=1+2"";=1+2",2025-01-01,-1.5,1,true\r\n'
        b"r1,'@SUM(A1),2025-04-01,2.0,-2,false\r\n"
        b'r1,"plain, with comma",,,3,true\r\n'
    )


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-1+1", "@x", "\tx", "\rx", "\nx", "\0x"])
def test_every_risky_leading_character_is_neutralised_and_reads_back_as_text(text: str) -> None:
    data = export.to_csv(pd.DataFrame({"t": [text], "v": [-3.25]})).decode()
    assert list(csv.reader(io.StringIO(data, newline=""))) == [["t", "v"], ["'" + text, "-3.25"]]


def test_headers_are_neutralised_too() -> None:
    assert export.to_csv(pd.DataFrame({"=cmd": [1]})).splitlines()[0] == b"'=cmd"


@pytest.mark.parametrize(
    ("run_id", "scenario", "expected"),
    [
        ("20261128T124622Z-2e08fd", "baseline", "crossover_forecasts_20261128T124622Z-2e08fd.csv"),
        ("../../etc", "a\0b c", "crossover_forecasts_etc_a-b-c.csv"),
        ("%2e%2e%2f", "x", "crossover_forecasts_2e-2e-2f_x.csv"),
    ],
)
def test_file_names_use_safe_characters_only(run_id: str, scenario: str, expected: str) -> None:
    assert export.filename("forecasts", run_id, scenario) == expected


def test_a_scenario_named_in_another_script_is_never_named_like_the_baseline_or_another() -> None:
    base = export.filename("forecasts", "r1", "baseline")
    names = {
        n: export.filename("forecasts", "r1", n) for n in ("高增长", "低增长", "高增长 🚀-edited", "edited", "Ωmega")
    }
    assert base not in names.values() and len(set(names.values())) == len(names)
    assert names["edited"] == "crossover_forecasts_r1_edited.csv"
    assert names["高增长"] == f"crossover_forecasts_r1_{hashlib.sha1('高增长'.encode()).hexdigest()[:8]}.csv"
    assert re.fullmatch(r"crossover_forecasts_r1_mega-[0-9a-f]{8}\.csv", names["Ωmega"])
    assert re.fullmatch(r"[A-Za-z0-9._-]+", "".join(names.values()))


def test_file_names_carry_a_threshold_other_than_1() -> None:
    assert export.filename("crossover", "r1", "baseline", 2.0) == "crossover_r1_x2.csv"
    assert export.filename("crossover", "r1", "edge push", 1.5) == "crossover_r1_edge-push_x1.5.csv"
    assert export.filename("crossover", "r1", "baseline", 1.0) == "crossover_r1.csv"
    assert export.filename("probability", "r1", None, 1.0, "parquet") == "crossover_probability_r1.parquet"
    long = export.filename("crossover", "r" * 300, "s", 2.25)
    assert (len(long), long[-10:]) == (100, "_x2.25.csv")
    with pytest.raises(ValueError, match="must be a positive number, got 0"):
        export.filename("crossover", "r1", "baseline", 0)


def test_file_names_are_at_most_100_characters_and_kinds_are_checked(published: Path) -> None:
    assert len(export.filename("history", "r" * 300, "s")) == 100
    assert export.filename("../chart data", "r", "s") == "crossover_chart-data_r_s.csv"
    with pytest.raises(ValueError, match="unknown export kind"):
        export.write_export(published, "passwords", published.parent / "x.csv")


def frame(db: Path, kind: str, run_id: str = "latest", scenario: str = "baseline", threshold: float = 1.0):  # noqa: ANN201
    """The table ``kind`` as ``forecasting export`` writes it."""
    return reports.table(kind, reports.open_view(db, run_id, scenario, threshold))


def test_each_kind_is_tidy_with_run_id_scenario_and_units(published: Path) -> None:
    run_id = vintages.latest_run_id(published)
    expected = {
        "history": ["run_id", "scenario", "unique_id", "sector", "workload", "ds", "spend_usd"],
        "forecasts": [
            "run_id",
            "scenario",
            "unique_id",
            "sector",
            "workload",
            "ds",
            "model",
            "yhat_usd",
            "yhat_lower_80_usd",
            "yhat_upper_80_usd",
            "yhat_lower_95_usd",
            "yhat_upper_95_usd",
        ],
        "crossover": [
            "run_id",
            "scenario",
            "definition",
            "sector",
            "model",
            "state",
            "crossed_at",
            "p10",
            "p50",
            "p90",
            "p50_curves",
            "prob_within_horizon",
            "threshold",
            "width_quarters",
            "censored",
            "share_curve_quarters",
            "definition_quarters",
            "total_level_quarters",
            "sector_split_quarters",
            "scenario_quarters",
        ],
        "probability": [
            "run_id",
            "scenario",
            "definition",
            "sector",
            "quarter",
            "crossed_by",
            "probability",
            "threshold",
        ],
        "backtests": [
            "run_id",
            "scenario",
            "unique_id",
            "model",
            "mase",
            "smape",
            "coverage_80",
            "coverage_95",
            "interval_score",
            "chosen",
        ],
        "scenarios": [
            "run_id",
            "scenario",
            "sector",
            "driver",
            "label",
            "unit",
            "kind",
            "value",
            "low",
            "mode",
            "high",
        ],
        "sensitivity": [
            "run_id",
            "scenario",
            "sector",
            "driver",
            "label",
            "low",
            "high",
            "p50_low",
            "p50_high",
            "shift_quarters",
            "censored",
            "threshold",
        ],
    }
    for kind, columns in expected.items():
        df = frame(published, kind, scenario="published")
        assert list(df.columns) == columns, kind
        assert set(df["run_id"]) == {run_id} and set(df["scenario"]) == {"published"}, kind
    assert len(frame(published, "forecasts")) == 4 * 8
    assert frame(published, "crossover")["sector"].tolist() == ["healthcare", "retail", "total"]


def test_the_baseline_forecast_export_is_the_stored_forecast(published: Path) -> None:
    run = vintages.load_run(published, "latest")
    df = frame(published, "forecasts")
    assert df["yhat_usd"].tolist() == run.forecasts["yhat"].tolist()


def test_an_export_under_a_scenario_differs_from_the_baseline(published: Path) -> None:
    base = frame(published, "forecasts")
    fast = frame(published, "forecasts", scenario="fast_adoption")
    infer = fast["workload"] == "inference"
    assert (fast.loc[infer, "yhat_usd"].to_numpy() > base.loc[infer, "yhat_usd"].to_numpy()).any()


def test_a_threshold_of_2_moves_the_crossover_from_the_stored_one(published: Path) -> None:
    from forecasting.crossover import crossover_distribution, crossover_frame

    stored = frame(published, "crossover")
    doubled = frame(published, "crossover", threshold=2)
    assert stored["threshold"].tolist() == [1.0, 1.0, 1.0]
    assert doubled["threshold"].tolist() == [2.0, 2.0, 2.0]
    assert stored["state"].tolist() == ["crosses_within_horizon"] * 3
    assert doubled["state"].tolist() == ["never_in_paths"] * 3
    assert stored["p50"].notna().all() and doubled["p50"].isna().all()
    # An intermediate threshold: computed from the run's paths, later than the stored crossover.
    run = vintages.load_run(published, "latest")
    quarter = frame(published, "crossover", threshold=1.1)
    expected = crossover_frame(crossover_distribution(run.paths, threshold=1.1))
    assert quarter["p50"].tolist() == expected["p50"].tolist()
    assert (quarter["p50"] > stored["p50"]).all()


def test_a_threshold_reaches_scenario_crossovers_and_sensitivity(published: Path) -> None:
    base = frame(published, "crossover", scenario="published")
    higher = frame(published, "crossover", scenario="published", threshold=1.02)
    assert (higher["p50"] > base["p50"]).all()
    sens = frame(published, "sensitivity", scenario="published", threshold=1.02)
    assert set(sens["threshold"]) == {1.02}
    assert not sens["p50_low"].equals(frame(published, "sensitivity", scenario="published")["p50_low"])


def test_a_threshold_is_refused_for_kinds_without_crossovers(published: Path) -> None:
    with pytest.raises(ValueError, match="threshold applies to the crossover, probability and sensitivity tables only"):
        frame(published, "history", threshold=2)
    with pytest.raises(ValueError, match="must be a positive number, got -1"):
        frame(published, "crossover", threshold=-1)


def test_the_cli_passes_a_threshold_through(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "cross.csv"
    args = ["export", "crossover", "--threshold", "2", "--output", str(out), "--db", str(published)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == export.to_csv(frame(published, "crossover", threshold=2))
    bad = CliRunner().invoke(
        app, ["export", "history", "--threshold", "2", "--output", str(out), "--db", str(published)]
    )
    assert bad.exit_code == 2
    assert "threshold applies to the crossover, probability and sensitivity tables only" in bad.output


def test_a_bundle_at_a_threshold_names_its_crossover_files_with_it(published: Path, tmp_path: Path) -> None:
    written = export.write_bundle(published, tmp_path / "b2", threshold=2)
    run_id = vintages.latest_run_id(published)
    assert written["crossover"].name == f"crossover_{run_id}_x2.csv"
    assert written["sensitivity"].name == f"crossover_sensitivity_{run_id}_x2.csv"
    assert written["history"].name == f"crossover_history_{run_id}.csv"
    assert json.loads(written["manifest"].read_text())["threshold"] == 2.0
    assert written["crossover"].read_bytes() == export.to_csv(frame(published, "crossover", threshold=2))


def test_the_cli_writes_one_export(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "cross.csv"
    result = CliRunner().invoke(app, ["export", "crossover", "--output", str(out), "--db", str(published)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == export.to_csv(frame(published, "crossover"))


def test_a_bundle_reproduces_the_same_numbers_in_a_fresh_database(published: Path, tmp_path: Path) -> None:
    written = export.write_bundle(published, tmp_path / "bundle")
    assert sorted(written) == sorted([*export.KINDS, "manifest"])
    manifest = json.loads(written["manifest"].read_text())
    original = vintages.load_run(published, "latest")
    assert manifest["run_id"] == original.run_id and manifest["models"] == ["naive", "drift", "ets"]
    assert manifest["data_fingerprint"] == original.info.data_fingerprint
    assert len(manifest["history"]["rows"]) == len(original.history)
    # A fresh database with other shipped history: the manifest's history and settings must win.
    fresh = tmp_path / "fresh.duckdb"
    init_db(fresh, write_tiny_data(tmp_path / "other", ("manufacturing", "other")))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "refresh",
            "--db",
            str(fresh),
            "--from-manifest",
            str(written["manifest"]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    copy = vintages.load_run(fresh, "latest")
    assert copy.info.data_fingerprint == original.info.data_fingerprint
    assert_frame_equal(copy.forecasts, original.forecasts)
    assert_frame_equal(copy.crossover, original.crossover)
    assert copy.paths is not None and original.paths is not None
    assert np.array_equal(copy.paths.paths, original.paths.paths)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-1+1", "@x", "\tx", "\rx", "\nx"])
def test_excel_cells_are_neutralised_like_csv_and_stay_text(text: str) -> None:
    from openpyxl import load_workbook

    data = export.to_xlsx(pd.DataFrame({"=cmd": [text], "v": [-3.25], "ds": pd.to_datetime(["2025-03-31"])}))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["'=cmd", "v", "ds"]
    text = text.replace("\r", "\n")  # XML reads a carriage return back as a line feed
    assert rows[1][:2] == ["'" + text, -3.25] and rows[1][2].date().isoformat() == "2025-03-31"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # not one formula


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("x.csv", None, "csv"),
        ("x.parquet", None, "parquet"),
        ("x.PQ", None, "parquet"),
        ("x.xlsx", None, "xlsx"),
        ("x.json", None, "json"),
        ("x.txt", None, "csv"),
        ("x.csv", "xlsx", "xlsx"),
        ("-", "parquet", "parquet"),
    ],
)
def test_the_format_comes_from_the_option_else_the_extension(name: str, fmt: str | None, expected: str) -> None:
    assert export.format_for(name, fmt) == expected


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format 'ods'"):
        export.format_for("x.csv", "ods")


@pytest.mark.parametrize("suffix", ["parquet", "xlsx", "json"])
def test_the_cli_writes_parquet_excel_and_json_with_the_same_rows_as_csv(
    published: Path, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"forecasts.{suffix}"
    result = CliRunner().invoke(app, ["export", "forecasts", "-o", str(target), "--db", str(published)])
    assert result.exit_code == 0, result.output
    expected = frame(published, "forecasts")
    if suffix == "parquet":
        got = pd.read_parquet(target)
        assert_frame_equal(got, expected)
    elif suffix == "xlsx":
        got = pd.read_excel(target)
        assert got.columns.tolist() == expected.columns.tolist() and len(got) == len(expected)
        assert np.allclose(got["yhat_usd"], expected["yhat_usd"])
    else:
        got = pd.DataFrame(json.loads(target.read_text()))
        assert got["ds"].str[:10].tolist() == expected["ds"].dt.strftime("%Y-%m-%d").tolist()
        assert np.allclose(got["yhat_usd"], expected["yhat_usd"])


def test_a_bundle_can_be_written_in_parquet(published: Path, tmp_path: Path) -> None:
    written = export.write_bundle(published, tmp_path / "b", fmt="parquet")
    assert written["crossover"].suffix == ".parquet"
    assert_frame_equal(pd.read_parquet(written["crossover"]), frame(published, "crossover"))


def test_the_probability_export_is_per_quarter_for_every_sector_and_the_total(published: Path) -> None:
    view = reports.open_view(published)
    table = frame(published, "probability")
    assert set(table["sector"]) == {"healthcare", "retail", "total"}
    for sector, rows in table.groupby("sector"):
        crossover = view.crossovers[sector]
        assert rows["crossed_by"].tolist() == list(crossover.quarter_ends)
        assert rows["probability"].is_monotonic_increasing
        # By the end of the quarter's last day: one definition with probability_by.
        expected = [crossover.probability_by(d) for d in rows["crossed_by"]]
        assert np.allclose(rows["probability"], expected)


def test_a_bundle_re_runs_whole_under_the_user_scenarios_it_recorded(published: Path, tmp_path: Path) -> None:
    source = copy_db(published, tmp_path / "source.duckdb")
    edge = Scenario.from_dict({"name": "edge push", "description": "", "values": {"all": {"edge_share": 0.6}}})
    save_scenario(source, edge)
    assert run_refresh(source, TINY_SETTINGS, models=TINY_MODELS, force=True, executor=SerialExecutor()).published
    written = export.write_bundle(source, tmp_path / "bundle", scenario="edge push")
    recorded = json.loads(written["manifest"].read_text())["scenarios"]
    assert edge.to_dict() in recorded
    fresh = tmp_path / "fresh.duckdb"
    init_db(fresh, write_tiny_data(tmp_path / "other", ("manufacturing", "other")))
    summary = run_refresh(fresh, TINY_SETTINGS, from_manifest=written["manifest"], executor=SerialExecutor())
    assert summary.published, summary.message
    again = frame(fresh, "crossover", scenario="edge push").drop(columns="run_id")
    assert_frame_equal(again, frame(source, "crossover", scenario="edge push").drop(columns="run_id"))


@pytest.mark.parametrize("recorded", [False, True], ids=["saved after the run", "edited after the run"])
def test_a_bundle_re_runs_the_scenario_its_files_were_computed_under(
    published: Path, tmp_path: Path, recorded: bool
) -> None:
    source = copy_db(published, tmp_path / "source.duckdb")
    if recorded:  # the run records the scenario at 0.6; it is edited to 0.3 afterwards
        save_scenario(source, Scenario("late", values={"all": {"edge_share": 0.6}}))
        assert run_refresh(source, TINY_SETTINGS, models=TINY_MODELS, force=True, executor=SerialExecutor()).published
    save_scenario(source, Scenario("late", values={"all": {"edge_share": 0.3}}))
    written = export.write_bundle(source, tmp_path / "bundle", scenario="late")
    fresh = tmp_path / "fresh.duckdb"
    init_db(fresh, write_tiny_data(tmp_path / "other", ("manufacturing", "other")))
    assert run_refresh(fresh, TINY_SETTINGS, from_manifest=written["manifest"], executor=SerialExecutor()).published
    again = frame(fresh, "crossover", scenario="late").drop(columns="run_id")
    assert_frame_equal(again, frame(source, "crossover", scenario="late").drop(columns="run_id"))


def test_a_bundle_refuses_to_re_run_over_a_different_scenario_of_the_same_name(published: Path, tmp_path: Path) -> None:
    source = copy_db(published, tmp_path / "source.duckdb")
    save_scenario(
        source, Scenario.from_dict({"name": "mine", "description": "", "values": {"all": {"edge_share": 0.6}}})
    )
    assert run_refresh(source, TINY_SETTINGS, models=TINY_MODELS, force=True, executor=SerialExecutor()).published
    written = export.write_bundle(source, tmp_path / "bundle")
    other = copy_db(published, tmp_path / "other.duckdb")
    save_scenario(
        other, Scenario.from_dict({"name": "mine", "description": "", "values": {"all": {"edge_share": 0.2}}})
    )
    with pytest.raises(ForecastingError, match="scenario 'mine' exists here with other values"):
        run_refresh(other, TINY_SETTINGS, from_manifest=written["manifest"], executor=SerialExecutor())
    assert vintages.list_runs(other)["run_id"].tolist() == vintages.list_runs(published)["run_id"].tolist()
