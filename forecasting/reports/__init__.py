"""Reports: every number a user sees, computed once for the CLI, the dashboard and the exports.

* :mod:`~forecasting.reports.view`: a stored run under a scenario at a crossover threshold;
* :mod:`~forecasting.reports.tables`: the tables of a view (crossover, probability by quarter,
  forecasts under the scenario, history, backtests, drivers, tornado), one function each;
* :mod:`~forecasting.reports.compare`: scenarios side by side, vintages compared, goal-seek;
* :mod:`~forecasting.reports.figures`: fans, shares and calendar years from sample paths.

Writing files is :mod:`forecasting.export`'s job; drawing them is the dashboard's.
"""

from .compare import compare_runs, compare_saved, compare_scenarios, goal_seek_view
from .tables import KINDS, TABLES, THRESHOLD_KINDS, table
from .view import View, open_view

__all__ = [
    "KINDS",
    "TABLES",
    "THRESHOLD_KINDS",
    "View",
    "compare_runs",
    "compare_saved",
    "compare_scenarios",
    "goal_seek_view",
    "open_view",
    "table",
]
