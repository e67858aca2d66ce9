"""Structural paths on the shipped data: sectors that add up, move together and keep their level,
crossovers with honest uncertainty, and imported sectors that keep the statistical engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from forecasting import paths as sample_paths
from forecasting import store, structural, vintages
from forecasting.bootstrap import init_db
from forecasting.config import TOTAL, Settings
from forecasting.crossover import CROSSED_IN_HISTORY, crossover_distribution, crossover_frame
from forecasting.ingest import import_file
from forecasting.refresh import run_refresh
from forecasting.reports import View, open_view, tables
from forecasting.share import DEFINITIONS

FAST = Settings(n_paths=400, backtest_origins=2, backtest_horizon=2)
#: No sector's P10 path of spend falls below this share of its last modelled quarter (no driver moved).
FLOOR = 0.5


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> vintages.RunData:
    db = tmp_path_factory.mktemp("structural") / "crossover.duckdb"
    init_db(db, store.DATA_DIR)
    assert run_refresh(db, FAST, models=["naive", "drift"]).published
    return vintages.load_run(db, "latest")


def test_the_structural_model_covers_every_shipped_sector_and_answers_every_definition(
    run: vintages.RunData,
) -> None:
    assert run.structure is not None and run.paths is not None
    assert run.structure.sectors == run.paths.sectors and len(run.paths.sectors) == 7
    assert run.definitions == tuple(DEFINITIONS)
    status = run.status.set_index("unique_id")
    assert status.loc[structural.TOTAL_SERIES, "model"] in ("naive", "drift", "naive+drift")
    assert (status.drop(index=structural.TOTAL_SERIES)["model"] == structural.MODEL).all()


def test_the_total_is_the_sum_of_the_sectors_on_every_path_and_equals_the_engine_s_total(
    run: vintages.RunData,
) -> None:
    assert run.paths is not None and run.structure is not None
    total = run.paths.of(TOTAL).sum(axis=1)  # training + inference, per path and quarter
    np.testing.assert_allclose(total, run.paths.paths.sum(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(total, run.structure.total, rtol=1e-9)
    for definition in run.definitions:  # another definition moves the split, never the total
        np.testing.assert_allclose(run.paths_for(definition).of(TOTAL).sum(axis=1), total, rtol=1e-9)


def test_sector_growth_rates_on_the_paths_correlate_as_in_the_history(run: vintages.RunData) -> None:
    assert run.paths is not None
    hist = run.history.assign(sector=run.history["unique_id"].str.rpartition("/")[0])
    growth = np.log(hist.groupby(["ds", "sector"])["y"].sum().unstack()).diff().dropna()
    upper = np.triu_indices(growth.shape[1], 1)
    history_corr = float(growth.corr().to_numpy()[upper].mean())
    paths = np.diff(np.log(run.paths.paths.sum(axis=2)), axis=2)  # (n, sectors, H - 1)
    path_corr = float(np.mean([np.corrcoef(p)[upper].mean() for p in paths]))
    # Figures of the shipped data (docs/data.md 2.6): history 0.998, paths 1.000.
    assert history_corr > 0.95 and path_corr > 0.95, (history_corr, path_corr)
    assert abs(path_corr - history_corr) < 0.05, (history_corr, path_corr)


def test_no_sector_s_p10_path_falls_below_the_floor(run: vintages.RunData) -> None:
    assert run.paths is not None and run.paths.back is not None
    for j, sector in enumerate(run.paths.sectors):
        last = run.paths.back[0, j, :, -1].sum()
        p10 = np.quantile(run.paths.paths[:, j].sum(axis=1), 0.1, axis=0)
        assert (p10 >= FLOOR * last).all(), (sector, float(p10.min() / last))


def test_every_sector_s_crossover_band_is_at_least_a_quarter_wide(run: vintages.RunData) -> None:
    view = View(run, load_scenario_neutral())
    for sector, c in view.crossovers.items():
        assert c.p10 is not None and c.p90 is not None, sector
        width = (c.p90 - c.p10).days / 91.3
        assert width >= 1.0, (sector, width)


def load_scenario_neutral():  # noqa: ANN201
    from forecasting.scenario import PRESETS

    return PRESETS["baseline"]


def test_a_crossover_inside_modelled_history_is_a_distribution_not_a_date(run: vintages.RunData) -> None:
    assert run.paths is not None
    crossed = {s: c for s, c in crossover_distribution(run.paths).items() if c.state == CROSSED_IN_HISTORY}
    assert crossed, "the shipped total crossed within its modelled history"
    for sector, c in crossed.items():
        assert c.crossed_at == c.p50 and c.p10 is not None and c.p90 is not None and c.p10 < c.p90, sector


def test_sector_shares_average_exactly_to_the_total_curve_on_every_path(run: vintages.RunData) -> None:
    st = run.structure
    assert st is not None
    weights = structural.path_weights(st.spend / st.spend.sum(axis=0), st.split)
    t = structural.mid_year(st.back_periods)
    shares = structural.sector_shares(
        st.draws, st.split, "ai_compute", structural.adoption_gaps(st.sectors), weights, t
    )
    np.testing.assert_allclose((weights * shares).sum(axis=1), st.draws.share("ai_compute", t), atol=1e-9)


def test_a_sector_that_adopted_ai_earlier_crosses_earlier_at_the_median_lag() -> None:
    gaps = structural.adoption_gaps(("technology_media", "retail", "other"))
    assert gaps[0] > 0 > gaps[1] and gaps[2] == 0
    draws = _flat_draws()
    split = structural.SplitDraws.centre(1, 3)
    w = np.full((1, 3, 1), 1 / 3)
    s = structural.sector_shares(draws, split, "cloud_ai_infrastructure_spend", gaps, w, np.array([2025.0]))[0, :, 0]
    assert s[0] > s[2] > s[1]


def _flat_draws():  # noqa: ANN202
    from forecasting.share import ShareDraws

    return ShareDraws(
        tuple(DEFINITIONS),
        np.array([0]),
        np.array([0.5]),
        np.array([2025.0]),
        np.zeros((1, len(DEFINITIONS))),
        np.full((1, len(DEFINITIONS)), 0.2),
    )


def test_calibrate_offset_meets_the_target_exactly() -> None:
    w = np.array([[0.2], [0.8]])
    logits = np.array([[[special.logit(0.7)], [special.logit(0.3)]]])
    c = structural.calibrate_offset(w[None], logits, np.array([[0.5]]))
    got = (w[None] * special.expit(logits + c[:, None, :])).sum(axis=1)
    assert got[0, 0] == pytest.approx(0.5, abs=1e-12)


def test_a_sector_forecast_by_the_naive_fallback_says_so_in_the_crossover_table(tmp_path: Path) -> None:
    db = tmp_path / "crossover.duckdb"
    init_db(db, store.DATA_DIR)
    upload = tmp_path / "acme.csv"
    upload.write_text("period,sector,workload,spend_usd\n2026Q3,Acme,training,5e8\n2026Q3,Acme,inference,3e8\n")
    import_file(db, upload)
    assert run_refresh(db, FAST, models=["naive", "drift"]).published
    view = open_view(db)
    table = tables.crossover_table(view).set_index("sector")
    # Before: "statistical", as for a sector the engine fitted; its odds are a driftless walk's.
    assert table.loc["acme", "model"] == "naive fallback" and table.loc["retail", "model"] == "structural"
    labels = crossover_frame(view.crossovers).set_index("sector")["label"]
    assert labels["acme"] == "Acme"  # named as every screen names it (the stored rows said "acme")
    assert view.run.fallback_sectors() == {"acme"}


def test_an_imported_sector_keeps_the_statistical_engine_beside_the_structural_ones(tmp_path: Path) -> None:
    db = tmp_path / "crossover.duckdb"
    init_db(db, store.DATA_DIR)
    quarters = pd.period_range("2022Q1", "2026Q3", freq="Q")
    rows = [
        (str(q), "Acme", w, 1e8 * (1.06 if w == "inference" else 1.02) ** i)
        for i, q in enumerate(quarters)
        for w in ("training", "inference")
    ]
    upload = tmp_path / "acme.csv"
    pd.DataFrame(rows, columns=["period", "sector", "workload", "spend_usd"]).to_csv(upload, index=False)
    import_file(db, upload)
    assert run_refresh(db, FAST, models=["naive", "drift"]).published
    view = open_view(db, definition="all")
    assert view.run.structure is not None and "acme" not in view.run.structure.sectors
    table = tables.crossover_table(view)
    models = table.drop_duplicates("sector").set_index("sector")["model"]
    assert models["acme"] == "statistical" and models["retail"] == "structural"
    assert models[TOTAL] == "structural+statistical"
    assert set(table["definition"]) == set(DEFINITIONS)
    # The imported sector's own history is observed: every path carries it unchanged.
    paths = view.paths
    j = paths.sectors.index("acme")
    back = paths.back[:, j]
    assert np.array_equal(back, np.broadcast_to(back[0], back.shape), equal_nan=True)
    assert np.isfinite(back[0, :, -1]).all()


def test_run_structural_round_trips_through_the_store(run: vintages.RunData) -> None:
    st = run.structure
    assert st is not None
    meta, blob = structural.to_store(st)
    again = structural.from_store(meta, blob, run.history, st.total, st.periods)
    for definition in DEFINITIONS:
        a, b = st.build(definition), again.build(definition)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert sample_paths.from_bytes(sample_paths.to_bytes(st.total)).shape == st.total.shape
