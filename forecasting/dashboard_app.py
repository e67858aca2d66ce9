"""The entry script ``forecasting dashboard`` hands to Streamlit (the installed twin of the repository's ``app.py``).

It sits outside ``forecasting/ui/`` on purpose: Streamlit would list a ``pages/`` folder next to
its main script as pages of its own, around the login gate of :func:`forecasting.ui.main.run`.
"""

from forecasting.ui.main import run

run()
