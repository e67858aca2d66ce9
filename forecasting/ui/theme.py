"""Colours, labels and Plotly layout shared by every chart, so each page looks the same."""

from __future__ import annotations

import plotly.graph_objects as go

from ..config import SECTORS, TOTAL, TOTAL_LABEL

#: Okabe-Ito colours (safe for the common colour-vision deficiencies), one per workload.
TRAINING = "#0072B2"  # blue
INFERENCE = "#E69F00"  # orange
WORKLOAD_COLOURS = {"training": TRAINING, "inference": INFERENCE}
#: Crossover marks and bands (Okabe-Ito bluish green) and published figures (vermillion).
CROSSOVER = "#009E73"
PUBLISHED = "#D55E00"
NEUTRAL = "#555555"
#: Further Okabe-Ito colours for comparing scenarios side by side.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")

#: Fill opacity of the 95% and 80% bands of a fan chart.
BAND_95_ALPHA = 0.15
BAND_80_ALPHA = 0.30

PROVENANCE_LABELS = {
    "published": "Published",
    "derived": "Derived",
    "modelled": "Modelled",
    "user": "User-imported",
}


def sector_label(sector: str) -> str:
    """Display name of a sector id (imported sectors show their id)."""
    return TOTAL_LABEL if sector == TOTAL else SECTORS.get(sector, sector.replace("_", " ").capitalize())


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` and an opacity as a CSS ``rgba(...)`` string."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a #RRGGBB colour, got {hex_colour!r}")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def style(fig: go.Figure, *, height: int = 420, title: str | None = None, yaxis_title: str | None = None) -> go.Figure:
    """Apply the house layout: white background, legend on top, compact margins, unified hover."""
    # No template here: Streamlit applies its own theme, and naming a template costs ~0.1 s per figure.
    fig.update_layout(
        height=height,
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)) if title else None,
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
        # Legend under the plot: on a narrow window a legend above it would cover the title.
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
        hovermode="x unified",
        font=dict(size=13),
    )
    if yaxis_title:
        fig.update_yaxes(title_text=yaxis_title)
    return fig
