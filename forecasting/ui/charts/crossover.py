"""The crossover as a distribution: its dates by definition beside published claims, the spread of
crossing dates, and the uncertainty budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ... import quarters
from ...budget import SOURCES
from ...crossover import Crossover
from ...share import publication_date
from .. import theme

#: Labels and colours of the budget's sources (Okabe-Ito, none of them blue or orange).
SOURCE_LABELS = {
    "share_curve": "Share curve",
    "definition": "Definition offset",
    "total_level": "Total spend level",
    "sector_split": "Sector split",
    "scenario": "Scenario ranges",
}
SOURCE_COLOURS = {
    "share_curve": "#009E73",
    "definition": "#CC79A7",
    "total_level": "#56B4E9",
    "sector_split": "#D55E00",
    "scenario": "#555555",
}
#: Row of the definition chart where claims on other definitions go.
OTHER_CLAIMS = "Other definitions (claims only)"


def definition_chart(spread: pd.DataFrame, claims: pd.DataFrame, title: str | None = None) -> go.Figure:
    """The total's crossover P10-P50-P90 per definition, with published crossover claims on the same axis.

    ``spread``: definition, label, p10, p50, p90 (``ui.data.definition_spread``); ``claims``:
    ``claims_all`` rows.  A claim with a crossover year is drawn at mid-year in its definition's row.
    """
    fig = go.Figure()
    rows = list(spread["label"])
    for r in spread.itertuples(index=False):
        if r.p10 is not None and r.p90 is not None and pd.notna(r.p10) and pd.notna(r.p90):
            fig.add_trace(
                go.Scatter(
                    x=[r.p10, r.p90],
                    y=[r.label, r.label],
                    mode="lines",
                    showlegend=False,
                    line=dict(color=theme.CROSSOVER, width=8),
                    hoverinfo="skip",
                )
            )
        if r.p50 is not None and pd.notna(r.p50):
            fig.add_trace(
                go.Scatter(
                    x=[r.p50],
                    y=[r.label],
                    mode="markers",
                    showlegend=False,
                    marker=dict(color="white", size=12, line=dict(color=theme.CROSSOVER, width=3)),
                    hovertemplate=f"{r.label}<br>P50 {quarters.text(r.p50)} (80% range {quarters.text(r.p10)} to "
                    f"{quarters.text(r.p90)})<extra></extra>",
                )
            )
    by_definition = dict(zip(spread["definition"], spread["label"], strict=True))
    dated = claims[claims["crossover_year"].notna()]
    if len(dated):
        label = [by_definition.get(d, OTHER_CLAIMS) for d in dated["definition"]]
        if OTHER_CLAIMS in label:
            rows.append(OTHER_CLAIMS)
        text = [
            f"<b>{r.publisher}</b> ({r.published or 'undated'}): crossover {int(r.crossover_year)}<br>"
            f"{r.definition}<br>{str(r.quote)[:140]}<br>{r.url}"
            for r in dated.itertuples(index=False)
        ]
        fig.add_trace(
            go.Scatter(
                x=[pd.Timestamp(int(y), 7, 1) for y in dated["crossover_year"]],
                y=label,
                mode="markers",
                name="Published crossover claim (year, at mid-year)",
                text=text,
                marker=dict(symbol="diamond", size=11, color=theme.PUBLISHED, line=dict(color="black", width=1)),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1], title_text=None)
    fig.update_layout(hovermode="closest")
    return theme.style(fig, height=120 + 55 * len(rows), title=title)


def distribution_chart(c: Crossover, title: str | None = None, height: int = 340) -> go.Figure:
    """Share of paths crossing in each quarter (bars) and crossed by each quarter's end (line), with P10/P50/P90."""
    times = c.times[np.isfinite(c.times)]
    dates = [quarters.to_date(float(t), c.origin) for t in times]
    labels = pd.Series([quarters.label(d) for d in dates if d is not None], dtype=str)
    counts = labels.value_counts().sort_index() / len(c.times)
    mids = [quarters.middle(q) for q in counts.index]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=mids,
            y=counts.to_numpy() * 100,
            name="Paths crossing in the quarter",
            marker_color=theme.CROSSOVER,
            opacity=0.55,
            hovertemplate="%{customdata}: %{y:.1f}% of paths<extra></extra>",
            customdata=[quarters.text(q) for q in counts.index],
        )
    )
    ends = [quarters.end(q) for q in counts.index]
    fig.add_trace(
        go.Scatter(
            x=ends,
            y=counts.cumsum().to_numpy() * 100,
            name="Crossed by the quarter's end",
            mode="lines",
            line=dict(color=theme.NEUTRAL, width=2),
            yaxis="y2",
            customdata=[quarters.text(q) for q in counts.index],
            hovertemplate="by the end of %{customdata}: %{y:.0f}%<extra></extra>",
        )
    )
    for (name, when), y in zip((("P10", c.p10), ("P50", c.p50), ("P90", c.p90)), (1.0, 1.09, 1.0), strict=True):
        if when is not None:
            fig.add_vline(x=when, line=dict(color=theme.CROSSOVER, dash="dash" if name == "P50" else "dot", width=1.5))
            fig.add_annotation(
                x=when,
                y=y,
                yref="paper",
                yanchor="bottom",
                text=f"{name} {quarters.text(when)}",
                showarrow=False,
                font=dict(size=11),
            )
    fig.update_layout(
        yaxis2=dict(
            overlaying="y",
            side="right",
            range=[0, 100],
            tickvals=[0, 25, 50, 75, 100],
            ticksuffix="%",
            showgrid=False,
            title_text="Crossed by then",
        ),
        margin=dict(t=70),
    )
    fig.update_yaxes(ticksuffix="%", selector=dict(overlaying=None))
    return theme.style(fig, height=height, title=title, yaxis_title="Share of paths")


