"""Comparisons: crossover probability by date, scenarios side by side, driver tornado, runs and backtests."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from ... import quarters
from ...config import TOTAL
from .. import theme
from ..words import EMPTY
from .marks import BILLION


def probability_chart(
    prob: pd.DataFrame, labels: Mapping[str, str], title: str | None = None, height: int = 360
) -> go.Figure:
    """Probability that inference has overtaken training by the end of each quarter, one line per key in ``labels``.

    ``prob`` is ``reports.tables.probability_rows`` output; each point sits at its quarter's last day. The
    total market is drawn first, grey and dotted, so a sector's line on top of it is never hidden.
    """
    fig = go.Figure()
    keys = sorted(labels, key=lambda k: k != TOTAL)
    for i, key in enumerate(k for k in keys if k != TOTAL):
        _probability_line(fig, prob, key, labels[key], theme.SERIES_COLOURS[i % len(theme.SERIES_COLOURS)], "solid")
    if TOTAL in labels:
        _probability_line(fig, prob, TOTAL, labels[TOTAL], theme.NEUTRAL, "dot", first=True)
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return theme.style(fig, height=height, title=title, yaxis_title="Probability crossed by the quarter's end")


def _probability_line(
    fig: go.Figure, prob: pd.DataFrame, key: str, label: str, colour: str, dash: str, first: bool = False
) -> None:
    p = prob[prob["sector"] == key]
    trace = go.Scatter(
        x=p["crossed_by"],
        y=p["probability"] * 100,
        name=label,
        mode="lines",
        line=dict(color=colour, width=3 if dash == "dot" else 2.2, dash=dash),
        hovertemplate=f"{label}: %{{y:.0f}}%<extra></extra>",
    )
    fig.add_trace(trace)
    if first:  # drawn under the others
        fig.data = (fig.data[-1], *fig.data[:-1])


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
            marker_color=theme.RANGE_LOW,
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
            marker_color=theme.RANGE_HIGH,
            customdata=[quarters.text(x) for x in f["p50_high"]],
            hovertemplate="%{y} at maximum: P50 %{customdata} (%{x:+.1f} quarters)<extra></extra>",
        )
    )
    fig.update_layout(barmode="overlay")
    fig.add_shape(
        type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain", line=dict(color=theme.NEUTRAL, width=1)
    )
    theme.style(fig, height=170 + 36 * len(f), title=title)
    fig.update_xaxes(title_text=f"Quarters from the P50 ({quarters.text(origin)})", showspikes=False)
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
                hovertemplate="run %{customdata}<br>P50 %{y|%Y Q%q}<extra></extra>",
            )
        )
    theme.style(fig, height=height, title=title, yaxis_title="Crossover (P50, P10-P90 bars)", legend_rows=2)
    fig.update_layout(hovermode="closest")
    # Runs are minutes to months apart: label days, and the minute on hover, never seconds' fractions.
    fig.update_xaxes(tickformat="%Y-%m-%d", hoverformat="%Y-%m-%d %H:%M", nticks=6, showspikes=False)
    fig.update_yaxes(tickformat="%Y", hoverformat=theme.QUARTER_FORMAT)
    return fig


def metric_bars(backtests: pd.DataFrame, metric: str, title: str | None = None) -> go.Figure:
    """One bar per series and model for a backtest metric; the chosen model's bar is outlined."""
    fig = go.Figure()
    models = sorted(backtests["model"].unique())
    n = len(theme.SERIES_COLOURS)
    for i, model in enumerate(models):
        g = backtests[backtests["model"] == model]
        chosen = g["chosen"].astype(bool) if "chosen" in g else pd.Series(False, index=g.index)
        fig.add_trace(
            go.Bar(
                x=g["unique_id"],
                y=g[metric],
                name=model,
                marker=dict(
                    color=theme.SERIES_COLOURS[i % n],
                    # More models than colours: a hatch tells the repeats apart.
                    pattern=dict(shape=("", "/", "x", ".")[i // n % 4]),
                    line=dict(color="black", width=[2.5 if c else 0 for c in chosen]),
                ),
                hovertemplate=f"%{{x}} · {model}: %{{y:.3f}}<extra></extra>",
            )
        )
    theme.style(fig, height=520, title=title, yaxis_title=f"{metric} (log scale)", legend_rows=2 + len(models) // 8)
    # Scores span orders of magnitude: a log axis shows every bar whole instead of cutting the tall ones.
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_yaxes(type="log")
    fig.update_xaxes(tickangle=-35, showspikes=False)
    return fig


def crossover_heatmap(compared: pd.DataFrame, order: list[str], title: str | None = None) -> go.Figure:
    """Sectors (rows) by scenarios (columns): the P50 crossover quarter in each cell, P10-P90 width on hover.

    Args:
        compared: ``reports.compare_scenarios`` output (sector, scenario, state, p10, p50, p90, shift_quarters).
        order: the sectors top to bottom (ids).
    """
    scenarios = list(dict.fromkeys(compared["scenario"]))
    cells = compared.set_index(["sector", "scenario"])
    origin = pd.to_datetime(compared["p50"]).min()
    z, text, hover = [], [], []
    for sector in order:
        zr, tr, hr = [], [], []
        for name in scenarios:
            r = cells.loc[(sector, name)] if (sector, name) in cells.index else None
            p50 = None if r is None or pd.isna(r["p50"]) else pd.Timestamp(r["p50"])
            zr.append(None if p50 is None or pd.isna(origin) else quarters.shift(origin, p50))
            tr.append(quarters.text(p50) if p50 is not None else EMPTY)
            hr.append(_cell_hover(r))
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=scenarios,
            y=[theme.sector_label(s) for s in order],
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{y} · %{x}<br>%{customdata}<extra></extra>",
            colorscale="Greens",
            reversescale=True,
            colorbar=dict(title=dict(text="quarters after<br>the earliest"), thickness=12),
        )
    )
    theme.style(fig, height=120 + 34 * len(order), title=title)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top", showspikes=False)
    fig.update_layout(hovermode="closest")
    return fig


def _cell_hover(r: pd.Series | None) -> str:
    """A heat-map cell's hover: the P50, the 80% range and its width in quarters."""
    if r is None:
        return "not compared"
    p10, p50, p90 = (None if pd.isna(r[c]) else pd.Timestamp(r[c]) for c in ("p10", "p50", "p90"))
    width = quarters.shift(p10, p90) if p10 is not None and p90 is not None else None
    wide = f"{width:.1f} quarters wide" if width is not None else "open-ended: P90 beyond the horizon"
    return f"P50 {quarters.text(p50)}<br>80% range {quarters.text(p10)} to {quarters.text(p90)} ({wide})"
