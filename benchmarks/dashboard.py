"""Dashboard speed on the shipped data, in real Chromium: first chart on a new session, threshold slider updates.

Builds a database from ``data/`` and publishes one run with the default settings (that refresh, a cold
refit of every series, is the named peer), then times ``streamlit run app.py`` in headless Chromium:

* first visit: a new browser profile opens the app's root URL, until the headline and the first chart
  are drawn (server caches empty, nothing cached in the browser);
* new session: the same in a new tab, five times (server caches and the browser's HTTP cache warm);
* threshold: a key press on the sidebar's threshold slider until the overview's headline changes, ten
  times (eight new values, then two computed before); median and max; and to the end of the page's
  rerun (Streamlit's app element marked ``notRunning``); a checkout's next measurement starts only then.

Then the floor, the named peer for the first chart: a bare Streamlit page with one three-point Plotly
chart, served and timed the same way (new sessions), so that the figures say how much of the first
chart's time is ours and how much Streamlit's and Plotly's in this browser on this machine.

``--against DIR`` times another checkout (e.g. ``git worktree add /tmp/dash-before 445f42d``) in the same
run, on the same database, in turns with this one (each measurement of one followed by the same of the
other), so that both see the same load on a shared machine.  ``--server`` adds the server-only timings
with Streamlit's AppTest.

Run: ``python benchmarks/dashboard.py [--repeats 5] [--server] [--against /tmp/dash-before] [--db F]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting import store  # noqa: E402
from forecasting.bootstrap import init_db  # noqa: E402
from forecasting.config import Settings  # noqa: E402
from forecasting.refresh import run_refresh  # noqa: E402
from tests.test_e2e import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - the browser the e2e tests drive, launched alike

if TYPE_CHECKING:  # Playwright is imported when a browser is timed
    from playwright.sync_api import BrowserContext, Page

APP = str(ROOT / "app.py")
BUDGET_FIRST_PAINT = 3.0
BUDGET_SLIDER = 0.5
#: The issue's targets in the browser: first chart on a new session, threshold slider median.
TARGET_FIRST_CHART = 2.0
TARGET_THRESHOLD = 0.4


def _apptest():  # type: ignore[no-untyped-def]  # AppTest is imported lazily, so it cannot annotate the return
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120)


def first_paint(repeats: int) -> tuple[list[float], list[float]]:
    """Seconds for the overview's first run in a new session: with empty caches, and with warm ones."""
    import streamlit as st

    cold, warm = [], []
    for _ in range(repeats):
        st.cache_data.clear()
        at = _apptest()
        t = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - t)
        assert not at.exception, at.exception
        at = _apptest()
        t = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t)
    return cold, warm


def slider_changes(repeats: int) -> list[float]:
    """Seconds to re-render the Scenarios page after a slider moves to a value not seen before."""
    at = _apptest()
    at.run()
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    times = []
    values = [0.30 + 0.02 * i for i in range(repeats)]
    for v in values:
        slider = next(s for s in at.slider if s.key.endswith(".all.adoption_speed.pt"))
        slider.set_value(round(v, 2))
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    return times


@dataclass
class BrowserTimes:
    """Wall seconds in Chromium against one checkout's ``streamlit run app.py``."""

    first_visit: float = 0.0  # the first load: nothing cached in the browser, server caches empty
    new_session: list[float] = field(default_factory=list)  # a new tab each time, caches warm
    threshold: list[float] = field(default_factory=list)  # threshold key press to the new overview headline
    settled: list[float] = field(default_factory=list)  # the same key press to the end of the page's rerun


