"""Sectors page: small multiples, a sortable crossover table (probability by a chosen date), one sector in detail."""

from __future__ import annotations

import streamlit as st

from forecasting import quarters
from forecasting.config import TOTAL
from forecasting.reports import figures
from forecasting.share import DEFINITIONS
from forecasting.ui import changes, charts, data, theme, widgets, words

ctx = widgets.context()
st.title("Sectors")

with widgets.guarded():
    if ctx.run_id is None:
        widgets.no_run_notice(ctx)
        st.stop()
    scn, out, threshold = widgets.shown_outcome(ctx)
    hist = data.history_frames(ctx.db_text, ctx.run_id)
    sectors = [s for s in out.crossovers if s != TOTAL]
    widgets.vintage_line(ctx, hist["ds"].max() if len(hist) else None, widgets.run_created(ctx))
    st.caption(
        f"Scenario **{words.plain(widgets.scenario_title(scn))}**, inference share of "
        f"**{DEFINITIONS[out.definition]}** (choose others in the "
        "sidebar). Green lines mark each sector's P50 crossover, the shaded band its P10–P90. "
        + widgets.history_words(ctx)
    )
    widgets.changes_panel(ctx, scn, out)

    # --- Crossover table ------------------------------------------------------------------------------------
    st.subheader(f"When {words.rule_text(threshold)}, by sector")
    periods = list(dict.fromkeys(out.probability["quarter"]))
    by = st.select_slider(
        "Probability of crossover by the end of",
        options=periods,
        value=periods[min(7, len(periods) - 1)],
        format_func=quarters.text,
        key="sectors_by",
    )
    by_date = quarters.end(by)
    rows = data.crossover_rows(ctx.db_text, ctx.run_id, data.scenario_json(scn), threshold, out.definition)
    shown = ["sector", "model", "state", "crossed_at", "p10", "p50", "p90", "p50_curves", "prob_within_horizon"]
    table = rows[[*shown, "width_quarters"]].assign(
        sector=[theme.sector_label(s) for s in rows["sector"]],
        state=rows["state"].str.replace("_", " "),
        prob_by_date=[out.crossovers[s].probability_by(by_date) for s in rows["sector"]],
    )
    # Quarters as text ("2026 Q2", which sorts in time order), and "—" where there is none.
    for col in ("crossed_at", "p10", "p50", "p90", "p50_curves"):
        table[col] = [changes.quarter_or_dash(v) for v in table[col]]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "model": st.column_config.TextColumn(
                "model",
                help=(
                    "structural: the share model splits the engine's total; statistical: the engine fitted the sector; "
                    "naive fallback: a random walk (under six quarters of history, or no model fitted)"
                ),
            ),
            "crossed_at": st.column_config.TextColumn("crossed (P50, in history)"),
            "p10": st.column_config.TextColumn("P10"),
            "p50": st.column_config.TextColumn("P50"),
            "p90": st.column_config.TextColumn("P90"),
            "p50_curves": st.column_config.TextColumn(
                "P50 curves cross", help="When the median curves cross (not the median date)"
            ),
            "prob_by_date": st.column_config.ProgressColumn(
                f"P(crossed by the end of {quarters.text(by)})", format="percent", min_value=0, max_value=1
            ),
            "prob_within_horizon": st.column_config.NumberColumn("P(by the horizon's end)", format="percent"),
            "width_quarters": st.column_config.NumberColumn("80% range, quarters", format="%.1f"),
        },
    )
    st.caption(
        "Click a column header to sort. — in P10/P50/P90: fewer than 10/50/90% of paths cross within the "
        "forecast horizon. 'crossed in history' means most paths crossed within the modelled history."
    )
    widgets.chart(
        charts.budget_chart(
            rows, {s: theme.sector_label(s) for s in rows["sector"]}, title="Where each 80% range comes from (quarters)"
        ),
        key="sectors_budget",
    )
    widgets.download(
        table.assign(threshold=threshold),
        "sector-crossovers",
        ctx,
        scn.name,
        label="Download the crossover table",
        key="dl_sector_table",
        threshold=threshold,
    )

    # --- Small multiples ------------------------------------------------------------------------------------
    st.subheader("Training and inference spend per sector")
    c_col, y_col = st.columns(2)
    with c_col:
        columns = widgets.pick(
            st.radio,
            "Panels per row",
            [1, 2, 3],
            index=1,
            horizontal=True,
            key="sectors_cols",
            help="One panel per row reads best on a narrow window.",
        )
    with y_col:
        y_scale = widgets.pick(
            st.radio,
            "Spend axes",
            list(charts.Y_SCALES),
            index=1,
            horizontal=True,
            format_func=charts.Y_SCALES.get,
            key="sectors_y",
            help="One log scale keeps the history readable next to the forecast; one linear scale compares "
            "sectors by height; each its own shows every sector's shape.",
        )
    widgets.chart(
        charts.small_multiples(hist, out.fans, sectors, out.crossovers, columns=columns, y_scale=y_scale),
        key="sectors_multiples",
    )
    widgets.download(
        out.fans[out.fans["sector"] != TOTAL],
        "sector-fans",
        ctx,
        scn.name,
        label="Download every sector's forecast fan",
        key="dl_sector_fans",
        spend=list(figures.QUANTILES),
    )

    # --- One sector in detail ------------------------------------------------------------------------------
    st.subheader("One sector in detail")
    sector = widgets.pick(st.selectbox, "Sector", sectors, format_func=theme.sector_label, key="sectors_detail")
    c = out.crossovers[sector]
    st.markdown(f"#### {theme.sector_label(sector)}: {words.headline(c)}")
    note = words.curves_text(c, out.p50_curves.get(sector))
    if note:
        st.info(note, icon=":material/info:")
    sh = hist[hist["sector"] == sector]
    fan = out.fans[out.fans["sector"] == sector]
    share = out.shares[out.shares["sector"] == sector]
    widgets.chart(
        charts.spend_fan(sh, fan, crossover=c, title=f"{theme.sector_label(sector)} per quarter"),
        key="sectors_detail_fan",
    )
    left, right = st.columns(2)
    with left:
        widgets.chart(charts.share_chart(sh, share, c, title="Inference share"), key="sectors_detail_share")
    with right:
        widgets.chart(
            charts.probability_chart(
                out.probability,
                {sector: theme.sector_label(sector), TOTAL: theme.sector_label(TOTAL)},
                title="Probability crossed by the end of each quarter",
            ),
            key="sectors_detail_prob",
        )
    widgets.download(
        fan.drop(columns="sector"),
        "sector-fan",
        ctx,
        f"{widgets.scenario_tag(scn)}-{sector}",
        label=f"Download the {theme.sector_label(sector)} fan",
        spend=list(figures.QUANTILES),
        key="dl_sector_detail",
    )
