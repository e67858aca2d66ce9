"""Data page: the spend history by provenance with its sources, the published estimates, and imports.

Every write this page makes (an import, an undo, starting a refresh) goes through one small function
below (``_import``, ``_undo``, ``_start_refresh``), so a permission check can guard each in one place.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import streamlit as st

from forecasting import auth, imports, quarters
from forecasting.config import IMPORT_MAX_MB, PROVENANCE, SECTORS
from forecasting.errors import ForecastingError, ValidationError
from forecasting.ingest import ImportSummary
from forecasting.ui import charts, data, theme, widgets, words

log = logging.getLogger(__name__)

#: Session-state keys: the last write's message, the refresh started here, the undo confirmation's round.
NOTICE_KEY, REFRESH_KEY, UNDO_ROUND_KEY = "data_notice", "data_refresh", "data_undo_round"


def _import(ctx: widgets.Context, name: str, content: bytes, replace: bool) -> ImportSummary:
    """Write (editors): import an uploaded file as one recorded import."""
    with auth.write(ctx.db, "import", name):
        return data.import_upload(ctx.db, name, content, replace=replace, actor=auth.user_name())


def _undo(ctx: widgets.Context, import_id: int) -> imports.UndoSummary:
    """Write (editors): undo one recorded import (its rows removed, what they replaced put back)."""
    with auth.write(ctx.db, "import.undo", f"import {import_id}"):
        return imports.undo_import(ctx.db, import_id, actor=auth.user_name())


def _start_refresh(ctx: widgets.Context) -> int:
    """Write (admins): start ``forecasting refresh`` as its own process; returns its pid."""
    with auth.write(ctx.db, "refresh.start", "from the Data page"):
        return data.start_refresh(ctx.db)


def _after_write(kind: str, message: str, notes: tuple[str, ...] = ()) -> None:
    """Forget the cached readers the write changed and rerun, so every count on the page is current."""
    data.forget_data()
    st.session_state[NOTICE_KEY] = (kind, message, notes)
    st.rerun()


ctx = widgets.context()
st.title("Data")
st.caption(
    "Every history row says where it comes from: **published** as its source states it, **derived** by "
    "arithmetic on published figures, **modelled** by interpolation or a statistical model, or **user**-imported."
)


def _notice() -> None:
    """The outcome of the last write (kept across the rerun that refreshed the counts), then the refresh offer."""
    notice = st.session_state.get(NOTICE_KEY)
    if notice is not None:
        kind, message, notes = notice
        (st.success if kind == "ok" else st.info)(message, icon=":material/check_circle:")
        for note in notes:
            st.warning(note, icon=":material/warning:")
    pid = st.session_state.get(REFRESH_KEY)
    if pid is not None:
        _refresh_status(ctx.db_text, *pid)
        return
    widgets.stopped_notice()
    if (
        notice is not None
        and widgets.may("refresh.start", "starting a refresh from the dashboard")
        and st.button("Start a refresh now", key="data_start_refresh", type="primary")
    ):
        st.session_state.pop(widgets.REFRESH_STOPPED_KEY, None)
        st.session_state[REFRESH_KEY] = (_start_refresh(ctx), ctx.run_id or "")
        st.rerun()


@st.fragment(run_every=3)
def _refresh_status(db: str, pid: int, before: str) -> None:
    """While a refresh started here runs, poll for a new published run; say so when it stops without one."""
    seen = widgets.refresh_state(Path(db), pid, before or None)
    if seen.published is not None:
        st.session_state.pop(REFRESH_KEY, None)
        st.session_state.pop(NOTICE_KEY, None)
        data.forget_data()
        st.success(f"Refresh published run {seen.published}.", icon=":material/check_circle:")
        return
    if not seen.running:
        widgets.refresh_stopped(Path(db), pid, REFRESH_KEY)
    log_file = data.refresh_log_path(Path(db)).name
    st.info(
        f"Refresh running (process {pid}); the forecast pages show the new run when it is published. "
        f"If it stops without publishing, its reason is in `{log_file}` next to the database.",
        icon=":material/autorenew:",
    )


def _run_import(name: str, content: bytes, replace: bool) -> None:
    """Import the upload; on success rerun with a summary, on failure show the validation report."""
    try:
        summary = _import(ctx, name, content, replace)
    except ValidationError as exc:
        total = getattr(exc, "total", len(exc.problems))
        shown = f" (the first {len(exc.problems):,} are listed)" if total > len(exc.problems) else ""
        st.error(
            f"**{words.plain(name)}** was not imported: {total:,} problem(s) found{shown}. "
            "Fix them and upload again; nothing was written.",
            icon=":material/block:",
        )
        report = data.problems_frame(exc.problems)
        st.dataframe(report, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(report)))
        widgets.download(report, "import-problems", ctx, label="Download the validation report", key="dl_problems")
        return
    st.session_state.pop(REFRESH_KEY, None)
    recorded = f"as import {summary.import_id}" if summary.import_id is not None else "(nothing changed)"
    _after_write(
        "ok",
        f"Imported **{words.plain(name)}** {recorded}: {summary.rows} rows read, {summary.inserted} new, "
        f"{summary.updated} updated, {summary.unchanged} unchanged; sectors "
        f"{', '.join(theme.sector_label(s) for s in summary.sectors)}; {quarters.text(summary.first_period)} to "
        f"{quarters.text(summary.last_period)}. Start a refresh to forecast with them.",
        summary.notes,
    )


def _imports_section() -> None:
    """The recorded imports, and undoing one (with a confirmation that resets after each use)."""
    st.subheader("Imports")
    listed = data.imports_list(ctx.db_text, ctx.stamp)
    if listed.empty:
        st.markdown("No imports yet.")
        return
    st.dataframe(_imports_table(listed), hide_index=True, width="stretch")
    active = listed[listed["undone_at"].isna()]
    if active.empty or not widgets.may("import.undo", "undoing an import"):
        return
    labels = {int(r.import_id): f"{r.import_id}: {r.file_name} ({r.row_count} rows)" for r in active.itertuples()}
    chosen = st.selectbox("Import to undo", list(labels), format_func=labels.__getitem__, key="undo_choice")
    round_ = st.session_state.get(UNDO_ROUND_KEY, 0)
    sure = st.checkbox(
        f"Yes, undo import {chosen}: remove its rows and put back what they replaced", key=f"undo_sure_{round_}"
    )
    if st.button("Undo import", key="undo_button", disabled=not sure) and chosen is not None:
        st.session_state[UNDO_ROUND_KEY] = round_ + 1  # the next confirmation starts unticked
        try:
            done = _undo(ctx, chosen)
        except ForecastingError as exc:
            st.error(words.plain(str(exc)), icon=":material/block:")  # names the imports' files: user text
            return
        st.session_state.pop(REFRESH_KEY, None)
        _after_write(
            "ok",
            f"Undid import {done.import_id} ({words.plain(done.file_name)}): {done.removed} rows removed, "
            f"{done.restored} restored. Start a refresh to forecast without them.",
        )


def _imports_table(listed: pd.DataFrame) -> pd.DataFrame:
    """The imports as shown: id, time (UTC), file, rows, new, updated, by, sectors, status."""
    status = listed["undone_at"].map(lambda t: "active" if pd.isna(t) else f"undone {words.moment_text(t)} UTC")
    return pd.DataFrame(
        {
            "id": listed["import_id"],
            "imported (UTC)": listed["imported_at"].map(words.moment_text),
            "file": listed["file_name"],
            "rows": listed["row_count"],
            "new": listed["inserted"],
            "updated": listed["updated"],
            "by": listed["actor"],
            "sectors": listed["sectors"].map(lambda v: ", ".join(theme.sector_label(x) for x in v.split(";") if x)),
            "status": status,
        }
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
    cited = data.cited_sources(ctx.db_text, ctx.stamp).set_index("source_ids")
    shown = spend[spend["provenance"].isin(chosen)]
    if not sector.startswith("("):
        shown = shown[shown["sector"] == sector]
    table = pd.DataFrame(
        {
            "quarter": shown["period"].map(quarters.text),  # "2025 Q4", as every screen names quarters
            "sector": shown["sector"].map(theme.sector_label),
            "region": shown["region"],
            "workload": shown["workload"],
            "spend_usd_bn": shown["spend_usd"] / charts.BILLION,  # USD billions, as on every chart
            "provenance": shown["provenance"],
            "sources": shown["source_ids"].map(cited["cited"]),
            "link": shown["source_ids"].map(cited["link"]),
            "method": shown["method"],
        }
    )
    st.markdown(f"**{len(table):,}** of {len(spend):,} rows shown.")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=320,
        column_config={
            "spend_usd_bn": st.column_config.NumberColumn("spend (USD bn)", format="%.4f"),
            "sources": st.column_config.TextColumn("sources", help="Publisher and title of each source cited"),
            "link": st.column_config.LinkColumn("link", display_text="open", help="The first cited source"),
        },
    )
    widgets.download(shown, "history", ctx, label="Download these history rows", key="dl_history")
    with st.expander("Sources cited by these rows"):
        st.dataframe(
            data.sources_of(ctx.db_text, ctx.stamp, shown["source_ids"])[
                ["publisher", "title", "source_date", "url", "rows"]
            ],
            hide_index=True,
            width="stretch",
            column_config={"url": st.column_config.LinkColumn("source", display_text="open")},
        )

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

    # --- Imports: what was imported (undo one), then a new import; its report comes last on the page ----------
    _imports_section()
    st.subheader("Import your own data")
    st.markdown(
        "A long file with columns `period, sector, workload, spend_usd` and optionally `region, source`: "
        "one row per quarter (`2024Q3`), sector and workload (`training` or `inference`), spend in US dollars "
        "written with `.` as the decimal point and no separators. "
        f"CSV or Parquet, up to {IMPORT_MAX_MB} MB. Nothing is written unless every row is valid and each sector "
        "has both workloads on the same quarters; imported rows get provenance **user**, and each import is "
        "listed above, where it can be undone."
    )
    _notice()
    if widgets.may("import", "importing data"):
        with st.form("import_form", clear_on_submit=False):
            upload = st.file_uploader("File", type=list(data.UPLOAD_TYPES), key="import_file")
            replace = st.checkbox(
                "Replace shipped values that have the same quarter, sector, region and workload", key="import_replace"
            )
            submitted = st.form_submit_button("Validate and import", type="primary")
        if submitted and upload is None:
            st.warning("Choose a file first.")
        elif submitted and upload is not None:
            _run_import(upload.name, upload.getvalue(), replace)
