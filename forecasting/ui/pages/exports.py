"""Exports page: every export table of the shown run and scenario as CSV, Excel or Parquet, in USD billions."""

from __future__ import annotations

import streamlit as st

from forecasting import export, reports
from forecasting.ui import downloads, widgets, words

#: What each export kind holds (the same files as `forecasting export`).
DESCRIPTIONS = {
    "history": "the spend history the run was fitted on, one row per series and quarter (USD bn)",
    "forecasts": "forecast median with 80% and 95% intervals per series and quarter (USD bn), under the scenario",
    "crossover": "crossover state, date if in the modelled history, P10/P50/P90 per sector and definition",
    "probability": "share of paths crossed by the end of each forecast quarter, per sector, under the scenario",
    "backtests": "backtest MASE, sMAPE, interval coverage and score per series and model; the chosen model",
    "scenarios": "the scenario's value of every driver, for all sectors and each sector override",
    "sensitivity": "tornado data: P50 crossover at each driver's range ends, per sector (takes a few seconds)",
}

ctx = widgets.context()
st.title("Exports")

with widgets.guarded():
    scn = widgets.shown_scenario()
    threshold = widgets.threshold()
    if ctx.run_id is None:
        widgets.no_run_notice(ctx)
        st.stop()
    excel = "xlsx" in downloads.formats()
    st.caption(
        f"Tables of the published run **`{ctx.run_id}`** under scenario "
        f"**{words.plain(widgets.scenario_title(scn))}** (choose another in the sidebar, edit it on Scenarios), "
        f"as CSV, {'Excel or ' if excel else ''}Parquet. Money is in **USD billions**, as on every chart, rounded "
        "to 4 decimals (USD 0.1 million); `forecasting export` writes the same tables in US dollars. Text cells "
        "that a spreadsheet would run as a formula are quoted. Every chart's data can also be downloaded under "
        "the chart, and every chart's toolbar camera saves it as an image."
        + ("" if excel else " (Excel files need the optional `openpyxl` package.)")
        + (
            ""
            if threshold == 1.0
            else f" The {', '.join(reports.THRESHOLD_KINDS)} files use the sidebar's threshold: "
            f"{words.rule_text(threshold)} (`forecasting export --threshold {threshold:g}`)."
        )
    )
    widgets.image_format_picker()
    for kind in export.KINDS:
        left, right = st.columns([3, 2], vertical_alignment="center")
        left.markdown(f"**{kind}**: {DESCRIPTIONS.get(kind, '')}")
        with right:
            widgets.download_export(kind, ctx, scn, threshold=threshold)
