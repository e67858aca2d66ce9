"""Scenarios page: driver controls applied at once to the stored sample paths (no refit), saved scenarios,
side-by-side comparison, tornado chart and goal-seek."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from forecasting import quarters, scenario_store
from forecasting.config import ALL, TOTAL
from forecasting.crossover import CROSSED_IN_HISTORY
from forecasting.drivers import DRIVER_BY_KEY, DRIVERS, point
from forecasting.sensitivity import GoalSeekResult, goal_seek_text, with_driver
from forecasting.ui import changes, charts, comparison, controls, data, saving, theme, widgets, words

#: Session-state key of the last goal-seek answer (kept so that its "apply" button can act on it).
GOAL = "goal_seek_answer"


def goal_seek_answer(res: GoalSeekResult) -> None:
    """The goal-seek answer and, when a value reaches the target, a button that sets it in the shown scenario."""
    text = goal_seek_text(res, theme.sector_label(res.sector))
    (st.success if res.reachable else st.warning)(text, icon=":material/target:")
    if res.reachable and res.value is not None:
        st.button(
            f"Apply: set {DRIVER_BY_KEY[res.driver].label} to {res.value:.3g} for {theme.sector_label(res.sector)}",
            key="gs_apply",
            on_click=_apply_goal,
            args=(res,),
            type="primary",
            help="Sets the driver in the scenario shown on every page (all sectors for the total market).",
        )


def _apply_goal(res: GoalSeekResult) -> None:
    if res.value is not None:
        controls.start(with_driver(widgets.shown_scenario(), res.sector, res.driver, point(res.value)))
    st.session_state.pop(GOAL, None)


ctx = widgets.context()
st.title("Scenarios")

with widgets.guarded():
    if ctx.run_id is None:
        widgets.no_run_notice(ctx)
        st.stop()
    widgets.require_paths(ctx)
    sectors = list(data.run(ctx.db_text, ctx.run_id).require_paths().sectors)
    saved = data.scenarios(ctx.db_text, ctx.stamp)
    names = saved["name"].tolist()
    st.caption(
        f"Editing **{words.plain(widgets.shown_scenario().name)}**, the scenario chosen in the sidebar: every page "
        "shows your edits at once, and no model is refitted. Choose another saved one in the sidebar to start from it. "
        "Each driver's default comes from a published figure (hover the **?**)."
    )

    # --- Controls and result ---------------------------------------------------------------------------------
    left, right = st.columns([1, 1], gap="large")
    with left:
        # A saved scenario may override a sector this run lacks: listed too, so it can be changed or removed.
        absent = [s for s in widgets.shown_scenario().values if s != ALL and s not in sectors]
        target = widgets.pick(
            st.selectbox,
            "Set drivers for",
            [ALL, *sectors, *absent],
            format_func=lambda s: words.target_label(s, absent),
            key="scenario_target",
            help="'All sectors' sets every sector; a sector's own value overrides it.",
        )
        scn = controls.driver_panel(widgets.shown_scenario(), target)
        overrides = [theme.sector_label(s) for s in scn.values if s != ALL]
        if overrides:
            st.caption(f"Sector overrides: {words.plain(', '.join(overrides))}.")  # saved JSON may name any sector
    baseline_scn = widgets.baseline_scenario(ctx)
    threshold = widgets.threshold()
    definition = widgets.definition()
    out = data.outcome(ctx.db_text, ctx.run_id, data.scenario_json(scn), threshold, definition)
    base = data.outcome(ctx.db_text, ctx.run_id, data.scenario_json(baseline_scn), threshold, definition)
    hist = data.history_frames(ctx.db_text, ctx.run_id)
    widgets.changes_panel(ctx, scn, out)
    with right:
        keys = [TOTAL, *sectors]
        ahead = [k for k in keys if base.crossovers[k].state != CROSSED_IN_HISTORY]
        focus = widgets.pick(
            st.selectbox,
            "Show",
            keys,
            index=keys.index(ahead[0]) if ahead else 0,
            format_func=theme.sector_label,
            key="scenario_focus",
            help="Defaults to the first market whose crossover lies ahead.",
        )
        c, b = out.crossovers[focus], base.crossovers[focus]
        st.markdown(f"### {theme.sector_label(focus)}: {words.headline(c)}")
        note = words.curves_text(c, out.p50_curves.get(focus))
        if note:
            st.info(note, icon=":material/info:")
        moved = quarters.shift(b.p50, c.p50)
        st.caption(
            f"Model baseline: {words.headline(b)}"
            + (f" This scenario moves the P50 by {moved:+.1f} quarters." if moved is not None else "")
        )
        has_ranges = any(v.is_range for entry in scn.values.values() for v in entry.values())
        if has_ranges and c.state != CROSSED_IN_HISTORY:
            st.caption(
                words.spread_text(data.spread(ctx.db_text, ctx.run_id, data.scenario_json(scn), focus, threshold))
            )
        sh = hist[hist["sector"] == focus]
        widgets.chart(
            charts.spend_fan(
                sh,
                out.fans[out.fans["sector"] == focus],
                crossover=c,
                title=f"{theme.sector_label(focus)} under {words.chart_text(widgets.scenario_title(scn))}",
                height=400,
            ),
            key="scenario_fan",
        )
        widgets.chart(
            charts.share_chart(sh, out.shares[out.shares["sector"] == focus], c, title="Inference share", height=300),
            key="scenario_share",
        )
        widgets.download(
            out.table,
            "scenario-crossovers",
            ctx,
            widgets.scenario_tag(scn),
            label="Download this scenario's crossovers",
            key="dl_scenario_table",
            threshold=threshold,
        )

    # --- Save, copy, delete ----------------------------------------------------------------------------------
    st.subheader("Save, copy and delete")
    saving.flash()
    if widgets.may("scenario.save", "saving, copying and deleting scenarios"):
        s1, s2, s3 = st.columns(3)
        with s1:
            saving.save_form(ctx.db, scn, saved)
        with s2:
            saving.copy_form(ctx.db, names)
        with s3:
            saving.delete_form(ctx.db, saved)
    with st.expander("Saved scenarios"):
        st.dataframe(saved, hide_index=True, width="stretch")

    # --- Compare ---------------------------------------------------------------------------------------------
    st.subheader("Compare scenarios")
    # The shown scenario takes part under its own name, or as "(edited, unsaved)" when it differs from it.
    EDITED = scenario_store.EDITED_NAME if controls.is_edited() else scn.name
    picked = comparison.picker(names, EDITED)
    if len(picked) >= 2:
        results = {
            n: out
            if n == EDITED
            else data.outcome(
                ctx.db_text,
                ctx.run_id,
                data.scenario_json(data.scenario(ctx.db_text, ctx.stamp, n)),
                threshold,
                definition,
            )
            for n in picked
        }
        first = picked[0]
        chosen = [
            replace(scn, name=EDITED) if n == EDITED else data.scenario(ctx.db_text, ctx.stamp, n) for n in picked
        ]
        compared = data.scenario_comparison(ctx.db_text, ctx.run_id, [data.scenario_json(c) for c in chosen], threshold)
        rows = []
        for s in [TOTAL, *sectors]:
            row: dict[str, object] = {"sector": theme.sector_label(s)}
            for r in compared[compared["sector"] == s].itertuples():
                row[f"{r.scenario} P50"] = changes.quarter_or_dash(r.p50)
                if r.scenario != first:
                    shift = r.shift_quarters
                    row[f"{r.scenario} shift (quarters)"] = words.EMPTY if pd.isna(shift) else f"{shift:+.1f}"
            rows.append(row)
        shifts = pd.DataFrame(rows)
        st.dataframe(shifts, hide_index=True, width="stretch")
        st.caption(f"Shifts are relative to '{words.plain(first)}'; — where a P50 lies beyond the horizon.")
        widgets.chart(
            charts.crossover_heatmap(
                compared.assign(scenario=compared["scenario"].map(words.chart_text)),
                [TOTAL, *sectors],
                title="P50 crossover per sector and scenario",
            ),
            key="compare_heatmap",
        )
        st.caption(
            "Each cell: the P50 crossover quarter of a sector under a scenario; the colour is how late it falls, "
            "hover for its 80% range (P10–P90) and how wide that is. Blank: the P50 lies beyond the horizon."
        )
        widgets.download(
            shifts,
            "scenario-comparison",
            ctx,
            "-vs-".join(picked),
            label="Download the comparison",
            key="dl_compare",
            threshold=threshold,
        )
        cmp_sector = widgets.pick(
            st.selectbox, "Curves for", [TOTAL, *sectors], format_func=theme.sector_label, key="compare_sector"
        )
        widgets.chart(
            charts.scenario_overlay(
                {words.chart_text(n): r.fans[r.fans["sector"] == cmp_sector] for n, r in results.items()},
                title=f"{theme.sector_label(cmp_sector)}: P50 per scenario",
            ),
            key="compare_overlay",
        )
        widgets.chart(
            charts.probability_chart(
                pd.concat(
                    [r.probability[r.probability["sector"] == cmp_sector].assign(sector=n) for n, r in results.items()]
                ),
                {n: words.chart_text(n) for n in results},
                title="Probability crossed by the end of each quarter",
            ),
            key="compare_prob",
        )
    else:
        st.info("Pick two or more scenarios to compare.")

    # --- Sensitivity -----------------------------------------------------------------------------------------
    st.subheader("Which drivers move the crossover")
    t_sector = widgets.pick(
        st.selectbox, "Tornado for", [TOTAL, *sectors], format_func=theme.sector_label, key="tornado_sector"
    )
    if st.toggle(
        "Show the tornado chart for the edited scenario",
        key="tornado_on",
        help="Moves each driver to the ends of its range and records the P50 crossover (16 evaluations).",
    ):
        frame = data.tornado_frame(ctx.db_text, ctx.run_id, data.scenario_json(scn), t_sector, threshold)
        tc = out.crossovers[t_sector]
        origin = tc.p50 or out.probability["crossed_by"].max()
        widgets.chart(
            charts.tornado_chart(
                frame, pd.Timestamp(origin), title=f"{theme.sector_label(t_sector)}: P50 crossover at driver extremes"
            ),
            key="tornado_chart",
        )
        widgets.download(
            frame,
            "tornado",
            ctx,
            f"{widgets.scenario_tag(scn)}-{t_sector}",
            label="Download the tornado data",
            key="dl_tornado",
            threshold=threshold,
        )

    st.subheader("Goal seek")
    with st.form("goal_seek"):
        g1, g2, g3 = st.columns(3)
        g_sector = widgets.pick(
            g1.selectbox, "Sector", [TOTAL, *sectors], format_func=theme.sector_label, key="gs_sector"
        )
        g_driver = widgets.pick(
            g2.selectbox,
            "Driver",
            [d.key for d in DRIVERS],
            format_func=lambda k: DRIVER_BY_KEY[k].label,
            key="gs_driver",
        )
        targets = list(dict.fromkeys(out.probability["quarter"]))
        g_target = widgets.pick(
            g3.selectbox,
            "Target P50 crossover",
            targets,
            index=len(targets) // 2,
            format_func=quarters.text,
            key="gs_target",
        )
        go = st.form_submit_button("Find the driver value")
    if go:
        st.session_state[GOAL] = data.goal_seek_result(
            ctx.db_text, ctx.run_id, data.scenario_json(scn), g_sector, g_driver, g_target, threshold
        )
    if GOAL in st.session_state:
        goal_seek_answer(st.session_state[GOAL])
