"""The dashboard under AppTest: every page in every database state, scenario controls, imports, settings."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import tomllib
from streamlit.testing.v1 import AppTest

from forecasting import audit, engine, quarters, scenario_store, schema, store, vintages
from forecasting.bootstrap import init_db
from forecasting.config import ALL, IMPORT_MAX_MB, TOTAL
from forecasting.crossover import Crossover, crossover_distribution, median_curve_crossing
from forecasting.drivers import DRIVER_BY_KEY, point
from forecasting.errors import DatabaseBusyError, Problem, ValidationError
from forecasting.paths import stack
from forecasting.refresh import run_refresh, run_replays
from forecasting.reports import figures
from forecasting.scenario import PRESETS, Scenario, apply_scenario
from forecasting.scenario_store import EDITED_NAME
from forecasting.sensitivity import GoalSeekResult, goal_seek_text
from forecasting.ui import charts, comparison, controls, data, saving, theme, widgets, words
from tests.conftest import (
    SHIPPED_MODELS,
    SHIPPED_SETTINGS,
    copy_db,
    failing_refresh,
    read_only,
    wait_for_exit,
    write_tiny_data,
)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = ["overview", "sectors", "scenarios", "quality", "data_sources", "exports"]
FAST_MODELS = SHIPPED_MODELS
FAST = SHIPPED_SETTINGS


def make_run(db: Path) -> str:
    """Publish a forecast run quickly (two simple models, 200 paths); returns its id."""
    summary = run_refresh(db, FAST, models=FAST_MODELS)
    assert summary.published, summary.message
    return summary.run_id


@pytest.fixture(scope="module")
def run_db(shipped_published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped data with one published forecast run, shared: tests that write copy it first."""
    db = copy_db(shipped_published_template, tmp_path_factory.mktemp("app") / "crossover.duckdb")
    with read_only(db):
        yield db


@pytest.fixture
def fresh_db(tmp_path: Path, shipped_db_template: Path) -> Path:
    """The shipped data, no forecast run."""
    return copy_db(shipped_db_template, tmp_path / "crossover.duckdb")


@pytest.fixture(scope="module")
def single_sector_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny data of one sector (retail) with one published run, shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("one")
    db = tmp / "one.duckdb"
    init_db(db, write_tiny_data(tmp / "data", sectors=("retail",)))
    make_run(db)
    with read_only(db):
        yield db


@pytest.fixture(scope="module")
def user_only_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One sector whose every shipped row a user import replaced, with one published run, shared (read only)."""
    tmp = tmp_path_factory.mktemp("user")
    db = tmp / "user.duckdb"
    init_db(db, write_tiny_data(tmp / "data", sectors=("retail",)))
    periods = [f"{y}Q{q}" for y in range(2022, 2025) for q in range(1, 5)]
    rows = [
        (p, "Retail", w, 1e6 * (1.15 if w == "inference" else 1.02) ** i)
        for i, p in enumerate(periods)
        for w in ("training", "inference")
    ]
    upload = tmp / "mine.csv"
    pd.DataFrame(rows, columns=["period", "sector", "workload", "spend_usd"]).to_csv(upload, index=False)
    data.import_upload(db, "mine.csv", upload.read_bytes(), replace=True)
    with store.reader(db) as s:
        assert set(s.frame("history_spend", provenance=None)["provenance"]) == {"user"}
    make_run(db)
    with read_only(db):
        yield db


@pytest.fixture(autouse=True)
def _keep_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest leaves ``sys.modules["__main__"]`` set to app.py; put pytest's back after each test.

    Otherwise a process started later with the "spawn" method (Dask workers) re-imports app.py as its main
    module, without this test's ``CROSSOVER_DB``, and so builds a database in the repository.
    """
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


def app(db: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None, threshold: float = 1.0) -> AppTest:
    """Run the app against ``db`` (via CROSSOVER_DB) on one page, caches cleared, the sidebar at ``threshold``.

    On the shipped data every crossover at 1x lies inside the modelled history, which drivers (acting on the
    forecast) cannot move; tests of what a driver does ask at 2x, which lies ahead.
    """
    monkeypatch.setenv("CROSSOVER_DB", str(db))
    data.st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[widgets.THRESHOLD_KEY] = threshold
    at.run()
    if page is not None:
        at.switch_page(f"forecasting/ui/pages/{page}.py").run()
    return at


def texts(at: AppTest) -> list[str]:
    """Every markdown, caption, info, warning, error and success text of the page."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def chart_titles(at: AppTest) -> list[str]:
    """The titles of the page's Plotly charts."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [spec.get("layout", {}).get("title", {}) for spec in specs]
    # A long title is drawn as a title and a subtitle, split at its colon (theme.style).
    return [": ".join(filter(None, [t.get("text", ""), t.get("subtitle", {}).get("text")])) for t in titles]


def headline(at: AppTest) -> str:
    """The page's headline sentence (a level-3 heading)."""
    found = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert found, texts(at)
    return found[0][4:]


# --- settings --------------------------------------------------------------------------------------------------


def test_streamlit_config_sets_security_and_upload_limit() -> None:
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["enableCORS"] is True
    assert cfg["server"]["headless"] is True
    assert cfg["server"]["maxUploadSize"] == IMPORT_MAX_MB == 50
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] == "none"
    assert cfg["theme"]["primaryColor"] == "#0072B2"


