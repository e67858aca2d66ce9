"""Plotly figures for the dashboard: frames in, figures out (no Streamlit, no database).

Money is drawn in billions of US dollars; training is always blue and inference always orange
(:mod:`forecasting.ui.theme`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import quarters
from ..config import WORKLOADS
from ..crossover import CROSSED_IN_HISTORY, Crossover
from . import theme

BILLION = 1e9
#: Published figures drawn on the total-market chart: metric -> the workload line they belong to.
MARKER_METRICS = {"ai_optimized_iaas_spend": "total", "ai_optimized_iaas_inference_spend": "inference"}


def _band(
    fig: go.Figure,
    x: pd.Series,
    lo: pd.Series,
    hi: pd.Series,
    colour: str,
    alpha: float,
    name: str,
    group: str,
    show: bool = True,
    **where: int,
) -> None:
    """A filled band between ``lo`` and ``hi`` (drawn as one closed polygon, so it hovers as one)."""
    xs = list(x) + list(x)[::-1]
    ys = list(lo) + list(hi)[::-1]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            fill="toself",
            fillcolor=theme.rgba(colour, alpha),
            line=dict(width=0),
            name=name,
            legendgroup=group,
            showlegend=show,
            hoverinfo="skip",
        ),
        **where,
    )


def _axis_refs(axis: int) -> tuple[str, str]:
    """Plotly's x and y axis names of subplot number ``axis`` (1-based, row-major)."""
    suffix = "" if axis == 1 else str(axis)
    return f"x{suffix}", f"y{suffix}"


def _vline(fig: go.Figure, x: pd.Timestamp, colour: str, dash: str, text: str | None, axis: int = 1) -> None:
    """A vertical line over the whole plot height, with an optional label at its top.

    Explicit shapes: ``add_vline`` re-checks every axis and costs ~30 ms per call.
    """
    xref, yref = _axis_refs(axis)
    fig.add_shape(
        type="line",
        x0=x,
        x1=x,
        xref=xref,
        y0=0,
        y1=1,
        yref=f"{yref} domain",
        line=dict(color=colour, width=2, dash=dash),
    )
    if text:
        fig.add_annotation(
            x=x,
            xref=xref,
            y=1,
            yref=f"{yref} domain",
            text=text,
            showarrow=False,
            xanchor="right",
            yanchor="top",
            font=dict(color=colour),
        )


def _crossover_marks(fig: go.Figure, c: Crossover | None, axis: int = 1, labels: bool = True) -> None:
    """A vertical line at the P50 crossover with its P10-P90 band, or at the observed crossing."""
    if c is None:
        return
    if c.state == CROSSED_IN_HISTORY and c.crossed_at is not None:
        _vline(
            fig,
            c.crossed_at,
            theme.CROSSOVER,
            "dot",
            f"crossed {quarters.text(c.crossed_at)}" if labels else None,
            axis,
        )
        return
    if c.p10 is not None and c.p90 is not None:
        xref, yref = _axis_refs(axis)
        fig.add_shape(
            type="rect",
            x0=c.p10,
            x1=c.p90,
            xref=xref,
            y0=0,
            y1=1,
            yref=f"{yref} domain",
            fillcolor=theme.rgba(theme.CROSSOVER, 0.12),
            line_width=0,
            layer="below",
        )
    if c.p50 is not None:
        text = f"P50 crossover {quarters.text(c.p50)} (band: P10-P90)" if labels else None
        _vline(fig, c.p50, theme.CROSSOVER, "dash", text, axis)


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
        colour = theme.WORKLOAD_COLOURS[w]
        f = fan[fan["workload"] == w]
        name = w.capitalize()
        if len(f):
            _band(
                fig,
                f["ds"],
                f["p025"] / BILLION,
                f["p975"] / BILLION,
                colour,
                theme.BAND_95_ALPHA,
                f"{name} 95%",
                w,
                show=False,
            )
            _band(
                fig,
                f["ds"],
                f["p10"] / BILLION,
                f["p90"] / BILLION,
                colour,
                theme.BAND_80_ALPHA,
                f"{name} 80%",
                w,
                show=False,
            )
        if len(history):
            fig.add_trace(
                go.Scatter(
                    x=history["ds"],
                    y=history[w] / BILLION,
                    name=name,
                    legendgroup=w,
                    mode="lines",
                    line=dict(color=colour, width=2.5),
                    hovertemplate=f"{name}: $%{{y:.2f}}bn<extra></extra>",
                )
            )
        if len(f):
            # Join the forecast to the last observed quarter so the line has no gap.
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
    if markers is not None and len(markers):
        if len(history):  # published totals compare with training + inference
            fig.add_trace(
                go.Scatter(
                    x=history["ds"],
                    y=(history["training"] + history["inference"]) / BILLION,
                    name="Total observed",
                    mode="lines",
                    line=dict(color=theme.NEUTRAL, width=1.2, dash="dot"),
                    hovertemplate="Total: $%{y:.2f}bn<extra></extra>",
                )
            )
        _markers(fig, markers, quarterly=True)
    _crossover_marks(fig, crossover)
    if log_y:
        fig.update_yaxes(type="log", dtick=1)  # label powers of ten only; "2, 5" minor labels clutter
    label = "USD billion per quarter" + (" (log scale)" if log_y else "")
    return theme.style(fig, height=height, title=title, yaxis_title=label)


