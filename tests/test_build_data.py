"""Tests for the data build: reproducibility, anchors, provenance and additivity of the shipped files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import databuild as bd
from forecasting.config import PROVENANCE, SECTORS, WORKLOADS
from forecasting.databuild.curate import RAW_COLUMNS, Lookup, _clusters
from forecasting.databuild.derive import _annual_totals, _indicator, _largest_remainder, _nvidia_fiscal
from forecasting.frames import SPEND_COLUMNS
from forecasting.share import DEFAULT_DEFINITION, DEFINITIONS

DATA = bd.DATA_DIR


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return pd.read_csv(DATA / "spend_history.csv", dtype={"spend_usd": "int64"}, keep_default_na=False)


@pytest.fixture(scope="module")
def derivation() -> bd.Derivation:
    return bd.derive(bd.curate(bd.read_raw(bd.RAW)).estimates)


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    return pd.read_csv(DATA / "published_estimates.csv", dtype=str, keep_default_na=False)


# --- (a) reproducibility -------------------------------------------------------------------------


def test_rebuild_into_tmp_path_reproduces_every_shipped_file_byte_for_byte(tmp_path: Path) -> None:
    summary = bd.build(bd.RAW, tmp_path)
    for name in bd.SHIPPED:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    assert (summary.first_period, summary.last_period, summary.history_rows) == ("2019Q1", "2026Q3", 31 * 7 * 2)


def test_run_check_exits_zero_when_current_and_one_when_a_file_is_stale(tmp_path: Path) -> None:
    bd.build(bd.RAW, tmp_path)
    assert bd.run(check_only=True, out_dir=tmp_path) == 0
    (tmp_path / "sources.csv").write_text("stale\n", encoding="utf-8")
    assert bd.run(check_only=True, out_dir=tmp_path) == 1


def test_shipped_files_use_unix_line_endings_and_exact_history_columns() -> None:
    for name in ("sources.csv", "published_estimates.csv", "spend_history.csv"):
        assert b"\r\n" not in (DATA / name).read_bytes(), name
    with (DATA / "spend_history.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == SPEND_COLUMNS


def test_raw_copy_has_all_511_rows_with_the_documented_columns() -> None:
    assert len(bd.read_raw(bd.RAW)) == 511


# --- curation ------------------------------------------------------------------------------------


def test_reposts_of_the_same_figure_are_merged_keeping_the_more_precise_value(estimates: pd.DataFrame) -> None:
    iaas = estimates[(estimates.metric == "ai_optimized_iaas_spend") & (estimates.year == "2025")]
    assert list(iaas.value) == ["18.325"]
    assert "merged repost Gartner (via CRN India) (18.3)" in iaas.note.iloc[0]


def test_nvidia_labels_are_canonicalised_so_fiscal_quarters_are_unique(estimates: pd.DataFrame) -> None:
    nv = estimates[estimates.metric == "nvidia_datacenter_revenue"]
    assert not nv.duplicated(["period", "kind"]).any()
    assert set(nv.period) >= {"FY2025Q4", "FY2026", "FY2019Q4"}
    assert "nvidia_data_center_revenue" not in set(estimates.metric)


def test_conflicting_repost_is_kept_with_a_not_used_note(estimates: pd.DataFrame) -> None:
    row = estimates[(estimates.metric == "inference_share_of_ai_compute") & (estimates.value == "0.67")]
    assert len(row) == 1 and row.note.iloc[0].startswith("not used")


def test_source_rank_orders_own_release_then_firm_via_outlet_then_outlet_then_aggregator() -> None:
    publishers = ("Deloitte", "Gartner (via IT-Online)", "TelecomTV", "ZipDo (stat aggregator)")
    assert [bd.source_rank(p) for p in publishers] == [0, 1, 2, 3]


def test_a_firm_via_an_outlet_beats_an_unrelated_outlet_reposting_the_same_figure(estimates: pd.DataFrame) -> None:
    sources = pd.read_csv(DATA / "sources.csv", dtype=str, keep_default_na=False).set_index("source_id")
    row = estimates[(estimates.metric == "inference_share_of_ai_iaas_spend") & (estimates.year == "2026")]
    assert sources.publisher[row.source_id.iloc[0]] == "Gartner (via CRN India)"
    assert "merged repost Allianz Global Investors (0.55)" in row.note.iloc[0]


def test_estimate_and_source_ids_are_unique_and_linked(estimates: pd.DataFrame) -> None:
    sources = pd.read_csv(DATA / "sources.csv", dtype=str, keep_default_na=False)
    assert estimates.estimate_id.is_unique and sources.source_id.is_unique
    assert set(estimates.source_id) == set(sources.source_id)


def _raw(value: str, publisher: str, date: str = "2025-01-01") -> dict[str, str]:
    row = dict.fromkeys(RAW_COLUMNS, "")
    row.update(metric="m", scope="global", sector="all", year="2025", value=value, unit="usd_billion", kind="actual")
    row.update(source_publisher=publisher, source_title=f"{publisher} release", source_date=date)
    return row


def test_clusters_join_the_same_figure_at_lower_precision_and_keep_other_values_apart() -> None:
    members = [(_raw(v, "X"), str(k)) for k, v in enumerate(["18.325", "18.3", "19", "18.33"])]
    assert [[sid for _, sid in cl] for cl in _clusters(members)] == [["0", "1", "3"], ["2"]]


def test_curate_keeps_rival_values_under_one_label_apart_and_marks_weak_sources() -> None:
    cur = bd.curate([_raw("10.0", "Gartner"), _raw("10", "TelecomTV"), _raw("12", "ZipDo (stat aggregator)")])
    assert cur.dropped == 1 and len(cur.sources) == 2
    kept, weak = sorted(cur.estimates, key=lambda e: e.value)
    assert kept.value == 10.0 and kept.note.startswith("merged repost TelecomTV (10)")
    assert "differs from 12 (ZipDo (stat aggregator), 2025-01-01)" in kept.note
    assert weak.note.startswith("weak source") and "differs from 10.0 (Gartner, 2025-01-01)" in weak.note


# --- (b) anchors ---------------------------------------------------------------------------------


def test_annual_sums_of_quarters_equal_the_gartner_iaas_totals_within_half_a_percent(history: pd.DataFrame) -> None:
    by_year = history.assign(y=history.period.str[:4]).groupby("y").spend_usd.sum() / 1e9
    for year, published in (("2024", 7.447), ("2025", 18.325)):
        assert by_year[year] == pytest.approx(published, rel=0.005)


def test_denton_quarters_sum_to_every_annual_total_including_modelled_years(derivation: bd.Derivation) -> None:
    q = np.array(derivation.total_q).reshape(-1, 4).sum(axis=1)
    expected = [derivation.annual_totals[y] for y in sorted(derivation.annual_totals)]
    np.testing.assert_allclose(q, expected, rtol=1e-9)
    assert derivation.annual_totals[2026] == 37.507


def test_the_history_s_total_share_meets_the_cloud_anchors_within_their_noise(derivation: bd.Derivation) -> None:
    # The shipped split follows the share model's median curve of the default definition.
    t = np.array([a.t for _, a in derivation.share_anchors if a.definition == DEFAULT_DEFINITION])
    median = np.median(derivation.draws.share(DEFAULT_DEFINITION, t), axis=0)
    for (c, a), m in zip(
        [x for x in derivation.share_anchors if x[1].definition == DEFAULT_DEFINITION], median, strict=True
    ):
        if a.bound == "point":
            assert abs(m - a.value) <= 0.04, c.anchor_id
        elif a.bound == "lower":
            assert m >= a.value - 0.04, c.anchor_id


def test_modelled_inference_spend_2025_is_within_two_percent_of_gartner_9_2bn(history: pd.DataFrame) -> None:
    inf = history[(history.workload == "inference") & history.period.str.startswith("2025")].spend_usd.sum()
    assert inf / 1e9 == pytest.approx(9.2, rel=0.02)


def test_sector_shares_at_anchor_years_match_published_shares_within_half_a_point(
    history: pd.DataFrame, derivation: bd.Derivation
) -> None:
    by = history.assign(y=history.period.str[:4].astype(int)).groupby(["y", "sector"]).spend_usd.sum()
    for a in derivation.sector_anchors:
        if a.year in by.index.get_level_values(0):
            assert by[a.year][a.sector] / by[a.year].sum() == pytest.approx(a.share, abs=0.005), (a.sector, a.year)


def test_denton_reproduces_a_proportional_indicator_exactly() -> None:
    out = bd.denton_pfd(np.array([1.0, 2, 3, 4, 2, 4, 6, 8]), np.array([20.0, 40.0]))
    np.testing.assert_allclose(out, [2, 4, 6, 8, 4, 8, 12, 16])


def test_denton_rejects_a_mismatched_or_non_positive_indicator() -> None:
    with pytest.raises(ValueError, match="expected 4 x 2"):
        bd.denton_pfd(np.ones(7), np.ones(2))
    with pytest.raises(ValueError, match="strictly positive"):
        bd.denton_pfd(np.array([1.0, 0, 1, 1]), np.ones(1))


def test_indicator_continues_past_2025_at_the_mean_growth_of_the_last_four_quarters() -> None:
    labels = ["FY2019Q4"] + [f"FY{y}Q{q}" for y in range(2020, 2027) for q in range(1, 5)]
    ind = _indicator({label: 1.1**k for k, label in enumerate(labels)}, list(range(2019, 2027)))
    assert len(ind) == 32
    np.testing.assert_allclose(np.array(ind[1:]) / np.array(ind[:-1]), 1.1, rtol=1e-12)


def test_annual_totals_keep_published_years_and_backcast_earlier_ones_at_the_2024_ratio() -> None:
    totals, kinds = _annual_totals({2023: 4.0, 2024: 8.0, 2025: 10.0}, {2024: 2.0, 2025: 3.0})
    assert totals == {2023: 1.0, 2024: 2.0, 2025: 3.0}
    assert kinds == {2023: "modelled", 2024: "published", 2025: "published"}


def test_calendarisation_takes_one_third_of_the_previous_fiscal_quarter() -> None:
    fiscal = {"FY2024Q4": 3.0, "FY2025Q1": 6.0}
    assert bd.calendarise_nvidia(fiscal, ["2024Q1"]) == [pytest.approx(5.0)]


# --- (c) provenance ------------------------------------------------------------------------------


def test_every_row_has_allowed_provenance_and_known_source_ids(history: pd.DataFrame) -> None:
    sources = set(pd.read_csv(DATA / "sources.csv", dtype=str).source_id)
    assert set(history.provenance) <= set(PROVENANCE) - {"user"}
    for ids in history.source_ids:
        assert ids and set(ids.split(";")) <= sources


def test_no_history_row_is_labelled_published_because_no_source_publishes_quarterly_sector_spend(
    history: pd.DataFrame,
) -> None:
    assert set(history.provenance) == {"modelled"}
    assert history.method.str.contains("denton-pfd").all()


def test_pre_2024_rows_say_they_are_backcast_and_2026_rows_say_the_indicator_was_extrapolated(
    history: pd.DataFrame,
) -> None:
    years = history.period.str[:4].astype(int)
    assert history[years < 2024].method.str.startswith("ratio-backcast+").all()
    assert history[years == 2026].method.str.contains("nvidia-dc-extrapolated").all()
    assert not history[(years >= 2024) & (years <= 2025)].method.str.contains("backcast|extrapolated").any()


# --- (d) additivity and shape ---------------------------------------------------------------------


def test_sectors_sum_exactly_to_the_rounded_total_per_quarter_and_workload(derivation: bd.Derivation) -> None:
    rows = bd.spend_rows(derivation)
    got = pd.DataFrame(rows, columns=SPEND_COLUMNS).astype({"spend_usd": "int64"})
    totals = got.groupby("period").spend_usd.sum()
    expected = [round(v * 1e9) for v in derivation.total_q[: len(totals)]]
    assert list(totals) == expected
    inference = got[got.workload == "inference"].groupby("period").spend_usd.sum()
    _, total_share, _ = bd.history_split(derivation)
    assert list(inference) == [round(tot * float(s)) for (_, tot), s in zip(totals.items(), total_share, strict=False)]


def test_every_quarter_sector_and_workload_is_present_once_with_non_negative_spend(history: pd.DataFrame) -> None:
    quarters = pd.period_range("2019Q1", "2026Q3", freq="Q").astype(str)
    assert list(history.period.unique()) == list(quarters)
    assert len(history) == len(quarters) * len(SECTORS) * len(WORKLOADS)
    assert not history.duplicated(["period", "sector", "workload"]).any()
    assert (history.spend_usd >= 0).all() and set(history.region) == {"worldwide"}


def test_largest_remainder_split_sums_exactly() -> None:
    assert _largest_remainder(10, [1.0, 1.0, 1.0]) == [4, 3, 3]


# --- (e) sector shifts of the inference share -------------------------------------------------------

GALLUP = "src-9611bb2b"


def _inference_shares(history: pd.DataFrame) -> pd.DataFrame:
    wide = history.pivot_table(index=["period", "sector"], columns="workload", values="spend_usd", aggfunc="sum")
    return (wide.inference / (wide.inference + wide.training)).unstack()


def test_total_inference_share_of_every_quarter_is_the_median_curve_within_rounding(
    history: pd.DataFrame, derivation: bd.Derivation
) -> None:
    _, total_share, _ = bd.history_split(derivation)
    wide = history.groupby(["period", "workload"]).spend_usd.sum().unstack()
    for (period, row), share in zip(wide.iterrows(), total_share, strict=False):
        total = row.inference + row.training
        assert abs(row.inference - total * float(share)) <= 0.5, period


def test_sector_shares_average_to_the_total_share_with_their_spend_weights(derivation: bd.Derivation) -> None:
    weights, total_share, sector_share = bd.history_split(derivation)
    np.testing.assert_allclose((weights * sector_share).sum(axis=0), total_share, atol=1e-12)


def test_shipped_sector_shares_rise_every_quarter_and_keep_the_adoption_order(history: pd.DataFrame) -> None:
    shares = _inference_shares(history)
    assert (shares.diff().iloc[1:] > 0).all().all()
    order = ["technology_media", "financial_services", "healthcare", "manufacturing"]
    assert (shares[order].diff(axis=1).iloc[:, 1:] < 0).all().all()
    assert (shares.retail - shares.manufacturing).abs().max() < 1e-6


def test_history_crossover_quarters_differ_by_sector_as_documented(history: pd.DataFrame) -> None:
    rows = history[SPEND_COLUMNS].astype(str).to_numpy().tolist()
    crossed = bd.history_crossovers(rows)
    # docs/data.md section 2.6: the central split's crossings, technology & media first, the laggards last.
    assert crossed == {
        "financial_services": "2025Q1",
        "healthcare": "2026Q2",
        "manufacturing": "2026Q3",
        "other": "2025Q3",
        "public_sector": "2025Q3",
        "retail": "2026Q3",
        "technology_media": "2023Q4",
    }


def test_history_crossovers_take_the_first_quarter_with_inference_at_least_training() -> None:
    rows = [
        ["2024Q1", "a", "worldwide", "inference", "4", "modelled", "s", "m"],
        ["2024Q1", "a", "worldwide", "training", "5", "modelled", "s", "m"],
        ["2024Q2", "a", "worldwide", "inference", "5", "modelled", "s", "m"],
        ["2024Q2", "a", "worldwide", "training", "5", "modelled", "s", "m"],
        ["2024Q1", "b", "worldwide", "inference", "1", "modelled", "s", "m"],
        ["2024Q1", "b", "worldwide", "training", "9", "modelled", "s", "m"],
    ]
    assert bd.history_crossovers(rows) == {"a": "2024Q2", "b": None}


def test_rows_name_the_share_model_in_method_and_cite_the_adoption_source(history: pd.DataFrame) -> None:
    assert history.method.str.contains("+share-model(central)+sector-lag(adoption)+sector-share", regex=False).all()
    assert history.source_ids.map(lambda ids: GALLUP in ids.split(";")).all()


def test_share_anchors_file_lists_every_curated_anchor_with_its_definition_and_bound() -> None:
    anchors = pd.read_csv(bd.DATA_DIR / "share_anchors.csv", keep_default_na=False)
    assert list(anchors.anchor_id) == [c.anchor_id for c in bd.CURATED]
    assert set(anchors.definition) == set(DEFINITIONS)
    assert set(anchors.bound) == {"point", "lower"}
    gartner = anchors.set_index("anchor_id").loc["gartner-iaas-2025"]
    assert gartner.value == pytest.approx(9.2 / 18.325, abs=1e-9) and gartner.published == "2025-09-19"


def test_nvidia_fy2022q1_is_its_fy2023q1_revenue_over_the_stated_83_percent_growth(
    derivation: bd.Derivation,
) -> None:
    fiscal, _, fills = _nvidia_fiscal(Lookup(bd.curate(bd.read_raw(bd.RAW)).estimates))
    assert fiscal["FY2022Q1"] == pytest.approx(3.75 / 1.83, abs=1e-12)
    assert "1.83" in fills["FY2022Q1"]
