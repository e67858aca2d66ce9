"""The Streamlit dashboard's helpers: cached readers, chart builders and page scripts.

``app.py`` (repository root) is the entry point and only wires pages together; each page script
in ``forecasting/ui/pages/`` lays out one page from the helpers here.  Modules here may import
``streamlit``; the rest of the package never does.
"""