def budget_chart(rows: pd.DataFrame, labels: dict[str, str], title: str | None = None) -> go.Figure:
    """Stacked bars: each source's share (quarters) of the P10-P90 crossover width, one bar per sector."""
    fig = go.Figure()
    names = [labels.get(s, s) for s in rows["sector"]]
    for source in SOURCES:
        fig.add_trace(
            go.Bar(
                y=names,
                x=rows[f"{source}_quarters"],
                name=SOURCE_LABELS[source],
                orientation="h",
                marker_color=SOURCE_COLOURS[source],
                hovertemplate=f"{SOURCE_LABELS[source]}: %{{x:.1f}} quarters<extra></extra>",
            )
        )
    fig.update_layout(barmode="relative", hovermode="y unified")
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1])
    fig = theme.style(fig, height=160 + 32 * len(names), title=title)
    fig.update_layout(legend=dict(y=-0.25))
    fig.add_annotation(
        x=1,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="right",
        yanchor="top",
        yshift=-22,
        text="quarters of the P10–P90 width",
        showarrow=False,
        font=dict(size=11),
    )
    return fig


def call_chart(moves: pd.DataFrame, anchors: pd.DataFrame, claims: pd.DataFrame, title: str | None = None) -> go.Figure:
    """How the crossover call moved: P10-P50-P90 of the crossover date per as-of date, with later figures.

    ``moves``: one sector's rows of ``backtest.Backtest.moves`` under one definition; ``anchors``: the
    share anchors of that definition; ``claims``: crossover claims of that definition.  A published share
    of at least one half says the crossover had happened by its year: drawn at (publication date, year).
    """
    fig = go.Figure()
    m = moves.sort_values("as_of")
    x = pd.to_datetime(m["as_of"])
    band = m["p10"].notna() & m["p90"].notna()
    fig.add_trace(
        go.Scatter(
            x=x[band],
            y=pd.to_datetime(m.loc[band, "p90"]),
            mode="lines",
            line=dict(width=0),
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x[band],
            y=pd.to_datetime(m.loc[band, "p10"]),
            mode="lines",
            line=dict(width=0),
            fill="tonexty",
            fillcolor=theme.rgba(theme.CROSSOVER, 0.2),
            name="P10–P90 of the crossover date",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=pd.to_datetime(m["p50"]),
            mode="lines+markers",
            name="P50 of the crossover date",
            line=dict(color=theme.CROSSOVER, width=2),
            customdata=list(
                zip(m["as_of"].map(quarters.text), m["p50"].map(quarters.text), m["anchors_known"], strict=True)
            ),
            hovertemplate="as of %{customdata[0]}: P50 %{customdata[1]} "
            "(%{customdata[2]} anchors public)<extra></extra>",
        )
    )
    _open_ended(fig, m)
    _later_shares(fig, anchors)
    _dated_claims(fig, claims)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="As of (replay date)")
    return theme.style(fig, height=420, title=title, yaxis_title="Crossover date")


