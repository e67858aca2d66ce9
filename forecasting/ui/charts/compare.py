"""Comparisons: crossover probability by date, scenarios side by side, driver tornado, runs and backtests."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from ... import quarters
from .. import theme
from .marks import BILLION


def probability_chart(
    prob: pd.DataFrame, labels: Mapping[str, str], title: str | None = None, height: int = 360
) -> go.Figure:
    """Probability that inference has overtaken training by the end of each quarter, one line per key in ``labels``.

    ``prob`` is ``reports.tables.probability_rows`` output; each point sits at its quarter's last day.
    """
    fig = go.Figure()
    for i, (key, label) in enumerate(labels.items()):
        p = prob[prob["sector"] == key]
        n = len(theme.SERIES_COLOURS)
        dash = ("solid", "dash", "dot", "dashdot")[i // n % 4]
        fig.add_trace(
            go.Scatter(
                x=p["crossed_by"],
                y=p["probability"] * 100,
                name=label,
                mode="lines",
                line=dict(color=theme.SERIES_COLOURS[i % n], width=2, dash=dash),
                hovertemplate=f"{label}: %{{y:.0f}}%<extra></extra>",
            )
        )
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return theme.style(fig, height=height, title=title, yaxis_title="Probability crossed by the quarter's end")


def scenario_overlay(fans: Mapping[str, pd.DataFrame], title: str | None = None, height: int = 420) -> go.Figure:
    """P50 training (dotted) and inference (solid) of several scenarios, one colour per scenario."""
    fig = go.Figure()
    for i, (name, fan) in enumerate(fans.items()):
        colour = theme.SERIES_COLOURS[i % len(theme.SERIES_COLOURS)]
        for w, dash in (("inference", "solid"), ("training", "dot")):
            f = fan[fan["workload"] == w]
            fig.add_trace(
                go.Scatter(
                    x=f["ds"],
                    y=f["p50"] / BILLION,
                    name=f"{name}: {w}",
                    legendgroup=name,
                    line=dict(color=colour, width=2.5 if w == "inference" else 1.8, dash=dash),
                    hovertemplate=f"{name} {w}: $%{{y:.2f}}bn<extra></extra>",
                )
            )
    return theme.style(fig, height=height, title=title, yaxis_title="USD billion per quarter (P50)")


def tornado_chart(frame: pd.DataFrame, origin: pd.Timestamp, title: str | None = None) -> go.Figure:
    """Horizontal bars: P50 crossover at each driver's low and high end, relative to the scenario's P50.

    Args:
        frame: ``sensitivity.TORNADO_COLUMNS``.
        origin: the scenario's own P50 date (the bars' zero); ``None`` dates mean beyond the horizon.
    """
    f = frame.iloc[::-1]

    def offset(d: pd.Series) -> list[float | None]:
        return [quarters.shift(origin, x) for x in d]

    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=f["label"],
            x=offset(f["p50_low"]),
            orientation="h",
            name="Driver at its minimum",
            marker_color=theme.TRAINING,
            customdata=[quarters.text(x) for x in f["p50_low"]],
            hovertemplate="%{y} at minimum: P50 %{customdata} (%{x:+.1f} quarters)<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=f["label"],
            x=offset(f["p50_high"]),
            orientation="h",
            name="Driver at its maximum",
            marker_color=theme.INFERENCE,
            customdata=[quarters.text(x) for x in f["p50_high"]],
            hovertemplate="%{y} at maximum: P50 %{customdata} (%{x:+.1f} quarters)<extra></extra>",
        )
    )
    fig.update_layout(barmode="overlay")
    fig.add_shape(
        type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain", line=dict(color=theme.NEUTRAL, width=1)
    )
    theme.style(fig, height=120 + 36 * len(f), title=title)
    fig.update_xaxes(title_text=f"Quarters from the scenario's P50 ({quarters.text(origin)})")
    fig.update_layout(hovermode="closest")
    return fig


def vintage_chart(history: pd.DataFrame, title: str | None = None, height: int = 360) -> go.Figure:
    """The P50 crossover (P10-P90 bars) of every run against its creation time."""
    fig = go.Figure()
    for i, (sector, g) in enumerate(history.groupby("sector", sort=False)):
        colour = theme.SERIES_COLOURS[i % len(theme.SERIES_COLOURS)]
        mid = g["p50"].fillna(g["crossed_at"])
        up = [(b - m).days if pd.notna(b) and pd.notna(m) else 0 for b, m in zip(g["p90"], mid, strict=True)]
        down = [(m - a).days if pd.notna(a) and pd.notna(m) else 0 for a, m in zip(g["p10"], mid, strict=True)]
        fig.add_trace(
            go.Scatter(
                x=g["created_at"],
                y=mid,
                mode="lines+markers",
                name=theme.sector_label(sector),
                line=dict(color=colour),
                customdata=g["run_id"],
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[u * 86_400_000 for u in up],
                    arrayminus=[d * 86_400_000 for d in down],
                    color=colour,
                ),
                hovertemplate="run %{customdata}<br>P50 %{y|%Y-%m-%d}<extra></extra>",
            )
        )
    fig.update_layout(hovermode="closest")
    return theme.style(fig, height=height, title=title, yaxis_title="Crossover date (P50, P10-P90 bars)")


def metric_bars(backtests: pd.DataFrame, metric: str, title: str | None = None) -> go.Figure:
    """One bar per series and model for a backtest metric; the chosen model's bar is outlined."""
    fig = go.Figure()
    for i, (model, g) in enumerate(backtests.groupby("model", sort=True)):
        chosen = g["chosen"].astype(bool) if "chosen" in g else pd.Series(False, index=g.index)
        fig.add_trace(
            go.Bar(
                x=g["unique_id"],
                y=g[metric],
                name=model,
                marker=dict(
                    color=theme.SERIES_COLOURS[i % len(theme.SERIES_COLOURS)],
                    line=dict(color="black", width=[2.5 if c else 0 for c in chosen]),
                ),
                hovertemplate=f"%{{x}} · {model}: %{{y:.3f}}<extra></extra>",
            )
        )
    theme.style(fig, height=420, title=title, yaxis_title=metric)
    # Series names are long: slanted ticks, and the legend above the plot instead of under it.
    fig.update_layout(
        barmode="group",
        hovermode="closest",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    fig.update_xaxes(tickangle=-35)
    return fig
