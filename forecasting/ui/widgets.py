"""Pieces every page shares: the page context, error guard, notices, vintage line and CSV downloads."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from .. import auth, export, quarters, reports, vintages
from ..config import TOTAL, sector_of
from ..errors import DatabaseBusyError, ForecastingError
from ..scenario import BASELINE, Scenario
from ..share import DEFAULT_DEFINITION, DEFINITIONS
from . import changes, controls, data, downloads, theme, words

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Export kinds no scenario changes: their file names carry no scenario.
SCENARIO_FREE_KINDS = frozenset({"history", "backtests"})

#: Session-state key of the saved scenario chosen in the sidebar (loaded into ``controls.WORK``).
SCENARIO_KEY = "scenario_name"
#: Session-state key of a saved scenario the sidebar should show from the next rerun (set after a save).
PENDING_KEY = "scenario_pending"
DEFAULT_SCENARIO = BASELINE
#: Session-state key of the crossover threshold chosen in the sidebar (inference reaches it x training).
THRESHOLD_KEY = "crossover_threshold"
DEFAULT_THRESHOLD = 1.0
THRESHOLD_MIN, THRESHOLD_MAX, THRESHOLD_STEP = 1.0, 3.0, 0.25
#: Session-state key of the definition chosen in the sidebar (what the inference share measures).
DEFINITION_KEY = "share_definition"


@dataclass(frozen=True)
class Context:
    """What a page needs to know about the database: its path, data stamp and published run."""

    db: Path
    stamp: str
    run_id: str | None

    @property
    def db_text(self) -> str:
        """The path as text (cache keys take plain values)."""
        return str(self.db)


def context() -> Context:
    """The current database, its stamp and the latest published run (cached per stamp)."""
    db = data.database()
    stamp = data.stamp(db)
    return Context(db, stamp, data.latest_run_id(str(db), stamp))


@contextmanager
def guarded() -> Iterator[None]:
    """Turn package errors into a notice and stop the page, instead of a traceback."""
    try:
        yield
    except DatabaseBusyError:
        log.info("database busy; showing the refreshing notice")
        st.info(
            "The database is being refreshed right now. This page will be readable again in a few seconds.",
            icon=":material/hourglass_top:",
        )
        st.button("Try again", key="busy_retry")
        st.stop()
    except ForecastingError as exc:
        log.warning("page stopped: %s", exc)
        st.error(words.plain(str(exc)), icon=":material/error:")
        st.stop()


def may(action: str, what: str) -> bool:
    """Whether the signed-in user may do ``action`` (an ``auth.ACTIONS`` key); if not, one line saying so.

    The page then leaves out the controls of ``what`` (e.g. "importing data") instead of offering a form
    that is refused on submit; the write itself stays guarded by ``auth.write`` on the server.
    """
    user = auth.current_user()
    if user is not None and auth.role_allows(user.role, action):
        return True
    who = f"{words.plain(user.name)} is a {user.role}" if user is not None else "Nobody is signed in"
    st.caption(f":material/lock: {who}: {what} needs the {auth.ACTIONS[action]} role.")
    return False


def no_run_notice(ctx: Context) -> None:
    """Explain that no forecast run exists yet and offer to start ``forecasting refresh``."""
    st.warning(
        "No forecast has been published yet. Run `forecasting refresh` (or press the button) to fit the "
        "models and publish a forecast run; the history and published figures are on the **Data** page already.",
        icon=":material/pending:",
    )
    pid = st.session_state.get("refresh_pid")
    if pid is None:
        stopped_notice()
        if not may("refresh.start", "starting a refresh from the dashboard"):
            return
        if st.button("Run `forecasting refresh` now", key="start_refresh", type="primary"):
            with auth.write(ctx.db, "refresh.start", "from the dashboard"):
                st.session_state.pop(REFRESH_STOPPED_KEY, None)
                st.session_state["refresh_pid"] = data.start_refresh(ctx.db)
            st.rerun()
    else:
        _refresh_progress(ctx.db_text)


#: Session-state key of why the last refresh started here ended without a new run (shown until the next start).
REFRESH_STOPPED_KEY = "refresh_stopped"


@dataclass(frozen=True)
class RefreshState:
    """Where a refresh started from the dashboard stands: whether it still runs, and the run it published."""

    running: bool
    published: str | None


def refresh_state(db: Path, pid: int, before: str | None) -> RefreshState:
    """Whether refresh ``pid`` still runs, and the published run if it is a new one (not ``before``).

    While the refresh publishes, the database is busy: it counts as running.
    """
    running = pid > 0 and data.refresh_running(pid)  # asked before the run is looked up, so no exit is missed
    try:
        latest = vintages.latest_run_id(db)
    except DatabaseBusyError:  # the refresh is publishing right now
        return RefreshState(True, None)
    return RefreshState(running, latest if latest is not None and latest != before else None)


def refresh_stopped(db: Path, pid: int, key: str) -> NoReturn:
    """Refresh ``pid`` (kept under session-state ``key``) ended without publishing: record why, rerun the app.

    The page then says so, with the log's last line (:func:`stopped_notice`), and offers the button again.
    """
    st.session_state.pop(key, None)
    log_name = data.refresh_log_path(db).name
    st.session_state[REFRESH_STOPPED_KEY] = words.refresh_stopped_text(pid, data.refresh_log_tail(db), log_name)
    st.rerun(scope="app")


def stopped_notice() -> None:
    """Say why the last refresh started here ended without a new run, if it did."""
    if text := st.session_state.get(REFRESH_STOPPED_KEY):
        st.error(text, icon=":material/error:")


@st.fragment(run_every=3)
def _refresh_progress(db: str) -> None:
    """While a refresh started here runs, poll for the new run and reload the page when it lands or it stops."""
    pid = int(st.session_state.get("refresh_pid") or 0)
    seen = refresh_state(Path(db), pid, None)
    if seen.published is not None:
        st.session_state.pop("refresh_pid", None)
        st.rerun(scope="app")
    if not seen.running:
        refresh_stopped(Path(db), pid, "refresh_pid")
    st.info(
        f"Refresh running (process {st.session_state.get('refresh_pid')}); this page reloads when it is published.",
        icon=":material/autorenew:",
    )


def vintage_line(ctx: Context, last_observed: pd.Timestamp | None, run_created: object | None) -> None:
    """One caption naming the data vintage (last observed quarter) and the forecast vintage (run)."""
    parts = [f"Data through **{quarters.text(last_observed)}**" if last_observed is not None else "No history"]
    if ctx.run_id is not None:
        when = f", published {words.moment_text(run_created)} UTC" if run_created is not None else ""
        parts.append(f"forecast run **`{ctx.run_id}`**{when}")
    st.caption(" · ".join(parts))


def history_words(ctx: Context) -> str:
    """One sentence on what the history is: modelled (structural sectors) or observed (imported data).

    Sectors the run forecast but left out of the crossovers (a workload missing, or a history that ends
    in another quarter) are named too: otherwise they would just be missing from every crossover. So
    are sectors in the crossovers whose forecast is the naive fallback (:func:`words.fallback_words`).
    """
    if ctx.run_id is None:
        return ""
    run = data.run(ctx.db_text, ctx.run_id)
    in_paths = run.require_paths().sectors if run.paths is not None else ()
    fitted = dict.fromkeys(sector_of(str(u)) for u in run.status["unique_id"])
    left = [theme.sector_label(s) for s in fitted if s != TOTAL and s not in in_paths]
    out = (
        f" Left out of the crossovers (a history that ends in another quarter than the rest, or a workload "
        f"missing): {', '.join(left)}; see the Data page."
        if left
        else ""
    )
    fell_back = run.fallback_sectors()
    out += words.fallback_words([theme.sector_label(s) for s in in_paths if s in fell_back])
    if run.structure is None:
        return "The history is the data as stored; the forecast is the statistical engine's." + out
    user = [theme.sector_label(s) for s in in_paths if s not in run.structure.sectors]
    base = (
        "The history is **modelled** from published figures (no source splits spend by workload and sector), "
        "not observed; its band is the share model's uncertainty."
    )
    return base + (f" Imported sectors ({', '.join(user)}) keep the statistical engine." if user else "") + out


def file_name(table: str, ctx: Context, scenario: str | None = None, threshold: float = 1.0, ext: str = "csv") -> str:
    """The download's file name for the run shown (:func:`forecasting.export.filename`)."""
    return export.filename(table, ctx.run_id or "no-run", scenario, threshold, ext)


