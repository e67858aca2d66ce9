"""Plotly figures for the dashboard: frames in, figures out (no Streamlit, no database).

Money is drawn in billions of US dollars; training is always blue and inference always orange
(:mod:`forecasting.ui.theme`). :mod:`.marks` holds the pieces every chart shares, :mod:`.spend` the
spend-over-time charts and :mod:`.compare` the comparisons of scenarios, drivers, runs and models.
"""

from .compare import crossover_heatmap, metric_bars, probability_chart, scenario_overlay, tornado_chart, vintage_chart
from .crossover import budget_chart, call_chart, definition_chart, distribution_chart
from .marks import BILLION, MARKER_METRICS, marker_frame
from .spend import Y_SCALES, annual_chart, share_chart, small_multiples, spend_fan

__all__ = [
    "BILLION",
    "MARKER_METRICS",
    "Y_SCALES",
    "annual_chart",
    "budget_chart",
    "call_chart",
    "crossover_heatmap",
    "definition_chart",
    "distribution_chart",
    "marker_frame",
    "metric_bars",
    "probability_chart",
    "scenario_overlay",
    "share_chart",
    "small_multiples",
    "spend_fan",
    "tornado_chart",
    "vintage_chart",
]
