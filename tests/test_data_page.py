"""The Data page under AppTest: sources by publisher and title with links, imports listed and undone, refresh offer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from forecasting import store
from forecasting.ui import data, words
from tests.conftest import copy_db, failing_refresh, wait_for_exit

ROOT = Path(__file__).resolve().parent.parent
PAGE = "forecasting/ui/pages/data_sources.py"
ACME = b"period,sector,workload,spend_usd\n2026Q3,Acme,training,5\n2026Q3,Acme,inference,7\n"


@pytest.fixture
def page_db(tmp_path: Path, shipped_db_template: Path) -> Path:
    """The shipped data (no run) with one import of two rows."""
    db = copy_db(shipped_db_template, tmp_path / "crossover.duckdb")
    data.import_upload(db, "acme.csv", ACME, actor="ana")
    return db


@pytest.fixture(autouse=True)
def _keep_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest replaces ``sys.modules['__main__']``; put pytest's back after each test."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


def _page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CROSSOVER_DB", str(db))
    data.st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _user_rows(db: Path) -> int:
    with store.reader(db) as s:
        return len(s.frame("history_spend", provenance="user"))


def test_the_history_shows_publishers_and_titles_with_links_not_source_ids(
    page_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(page_db, monkeypatch)
    history = at.dataframe[0].value
    modelled = history[history["provenance"] == "modelled"]
    assert not history["sources"].str.contains("src-").any()
    assert modelled["sources"].str.match(r"^\d+ sources: ").all()
    assert modelled["link"].str.startswith("http").all()
    assert history.loc[history["provenance"] == "user", "sources"].tolist() == ["acme.csv", "acme.csv"]
    cited = at.dataframe[1].value
    assert list(cited.columns) == ["publisher", "title", "source_date", "url", "rows"]
    assert len(cited) > 1 and cited["url"].str.startswith("http").all()


def test_the_history_names_quarters_as_every_screen_does(page_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = _page(page_db, monkeypatch).dataframe[0].value
    assert history["quarter"].str.fullmatch(r"\d{4} Q[1-4]").all(), history["quarter"].head().tolist()
    assert history.loc[history["provenance"] == "user", "quarter"].tolist() == ["2026 Q3", "2026 Q3"]


def test_an_import_is_listed_and_undone_from_the_page_with_a_confirmation_that_resets(
    page_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(page_db, monkeypatch)
    listed = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert listed[["id", "file", "rows", "by", "status"]].values.tolist() == [[1, "acme.csv", 2, "ana", "active"]]
    assert at.button(key="undo_button").disabled
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    assert not at.exception, at.exception
    assert _user_rows(page_db) == 0
    assert any(r"Undid import 1 (acme\.csv): 2 rows removed, 0 restored" in s.value for s in at.success)
    # The counts are current at once, and nothing is left to undo (so no confirmation box is ticked).
    assert "user" in at.multiselect(key="data_provenance").options[3].lower()
    assert "(0 rows)" in at.multiselect(key="data_provenance").options[3]
    listed = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert listed["status"].iloc[0].startswith("undone ")
    assert not [c for c in at.checkbox if c.key and c.key.startswith("undo_sure_")]


def test_the_undo_confirmation_starts_unticked_after_each_undo(page_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data.import_upload(page_db, "more.csv", ACME.replace(b"Acme", b"Beta"), actor="ana")
    at = _page(page_db, monkeypatch)
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    assert _user_rows(page_db) == 2  # import 2 (the newest, chosen first) undone, import 1 kept
    box = at.checkbox(key="undo_sure_1")
    assert box.value is False and at.button(key="undo_button").disabled


def test_after_a_write_the_page_offers_a_refresh_and_starts_it(page_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Path] = []
    monkeypatch.setattr(data, "start_refresh", lambda db: started.append(db) or 4242)
    monkeypatch.setattr(data, "refresh_running", lambda pid: pid == 4242)
    at = _page(page_db, monkeypatch)
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    at.button(key="data_start_refresh").click().run()
    assert started == [page_db]
    assert any("Refresh running (process 4242)" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("file_name", "shown", "raw"),
    [
        ("![x](https://example.org/x.png).csv", words.plain("![x](https://example.org/x.png).csv"), "![x]"),
        ("$x^2$ plan.csv", r"\$x^2\$ plan\.csv", "$x^2$"),  # Streamlit's Markdown reads $...$ as maths
    ],
    ids=["markdown-image", "maths"],
)
def test_a_file_name_is_shown_as_written_never_as_markdown(
    file_name: str, shown: str, raw: str, page_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import ingest

    path = page_db.parent / "named.csv"
    path.write_bytes(ACME.replace(b"Acme", b"Gamma"))
    ingest.import_file(page_db, path, actor="ana", file_name=file_name)
    at = _page(page_db, monkeypatch)
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    (message,) = [s.value for s in at.success if "Undid import" in s.value]
    assert f"({shown})" in message and raw not in message


def test_a_refresh_that_stops_without_publishing_is_not_shown_as_running(
    page_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids: list[int] = []
    monkeypatch.setattr(data, "start_refresh", lambda db: pids.append(failing_refresh(db)) or pids[-1])
    at = _page(page_db, monkeypatch)
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    at.button(key="data_start_refresh").click().run()
    wait_for_exit(pids[0])
    at.run()
    assert not at.exception
    assert not any("Refresh running" in i.value for i in at.info)
    stopped = "stopped without publishing a forecast run: " + words.plain("refused: the history of retail shrank")
    assert any(stopped in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="data_start_refresh")  # offered again


def test_a_refused_undo_names_the_files_as_written_never_as_markdown(
    page_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import ingest

    path = page_db.parent / "later.csv"
    path.write_bytes(ACME.replace(b",5\n", b",6\n"))  # the same rows as import 1, another value
    ingest.import_file(page_db, path, actor="ana", file_name="![x](https://example.org/x.png).csv")
    at = _page(page_db, monkeypatch)
    at.selectbox(key="undo_choice").select(1).run()  # the older import: the later one blocks it
    at.checkbox(key="undo_sure_0").check().run()
    at.button(key="undo_button").click().run()
    assert not at.exception
    (refused,) = [e.value for e in at.error]
    assert "cannot be undone before the later imports" in refused
    assert words.plain("![x](https://example.org/x.png).csv") in refused and "![x]" not in refused