def scenario_tag(scn: Scenario) -> str:
    """The scenario's part of a file name: its name, with ``-edited`` while it has unsaved edits."""
    return scn.name + ("-edited" if controls.is_edited() else "")


def download(
    frame: pd.DataFrame,
    table: str,
    ctx: Context,
    scenario: str | None = None,
    *,
    label: str = "Download CSV",
    key: str | None = None,
    threshold: float = 1.0,
    spend: Sequence[str] = (),
) -> None:
    """A CSV download of ``frame`` in the units shown (``spend`` columns and ``*_usd`` in USD bn); no rerun."""
    st.download_button(
        f":material/download: {label}",
        # Built on click: a page's downloads cost its load nothing (no file is made or fetched before).
        data=lambda: downloads.to_bytes(downloads.in_shown_units(frame, spend), "csv"),
        file_name=file_name(table, ctx, scenario, threshold),
        mime="text/csv",
        key=key or "dl-" + hashlib.sha1(f"{table}|{scenario}|{label}".encode()).hexdigest()[:12],
        on_click="ignore",
    )


def download_export(kind: str, ctx: Context, scn: Scenario, *, threshold: float = 1.0) -> None:
    """Buttons for one export kind under the shown scenario, one per format, built only when clicked.

    Money is in USD billions as on screen. ``threshold`` applies to ``reports.THRESHOLD_KINDS`` only.
    """
    db, run_id = ctx.db_text, ctx.run_id or vintages.LATEST
    t = threshold if kind in reports.THRESHOLD_KINDS else 1.0
    scenario_json = data.scenario_json(scn)
    tag = None if kind in SCENARIO_FREE_KINDS else scenario_tag(scn)
    for col, fmt in zip(st.columns(len(downloads.formats())), downloads.formats(), strict=True):

        def build(fmt: str = fmt) -> bytes:
            frame = data.export_frame(db, kind, run_id, scenario_json, t, definition())
            return downloads.to_bytes(downloads.in_shown_units(frame), fmt)

        col.download_button(
            f":material/download: {fmt}",
            data=build,
            file_name=file_name(kind, ctx, tag, t, fmt),
            mime=downloads.FORMATS[fmt],
            key=f"dl_export_{kind}_{fmt}",
            on_click="ignore",
        )


