"""Vintages: listing, loading and comparing stored runs; path blobs; baselines; change reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecasting import paths as sample_paths
from forecasting import store, vintages
from forecasting.errors import NotFoundError
from forecasting.executors import SerialExecutor
from forecasting.refresh import run_refresh
from forecasting.reports import View
from forecasting.reports.compare import COMPARE_COLUMNS, change_report, compare_runs, p50_moves
from forecasting.reports.tables import crossover_table
from forecasting.scenario import BASELINE, Scenario
from forecasting.scenario_store import list_scenarios, load_scenario, save_scenario

from .conftest import TINY_MODELS, TINY_SETTINGS, copy_db, read_only


def _refresh(db: Path, **kwargs: Any) -> str:
    summary = run_refresh(db, TINY_SETTINGS, models=TINY_MODELS, executor=SerialExecutor(), **kwargs)
    assert summary.run_id is not None
    return summary.run_id


def _add_a_quarter_in_which_healthcare_inference_jumps(db: Path) -> None:
    """New data for 2025Q1, nothing restated."""
    rows = pd.DataFrame(
        [
            {
                "period": pd.Timestamp("2025-01-01").date(),
                "sector": s,
                "region": "worldwide",
                "workload": w,
                "spend_usd": v,
                "provenance": "user",
            }
            for s, w, v in [
                ("healthcare", "training", 1.9e9),
                ("healthcare", "inference", 3.0e9),
                ("retail", "training", 3.8e9),
                ("retail", "inference", 3.0e9),
            ]
        ]
    )
    with store.writer(db) as s:
        s.insert("spend_history", rows)


@pytest.fixture
def rdb(db: Path) -> Path:
    """The tiny data (healthcare, retail), no forecast run yet."""
    return db


@pytest.fixture
def published(tmp_path: Path, tiny_published_template: Path) -> Path:
    """The tiny data with one run, published as ``_refresh`` publishes it (this test's copy)."""
    return copy_db(tiny_published_template, tmp_path / "crossover.duckdb")


@pytest.fixture(scope="module")
def assumption_runs(
    tmp_path_factory: pytest.TempPathFactory, tiny_db_template: Path
) -> Iterator[tuple[Path, str, str]]:
    """Two runs on the same data, settings and code; only the saved scenario 'mine' differs between them.

    Returns (db, a, b): healthcare's pre-trained share is 0.1 in run a and 0.9 in run b. The tests only read it.
    """
    db = copy_db(tiny_db_template, tmp_path_factory.mktemp("assumptions") / "crossover.duckdb")
    save_scenario(db, Scenario("mine", values={"healthcare": {"pretrained_share": 0.1}}))
    a = _refresh(db)
    save_scenario(db, Scenario("mine", values={"healthcare": {"pretrained_share": 0.9}}))
    b = _refresh(db, force=True)  # same data, settings and code: only the assumptions differ
    with read_only(db):
        yield db, a, b


def test_path_blobs_round_trip_exactly() -> None:
    paths = np.random.default_rng(1).lognormal(size=(5, 3))
    assert np.array_equal(sample_paths.from_bytes(sample_paths.to_bytes(paths)), paths)


def test_a_baseline_leaves_out_a_sector_missing_a_workload_or_ending_elsewhere_saying_which(
    caplog: pytest.LogCaptureFixture,
) -> None:
    periods = pd.date_range("2025-01-01", periods=2, freq="QS")
    paths = {
        "healthcare/training": np.ones((3, 2)),
        "healthcare/inference": np.ones((3, 2)),
        "retail/training": np.ones((3, 2)),
        "acme/training": np.ones((3, 2)),
        "acme/inference": np.ones((3, 2)),
    }
    future = dict.fromkeys(paths, periods) | {"acme/inference": pd.date_range("2024-01-01", periods=2, freq="QS")}
    history = pd.DataFrame(
        {
            "unique_id": ["healthcare/training", "healthcare/inference"],
            "ds": pd.to_datetime(["2024-10-01"] * 2),
            "y": [1.0, 2.0],
        }
    )
    baseline = sample_paths.from_series(paths, future, history)
    assert baseline is not None and baseline.sectors == ("healthcare",)
    assert baseline.paths.shape == (3, 1, 2, 2)
    assert sample_paths.from_series({}, {}, history) is None
    # It said "a workload is missing or on other periods" either way; the import's own note named the quarters.
    said = [r.getMessage() for r in caplog.records if "left out of the sample paths" in r.getMessage()]
    assert "sector retail left out of the sample paths: retail/inference has no forecast" in said
    assert (
        "sector acme left out of the sample paths: acme/inference forecast from 2024-01-01, most series from "
        "2025-01-01 (the sector's history ends in another period)" in said
    )


def test_the_change_report_says_how_each_p50_moved() -> None:
    before = pd.DataFrame(
        {
            "sector": ["healthcare", "retail", "total"],
            "state": ["crosses_within_horizon"] * 3,
            "p50": pd.to_datetime(["2026-02-10", "2027-01-01", "2026-05-01"]),
        }
    )
    after = pd.DataFrame(
        {
            "sector": ["healthcare", "retail", "total"],
            "state": ["crosses_within_horizon", "not_within_horizon", "crosses_within_horizon"],
            "p50": pd.to_datetime(["2026-08-01", None, "2026-05-01"]),
        }
    )
    moves = p50_moves(before, after)
    assert moves["moved"].tolist() == [True, True, False]
    assert change_report(moves) == (
        "healthcare: P50 2026Q1 -> 2026Q3 (+1.9 quarters)\n"
        "retail: P50 2027Q1 -> none (not_within_horizon)\n"
        "total: P50 2026Q2 (unchanged)"
    )


def test_before_the_first_refresh_there_is_no_latest_run(rdb: Path) -> None:
    assert vintages.latest_run_id(rdb) is None
    assert vintages.list_runs(rdb).empty
    with pytest.raises(NotFoundError, match="forecasting refresh"):
        vintages.load_run(rdb, "latest")
    with pytest.raises(NotFoundError, match="no forecast run 'nope'"):
        vintages.load_run(rdb, "nope")


def test_list_and_load_return_every_stored_run(published: Path) -> None:
    a = vintages.latest_run_id(published)
    b = _refresh(published, force=True)
    runs = vintages.list_runs(published)
    assert runs["run_id"].tolist() == [b, a]
    assert runs[["n_series", "n_ok", "n_fallback", "n_failed"]].values.tolist() == [[4, 4, 0, 0], [4, 4, 0, 0]]
    old = vintages.load_run(published, a)
    assert old.info.status == "superseded" and old.paths is not None
    assert old.paths.sectors == ("healthcare", "retail")


def test_comparing_runs_attributes_a_moved_p50_to_new_data(published: Path) -> None:
    a = vintages.latest_run_id(published)
    _add_a_quarter_in_which_healthcare_inference_jumps(published)
    b = _refresh(published)
    table = compare_runs(published, a, b).set_index("sector")
    assert list(table.columns) == COMPARE_COLUMNS[1:]
    assert table.loc["healthcare", "state_b"] == "crossed_in_history"
    assert table.loc["healthcare", "moved"] and table.loc["healthcare", "cause"].startswith("data")
    assert compare_runs(published, a, a)["cause"].tolist() == ["", "", ""]


def test_the_vintage_commands_list_show_and_compare_runs(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from forecasting import cli
    from forecasting.cli import app

    monkeypatch.setattr(cli.out, "width", 250)  # whole run ids in the tables

    a = vintages.latest_run_id(published)
    b = _refresh(published, force=True)
    runner = CliRunner()
    listed = runner.invoke(app, ["vintage", "list", "--db", str(published)])
    assert listed.exit_code == 0, listed.output
    assert a in listed.output and b in listed.output
    shown = runner.invoke(app, ["vintage", "show", a, "--db", str(published)])
    assert shown.exit_code == 0, shown.output
    assert f"run {a} (superseded)" in shown.output and "healthcare/inference" in shown.output
    compared = runner.invoke(app, ["vintage", "compare", a, "--db", str(published)])
    assert compared.exit_code == 0, compared.output
    assert "healthcare" in compared.output
    missing = runner.invoke(app, ["vintage", "show", "nope", "--db", str(published)])
    assert missing.exit_code == 66 and "no forecast run 'nope'" in missing.output


def test_a_run_records_every_saved_scenario_and_its_crossover(rdb: Path) -> None:
    save_scenario(rdb, Scenario("mine", values={"healthcare": {"pretrained_share": 0.5}}))
    run = vintages.load_run(rdb, _refresh(rdb))
    assert run.scenarios["mine"] == load_scenario(rdb, "mine")
    assert set(run.scenarios) == set(list_scenarios(rdb)["name"])
    with store.reader(rdb) as s:
        stored = s.frame("crossover_run", run_id=run.run_id, scenario="mine")
    assert run.paths is not None
    expected = crossover_table(View(run, run.scenarios["mine"]))
    assert stored["sector"].tolist() == expected["sector"].tolist()
    assert pd.to_datetime(stored["p50"]).tolist() == expected["p50"].tolist()
    # Every saved scenario has its estimates; the neutral preset is the baseline itself, stored once.
    with store.reader(rdb) as s:
        history = s.frame("ui_crossover_history")
    assert set(history["scenario"]) == set(run.scenarios) | {BASELINE}
    assert (history["scenario"] == BASELINE).sum() == len(run.crossover)


def test_an_edited_scenario_is_named_as_the_cause_and_new_data_is_not(assumption_runs: tuple[Path, str, str]) -> None:
    rdb, a, b = assumption_runs  # 'mine' edited between the runs; same data, settings and code
    table = compare_runs(rdb, a, b, "mine").set_index("sector")
    assert table.loc["healthcare", "moved"] and table.loc["healthcare", "shift_quarters"] < 0
    assert table.loc["healthcare", "cause"] == "assumptions"
    assert not table.loc["retail", "moved"] and table.loc["retail", "cause"] == ""
    # The engine's own forecast did not move at all.
    assert not compare_runs(rdb, a, b)["moved"].any()
    # Each run keeps the assumptions it was made under.
    assert vintages.load_run(rdb, a).scenarios["mine"].value_for("healthcare", "pretrained_share").mode == 0.1


def test_under_unchanged_assumptions_a_moved_date_is_put_down_to_the_data(rdb: Path) -> None:
    save_scenario(rdb, Scenario("mine", values={"all": {"pretrained_share": 0.3}}))
    a = _refresh(rdb)
    _add_a_quarter_in_which_healthcare_inference_jumps(rdb)
    b = _refresh(rdb)
    table = compare_runs(rdb, a, b, "mine").set_index("sector")
    assert table.loc["healthcare", "moved"]
    assert "data" in table.loc["healthcare", "cause"] and "assumptions" not in table.loc["healthcare", "cause"]


def test_vintage_compare_takes_a_scenario_on_the_command_line(
    assumption_runs: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rdb, a, b = assumption_runs
    from typer.testing import CliRunner

    from forecasting import cli

    args = ["vintage", "compare", a, b, "--scenario", "mine", "--db", str(rdb)]
    monkeypatch.setattr(cli.out, "width", 250)  # whole words in the table
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "assumptions" in result.output