def marker_frame(estimates: pd.DataFrame) -> pd.DataFrame:
    """Published total-market figures to mark on spend charts: year, line, value (USD bn), source fields."""
    keep = estimates[
        estimates["metric"].isin(MARKER_METRICS) & (estimates["unit"] == "usd_billion") & estimates["year"].notna()
    ].copy()
    keep["line"] = keep["metric"].map(MARKER_METRICS)
    keep["year"] = keep["year"].astype(int)
    cols = ["estimate_id", "metric", "line", "year", "value", "kind", "publisher", "title", "source_date", "url"]
    return keep[cols].sort_values(["line", "year"]).reset_index(drop=True)


def _markers(fig: go.Figure, markers: pd.DataFrame, *, quarterly: bool) -> None:
    """Published figures as markers: annual values (or a quarter's average of them) at mid-year."""
    for line, group in markers.groupby("line", sort=False):
        colour = theme.INFERENCE if line == "inference" else theme.PUBLISHED
        scale = 4.0 if quarterly else 1.0
        note = "annual figure / 4" if quarterly else "annual figure"
        text = [
            f"<b>{r.publisher}</b><br>{r.title}<br>{r.source_date or 'undated'} · {r.kind}<br>"
            f"{r.metric} {r.year}: ${r.value:g}bn ({note})<br>{r.url}"
            for r in group.itertuples()
        ]
        fig.add_trace(
            go.Scatter(
                x=[pd.Timestamp(int(y), 7, 1) if quarterly else int(y) for y in group["year"]],
                y=group["value"] / scale,
                mode="markers",
                marker=dict(
                    symbol="diamond" if line == "inference" else "square",
                    size=11,
                    color=colour,
                    line=dict(color="black", width=1),
                ),
                name=f"Published: {'inference' if line == 'inference' else 'total'} spend ({note})",
                text=text,
                hovertemplate="%{text}<extra></extra>",
            )
        )


def annual_chart(
    annual: pd.DataFrame,
    markers: pd.DataFrame | None = None,
    title: str | None = None,
    height: int = 420,
    log_y: bool = False,
) -> go.Figure:
    """Calendar-year spend per workload and their total, with published annual figures as markers."""
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
        _markers(fig, markers, quarterly=False)
    fig.update_xaxes(dtick=1)
    if log_y:
        fig.update_yaxes(type="log", dtick=1)  # label powers of ten only; "2, 5" minor labels clutter
    return theme.style(fig, height=height, title=title, yaxis_title="USD billion per year (P50, 80% bars)")


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
        _band(
            fig,
            share["ds"],
            share["p025"] * 100,
            share["p975"] * 100,
            theme.INFERENCE,
            theme.BAND_95_ALPHA,
            "95% band",
            "share",
        )
        _band(
            fig,
            share["ds"],
            share["p10"] * 100,
            share["p90"] * 100,
            theme.INFERENCE,
            theme.BAND_80_ALPHA,
            "80% band",
            "share",
        )
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
    if len(history):
        fig.add_trace(
            go.Scatter(
                x=history["ds"],
                y=history["share"] * 100,
                name="Observed",
                mode="lines",
                line=dict(color=theme.INFERENCE, width=2.5),
                hovertemplate="Share: %{y:.1f}%<extra></extra>",
            )
        )
    # Inference reaches t x training exactly when its share reaches t / (1 + t): 50% for the crossover itself.
    t = crossover.threshold if crossover is not None else 1.0
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
    _crossover_marks(fig, crossover)
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return theme.style(fig, height=height, title=title, yaxis_title="Inference share of spend")


def small_multiples(
    history: pd.DataFrame,
    fans: pd.DataFrame,
    sectors: Sequence[str],
    crossovers: Mapping[str, Crossover],
    columns: int = 2,
) -> go.Figure:
    """One panel per sector: history, P50 forecast and 80% band per workload, crossover P50."""
    rows = max(1, -(-len(sectors) // columns))
    cols = min(columns, max(1, len(sectors)))
    titles = [f"{theme.sector_label(s)}: {_short(crossovers.get(s))}" for s in sectors]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        shared_xaxes=True,
        vertical_spacing=0.32 / rows,
        horizontal_spacing=0.08,
    )
    for i, s in enumerate(sectors):
        where = dict(row=i // cols + 1, col=i % cols + 1)
        h = history[history["sector"] == s]
        f = fans[fans["sector"] == s]
        for w in WORKLOADS:
            colour = theme.WORKLOAD_COLOURS[w]
            fw = f[f["workload"] == w]
            _band(
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
                    mode="lines",
                    name=w.capitalize(),
                    legendgroup=w,
                    showlegend=i == 0,
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
        _crossover_marks(fig, crossovers.get(s), axis=i + 1, labels=False)
    fig.update_annotations(font_size=12)
    theme.style(fig, height=max(320, 240 * rows))
    fig.update_yaxes(ticksuffix="bn", tickprefix="$")
    fig.update_layout(hovermode="closest")
    return fig


def _short(c: Crossover | None) -> str:
    if c is None:
        return "no forecast"
    if c.state == CROSSED_IN_HISTORY:
        return f"crossed {quarters.text(c.crossed_at)}"
    return f"P50 {quarters.text(c.p50)}" if c.p50 is not None else f"{c.prob_within_horizon:.0%} cross in horizon"


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
        return [None if pd.isna(x) else round((pd.Timestamp(x) - origin).days / (365.25 / 4), 2) for x in d]

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