def _serve(root: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` of the checkout at ``root`` on a free port; returns the process and its URL."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CROSSOVER_DB": str(db), "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)  # noqa: S310 - local server
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"streamlit in {root} did not start")


def _first_chart(ctx: BrowserContext, url: str) -> float:
    """Seconds from opening the app's root URL in a new tab to the headline and the first chart drawn."""
    pg = ctx.new_page()
    t = time.perf_counter()
    pg.goto(url)
    pg.locator("h3", has_text="overt").first.wait_for(timeout=120_000)
    pg.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=120_000)
    took = time.perf_counter() - t
    pg.close()
    return took


#: Streamlit marks its app element with the script's state; this matches once a run has ended.
NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _open_overview(ctx: BrowserContext, url: str) -> Page:
    pg = ctx.new_page()
    pg.goto(url)
    pg.locator("h3", has_text="overt").first.wait_for(timeout=120_000)
    pg.locator(NOT_RUNNING).wait_for(timeout=120_000)
    return pg


def _threshold_step(pg: Page, key: str) -> tuple[float, float]:
    """Seconds from a key press on the sidebar's threshold slider to the new headline, and to the run's end."""
    thumb = pg.locator('[data-testid="stSlider"]', has_text="Crossover when inference reaches").get_by_role("slider")
    before = pg.locator("h3").first.inner_text()
    thumb.focus()
    t = time.perf_counter()
    thumb.press(key)
    pg.wait_for_function(
        "old => { const h = document.querySelector('h3'); return h && h.innerText !== old; }",
        arg=before,
        timeout=120_000,
    )
    headline = time.perf_counter() - t  # the run has started by now: the headline is one of its elements
    pg.locator(NOT_RUNNING).wait_for(timeout=120_000)
    return headline, time.perf_counter() - t


def browser_timings(roots: list[Path], db: Path, repeats: int) -> list[BrowserTimes]:
    """Wall seconds in Chromium for each checkout, measured in turns so that each sees the same machine load.

    First visits, then ``repeats`` new sessions each, then ten threshold steps each: eight right (1.25x to
    3x, values not computed before), two back (computed before).
    """
    from playwright.sync_api import sync_playwright

    served = [_serve(root, db) for root in roots]
    times = [BrowserTimes() for _ in roots]
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # One browser profile per checkout, its HTTP cache kept across that checkout's sessions.
            contexts = [b.new_context(viewport={"width": 1440, "height": 900}) for _ in roots]
            for bt, ctx, (_, url) in zip(times, contexts, served, strict=True):
                bt.first_visit = _first_chart(ctx, url)
            for _ in range(repeats):
                for bt, ctx, (_, url) in zip(times, contexts, served, strict=True):
                    bt.new_session.append(_first_chart(ctx, url))
            pages = [_open_overview(ctx, url) for ctx, (_, url) in zip(contexts, served, strict=True)]
            for i in range(10):
                for bt, pg in zip(times, pages, strict=True):
                    headline, settled = _threshold_step(pg, "ArrowRight" if i < 8 else "ArrowLeft")
                    bt.threshold.append(headline)
                    bt.settled.append(settled)
            b.close()
    finally:
        for proc, _ in served:
            proc.terminate()
            proc.wait(timeout=10)
    return times


#: The floor: a Streamlit page with a heading and one three-point Plotly chart, nothing of ours.
FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

st.markdown("### Inference overtakes training")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
"""


def floor_timings(tmp: Path, db: Path, repeats: int) -> list[float]:
    """New-session seconds to the first chart of :data:`FLOOR_APP`: what Streamlit and Plotly cost alone here."""
    from playwright.sync_api import sync_playwright

    root = tmp / "floor"
    root.mkdir()
    (root / "app.py").write_text(FLOOR_APP)
    proc, url = _serve(root, db)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = b.new_context(viewport={"width": 1440, "height": 900})
            _first_chart(ctx, url)  # the first visit fills the HTTP cache, as for the checkouts
            times = [_first_chart(ctx, url) for _ in range(repeats)]
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return times


def _fmt(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:7.0f} ms  max {max(xs) * 1000:7.0f} ms  (n={len(xs)})"


def _report(label: str, bt: BrowserTimes) -> None:
    print(f"{label}: first visit (empty caches) to headline + chart  {bt.first_visit * 1000:7.0f} ms")
    print(f"{label}: new session to headline + chart      {_fmt(bt.new_session)}  target {TARGET_FIRST_CHART:.1f} s")
    print(f"{label}: threshold key press to new headline  {_fmt(bt.threshold)}  target {TARGET_THRESHOLD:.1f} s")
    print(f"{label}:   of which new values (first 8)      {_fmt(bt.threshold[:8])}")
    print(f"{label}: threshold key press to page settled  {_fmt(bt.settled)}")


def main() -> None:
    """Build, refresh, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--server", action="store_true", help="also time the server alone with AppTest")
    parser.add_argument("--against", type=Path, help="another checkout (a worktree of 445f42d) timed in the same run")
    parser.add_argument("--db", type=Path, help="reuse this refreshed database instead of building one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "crossover.duckdb"
        if not db.exists():
            init_db(db, store.DATA_DIR)
            t = time.perf_counter()
            summary = run_refresh(db, Settings())
            refit = time.perf_counter() - t
            print(f"shipped data, run {summary.run_id}, {summary.n_series} series, default settings")
            print(f"peer: cold refit (forecasting refresh)     {refit * 1000:9.0f} ms")
        if args.server:
            os.environ["CROSSOVER_DB"] = str(db)
            cold, warm = first_paint(args.repeats)
            slides = slider_changes(args.repeats * 2)
            print(f"overview first paint, cold caches (server) {_fmt(cold)}  budget {BUDGET_FIRST_PAINT * 1000:.0f} ms")
            print(f"overview first paint, warm caches (server) {_fmt(warm)}")
            print(f"slider change, new value (server)          {_fmt(slides)}  budget {BUDGET_SLIDER * 1000:.0f} ms")
        roots = ([args.against.resolve()] if args.against is not None else []) + [ROOT]
        labels = ([f"before ({args.against.name})"] if args.against is not None else []) + ["this checkout"]
        timed = browser_timings(roots, db, args.repeats)
        for label, bt in zip(labels, timed, strict=True):
            _report(label, bt)
        floor = floor_timings(Path(tmp), db, args.repeats)
        print(f"floor (a bare Streamlit page, one Plotly chart): new session to chart  {_fmt(floor)}")
        ratio = statistics.median(timed[-1].new_session) / statistics.median(floor)
        print(f"this checkout / floor, new session to chart (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
