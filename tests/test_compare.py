"""Scenario comparison, the shift between crossover dates, and goal-seek against a stored run (Python and CLI)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting.bootstrap import init_db
from forecasting.cli import app
from forecasting.config import Settings
from forecasting.drivers import point
from forecasting.executors import SerialExecutor
from forecasting.quarters import middle
from forecasting.refresh import run_refresh
from forecasting.reports import compare_saved, goal_seek_view, open_view
from forecasting.scenario import Scenario
from forecasting.scenario_store import save_scenario

from .conftest import write_tiny_data

runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one published run; healthcare and retail cross within its horizon."""
    tmp = tmp_path_factory.mktemp("analysis")
    db = tmp / "crossover.duckdb"
    init_db(db, write_tiny_data(tmp / "data", ("healthcare", "retail")))
    settings = Settings(horizon=12, n_paths=200, backtest_origins=2, backtest_horizon=2)
    run_refresh(db, settings, models=["naive", "drift", "ets"], executor=SerialExecutor())
    save_scenario(db, Scenario("edge", values={"all": {"edge_share": point(0.6), "edge_year": point(2026.0)}}))
    return db


def test_a_scenario_compared_with_itself_shifts_nothing(published: Path) -> None:
    table = compare_saved(published, ["baseline", "baseline"])
    assert list(table.columns) == ["sector", "scenario", "state", "p10", "p50", "p90", "shift_quarters"]
    assert len(table) == 2 * 3 and (table["shift_quarters"].dropna() == 0).all()


def test_edge_offload_delays_crossover_against_the_baseline(published: Path) -> None:
    table = compare_saved(published, ["baseline", "edge"]).set_index(["scenario", "sector"])
    for sector in ("healthcare", "retail", "total"):
        base, edge = table.loc[("baseline", sector), "p50"], table.loc[("edge", sector), "p50"]
        assert pd.isna(edge) or edge > base
    assert (table.loc["edge", "shift_quarters"].fillna(1) >= 0).all()


def test_goal_seek_aims_at_the_middle_of_the_asked_quarter(published: Path) -> None:
    baseline = compare_saved(published, ["baseline"]).set_index("sector").loc["retail", "p50"]
    target = (pd.Period(baseline, "Q") + 2).strftime("%YQ%q")
    result = goal_seek_view(open_view(published), "retail", "edge_share", target)
    assert result.reachable, result.message
    assert abs((result.achieved_p50 - middle(target)).days) <= 92 // 4
    assert pd.Period(result.achieved_p50, "Q").strftime("%YQ%q") == target


def test_quarter_middle_reads_labels_and_dates() -> None:
    assert middle("2028Q1") == pd.Timestamp("2028-02-15")
    assert middle("2028-q3") == middle("2028-09-30") == pd.Timestamp("2028-08-16")


def test_the_cli_compares_scenarios_and_goal_seeks(published: Path) -> None:
    compared = runner.invoke(app, ["scenario", "compare", "baseline", "edge", "--db", str(published)])
    assert compared.exit_code == 0, compared.output
    assert "P50 crossover (shift vs first)" in compared.output and "retail" in compared.output
    unreachable = runner.invoke(
        app, ["scenario", "goal-seek", "retail", "edge_share", "2040Q1", "--db", str(published)]
    )
    assert unreachable.exit_code == 1
    assert "beyond the forecast horizon" in " ".join(unreachable.output.split())


def test_the_cli_refuses_a_scenario_named_twice_in_one_line(published: Path) -> None:
    result = runner.invoke(app, ["scenario", "compare", "edge", "baseline", "edge", "--db", str(published)])
    assert result.exit_code == 2, result.output
    assert "named more than once: edge" in result.output and "reshape" not in result.output


def test_the_cli_refuses_to_compare_one_scenario_with_nothing(published: Path) -> None:
    """Its help says two or more; one used to print a one-column table, exit 0."""
    result = runner.invoke(app, ["scenario", "compare", "baseline", "--db", str(published)])
    assert result.exit_code == 2 and "name two or more scenarios to compare" in result.output


@pytest.mark.parametrize("sector", ["all", "retial"])
def test_goal_seek_names_the_sectors_it_can_move_when_given_another(published: Path, sector: str) -> None:
    """It said "sectors ['all'] are not in the paths ([...])", leaving out total, which it takes."""
    result = runner.invoke(app, ["scenario", "goal-seek", sector, "edge_share", "2028Q1", "--db", str(published)])
    assert result.exit_code == 2
    assert f"unknown sector '{sector}'; use total or one of healthcare" in result.output