def pick(widget: Callable[..., T | None], label: str, options: Sequence[T], **kwargs: Any) -> T:
    """``widget(label, options, ...)`` (a selectbox or radio) with a value that is never ``None``.

    Streamlit types these widgets as possibly empty; with at least one option and no ``index=None``
    they always hold one, and an empty option list is a bug worth stopping on.
    """
    if not options:
        raise ForecastingError(f"nothing to choose from for '{label}'")
    choice = widget(label, options, **kwargs)
    return options[0] if choice is None else choice


def scenario_picker(ctx: Context, where: str = "sidebar") -> str:
    """Choose a saved scenario (sidebar) and make it the app's working scenario; returns its name.

    Choosing another scenario loads it (edits to the previous one are dropped, as in any editor
    that opens another file); the Scenarios page edits the working scenario and every page shows it.
    """
    names = data.scenarios(ctx.db_text, ctx.stamp)["name"].tolist() or [DEFAULT_SCENARIO]
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending in names:
        st.session_state[SCENARIO_KEY] = pending
    if st.session_state.get(SCENARIO_KEY) not in names:
        st.session_state[SCENARIO_KEY] = DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0]
    box = st.sidebar if where == "sidebar" else st
    chosen = str(
        box.selectbox(
            "Scenario shown",
            names,
            key=SCENARIO_KEY,
            help="The scenario every page shows: Overview, Sectors, Scenarios and Exports. Edit its drivers on the "
            "Scenarios page. 'baseline' is the model forecast with every driver neutral.",
        )
    )
    first = controls.origin()
    if first is None or first.name != chosen or controls.WORK not in st.session_state:
        controls.load(data.scenario(ctx.db_text, ctx.stamp, chosen))
    if controls.is_edited():
        box.caption(f"**{words.plain(chosen)}** with unsaved edits (Scenarios page).")
        box.button(
            "Discard the edits", key="scenario_discard", on_click=_discard, args=(ctx.db_text, ctx.stamp, chosen)
        )
    return chosen


