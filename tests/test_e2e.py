"""End to end: the real ``streamlit run app.py`` server driven by headless Chromium (Playwright).

Set ``CROSSOVER_SCREENSHOT=docs/images/overview.png`` to also save a screenshot of the overview
(taken at 1280 px from a database refreshed with the default models).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page

from forecasting import store, vintages
from forecasting.bootstrap import init_db
from forecasting.config import ALL, TOTAL, Settings
from forecasting.crossover import crossover_distribution
from forecasting.drivers import DRIVER_BY_KEY
from forecasting.refresh import run_refresh
from forecasting.reports.tables import CROSSOVER_COLUMNS
from forecasting.scenario import Scenario, apply_scenario
from forecasting.share import DEFAULT_DEFINITION
from forecasting.ui import data, words
from forecasting.ui.theme import sector_label
from forecasting.ui.words import headline
from tests.conftest import checksums, copy_db

pytestmark = pytest.mark.e2e
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_ENV = "CROSSOVER_SCREENSHOT"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Poll Streamlit's health endpoint until it answers, or fail with the server's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310 - local test server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit at {url} did not become healthy in {timeout} s")


@pytest.fixture(scope="module")
def e2e_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shipped data plus one published run (default models when a screenshot is wanted, else two quick ones).

    The server writes to it (the upload test imports a file), so this module has its own copy.
    """
    db = tmp_path_factory.mktemp("e2e") / "crossover.duckdb"
    if not os.environ.get(SCREENSHOT_ENV):
        return copy_db(request.getfixturevalue("shipped_published_template"), db)
    init_db(db, store.DATA_DIR)
    summary = run_refresh(db, Settings())
    assert summary.published, summary.message
    return db


