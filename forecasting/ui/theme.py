"""Colours, labels and Plotly layout shared by every chart, so each page looks the same."""

from __future__ import annotations

import plotly.graph_objects as go

from ..config import sector_label as sector_label  # defined beside the sectors; the pages name it theme.sector_label

#: Okabe-Ito colours (safe for the common colour-vision deficiencies), one per workload.
TRAINING = "#0072B2"  # blue
INFERENCE = "#E69F00"  # orange
WORKLOAD_COLOURS = {"training": TRAINING, "inference": INFERENCE}
#: Crossover marks and bands (Okabe-Ito bluish green) and published figures (vermillion).
CROSSOVER = "#009E73"
PUBLISHED = "#D55E00"
NEUTRAL = "#555555"
#: Colours for scenarios, sectors, runs and models side by side: Okabe-Ito without the workloads' blue and
#: orange (those always mean training and inference), then darker and lighter tones of the same hues.
SERIES_COLOURS = (
    "#CC79A7",  # reddish purple
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#DDCC77",  # sand (not black: black outlines the chosen model's bar)
    "#56B4E9",  # sky blue
    "#8C564B",  # brown
    "#7F7F7F",  # grey
    "#BCBD22",  # olive
    "#882255",  # wine
    "#117733",  # dark green
    "#AA4499",  # purple
    "#44AA99",  # teal
    "#999933",  # khaki
    "#332288",  # indigo
)
#: A driver at the low and at the high end of its range (tornado): neither training blue nor inference orange.
RANGE_LOW = "#CC79A7"
RANGE_HIGH = "#555555"
#: Dates on hover as quarters (d3's ``%q`` is the quarter), never as days.
QUARTER_FORMAT = "%Y Q%q"
#: The line where the forecast starts.
FORECAST_START = "#7F7F7F"

#: Fill opacity of the 95% and 80% bands of a fan chart.
BAND_95_ALPHA = 0.15
BAND_80_ALPHA = 0.30

PROVENANCE_LABELS = {
    "published": "Published",
    "derived": "Derived",
    "modelled": "Modelled",
    "user": "User-imported",
}


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` and an opacity as a CSS ``rgba(...)`` string."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a #RRGGBB colour, got {hex_colour!r}")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


#: Pixels kept above the title for Plotly's toolbar, so that on a narrow screen it never covers the title.
TOOLBAR_SPACE = 34


#: Titles longer than this are split at their colon into a title and a subtitle (Plotly does not wrap titles).
TITLE_CHARS = 34


def _split_title(title: str | None) -> tuple[str | None, str | None]:
    """``"Total market: history, forecast"`` -> (``"Total market"``, ``"history, forecast"``); short titles stay."""
    if not title or len(title) <= TITLE_CHARS or ": " not in title:
        return title, None
    head, sub = title.split(": ", 1)
    return head, sub


def style(
    fig: go.Figure,
    *,
    height: int = 420,
    title: str | None = None,
    yaxis_title: str | None = None,
    legend_rows: int = 1,
) -> go.Figure:
    """Apply the house layout: white background, legend under the axis title, toolbar above the title, crosshair.

    The legend is placed in container coordinates at the bottom, below the x axis and its title, so it
    never overlaps them; ``legend_rows`` reserves room for a legend that wraps.
    """
    # No template here: Streamlit applies its own theme, and naming a template costs ~0.1 s per figure.
    bottom = 56 + 24 * legend_rows
    head, sub = _split_title(title)
    fig.update_layout(
        height=height,
        title=dict(
            text=head,
            subtitle=dict(text=sub, font=dict(size=13, color=NEUTRAL)),
            x=0,
            xanchor="left",
            y=1,
            yref="container",
            yanchor="top",
            pad=dict(t=TOOLBAR_SPACE, l=4),
        )
        if head
        else None,
        margin=dict(l=10, r=10, t=TOOLBAR_SPACE + (34 if head else 8) + (26 if sub else 0), b=bottom),
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", xanchor="left", x=0),
        hovermode="x unified",
        font=dict(size=13),
    )
    # A crosshair: a thin vertical line across the plot at the cursor, with every series' value in the label.
    fig.update_xaxes(showspikes=True, spikemode="across", spikesnap="cursor", spikethickness=1, spikedash="dot")
    fig.update_xaxes(spikecolor=NEUTRAL, hoverformat=QUARTER_FORMAT)
    if yaxis_title:
        fig.update_yaxes(title_text=yaxis_title)
    return fig
