"""Spend over time: the quarterly fan, calendar years, the inference share and one panel per sector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ... import quarters
from ...config import WORKLOADS
from ...crossover import CROSSED_IN_HISTORY, Crossover
from .. import theme
from .marks import BILLION, FAN_BANDS, band, crossover_marks, forecast_starts, log_scale, published_markers, year_marks


def _line_mode(points: int) -> str:
    """A history trace's Plotly mode: a line, with a marker when it has one point (a lone point's line is invisible).

    An imported sector may have a single quarter of history; drawn as ``lines`` it would not show at all.
    """
    return "lines" if points > 1 else "lines+markers"


def spend_fan(
    history: pd.DataFrame,
    fan: pd.DataFrame,
    *,
    crossover: Crossover | None = None,
    markers: pd.DataFrame | None = None,
    title: str | None = None,
    height: int = 460,
    log_y: bool = False,
) -> go.Figure:
    """Quarterly training and inference spend: history, P50 forecast, 80% and 95% bands, crossover.

    Args:
        history: ``ds, training, inference`` in USD.
        fan: ``figures.FAN_COLUMNS`` in USD.
        markers: published figures (``marker_frame``) drawn as quarterly averages.
    """
    fig = go.Figure()
    for w in WORKLOADS:
        _workload_fan(fig, history, fan[fan["workload"] == w], w)
    if markers is not None and len(markers):
        if len(history):  # published totals compare with training + inference
            _observed_total(fig, history)
        published_markers(fig, markers, quarterly=True)
    crossover_marks(fig, crossover)
    forecast_starts(fig, fan)
    if log_y:
        log_scale(fig)
    label = "USD bn per quarter" + (" (log)" if log_y else "")
    return theme.style(fig, height=height, title=title, yaxis_title=label, legend_rows=3)


def _workload_fan(fig: go.Figure, history: pd.DataFrame, f: pd.DataFrame, w: str) -> None:
    """One workload of the fan chart: its 95% and 80% bands, observed line and P50 forecast line."""
    colour = theme.WORKLOAD_COLOURS[w]
    name = w.capitalize()
    if len(f):
        for lo, hi, alpha, level in FAN_BANDS:
            band(fig, f["ds"], f[lo] / BILLION, f[hi] / BILLION, colour, alpha, f"{name} {level}", w, show=False)
    if len(history):
        fig.add_trace(
            go.Scatter(
                x=history["ds"],
                y=history[w] / BILLION,
                name=name,
                legendgroup=w,
                mode=_line_mode(len(history)),
                line=dict(color=colour, width=2.5),
                hovertemplate=f"{name}: $%{{y:.2f}}bn<extra></extra>",
            )
        )
    if len(f):
        _forecast_line(fig, history, f, w)


def _forecast_line(fig: go.Figure, history: pd.DataFrame, f: pd.DataFrame, w: str) -> None:
    """A workload's dashed P50 forecast, joined to the last observed quarter so the line has no gap."""
    colour = theme.WORKLOAD_COLOURS[w]
    name = w.capitalize()
    joint = history.tail(1) if len(history) else history
    x = list(joint["ds"]) + list(f["ds"])
    y = list(joint[w] / BILLION) + list(f["p50"] / BILLION)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            name=f"{name} forecast (P50, 80%/95% bands)",
            legendgroup=w,
            mode="lines",
            showlegend=True,
            line=dict(color=colour, width=2.5, dash="dash"),
            hovertemplate=f"{name} P50: $%{{y:.2f}}bn<extra></extra>",
        )
    )


def _observed_total(fig: go.Figure, history: pd.DataFrame) -> None:
    """History of training + inference as a thin dotted line, to compare with published totals."""
    fig.add_trace(
        go.Scatter(
            x=history["ds"],
            y=(history["training"] + history["inference"]) / BILLION,
            name="Total, history",
            mode="lines",
            line=dict(color=theme.NEUTRAL, width=1.2, dash="dot"),
            hovertemplate="Total: $%{y:.2f}bn<extra></extra>",
        )
    )


