"""The public API: ``from forecasting import ...`` works as docs/api.md says, and its example runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import crossover_distribution, engine_frequency, forecast_frame, latest_run, open_db, table
from forecasting.config import DB_ENV, REPO_ROOT
from forecasting.crossover import Crossover
from forecasting.engine import ForecastResult
from forecasting.errors import NotFoundError, UnsupportedFrequencyError
from forecasting.frames import usual_steps
from forecasting.vintages import RunData, latest_run_id

from .conftest import copy_db

API_DOC = REPO_ROOT / "docs" / "api.md"


@pytest.fixture(scope="module")
def published(tiny_published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one published run, this module's copy."""
    return copy_db(tiny_published_template, tmp_path_factory.mktemp("api") / "crossover.duckdb")


def _code_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", API_DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_example_runs_and_gives_the_packages_answers(
    published: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DB_ENV, str(published))
    blocks = _code_blocks()
    assert len(blocks) == 4
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(API_DOC), "exec"), namespace)  # noqa: S102 (the documentation's own example)
    total = namespace["total"]
    assert isinstance(total, Crossover) and total.sector == "total"
    run, result = namespace["run"], namespace["result"]
    assert isinstance(run, RunData) and run.run_id == latest_run_id(published)
    assert isinstance(result, ForecastResult)
    forecasts = result.forecasts
    assert forecasts["ds"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2021-01-01", "2021-02-01"] and len(forecasts) == 6
    printed = capsys.readouterr().out
    assert f"P50 {total.p50}" in printed and "crossed by the end of 2030:" in printed


def test_every_documented_name_is_importable_from_the_package() -> None:
    documented = set(re.findall(r"^\| `(\w+)\(", API_DOC.read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(forecasting.API)
    assert all(callable(getattr(forecasting, name)) for name in forecasting.API)
    with pytest.raises(AttributeError):
        forecasting.no_such_function  # noqa: B018


def test_open_db_never_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    with pytest.raises(NotFoundError, match="no database at"):
        open_db(missing)
    assert not missing.exists()


def test_the_api_reads_what_the_exports_write(published: Path) -> None:
    run = latest_run(published)
    crossovers = crossover_distribution(published)
    assert set(crossovers) == set(run.crossover["sector"])
    probability = table("probability", published)
    total = probability[probability["sector"] == "total"]
    assert np.allclose(total["probability"], crossovers["total"].prob_by_quarter.to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # True was read as the threshold 1 and "2" as 2; a number as a scenario or run name reached DuckDB
        # as a query value and came back as its ConversionException, SQL text included.
        ({"threshold": True}, "threshold .* must be a positive number, got True"),
        ({"threshold": "2"}, "threshold .* must be a positive number, got '2'"),
        ({"scenario": 5}, "scenario must be a name \\(text\\), not 5"),
        ({"run": 7}, "run must be a name \\(text\\), not 7"),
    ],
)
def test_the_api_refuses_arguments_of_the_wrong_kind(published: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crossover_distribution(published, **kwargs)


def test_forecast_frame_reads_weekly_data_and_refuses_missing_values() -> None:
    weekly = pd.DataFrame({"unique_id": "w", "ds": pd.date_range("2024-01-01", periods=30, freq="W"), "y": 1.0})
    assert engine_frequency(weekly) == "W"
    with pytest.raises(UnsupportedFrequencyError, match="weekly"):
        engine_frequency(weekly, freq="M")
    monthly = weekly.assign(ds=pd.date_range("2020-01-01", periods=30, freq="MS"))
    assert engine_frequency(monthly) == "M"
    with pytest.raises(ValueError, match="1 missing value"):
        forecast_frame(monthly.assign(y=[*range(29), np.nan]), 3)


def test_a_given_frequency_forecasts_series_of_one_date_each() -> None:
    single = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.to_datetime(["2020-03-31", "2020-06-30"]), "y": 5.0})
    assert engine_frequency(single, freq="Q") == "Q"
    out = forecast_frame(single, 2, freq="Q").forecasts
    assert out.loc[out["unique_id"] == "a", "ds"].dt.strftime("%Y-%m-%d").tolist() == ["2020-06-30", "2020-09-30"]
    with pytest.raises(ValueError, match="cannot tell the frequency"):
        engine_frequency(single)


def test_forecast_frame_refuses_infinite_values_missing_dates_and_ids_booleans_no_rows_and_odd_arguments() -> None:
    quarterly = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2015-03-31", periods=16, freq="QE"), "y": 100 + np.arange(16.0)}
    )
    # An infinite last value used to be dropped silently: the forecast then began on the last input date.
    with pytest.raises(ValueError, match="1 infinite value"):
        forecast_frame(quarterly.assign(y=[*range(15), np.inf]), 2)
    with pytest.raises(ValueError, match="1 missing date"):
        forecast_frame(quarterly.assign(ds=[pd.NaT, *quarterly["ds"][1:]]), 2)
    # A missing id became a one-point series named 'None' (and cut a gap into its own series); True was
    # read as 1.0 (a 'constant series'); an empty frame was asked to pass --freq, an option of the CLI.
    with pytest.raises(ValueError, match="1 row\\(s\\) without a unique_id, the first at position 0"):
        forecast_frame(quarterly.assign(unique_id=[None, *["a"] * 15]), 2)
    with pytest.raises(ValueError, match="without a unique_id"):
        forecast_frame(quarterly.assign(unique_id=[*["a"] * 15, " "]), 2)
    with pytest.raises(ValueError, match="'y' must be numeric, got bool"):
        forecast_frame(quarterly.assign(y=True), 2)
    with pytest.raises(ValueError, match="history has no rows"):
        forecast_frame(quarterly.iloc[:0], 2)
    # A dict said "'dict' object has no attribute 'columns'"; 2.5 periods reached NumPy as a TypeError.
    with pytest.raises(ValueError, match="history must be a pandas DataFrame, not dict"):
        forecast_frame(quarterly.to_dict(), 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="horizon must be a whole number >= 1, not 2.5"):
        forecast_frame(quarterly, 2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(5))
