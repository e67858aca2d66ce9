"""The dashboard's table of contents: page setup, the page list and the sidebar.

The repository's ``app.py`` (and the installed ``forecasting dashboard``) runs :func:`run` on every
Streamlit rerun.  Each page lives in ``forecasting/ui/pages/``; reading, caching and charts live in
``forecasting/ui/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from .. import auth
from . import widgets

PAGES = Path(__file__).parent / "pages"


def run() -> None:
    """Set up the page, the navigation and the sidebar, then run the page the user is on."""
    st.set_page_config(
        page_title="Crossover: AI inference vs training spend",
        # An emoji favicon is drawn in the page itself; a Material icon would be fetched from a font host.
        page_icon="📈",
        layout="wide",
        initial_sidebar_state="auto",
    )
    auth.gate()  # shared modes: a request without a signed-in user sees the login page only
    # Streamlit serves the default page at "/" only (its url_path is reserved but never served), so the
    # overview is the default at "/" and also a hidden page at /overview, for links and bookmarks.
    page = st.navigation(
        [
            st.Page(PAGES / "overview.py", title="Overview", icon=":material/insights:", url_path="home", default=True),
            st.Page(PAGES / "overview.py", title="Overview", url_path="overview", visibility="hidden"),
            st.Page(PAGES / "sectors.py", title="Sectors", icon=":material/grid_view:", url_path="sectors"),
            st.Page(PAGES / "scenarios.py", title="Scenarios", icon=":material/tune:", url_path="scenarios"),
            st.Page(PAGES / "quality.py", title="Model quality", icon=":material/verified:", url_path="quality"),
            st.Page(PAGES / "data_sources.py", title="Data", icon=":material/database:", url_path="data"),
            st.Page(PAGES / "exports.py", title="Exports", icon=":material/download:", url_path="exports"),
        ]
    )
    with widgets.guarded():
        ctx = widgets.context()
        widgets.scenario_picker(ctx)
        widgets.threshold_picker()
        widgets.definition_picker(ctx)
        widgets.sidebar_status(ctx)
    page.run()
