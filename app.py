"""Crossover dashboard: when does cloud AI inference spend overtake training spend?

Run with ``streamlit run app.py``; the database is ``$CROSSOVER_DB`` (or ``crossover.duckdb`` in the
repository).  This file is the table of contents: page setup, the page list and the sidebar.
Each page lives in ``forecasting/ui/pages/``; reading, caching and charts live in ``forecasting/ui/``.
"""

import streamlit as st

from forecasting.ui import widgets

PAGES = "forecasting/ui/pages"

st.set_page_config(
    page_title="Crossover: AI inference vs training spend",
    page_icon=":material/insights:",
    layout="wide",
    initial_sidebar_state="auto",
)

page = st.navigation(
    [
        st.Page(
            f"{PAGES}/overview.py", title="Overview", icon=":material/insights:", url_path="overview", default=True
        ),
        st.Page(f"{PAGES}/sectors.py", title="Sectors", icon=":material/grid_view:", url_path="sectors"),
        st.Page(f"{PAGES}/scenarios.py", title="Scenarios", icon=":material/tune:", url_path="scenarios"),
        st.Page(f"{PAGES}/quality.py", title="Model quality", icon=":material/verified:", url_path="quality"),
        st.Page(f"{PAGES}/data_sources.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page(f"{PAGES}/exports.py", title="Exports", icon=":material/download:", url_path="exports"),
    ]
)

with widgets.guarded():
    ctx = widgets.context()
    widgets.scenario_picker(ctx)
    widgets.threshold_picker()
    widgets.definition_picker(ctx)
    widgets.sidebar_status(ctx)

page.run()
