"""The forecast engine: intervals, sample paths, joint draws, fallbacks, files and executors."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import (
    MAX_HORIZON,
    MIN_OBS,
    NAIVE_MARGIN,
    SELECT_MARGIN,
    ChoiceRules,
    ForecastOptions,
    SeriesFit,
    SeriesTask,
    choose_forecaster,
    choose_transform,
    fit_series,
    forecast,
    forecast_file,
    infer_freq,
    normalize_freq,
    stable_seed,
    theta_probe,
)
from forecasting.executors import LocalExecutor, SerialExecutor
from forecasting.frames import DS, FORECAST_COLUMNS, HI80, HI95, LO80, LO95, MODEL, UID, YHAT, Y
from forecasting.metrics import interval_score
from forecasting.models import MODELS
from forecasting.models.base import PointForecast
from tests.conftest import make_series

FAST = ("naive", "drift", "theta")
QFAST = ForecastOptions(freq="Q", models=FAST)


def _panel(n_series: int = 3, n: int = 28) -> pd.DataFrame:
    return pd.concat(
        [make_series(n, seed=i, unique_id=f"s{i}", growth=0.03 + 0.01 * i, noise=0.05) for i in range(n_series)],
        ignore_index=True,
    )


def test_intervals_widen_with_the_horizon() -> None:
    res = forecast(_panel(), 12, replace(QFAST, n_paths=50), executor=SerialExecutor())
    for _, g in res.forecasts.groupby(UID):
        w95 = (g[HI95] - g[LO95]).to_numpy()
        w80 = (g[HI80] - g[LO80]).to_numpy()
        assert np.all(np.diff(w95) >= 0) and np.all(np.diff(w80) >= 0)
        assert w95[-1] > w95[0] and w80[-1] > w80[0]
        assert np.all(w95 > w80)


def test_sample_path_quantiles_agree_with_the_reported_intervals() -> None:
    res = forecast(_panel(2), 8, replace(QFAST, n_paths=4000, seed=1), executor=SerialExecutor())
    for uid, g in res.forecasts.groupby(UID):
        paths = res.paths[uid]
        assert paths.shape == (4000, 8)
        below = {col: np.mean(paths < g[col].to_numpy()[None, :], axis=0) for col in (LO95, LO80, HI80, HI95)}
        np.testing.assert_allclose(below[LO95], 0.025, atol=0.012)
        np.testing.assert_allclose(below[LO80], 0.10, atol=0.02)
        np.testing.assert_allclose(below[HI80], 0.90, atol=0.02)
        np.testing.assert_allclose(below[HI95], 0.975, atol=0.012)
        np.testing.assert_allclose(np.median(paths, axis=0), g[YHAT].to_numpy(), rtol=0.02)


def _correlated_pair(rho: float, n: int = 40, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eps = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n) * 0.05
    logs = np.log(100) + np.cumsum(0.02 + eps, axis=0)
    ds = pd.date_range("2010-01-01", periods=n, freq="QS")
    return pd.concat([pd.DataFrame({UID: u, DS: ds, Y: np.exp(logs[:, i])}) for i, u in enumerate("ab")])


def test_a_series_pair_simulated_with_a_known_correlation_keeps_it_in_joint_paths() -> None:
    hist = _correlated_pair(0.8)
    joint = forecast(hist, 6, replace(QFAST, n_paths=3000, seed=2), groups={"a": "g", "b": "g"})
    alone = forecast(hist, 6, replace(QFAST, n_paths=3000, seed=2))
    for k in (0, 5):
        r_joint = np.corrcoef(np.log(joint.paths["a"][:, k]), np.log(joint.paths["b"][:, k]))[0, 1]
        r_alone = np.corrcoef(np.log(alone.paths["a"][:, k]), np.log(alone.paths["b"][:, k]))[0, 1]
        assert r_joint == pytest.approx(0.8, abs=0.1)
        assert r_alone == pytest.approx(0.0, abs=0.06)


def test_paths_are_reproducible_with_a_seed_and_differ_with_another() -> None:
    hist = _correlated_pair(0.5)
    first = forecast(hist, 4, replace(QFAST, n_paths=100, seed=7), groups={"a": "g", "b": "g"})
    again = forecast(hist, 4, replace(QFAST, n_paths=100, seed=7), groups={"a": "g", "b": "g"})
    other = forecast(hist, 4, replace(QFAST, n_paths=100, seed=8), groups={"a": "g", "b": "g"})
    np.testing.assert_array_equal(first.paths["a"], again.paths["a"])
    pd.testing.assert_frame_equal(first.forecasts, again.forecasts)
    assert not np.array_equal(first.paths["a"], other.paths["a"])


def _degenerate() -> pd.DataFrame:
    q = pd.date_range("2015-01-01", periods=16, freq="QS")
    good = make_series(16, seed=3, unique_id="good", start="2015-01-01")
    gaps = good.drop(index=[5, 6]).assign(**{UID: "gaps"})
    nan = good.assign(**{UID: "nan"})
    nan.loc[9, Y] = np.nan
    return pd.concat(
        [
            good,
            gaps,
            nan,
            pd.DataFrame({UID: "one", DS: q[-1:], Y: [42.0]}),
            pd.DataFrame({UID: "short", DS: q[-4:], Y: [1.0, 2.0, 3.0, 4.0]}),
            pd.DataFrame({UID: "constant", DS: q, Y: 5.0}),
            pd.DataFrame({UID: "zeros", DS: q, Y: 0.0}),
        ],
        ignore_index=True,
    )


def test_degenerate_series_get_the_documented_fallback_with_a_warning_naming_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="forecasting.engine"):
        res = forecast(_degenerate(), 5, replace(QFAST, n_paths=20), executor=SerialExecutor())
    fc = res.forecasts
    assert sorted(fc[UID].unique()) == ["constant", "gaps", "good", "nan", "one", "short", "zeros"]
    assert fc.groupby(UID).size().to_dict() == dict.fromkeys(fc[UID].unique(), 5)
    assert not fc[[YHAT, LO80, HI80, LO95, HI95]].isna().any().any()
    st = res.status.set_index(UID)
    assert st.loc["good", "status"] == "ok"
    assert st.loc["one", "message"] == "too short: only 1 observation(s) (< 6): naive forecast with Gaussian intervals"
    assert (
        st.loc["short", "message"] == "too short: only 4 observation(s) (< 6): naive forecast with Gaussian intervals"
    )
    assert st.loc["constant", "message"] == "constant series (5): flat forecast with zero-width intervals"
    assert st.loc["zeros", "message"] == "all-zero series: flat forecast with zero-width intervals"
    assert st.loc["gaps", "message"].startswith("filled 2 missing period(s) by log-linear interpolation")
    assert st.loc["nan", "message"].startswith("filled 1 missing period(s) by log-linear interpolation")
    assert st.loc[["one", "short", "constant", "zeros", "gaps", "nan"], "status"].eq("fallback").all()
    assert st.loc[["one", "short"], MODEL].tolist() == ["naive", "naive"]
    assert st.loc[["constant", "zeros"], MODEL].tolist() == ["constant", "constant"]
    zeros = fc[fc[UID] == "zeros"]
    assert (zeros[[YHAT, LO80, HI80, LO95, HI95]].to_numpy() == 0.0).all()
    one = fc[fc[UID] == "one"]
    np.testing.assert_allclose(one[YHAT], 42.0, rtol=1e-12)
    assert (one[LO95] < 41.0).all() and (one[HI95] > 43.0).all()
    warned = " ".join(r.getMessage() for r in caplog.records)
    for uid in ("one", "short", "constant", "zeros", "gaps", "nan"):
        assert f"series {uid}: fallback" in warned
    assert "series good" not in warned
    assert MIN_OBS == 6


def test_a_series_of_only_missing_values_is_reported_failed_without_rows(caplog: pytest.LogCaptureFixture) -> None:
    hist = pd.concat([make_series(12, unique_id="good"), make_series(12, unique_id="empty").assign(**{Y: np.nan})])
    with caplog.at_level(logging.WARNING, logger="forecasting.engine"):
        res = forecast(hist, 3, replace(QFAST, n_paths=10), executor=SerialExecutor())
    assert res.forecasts[UID].unique().tolist() == ["good"]
    assert res.status.set_index(UID).loc["empty", ["status", "message"]].tolist() == ["failed", "no finite values"]
    assert "series empty: failed: no finite values" in caplog.text


_FREQS = {"yearly": ("YS", "Y"), "quarterly": ("QS", "Q"), "monthly": ("MS", "M")}


@pytest.mark.parametrize("kind", sorted(_FREQS))
def test_forecast_file_writes_exactly_the_published_columns(kind: str, tmp_path) -> None:
    alias, code = _FREQS[kind]
    n = 30
    frames = [make_series(n, seed=i, freq=alias, unique_id=f"x{i}", start="2000-01-01") for i in range(2)]
    raw = pd.concat(frames).rename(columns={UID: "series", DS: "date", Y: "value"})
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    raw.to_csv(src, index=False)
    options = ForecastOptions(models=FAST, n_paths=10)
    forecast_file(src, out, 4, options, columns=("series", "date", "value"), executor=SerialExecutor())
    written = pd.read_csv(out)
    assert list(written.columns) == FORECAST_COLUMNS
    assert list(written.columns) == [
        "unique_id",
        "ds",
        "model",
        "yhat",
        "yhat_lower_80",
        "yhat_upper_80",
        "yhat_lower_95",
        "yhat_upper_95",
    ]
    assert len(written) == 8
    assert infer_freq(pd.to_datetime(raw["date"])) == code
    last = pd.Timestamp(frames[0][DS].iloc[-1])
    expected = pd.date_range(last, periods=5, freq=alias)[1:].strftime("%Y-%m-%d").tolist()
    assert written.loc[written[UID] == "x0", DS].tolist() == expected
    assert not written.isna().any().any()


def test_forecast_file_names_a_missing_column(tmp_path) -> None:
    src = tmp_path / "in.csv"
    make_series(8).to_csv(src, index=False)
    with pytest.raises(ValueError, match=r"has no column\(s\) \['value'\]"):
        forecast_file(src, tmp_path / "out.csv", 2, columns=("unique_id", "ds", "value"))


def test_results_are_identical_with_the_serial_and_the_local_executor() -> None:
    hist = _panel(3, 20)
    options, groups = ForecastOptions("Q", (*FAST, "ets"), n_paths=200, seed=4), {f"s{i}": "g" for i in range(3)}
    serial = forecast(hist, 6, options, groups=groups, executor=SerialExecutor())
    local = forecast(hist, 6, options, groups=groups, executor=LocalExecutor(workers=2))
    pd.testing.assert_frame_equal(serial.forecasts, local.forecasts)
    pd.testing.assert_frame_equal(serial.backtests, local.backtests)
    pd.testing.assert_frame_equal(serial.status, local.status)
    for uid in serial.paths:
        np.testing.assert_array_equal(serial.paths[uid], local.paths[uid])


def test_progress_counts_every_series_once() -> None:
    seen: list[int] = []
    forecast(_degenerate(), 2, replace(QFAST, n_paths=5), executor=SerialExecutor(), progress=seen.append)
    assert seen[-1] == 7 and seen == sorted(seen)


def test_frequency_words_and_aliases_normalise_and_bad_ones_are_rejected() -> None:
    assert [normalize_freq(f) for f in ("QS-DEC", "quarterly", "A", "ME", "Y")] == ["Q", "Q", "Y", "M", "Y"]
    assert [normalize_freq(f) for f in ("W-SUN", "weekly", "D", "daily")] == ["W", "W", "D", "D"]
    with pytest.raises(ValueError, match="unsupported freq 'H'"):
        normalize_freq("H")
    with pytest.raises(ValueError, match="dates are usually 61 days apart, which is no daily, weekly, monthly"):
        infer_freq(pd.date_range("2020-01-01", periods=5, freq="2MS"))


def test_the_engine_reads_months_dated_on_their_first_or_last_day_as_monthly_as_the_forecast_command_does() -> None:
    starts = pd.date_range("2021-01-01", periods=24, freq="MS")
    dates = pd.DatetimeIndex([d if i % 2 == 0 else d + pd.offsets.MonthEnd(0) for i, d in enumerate(starts)])
    assert infer_freq(dates) == "M"
    hist = pd.DataFrame({UID: "a", DS: dates, Y: np.linspace(10.0, 20.0, 24)})
    res = forecast(hist, 2, ForecastOptions(models=FAST, n_paths=5), executor=SerialExecutor())
    assert res.forecasts[DS].dt.strftime("%Y-%m").tolist() == ["2023-01", "2023-02"]


@pytest.mark.parametrize(
    ("horizon", "options", "message"),
    [
        (0, {}, "horizon must be a whole number >= 1, not 0"),
        # 2.5, True and "4" reached NumPy or range() as TypeErrors that named no argument.
        (2.5, {}, "horizon must be a whole number >= 1, not 2.5"),
        (True, {}, "horizon must be a whole number >= 1, not True"),
        ("4", {}, "horizon must be a whole number >= 1, not '4'"),
        (2, {"n_paths": 0}, "n_paths must be a whole number >= 1, not 0"),
        (2, {"backtest_horizon": 0}, "backtest_horizon must be a whole number >= 1, not 0"),
        (2, {"season": 2.0}, "season length must be a whole number between 1 and 366, got 2.0"),
        (2, {"seed": -1}, "seed must be a whole number >= 0, not -1"),
        (2, {"seed": 2.5}, "seed must be a whole number >= 0, not 2.5"),
        (2, {"models": ["nope"]}, "unknown model 'nope'"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(horizon: object, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        forecast(make_series(12), horizon, ForecastOptions(**options))  # type: ignore[arg-type]


def test_models_given_as_one_text_are_refused_not_read_letter_by_letter() -> None:
    with pytest.raises(ValueError, match=re.escape("models must be a list of model names such as ['ets', 'arima']")):
        ForecastOptions(models="ets")


def test_stable_seed_depends_on_the_key_and_not_on_the_process() -> None:
    assert stable_seed(0, "a") == stable_seed(0, "a")
    assert stable_seed(0, "a") != stable_seed(0, "b") != stable_seed(1, "b")
    assert stable_seed(0, "a") == 3234850288


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_transform_probe_forecasts_like_statsmodels_theta(seed: int) -> None:
    import warnings

    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = 50 + np.cumsum(np.random.default_rng(seed).normal(1.0, 2.0, 30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(ThetaModel(y, period=1, deseasonalize=False).fit().forecast(6))
    assert np.allclose(theta_probe(y, 6), expected, rtol=0, atol=0.01 * np.std(np.diff(y)))


def test_the_log_scale_is_chosen_for_compound_growth_and_not_when_it_merely_ties() -> None:
    t = np.arange(32)
    noise = np.random.default_rng(3).normal(0, 0.02, 32)
    compound = 100 * 1.08**t * np.exp(noise)
    level = 100 * np.exp(noise)  # no growth: both scales do about as well

    def transform(y: np.ndarray) -> str:
        cuts = np.array([24, 25, 26, 27])
        actual = np.array([y[c : c + 4] for c in cuts])
        scales = np.array([np.mean(np.abs(np.diff(y[:c]))) for c in cuts])
        return choose_transform(y, cuts, actual, scales)

    assert transform(compound) == "log"
    assert transform(level) == "none"
    assert transform(compound - 200) == "none"  # not positive: never the log


@pytest.mark.parametrize(
    ("season", "name", "point"),
    [(1, "median(drift,ets,arima,theta,dotm)", 30.0), (4, "combo(ets,arima,theta)", 70 / 3)],
)
def test_the_default_is_the_median_of_the_yearly_core_and_the_mean_of_the_seasonal_one(
    season: int, name: str, point: float
) -> None:
    # Five members whose backtests are about equally good, so no candidate beats the default clearly;
    # their final forecasts differ, and dotm's is wild: a median ignores it, a mean would not.
    finals = {"drift": 10.0, "ets": 10.0, "arima": 30.0, "theta": 30.0, "dotm": 1000.0}
    offsets = {"drift": -2.0, "ets": -1.0, "arima": 0.5, "theta": 1.0, "dotm": 2.0}
    actual = np.full((4, 3), 100.0)
    fit = SeriesFit(
        uid="s",
        transform="none",
        cutoffs=np.arange(20, 24),
        actual=actual,
        scales=np.ones(4),
        season=season,
        final={m: PointForecast(np.full(5, v), np.ones(5)) for m, v in finals.items()},
        bt_mean={m: actual + offsets[m] for m in finals},
        bt_sigma={m: np.ones((4, 3)) for m in finals},
    )
    choice, rows = choose_forecaster(fit)
    assert choice.name == name
    assert np.allclose(choice.mean, point)
    assert [r.model for r in rows if r.chosen] == [name]


def _fit_with_backtest_errors(errors: dict[str, float]) -> SeriesFit:
    """A quarterly series' fits whose backtests miss every actual by ``errors[model]`` (MASE scale 1)."""
    actual = np.full((4, 3), 100.0)
    return SeriesFit(
        uid="s",
        transform="none",
        cutoffs=np.arange(20, 24),
        actual=actual,
        scales=np.ones(4),
        season=4,
        final={m: PointForecast(np.full(5, 100.0 + i), np.ones(5)) for i, m in enumerate(errors)},
        bt_mean={m: actual + e for m, e in errors.items()},
        bt_sigma={m: np.ones((4, 3)) for m in errors},
    )


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (0.9, "combo(ets,arima,theta)"),  # better, but by far less than the margin
        (1 - SELECT_MARGIN + 0.05, "combo(ets,arima,theta)"),  # just short of the margin
        (1 - SELECT_MARGIN - 0.05, "naive"),  # just past it
        (0.05, "naive"),  # clearly better
    ],
)
def test_a_candidate_replaces_the_core_combination_only_when_it_beats_it_by_the_selection_margin(
    ratio: float, expected: str
) -> None:
    # The core members all miss by 10, so the core combination's backtest MASE is 10; naive's is 10 * ratio,
    # and the combinations of naive with the best others land in between.
    fit = _fit_with_backtest_errors({"naive": 10.0 * ratio, "ets": 10.0, "arima": 10.0, "theta": 10.0})
    choice, rows = choose_forecaster(fit)
    mase = {r.model: r.mase for r in rows}
    assert mase["combo(ets,arima,theta)"] == pytest.approx(10.0) and mase["naive"] == pytest.approx(10.0 * ratio)
    assert min(mase, key=mase.__getitem__) == "naive"  # naive always has the lowest backtest MASE
    assert choice.name == expected
    assert [r.model for r in rows if r.chosen] == [expected]
    if expected == "naive":
        np.testing.assert_array_equal(choice.mean, fit.final["naive"].mean)
    else:
        np.testing.assert_allclose(choice.mean, np.mean([fit.final[m].mean for m in ("ets", "arima", "theta")], axis=0))


