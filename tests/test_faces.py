"""The three faces agree: the dashboard, the command line and the CSV exports show the same numbers
for the same run, scenario and threshold (crossover dates, probabilities by a quarter's end, shifts)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from forecasting import quarters
from forecasting.bootstrap import init_db
from forecasting.cli import app as cli
from forecasting.config import TOTAL, Settings
from forecasting.drivers import uniform
from forecasting.refresh import run_refresh
from forecasting.scenario import Scenario
from forecasting.scenario_store import save_scenario
from forecasting.ui import data, theme, widgets

from .conftest import write_tiny_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIO, THRESHOLD = "fast", 1.25


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sectors with a published run and a saved scenario with a ranged driver (faster inference growth)."""
    folder = tmp_path_factory.mktemp("faces")
    path = folder / "crossover.duckdb"
    init_db(path, write_tiny_data(folder / "data"))
    save_scenario(path, Scenario(SCENARIO, values={"all": {"realtime_growth": uniform(0.2, 0.6)}}))
    summary = run_refresh(path, Settings(n_paths=200, horizon=16), models=["drift"])
    assert summary.published
    return path


def cli_csv(db: Path, tmp_path: Path, kind: str) -> pd.DataFrame:
    """``forecasting export KIND`` under the scenario and threshold, read back."""
    out = tmp_path / f"{kind}.csv"
    args = ["export", kind, "--scenario", SCENARIO, "--threshold", str(THRESHOLD), "-o", str(out), "--db", str(db)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, keep_default_na=False)


def dashboard(db: Path, monkeypatch: pytest.MonkeyPatch, page: str, threshold: float = THRESHOLD) -> AppTest:
    """The dashboard on ``page`` with the sidebar's scenario and threshold set."""
    monkeypatch.setenv("CROSSOVER_DB", str(db))
    data.st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[widgets.SCENARIO_KEY] = SCENARIO
    at.session_state[widgets.THRESHOLD_KEY] = threshold
    at.run()
    at.switch_page(f"forecasting/ui/pages/{page}.py").run()
    assert not at.exception
    return at


def test_crossover_dates_and_probabilities_agree_on_the_dashboard_and_in_the_exports(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossover = cli_csv(db, tmp_path, "crossover").set_index("sector")
    probability = cli_csv(db, tmp_path, "probability")
    at = dashboard(db, monkeypatch, "sectors")
    total = probability[probability["sector"] == TOTAL]
    by = total.loc[total["probability"] > 0, "quarter"].iloc[0]  # the first quarter by whose end paths crossed
    at.select_slider(key="sectors_by").set_value(by).run()
    table = next(d.value for d in at.dataframe if "prob_by_date" in d.value.columns).set_index("sector")
    assert len(table) == len(crossover) == 3
    assert set(crossover["scenario"]) == {SCENARIO} and set(crossover["threshold"]) == {THRESHOLD}
    for sector, row in crossover.iterrows():
        shown = table.loc[theme.sector_label(str(sector))]
        for col in ("crossed_at", "p10", "p50", "p90"):
            # The dashboard shows the export's date as its quarter, and a dash where there is none.
            assert shown[col] == (quarters.text(pd.Timestamp(row[col])) if row[col] else "—"), (sector, col)
        assert shown["prob_within_horizon"] == pytest.approx(float(row["prob_within_horizon"]), abs=1e-12)
        # "Crossed by 2027Q4" on the dashboard is the export's row for that quarter, dated its last day.
        export_row = probability[(probability["sector"] == sector) & (probability["quarter"] == by)]
        assert export_row["crossed_by"].tolist() == [str(quarters.end(by).date())]
        assert shown["prob_by_date"] == pytest.approx(float(export_row["probability"].iloc[0]), abs=1e-12)
    assert table["prob_by_date"].between(0, 1).all() and table["prob_by_date"].max() > 0


def _cli_compare(db: Path, threshold: float) -> dict[str, tuple[str, float | None]]:
    """Sector -> (P50 quarter, shift) as ``forecasting scenario compare baseline SCENARIO`` prints them."""
    args = ["scenario", "compare", "baseline", SCENARIO, "--threshold", str(threshold), "--db", str(db)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    found: dict[str, tuple[str, float | None]] = {}
    for line in result.stdout.splitlines():  # off a terminal: tab-separated lines
        cells = line.split("\t")
        if len(cells) == 3 and cells[0] in ("healthcare", "retail", TOTAL):
            m = re.fullmatch(r"(\d{4}Q[1-4])(?: \(([+-]\d+\.\d)\))?", cells[2])
            assert m, line
            found[cells[0]] = (m.group(1), None if m.group(2) is None else float(m.group(2)))
    return found


def test_the_shift_between_scenarios_is_the_same_number_on_every_face(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At 1x both the baseline and the scenario have a P50 in every sector, so every shift is a number.
    printed = _cli_compare(db, 1.0)
    assert set(printed) == {"healthcare", "retail", TOTAL}
    at = dashboard(db, monkeypatch, "scenarios", threshold=1.0)
    at.multiselect(key="compare_names").set_value(["baseline", SCENARIO]).run()
    assert not at.exception
    shifts = next(d.value for d in at.dataframe if f"{SCENARIO} shift (quarters)" in d.value.columns)
    shifts = shifts.set_index("sector")
    moved = 0
    for sector, (p50, shift) in printed.items():
        row = shifts.loc[theme.sector_label(sector)]
        assert row[f"{SCENARIO} P50"] == quarters.text(p50)
        dashboard_shift = row[f"{SCENARIO} shift (quarters)"]
        if shift is None:
            assert dashboard_shift == "—"
        else:
            assert dashboard_shift == f"{shift:+.1f}"
            moved += shift != 0
    assert moved == 3  # faster inference growth moves every P50, so no shift is trivially zero
