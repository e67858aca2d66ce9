"""The Data page in real Chromium: an upload lands, the counts are current at once, a refresh is offered, undo works."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting import store
from tests.test_e2e import browser, e2e_db, import_file, page, server  # noqa: F401 - the fixtures this module uses

pytestmark = pytest.mark.e2e
playwright_api = pytest.importorskip("playwright.sync_api")


def test_an_upload_updates_the_counts_offers_a_refresh_and_can_be_undone(
    server: str,  # noqa: F811 - the fixture
    page: playwright_api.Page,  # noqa: F811
    e2e_db: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    upload = tmp_path / "beta.csv"
    upload.write_text("period,sector,workload,spend_usd\n2026Q3,Beta,training,5000000\n2026Q3,Beta,inference,7\n")
    import_file(page, server, upload)
    page.get_by_text("Imported beta.csv as import", exact=False).wait_for()
    page.get_by_text("2026 Q3 to 2026 Q3", exact=False).wait_for()  # quarters as on every screen, not 2026Q3
    with store.reader(e2e_db) as s:
        users = len(s.frame("history_spend", provenance="user"))
        rows = len(s.frame("history_spend", provenance=None))
    page.get_by_text(f"of {rows:,} rows shown", exact=False).wait_for()  # current without a reload
    page.get_by_role("button", name="Start a refresh now").wait_for()
    page.get_by_text("Yes, undo import", exact=False).click()
    page.get_by_role("button", name="Undo import").click()
    page.get_by_text("rows removed", exact=False).wait_for()
    with store.reader(e2e_db) as s:
        assert len(s.frame("history_spend", provenance="user")) == users - 2
