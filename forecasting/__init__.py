"""Crossover: forecast cloud AI spend by sector and workload, and when inference overtakes training.

The public Python API (documented in ``docs/api.md``)::

    from forecasting import open_db, latest_run, crossover_distribution, table, forecast_frame

It is imported on first use, so ``import forecasting`` stays light.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("crossover")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+source"

if TYPE_CHECKING:
    from .api import crossover_distribution, engine_frequency, forecast_frame, latest_run, open_db, table, view

__all__ = [
    "__version__",
    "crossover_distribution",
    "engine_frequency",
    "forecast_frame",
    "latest_run",
    "open_db",
    "table",
    "view",
]
#: The names ``from forecasting import ...`` offers (each lives in :mod:`forecasting.api`).
API = tuple(__all__[1:])


def __getattr__(name: str) -> Any:
    """The API functions, imported from :mod:`forecasting.api` on first use."""
    if name in API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'forecasting' has no attribute '{name}'")
