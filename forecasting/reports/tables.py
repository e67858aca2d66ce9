"""Every table a user sees of one run under one scenario: the CLI prints them, the dashboard draws them,
the exports write them.

Each table is a function of a :class:`~forecasting.reports.view.View` alone, registered in
:data:`TABLES` under its export kind.  Tables are long format with ISO dates, units in the column
names (``spend_usd``, ``yhat_usd``) and ``run_id`` and ``scenario`` columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .. import quarters
from ..budget import BUDGET_COLUMNS, budget
from ..config import ALL, TOTAL, WORKLOADS, series_id
from ..crossover import Crossover, crossover_frame, median_curve_crossing
from ..drivers import DRIVERS
from ..frames import DS, HI80, HI95, LO80, LO95, MODEL, UID, YHAT, Y
from ..scenario import SCENARIO_SEED
from ..sensitivity import TORNADO_COLUMNS, tornado
from ..share import DEFAULT_DEFINITION
from . import figures
from .view import View

#: Columns of the crossover table (every face): the distribution, the model, and the uncertainty budget.
CROSSOVER_COLUMNS = [
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
    *BUDGET_COLUMNS[1:],
]
#: Columns of the probability table: the share of paths crossed by the end of each forecast quarter.
PROBABILITY_COLUMNS = [
    "run_id",
    "scenario",
    "definition",
    "sector",
    "quarter",
    "crossed_by",
    "probability",
    "threshold",
]
_USD = {c: f"{c}_usd" for c in (YHAT, LO80, HI80, LO95, HI95)}
#: Quantile of the paths behind each forecast column under a scenario (the fans' quantiles).
_PATH_QUANTILE = {YHAT: "p50", LO80: "p10", HI80: "p90", LO95: "p025", HI95: "p975"}


def _split_ids(frame: pd.DataFrame) -> pd.DataFrame:
    parts = frame[UID].str.rpartition("/")  # sector/workload, or the engine's total of the structural sectors
    return frame.assign(sector=parts[0], workload=parts[2])


def _tag(view: View, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(run_id=view.run.run_id, scenario=view.scenario.name)


def history_table(view: View) -> pd.DataFrame:
    """The spend history the run was fitted on, one row per series and quarter (USD)."""
    out = _split_ids(view.run.history.rename(columns={Y: "spend_usd"}))
    return _tag(view, out)[["run_id", "scenario", UID, "sector", "workload", DS, "spend_usd"]]


def forecast_table(view: View) -> pd.DataFrame:
    """Forecast median with 80% and 95% intervals per series and quarter (USD).

    Under the baseline these are the engine's stored forecasts; under any other scenario they are
    the quantiles of the scenario's sample paths (the same quantiles the dashboard's fans draw).
    """
    if view.is_baseline and view.definition == DEFAULT_DEFINITION:
        out = view.run.forecasts.rename(columns=_USD)
    else:
        models = view.run.forecasts.drop_duplicates(UID).set_index(UID)[MODEL]
        parts = []
        for sector in view.paths.sectors:
            fan = figures.fan_frame(view.paths, sector)
            for workload in WORKLOADS:
                uid = series_id(sector, workload)
                f = fan[fan["workload"] == workload]
                bounds = {_USD[c]: f[q].to_numpy() for c, q in _PATH_QUANTILE.items()}
                parts.append(pd.DataFrame({UID: uid, DS: view.paths.periods, MODEL: models.get(uid, ""), **bounds}))
        out = pd.concat(parts, ignore_index=True)
    out = _tag(view, _split_ids(out))
    return out[["run_id", "scenario", UID, "sector", "workload", DS, MODEL, *_USD.values()]]


def crossover_rows(view: View) -> pd.DataFrame:
    """The crossover of every sector and the total under the view's one definition, with its budget.

    ``p50_curves`` is when the P50 curves cross, which need not be the P50 of the crossing dates;
    ``state`` says whether most paths crossed inside the (modelled) history, within the horizon or later.
    """
    paths = view.paths
    frame = crossover_frame(view.crossovers)
    frame["p50_curves"] = pd.to_datetime([median_curve_crossing(paths, s, view.threshold) for s in frame["sector"]])
    frame["model"] = [view.model_of(s) for s in frame["sector"]]
    spread = budget(
        view.run.paths_for(view.definition), view.run.structure, view.definition, view.scenario, view.threshold
    )
    frame = frame.merge(spread, on="sector", how="left")
    return _tag(view, frame).assign(definition=view.definition, threshold=view.threshold)[CROSSOVER_COLUMNS]


def crossover_table(view: View) -> pd.DataFrame:
    """Crossover state, P10/P50/P90, P50 of the curves and the uncertainty budget, per definition, sector and total."""
    return pd.concat([crossover_rows(view.under(d)) for d in view.definitions], ignore_index=True)


def probability_rows(crossovers: dict[str, Crossover]) -> pd.DataFrame:
    """``sector, quarter, crossed_by, probability``: share of paths crossed by each forecast quarter's end."""
    parts = [
        pd.DataFrame(
            {
                "sector": c.sector,
                "quarter": [quarters.label(d) for d in c.quarter_ends],
                "crossed_by": c.quarter_ends,
                "probability": c.prob_by_quarter.to_numpy(),
            }
        )
        for c in crossovers.values()
    ]
    columns = ["sector", "quarter", "crossed_by", "probability"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def probability_table(view: View) -> pd.DataFrame:
    """Probability that the crossover has happened by the end of each forecast quarter, per sector and total."""
    parts = [
        _tag(view, probability_rows(view.under(d).crossovers)).assign(definition=d, threshold=view.threshold)
        for d in view.definitions
    ]
    return pd.concat(parts, ignore_index=True)[PROBABILITY_COLUMNS]


def backtest_table(view: View) -> pd.DataFrame:
    """Backtest MASE, sMAPE, interval coverage and score per series and model; the chosen model."""
    out = _tag(view, view.run.backtests)
    return out[
        ["run_id", "scenario", UID, MODEL, "mase", "smape", "coverage_80", "coverage_95", "interval_score", "chosen"]
    ]


def scenario_table(view: View) -> pd.DataFrame:
    """Every driver's effective value for all sectors (``all``), then each sector-specific override."""
    sc = view.scenario
    entries = [(ALL, d, sc.value_for(ALL, d.key)) for d in DRIVERS]
    entries += [(s, d, sc.values[s][d.key]) for s in sc.values if s != ALL for d in DRIVERS if d.key in sc.values[s]]
    rows = [
        {
            "run_id": view.run.run_id,
            "scenario": sc.name,
            "sector": sector,
            "driver": d.key,
            "label": d.label,
            "unit": d.unit,
            "kind": v.kind,
            "value": v.centre(),
            "low": v.lo,
            "mode": v.mode,
            "high": v.hi,
        }
        for sector, d, v in entries
    ]
    cols = ["run_id", "scenario", "sector", "driver", "label", "unit", "kind", "value", "low", "mode", "high"]
    return pd.DataFrame(rows, columns=cols)


def sensitivity_table(view: View) -> pd.DataFrame:
    """Tornado data: the P50 crossover at each driver's range ends, per sector and the total."""
    paths = view.run.require_paths()
    parts = [
        tornado(paths, view.scenario, s, seed=SCENARIO_SEED, threshold=view.threshold).assign(sector=s)
        for s in (*paths.sectors, TOTAL)
    ]
    out = _tag(view, pd.concat(parts, ignore_index=True)).assign(threshold=view.threshold)
    return out[["run_id", "scenario", "sector", *TORNADO_COLUMNS, "threshold"]]


@dataclass(frozen=True)
class Table:
    """One export kind: its builder and whether the crossover threshold applies to it."""

    build: Callable[[View], pd.DataFrame]
    takes_threshold: bool
    description: str


TABLES: dict[str, Table] = {
    "history": Table(history_table, False, "the spend history the run was fitted on, one row per series and quarter"),
    "forecasts": Table(forecast_table, False, "forecast median with 80% and 95% intervals per series and quarter"),
    "crossover": Table(
        crossover_table, True, "crossover distribution, P50 of the curves and uncertainty budget per definition"
    ),
    "probability": Table(
        probability_table, True, "probability that the crossover has happened by the end of each forecast quarter"
    ),
    "backtests": Table(backtest_table, False, "backtest MASE, sMAPE, interval coverage and score per series and model"),
    "scenarios": Table(scenario_table, False, "the scenario's value of every driver, for all sectors and overrides"),
    "sensitivity": Table(sensitivity_table, True, "tornado data: P50 crossover at each driver's range ends"),
}
KINDS = tuple(TABLES)
#: Kinds that compute crossovers, so they take the rule's threshold.
THRESHOLD_KINDS = tuple(k for k, t in TABLES.items() if t.takes_threshold)


def table(kind: str, view: View) -> pd.DataFrame:
    """The table ``kind`` (one of :data:`KINDS`) of ``view``.

    A threshold other than 1 applies to :data:`THRESHOLD_KINDS` only; asking another kind for one is
    a ``ValueError`` rather than a silently ignored option.
    """
    if kind not in TABLES:
        raise ValueError(f"unknown table '{kind}'; choose one of {list(KINDS)}")
    if view.threshold != 1.0 and not TABLES[kind].takes_threshold:
        kinds = ", ".join(THRESHOLD_KINDS[:-1]) + " and " + THRESHOLD_KINDS[-1]
        raise ValueError(f"a threshold applies to the {kinds} tables only, not '{kind}'")
    return TABLES[kind].build(view)