def _open_ended(fig: go.Figure, m: pd.DataFrame) -> None:
    """Replays whose P90 lies beyond their horizon: a dotted range from the P10 up past the chart's dates.

    Without it such a replay shows its P50 alone, as if its call were certain, when its range is the widest.
    """
    open_ended = m[m["p10"].notna() & m["p90"].isna()]
    if open_ended.empty:
        return
    dates = pd.to_datetime(pd.concat([m["p10"], m["p50"], m["p90"]]))
    top = dates.max() + pd.DateOffset(years=1)
    x: list[object] = []
    y: list[object] = []
    said: list[object] = []  # the hover's words, in quarters as every crossover date on screen
    for as_of, p10 in zip(pd.to_datetime(open_ended["as_of"]), pd.to_datetime(open_ended["p10"]), strict=True):
        x += [as_of, as_of, None]
        y += [p10, top, None]
        said += [(quarters.text(as_of), quarters.text(p10))] * 2 + [None]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            name="P10 to beyond the horizon (no P90)",
            line=dict(color=theme.CROSSOVER, width=1.5, dash="dot"),
            marker=dict(symbol=["line-ew", "triangle-up", "circle"] * len(open_ended), size=9, color=theme.CROSSOVER),
            customdata=said,
            hovertemplate="as of %{customdata[0]}: P10 %{customdata[1]}; P90 beyond the horizon<extra></extra>",
        )
    )


def _later_shares(fig: go.Figure, anchors: pd.DataFrame) -> None:
    """Published shares of at least one half, at (publication date, the year they speak of)."""
    later = anchors[anchors["value"] >= 0.5]
    if len(later):
        fig.add_trace(
            go.Scatter(
                x=[publication_date(p) for p in later["published"]],
                y=[pd.Timestamp(int(t), 7, 1) for t in later["t"]],
                mode="markers",
                name="Published share ≥ 1/2 by that year (at its publication date)",
                marker=dict(symbol="circle-open", size=11, color=theme.INFERENCE, line=dict(width=2)),
                text=[f"{r.anchor_id}: {r.value:.2f} ({r.bound}) in {r.t:g}" for r in later.itertuples(index=False)],
                hovertemplate="%{text}<extra></extra>",
            )
        )


def _dated_claims(fig: go.Figure, claims: pd.DataFrame) -> None:
    """Published crossover claims, at (publication date, the crossover year they name)."""
    dated = claims[claims["crossover_year"].notna() & (claims["published"].fillna("") != "")]
    if len(dated):
        fig.add_trace(
            go.Scatter(
                x=[publication_date(p) for p in dated["published"]],
                y=[pd.Timestamp(int(y), 7, 1) for y in dated["crossover_year"]],
                mode="markers",
                name="Published crossover claim (year, at its publication date)",
                text=list(dated["publisher"]),
                marker=dict(symbol="diamond", size=10, color=theme.PUBLISHED, line=dict(color="black", width=1)),
                hovertemplate="%{text}: crossover %{y|%Y}<extra></extra>",
            )
        )
