"""Exports page: every table behind the dashboard as CSV, named by run id and scenario."""

from __future__ import annotations

import streamlit as st

from forecasting import export
from forecasting.ui import data, widgets

ctx = widgets.context()
st.title("Exports")

with widgets.guarded():
    name = st.session_state.get(widgets.SCENARIO_KEY, widgets.DEFAULT_SCENARIO)
    st.caption(f"CSV files of the published run **`{ctx.run_id or 'none yet'}`** under scenario **{name}** (choose "
               "another in the sidebar). The same files come from `forecasting export`. Every chart's data can "
               "also be downloaded under the chart.")
    if ctx.run_id is None:
        widgets.no_run_notice(ctx)
    for kind in export.KINDS:
        needs_run = kind in export.RUN_KINDS
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(f"**{kind}** · {export.DESCRIPTIONS.get(kind, '')}")
        if needs_run and ctx.run_id is None:
            right.caption("after the first refresh")
            continue
        frame = data.export_frame(ctx.db_text, ctx.stamp, kind, ctx.run_id, name)
        with right:
            widgets.download(frame, kind, ctx, name, label=f"{kind}.csv ({len(frame):,} rows)", key=f"dl_export_{kind}")
