"""Model quality page: backtest scores per series and model, the chosen model, interval coverage,
realised errors of earlier runs, and how the crossover estimate moved between refreshes."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from forecasting.backtest import POOLED_SCORES
from forecasting.config import TOTAL
from forecasting.engine.choose import SELECT_MARGIN
from forecasting.reports import figures
from forecasting.scenario import BASELINE
from forecasting.share import DEFINITIONS
from forecasting.ui import changes, charts, data, theme, widgets, words

ctx = widgets.context()
st.title("Model quality")

with widgets.guarded():
    if ctx.run_id is None:
        widgets.no_run_notice(ctx)
        st.stop()
    rd = data.run(ctx.db_text, ctx.run_id)
    observed_hist = data.history_frames(ctx.db_text, ctx.run_id)
    widgets.vintage_line(ctx, observed_hist["ds"].max() if len(observed_hist) else None, widgets.run_created(ctx))

    # --- Backtests -------------------------------------------------------------------------------------------
    st.subheader("Backtest scores")
    st.caption(
        "Rolling-origin backtests: MASE (below 1 beats the seasonal naive forecast), sMAPE, and how often "
        "the 80% and 95% intervals held the actual value. The outlined bar is the model chosen per series."
    )
    bt = rd.backtests
    metric = st.segmented_control("Metric", ["mase", "smape", "interval_score"], default="mase", key="quality_metric")
    widgets.chart(
        charts.metric_bars(bt, metric or "mase", title=f"{metric or 'mase'} per series and model"),
        key="quality_metric_chart",
    )
    st.dataframe(
        bt,
        hide_index=True,
        width="stretch",
        height=300,
        column_config={
            "coverage_80": st.column_config.NumberColumn(format="percent"),
            "coverage_95": st.column_config.NumberColumn(format="percent"),
        },
    )
    widgets.download(bt, "backtests", ctx, label="Download backtest scores", key="dl_backtests")

    st.subheader("Why a combination, not the best model in the backtest")
    choices = words.choice_rows(bt)
    st.markdown(words.choice_text(choices, SELECT_MARGIN))
    st.dataframe(choices, hide_index=True, width="stretch")
    origins, steps = (int(str(rd.info.config.get(k, 4))) for k in ("backtest_origins", "backtest_horizon"))
    st.markdown(words.coverage_text(bt, origins, steps))

    st.subheader("Chosen model and interval coverage per series")
    chosen = bt[bt["chosen"].astype(bool)]
    status = rd.status.merge(chosen[["unique_id", "mase", "coverage_80", "coverage_95"]], on="unique_id", how="left")
    shown_status = status.assign(
        mase=[words.EMPTY if v != v else f"{v:.3f}" for v in status["mase"]],
        **{c: [words.EMPTY if v != v else f"{v:.0%}" for v in status[c]] for c in ("coverage_80", "coverage_95")},
    )
    st.dataframe(shown_status, hide_index=True, width="stretch")  # "—", not "None", where no score exists
    widgets.download(status, "series-status", ctx, label="Download series status", key="dl_status")
    cov = go.Figure()
    levels = (("coverage_80", 0.8, theme.SERIES_COLOURS[0]), ("coverage_95", 0.95, theme.SERIES_COLOURS[3]))
    for col, nominal, colour in levels:
        cov.add_trace(
            go.Bar(
                x=chosen["unique_id"], y=chosen[col] * 100, name=f"{int(nominal * 100)}% interval", marker_color=colour
            )
        )
        cov.add_hline(y=nominal * 100, line=dict(color=colour, dash="dot"))
    cov.update_layout(barmode="group")
    widgets.chart(
        theme.style(
            cov,
            height=340,
            title="Backtest coverage of the chosen model (dotted lines are nominal)",
            yaxis_title="% of actuals inside",
        ),
        key="quality_coverage",
    )

    # --- Residuals of earlier runs ---------------------------------------------------------------------------
    st.subheader("Residuals: earlier forecasts against the history recorded since")
    runs = data.runs(ctx.db_text, ctx.stamp)
    earlier = [r for r in runs["run_id"] if r != ctx.run_id]
    observed = figures.observed_series(data.spend(ctx.db_text, ctx.stamp))
    if earlier:
        prev = st.selectbox("Earlier run", earlier, key="quality_prev_run")
        errs = figures.realised_errors(data.run(ctx.db_text, prev).forecasts, observed)
    else:
        prev, errs = None, figures.realised_errors(rd.forecasts.iloc[0:0], observed)
    if errs.empty:
        st.info("No residuals yet: they appear once a refresh observes quarters that an earlier run forecast.")
    else:
        fig = go.Figure()
        for i, (uid, g) in enumerate(errs.groupby("unique_id")):
            fig.add_trace(
                go.Scatter(
                    x=g["ds"],
                    y=g["pct_error"] * 100,
                    mode="lines+markers",
                    name=uid,
                    line=dict(color=theme.SERIES_COLOURS[i % len(theme.SERIES_COLOURS)]),
                )
            )
        fig.add_hline(y=0, line=dict(color=theme.NEUTRAL))
        widgets.chart(
            theme.style(fig, height=360, title=f"Run {prev}: (actual - forecast) / actual", yaxis_title="% error"),
            key="quality_residuals",
        )
        st.caption(
            f"Inside the 80% interval: {errs['inside_80'].mean():.0%} · inside the 95% interval: "
            f"{errs['inside_95'].mean():.0%} of {len(errs)} realised quarters."
        )
        widgets.download(errs, "residuals", ctx, label="Download residuals", key="dl_residuals")

    # --- Vintages --------------------------------------------------------------------------------------------
    st.subheader("How the crossover estimate moved between refreshes")
    hist = data.crossover_history(ctx.db_text, ctx.stamp)
    if widgets.threshold() != 1.0:
        st.caption(
            "Runs store the crossover itself (inference overtakes training, 1×), so this section ignores "
            "the sidebar's threshold."
        )
    scenario_names = sorted(hist["scenario"].unique()) if len(hist) else []
    vs = BASELINE
    if scenario_names:
        vs = st.selectbox(
            "Scenario",
            scenario_names,
            index=scenario_names.index("baseline") if "baseline" in scenario_names else 0,
            key="quality_vintage_scenario",
        )
        widgets.chart(
            charts.vintage_chart(hist[hist["scenario"] == vs], title="Crossover per run (P50 with P10-P90)"),
            key="quality_vintages",
        )
    if len(runs) >= 2:
        a_col, b_col = st.columns(2)
        run_a = a_col.selectbox("From run", runs["run_id"].tolist(), index=1, key="quality_run_a")
        run_b = b_col.selectbox("To run", runs["run_id"].tolist(), index=0, key="quality_run_b")
        moved = data.compare(ctx.db_text, run_a, run_b, vs)
        st.caption(
            f"Under scenario '{words.plain(vs)}', each run read with the assumptions it recorded; 'assumptions' in the "
            "cause means the scenario was edited between the runs and that moved the date."
            if vs != BASELINE
            else "The engine's own forecast, no scenario applied."
        )
        st.dataframe(changes.vintage_rows(moved), hide_index=True, width="stretch")
        widgets.download(
            moved, "vintage-comparison", ctx, f"{run_a}-vs-{run_b}", label="Download the comparison", key="dl_vintages"
        )
    else:
        st.info("Only one forecast run so far: the next `forecasting refresh` adds a vintage to compare with.")
    # A replay's as-of date is a quarter end, named as every page names quarters; a refresh has none.
    shown_runs = runs.assign(
        as_of=[changes.quarter_or_dash(t) for t in runs["as_of"]], created_at=runs["created_at"].map(words.moment_text)
    ).rename(columns={"created_at": "created (UTC)"})
    st.dataframe(shown_runs, hide_index=True, width="stretch")

    # --- Backtest of the crossover call ------------------------------------------------------------------------
    st.subheader("Backtest of the crossover call: replays scored on figures published later")
    replayed = data.crossover_backtest(ctx.db_text, ctx.stamp)
    if replayed is None:
        st.info(
            "No replays yet. `forecasting backtest crossover` re-runs the estimate as of every quarter end since "
            "2022 Q4 with only the figures public then, stores each replay and scores it on what was published "
            "after; the chart and scores appear here.",
            icon=":material/history:",
        )
    else:
        definition = widgets.definition()
        keys = [TOTAL, *[s for s in dict.fromkeys(replayed.moves["sector"]) if s != TOTAL]]
        who = widgets.pick(st.selectbox, "Call for", keys, format_func=theme.sector_label, key="quality_call_sector")
        moves = replayed.moves[(replayed.moves["sector"] == who) & (replayed.moves["definition"] == definition)]
        anchors = data.share_anchors(ctx.db_text, ctx.stamp)
        claims = data.claims(ctx.db_text, ctx.stamp)
        left, right = st.columns([3, 2])
        with left:
            widgets.chart(
                charts.call_chart(
                    moves,
                    anchors[anchors["definition"] == definition],
                    claims[claims["definition"] == definition],
                    title=f"How the call moved: {theme.sector_label(who)}, {DEFINITIONS[definition]}",
                ),
                key="quality_call",
            )
            st.caption(words.call_text(moves))
        with right:
            pooled = replayed.pooled
            st.dataframe(
                pooled,
                hide_index=True,
                width="stretch",
                column_config={
                    c: st.column_config.NumberColumn(c.replace("_", " "), format="%.2f") for c in POOLED_SCORES
                },
            )
            overall = pooled[pooled["group"] == "all"].iloc[0]
            st.caption(
                f"{replayed.scores['as_of'].nunique()} replays scored on {int(overall['n'])} later figures: the 80% "
                f"intervals held {overall['coverage_80']:.0%} of the later published shares and the 95% intervals "
                f"{overall['coverage_95']:.0%}. A later figure scored by several replays counts once per replay."
            )
        widgets.download(
            replayed.moves,
            "crossover-backtest-moves",
            ctx,
            None,
            label="Download how the call moved",
            key="dl_backtest_moves",
        )
        widgets.download(
            replayed.scores,
            "crossover-backtest-scores",
            ctx,
            None,
            label="Download the scores",
            key="dl_backtest_scores",
        )