def annual_chart(
    annual: pd.DataFrame,
    markers: pd.DataFrame | None = None,
    title: str | None = None,
    height: int = 420,
    log_y: bool = False,
    crossover: Crossover | None = None,
) -> go.Figure:
    """Calendar-year spend per workload and their total, published annual figures, the crossover's year mark."""
    fig = go.Figure()
    total = annual.groupby("year")[["p50"]].sum().reset_index()
    for w in WORKLOADS:
        a = annual[annual["workload"] == w]
        colour = theme.WORKLOAD_COLOURS[w]
        fut = a[~a["observed"]]
        fig.add_trace(
            go.Scatter(
                x=a["year"],
                y=a["p50"] / BILLION,
                name=w.capitalize(),
                mode="lines+markers",
                line=dict(color=colour, width=2.5),
                legendgroup=w,
                error_y=dict(
                    type="data",
                    symmetric=False,
                    color=colour,
                    array=list((a["p90"] - a["p50"]) / BILLION),
                    arrayminus=list((a["p50"] - a["p10"]) / BILLION),
                )
                if len(fut)
                else None,
                hovertemplate=f"{w.capitalize()} %{{x}}: $%{{y:.2f}}bn<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=total["year"],
            y=total["p50"] / BILLION,
            name="Total (sum of medians)",
            line=dict(color=theme.NEUTRAL, width=1.5, dash="dot"),
            hovertemplate="Total %{x}: $%{y:.2f}bn<extra></extra>",
        )
    )
    if markers is not None and len(markers):
        published_markers(fig, markers, quarterly=False)
    fig.update_xaxes(dtick=1)
    if crossover is not None:
        year_marks(fig, crossover)
    if log_y:
        log_scale(fig)
    theme.style(fig, height=height, title=title, yaxis_title="USD bn per year (P50, 80% bars)", legend_rows=2)
    return fig.update_xaxes(hoverformat="d")


