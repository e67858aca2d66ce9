"""Overview page: total market training vs inference spend, forecast fans, crossover and inference share."""

from __future__ import annotations

import streamlit as st

from forecasting import quarters, vintages
from forecasting.config import TOTAL, WORKLOADS
from forecasting.crossover import Crossover
from forecasting.reports import figures
from forecasting.scenario import Scenario
from forecasting.share import DEFINITIONS
from forecasting.ui import charts, data, theme, widgets, words


@st.fragment
def analysis(ctx: widgets.Context, scn: Scenario, total: Crossover, threshold: float, definition: str) -> None:
    """The crossover under every definition, the spread of the paths' dates and the uncertainty budget, on request.

    They take seconds to compute for each new scenario or threshold (the budget is a Shapley split), so the
    overview's headline and chart stay fast and these follow only when asked for; toggling reruns this part only.
    """
    if not st.toggle(
        "Show how the answer depends on what is counted, and where its range comes from",
        key="overview_analysis",
        help="The crossover under every definition of the inference share, the spread of the paths' crossing "
        "dates and the uncertainty budget of the 80% range (a few seconds for each new scenario or threshold).",
    ):
        return
    run_id = ctx.run_id or vintages.LATEST
    st.subheader("When does inference overtake training? It depends on what is counted")
    spread = data.definition_spread(ctx.db_text, run_id, data.scenario_json(scn), threshold)
    widgets.chart(
        charts.definition_chart(
            spread, data.claims(ctx.db_text, ctx.stamp), title="Total market: crossover by definition"
        ),
        key="overview_definitions",
    )
    st.caption(
        "Green bars: the P10–P90 range of the crossover under each definition of the inference share, white dot "
        "its P50; every definition comes from one share model fitted to all published shares with an offset per "
        "definition. Diamonds: crossover years published by others, in the row of what they measure (hover for "
        "the quote and link)."
    )
    left, right = st.columns(2)
    with left:
        widgets.chart(
            charts.distribution_chart(total, title="Total market: when the paths cross"), key="overview_distribution"
        )
        st.caption(words.distribution_text(total))
    with right:
        rows = data.crossover_rows(ctx.db_text, run_id, data.scenario_json(scn), threshold, definition)
        widgets.chart(
            charts.budget_chart(
                rows,
                {s: theme.sector_label(s) for s in rows["sector"]},
                title="Where the width of the 80% range comes from",
            ),
            key="overview_budget",
        )
        st.caption(
            "Each bar splits a crossover's P10–P90 width (quarters) between the sources of uncertainty: the share "
            "curve, the definition's offset, the spend level, the sector split and the scenario's ranges (Shapley "
            "values: they add up to the width). The spend level moves spend, not the date: the crossover is where "
            "the inference share passes one half."
        )


ctx = widgets.context()
st.title("Cloud AI spend: training vs inference")