def _discard(db: str, data_stamp: str, name: str) -> None:
    controls.load(data.scenario(db, data_stamp, name))


def select_saved(name: str) -> None:
    """Show the saved scenario ``name`` in the sidebar from the next rerun (after a save or copy)."""
    st.session_state[PENDING_KEY] = name


def shown_scenario() -> Scenario:
    """The working scenario every page shows (the sidebar's saved scenario with the Scenarios page's edits)."""
    return controls.working()


def scenario_title(scn: Scenario) -> str:
    """The scenario's name as a title shows it: ``'name'``, or ``'name' (edited)`` with unsaved edits."""
    return f"'{scn.name}'" + (" (edited)" if controls.is_edited() else "")


def threshold_picker(where: str = "sidebar") -> float:
    """Choose the crossover threshold (sidebar): crossover when inference reaches it x training; 1 by default."""
    box = st.sidebar if where == "sidebar" else st
    if THRESHOLD_KEY not in st.session_state:
        st.session_state[THRESHOLD_KEY] = DEFAULT_THRESHOLD
    return float(
        box.slider(
            "Crossover when inference reaches … × training",
            min_value=THRESHOLD_MIN,
            max_value=THRESHOLD_MAX,
            step=THRESHOLD_STEP,
            format="%.2f×",
            key=THRESHOLD_KEY,
            help="1× is the crossover itself: inference spend at least equal to training spend. Most sectors and "
            "the total market have already crossed in the history, so choose 1.5× or 2× to ask when inference "
            "reaches that multiple of training. Every page's crossover figures, the tornado and goal seek use it; "
            "the stored crossover history of past runs (Model quality) is always 1×.",
        )
    )


def definition_picker(ctx: Context, where: str = "sidebar") -> str:
    """Choose what the inference share measures (sidebar); the run's definitions, the default first."""
    options = list(data.run(ctx.db_text, ctx.run_id).definitions) if ctx.run_id else [DEFAULT_DEFINITION]
    if st.session_state.get(DEFINITION_KEY) not in options:
        st.session_state[DEFINITION_KEY] = options[0]
    box = st.sidebar if where == "sidebar" else st
    return pick(
        box.selectbox,
        "Inference share of",
        options,
        key=DEFINITION_KEY,
        format_func=lambda d: DEFINITIONS[d],
        help="Published shares measure different things. The product's history and spend are cloud AI "
        "infrastructure spend (Gartner's AI-optimised IaaS); the other definitions read the same share model "
        "with their own offset, so their crossover dates differ (Overview shows them side by side).",
    )


def definition() -> str:
    """The definition chosen in the sidebar (the default until one is chosen)."""
    return str(st.session_state.get(DEFINITION_KEY, DEFAULT_DEFINITION))


def threshold() -> float:
    """The crossover threshold chosen in the sidebar (1.0 until one is chosen)."""
    return float(st.session_state.get(THRESHOLD_KEY, DEFAULT_THRESHOLD))


def sidebar_status(ctx: Context) -> None:
    """Database file and published run, in the sidebar."""
    run = f"`{ctx.run_id}`" if ctx.run_id else "none yet"
    st.sidebar.caption(f"Database `{ctx.db.name}` · forecast run {run}")


def run_created(ctx: Context) -> object | None:
    """Creation time of the published run, from the run list."""
    if ctx.run_id is None:
        return None
    runs = data.runs(ctx.db_text, ctx.stamp)
    row = runs[runs["run_id"] == ctx.run_id]
    return row["created_at"].iloc[0] if len(row) else None