@pytest.fixture(scope="module")
def server(e2e_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port against the test database; yields its base URL."""
    port = free_port()
    log = (tmp_path_factory.mktemp("e2e-log") / "streamlit.log").open("wb")
    env = {**os.environ, "CROSSOVER_DB": str(e2e_db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium (browsers cannot be downloaded here)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at 1280 x 900 with downloads enabled."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def _headline(pg: Page, text: str = "overt") -> str:
    heading = pg.locator("h3", has_text=text).first
    heading.wait_for()
    return heading.inner_text().strip()


def _expected(db: Path, sector: str, scn: Scenario, threshold: float = 1.0) -> str:
    baseline = vintages.load_run(db, "latest").require_paths()
    c = crossover_distribution(apply_scenario(baseline, scn, seed=data.SCENARIO_SEED), threshold=threshold)[sector]
    return f"{sector_label(sector)}: {headline(c)}"


def test_moving_a_scenario_slider_changes_the_headline(server: str, page: Page, e2e_db: Path) -> None:
    # At 1x the shipped crossovers lie inside the modelled history, which drivers cannot move: ask at 2x.
    page.goto(f"{server}/scenarios")
    _headline(page, "")
    ratio = page.locator('[data-testid="stSlider"]', has_text="Crossover when inference reaches")
    ratio.get_by_role("slider").focus()
    for _ in range(4):  # four steps of 0.25: 2x
        ratio.get_by_role("slider").press("ArrowRight")
    before = _headline(page, "2×")
    # The page edits the sidebar's scenario: the baseline, every driver neutral.
    shown = Scenario("baseline")
    # At 2x the total's crossover lies ahead, so the page shows it first.
    assert before == _expected(e2e_db, TOTAL, shown, threshold=2.0)
    slider = page.locator('[data-testid="stSlider"]', has_text="Real-time processing demand")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("End")  # the slider's maximum
    page.wait_for_function(
        "old => [...document.querySelectorAll('h3')]"
        ".some(h => h.innerText.includes('2×') && h.innerText.trim() !== old)",
        arg=before,
    )
    after = _headline(page, "2×")
    assert after != before
    grow = DRIVER_BY_KEY["realtime_growth"]
    assert after == _expected(e2e_db, TOTAL, shown.with_value(ALL, grow.key, grow.max), threshold=2.0)


def import_file(page: Page, url: str, path: Path) -> None:
    """Open the Data page, choose ``path`` in the uploader and import it, once the upload has landed.

    Clicking before the uploader lists the file (a loaded machine) would validate no file at all.
    """
    page.goto(f"{url}/data")
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_text(path.name, exact=True).wait_for()
    page.get_by_role("button", name="Validate and import").click()


def test_uploading_a_csv_imports_it_and_summarises(server: str, page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "acme.csv"
    upload.write_text("period,sector,workload,spend_usd\n2026Q2,Acme,training,5000000\n2026Q2,Acme,inference,7000000\n")
    import_file(page, server, upload)
    message = page.get_by_text("Imported acme.csv", exact=False)
    message.wait_for()
    assert "2 rows read, 2 new, 0 updated, 0 unchanged" in message.inner_text()


def _grid_rows(grid: Locator) -> list[list[str]]:
    """The cells of a Streamlit dataframe, header first, as the grid's accessible table holds them."""
    grid.scroll_into_view_if_needed()
    table = grid.locator("table")
    table.wait_for(state="attached")  # drawn on a canvas; the table is its hidden, accessible copy
    rows = [row.locator("th, td").all_inner_texts() for row in table.locator("tr").all()]
    assert int(table.get_attribute("aria-rowcount") or -1) == len(rows), "the grid holds rows it did not render"
    return rows


def test_uploading_a_bad_csv_shows_the_problems_per_row(server: str, page: Page, tmp_path: Path, e2e_db: Path) -> None:
    upload = tmp_path / "bad.csv"
    upload.write_text(
        "period,sector,workload,spend_usd\n"
        "2026Q2,Acme,training,-1\n"  # row 2: negative spend
        "2026Q9,Acme,inference,3\n"  # row 3: no such quarter
        "2026Q3,Acme,cooling,4\n"  # row 4: unknown workload
        "2026Q3,Acme,training,5\n"  # row 5: fine on its own
        "2026Q3,Acme,training,6\n"
    )  # row 6: the same key as row 5
    before = checksums(e2e_db)
    import_file(page, server, upload)
    error = page.get_by_text("bad.csv was not imported: 4 problem(s) found", exact=False)
    error.wait_for()
    assert "nothing was written" in error.inner_text()
    after_error = "xpath=//*[@data-testid='stAlert'][contains(., 'was not imported')]/following::"
    problems = page.locator(after_error + "*[@data-testid='stDataFrame'][1]")
    assert _grid_rows(problems) == [
        ["row", "column", "problem"],
        ["2", "spend_usd", "spend -1 is negative"],
        ["3", "period", "cannot parse '2026Q9' (use e.g. 2024Q3)"],
        ["4", "workload", "unknown workload 'cooling'; use training or inference"],
        ["6", "", "duplicate key 2026Q3 acme/training (worldwide); also in row 5"],
    ]
    assert checksums(e2e_db) == before


def test_downloading_an_export_gives_the_run_s_crossover_csv(server: str, page: Page, e2e_db: Path) -> None:
    run_id = vintages.latest_run_id(e2e_db)
    page.goto(f"{server}/exports")
    button = page.locator(".st-key-dl_export_crossover_csv button")
    button.wait_for()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"crossover_{run_id}.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0] == ",".join(CROSSOVER_COLUMNS)
    # Every sector and the total under the sidebar's definition (the command line's default is every definition).
    assert len(lines) == 1 + 8 and all(f",{DEFAULT_DEFINITION}," in line for line in lines[1:])
    assert all(line.startswith(f"{run_id},baseline,") for line in lines[1:])


def test_the_quality_page_shows_how_the_crossover_call_moved(server: str, page: Page, e2e_db: Path) -> None:
    import pandas as pd

    from forecasting import backtest
    from forecasting.refresh import run_replays

    dates = [pd.Timestamp("2024-12-31"), pd.Timestamp("2025-06-30"), pd.Timestamp("2025-12-31")]
    run_replays(e2e_db, Settings(n_paths=200, backtest_origins=2, backtest_horizon=2), dates, models=["naive", "drift"])
    pooled = backtest.load(e2e_db).pooled
    coverage = pooled.loc[pooled["group"] == "all", "coverage_80"].iat[0]
    page.goto(f"{server}/quality")
    page.get_by_text("Backtest of the crossover call", exact=False).first.wait_for()
    chart = page.locator(".js-plotly-plot", has_text="How the call moved")
    chart.first.wait_for()
    # The chart draws the replays' P50s and the later-published shares beside them.
    assert "P50 of the crossover date" in chart.first.inner_text()
    assert "Published share" in chart.first.inner_text()
    caption = page.get_by_text("later figures: the 80% intervals held", exact=False).first
    assert f"3 replays scored on {int(pooled.loc[pooled['group'] == 'all', 'n'].iat[0])} later figures" in (
        caption.inner_text()
    )
    assert f"held {coverage:.0%}" in caption.inner_text()
    # Under the chart, how to read it: which replays knew no published share, which dates lie in their history.
    moves = backtest.load(e2e_db).moves
    total = moves[(moves["sector"] == TOTAL) & (moves["definition"] == DEFAULT_DEFINITION)]
    said = words.call_text(total)
    assert said and page.get_by_text(said[:60], exact=False).first.inner_text().strip() == said


def test_overview_shows_the_headline_and_charts(server: str, page: Page, e2e_db: Path) -> None:
    page.goto(server)
    baseline = vintages.load_run(e2e_db, "latest").require_paths()
    assert _headline(page) == headline(crossover_distribution(baseline)[TOTAL])
    page.locator(".js-plotly-plot").first.wait_for()
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        page.set_viewport_size({"width": 1280, "height": 1250})
        page.wait_for_timeout(2500)
        page.screenshot(path=str(ROOT / target))


#: Every page's own URL and a heading it shows.
PAGE_URLS = {
    "overview": "Cloud AI spend",
    "sectors": "Sectors",
    "scenarios": "Scenarios",
    "quality": "Model quality",
    "data": "Data",
    "exports": "Exports",
}
#: Streamlit's frontend first probes these under a page's own path on a direct load, then at the root
#: (streamlit/streamlit#7074); the 404s of that probe are Streamlit's, and harmless.
STREAMLIT_PROBES = ("/_stcore/health", "/_stcore/host-config")


def _host(url: str) -> str:
    """The host a request went to, or its scheme for in-page URLs (``data:``, ``blob:``)."""
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or parts.scheme


def test_every_page_opens_by_its_own_url_and_nothing_leaves_the_machine(server: str, page: Page) -> None:
    hosts: set[str] = set()
    missing: list[str] = []
    page.on(
        "request", lambda r: hosts.add(urllib.parse.urlsplit(r.url).hostname or urllib.parse.urlsplit(r.url).scheme)
    )
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    for path, heading in PAGE_URLS.items():
        page.goto(f"{server}/{path}")
        page.locator("h1", has_text=heading).first.wait_for()
        page.locator(".js-plotly-plot, [data-testid='stDataFrame'], [data-testid='stDownloadButton']").first.wait_for()
        assert page.url.rstrip("/").endswith(f"/{path}")
        assert page.get_by_text("Page not found").count() == 0, path
    page.goto(server)
    page.locator("h1", has_text=PAGE_URLS["overview"]).first.wait_for()  # the root shows the overview too
    assert page.get_by_text("Page not found").count() == 0
    assert hosts <= {"127.0.0.1", "localhost", "data", "blob"}, hosts
    unexpected = [u for u in missing if not urllib.parse.urlsplit(u).path.endswith(STREAMLIT_PROBES)]
    assert not unexpected, unexpected


def test_on_a_phone_a_chart_is_on_the_first_screen_and_its_toolbar_never_covers_its_title(
    server: str, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{server}/overview")
        chart = pg.locator(".js-plotly-plot").first
        chart.locator(".gtitle").wait_for()
        box = chart.bounding_box()
        assert box is not None and box["y"] < 844 - 200, box  # most of the chart on the first screen
        chart.hover()
        bar, title = chart.locator(".modebar").bounding_box(), chart.locator(".gtitle").bounding_box()
        assert bar is not None and title is not None
        assert bar["y"] + bar["height"] <= title["y"], (bar, title)
    finally:
        context.close()