with widgets.guarded():
    spend_hist = figures.history_from_spend(data.spend(ctx.db_text, ctx.stamp))
    markers = charts.marker_frame(data.estimates(ctx.db_text, ctx.stamp))
    if ctx.run_id is None:
        total_hist = spend_hist[spend_hist["sector"] == TOTAL]
        widgets.vintage_line(ctx, total_hist["ds"].max() if len(total_hist) else None, None)
        widgets.no_run_notice(ctx)
        if len(total_hist):
            widgets.chart(
                charts.spend_fan(total_hist, figures.empty_fan(), markers=markers, title="Total market, history"),
                key="overview_history",
            )
        st.stop()

    scn, out, threshold = widgets.shown_outcome(ctx)
    hist = data.history_frames(ctx.db_text, ctx.run_id)
    total_hist = hist[hist["sector"] == TOTAL]
    total = out.crossovers[TOTAL]

    definition = out.definition
    fan = out.fans[out.fans["sector"] == TOTAL]
    share = out.shares[out.shares["sector"] == TOTAL]
    st.markdown(f"### {words.headline(total)}")

    # The chart comes first, so that on a phone it is on the first screen; its view controls, the figures
    # and the notes follow it (the chart is drawn into a slot above the controls that choose it).
    slot = st.container()
    v_col, l_col = st.columns([3, 2], vertical_alignment="bottom")
    view = v_col.segmented_control("View", ["Quarterly", "Annual"], default="Quarterly", key="overview_view")
    log_y = l_col.toggle(
        "Log scale",
        value=True,
        key="overview_log",
        help="Spend grows roughly exponentially; on a log scale equal growth rates look parallel.",
    )
    with slot:
        if view == "Annual":
            annual = data.annual(ctx.db_text, ctx.run_id, data.scenario_json(scn), TOTAL, definition)
            widgets.chart(
                charts.annual_chart(
                    annual, markers, title="Total market per calendar year", log_y=log_y, crossover=total
                ),
                key="overview_annual",
            )
        else:
            widgets.chart(
                charts.spend_fan(
                    total_hist,
                    fan,
                    crossover=total,
                    markers=markers,
                    log_y=log_y,
                    title="Total market per quarter: history, forecast and crossover",
                ),
                key="overview_fan",
            )
        st.caption(
            "Green: the crossover's P50 (dashed line) and its 80% range, P10 to P90 (shaded). Grey dotted line: "
            "where the forecast starts. Hover for every line's value in that quarter."
        )

    last = fan["ds"].max()
    end_share = float(share.loc[share["ds"] == last, "p50"].iloc[0]) if len(share) else float("nan")
    now_share = float(total_hist["share"].iloc[-1]) if len(total_hist) else float("nan")
    # Short labels and values: a metric cuts off text wider than its column ("2027 Q4 – 20...").
    m1, m2, m3, m4, m5 = st.columns(5)
    what = "Crossover" if threshold == 1.0 else f"{words.threshold_text(threshold)} training"
    ranged = "The 80% range of the crossover: a tenth of the paths cross before P10, a tenth after P90."
    m1.metric(f"{what}, P50", quarters.text(total.p50), help="The median of the paths' crossover quarters.")
    m2.metric("80% range: P10", quarters.text(total.p10), help=ranged)
    m3.metric("80% range: P90", quarters.text(total.p90), help=ranged)
    m4.metric(f"Share {quarters.text(total_hist['ds'].max())}", f"{now_share:.0%}", help="Inference share, modelled.")
    m5.metric(
        f"Share {quarters.text(last)}",
        f"{end_share:.0%}",
        delta=f"{(end_share - now_share) * 100:+.0f} pts",
        help="Inference share at the horizon's end, P50 of the paths.",
    )
    widgets.vintage_line(ctx, total_hist["ds"].max() if len(total_hist) else None, widgets.run_created(ctx))
    st.caption(
        f"Inference share of **{DEFINITIONS[definition]}** (change it in the sidebar). "
        + widgets.history_words(ctx)
        + f" Scenario **{words.plain(widgets.scenario_title(scn))}**: "
        + f"{words.plain((scn.description or 'no description').rstrip('.'))}."
    )
    widgets.changes_panel(ctx, scn, out)
    note = words.curves_text(total, out.p50_curves.get(TOTAL))
    if note:
        st.info(note, icon=":material/info:")
    widgets.chart(
        charts.share_chart(total_hist, share, total, title="Inference share of total spend"), key="overview_share"
    )

    analysis(ctx, scn, total, threshold, definition)

    published = widgets.opened(
        "Published figures on the chart (annual; the quarterly view shows a quarter's average)",
        "overview_published",
        icon=":material/table:",
    )
    if published is not None:
        published.dataframe(
            markers[["year", "line", "value", "kind", "publisher", "title", "source_date", "url"]],
            hide_index=True,
            width="stretch",
            column_config={
                "url": st.column_config.LinkColumn("source", display_text="open"),
                "value": st.column_config.NumberColumn("USD bn", format="%.3f"),
                "year": st.column_config.NumberColumn("year", format="%d"),
            },
        )
    c1, c2, c3 = st.columns(3)
    tag = widgets.scenario_tag(scn)
    with c1:
        widgets.download(
            fan.drop(columns="sector"), "fan-total", ctx, tag, label="Forecast fan data", spend=list(figures.QUANTILES)
        )
    with c2:
        widgets.download(total_hist.drop(columns="sector"), "history-total", ctx, label="History data", spend=WORKLOADS)
    with c3:
        widgets.download(share.drop(columns="sector"), "share-total", ctx, tag, label="Share fan data")
