"""Login modes, roles, the write guard and the audit trail (unit level and under AppTest).

The real login flow in a browser against a real OIDC provider is ``tests/test_login_e2e.py``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import tomllib
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from forecasting import audit, auth, scenario_store, store
from forecasting.cli import app as cli_app
from forecasting.cli import serve
from forecasting.config import AuthSettings
from forecasting.errors import ForecastingError, PermissionDeniedError
from forecasting.scenario import Scenario
from forecasting.ui import data
from tests.conftest import copy_db

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
AUTH_ENV = ("CROSSOVER_AUTH", "CROSSOVER_ROLES", "CROSSOVER_DEFAULT_ROLE", "CROSSOVER_PROXY_HEADER")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AUTH_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])  # AppTest replaces it


@pytest.fixture
def run_db(tmp_path: Path, shipped_published_template: Path) -> Path:
    return copy_db(shipped_published_template, tmp_path / "crossover.duckdb")


def shared(monkeypatch: pytest.MonkeyPatch, mode: str = "oidc") -> None:
    """Shared mode with alice an admin, bob an editor and everyone else a viewer."""
    monkeypatch.setenv("CROSSOVER_AUTH", mode)
    monkeypatch.setenv("CROSSOVER_ROLES", "Alice@x.org=admin, bob@x.org=editor")


# --- settings and identity ----------------------------------------------------------------------------------


def test_roles_are_read_from_the_environment_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    shared(monkeypatch)
    settings = AuthSettings.from_env()
    assert settings.mode == "oidc"
    assert [settings.role_of(u) for u in ("alice@x.org", "BOB@x.org", "carol@x.org")] == ["admin", "editor", "viewer"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CROSSOVER_AUTH", "ldap", "CROSSOVER_AUTH must be one of local, oidc, proxy"),
        ("CROSSOVER_ROLES", "alice@x.org=root", "must be USER=ROLE"),
        ("CROSSOVER_ROLES", "alice@x.org", "must be USER=ROLE"),
        ("CROSSOVER_DEFAULT_ROLE", "owner", "CROSSOVER_DEFAULT_ROLE must be one of"),
    ],
)
def test_bad_login_settings_are_refused_with_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        AuthSettings.from_env()


def test_local_mode_is_the_os_user_allowed_everything() -> None:
    user = auth.identify(AuthSettings(), {"is_logged_in": False}, {"X-Forwarded-Email": "mallory@x.org"})
    assert user == auth.User(audit.os_user(), "admin")
    assert all(auth.role_allows(user.role, action) for action in auth.ACTIONS)


def test_oidc_mode_takes_the_login_claims_and_ignores_proxy_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    shared(monkeypatch)
    settings = AuthSettings.from_env()
    spoofed = {"X-Forwarded-Email": "alice@x.org"}
    assert auth.identify(settings, {"is_logged_in": False}, spoofed) is None
    claims = {"is_logged_in": True, "email": "bob@x.org", "sub": "42"}
    assert auth.identify(settings, claims, spoofed) == auth.User("bob@x.org", "editor")


def test_proxy_mode_trusts_only_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    shared(monkeypatch, "proxy")
    settings = AuthSettings.from_env()
    logged_in = {"is_logged_in": True, "email": "alice@x.org"}
    assert auth.identify(settings, logged_in, {}) is None
    assert auth.identify(settings, {}, {"X-Forwarded-Email": " carol@x.org "}) == auth.User("carol@x.org", "viewer")


def test_viewers_read_editors_change_scenarios_and_data_admins_also_refresh() -> None:
    table = {role: sorted(a for a in auth.ACTIONS if auth.role_allows(role, a)) for role in ("viewer", "editor")}
    assert table == {
        "viewer": [],
        "editor": ["import", "import.undo", "scenario.copy", "scenario.delete", "scenario.save"],
    }
    assert all(auth.role_allows("admin", a) for a in auth.ACTIONS)
    with pytest.raises(ValueError, match="unknown action"):
        auth.role_allows("admin", "drop.database")


# --- the write guard and the audit trail ----------------------------------------------------------------------


def as_user(monkeypatch: pytest.MonkeyPatch, user: auth.User | None) -> None:
    monkeypatch.setattr(auth, "current_user", lambda: user)


def test_a_viewer_is_refused_before_the_write_and_nothing_is_recorded(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    as_user(monkeypatch, auth.User("carol@x.org", "viewer"))
    wrote = []
    with pytest.raises(PermissionDeniedError, match="carol@x.org is a viewer; scenario.save needs the editor role"):
        with auth.write(db, "scenario.save", "mine"):
            wrote.append(1)
    assert wrote == [] and audit.entries(db).empty


def test_an_editor_writes_and_the_audit_trail_names_them(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    with auth.write(db, "scenario.save", "mine") as user:
        scenario_store.save_scenario(db, Scenario("mine", "", user.name, {}))
    rows = audit.entries(db)
    assert rows[["actor", "action", "detail"]].values.tolist() == [["bob@x.org", "scenario.save", "mine"]]
    assert scenario_store.load_scenario(db, "mine").author == "bob@x.org"


def test_a_failed_write_is_not_recorded(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    with pytest.raises(ForecastingError), auth.write(db, "scenario.delete", "nope"):
        scenario_store.delete_scenario(db, "no such scenario")
    assert audit.entries(db).empty


def test_a_dashboard_change_and_its_audit_row_are_one_write(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    writes: list[Path] = []
    real = store.writer
    monkeypatch.setattr(store, "writer", lambda path, **kw: writes.append(path) or real(path, **kw))
    with auth.write(db, "scenario.save", "mine") as user:
        scenario_store.save_scenario(db, Scenario("mine", "", user.name, {}))
    assert writes == [db]  # one copy-on-write carries the scenario and its audit row
    assert audit.entries(db)[["actor", "detail"]].values.tolist() == [["bob@x.org", "mine"]]


def test_a_write_that_fails_at_commit_leaves_neither_the_change_nor_its_audit_row(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    before = store.file_digest(db)

    def fail(session: store.Session) -> None:
        raise OSError("disk full")

    # The audit row goes in last, right before the commit: failing there is failing at the commit.
    monkeypatch.setattr(audit.Entry, "insert", lambda self, session: fail(session))
    with pytest.raises(OSError, match="disk full"), auth.write(db, "scenario.save", "mine") as user:
        scenario_store.save_scenario(db, Scenario("mine", "", user.name, {}))
    assert store.file_digest(db) == before


def test_a_change_that_writes_nothing_itself_is_recorded_after_it(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    as_user(monkeypatch, auth.User("alice@x.org", "admin"))
    with auth.write(db, "refresh.start", "from the dashboard"):
        assert audit.entries(db).empty  # starting a refresh process is not a database write
    assert audit.entries(db)[["actor", "action"]].values.tolist() == [["alice@x.org", "refresh.start"]]


def test_editors_change_only_their_own_scenarios_admins_anyones(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    with pytest.raises(PermissionDeniedError, match="only its author or an admin"):
        auth.require("scenario.delete", owner="carol@x.org")
    assert auth.require("scenario.delete", owner="bob@x.org").name == "bob@x.org"
    as_user(monkeypatch, auth.User("alice@x.org", "admin"))
    assert auth.require("scenario.delete", owner="carol@x.org").name == "alice@x.org"


def test_nobody_signed_in_may_write(monkeypatch: pytest.MonkeyPatch) -> None:
    as_user(monkeypatch, None)
    assert not auth.allowed("scenario.save")
    with pytest.raises(PermissionDeniedError, match="sign in first"):
        auth.require("scenario.save")


def test_the_command_line_records_its_writes_as_the_os_user(db: Path) -> None:
    result = CliRunner().invoke(cli_app, ["scenario", "copy", "baseline", "my copy", "--db", str(db)])
    assert result.exit_code == 0, result.output
    rows = audit.entries(db)
    assert rows[["actor", "action", "detail"]].values.tolist() == [
        [audit.os_user(), "scenario.copy", "baseline -> my copy"]
    ]
    assert rows["at_utc"].iloc[0] is not None


def test_an_unknown_audit_action_is_refused(db: Path) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db, "scenario.rename")


# --- the dashboard under AppTest -----------------------------------------------------------------------------


def dashboard(db: Path, monkeypatch: pytest.MonkeyPatch, user: dict[str, object]) -> AppTest:
    monkeypatch.setenv("CROSSOVER_DB", str(db))
    data.st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.user.clear()
    at.user.update(user)
    return at.run()


def test_a_request_without_login_sees_the_login_page_and_nothing_else(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared(monkeypatch)
    at = dashboard(run_db, monkeypatch, {"is_logged_in": False})
    assert not at.exception
    assert [t.value for t in at.title] == ["Crossover"]
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.sidebar.selectbox and not at.get("plotly_chart") and not at.dataframe
    with pytest.raises(ValueError, match=r"Known pages: \['Sign in'\]"):  # no data page is registered at all
        at.switch_page("forecasting/ui/pages/scenarios.py")


def test_proxy_mode_without_the_header_shows_only_the_sign_in_notice(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared(monkeypatch, "proxy")
    at = dashboard(run_db, monkeypatch, {"is_logged_in": True, "email": "alice@x.org"})
    assert [t.value for t in at.title] == ["Crossover"]
    assert "no `X-Forwarded-Email` header reached the app" in at.markdown[0].value
    assert not at.button and not at.get("plotly_chart")


def save_on_the_page(at: AppTest, name: str) -> AppTest:
    at.switch_page("forecasting/ui/pages/scenarios.py").run()
    at.text_input(key="save_name").input(name)
    return at.form_submit_button[0].click().run()


def test_a_signed_in_viewer_is_offered_no_write_but_told_which_role_it_needs(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared(monkeypatch)
    at = dashboard(run_db, monkeypatch, {"is_logged_in": True, "email": "carol@x.org"})
    for page, what in [("scenarios", "saving, copying and deleting scenarios"), ("data_sources", "importing data")]:
        at.switch_page(f"forecasting/ui/pages/{page}.py").run()
        assert not at.exception
        # User text is Markdown-escaped (words.plain): compare what the browser shows.
        notes = [c.value.replace("\\", "") for c in at.caption]
        assert any(f"carol@x.org is a viewer: {what} needs the editor role" in n for n in notes), notes
        writes = {"Save the scenario shown", "Copy", "Delete", "Validate and import"}
        assert not writes & {b.label for b in at.form_submit_button} and not at.get("file_uploader")
    assert audit.entries(run_db).empty


def test_a_signed_in_editor_saves_as_themselves_and_it_is_audited(
    run_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared(monkeypatch)
    at = save_on_the_page(dashboard(run_db, monkeypatch, {"is_logged_in": True, "email": "bob@x.org"}), "mine")
    assert not at.exception and not at.error
    assert scenario_store.load_scenario(run_db, "mine").author == "bob@x.org"
    assert audit.entries(run_db)[["actor", "action"]].values.tolist() == [["bob@x.org", "scenario.save"]]
    assert any("Signed in as **bob@x.org** (editor)" in c.value for c in at.sidebar.caption)


# --- `forecasting dashboard`'s runtime folder -----------------------------------------------------------------


@pytest.fixture
def oidc_env() -> Iterator[dict[str, str]]:
    yield {
        "CROSSOVER_OIDC_CLIENT_ID": "crossover",
        "CROSSOVER_OIDC_CLIENT_SECRET": 'se"cr\\et',
        "CROSSOVER_OIDC_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    }


def test_oidc_secrets_are_written_as_streamlit_reads_them(oidc_env: dict[str, str]) -> None:
    parsed = tomllib.loads(serve.oidc_secrets(oidc_env, "127.0.0.1", 8600))["auth"]
    assert parsed["client_secret"] == 'se"cr\\et'
    assert parsed["redirect_uri"] == "http://localhost:8600/oauth2callback"
    assert len(parsed["cookie_secret"]) >= 32
    del oidc_env["CROSSOVER_OIDC_CLIENT_ID"]
    with pytest.raises(ForecastingError, match="needs CROSSOVER_OIDC_CLIENT_ID set"):
        serve.oidc_secrets(oidc_env, "127.0.0.1", 8600)


def test_the_runtime_folder_carries_the_packaged_config_and_private_secrets(
    tmp_path: Path, oidc_env: dict[str, str]
) -> None:
    serve.prepare_run_dir(tmp_path, AuthSettings(mode="oidc"), oidc_env, "127.0.0.1", 8600)
    config = tmp_path / ".streamlit" / "config.toml"
    assert config.read_text() == (ROOT / ".streamlit" / "config.toml").read_text()
    assert tomllib.loads(config.read_text())["server"]["address"] == "127.0.0.1"  # localhost unless --host
    assert (tmp_path / ".streamlit" / "secrets.toml").stat().st_mode & 0o077 == 0
    assert serve.streamlit_command("127.0.0.1", 8600)[-4:] == ["--server.address", "127.0.0.1", "--server.port", "8600"]


def test_the_dashboard_command_refuses_bad_login_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CROSSOVER_AUTH", "ldap")
    result = CliRunner().invoke(cli_app, ["dashboard", "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert "CROSSOVER_AUTH must be one of local, oidc, proxy" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("", "--host is empty"),  # Streamlit would listen on every interface
        ("no-such-host.invalid", "not an address, nor a name this machine resolves"),
        ("192.0.2.1", "cannot listen on 192.0.2.1"),  # TEST-NET-1: never an address of this machine
    ],
)
def test_the_dashboard_command_refuses_an_address_it_cannot_listen_on_in_one_line(
    db: Path, host: str, message: str
) -> None:
    result = CliRunner().invoke(cli_app, ["dashboard", "--host", host, "--db", str(db)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_the_dashboard_command_says_when_its_port_is_taken(db: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["dashboard", "--port", str(port), "--db", str(db)])
    assert result.exit_code == 1 and f"port {port} on 127.0.0.1 is in use" in result.output
    assert "Traceback" not in result.output


def test_a_scheduled_refresh_that_publishes_is_audited_as_the_os_user(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    from forecasting import refresh, schedule
    from forecasting.config import Settings

    published = SimpleNamespace(published=True, run_id="r1", message="published run r1")
    monkeypatch.setattr(refresh, "run_refresh", lambda *args, **kwargs: published)
    assert schedule.refresh_job(db, Settings()) == "published run r1"
    monkeypatch.setattr(
        refresh,
        "run_refresh",
        lambda *args, **kwargs: SimpleNamespace(**{**vars(published), "published": False, "message": "up to date"}),
    )
    schedule.refresh_job(db, Settings())  # nothing published, nothing written, nothing recorded
    rows = audit.entries(db)
    assert rows[["actor", "action", "detail"]].values.tolist() == [
        [audit.os_user(), "refresh", "published r1 (scheduled)"]
    ]


def test_a_copy_or_a_saved_file_belongs_to_whoever_saved_it(
    monkeypatch: pytest.MonkeyPatch, db: Path, tmp_path: Path
) -> None:
    as_user(monkeypatch, auth.User("bob@x.org", "editor"))
    with auth.write(db, "scenario.copy", "edge_heavy -> bob's edge"):
        scenario_store.copy_scenario(db, "edge_heavy", "bob's edge")  # a preset, authored 'crossover'
    owner = scenario_store.load_scenario(db, "bob's edge").author
    assert owner == "bob@x.org"
    assert auth.require("scenario.delete", owner=owner).name == "bob@x.org"  # so bob may change his copy
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"name": "claimed", "author": "alice@x.org", "values": {}}))
    result = CliRunner().invoke(cli_app, ["scenario", "save", str(spec), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert scenario_store.load_scenario(db, "claimed").author == audit.os_user()  # not the file's free text
