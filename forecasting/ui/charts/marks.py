"""Pieces every chart shares: filled bands, vertical lines, crossover marks and published-figure markers."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ... import quarters
from ...crossover import CROSSED_IN_HISTORY, Crossover
from .. import theme

BILLION = 1e9
#: Published figures drawn on the total-market chart: metric -> the workload line they belong to.
MARKER_METRICS = {"ai_optimized_iaas_spend": "total", "ai_optimized_iaas_inference_spend": "inference"}
#: A fan's two bands, widest first: low and high quantile column, fill alpha, label.
FAN_BANDS = (("p025", "p975", theme.BAND_95_ALPHA, "95%"), ("p10", "p90", theme.BAND_80_ALPHA, "80%"))


def band(
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


def axis_refs(axis: int) -> tuple[str, str]:
    """Plotly's x and y axis names of subplot number ``axis`` (1-based, row-major)."""
    suffix = "" if axis == 1 else str(axis)
    return f"x{suffix}", f"y{suffix}"


def vline(fig: go.Figure, x: pd.Timestamp | float, colour: str, dash: str, text: str | None, axis: int = 1) -> None:
    """A vertical line over the whole plot height, with an optional label at its top.

    Explicit shapes: ``add_vline`` re-checks every axis and costs ~30 ms per call.
    """
    _vertical(fig, x, dict(color=colour, width=2, dash=dash), axis)
    if text:
        _label(fig, x, text, colour, axis, top=True)


def _vertical(fig: go.Figure, x: pd.Timestamp | float, line: dict[str, object], axis: int) -> None:
    xref, yref = axis_refs(axis)
    fig.add_shape(type="line", x0=x, x1=x, xref=xref, y0=0, y1=1, yref=f"{yref} domain", line=line)


def _label(fig: go.Figure, x: pd.Timestamp | float, text: str, colour: str, axis: int, *, top: bool) -> None:
    """A label beside a vertical line: at its top, left of it; or at its foot, right of it (small)."""
    xref, yref = axis_refs(axis)
    fig.add_annotation(
        x=x,
        xref=xref,
        y=1 if top else 0,
        yref=f"{yref} domain",
        text=text,
        showarrow=False,
        xanchor="right" if top else "left",
        yanchor="top" if top else "bottom",
        font=dict(color=colour) if top else dict(color=colour, size=11),
    )


def crossover_marks(fig: go.Figure, c: Crossover | None, axis: int = 1, labels: bool = True) -> None:
    """A vertical line at the P50 crossover with its P10-P90 band, or at the observed crossing."""
    if c is None:
        return
    certain = c.p10 is not None and c.p90 is not None and c.p10 == c.p90
    if c.state == CROSSED_IN_HISTORY and c.crossed_at is not None and certain:  # a crossing in observed history
        vline(
            fig,
            c.crossed_at,
            theme.CROSSOVER,
            "dot",
            f"crossed {quarters.text(c.crossed_at)}" if labels else None,
            axis,
        )
        return
    if c.p10 is not None and c.p90 is not None:
        xref, yref = axis_refs(axis)
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
        # Short enough for a phone; the shaded band (P10-P90) is explained under the chart and on hover.
        text = f"P50 crossover {quarters.text(c.p50)}" if labels else None
        vline(fig, c.p50, theme.CROSSOVER, "dash", text, axis)


def forecast_starts(fig: go.Figure, fan: pd.DataFrame, axis: int = 1) -> None:
    """A thin grey line where the forecast starts (its first quarter), labelled at the foot."""
    if not len(fan):
        return
    start = pd.Timestamp(fan["ds"].min())
    _vertical(fig, start, dict(color=theme.FORECAST_START, width=1, dash="dot"), axis)
    _label(fig, start, "forecast →", theme.FORECAST_START, axis, top=False)


def decimal_year(when: pd.Timestamp) -> float:
    """A date as a fractional calendar year (2027-07-01 -> about 2027.5), for charts whose x axis is the year."""
    start = pd.Timestamp(when.year, 1, 1)
    return when.year + (when - start).days / (pd.Timestamp(when.year + 1, 1, 1) - start).days


def year_marks(fig: go.Figure, c: Crossover) -> None:
    """The crossover on a calendar-year axis: its P10-P90 band and a dashed line at the P50 (or the crossing)."""
    at = c.crossed_at if c.state == CROSSED_IN_HISTORY and c.crossed_at is not None else c.p50
    if c.p10 is not None and c.p90 is not None:
        fig.add_shape(
            type="rect",
            x0=decimal_year(c.p10) - 0.5,
            x1=decimal_year(c.p90) - 0.5,
            y0=0,
            y1=1,
            yref="y domain",
            fillcolor=theme.rgba(theme.CROSSOVER, 0.12),
            line_width=0,
            layer="below",
        )
    if at is not None:
        # Year y sits at the middle of its tick: a date in year y lies between y - 0.5 and y + 0.5.
        vline(fig, decimal_year(at) - 0.5, theme.CROSSOVER, "dash", f"P50 crossover {quarters.text(at)}")


def marker_frame(estimates: pd.DataFrame) -> pd.DataFrame:
    """Published total-market figures to mark on spend charts: year, line, value (USD bn), source fields."""
    keep = estimates[
        estimates["metric"].isin(MARKER_METRICS) & (estimates["unit"] == "usd_billion") & estimates["year"].notna()
    ].copy()
    keep["line"] = keep["metric"].map(MARKER_METRICS)
    keep["year"] = keep["year"].astype(int)
    cols = ["estimate_id", "metric", "line", "year", "value", "kind", "publisher", "title", "source_date", "url"]
    return keep[cols].sort_values(["line", "year"]).reset_index(drop=True)


def published_markers(fig: go.Figure, markers: pd.DataFrame, *, quarterly: bool) -> None:
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


def log_scale(fig: go.Figure) -> None:
    """A log y axis labelled at powers of ten only ("2, 5" minor labels clutter)."""
    fig.update_yaxes(type="log", dtick=1)