def shown_outcome(ctx: Context) -> tuple[Scenario, data.Outcome, float]:
    """The sidebar's scenario, its outcome on the run's paths at the sidebar's threshold, and that threshold.

    Stops the page with an explanation when the run has no paths to apply a scenario to.
    """
    require_paths(ctx)
    scn = shown_scenario()
    chosen = threshold()
    run_id = ctx.run_id or vintages.LATEST
    return scn, data.outcome(ctx.db_text, run_id, data.scenario_json(scn), chosen, definition()), chosen


def require_paths(ctx: Context) -> None:
    """Stop the page with an explanation when the run has no sector with both workloads' sample paths."""
    if ctx.run_id is not None and data.run(ctx.db_text, ctx.run_id).paths is None:
        st.warning(
            f"Forecast run `{ctx.run_id}` has no sector with both a training and an inference series on the same "
            "quarters, so there is no crossover to show. Import both workloads for a sector (Data page) and run "
            "`forecasting refresh` again.",
            icon=":material/info:",
        )
        st.stop()


def baseline_scenario(ctx: Context) -> Scenario:
    """The saved ``baseline`` (every driver neutral), or an empty scenario of that name if it was never saved."""
    names = data.scenarios(ctx.db_text, ctx.stamp)["name"].tolist()
    return data.scenario(ctx.db_text, ctx.stamp, BASELINE) if BASELINE in names else Scenario(BASELINE)


def changes_panel(ctx: Context, scn: Scenario, out: data.Outcome) -> None:
    """What the shown scenario changed against the baseline (drivers and crossover shifts), built when opened.

    The title counts the moved drivers; the baseline's outcome is computed only when the panel is open.
    """
    base_scn = baseline_scenario(ctx)
    drivers = changes.moved_drivers(scn, base_scn, [s for s in out.crossovers if s != TOTAL])
    box = opened(changes.label(drivers), "changes_panel", icon=":material/compare_arrows:")
    if box is None:
        return
    with box:
        base = out
        if not drivers.empty:
            run_id = ctx.run_id or vintages.LATEST
            base = data.outcome(ctx.db_text, run_id, data.scenario_json(base_scn), threshold(), out.definition)
        changes.tables(drivers, out, base)


def opened(label: str, key: str, *, icon: str | None = None) -> DeltaGenerator | None:
    """A collapsed expander whose content is built only once it is opened: the expander if open, else ``None``.

    Closed, it sends nothing to the browser and reads nothing, so it costs a page's first load nothing
    (a table in it would load the browser's data-grid code before the first chart is drawn); opening
    or closing it reruns the page.
    """
    box = st.expander(label, key=key, icon=icon, on_change="rerun")
    return box if box.open else None


#: Session-state key of the format of chart images (the camera button of every chart's toolbar).
IMAGE_FORMAT_KEY = "chart_image_format"
IMAGE_FORMATS = ("png", "svg")


def chart(fig: Any, key: str) -> None:
    """A Plotly chart whose toolbar camera saves it as PNG (twice the screen's resolution) or SVG, named by key."""
    fmt = st.session_state.get(IMAGE_FORMAT_KEY, IMAGE_FORMATS[0])
    st.plotly_chart(
        fig,
        key=key,
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": fmt, "filename": f"crossover_{key}", "scale": 2},
        },
    )


def image_format_picker() -> None:
    """Choose the format of chart images; kept in session state for every page (widget state is per page)."""
    current = st.session_state.get(IMAGE_FORMAT_KEY, IMAGE_FORMATS[0])
    st.segmented_control(
        "Chart images (toolbar camera)",
        list(IMAGE_FORMATS),
        default=current,
        key="image_format_choice",
        format_func=str.upper,
        on_change=_keep_image_format,
        help="PNG at twice the screen's resolution, or SVG to scale without loss; applies to every page's charts.",
    )


def _keep_image_format() -> None:
    st.session_state[IMAGE_FORMAT_KEY] = st.session_state.get("image_format_choice") or IMAGE_FORMATS[0]