def test_the_usual_step_per_series_is_series_mode_with_ties_to_the_smallest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.choice([f"s{i}" for i in range(150)], size=400)  # some series of one step, which are left out
    steps = pd.Series(rng.choice([1.0, 7.0, 28.0, 30.0, 31.0, 91.0], size=400), index=ids)  # few values: many ties
    per_series = steps.groupby(level=0)
    # The per-series lambda usual_steps replaced (about 0.5 s per 10,000 series).
    expected = per_series.agg(lambda g: int(g.mode().iloc[0]))[per_series.size() >= 2]
    pd.testing.assert_series_equal(usual_steps(steps), expected)


def _on_first_or_last_days(starts: pd.DatetimeIndex, end: pd.DateOffset) -> pd.DataFrame:
    """One series dated as spreadsheets export it: odd periods on their first day, even ones on their last."""
    ds = [d if i % 2 == 0 else d + end for i, d in enumerate(starts)]
    return pd.DataFrame({"unique_id": "sales", "ds": ds, "y": 100 + np.arange(len(ds)) % 12 + np.arange(len(ds))})


def test_monthly_dates_on_the_first_or_the_last_day_are_monthly_not_daily() -> None:
    history = _on_first_or_last_days(pd.date_range("2021-01-01", periods=36, freq="MS"), pd.offsets.MonthEnd(0))
    assert engine_frequency(history) == "M"  # was 'D': 1 day from 28 Feb to 1 Mar is the most common gap
    result = forecast_frame(history, 3)
    assert result.forecasts["ds"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-02-29", "2024-03-31"]
    assert result.status["message"].tolist() == [""]  # no days filled in
    quarterly = pd.DataFrame({"unique_id": "q", "ds": pd.date_range("2021-03-31", periods=12, freq="QE"), "y": 1.0})
    with pytest.raises(ValueError, match=r"most series are monthly, but 'q' \(quarterly\) is not"):
        engine_frequency(pd.concat([history, quarterly]))


@pytest.mark.parametrize(
    ("starts", "end", "word"),
    [
        (pd.date_range("2015-01-01", periods=20, freq="QS"), pd.offsets.QuarterEnd(0), "quarter"),
        (pd.date_range("2000-01-01", periods=20, freq="YS"), pd.offsets.YearEnd(0), "year"),
    ],
)
def test_quarters_or_years_dated_in_different_months_are_refused_by_series(
    starts: pd.DatetimeIndex, end: pd.DateOffset, word: str
) -> None:
    history = _on_first_or_last_days(starts, end)
    with pytest.raises(UnsupportedFrequencyError, match=f"series 'sales' .* different months of their {word}s"):
        engine_frequency(history)  # was 'D', forecast day by day


def test_two_dates_in_one_month_are_refused_not_forecast_as_two_months() -> None:
    ds = pd.to_datetime(["2021-01-01", "2021-01-31", "2021-03-01", "2021-03-31", "2021-05-01", "2021-05-31"])
    history = pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(6.0)})
    with pytest.raises(ValueError, match=r"series 'a' has two dates in one month \(2021-01-01, 2021-01-31\)"):
        engine_frequency(history)  # was 'M', each date its own month: the forecast began in December


@pytest.mark.parametrize("seed", range(3))
def test_daily_or_weekly_dates_are_never_read_as_monthly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for freq, code in (("D", "D"), ("W-SUN", "W")):
        starts = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 730, size=20), unit="D")
        frames = [
            pd.DataFrame({"unique_id": f"s{k}", "ds": pd.date_range(start, periods=3 + k, freq=freq), "y": 1.0})
            for k, start in enumerate(starts)
        ]
        assert engine_frequency(pd.concat(frames)) == code
    across = pd.DataFrame(
        {"unique_id": "a", "ds": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-02"]), "y": 1.0}
    )
    assert engine_frequency(across) == "D"
