"""What the shown scenario changed against the baseline: the drivers it moved and the crossovers it shifted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import quarters
from ..config import ALL, TOTAL
from ..crossover import crossover_frame
from ..drivers import DRIVERS
from ..reports.compare import p50_moves
from ..scenario import Scenario
from . import data, theme
from .words import EMPTY


def moved_drivers(scn: Scenario, baseline: Scenario, sectors: list[str]) -> pd.DataFrame:
    """Every driver the scenario sets otherwise than the baseline: where (all sectors or one), driver, both values."""
    rows = []
    for d in DRIVERS:
        for where in [ALL, *sectors]:
            mine, base = scn.value_for(where, d.key), baseline.value_for(where, d.key)
            inherited = where != ALL and mine == scn.value_for(ALL, d.key) and base == baseline.value_for(ALL, d.key)
            if mine != base and not inherited:
                rows.append(
                    {
                        "where": "All sectors" if where == ALL else theme.sector_label(where),
                        "driver": f"{d.label} ({d.unit})",
                        "baseline": base.text(),
                        "this scenario": mine.text(),
                    }
                )
    return pd.DataFrame(rows, columns=["where", "driver", "baseline", "this scenario"])


def crossover_shifts(out: data.Outcome, base: data.Outcome) -> pd.DataFrame:
    """P50 crossover per sector and the total under the baseline and the scenario, and the shift in quarters."""
    moves = p50_moves(crossover_frame(base.crossovers), crossover_frame(out.crossovers))
    order = [TOTAL, *[s for s in moves["sector"] if s != TOTAL]]
    moves = moves.set_index("sector").loc[order].reset_index()
    return pd.DataFrame(
        {
            "sector": [theme.sector_label(s) for s in moves["sector"]],
            "baseline P50": [quarter_or_dash(p) for p in moves["p50_a"]],
            "scenario P50": [quarter_or_dash(p) for p in moves["p50_b"]],
            "shift (quarters)": [EMPTY if pd.isna(x) else f"{x:+.1f}" for x in moves["shift_quarters"]],
        }
    )


def quarter_or_dash(ts: pd.Timestamp | None) -> str:
    """A date as its quarter (``2026 Q2``), or ``—`` for none."""
    return EMPTY if ts is None or pd.isna(ts) else quarters.text(ts)


def vintage_rows(moved: pd.DataFrame) -> pd.DataFrame:
    """``reports.compare_runs`` output as the page shows it: sector labels, quarters, ``—`` for none.

    A sector missing from one run has no state there ("not in the run"); a P50 beyond the horizon and a
    shift that cannot be measured show ``—``, never ``None``, ``NaT`` or ``nan``.
    """

    def state(value: object) -> str:
        return "not in the run" if value is None or pd.isna(value) else str(value).replace("_", " ")

    return pd.DataFrame(
        {
            "sector": [theme.sector_label(s) for s in moved["sector"]],
            "state before": [state(v) for v in moved["state_a"]],
            "state after": [state(v) for v in moved["state_b"]],
            "P50 before": [quarter_or_dash(p) for p in moved["p50_a"]],
            "P50 after": [quarter_or_dash(p) for p in moved["p50_b"]],
            "shift (quarters)": [EMPTY if pd.isna(x) else f"{x:+.1f}" for x in moved["shift_quarters"]],
            "moved": moved["moved"].astype(bool).tolist(),
            "cause": moved["cause"].fillna("").tolist(),
        }
    )


def label(drivers: pd.DataFrame) -> str:
    """The panel's title: how many driver settings the scenario moved against the baseline."""
    return f"What changed against the baseline: {len(drivers)} driver setting{'s' if len(drivers) != 1 else ''}"


def tables(drivers: pd.DataFrame, out: data.Outcome, base: data.Outcome) -> None:
    """The drivers the scenario moved beside how far each crossover shifted (or a note that none moved)."""
    if drivers.empty:
        st.caption("No driver moved: this is the model forecast.")
        return
    left, right = st.columns(2)
    left.dataframe(drivers, hide_index=True, width="stretch")
    right.dataframe(crossover_shifts(out, base), hide_index=True, width="stretch")
    st.caption("Shift: quarters the P50 crossover moved (positive: later); — where a P50 lies beyond the horizon.")
