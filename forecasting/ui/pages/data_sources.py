"""Data page: the spend history by provenance, the published estimates with their sources, and imports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecasting import auth, quarters
from forecasting.config import IMPORT_MAX_MB, PROVENANCE, SECTORS
from forecasting.errors import ValidationError
from forecasting.ui import data, theme, widgets

ctx = widgets.context()
st.title("Data")
st.caption(
    "Every history row says where it comes from: **published** as its source states it, **derived** by "
    "arithmetic on published figures, **modelled** by interpolation or a statistical model, or **user**-imported."
)

with widgets.guarded():
    # --- Spend history -------------------------------------------------------------------------------------
    st.subheader("Spend history")
    spend = data.spend(ctx.db_text, ctx.stamp)
    counts = spend["provenance"].value_counts().reindex(list(PROVENANCE), fill_value=0)
    chosen = st.multiselect(
        "Provenance",
        list(PROVENANCE),
        default=list(PROVENANCE),
        format_func=lambda p: f"{theme.PROVENANCE_LABELS[p]} ({counts[p]} rows)",
        help="\n".join(f"- **{theme.PROVENANCE_LABELS[k]}**: {v}" for k, v in PROVENANCE.items()),
        key="data_provenance",
    )
    sectors = sorted(spend["sector"].unique(), key=lambda s: (s not in SECTORS, s))
    sector = st.selectbox(
        "Sector",
        ["(all sectors)", *sectors],
        format_func=lambda s: s if s.startswith("(") else theme.sector_label(s),
        key="data_sector",
    )
    shown = spend[spend["provenance"].isin(chosen)]
    if not sector.startswith("("):
        shown = shown[shown["sector"] == sector]
    table = pd.DataFrame(
        {
            "quarter": shown["period"].map(quarters.label),
            "sector": shown["sector"].map(theme.sector_label),
            "region": shown["region"],
            "workload": shown["workload"],
            "spend_usd_m": shown["spend_usd"] / 1e6,
            "provenance": shown["provenance"],
            "sources": shown["source_ids"],
            "method": shown["method"],
        }
    )
    st.markdown(f"**{len(table):,}** of {len(spend):,} rows shown.")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=320,
        column_config={"spend_usd_m": st.column_config.NumberColumn("spend (USD m)", format="%.1f")},
    )
    widgets.download(shown, "history", ctx, label="Download these history rows", key="dl_history")

    # --- Published estimates ----------------------------------------------------------------------------
    st.subheader("Published estimates")
    est = data.estimates(ctx.db_text, ctx.stamp)
    metrics = sorted(est["metric"].unique())
    picked = st.multiselect("Metric", metrics, placeholder="All metrics", key="data_metrics")
    text = st.text_input("Search publisher, title or note", key="data_search")
    view = est[est["metric"].isin(picked)] if picked else est
    if text:
        hay = view["publisher"].fillna("") + " " + view["title"].fillna("") + " " + view["note"].fillna("")
        view = view[hay.str.contains(text, case=False, regex=False)]
    st.markdown(f"**{len(view):,}** of {len(est):,} figures shown; each links to its source.")
    st.dataframe(
        view[
            [
                "metric",
                "scope",
                "sector",
                "year",
                "period",
                "value",
                "unit",
                "kind",
                "publisher",
                "title",
                "source_date",
                "url",
                "note",
                "estimate_id",
            ]
        ],
        hide_index=True,
        width="stretch",
        height=320,
        column_config={
            "url": st.column_config.LinkColumn("source", display_text="open"),
            "year": st.column_config.NumberColumn("year", format="%d"),
        },
    )
    widgets.download(view, "estimates", ctx, label="Download these estimates", key="dl_estimates")

    # --- Import ------------------------------------------------------------------------------------------
    st.subheader("Import your own data")
    st.markdown(
        "A long file with columns `period, sector, workload, spend_usd` and optionally `region, source`: "
        "one row per quarter (`2024Q3`), sector and workload (`training` or `inference`), spend in US dollars. "
        f"CSV or Parquet, up to {IMPORT_MAX_MB} MB. Nothing is written unless every row is valid; imported rows "
        "get provenance **user** and are used by the next `forecasting refresh`."
    )
    with st.form("import_form", clear_on_submit=False):
        upload = st.file_uploader("File", type=list(data.UPLOAD_TYPES), key="import_file")
        replace = st.checkbox(
            "Replace shipped values that have the same quarter, sector, region and workload", key="import_replace"
        )
        submitted = st.form_submit_button("Validate and import", type="primary")
    if submitted and upload is None:
        st.warning("Choose a file first.")
    elif submitted and upload is not None:
        try:
            with auth.write(ctx.db, "import", upload.name):
                summary = data.import_upload(ctx.db, upload.name, upload.getvalue(), replace=replace)
        except ValidationError as exc:
            st.error(
                f"**{upload.name}** was not imported: {len(exc.problems)} problem(s) found. "
                "Fix them and upload again; nothing was written.",
                icon=":material/block:",
            )
            report = data.problems_frame(exc.problems)
            st.dataframe(report, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(report)))
            widgets.download(report, "import-problems", ctx, label="Download the validation report", key="dl_problems")
        else:
            st.success(
                f"Imported **{upload.name}**: {summary.rows} rows read, {summary.inserted} new, "
                f"{summary.updated} updated, {summary.unchanged} unchanged; sectors "
                f"{', '.join(theme.sector_label(s) for s in summary.sectors)}; {summary.first_period} to "
                f"{summary.last_period}. Run `forecasting refresh` to forecast with them.",
                icon=":material/check_circle:",
            )