# --- every page in every state ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_a_forecast_run(page: str, fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(fresh_db, monkeypatch, page)
    assert not at.exception
    if page != "data_sources":
        assert any("forecasting refresh" in t for t in texts(at)), texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_a_forecast_run(page: str, run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, page)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert not any("forecasting refresh` (or press" in t for t in texts(at))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_a_single_sector(
    page: str, single_sector_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(single_sector_db, monkeypatch, page)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_only_user_imported_data(
    page: str, user_only_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(user_only_db, monkeypatch, page)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


def test_an_imported_sector_left_out_of_the_crossovers_is_named_not_just_missing(
    tmp_path: Path, tiny_published_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(tiny_published_template, tmp_path / "short.duckdb")
    early = b"period,sector,workload,spend_usd\n2023Q1,Acme Corp,training,5\n2023Q1,Acme Corp,inference,7\n"
    summary = data.import_upload(db, "early.csv", early)
    assert summary.notes and "leaves it out of the crossovers" in summary.notes[0]
    assert run_refresh(db, FAST, models=FAST_MODELS).published
    for page in ("overview", "sectors"):
        at = app(db, monkeypatch, page)
        assert not at.exception
        assert any("Left out of the crossovers" in t and "Acme corp; see the Data page" in t for t in texts(at))


def test_a_sector_forecast_by_the_naive_fallback_is_named_beside_its_crossover(
    tmp_path: Path, tiny_published_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(tiny_published_template, tmp_path / "one.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        (last,) = con.execute("SELECT max(period) FROM spend_history").fetchone()
    quarter = quarters.label(pd.Timestamp(last))
    one = f"period,sector,workload,spend_usd\n{quarter},Acme Corp,training,5\n{quarter},Acme Corp,inference,3\n"
    data.import_upload(db, "one.csv", one.encode())
    assert run_refresh(db, FAST, models=FAST_MODELS).published
    for page in ("overview", "sectors"):
        at = app(db, monkeypatch, page)
        assert not at.exception
        # Before: its crossover odds (a driftless walk with an assumed 10% a quarter) read like any other's.
        assert any("Forecast as a random walk" in t and "Acme corp; see Model quality" in t for t in texts(at))


def test_the_refresh_button_starts_a_separate_refresh_process(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Path] = []
    monkeypatch.setattr(data, "start_refresh", lambda db: started.append(db) or 4242)
    monkeypatch.setattr(data, "refresh_running", lambda pid: pid == 4242)
    at = app(fresh_db, monkeypatch)
    at.button(key="start_refresh").click().run()
    assert started == [fresh_db]
    assert data.refresh_log_path(fresh_db) == fresh_db.with_name("crossover.duckdb.refresh.log")
    assert any("Refresh running (process 4242)" in i.value for i in at.info)
    assert not at.exception


def test_a_refresh_publishing_its_run_is_shown_as_running_on_every_page_that_started_one(
    fresh_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "start_refresh", lambda db: 4242)
    monkeypatch.setattr(data, "refresh_running", lambda pid: pid == 4242)
    at = app(fresh_db, monkeypatch)
    at.button(key="start_refresh").click().run()

    def publishing(db: Path) -> str | None:
        raise DatabaseBusyError("the refresh holds the database")

    monkeypatch.setattr(vintages, "latest_run_id", publishing)
    at.run()
    assert not at.exception
    assert any("Refresh running (process 4242)" in i.value for i in at.info), [i.value for i in at.info]
    assert not any("being refreshed right now" in i.value for i in at.info)  # not the page-wide busy notice


def test_a_refresh_that_stops_without_publishing_says_so_and_offers_the_button_again(
    fresh_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids: list[int] = []
    monkeypatch.setattr(data, "start_refresh", lambda db: pids.append(failing_refresh(db)) or pids[-1])
    at = app(fresh_db, monkeypatch)
    at.button(key="start_refresh").click().run()
    wait_for_exit(pids[0])
    at.run()
    assert not at.exception
    assert not any("Refresh running" in i.value for i in at.info)
    (said,) = [e.value for e in at.error]
    reason = words.plain("refused: the history of retail shrank")  # the log's last line, shown as typed
    assert f"stopped without publishing a forecast run: {reason}." in said
    assert "`crossover.duckdb.refresh.log`" in said
    at.button(key="start_refresh")  # offered again


def test_a_missing_database_is_built_from_the_shipped_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "new" / "crossover.duckdb"
    at = app(db, monkeypatch, "data_sources")
    assert not at.exception
    assert db.exists()
    with store.reader(db) as s:
        assert s.schema_version() == schema.latest_schema_version()


def test_a_busy_database_shows_the_refreshing_notice(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(db: Path) -> str:
        raise DatabaseBusyError("database is busy (being refreshed?)")

    monkeypatch.setattr(vintages, "latest_run_id", busy)
    at = app(run_db, monkeypatch)
    assert not at.exception
    assert [i.value for i in at.info] == [
        "The database is being refreshed right now. This page will be readable again in a few seconds."
    ]


# --- overview -----------------------------------------------------------------------------------------------


def test_overview_headline_is_the_total_crossover_of_the_published_run(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = vintages.load_run(run_db, "latest")
    expected = words.headline(crossover_distribution(run.paths)[TOTAL])
    at = app(run_db, monkeypatch)
    assert headline(at) == expected
    assert any(f"forecast run **`{run.run_id}`**" in c.value for c in at.caption)
    last = quarters.text(run.history["ds"].max())
    assert any(f"Data through **{last}**" in c.value for c in at.caption)


def test_a_threshold_of_2_turns_the_overview_headline_into_a_reaches_2x_sentence_without_fitting(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[str] = []
    real_fit = engine.fit_series
    monkeypatch.setattr(engine, "fit_series", lambda task: fits.append(task.uid) or real_fit(task))
    real_forecast = engine.forecast
    monkeypatch.setattr(engine, "forecast", lambda *a, **k: fits.append("forecast") or real_forecast(*a, **k))
    at = app(run_db, monkeypatch)
    assert headline(at).startswith("Inference overtook training in ")
    assert at.slider(key=widgets.THRESHOLD_KEY).value == 1.0
    at.slider(key=widgets.THRESHOLD_KEY).set_value(2.0).run()
    assert not at.exception
    baseline = vintages.load_run(run_db, "latest").paths
    shown = scenario_store.load_scenario(run_db, "baseline")
    doubled = crossover_distribution(apply_scenario(baseline, shown, seed=data.SCENARIO_SEED), threshold=2.0)[TOTAL]
    assert doubled.state == "crosses_within_horizon"
    assert headline(at) == words.headline(doubled)
    assert headline(at).startswith("Inference reaches 2× training in ")
    assert [m.label for m in at.metric][:3] == ["2× training, P50", "80% range: P10", "80% range: P90"]
    assert [m.value for m in at.metric][:3] == [
        quarters.text(doubled.p50),
        quarters.text(doubled.p10),
        quarters.text(doubled.p90),
    ]
    assert at.session_state[widgets.THRESHOLD_KEY] == 2.0
    assert fits == []


def test_the_sector_table_follows_the_threshold(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch)
    at.slider(key=widgets.THRESHOLD_KEY).set_value(1.5).run()
    at.switch_page("forecasting/ui/pages/sectors.py").run()
    assert not at.exception
    assert "When inference reaches 1.5× training, by sector" in [h.value for h in at.subheader]
    baseline = vintages.load_run(run_db, "latest").paths
    shown = scenario_store.load_scenario(run_db, "baseline")
    expected = crossover_distribution(apply_scenario(baseline, shown, seed=data.SCENARIO_SEED), threshold=1.5)
    table = at.dataframe[0].value
    assert table["state"].tolist() == [c.state.replace("_", " ") for c in expected.values()]
    # Quarters, never days, and a dash where there is no P50.
    assert table["p50"].tolist() == [quarters.text(c.p50) if c.p50 is not None else "—" for c in expected.values()]
    assert "None" not in table.astype(str).to_numpy().ravel().tolist()


def test_a_new_run_shows_without_restarting_the_app(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(fresh_db, monkeypatch)
    assert any("No forecast has been published yet" in w.value for w in at.warning)
    run_id = make_run(fresh_db)
    at.run()
    assert any(f"forecast run **`{run_id}`**" in c.value for c in at.caption)


# --- scenarios ----------------------------------------------------------------------------------------------


def test_a_slider_change_moves_the_headline_without_fitting_a_model(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[str] = []
    real_fit = engine.fit_series
    monkeypatch.setattr(engine, "fit_series", lambda task: fits.append(task.uid) or real_fit(task))
    real_forecast = engine.forecast
    monkeypatch.setattr(engine, "forecast", lambda *a, **k: fits.append("forecast") or real_forecast(*a, **k))
    at = app(run_db, monkeypatch, "scenarios", threshold=2.0)
    focus = at.selectbox(key="scenario_focus").value
    before = headline(at)
    # The sidebar's baseline is what the page edits: a driver that acts on its own (edge_year needs an edge share).
    grow = DRIVER_BY_KEY["realtime_growth"]
    slider = next(s for s in at.slider if s.key.endswith(".all.realtime_growth.pt"))
    slider.set_value(grow.max).run()
    after = headline(at)
    assert not at.exception
    assert after != before
    working = Scenario.from_dict(at.session_state["scenario_work"])
    assert working.value_for(focus, "realtime_growth").mode == grow.max
    baseline = vintages.load_run(run_db, "latest").paths
    moved = crossover_distribution(apply_scenario(baseline, working, seed=data.SCENARIO_SEED), threshold=2.0)[focus]
    assert after == f"{theme.sector_label(focus)}: {words.headline(moved)}"
    assert fits == []


def test_reset_puts_a_driver_back_to_its_default(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "scenarios")
    next(s for s in at.slider if s.key.endswith(".all.price_decline.pt")).set_value(0.6).run()
    assert Scenario.from_dict(at.session_state["scenario_work"]).value_for(TOTAL, "price_decline").mode == 0.6
    next(b for b in at.button if b.key.endswith(".all.price_decline.reset")).click().run()
    slider = next(s for s in at.slider if s.key.endswith(".all.price_decline.pt"))
    assert slider.value == 0.30
    assert Scenario.from_dict(at.session_state["scenario_work"]).value_for(TOTAL, "price_decline").mode == 0.30


def test_a_range_toggle_turns_a_driver_into_a_uniform_range(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "scenarios", threshold=2.0)
    next(t for t in at.toggle if t.key.endswith(".all.adoption_speed.range")).set_value(True).run()
    next(s for s in at.slider if s.key.endswith(".all.adoption_speed.rg")).set_value((0.3, 1.2)).run()
    value = Scenario.from_dict(at.session_state["scenario_work"]).value_for(TOTAL, "adoption_speed")
    assert (value.kind, value.lo, value.hi) == ("uniform", 0.3, 1.2)
    assert not at.exception
    shown = " ".join(c.value for c in at.caption)
    assert "The P10-P90 crossover band is" in shown and "uncertainty dominates it" in shown


def test_save_copy_and_delete_a_scenario_from_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(run_db.read_bytes())
    at = app(db, monkeypatch, "scenarios")
    next(s for s in at.slider if s.key.endswith(".all.price_decline.pt")).set_value(0.6).run()
    at.text_input(key="save_name").input("edge sixty")
    at.form_submit_button[0].click().run()
    saved = scenario_store.load_scenario(db, "edge sixty")
    # The author is the signed-in user (locally: the OS user), not free text.
    assert (saved.author, saved.value_for(TOTAL, "price_decline").mode) == (audit.os_user(), 0.6)
    at.selectbox(key="copy_from").select("edge sixty")
    at.text_input(key="copy_name").input("edge copy")
    at.form_submit_button[1].click().run()
    assert scenario_store.load_scenario(db, "edge copy").to_dict()["values"] == saved.to_dict()["values"]
    delete_box(at).select("edge copy")
    sure_box(at).check()
    at.form_submit_button[2].click().run()
    assert "edge copy" not in scenario_store.list_scenarios(db)["name"].tolist()
    assert not at.exception


def sure_box(at: AppTest) -> Any:
    """The Delete form's confirmation box (a new key after every delete)."""
    return next(c for c in at.checkbox if c.label == "Yes, delete it")


def delete_box(at: AppTest) -> Any:
    """The Delete form's scenario box (its key follows the list of the user's scenarios)."""
    return next(s for s in at.selectbox if s.label == "Delete")


def test_the_sidebar_scenario_is_the_one_scenarios_edits_and_every_page_shows(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(run_db, monkeypatch, threshold=2.0)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select("edge_heavy").run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    edge = scenario_store.load_scenario(run_db, "edge_heavy")
    working = Scenario.from_dict(at.session_state["scenario_work"])
    assert working.to_dict()["values"] == controls.normalised(edge).to_dict()["values"]
    assert not any("(edited)" in t for t in chart_titles(at)), chart_titles(at)
    next(s for s in at.slider if s.key.endswith(".all.edge_year.pt")).set_value(2026.0).run()
    assert any(t.endswith("under 'edge_heavy' (edited)") for t in chart_titles(at)), chart_titles(at)
    edited = Scenario.from_dict(at.session_state["scenario_work"])
    at.switch_page("forecasting/ui/pages/overview.py").run()
    assert not at.exception
    paths = vintages.load_run(run_db, "latest").paths
    total = crossover_distribution(apply_scenario(paths, edited, seed=data.SCENARIO_SEED), threshold=2.0)[TOTAL]
    assert headline(at) == words.headline(total)
    assert any("unsaved edits" in c.value for c in at.sidebar.caption)
    panel = next(e.label for e in at.expander if e.label.startswith("What changed against the baseline"))
    assert not panel.endswith(": 0 driver settings"), panel
    at.session_state["changes_panel"] = True  # open the panel: its tables are built only then
    at.run()
    shifts = next(d.value for d in at.dataframe if "shift (quarters)" in d.value.columns)
    assert shifts["sector"].iloc[0] == theme.sector_label(TOTAL)
    moved = next(d.value for d in at.dataframe if "this scenario" in d.value.columns)
    assert "2026" in moved["this scenario"].tolist()


def test_the_sidebar_shows_unsaved_edits_in_the_run_a_driver_moves(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(run_db, monkeypatch, "scenarios", threshold=2.0)
    assert not any("unsaved edits" in c.value for c in at.sidebar.caption)
    next(s for s in at.slider if s.key.endswith(".all.edge_year.pt")).set_value(2026.0).run()
    # Before, the sidebar (drawn before the page's sliders) said so one run later, after another click.
    assert any("unsaved edits" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="scenario_discard")
    next(t for t in at.toggle if t.key.endswith(".all.edge_year.range")).set_value(True).run()
    next(s for s in at.slider if s.key.endswith(".all.edge_year.rg")).set_value((2027.0, 2030.0)).run()
    ranged = Scenario.from_dict(at.session_state["scenario_work"]).value_for(ALL, "edge_year")
    assert (ranged.lo, ranged.hi) == (2027.0, 2030.0)
    assert not at.exception


def test_saving_without_a_name_is_refused_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    at = app(db, monkeypatch, "scenarios")
    before = scenario_store.list_scenarios(db)["name"].tolist()
    at.text_input(key="save_name").input("   ")
    at.form_submit_button[0].click().run()
    assert [e.value for e in at.error] == [saving.NO_NAME]
    assert scenario_store.list_scenarios(db)["name"].tolist() == before


def test_the_save_and_copy_boxes_stop_at_the_lengths_the_store_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    """A description had no limit, and a name over 100 characters could be typed and was refused only on save."""
    at = app(copy_db(run_db, tmp_path / "copy.duckdb"), monkeypatch, "scenarios")
    assert at.text_input(key="save_name").max_chars == scenario_store.MAX_NAME == 100
    assert at.text_input(key="copy_name").max_chars == scenario_store.MAX_NAME
    assert at.text_input(key="save_desc").max_chars == scenario_store.MAX_DESCRIPTION == 2000


def test_after_a_save_delete_lists_it_and_each_delete_asks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    at = app(db, monkeypatch, "scenarios")
    for name in ("mine one", "mine two"):
        at.text_input(key="save_name").input(name)
        at.form_submit_button[0].click().run()
        assert at.sidebar.selectbox(key=widgets.SCENARIO_KEY).value == name
    assert delete_box(at).options == ["mine one", "mine two"]
    assert delete_box(at).value == "mine one"
    sure_box(at).check()
    at.form_submit_button[2].click().run()
    assert "mine one" not in scenario_store.list_scenarios(db)["name"].tolist()
    assert sure_box(at).value is False
    delete_box(at).select("mine two")
    at.form_submit_button[2].click().run()
    assert "mine two" in scenario_store.list_scenarios(db)["name"].tolist()
    assert [w.value for w in at.warning] == ["Tick the box to confirm."]


def test_a_scenario_name_is_never_rendered_as_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    name = "![x](http://example.com/p.png) **bold**"
    scenario_store.save_scenario(db, Scenario(name, "[link](http://example.com)"))
    at = app(db, monkeypatch)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select(name).run()
    shown = [t for t in texts(at) if "example" in t]
    assert shown and all("\\!\\[x\\]\\(http" in t or "\\[link\\]\\(http" in t for t in shown), shown


def test_a_scenario_name_is_never_rendered_as_html_in_a_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    name = '<b>bold</b> <a href="https://example.org">x</a><br>'
    scenario_store.save_scenario(db, Scenario(name, values={"all": {"realtime_growth": 0.2}}))
    at = app(db, monkeypatch)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select(name).run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    drawn = json.dumps(specs)
    assert "<b>bold" not in drawn and "<a href" not in drawn and "</a><br>" not in drawn
    escaped = words.chart_text(name)
    assert escaped == '&lt;b&gt;bold&lt;/b&gt; &lt;a href="https://example.org"&gt;x&lt;/a&gt;&lt;br&gt;'
    assert any(escaped in t for t in chart_titles(at))  # the fan's title
    heat = next(s for s in specs if s["data"][0]["type"] == "heatmap")
    assert escaped in heat["data"][0]["x"]
    assert any(escaped in str(tr.get("name")) for s in specs for tr in s["data"])  # overlay and probability


def test_goal_seek_says_when_a_driver_cannot_move_the_crossover_out_of_its_quarter() -> None:

    at = pd.Timestamp("2028-07-03")
    flat = GoalSeekResult("total", "edge_year", pd.Timestamp("2026-10-01"), False, None, None, at, at, 12)
    assert goal_seek_text(flat, "Total market") == (
        "Edge offload target year keeps the P50 crossover of Total market in 2028 Q3 across its range "
        "(2026 to 2035 calendar year): it cannot reach 2026 Q4."
    )
    never = GoalSeekResult("acme", "edge_year", pd.Timestamp("2026-10-01"), False, None, None, None, None, 12)
    assert "keeps the P50 crossover of Acme beyond the horizon across" in goal_seek_text(never, "Acme")


def test_goal_seek_names_the_quarter_its_value_reaches_when_the_p50_jumps_next_to_the_target() -> None:

    target, got = pd.Timestamp("2027-02-14"), pd.Timestamp("2027-04-20")  # |miss| < 1 quarter: reachable
    res = GoalSeekResult("retail", "edge_share", target, True, 0.31, got, got, got, 12)
    assert goal_seek_text(res, "Retail") == (
        "Edge offload = 0.31 share of cloud inference moved to edge by the target year puts the P50 crossover of "
        "Retail in 2027 Q2, the nearest it gets to 2027 Q1."
    )
    exact = GoalSeekResult("retail", "edge_share", target, True, 0.3, target, target, target, 12)
    assert goal_seek_text(exact, "Retail").endswith("puts the P50 crossover of Retail in 2027 Q1.")


def test_a_sector_named_in_a_saved_scenario_is_never_rendered_as_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    sector = "**x** :red[y] [l](javascript:alert(1))"  # `scenario save` takes any sector without a '/'
    scenario_store.save_scenario(db, Scenario("odd", values={sector: {"realtime_growth": 0.5}}))
    at = app(db, monkeypatch)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select("odd").run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    assert not at.exception
    (said,) = [c.value for c in at.caption if c.value.startswith("Sector overrides")]
    assert said == f"Sector overrides: {words.plain(theme.sector_label(sector))}."


def test_an_override_for_a_sector_the_run_lacks_can_be_chosen_to_change_or_remove_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    scenario_store.save_scenario(db, Scenario("ghostly", values={"ghost_sector": {"realtime_growth": 0.5}}))
    at = app(db, monkeypatch)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select("ghostly").run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    box = at.selectbox(key="scenario_target")
    assert "Ghost sector (not in this run)" in box.options  # before: not listed, so the override stayed for good
    box.select("ghost_sector").run()
    assert not at.exception
    (reset,) = [b for b in at.button if b.key.endswith(".ghost_sector.realtime_growth.reset")]
    reset.click().run()  # its own reset, leaving every other setting as it is
    assert not [c.value for c in at.caption if c.value.startswith("Sector overrides")]


def test_plain_escapes_every_markdown_character() -> None:
    assert words.plain("![a](b) *c* :red[d]") == "\\!\\[a\\]\\(b\\) \\*c\\* \\:red\\[d\\]"


def test_the_replays_call_says_which_knew_no_figure_and_which_dates_lie_in_their_own_history() -> None:
    t = pd.Timestamp
    moves = pd.DataFrame(
        {
            "as_of": [t("2023-03-31"), t("2022-12-31"), t("2024-06-30"), t("2025-06-30")],
            "p10": [t("2019-05-22"), t("2019-05-22"), t("2024-09-01"), t("2025-01-01")],
            "p90": [pd.NaT, pd.NaT, t("2027-01-01"), t("2026-06-01")],
            "anchors_known": [0, 0, 2, 4],
        }
    )
    assert words.call_text(moves) == (
        "The replays as of 2022 Q4 to 2023 Q1 knew no published share, so their call is the share model's priors "
        "alone. In 3 of 4 replays the P10 lies before the replay's own date: at least a tenth of its paths had "
        "inference ahead already in the modelled history it saw (modelled, not observed). 2 replays have no P90 "
        "(dotted, from the P10 up): more than a tenth of their paths did not cross within the horizon."
    )
    assert words.call_text(moves.iloc[2:3]) == ""
    assert words.call_text(moves.iloc[:0]) == ""


def test_a_replay_whose_paths_barely_cross_is_not_counted_among_the_dotted_ranges() -> None:
    t = pd.Timestamp
    moves = pd.DataFrame(
        {"as_of": [t("2024-06-30")], "p10": [pd.NaT], "p90": [pd.NaT], "anchors_known": [2]}
    )  # fewer than a tenth of the paths cross: no P10, so the chart draws nothing for it
    assert words.call_text(moves) == ""


def test_comparing_scenarios_lists_each_sector_once(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "scenarios")
    at.multiselect(key="compare_names").set_value(["baseline", "published", "edge_heavy"]).run()
    table = next(d.value for d in at.dataframe if "baseline P50" in d.value.columns)
    sectors = vintages.load_run(run_db, "latest").paths.sectors
    assert table["sector"].tolist() == [theme.sector_label(s) for s in (TOTAL, *sectors)]
    assert list(table.columns) == [
        "sector",
        "baseline P50",
        "published P50",
        "published shift (quarters)",
        "edge_heavy P50",
        "edge_heavy shift (quarters)",
    ]


def test_the_comparison_keeps_the_shown_scenario_under_its_current_name_and_drops_a_deleted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_db: Path
) -> None:
    db = copy_db(run_db, tmp_path / "copy.duckdb")
    scenario_store.save_scenario(db, Scenario("mine", values={"all": {"realtime_growth": 0.2}}))
    at = app(db, monkeypatch, "scenarios")

    def picks() -> list[str]:
        return list(at.multiselect(key=comparison.PICKS).value)

    def edit(value: float) -> None:
        next(s for s in at.slider if s.key.endswith(".all.price_decline.pt")).set_value(value).run()

    assert picks() == ["baseline", "published"]
    edit(0.6)  # the shown baseline's edits join the comparison beside it
    assert picks() == ["baseline", EDITED_NAME, "published"]
    at.text_input(key="save_name").input("saved edit")
    at.form_submit_button[0].click().run()  # the edits, saved under a name, are compared under it
    assert picks() == ["baseline", "saved edit", "published"]
    edit(0.7)
    assert picks() == ["baseline", "saved edit", EDITED_NAME, "published"]
    at.run()  # the sidebar, drawn before the page, offers to discard the edits from the next run on
    at.sidebar.button(key="scenario_discard").click().run()  # discarded: the saved one stays, once
    assert picks() == ["baseline", "saved edit", "published"]
    at.multiselect(key=comparison.PICKS).select("mine").run()
    delete_box(at).select("mine")
    sure_box(at).check()
    at.form_submit_button[2].click().run()
    assert not at.exception
    assert picks() == ["baseline", "saved edit", "published"]
    table = next(d.value for d in at.dataframe if "baseline P50" in d.value.columns)
    assert [c for c in table.columns if c.endswith(" P50")] == ["baseline P50", "saved edit P50", "published P50"]


def test_the_compared_scenarios_are_those_that_exist_with_the_shown_one_under_its_label() -> None:
    names = ["baseline", "published", "mine"]
    kept = comparison.kept_picks
    assert kept(["baseline", "gone", "mine"], names, "mine", "mine") == ["baseline", "mine"]  # deleted
    edited = [EDITED_NAME, *names]
    assert kept(["mine", "baseline"], edited, "mine", EDITED_NAME) == ["mine", EDITED_NAME, "baseline"]
    assert kept([EDITED_NAME, "baseline"], ["new", *names], EDITED_NAME, "new") == ["new", "baseline"]  # saved
    assert kept(["mine", EDITED_NAME], names, EDITED_NAME, "mine") == ["mine"]  # discarded
    assert kept(["baseline"], names, "mine", "published") == ["baseline"]  # another one shown: picks kept
    assert comparison.default_picks(names, "mine") == ["baseline", "published", "mine"]


def test_tornado_and_goal_seek_run_on_request(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "scenarios", threshold=2.0)
    tornado = "Retail: P50 crossover at driver extremes"
    assert tornado not in chart_titles(at)
    at.selectbox(key="tornado_sector").select("retail")
    at.toggle(key="tornado_on").set_value(True).run()
    assert not at.exception
    assert tornado in chart_titles(at)
    assert not at.success and not at.warning  # goal seek runs only when asked
    working = Scenario.from_dict(at.session_state["scenario_work"])
    baseline = vintages.load_run(run_db, "latest").paths
    offered = at.selectbox(key="gs_target").options

    def p50_at(sector: str, driver: str, value: float) -> pd.Timestamp | None:
        """The sector's P50 crossover with the driver set to a point value, from the run's paths (not goal seek)."""
        moved = working.with_value(sector, driver, point(value))
        paths = apply_scenario(baseline, moved, seed=data.SCENARIO_SEED)
        return crossover_distribution(paths, threshold=2.0)[sector].p50

    def seek(sector: str, driver: str, target: str) -> None:
        at.selectbox(key="gs_sector").select(sector)
        at.selectbox(key="gs_driver").select(driver)
        at.selectbox(key="gs_target").select(target)
        at.form_submit_button[3].click().run()
        assert not at.exception

    # Reachable: a target quarter between the P50s at the two ends of the driver's range.
    grow = DRIVER_BY_KEY["realtime_growth"]
    ends = [p50_at("retail", grow.key, v) for v in (grow.min, grow.max)]
    earliest = min(e for e in ends if e is not None)
    latest = max(ends) if None not in ends else pd.Timestamp.max  # None: beyond the horizon
    target = next(q for q in offered if earliest < quarters.start(q) and quarters.end(q) < latest)
    seek("retail", grow.key, target)
    assert not at.warning, [w.value for w in at.warning]
    assert len(at.success) == 1
    # The page's own (cached) result, for the value unrounded: the message shows it to 4 significant digits.
    run_id = vintages.latest_run_id(run_db)
    quarter = quarters.label(target)  # the options are shown as "2027 Q1", the page passes "2027Q1"
    found = data.goal_seek_result(str(run_db), run_id, data.scenario_json(working), "retail", grow.key, quarter, 2.0)
    assert found.reachable and found.value is not None and found.achieved_p50 is not None, found.message
    shown = f"{grow.label} = {found.value:.4g} {grow.unit} puts the P50 crossover of Retail in {target}."
    assert at.success[0].value == goal_seek_text(found, "Retail") == shown  # quarters, not days
    assert grow.min <= found.value <= grow.max
    assert quarters.label(found.achieved_p50) == quarters.label(target)
    moved = p50_at("retail", grow.key, found.value)
    assert moved is not None and quarters.label(moved) == quarters.label(target), (found.value, moved, target)

    # Unreachable: a target after the P50 at either end of the pre-trained share's range.
    share = DRIVER_BY_KEY["pretrained_share"]
    ends = [p50_at("retail", share.key, v) for v in (share.min, share.max)]
    assert None not in ends and quarters.start(offered[-1]) > max(ends)
    seek("retail", share.key, offered[-1])
    assert not at.success, [s.value for s in at.success]
    assert len(at.warning) == 1
    refused = (
        f"No value of {share.label} from {share.min:g} to {share.max:g} {share.unit} puts the P50 crossover of "
        f"Retail in {offered[-1]}: across that range it lies from "
    )
    assert at.warning[0].value.startswith(refused), at.warning[0].value
    assert re.fullmatch(r"\d{4} Q[1-4] to \d{4} Q[1-4]\.", at.warning[0].value[len(refused) :]), at.warning[0].value
    assert not [b for b in at.button if b.key == "gs_apply"]  # nothing to apply

    # Apply: the reachable answer becomes the shown scenario's value for retail.
    seek("retail", grow.key, target)
    at.button(key="gs_apply").click().run()
    applied = Scenario.from_dict(at.session_state["scenario_work"])
    assert applied.value_for("retail", grow.key).mode == found.value
    assert applied.value_for("healthcare", grow.key) == working.value_for("healthcare", grow.key)


# --- sectors, quality, data -----------------------------------------------------------------------------------


def test_sector_table_has_one_row_per_sector_and_the_total(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "sectors")
    table = at.dataframe[0].value
    sectors = vintages.load_run(run_db, "latest").paths.sectors
    assert table["sector"].tolist() == [theme.sector_label(s) for s in (*sectors, TOTAL)]
    assert ((table["prob_by_date"] >= 0) & (table["prob_by_date"] <= 1)).all()


def test_data_page_filters_history_by_provenance(tmp_path: Path, run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "prov.duckdb"
    db.write_bytes(run_db.read_bytes())
    upload = tmp_path / "new.csv"
    upload.write_text("period,sector,workload,spend_usd\n2026Q3,Acme,training,5\n2026Q3,Acme,inference,7\n")
    data.import_upload(db, "new.csv", upload.read_bytes())
    at = app(db, monkeypatch, "data_sources")
    at.multiselect(key="data_provenance").set_value(["user"]).run()
    shown = at.dataframe[0].value
    assert shown["provenance"].tolist() == ["user", "user"]
    assert "**2** of 436 rows shown." in [m.value for m in at.markdown]


def test_quality_page_shows_the_backtests_of_the_run(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(run_db, monkeypatch, "quality")
    run = vintages.load_run(run_db, "latest")
    assert len(at.dataframe[0].value) == len(run.backtests)
    names = {part for m in at.dataframe[0].value["model"] for part in m.removeprefix("combo(").rstrip(")").split(",")}
    assert names == set(FAST_MODELS)


def test_quality_page_names_an_edited_scenario_as_the_cause_of_a_move(
    tmp_path: Path, tiny_published_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tiny data's crossovers lie ahead at 1x (the statistical engine, observed history), so an edited
    # driver can move one; the shipped data's all lie inside the modelled history.
    db = tmp_path / "vintages.duckdb"
    db.write_bytes(tiny_published_template.read_bytes())
    scenario_store.save_scenario(db, Scenario("mine", values={"retail": {"edge_share": 0.1}}))
    assert run_refresh(db, FAST, models=FAST_MODELS, force=True).published
    scenario_store.save_scenario(db, Scenario("mine", values={"retail": {"edge_share": 0.6}}))
    assert run_refresh(db, FAST, models=FAST_MODELS, force=True).published
    at = app(db, monkeypatch, "quality")
    at.selectbox(key="quality_vintage_scenario").set_value("mine").run()
    moved = next(d.value for d in at.dataframe if "cause" in d.value.columns).set_index("sector")
    assert moved.loc["Retail", "cause"] == "assumptions"
    assert (moved.drop(index=["Retail", "Total market"])["cause"] == "").all()


def test_the_run_comparison_shows_a_scenario_name_as_typed_and_quarters_never_none(
    tmp_path: Path, tiny_published_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(tiny_published_template, tmp_path / "vintages.duckdb")
    name = "![x](https://example.org/x.png) **b**"
    scenario_store.save_scenario(db, Scenario(name, values={"retail": {"edge_share": 0.3}}))
    assert run_refresh(db, FAST, models=FAST_MODELS, force=True).published
    at = app(db, monkeypatch, "quality")
    at.selectbox(key="quality_vintage_scenario").set_value(name).run()
    assert not at.exception
    (said,) = [c.value for c in at.caption if c.value.startswith("Under scenario")]
    assert words.plain(name) in said and name not in said
    moved = next(d.value for d in at.dataframe if "cause" in d.value.columns)
    assert set(moved["sector"]) == {"Healthcare", "Retail", "Total market"}
    shown = moved.drop(columns=["moved"]).astype(str)
    assert not shown.isin(["None", "NaT", "nan"]).any().any(), shown
    assert moved["P50 after"].str.fullmatch(r"\d{4} Q[1-4]|—").all(), moved["P50 after"]


def test_the_runs_table_names_a_replay_by_its_quarter_not_a_timestamp(
    tmp_path: Path, tiny_published_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(tiny_published_template, tmp_path / "replays.duckdb")
    run_replays(db, FAST, [pd.Timestamp("2024-12-31")], models=FAST_MODELS)
    at = app(db, monkeypatch, "quality")
    assert not at.exception
    runs = next(d.value for d in at.dataframe if "as_of" in d.value.columns)
    shown = dict(zip(runs["kind"], runs["as_of"], strict=True))
    assert shown == {"refresh": "—", "replay": "2024 Q4"}  # quarters as on every page; — for a refresh
    created = runs["created (UTC)"].tolist()  # to the minute, as the vintage line and the imports table
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", t) for t in created), created


def test_the_run_comparison_says_which_sector_a_run_lacked() -> None:
    from forecasting.ui import changes

    moved = pd.DataFrame(
        {
            "sector": ["acme", TOTAL],
            "state_a": [None, "crossed_in_history"],
            "state_b": ["crosses_within_horizon", "crossed_in_history"],
            "p50_a": [pd.NaT, pd.Timestamp("2025-02-07")],
            "p50_b": [pd.Timestamp("2029-02-20"), pd.Timestamp("2025-02-07")],
            "shift_quarters": [float("nan"), 0.0],
            "moved": [True, False],
            "cause": ["data+model", ""],
        }
    )
    rows = changes.vintage_rows(moved)
    assert rows.iloc[0].tolist() == [
        "Acme",
        "not in the run",
        "crosses within horizon",
        "—",
        "2029 Q1",
        "—",
        True,
        "data+model",
    ]
    assert rows.iloc[1][["sector", "P50 before", "shift (quarters)"]].tolist() == ["Total market", "2025 Q1", "+0.0"]


# --- upload helpers -------------------------------------------------------------------------------------------


def test_import_upload_reports_every_bad_row_and_writes_nothing(fresh_db: Path) -> None:
    before = store.file_digest(fresh_db)
    bad = b"period,sector,workload,spend_usd\n2024Q1,Retail,training,-5\n2024Q9,Retail,inference,3\n"
    with pytest.raises(ValidationError) as err:
        data.import_upload(fresh_db, "bad.csv", bad)
    assert data.problems_frame(err.value.problems).to_dict("list") == {
        "row": [2, 3],
        "column": ["spend_usd", "period"],
        "problem": ["spend -5 is negative", "cannot parse '2024Q9' (use e.g. 2024Q3)"],
    }
    assert store.file_digest(fresh_db) == before


def test_import_upload_refuses_other_file_types(fresh_db: Path) -> None:
    with pytest.raises(ValidationError) as err:
        data.import_upload(fresh_db, "evil.xlsx", b"PK")
    assert err.value.problems == [Problem(None, None, "unsupported file type '.xlsx'; use .csv or .parquet")]


def test_import_upload_summarises_a_good_file(fresh_db: Path) -> None:
    good = b"period,sector,workload,spend_usd\n2025Q1,Acme,training,5\n2025Q1,Acme,inference,7\n"
    summary = data.import_upload(fresh_db, "../../good file.csv", good)
    assert (summary.rows, summary.inserted, summary.updated, summary.sectors) == (2, 2, 0, ("acme",))
    assert summary.path.name == "good_file.csv"


# --- pure summaries -------------------------------------------------------------------------------------------


def _crossover(state: str, **dates: str | None) -> Crossover:
    import numpy as np

    from forecasting.crossover import Crossover

    ts = {k: None if v is None else pd.Timestamp(v) for k, v in dates.items()}
    # Five paths from 2029 Q2: one crosses in that quarter, one in the next, three never: 20% and 40% crossed.
    times = np.array([0.5, 1.5, np.inf, np.inf, np.inf])
    ends = pd.DatetimeIndex(["2029-06-30", "2029-09-30"])
    return Crossover(
        "total",
        state,
        ts.get("crossed_at"),
        ts.get("p10"),
        ts.get("p50"),
        ts.get("p90"),
        0.4,
        times,
        pd.Timestamp("2029-04-01"),
        ends,
    )


def test_headline_for_a_crossing_in_history() -> None:
    c = _crossover("crossed_in_history", crossed_at="2025-08-10")
    assert words.headline(c) == "Inference overtook training in 2025 Q3."


def test_headline_for_a_crossing_in_the_modelled_history_keeps_an_open_ended_range() -> None:
    # A scenario can leave more than a tenth of the paths uncrossed by the horizon's end (no P90): the
    # headline must still say the date is modelled and uncertain, not state it as a fact.
    c = _crossover("crossed_in_history", crossed_at="2026-02-10", p10="2024-02-01", p50="2026-02-10")
    assert words.headline(c) == (
        "Inference overtook training in the modelled history, most likely in 2026 Q1 "
        "(80% range 2024 Q1 to beyond the horizon)."
    )


def test_headline_for_a_crossing_ahead_names_the_80_percent_range() -> None:
    c = _crossover("crosses_within_horizon", p10="2025-11-01", p50="2026-05-01", p90="2026-12-01")
    assert words.headline(c) == "Inference overtakes training in 2026 Q2 (80% range 2025 Q4 to 2026 Q4)."


def test_headline_for_a_crossing_whose_80_percent_range_lies_in_one_quarter_says_within() -> None:
    c = _crossover("crosses_within_horizon", p10="2026-10-05", p50="2026-11-01", p90="2026-12-20")
    assert words.headline(c) == "Inference overtakes training in 2026 Q4 (80% range within 2026 Q4)."


def test_headline_when_most_paths_cross_after_the_horizon() -> None:
    c = _crossover("not_within_horizon", p10="2029-05-01")
    assert words.headline(c) == (
        "Inference overtakes training after 2029 Q3 in most paths: 40% of paths cross by then."
    )


def test_headline_when_no_path_crosses() -> None:
    assert words.headline(_crossover("never_in_paths")) == (
        "Inference does not overtake training by 2029 Q3 in any sample path."
    )


def test_the_spread_sentence_never_says_every_path_crosses_when_some_or_none_do() -> None:
    from dataclasses import replace

    some = _crossover("not_within_horizon", p10="2029-05-01")  # 2 of 5 paths cross within the horizon
    assert words.distribution_text(some).startswith(
        "Each of the 5 simulated paths crosses at its own date (40% of them within the horizon): by P10"
    )
    none = replace(some, times=np.full(5, np.inf), prob_within_horizon=0.0)
    assert words.distribution_text(none) == (
        "None of the 5 simulated paths crosses within the horizon, so their crossing dates have no P10, P50 or P90."
    )
    every = replace(some, times=np.array([0.5, 1.5, 1.5, 1.5, 1.5]), prob_within_horizon=1.0)
    assert words.distribution_text(every).startswith("Each of the 5 simulated paths crosses at its own date: by P10")


def _at_threshold(c: Crossover, threshold: float) -> Crossover:
    from dataclasses import replace

    return replace(c, threshold=threshold)


def test_headlines_at_a_threshold_say_reaches_that_multiple_of_training() -> None:
    ahead = _crossover("crosses_within_horizon", p10="2025-11-01", p50="2026-05-01", p90="2026-12-01")
    assert words.headline(_at_threshold(ahead, 2.0)) == (
        "Inference reaches 2× training in 2026 Q2 (80% range 2025 Q4 to 2026 Q4)."
    )
    past = _crossover("crossed_in_history", crossed_at="2025-08-10")
    assert words.headline(_at_threshold(past, 1.5)) == "Inference reached 1.5× training in 2025 Q3."
    later = _crossover("not_within_horizon", p10="2029-05-01")
    assert words.headline(_at_threshold(later, 2.25)) == (
        "Inference reaches 2.25× training after 2029 Q3 in most paths: 40% of paths get there by then."
    )
    assert words.headline(_at_threshold(_crossover("never_in_paths"), 3.0)) == (
        "Inference does not reach 3× training by 2029 Q3 in any sample path."
    )


def test_probability_by_a_date_counts_the_paths_crossed_by_that_date() -> None:
    c = _crossover("crosses_within_horizon", p50="2029-06-01")
    dates = ("2029-01-01", "2029-05-01", "2029-05-20", "2029-06-30", "2029-09-30", "2030-01-01")
    # The first path crosses mid-quarter (2029-05-16): not yet crossed on 1 May, crossed by 20 May.
    assert [c.probability_by(pd.Timestamp(d)) for d in dates] == [0.0, 0.0, 0.2, 0.2, 0.4, 0.4]
    # By a quarter's end, as the chart and the probability export place it, not its start.
    assert c.prob_by_quarter.to_dict() == {pd.Timestamp("2029-06-30"): 0.2, pd.Timestamp("2029-09-30"): 0.4}


def test_history_from_spend_adds_a_total_of_complete_quarters() -> None:
    spend = pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01"] * 4 + ["2024-04-01"] * 2),
            "sector": ["a", "a", "b", "b", "a", "a"],
            "region": "worldwide",
            "workload": ["training", "inference"] * 3,
            "spend_usd": [3.0, 1.0, 5.0, 3.0, 4.0, 4.0],
        }
    )
    out = figures.history_from_spend(spend)
    total = out[out["sector"] == TOTAL]
    assert total[["training", "inference", "share"]].to_dict("list") == {
        "training": [8.0],
        "inference": [4.0],
        "share": [1 / 3],
    }
    assert out[out["sector"] == "a"]["share"].tolist() == [0.25, 0.5]


def test_annual_frame_adds_observed_quarters_to_every_path() -> None:

    hist = pd.DataFrame(
        {
            "unique_id": ["retail/training"] * 2 + ["retail/inference"] * 2,
            "ds": pd.to_datetime(["2025-01-01", "2025-04-01"] * 2),
            "y": [1.0, 1.0, 2.0, 2.0],
        }
    )
    periods = pd.date_range("2025-07-01", periods=2, freq="QS")
    paths = {"retail/training": [[1.0, 1.0], [3.0, 3.0]], "retail/inference": [[2.0, 2.0], [2.0, 2.0]]}
    import numpy as np

    b = stack({k: np.array(v) for k, v in paths.items()}, periods, hist)
    annual = figures.annual_frame(b, "retail")
    assert annual[["year", "workload", "observed", "p50"]].to_dict("list") == {
        "year": [2025, 2025],
        "workload": ["training", "inference"],
        "observed": [False, False],
        "p50": [6.0, 8.0],
    }
    assert annual["p025"].tolist()[1] == 8.0


def test_scenario_json_is_canonical() -> None:
    a = Scenario("x", values={"all": {"edge_share": 0.1, "price_decline": 0.2}})
    b = Scenario("x", values={"all": {"price_decline": 0.2, "edge_share": 0.1}})
    assert data.scenario_json(a) == data.scenario_json(b)
    assert json.loads(data.scenario_json(a))["values"] == {"all": {"edge_share": 0.1, "price_decline": 0.2}}


def test_file_names_carry_the_run_id_and_scenario() -> None:
    from forecasting.ui.widgets import Context, file_name

    ctx = Context(Path("x.duckdb"), "s", "20261128T120000Z-abc")
    assert file_name("crossover", ctx, "edge heavy") == "crossover_20261128T120000Z-abc_edge-heavy.csv"
    assert file_name("crossover", ctx, "baseline", 2.0) == "crossover_20261128T120000Z-abc_x2.csv"
    assert file_name("fan-total", ctx, "baseline") == "crossover_fan-total_20261128T120000Z-abc.csv"
    assert file_name("history", ctx) == "crossover_history_20261128T120000Z-abc.csv"
    assert file_name("import-problems", ctx) == "crossover_import-problems_20261128T120000Z-abc.csv"
    assert (
        file_name("tornado", ctx, "mine", 1.75, "parquet")
        == "crossover_tornado_20261128T120000Z-abc_mine_x1.75.parquet"
    )
    assert len(file_name("x" * 200, ctx, "y" * 200, 2.0)) <= 100


def test_the_headline_and_the_p50_curves_never_disagree_silently(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The case that used to contradict: retail, edge offload 0.8, threshold 2x.
    case = PRESETS["published"].with_value("retail", "edge_share", 0.8)
    monkeypatch.setenv("CROSSOVER_DB", str(run_db))
    data.st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[widgets.THRESHOLD_KEY] = 2.0
    at.session_state["scenario_work"] = case.to_dict()  # "published", edited
    at.session_state[controls.ORIGIN] = PRESETS["published"].to_dict()
    at.session_state[widgets.SCENARIO_KEY] = "published"
    at.run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    at.selectbox(key="scenario_focus").select("retail").run()
    assert not at.exception
    paths = apply_scenario(vintages.load_run(run_db, "latest").paths, case, seed=data.SCENARIO_SEED)
    c = crossover_distribution(paths, threshold=2.0)["retail"]
    curves = median_curve_crossing(paths, "retail", 2.0)
    assert headline(at) == f"Retail: {words.headline(c)}"
    note = words.curves_text(c, curves)
    same = (c.p50 is None and curves is None) or (
        c.p50 is not None and curves is not None and quarters.label(c.p50) == quarters.label(curves)
    )
    # Either the P50 date and the P50 curves agree, or the page says why they differ.
    assert same or note in [i.value for i in at.info]
    assert same == (note is None)


def test_the_sector_detail_says_why_its_headline_and_p50_curves_differ(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(run_db, monkeypatch, "sectors", threshold=2.0)
    paths = apply_scenario(vintages.load_run(run_db, "latest").paths, PRESETS["baseline"], seed=data.SCENARIO_SEED)
    crossovers = crossover_distribution(paths, threshold=2.0)
    explained = 0
    for sector in at.selectbox(key="sectors_detail").options:
        sid = next(s for s in crossovers if theme.sector_label(s) == sector)
        at.selectbox(key="sectors_detail").select(sector).run()
        assert not at.exception
        note = words.curves_text(crossovers[sid], median_curve_crossing(paths, sid, 2.0))
        assert [i.value for i in at.info if "P50 curves" in i.value] == ([note] if note else [])
        explained += note is not None
    assert explained  # at 2x some sector's P50 date and P50 curves fall in different quarters


def test_the_words_explain_a_p50_date_the_median_curves_do_not_reach() -> None:
    c = _crossover("crosses_within_horizon", p10="2028-01-01", p50="2029-05-01", p90="2030-06-01")
    assert words.curves_text(c, pd.Timestamp("2029-06-01")) is None  # same quarter: nothing to explain
    text = words.curves_text(c, None)
    assert text is not None and text.startswith("Half the paths have crossed by 2029 Q2")
    assert "the P50 curves do not cross within the horizon" in text
    later = words.curves_text(c, pd.Timestamp("2030-02-01"))
    assert later is not None and "the P50 curves cross in 2030 Q1" in later


# --- charts ---------------------------------------------------------------------------------------------------


def test_blue_and_orange_mean_training_and_inference_only() -> None:
    assert theme.TRAINING not in theme.SERIES_COLOURS and theme.INFERENCE not in theme.SERIES_COLOURS
    assert {theme.RANGE_LOW, theme.RANGE_HIGH}.isdisjoint({theme.TRAINING, theme.INFERENCE})
    assert len(set(theme.SERIES_COLOURS)) == len(theme.SERIES_COLOURS) >= 14  # the MASE chart's series


def _outcome(run_db: Path, threshold: float = 2.0) -> data.Outcome:
    data.st.cache_data.clear()
    run_id = vintages.latest_run_id(run_db)
    assert run_id is not None
    return data.outcome(str(run_db), run_id, data.scenario_json(Scenario("baseline")), threshold)


def test_charts_mark_where_the_forecast_starts_and_the_crossover_on_the_annual_view(run_db: Path) -> None:
    from forecasting.ui import charts

    out = _outcome(run_db)
    hist = figures.history_all(vintages.load_run(run_db, "latest").require_paths())
    fan = out.fans[out.fans["sector"] == TOTAL]
    fig = charts.spend_fan(hist[hist["sector"] == TOTAL], fan, crossover=out.crossovers[TOTAL])
    texts_ = [a.text for a in fig.layout.annotations]
    assert "forecast →" in texts_
    assert any(s.x0 == fan["ds"].min() for s in fig.layout.shapes)
    assert fig.layout.xaxis.hoverformat == "%Y Q%q" and fig.layout.xaxis.showspikes
    paths = vintages.load_run(run_db, "latest").require_paths()
    annual = figures.annual_frame(paths, TOTAL, hist[hist["sector"] == TOTAL].drop(columns="sector"))
    c = out.crossovers[TOTAL]
    yearly = charts.annual_chart(annual, crossover=c)
    assert f"P50 crossover {quarters.text(c.p50)}" in [a.text for a in yearly.layout.annotations]


def test_a_history_of_one_quarter_is_drawn_as_a_point_on_every_chart(run_db: Path) -> None:
    from forecasting.ui import charts

    out = _outcome(run_db)
    hist = figures.history_all(vintages.load_run(run_db, "latest").require_paths())
    one = hist[hist["sector"] == "retail"].tail(1)  # an imported sector may have a single quarter
    fan, share = out.fans[out.fans["sector"] == "retail"], out.shares[out.shares["sector"] == "retail"]
    figs = [
        charts.spend_fan(one, fan, crossover=out.crossovers["retail"]),
        charts.share_chart(one, share, out.crossovers["retail"]),
        charts.small_multiples(one, out.fans, ["retail"], out.crossovers),
    ]
    lone = [t for f in figs for t in f.data if t.x is not None and len(t.x) == 1]
    assert {t.name for t in lone} == {"Training", "Inference", "History"}
    assert all("markers" in t.mode for t in lone), [(t.name, t.mode) for t in lone]


def test_the_crossing_dates_chart_names_each_quarter_on_hover() -> None:
    from forecasting.ui import charts

    c = _crossover("not_within_horizon", p10="2029-05-01")  # paths crossing in 2029 Q2 and 2029 Q3
    bars, line = charts.distribution_chart(c).data[:2]
    assert list(bars.customdata) == ["2029 Q2", "2029 Q3"] and bars.hovertemplate.startswith("%{customdata}: ")
    assert list(line.customdata) == ["2029 Q2", "2029 Q3"] and "by the end of %{customdata}" in line.hovertemplate


def test_a_long_sector_name_is_cut_in_its_panel_title_not_run_over_its_neighbours(run_db: Path) -> None:
    from forecasting.ui import charts
    from forecasting.ui.charts.spend import PANEL_LABEL_CHARS

    out = _outcome(run_db)
    hist = figures.history_all(vintages.load_run(run_db, "latest").require_paths())
    long = "an_imported_sector_whose_name_runs_to_many_more_characters_than_a_panel_is_wide"
    renamed = {"retail": long}
    fig = charts.small_multiples(
        hist.replace({"sector": renamed}),
        out.fans.replace({"sector": renamed}),
        [long, "healthcare"],
        {long: out.crossovers["retail"], "healthcare": out.crossovers["healthcare"]},
        columns=3,
    )
    titles = [a.text for a in fig.layout.annotations]
    head = theme.sector_label(long)[: PANEL_LABEL_CHARS - 1]
    assert titles[0].startswith(head + "…: ") and titles[1].startswith("Healthcare: ")


def test_small_multiples_share_a_log_axis_and_the_total_never_hides_a_sector(run_db: Path) -> None:
    from forecasting.ui import charts

    out = _outcome(run_db)
    hist = figures.history_all(vintages.load_run(run_db, "latest").require_paths())
    sectors = [s for s in out.crossovers if s != TOTAL]
    fig = charts.small_multiples(hist, out.fans, sectors, out.crossovers, y_scale="log")
    axes = [fig.layout[k] for k in fig.layout if k.startswith("yaxis")]
    assert axes and all(a.type == "log" for a in axes)
    assert len({a.matches for a in axes if a.matches}) == 1 and sum(a.matches is None for a in axes) == 1
    prob = charts.probability_chart(out.probability, {sectors[0]: "A sector", TOTAL: "Total market"})
    assert [t.name for t in prob.data] == ["Total market", "A sector"]  # the total underneath
    assert prob.data[0].line.color == theme.NEUTRAL


def test_the_heat_map_shows_each_p50_quarter_and_the_range_width_on_hover(run_db: Path) -> None:
    from forecasting.reports import compare_scenarios
    from forecasting.reports.view import View
    from forecasting.ui import charts

    run = vintages.load_run(run_db, "latest")
    scenarios = [Scenario("baseline"), PRESETS["published"]]
    compared = compare_scenarios(View(run, scenarios[0], 2.0), scenarios)
    order = [TOTAL, *run.require_paths().sectors]
    fig = charts.crossover_heatmap(compared, order)
    heat = fig.data[0]
    assert list(heat.x) == ["baseline", "published"] and len(heat.y) == len(order)
    row = compared[(compared["sector"] == TOTAL) & (compared["scenario"] == "published")].iloc[0]
    assert heat.text[0][1] == (quarters.text(row["p50"]) if pd.notna(row["p50"]) else "—")
    assert "80% range" in heat.customdata[0][1]


def test_the_backtest_chart_draws_every_bar_whole_and_tells_every_model_apart(run_db: Path) -> None:
    from forecasting.ui import charts

    bt = vintages.load_run(run_db, "latest").backtests
    fig = charts.metric_bars(bt, "mase")
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.range is None
    looks = [(t.marker.color, t.marker.pattern.shape) for t in fig.data]
    assert len(set(looks)) == len(looks) == bt["model"].nunique()
    assert fig.layout.legend.yref == "container"  # under the plot, never over the title


def test_a_replay_whose_p90_lies_beyond_its_horizon_draws_its_range_from_the_p10_up_not_its_p50_alone() -> None:
    from forecasting.ui import charts

    t = pd.Timestamp
    moves = pd.DataFrame(
        {
            "as_of": [t("2022-12-31"), t("2025-06-30")],
            "p10": [t("2019-05-22"), t("2024-01-01")],
            "p50": [t("2026-08-13"), t("2025-07-01")],
            "p90": [pd.NaT, t("2027-01-01")],
            "anchors_known": [0, 4],
        }
    )
    empty = pd.DataFrame(columns=["value", "published", "t", "anchor_id", "bound"])
    no_claims = pd.DataFrame(columns=["crossover_year", "published", "publisher"])
    fig = charts.call_chart(moves, empty, no_claims)
    open_ended = [tr for tr in fig.data if tr.name == "P10 to beyond the horizon (no P90)"]
    assert len(open_ended) == 1
    (tr,) = open_ended
    assert list(tr.x[:2]) == [t("2022-12-31")] * 2 and tr.y[0] == t("2019-05-22") and tr.y[1] > t("2027-01-01")
    band = [tr for tr in fig.data if tr.name == "P10–P90 of the crossover date"]
    assert list(band[0].x) == [t("2025-06-30")]  # the band only where both ends are known
    # The hovers name quarters, as every crossover date on screen does (they read '2026-08' and '2022-12-31').
    assert tuple(tr.customdata[0]) == ("2022 Q4", "2019 Q2") and "%{y|" not in tr.hovertemplate
    (p50,) = [tr for tr in fig.data if tr.name == "P50 of the crossover date"]
    assert tuple(p50.customdata[0]) == ("2022 Q4", "2026 Q3", 0) and "%{y|" not in p50.hovertemplate


def test_run_history_axis_reads_as_dates_and_quarters() -> None:
    from forecasting.ui import charts

    hist = pd.DataFrame(
        {
            "sector": ["total", "total"],
            "created_at": pd.to_datetime(["2026-11-28 15:56:55.2765", "2026-12-01 09:00:01.5"]),
            "run_id": ["a", "b"],
            "p10": pd.to_datetime(["2025-01-01", "2025-04-01"]),
            "p50": pd.to_datetime(["2025-07-01", "2025-10-01"]),
            "p90": pd.to_datetime(["2026-01-01", "2026-04-01"]),
            "crossed_at": [pd.NaT, pd.NaT],
        }
    )
    fig = charts.vintage_chart(hist)
    assert fig.layout.xaxis.tickformat == "%Y-%m-%d" and fig.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M"
    assert fig.layout.yaxis.hoverformat == "%Y Q%q"


def test_the_quality_page_explains_the_combination_with_the_numbers_behind_it(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bt = pd.DataFrame(
        {
            "unique_id": ["s"] * 3,
            "model": ["combo(ets,arima,theta)", "ets", "naive"],
            "mase": [1.8, 0.9, 3.0],
            "coverage_80": [1.0, 1.0, 0.5],
            "chosen": [True, False, False],
        }
    )
    rows = words.choice_rows(bt)
    assert rows.iloc[0].to_dict() == {
        "series": "s",
        "chosen": "combo(ets,arima,theta)",
        "chosen MASE": 1.8,
        "best single model": "ets",
        "its MASE": 0.9,
        "ratio": 2.0,
    }
    assert "In 1 of 1 backtested series" in words.choice_text(rows, 0.75) and "below 25%" in words.choice_text(
        rows, 0.75
    )
    said = words.coverage_text(bt, 4, 4)
    assert (
        "held every backtest actual in 1 of 1 series" in said
        and "widened for the 4 origins they rest on (1.43× at 80%" in said
    )
    at = app(run_db, monkeypatch, "quality")
    assert not at.exception
    assert "Why a combination, not the best model in the backtest" in [h.value for h in at.subheader]
    assert any("robustness over a best-in-hindsight pick" in m for m in texts(at))
    status = next(d.value for d in at.dataframe if "status" in d.value.columns)
    cells = status.astype(str).to_numpy().ravel().tolist()
    assert "None" not in cells and "nan" not in cells and "—" in cells  # structural series have no backtest


def test_the_overview_computes_the_slow_analysis_only_on_request(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = data.reports.tables.crossover_rows
    monkeypatch.setattr(data.reports.tables, "crossover_rows", lambda view: calls.append("rows") or real(view))
    at = app(run_db, monkeypatch)
    assert "Total market: crossover by definition" not in chart_titles(at) and calls == []
    at.toggle(key="overview_analysis").set_value(True).run()
    assert not at.exception
    assert {"Total market: crossover by definition", "Where the width of the 80% range comes from"} <= set(
        chart_titles(at)
    )
    assert calls == ["rows"]


def test_the_overview_builds_its_tables_and_files_only_when_asked(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load sends no data grid (the heaviest browser code before the first chart) and makes no file."""
    at = app(run_db, monkeypatch, threshold=2.0)
    at.sidebar.selectbox(key=widgets.SCENARIO_KEY).select("edge_heavy").run()
    calls: list[str] = []
    real = data.outcome

    def outcome(*args: Any) -> data.Outcome:
        calls.append(json.loads(args[2])["name"])
        return real(*args)

    monkeypatch.setattr(data, "outcome", outcome)
    at.run()
    assert not at.exception and len(at.dataframe) == 0 and calls == ["edge_heavy"]  # the shown scenario only
    labels = [e.label for e in at.expander]
    assert any(label.startswith("What changed against the baseline: ") for label in labels)
    buttons = at.get("download_button")
    assert len(buttons) == 3 and all(b.proto.deferred_file_id and not b.proto.url for b in buttons)
    at.session_state["overview_published"] = True
    at.session_state["changes_panel"] = True
    at.run()
    assert not at.exception
    assert calls[-2:] == ["edge_heavy", "baseline"]  # and now the baseline, for the shifts
    published = next(d.value for d in at.dataframe if "publisher" in d.value.columns)
    assert len(published) == len(charts.marker_frame(data.estimates(str(run_db), "")))
    assert published["url"].str.startswith("http").all()


def test_downloads_carry_money_in_usd_billions_rounded_and_read_back_from_parquet() -> None:
    from forecasting.ui import downloads

    frame = pd.DataFrame(
        {"ds": pd.to_datetime(["2026-01-01"]), "spend_usd": [1_234_567_891.0], "p50": [2.5e9], "share": [0.123456789]}
    )
    shown = downloads.in_shown_units(frame, spend=["p50"])
    assert list(shown.columns) == ["ds", "spend_usd_bn", "p50_usd_bn", "share"]
    assert shown.iloc[0].tolist()[1:] == [1.2346, 2.5, 0.1235]
    assert downloads.to_bytes(shown, "csv").decode().splitlines()[1] == "2026-01-01,1.2346,2.5,0.1235"
    back = pd.read_parquet(io.BytesIO(downloads.to_bytes(shown, "parquet")))
    pd.testing.assert_frame_equal(back, shown)
    if "xlsx" in downloads.formats():
        risky = pd.DataFrame({"name": ["=HYPERLINK(1)"]})
        assert pd.read_excel(io.BytesIO(downloads.to_bytes(risky, "xlsx")))["name"].iloc[0] != "=HYPERLINK(1)"
    else:
        assert downloads.formats() == ["csv", "parquet"]


def test_the_exports_page_describes_every_kind_and_names_every_kind_the_threshold_changes(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import export, reports

    at = app(run_db, monkeypatch, "exports", threshold=2.0)
    described = {m.value.split("**")[1]: m.value.split("**: ", 1)[1] for m in at.markdown if m.value.startswith("**")}
    assert set(described) == set(export.KINDS) and all(described.values()), described
    (said,) = [c for c in texts(at) if "use the sidebar's threshold" in c]
    assert all(kind in said.split("use the sidebar's threshold")[0] for kind in reports.THRESHOLD_KINDS), said
    assert "probability" in reports.THRESHOLD_KINDS


def test_the_exports_page_offers_every_kind_in_every_format_under_the_shown_scenario(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import export
    from forecasting.ui import downloads

    at = app(run_db, monkeypatch, "exports")
    assert not at.exception
    assert len(at.get("download_button")) == len(export.KINDS) * len(downloads.formats())
    assert any("USD billions" in c for c in texts(at))
