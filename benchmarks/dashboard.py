"""Dashboard speed on the shipped data: overview first paint and scenario slider re-render.

Builds a database from ``data/``, publishes one run with the default settings (that refresh, a cold
refit of every series, is the named peer), then measures server time with Streamlit's AppTest:

* overview first paint, cold: empty caches, a new session (reads the run, applies the scenario);
* overview first paint, warm: another new session once the caches hold the run;
* scenario slider change: a new value each time (never cached), whole page re-rendered;

and, with ``--browser``, wall time in headless Chromium against ``streamlit run`` (page load until
the headline and the first chart are drawn, and slider key press until the headline changes).

Run: ``python benchmarks/dashboard.py [--repeats 5] [--browser]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting import store  # noqa: E402
from forecasting.bootstrap import init_db  # noqa: E402
from forecasting.config import Settings  # noqa: E402
from forecasting.refresh import run_refresh  # noqa: E402

APP = str(ROOT / "app.py")
BUDGET_FIRST_PAINT = 3.0
BUDGET_SLIDER = 0.5


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


def browser_timings(db: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Wall seconds in Chromium: overview load to headline + first chart (a new session each time, the
    browser's HTTP cache kept after the first load); slider key press to new headline."""
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CROSSOVER_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    loads, slides = [], []
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)  # noqa: S310 - local server
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            browser_context = b.new_context(viewport={"width": 1280, "height": 900})  # HTTP cache kept across loads
            for _ in range(repeats):
                pg = browser_context.new_page()
                t = time.perf_counter()
                pg.goto(url)
                pg.locator("h3", has_text="overt").first.wait_for(timeout=60_000)
                pg.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
                loads.append(time.perf_counter() - t)
                pg.close()
            pg = b.new_page(viewport={"width": 1280, "height": 900})
            pg.goto(f"{url}/scenarios")
            heading = pg.locator("h3", has_text="overt").first
            heading.wait_for(timeout=60_000)
            thumb = pg.locator('[data-testid="stSlider"]', has_text="Edge offload target year").get_by_role("slider")
            for i in range(repeats):
                before = heading.inner_text()
                thumb.focus()
                t = time.perf_counter()
                thumb.press("Home" if i % 2 == 0 else "End")
                pg.wait_for_function(
                    "old => [...document.querySelectorAll('h3')].some(h => h.innerText.includes("
                    "'overt') && h.innerText !== old)",
                    arg=before,
                    timeout=60_000,
                )
                slides.append(time.perf_counter() - t)
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return loads, slides


def _fmt(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:7.0f} ms  max {max(xs) * 1000:7.0f} ms  (n={len(xs)})"


def main() -> None:
    """Build, refresh, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="also time the real server in headless Chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "crossover.duckdb"
        init_db(db, store.DATA_DIR)
        t = time.perf_counter()
        summary = run_refresh(db, Settings())
        refit = time.perf_counter() - t
        os.environ["CROSSOVER_DB"] = str(db)
        cold, warm = first_paint(args.repeats)
        slides = slider_changes(args.repeats * 2)
        print(f"shipped data, run {summary.run_id}, {summary.n_series} series, default settings")
        print(f"peer: cold refit (forecasting refresh)     {refit * 1000:9.0f} ms")
        print(f"overview first paint, cold caches (server) {_fmt(cold)}  budget {BUDGET_FIRST_PAINT * 1000:.0f} ms")
        print(f"overview first paint, warm caches (server) {_fmt(warm)}")
        print(f"slider change, new value (server)          {_fmt(slides)}  budget {BUDGET_SLIDER * 1000:.0f} ms")
        print(
            f"ratio: cold refit / slider change = {refit / statistics.median(slides):,.0f}x; "
            f"cold refit / cold first paint = {refit / statistics.median(cold):,.0f}x"
        )
        if args.browser:
            loads, browser_slides = browser_timings(db, args.repeats)
            print(f"browser: overview load to headline + chart {_fmt(loads)}  first load {loads[0] * 1000:.0f} ms")
            print(f"browser: slider key press to new headline  {_fmt(browser_slides)}")


if __name__ == "__main__":
    main()
