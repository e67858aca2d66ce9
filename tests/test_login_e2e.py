"""The real login flow: a local OpenID Connect provider, ``forecasting dashboard`` in OIDC mode, headless Chromium.

The provider is ``oidc-provider-mock`` (a real OIDC server for tests, started here as a process) with two
predefined users: bob, an editor, and carol, who gets the default role (viewer).  The dashboard is the
real command, so its generated ``[auth]`` secrets, Streamlit's ``st.login`` and the role checks all run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from forecasting import audit, scenario_store, store
from tests import test_e2e
from tests.conftest import copy_db
from tests.servers import stop, streamlit_server
from tests.test_e2e import free_port, import_file

pytestmark = pytest.mark.e2e
browser = test_e2e.browser  # Debian's headless Chromium, the fixture the other browser tests use
playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("authlib", reason="st.login needs Authlib (the [oidc] extra)")
pytest.importorskip("oidc_provider_mock")

ROOT = Path(__file__).resolve().parent.parent
USERS = {"bob": '{"sub": "bob@x.org", "email": "bob@x.org"}', "carol": '{"sub": "carol@x.org", "email": "carol@x.org"}'}
UPLOAD = "period,sector,workload,spend_usd\n2026Q2,Acme,training,5000000\n2026Q2,Acme,inference,7000000\n"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The OIDC provider on a free local port; yields its issuer URL."""
    port = free_port()
    users = [arg for claims in USERS.values() for arg in ("--user-claims", claims)]
    log = (tmp_path_factory.mktemp("oidc") / "provider.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "--port", str(port), *users],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2):  # noqa: S310
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the OIDC provider did not start") from None
                time.sleep(0.3)
        yield issuer
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def login_db(shipped_published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_db(shipped_published_template, tmp_path_factory.mktemp("login") / "crossover.duckdb")


@contextmanager
def dashboard_server(db: Path, folder: Path, settings: dict[str, str]) -> Iterator[str]:
    """``forecasting dashboard`` on a free port with these login settings; yields the URL users open."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CROSSOVER_ROLES": "bob@x.org=editor", **settings}
    env.pop("CROSSOVER_DEFAULT_ROLE", None)
    command = [sys.executable, "-m", "forecasting", "dashboard", "--port", str(port), "--db", str(db)]
    with streamlit_server(command, folder, env, port):
        yield f"http://localhost:{port}"  # the host of the generated redirect URI, so the login cookie matches


@pytest.fixture(scope="module")
def dashboard(provider: str, login_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``forecasting dashboard`` in OIDC mode against the provider; yields the URL users open."""
    settings = {
        "CROSSOVER_AUTH": "oidc",
        "CROSSOVER_OIDC_CLIENT_ID": "crossover-test",
        "CROSSOVER_OIDC_CLIENT_SECRET": "test-secret",
        "CROSSOVER_OIDC_METADATA_URL": f"{provider}/.well-known/openid-configuration",
    }
    with dashboard_server(login_db, tmp_path_factory.mktemp("dash"), settings) as url:
        yield url


def new_page(browser: object, headers: dict[str, str] | None = None) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, extra_http_headers=headers)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def log_in(browser: object, url: str, user: str) -> object:
    """A fresh browser session signed in as ``user`` through the provider's authorisation form."""
    page = new_page(browser)
    page.goto(url)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=f"{user}@x.org").click()  # the provider's predefined user
    page.get_by_text(f"Signed in as {user}@x.org").wait_for()
    return page


def save_scenario(page: object, url: str, name: str) -> None:
    page.goto(f"{url}/scenarios")
    box = page.get_by_label("Name")
    box.fill(name)
    box.press("Tab")
    page.get_by_role("button", name="Save the scenario shown").click()


def test_a_request_without_login_sees_only_the_login_page(dashboard: str, browser: object) -> None:
    page = new_page(browser, {"X-Forwarded-Email": "bob@x.org"})  # a proxy header counts only in proxy mode
    for path in ("", "/scenarios", "/data"):
        page.goto(f"{dashboard}{path}")
        page.get_by_role("button", name="Log in").wait_for()
        body = page.inner_text("body")
        assert "Sign in to see the forecasts and scenarios." in body
        for private in ("Overview", "Scenarios", "Data through", "Total market", "Import your own data"):
            assert private not in body, (path, private)
    page.context.close()


def save_and_import(browser: object, url: str, user: str, folder: Path) -> object:
    """Sign in as ``user``, save scenario '<user> plan' and import a small file; returns the page."""
    page = log_in(browser, url, user)
    save_scenario(page, url, f"{user} plan")
    page.get_by_text(f"Saved '{user} plan'.").wait_for()
    upload = folder / "acme.csv"
    upload.write_text(UPLOAD)
    import_file(page, url, upload)
    return page


def test_a_viewer_is_offered_no_save_or_import_and_nothing_is_recorded(
    dashboard: str, browser: object, login_db: Path
) -> None:
    page = log_in(browser, dashboard, "carol")
    page.goto(f"{dashboard}/scenarios")
    page.get_by_text("carol@x.org is a viewer: saving, copying and deleting scenarios needs the editor role").wait_for()
    assert page.get_by_role("button", name="Save the scenario shown").count() == 0
    page.goto(f"{dashboard}/data")
    page.get_by_text("carol@x.org is a viewer: importing data needs the editor role").wait_for()
    assert page.locator('input[type="file"]').count() == 0
    page.context.close()
    assert "carol plan" not in scenario_store.list_scenarios(login_db)["name"].tolist()
    with store.reader(login_db) as s:
        assert "acme" not in s.frame("history_user_sectors")["sector"].str.lower().tolist()
    assert audit.entries(login_db).query("actor == 'carol@x.org'").empty


def test_an_editor_saves_and_imports_and_the_audit_table_records_it(
    dashboard: str, browser: object, login_db: Path, tmp_path: Path
) -> None:
    page = save_and_import(browser, dashboard, "bob", tmp_path)
    page.get_by_text("Imported acme.csv", exact=False).wait_for()
    page.context.close()
    assert scenario_store.load_scenario(login_db, "bob plan").author == "bob@x.org"
    rows = audit.entries(login_db)
    assert rows[["actor", "action", "detail"]].values.tolist()[:2] == [
        ["bob@x.org", "import", "acme.csv"],
        ["bob@x.org", "scenario.save", "bob plan"],
    ]


def test_proxy_mode_takes_the_user_from_the_trusted_header_only(
    login_db: Path, browser: object, tmp_path: Path
) -> None:
    with dashboard_server(login_db, tmp_path, {"CROSSOVER_AUTH": "proxy"}) as url:
        page = new_page(browser, {"X-Forwarded-Email": "bob@x.org"})
        page.goto(url)
        page.get_by_text("Signed in as bob@x.org (editor)").wait_for()
        page.context.close()
        page = new_page(browser)
        page.goto(f"{url}/scenarios")
        page.get_by_text("no X-Forwarded-Email header reached the app").wait_for()
        assert "Save the scenario shown" not in page.inner_text("body")
        page.context.close()
