"""Crossover dashboard: when does cloud AI inference spend overtake training spend?

Run with ``streamlit run app.py``; the database is ``$CROSSOVER_DB`` (or ``crossover.duckdb`` in the
repository).  The dashboard itself lives in ``forecasting/ui/`` (:mod:`forecasting.ui.main` is its
table of contents); this file is only the entry point Streamlit runs.
"""

from forecasting.ui.main import run

run()
