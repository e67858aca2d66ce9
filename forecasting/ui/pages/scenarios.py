"""Scenarios page: driver controls applied at once to the stored sample paths (no refit), saved scenarios,
side-by-side comparison, tornado chart and goal-seek."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from forecasting import auth, quarters, scenario_store
from forecasting.config import ALL, TOTAL
from forecasting.crossover import CROSSED_IN_HISTORY
from forecasting.drivers import DRIVER_BY_KEY, DRIVERS
from forecasting.errors import ForecastingError
from forecasting.scenario import BASELINE, Scenario
from forecasting.ui import charts, controls, data, theme, widgets, words

#: Session-state key of the message shown once after a save, copy or delete (the page reruns to list it).
FLASH = "scenario_flash"

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
    controls.ensure(data.scenario(ctx.db_text, ctx.stamp, "published" if "published" in names else names[0]))
    st.caption(
        "Drivers change the stored forecast paths directly: every change shows at once and no model is "
        "refitted. Each driver's default comes from a published figure (hover the **?**)."
    )

    # --- Load -----------------------------------------------------------------------------------------------
    load_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
    to_load = load_col.selectbox(
        "Start from a saved scenario",
        names,
        key="scenario_load_name",
        index=names.index(controls.working().name) if controls.working().name in names else 0,
    )
    if button_col.button("Load", key="scenario_load"):
        controls.start(data.scenario(ctx.db_text, ctx.stamp, to_load))
        st.rerun()

    # --- Controls and result ---------------------------------------------------------------------------------
    left, right = st.columns([1, 1], gap="large")
    with left:
        target = widgets.pick(
            st.selectbox,
            "Set drivers for",
            [ALL, *sectors],
            format_func=lambda s: "All sectors" if s == ALL else theme.sector_label(s),
            key="scenario_target",
            help="'All sectors' sets every sector; a sector's own value overrides it.",
        )
        scn = controls.driver_panel(controls.working(), target)
        overrides = [theme.sector_label(s) for s in scn.values if s != ALL]
        if overrides:
            st.caption(f"Sector overrides: {', '.join(overrides)}.")
    baseline_scn = data.scenario(ctx.db_text, ctx.stamp, BASELINE) if BASELINE in names else Scenario(BASELINE)
    threshold = widgets.threshold()
    definition = widgets.definition()
    out = data.outcome(ctx.db_text, ctx.run_id, data.scenario_json(scn), threshold, definition)
    base = data.outcome(ctx.db_text, ctx.run_id, data.scenario_json(baseline_scn), threshold, definition)
    hist = data.history_frames(ctx.db_text, ctx.run_id)
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
        st.plotly_chart(
            charts.spend_fan(
                sh,
                out.fans[out.fans["sector"] == focus],
                crossover=c,
                title=f"{theme.sector_label(focus)} under '{scn.name}' (edited)",
                height=400,
            ),
            key="scenario_fan",
        )
        st.plotly_chart(
            charts.share_chart(sh, out.shares[out.shares["sector"] == focus], c, title="Inference share", height=300),
            key="scenario_share",
        )
        widgets.download(
            out.table,
            "scenario-crossovers",
            ctx,
            scn.name,
            label="Download this scenario's crossovers",
            key="dl_scenario_table",
            threshold=threshold,
        )

    # --- Save, copy, delete ----------------------------------------------------------------------------------
    st.subheader("Save, copy and delete")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    owners = dict(zip(saved["name"], saved["author"], strict=True))  # editors change only their own scenarios
    s1, s2, s3 = st.columns(3)
    with s1, st.form("scenario_save"):
        new_name = st.text_input("Name", value="" if scn.name in names else scn.name, key="save_name")
        desc = st.text_input("Description", value=scn.description, key="save_desc")
        author = auth.user_name()  # the signed-in user, not free text
        st.caption(f"Saved as **{author}**")
        if st.form_submit_button("Save the edited scenario"):
            try:
                with auth.write(ctx.db, "scenario.save", new_name.strip(), owner=owners.get(new_name.strip())):
                    scenario_store.save_scenario(ctx.db, Scenario(new_name.strip() or "-", desc, author, scn.values))
            except (ForecastingError, ValueError) as exc:
                st.error(str(exc))
            else:
                controls.start(Scenario(new_name.strip(), desc, author, scn.values))
                st.session_state[FLASH] = f"Saved '{new_name.strip()}'."
                st.rerun()
    with s2, st.form("scenario_copy"):
        source = st.selectbox("Copy", names, key="copy_from")
        copy_name = st.text_input("as", key="copy_name")
        if st.form_submit_button("Copy"):
            try:
                with auth.write(ctx.db, "scenario.copy", f"{source} -> {copy_name.strip()}"):
                    scenario_store.copy_scenario(ctx.db, source, copy_name.strip())
            except (ForecastingError, ValueError) as exc:
                st.error(str(exc))
            else:
                st.session_state[FLASH] = f"Copied '{source}' to '{copy_name.strip()}'."
                st.rerun()
    with s3, st.form("scenario_delete"):
        own = saved.loc[~saved["is_preset"].astype(bool), "name"].tolist()
        victim = st.selectbox("Delete", own, key="delete_name", placeholder="no saved scenarios of your own")
        sure = st.checkbox("Yes, delete it", key="delete_sure")
        if st.form_submit_button("Delete", disabled=not own):
            if not sure:
                st.warning("Tick the box to confirm.")
            else:
                try:
                    with auth.write(ctx.db, "scenario.delete", str(victim), owner=owners.get(victim)):
                        scenario_store.delete_scenario(ctx.db, victim)
                except ForecastingError as exc:
                    st.error(str(exc))
                else:
                    st.session_state[FLASH] = f"Deleted '{victim}'."
                    st.rerun()
    with st.expander("Saved scenarios"):
        st.dataframe(saved, hide_index=True, width="stretch")

    # --- Compare ---------------------------------------------------------------------------------------------
    st.subheader("Compare scenarios")
    EDITED = "(edited, unsaved)"
    picked = st.multiselect(
        "Scenarios",
        [EDITED, *names],
        default=[n for n in ("baseline", "published") if n in names] + [EDITED],
        key="compare_names",
    )
    if len(picked) >= 2:
        results = {
            n: out
            if n == EDITED
            else data.outcome(
                ctx.db_text, ctx.run_id, data.scenario_json(data.scenario(ctx.db_text, ctx.stamp, n)), threshold
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
                row[f"{r.scenario} P50"] = quarters.text(r.p50)
                if r.scenario != first:
                    row[f"{r.scenario} shift (quarters)"] = None if pd.isna(r.shift_quarters) else r.shift_quarters
            rows.append(row)
        shifts = pd.DataFrame(rows)
        st.dataframe(shifts, hide_index=True, width="stretch")
        st.caption(f"Shifts are relative to '{first}'; empty when a P50 lies beyond the horizon.")
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
        st.plotly_chart(
            charts.scenario_overlay(
                {n: r.fans[r.fans["sector"] == cmp_sector] for n, r in results.items()},
                title=f"{theme.sector_label(cmp_sector)}: P50 per scenario",
            ),
            key="compare_overlay",
        )
        st.plotly_chart(
            charts.probability_chart(
                pd.concat(
                    [r.probability[r.probability["sector"] == cmp_sector].assign(sector=n) for n, r in results.items()]
                ),
                {n: n for n in results},
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
        st.plotly_chart(
            charts.tornado_chart(
                frame, pd.Timestamp(origin), title=f"{theme.sector_label(t_sector)}: P50 crossover at driver extremes"
            ),
            key="tornado_chart",
        )
        widgets.download(
            frame,
            "tornado",
            ctx,
            f"{scn.name}-{t_sector}",
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
        res = data.goal_seek_result(
            ctx.db_text, ctx.run_id, data.scenario_json(scn), g_sector, g_driver, g_target, threshold
        )
        (st.success if res.reachable else st.warning)(res.message, icon=":material/target:")