def _seasonal_days(n: int, step: str, season: int, seed: int = 0) -> pd.DataFrame:
    """A positive series of ``n`` periods ``step`` apart with a strong pattern ``season`` periods long."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    y = 100 + 0.1 * t + 10 * np.sin(2 * np.pi * t / season) + rng.normal(0, 1, n)
    return pd.DataFrame({UID: "w", DS: pd.date_range("2021-01-03", periods=n, freq=step), Y: y})


@pytest.mark.parametrize(("step", "code", "season", "n"), [("W-SUN", "W", 52, 220), ("D", "D", 7, 70)])
def test_weekly_and_daily_data_forecast_their_season(step: str, code: str, season: int, n: int) -> None:
    hist = _seasonal_days(n, step, season)
    assert infer_freq(hist[DS]) == code
    horizon = season if season < 20 else 13
    res = forecast(hist, horizon, ForecastOptions(n_paths=50), executor=SerialExecutor())
    fc = res.forecasts
    days = 7 if code == "W" else 1
    expected = pd.date_range(hist[DS].iloc[-1], periods=horizon + 1, freq=f"{days}D")[1:]
    assert list(fc[DS]) == list(expected)
    assert (res.status["status"] == "ok").all()
    truth = 100 + 0.1 * np.arange(n, n + horizon) + 10 * np.sin(2 * np.pi * np.arange(n, n + horizon) / season)
    # The season is carried into the forecast: far closer to the pattern than a flat line would be.
    assert np.mean(np.abs(fc[YHAT].to_numpy() - truth)) < 0.6 * np.mean(np.abs(truth - truth.mean()))
    assert np.all(fc[LO95] <= fc[YHAT]) and np.all(fc[YHAT] <= fc[HI95])


def test_weekly_data_with_fewer_than_three_cycles_and_a_season_override() -> None:
    """52-week data with 1.5 cycles: the seasonal models fall back to their plain forms and it still forecasts;
    a caller's season length replaces the frequency's, and an impossible one is refused."""
    hist = _seasonal_days(80, "W-SUN", 52)
    res = forecast(hist, 8, ForecastOptions(n_paths=20), executor=SerialExecutor())
    assert (res.status["status"] == "ok").all() and np.isfinite(res.forecasts[YHAT]).all()
    short_cycle = _seasonal_days(60, "W-SUN", 4)
    fc = forecast(short_cycle, 8, ForecastOptions(n_paths=20, season=4), executor=SerialExecutor()).forecasts
    truth = 100 + 0.1 * np.arange(60, 68) + 10 * np.sin(2 * np.pi * np.arange(60, 68) / 4)
    assert np.mean(np.abs(fc[YHAT].to_numpy() - truth)) < 3
    with pytest.raises(ValueError, match="season length must be a whole number between 1 and 366"):
        forecast(hist, 8, ForecastOptions(season=0))


@pytest.mark.parametrize(
    ("season", "bench", "bench_error", "expected"),
    [
        (4, "snaive", 6.0, "snaive"),  # the core (10) loses to the seasonal naive by more than the margin
        (4, "snaive", 10.0 / (1 + NAIVE_MARGIN) - 0.1, "snaive"),  # just past the margin
        (4, "snaive", 10.0 / (1 + NAIVE_MARGIN) + 0.1, "combo(ets,arima,theta)"),  # just inside it
        (4, "snaive", 10.0, "combo(ets,arima,theta)"),  # a tie is not a loss
        (4, "naive", 6.0, "combo(ets,arima,theta)"),  # seasonal data: only the seasonal naive is the benchmark
        (1, "naive", 6.0, "naive"),  # yearly data: the naive is
    ],
)
def test_the_choice_gives_way_to_the_naive_benchmark_when_it_loses_to_it_on_the_backtest(
    season: int, bench: str, bench_error: float, expected: str
) -> None:
    # The benchmark is better than the core, but by less than the selection margin, so the core is chosen first.
    assert bench_error >= (1 - SELECT_MARGIN) * 10.0
    fit = replace(
        _fit_with_backtest_errors({bench: bench_error, "ets": 10.0, "arima": 10.0, "theta": 10.0}), season=season
    )
    if season == 1:
        expected = expected.replace("combo(ets,arima,theta)", "median(ets,arima,theta)")
    choice, rows = choose_forecaster(fit)
    assert choice.name == expected
    assert [r.model for r in rows if r.chosen] == [expected]
    assert choice.note.startswith(f"{bench} used: ") == (expected == bench)
    if expected == bench:
        np.testing.assert_array_equal(choice.mean, fit.final[bench].mean)
        assert f"is more than {1 + NAIVE_MARGIN:g}x {bench}'s" in choice.note


def test_the_naive_margin_and_the_other_rules_can_be_varied_for_tuning() -> None:
    fit = _fit_with_backtest_errors({"snaive": 8.0, "ets": 10.0, "arima": 10.0, "theta": 10.0})
    assert choose_forecaster(fit, ChoiceRules(naive_margin=0.3))[0].name == "combo(ets,arima,theta)"
    assert choose_forecaster(fit, ChoiceRules(naive_margin=0.0))[0].name == "snaive"
    assert choose_forecaster(fit, ChoiceRules(select_margin=0.1))[0].name == "snaive"
    median = ChoiceRules(core=(("ets", "arima", "theta"), "median"))
    assert choose_forecaster(fit, replace(median, naive_margin=0.3))[0].name == "median(ets,arima,theta)"


def test_a_series_whose_models_lose_to_the_seasonal_naive_gets_it_and_says_so() -> None:
    # The seasonal pattern reverses for the last three years: the seasonal naive follows at once,
    # Theta's classical decomposition averages the old and new pattern and misses.
    rng = np.random.default_rng(0)
    pattern = np.concatenate([np.tile([10, -10, 5, -5], 8), np.tile([-10, 10, -5, 5], 4)])
    y = 100 + pattern + rng.normal(0, 3, 48)
    history = pd.DataFrame({UID: "s", DS: pd.date_range("2000-01-01", periods=48, freq="QS"), Y: y})
    options = ForecastOptions(freq="Q", models=("snaive", "drift", "theta"), n_paths=10)
    res = forecast(history, 4, options, executor=SerialExecutor())
    status = res.status.set_index(UID).loc["s"]
    assert status["status"] == "ok" and status[MODEL] == "snaive"
    assert status["message"].startswith("snaive used: theta's backtest MASE")
    assert res.backtests.set_index("model").loc["snaive", "chosen"]
    assert (res.forecasts[MODEL] == "snaive").all()


def test_a_task_can_name_its_scale_instead_of_the_probe_choosing_it() -> None:
    y = 100 * 1.05 ** np.arange(24) * (1 + 0.02 * np.sin(np.arange(24)))
    task = SeriesTask("s", y, 4, 4, ("naive", "theta"), 2, 4, 0)
    probed = fit_series(task).transform
    forced = {t: fit_series(replace(task, transform=t)) for t in ("none", "log")}
    assert {t: f.transform for t, f in forced.items()} == {"none": "none", "log": "log"}
    assert forced[probed].final["theta"].mean.tolist() == fit_series(task).final["theta"].mean.tolist()


def test_a_run_can_fix_the_scale_of_every_series_and_the_log_only_where_the_values_allow_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = np.arange(28.0)
    rng = np.random.default_rng(2)
    linear = pd.DataFrame({UID: "linear", DS: pd.date_range("2019-01-01", periods=28, freq="QS")})
    linear[Y] = 100 + 3 * t + rng.normal(0, 2, 28)
    with_zero = linear.assign(**{UID: "with_zero", Y: np.r_[0.0, linear[Y].to_numpy()[1:]]})
    hist = pd.concat([linear, with_zero], ignore_index=True)

    def spread(transform: str | None) -> pd.DataFrame:
        """Per series, the last step's 80% bounds' distances above and below the point forecast."""
        fc = forecast(hist, 8, replace(QFAST, n_paths=20, transform=transform), executor=SerialExecutor()).forecasts
        last = fc.groupby(UID).tail(1).set_index(UID)
        return pd.DataFrame({"above": last[HI80] - last[YHAT], "below": last[YHAT] - last[LO80]})

    probed = spread(None)
    with caplog.at_level(logging.WARNING, logger="forecasting.engine"):
        logged = spread("log")
    assert "the log scale was asked for, but 1 series have values <= 0 and are fitted raw: with_zero" in caplog.text
    # The probe keeps a linear trend on the raw scale: symmetric bounds; fixed to the log: skewed upwards.
    assert probed.loc["linear", "above"] == pytest.approx(probed.loc["linear", "below"])
    assert logged.loc["linear", "above"] > 1.02 * logged.loc["linear", "below"]
    # A series with a zero has no log: it stays on the raw scale (symmetric bounds), as the probe leaves it.
    assert logged.loc["with_zero", "above"] == pytest.approx(logged.loc["with_zero", "below"])
    assert np.isfinite(logged.to_numpy()).all()
    with pytest.raises(ValueError, match="transform must be one of log, none or None; got 'sqrt'"):
        forecast(hist, 2, ForecastOptions(transform="sqrt"))


@pytest.mark.parametrize("model", ["ets", "arima"])
def test_no_backtest_forecast_depends_on_the_points_after_its_origin(model: str) -> None:
    """The backtest stands in for forecasting at each origin, so the model's form is chosen without the
    points it is scored on; otherwise its errors, and the intervals calibrated from them, are too small."""
    rng = np.random.default_rng(5)
    flat = 100 + rng.normal(0, 1, 24)
    y = np.r_[flat, flat[-1] + 15 * np.arange(1, 9) + rng.normal(0, 1, 8)]
    task = SeriesTask("s", y, 1, 4, (model,), 4, 4, 0, transform="none")
    fit = fit_series(task)
    # The trend at the end changes the form chosen on the whole series (else this test could not fail) ...
    assert MODELS[model]().select(y, 1) != MODELS[model]().select(y[: fit.cutoffs[0]], 1)
    for i, cut in enumerate(fit.cutoffs):
        # ... and yet no origin's forecast moves when everything after that origin is replaced.
        replaced = fit_series(replace(task, y=np.r_[y[:cut], rng.normal(500, 50, len(y) - cut)]))
        np.testing.assert_array_equal(replaced.bt_mean[model][i], fit.bt_mean[model][i])
        np.testing.assert_array_equal(replaced.bt_sigma[model][i], fit.bt_sigma[model][i])


def test_a_model_whose_selection_fails_at_the_first_origin_is_backtested_with_the_whole_series_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ets = MODELS["ets"]
    y = 100 * 1.03 ** np.arange(28) * (1 + 0.02 * np.sin(np.arange(28)))
    task = SeriesTask("s", y, 1, 4, ("ets",), 4, 4, 0, transform="none")
    whole = ets().select(y, 1)
    select = ets.select

    def full_series_only(self: object, z: np.ndarray, season: int) -> object:
        if len(z) < len(y):
            raise ValueError("too short to select")
        return select(self, z, season)

    monkeypatch.setattr(ets, "select", full_series_only)
    fit = fit_series(task)
    assert np.isfinite(fit.bt_mean["ets"]).all()
    for i, cut in enumerate(fit.cutoffs):
        expected = ets().fit_predict(y[:cut], 4, 1, whole)
        np.testing.assert_allclose(fit.bt_mean["ets"][i], expected.mean)


@pytest.mark.parametrize("error", [OverflowError, ZeroDivisionError, FloatingPointError])
def test_a_numeric_failure_inside_one_model_skips_that_model_not_the_run(
    monkeypatch: pytest.MonkeyPatch, error: type[ArithmeticError]
) -> None:
    theta = MODELS["theta"]

    def overflows(self: object, y: np.ndarray, horizon: int, season: int, spec: object = None) -> object:
        raise error("a numeric failure inside an estimator")

    monkeypatch.setattr(theta, "fit_predict", overflows)
    y = 100 * 1.03 ** np.arange(28)
    fit = fit_series(SeriesTask("s", y, 1, 4, ("naive", "theta"), 4, 4, 0, transform="none"))
    assert "theta" not in fit.final and "naive" in fit.final


def test_a_series_of_extreme_values_is_fitted_without_numpy_warnings() -> None:
    import warnings

    y = 1e300 * (1 + 0.1 * np.sin(np.arange(24))) * (1 + 0.01 * np.arange(24))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # before: overflow in theta, in the residual sd, ...
        fit = fit_series(SeriesTask("s", y, 4, 4, ("naive", "ets", "theta", "arima"), 4, 4, 0, transform="none"))
        assert fit.final and interval_score(y[:4], y[:4] * 0.5, np.full(4, np.inf), 0.95) == np.inf


@pytest.mark.parametrize("size", [1e307, -1e307, -1e-300])
def test_a_series_near_the_float_limits_is_forecast_by_its_models_with_nothing_on_stderr(size: float, tmp_path) -> None:
    import subprocess
    import sys

    y = size * (np.linspace(1, 2, 24) + np.sin(np.arange(24)))
    pd.DataFrame({UID: "a", DS: pd.date_range("2015-01-01", periods=24, freq="QS"), Y: y}).to_csv(tmp_path / "in.csv")
    done = subprocess.run(
        [sys.executable, "-m", "forecasting", "forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")],
        capture_output=True,
        text=True,
    )
    # Before: LAPACK wrote "** On entry to DLASCL parameter number 4 had an illegal value" six times
    # (DOTM's least squares overflowed), NumPy warned of overflows, and on the negative series every model
    # failed (their residual sds overflowed) and the naive fallback gave infinite bounds.
    assert done.returncode == 0 and done.stderr == "", done.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    assert not out[MODEL].str.startswith("naive").any()
    assert np.isfinite(out[[YHAT, LO80, HI80, LO95, HI95]].to_numpy()).all()
    assert (out[HI80] > out[LO80]).all()  # at 1e-300 the residuals' squares underflowed: zero-width intervals


def test_the_residual_sd_of_huge_values_is_their_exact_rescaling_and_of_others_unchanged() -> None:
    from forecasting.models.base import residual_sd

    r = np.random.default_rng(0).normal(size=50)
    assert residual_sd(r * 2.0**600, dof=3) == residual_sd(r, dof=3) * 2.0**600  # no overflow to inf
    assert residual_sd(r * 2.0**-1000, dof=3) == residual_sd(r, dof=3) * 2.0**-1000  # no underflow to 0
    assert residual_sd(r, dof=3) == float(np.sqrt(np.sum(r**2) / 47))


class _NoFits(SerialExecutor):
    def map(self, fn, items):  # noqa: ANN001, ANN202 (the executor interface)
        raise AssertionError("fitted before the horizon was checked")


@pytest.mark.parametrize(("freq", "horizon"), [("QE", 1000), ("YE", 300)])
def test_a_horizon_past_the_last_representable_date_is_refused_before_any_fit(freq: str, horizon: int) -> None:
    history = pd.DataFrame({UID: "a", DS: pd.date_range("2015-03-31", periods=24, freq=freq), Y: np.arange(24.0)})
    with pytest.raises(ValueError, match=r"runs past 2262-04-11, the last date.*series 'a' ends \d{4}-"):
        forecast(history, horizon, ForecastOptions(n_paths=10), executor=_NoFits())


def test_a_horizon_past_the_engine_s_limit_is_refused_before_any_fit() -> None:
    history = pd.DataFrame({UID: "a", DS: pd.date_range("2015-01-01", periods=60, freq="D"), Y: np.arange(60.0)})
    with pytest.raises(ValueError, match=f"a horizon of {MAX_HORIZON + 1} periods is more than the engine forecasts"):
        forecast(history, MAX_HORIZON + 1, ForecastOptions(n_paths=10), executor=_NoFits())


def test_daily_dates_with_a_time_zone_step_by_calendar_days_across_a_clock_change() -> None:
    ds = pd.date_range("2020-08-01", periods=80, freq="D", tz="Europe/Paris")  # ends 2020-10-19, before the change
    history = pd.DataFrame({UID: "a", DS: ds, Y: 100 + np.arange(80) % 7 + 0.1 * np.arange(80)})
    out = forecast(history, 10, ForecastOptions(models=["naive"], n_paths=10), executor=SerialExecutor()).forecasts
    assert list(out[DS]) == list(pd.date_range("2020-10-20", periods=10, freq="D", tz="Europe/Paris"))