def share_chart(
    history: pd.DataFrame,
    share: pd.DataFrame,
    crossover: Crossover | None = None,
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Inference share of spend: observed, P50 forecast with 80%/95% bands, and the crossover's share line.

    The line sits at 50%, or at ``t / (1 + t)`` when ``crossover`` uses threshold ``t``.
    """
    fig = go.Figure()
    if len(share):
        _share_forecast(fig, history, share)
    if len(history):
        fig.add_trace(
            go.Scatter(
                x=history["ds"],
                y=history["share"] * 100,
                name="History",
                mode=_line_mode(len(history)),
                line=dict(color=theme.INFERENCE, width=2.5),
                hovertemplate="Share: %{y:.1f}%<extra></extra>",
            )
        )
    _share_level(fig, crossover.threshold if crossover is not None else 1.0)
    crossover_marks(fig, crossover)
    forecast_starts(fig, share)
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return theme.style(fig, height=height, title=title, yaxis_title="Inference share of spend")


def _share_forecast(fig: go.Figure, history: pd.DataFrame, share: pd.DataFrame) -> None:
    """The share's 95% and 80% bands and its dashed P50, joined to the last observed quarter."""
    for lo, hi, alpha, level in FAN_BANDS:
        band(fig, share["ds"], share[lo] * 100, share[hi] * 100, theme.INFERENCE, alpha, f"{level} band", "share")
    joint = history.tail(1)
    fig.add_trace(
        go.Scatter(
            x=list(joint["ds"]) + list(share["ds"]),
            y=list(joint["share"] * 100) + list(share["p50"] * 100),
            name="Forecast P50",
            mode="lines",
            line=dict(color=theme.INFERENCE, width=2.5, dash="dash"),
            hovertemplate="P50 share: %{y:.1f}%<extra></extra>",
        )
    )


def _share_level(fig: go.Figure, t: float) -> None:
    """A dotted line at the share where inference reaches ``t`` x training, labelled at its right end."""
    # Inference reaches t x training exactly when its share reaches t / (1 + t): 50% for the crossover itself.
    level = 100 * t / (1 + t)
    note = "50%: crossover" if t == 1.0 else f"{level:.0f}%: inference {t:g}× training"
    fig.add_shape(
        type="line",
        x0=0,
        x1=1,
        xref="x domain",
        y0=level,
        y1=level,
        yref="y",
        line=dict(color=theme.NEUTRAL, width=1, dash="dot"),
    )
    fig.add_annotation(
        x=1,
        xref="x domain",
        y=level,
        yref="y",
        text=note,
        showarrow=False,
        xanchor="right",
        yanchor="top",
        font=dict(color=theme.NEUTRAL),
    )


def small_multiples(
    history: pd.DataFrame,
    fans: pd.DataFrame,
    sectors: Sequence[str],
    crossovers: Mapping[str, Crossover],
    columns: int = 2,
    y_scale: str = "shared",
) -> go.Figure:
    """One panel per sector: history, P50 forecast and 80% band per workload, crossover P50.

    ``y_scale``: ``shared`` (one linear scale, sectors compare by height), ``log`` (one log scale: history
    and forecast both readable, equal growth looks parallel) or ``own`` (each panel its own linear scale).
    """
    if y_scale not in Y_SCALES:
        raise ValueError(f"unknown y_scale '{y_scale}'; choose one of {list(Y_SCALES)}")
    rows = max(1, -(-len(sectors) // columns))
    cols = min(columns, max(1, len(sectors)))
    titles = [f"{_panel_label(s)}: {_short_crossover(crossovers.get(s))}" for s in sectors]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        shared_xaxes=True,
        shared_yaxes="all" if y_scale != "own" else False,
        vertical_spacing=0.32 / rows,
        horizontal_spacing=0.08,
    )
    for i, s in enumerate(sectors):
        where = dict(row=i // cols + 1, col=i % cols + 1)
        h = history[history["sector"] == s]
        f = fans[fans["sector"] == s]
        for w in WORKLOADS:
            _panel_workload(fig, h, f[f["workload"] == w], w, i == 0, **where)
        crossover_marks(fig, crossovers.get(s), axis=i + 1, labels=False)
    fig.update_annotations(font_size=12)
    theme.style(fig, height=max(320, 240 * rows))
    fig.update_yaxes(ticksuffix="bn", tickprefix="$", showticklabels=True)
    if y_scale == "log":
        log_scale(fig)
    fig.update_layout(hovermode="x unified")
    return fig


#: How the small multiples share their y axes.
Y_SCALES = {"shared": "One scale", "log": "One log scale", "own": "Each its own"}


def _panel_workload(fig: go.Figure, h: pd.DataFrame, fw: pd.DataFrame, w: str, legend: bool, **where: int) -> None:
    """One workload in one sector's panel: 80% band, observed line and P50 forecast (``legend``: list it once)."""
    colour = theme.WORKLOAD_COLOURS[w]
    band(
        fig,
        fw["ds"],
        fw["p10"] / BILLION,
        fw["p90"] / BILLION,
        colour,
        theme.BAND_80_ALPHA,
        f"{w.capitalize()} 80%",
        w,
        show=False,
        **where,
    )
    fig.add_trace(
        go.Scatter(
            x=h["ds"],
            y=h[w] / BILLION,
            line=dict(color=colour, width=2),
            mode=_line_mode(len(h)),
            name=w.capitalize(),
            legendgroup=w,
            showlegend=legend,
            hovertemplate=f"{w}: $%{{y:.2f}}bn<extra></extra>",
        ),
        **where,
    )
    fig.add_trace(
        go.Scatter(
            x=fw["ds"],
            y=fw["p50"] / BILLION,
            mode="lines",
            line=dict(color=colour, width=2, dash="dash"),
            name=f"{w.capitalize()} P50",
            legendgroup=w,
            showlegend=False,
            hovertemplate=f"{w} P50: $%{{y:.2f}}bn<extra></extra>",
        ),
        **where,
    )


#: The most characters of a sector's name a panel title shows (three panels a row leave about 40 for the title).
PANEL_LABEL_CHARS = 24


def _panel_label(sector: str) -> str:
    """The sector's label for a panel title, cut with an ellipsis when long (an imported name may have 100 characters).

    Plotly does not wrap or clip subplot titles: a long one runs over its neighbours and off the figure.
    """
    label = theme.sector_label(sector)
    return label if len(label) <= PANEL_LABEL_CHARS else label[: PANEL_LABEL_CHARS - 1].rstrip() + "…"


def _short_crossover(c: Crossover | None) -> str:
    """A panel title's few words on the crossover: observed quarter, P50 quarter or chance within the horizon."""
    if c is None:
        return "no forecast"
    if c.state == CROSSED_IN_HISTORY:
        return f"crossed {quarters.text(c.crossed_at)}"
    return f"P50 {quarters.text(c.p50)}" if c.p50 is not None else f"{c.prob_within_horizon:.0%} cross in horizon"
