"""Faults: killed refreshes, lost series, full disks, missing folders, hostile manifests, interrupts, clocks.

Every failure a user can meet ends in one line naming the path and a documented exit code, leaves the
database as it was and no temporary file behind.  The fault-injection test at the end kills real
refreshes (the CLI in subprocesses) at random moments.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import forecasting.refresh as refresh_module
from forecasting import integrity, locks, store, vintages
from forecasting.bootstrap import init_db
from forecasting.cli import app
from forecasting.config import REPO_ROOT, Settings
from forecasting.errors import PublishRefusedError
from forecasting.executors import SerialExecutor
from forecasting.refresh import refresh_lock_path, run_refresh
from forecasting.scenario import Scenario
from forecasting.scenario_store import save_scenario

from .conftest import TINY_MODELS, TINY_SETTINGS, checksums, copy_db, write_tiny_data
from .test_refresh import _set_spend

runner = CliRunner()


def _refresh(db: Path, **kwargs: Any) -> Any:
    return run_refresh(
        db, kwargs.pop("settings", TINY_SETTINGS), models=TINY_MODELS, executor=SerialExecutor(), **kwargs
    )


def _cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


#: A log line as the CLI writes it off a terminal (timestamp, level), or rich's form on one.
LOG_LINE = re.compile(r"^(\S+Z )?(DEBUG|INFO|WARNING) ")


def _one_line(output: str) -> str:
    """The output's one error line (log lines of INFO level may come before it)."""
    lines = [ln for ln in output.splitlines() if ln.strip() and not LOG_LINE.match(ln) and not ln.startswith(" ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def _temporaries(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f".{db.name}.*.tmp*"))


# --------------------------------------------------------------------------- finding 1: the lock dies with its holder


def test_a_forked_child_does_not_keep_its_parents_lock(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with store.file_lock(path, 0, "the test lock"):
        child = os.fork()
        if child == 0:  # a pool worker would live on after its parent, holding the inherited descriptor
            time.sleep(5)
            os._exit(0)
    try:  # the child closes its copy as soon as it runs (the parent may get here first)
        started = time.monotonic()
        with store.file_lock(path, 2, "the test lock"):
            assert time.monotonic() - started < 2
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_a_lock_recorded_by_a_dead_process_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:  # another descriptor holds the lock while the file names a process that has exited
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, str(dead.pid).encode())
        grace, locks.DEAD_HOLDER_GRACE = locks.DEAD_HOLDER_GRACE, 0.2
        try:
            with pytest.raises(Exception, match=f"process {dead.pid}, which has exited"):
                with store.file_lock(path, 0, "the test lock"):
                    pass
        finally:
            locks.DEAD_HOLDER_GRACE = grace
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- finding 2: the drop gate


@pytest.fixture
def published(tmp_path: Path, tiny_published_template: Path) -> Path:
    return copy_db(tiny_published_template, tmp_path / "crossover.duckdb")


def test_a_run_that_loses_a_crossover_sector_is_refused_unless_accepted(published: Path) -> None:
    _set_spend(published, "2025-01-01", "retail", "training", 2e9)  # one row, one workload
    before = checksums(published)
    with pytest.raises(PublishRefusedError, match="sector 'retail' would leave the crossover table") as caught:
        _refresh(published, force=True)
    assert "--accept-drop" in str(caught.value) and caught.value.exit_code == 65
    assert checksums(published) == before
    summary = _refresh(published, force=True, accept_drop=True)
    assert summary.published


def test_a_shorter_history_is_refused_even_when_the_restatement_is_accepted(published: Path) -> None:
    with store.writer(published) as s:
        s._con.execute("delete from spend_history where sector = 'healthcare' and period = '2024-10-01'")
    with pytest.raises(PublishRefusedError, match="'healthcare/inference' history would shrink from 12 quarters"):
        _refresh(published, force=True, accept_restatement=True)
    assert _refresh(published, force=True, accept_restatement=True, accept_drop=True).published


def test_the_cli_exits_65_on_a_drop_and_names_it(published: Path) -> None:
    _set_spend(published, "2025-01-01", "retail", "training", 2e9)
    env = {"CROSSOVER_N_PATHS": "50", "CROSSOVER_HORIZON": "8", "CROSSOVER_BACKTEST_ORIGINS": "2"}
    result = runner.invoke(
        app, ["refresh", "--force", "--db", str(published), "--models", ",".join(TINY_MODELS)], env=env
    )
    assert result.exit_code == 65, result.output
    assert "sector 'retail' would leave the crossover table" in result.output


# --------------------------------------------------------------------------- finding 6: one line, a path, a code


def test_an_export_into_a_missing_folder_exits_66_and_creates_nothing(published: Path, tmp_path: Path) -> None:
    for args in (["history", "-o", str(tmp_path / "missing" / "x.csv")], ["--bundle", str(tmp_path / "missing" / "b")]):
        result = _cli("export", *args, "--db", str(published))
        assert result.exit_code == 66, result.output
        assert f"cannot write into {tmp_path / 'missing'}: no such folder" in _one_line(result.output)
        assert not (tmp_path / "missing").exists()


def test_a_forecast_into_a_missing_folder_exits_66_before_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forecasting.api

    fits: list[int] = []
    monkeypatch.setattr(forecasting.api, "forecast_frame", lambda *a, **k: fits.append(1))
    src = tmp_path / "in.csv"
    src.write_text("unique_id,ds,y\n" + "".join(f"a,{2020 + i // 4}-{3 * (i % 4) + 1:02d}-01,{i}\n" for i in range(8)))
    result = _cli("forecast", str(src), "-o", str(tmp_path / "missing" / "f.csv"), "--horizon", "2")
    assert result.exit_code == 66, result.output
    assert f"cannot write into {tmp_path / 'missing'}: no such folder" in _one_line(result.output)
    assert fits == [] and not (tmp_path / "missing").exists()


def test_a_missing_input_file_exits_66_in_one_line_with_the_path(db: Path, tmp_path: Path) -> None:
    for args in (["forecast", str(tmp_path / "no.csv"), "-o", "-"], ["scenario", "save", str(tmp_path / "no.csv")]):
        result = _cli(*args, *(["--db", str(db)] if args[0] == "scenario" else []))
        assert result.exit_code == 66, result.output  # EX_NOINPUT, as the README says; was 2 (a bad argument)
        assert _one_line(result.output) == f"error: cannot read {tmp_path / 'no.csv'}: No such file or directory"


def test_a_bundle_to_stdout_is_refused_and_makes_no_folder_named_dash(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _cli("export", "--bundle", "-", "--db", str(published))
    assert result.exit_code == 2, result.output
    assert "cannot go to stdout" in _one_line(result.output)
    assert not (tmp_path / "-").exists()


def test_a_backtest_with_a_bad_output_or_format_stops_before_any_replay(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forecasting.backtest

    replays: list[int] = []
    monkeypatch.setattr(forecasting.backtest, "run", lambda *a, **k: replays.append(1))
    before = checksums(published)
    for args, code in (
        (["-o", str(tmp_path / "missing" / "s.csv")], 66),
        (["--moves", str(tmp_path / "missing" / "m.csv")], 66),
        (["--format", "bogus"], 2),
    ):
        result = _cli("backtest", "crossover", *args, "--db", str(published))
        assert result.exit_code == code, result.output
    assert replays == [] and checksums(published) == before
    assert not (tmp_path / "missing").exists()


def test_an_export_that_fills_the_disk_leaves_no_truncated_file_and_the_old_one_whole(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_full(self: Path, data: bytes) -> int:
        with open(self, "wb") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    target = tmp_path / "out" / "history.csv"
    target.parent.mkdir()
    target.write_bytes(b"the previous export\n")
    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    result = _cli("export", "history", "-o", str(target), "--db", str(published))
    assert result.exit_code == 1, result.output
    assert _one_line(result.output) == f"error: cannot use {target}: No space left on device"
    bundle = _cli("export", "--bundle", str(tmp_path / "out" / "bundle"), "--db", str(published))
    assert bundle.exit_code == 1, bundle.output
    monkeypatch.undo()
    assert target.read_bytes() == b"the previous export\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["history.csv"]  # no copy, no half bundle


def test_an_export_to_a_full_device_names_it(published: Path) -> None:
    result = _cli("export", "history", "-o", "/dev/full", "--db", str(published))
    assert result.exit_code == 1
    assert _one_line(result.output) == "error: cannot use /dev/full: No space left on device"


def test_forecast_into_a_missing_folder_is_one_line_with_the_path(tmp_path: Path) -> None:
    series = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=12, freq="QS"), "y": 1.0})
    series["y"] = [float(i + 1) for i in range(12)]
    series.to_csv(tmp_path / "in.csv", index=False)
    result = _cli("forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "nodir" / "x.csv"), "-h", "2")
    assert result.exit_code == 66, result.output  # the folder does not exist (EX_NOINPUT)
    assert str(tmp_path / "nodir") in _one_line(result.output)


def test_a_deeply_nested_scenario_file_is_refused_in_one_line(db: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"name": "x", "drivers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    before = checksums(db)
    result = _cli("scenario", "save", str(deep), "--db", str(db))
    assert result.exit_code == 65 and "nested too deeply" in _one_line(result.output)
    assert checksums(db) == before


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"settings": {"horizon": "8"}}, "settings.horizon"),
        ({"settings": [1, 2]}, "settings"),
        ({"settings": {"n_paths": 10**12}}, "settings.n_paths"),
        ({"history": {"columns": ["a"], "rows": []}}, "history"),
        ({"models": "naive"}, "models"),
        ({"scenarios": {"name": "x"}}, "scenarios"),
        ({"scenarios": [{"name": None}]}, "scenarios[0]"),
        ({"scenarios": [{"name": "x", "values": {"all": {"edge_share": {"uniform": None}}}}]}, "scenarios[0]"),
    ],
)
def test_a_malformed_manifest_is_refused_naming_the_field(
    db: Path, tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    manifest = {
        "run_id": "r",
        "data_fingerprint": "f",
        "settings": {"horizon": 8},
        "models": ["naive"],
        "history": {"columns": ["unique_id", "ds", "y"], "rows": []},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({**manifest, **change}))
    before = checksums(db)
    result = _cli("refresh", "--db", str(db), "--from-manifest", str(path))
    assert result.exit_code == 65, result.output
    assert f"column '{named}'" in result.output and f"manifest {path}" in result.output
    assert checksums(db) == before


def test_a_refused_re_run_of_a_bundle_saves_none_of_its_scenarios(published: Path, tmp_path: Path) -> None:
    from forecasting import export

    manifest = json.loads(export.write_bundle(published, tmp_path / "bundle")["manifest"].read_text())
    manifest["scenarios"].append(Scenario("theirs", values={"all": {"edge_share": 0.5}}).to_dict())
    uid, ds, _ = manifest["history"]["rows"][0]
    manifest["history"]["rows"][0] = [uid, ds, -5.0]  # the run is refused after the scenarios were read
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    before = checksums(published)
    result = _cli("refresh", "--force", "--db", str(published), "--from-manifest", str(path))
    assert result.exit_code == 65, result.output
    assert checksums(published) == before


def _fail_copy(exc: OSError) -> Any:
    """A ``shutil.copyfile`` that writes half the file, then fails as a full disk or a read-only folder would."""

    def copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[: Path(src).stat().st_size // 2])
        raise OSError(exc.errno, exc.strerror, str(dst))

    return copy


@pytest.mark.parametrize(("code", "text"), [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only")])
def test_a_write_that_fails_on_the_disk_leaves_no_partial_copy(
    db: Path, monkeypatch: pytest.MonkeyPatch, code: int, text: str
) -> None:
    before = checksums(db)
    monkeypatch.setattr(store.shutil, "copyfile", _fail_copy(OSError(code, os.strerror(code))))
    result = _cli("scenario", "set", "mine", "edge_share", "0.4", "--db", str(db))
    line = _one_line(result.output)
    assert result.exit_code == 1 and text in line and f".{db.name}." in line
    assert _temporaries(db) == []
    assert checksums(db) == before


def test_ctrl_c_during_publish_exits_130_and_changes_nothing(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(stage: str) -> None:
        if stage == "publish":
            raise KeyboardInterrupt

    monkeypatch.setattr(refresh_module, "_pause", interrupt)
    before = checksums(published)
    env = {"CROSSOVER_N_PATHS": "50", "CROSSOVER_HORIZON": "8", "CROSSOVER_BACKTEST_ORIGINS": "2"}
    result = runner.invoke(
        app, ["refresh", "--force", "--db", str(published), "--models", ",".join(TINY_MODELS)], env=env
    )
    assert result.exit_code == 130 and "interrupted" in _one_line(result.output)
    assert checksums(published) == before and _temporaries(published) == []


def test_v_shows_the_traceback_of_a_failure(published: Path) -> None:
    result = runner.invoke(app, ["-v", "export", "history", "-o", "/dev/full", "--db", str(published)])
    assert result.exit_code == 1 and "Traceback" in result.output


# --------------------------------------------------------------------------- issue 18: init and missing databases


def test_init_refuses_an_existing_database_and_with_force_keeps_a_backup(published: Path) -> None:
    digest = store.file_digest(published)
    result = _cli("init", "--db", str(published))
    assert result.exit_code == 1 and "exists already" in _one_line(result.output)
    assert store.file_digest(published) == digest
    result = _cli("init", "--db", str(published), "--force")
    assert result.exit_code == 0, result.output
    (backup,) = published.parent.glob(f"{published.name}.backup-*")
    assert store.file_digest(backup) == digest and str(backup) in "".join(result.output.split())
    assert vintages.list_runs(published).empty


def test_refresh_builds_a_missing_database_but_check_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "new.duckdb"
    assert _cli("check", "--db", str(target)).exit_code == 66 and not target.exists()
    monkeypatch.setattr(store, "DATA_DIR", write_tiny_data(tmp_path / "data"))
    import forecasting.bootstrap as bootstrap

    monkeypatch.setattr(bootstrap.init_db, "__defaults__", (store.DATA_DIR,))
    env = {"CROSSOVER_N_PATHS": "20", "CROSSOVER_HORIZON": "4", "CROSSOVER_BACKTEST_ORIGINS": "1"}
    result = runner.invoke(app, ["refresh", "--db", str(target), "--models", "naive"], env=env)
    assert result.exit_code == 0, result.output
    assert integrity.check(target).ok


# --------------------------------------------------------------------------- findings 8 and 9: leftovers and time


def test_a_writer_removes_the_copies_of_dead_writers_and_keeps_live_ones(db: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = db.with_name(f".{db.name}.{dead.pid}.tmp")
    live = db.with_name(f".{db.name}.{os.getppid()}.tmp")
    for path in (stale, stale.with_name(stale.name + ".wal"), live):
        path.write_bytes(b"partial")
    save_scenario(db, Scenario(name="mine"))
    assert _temporaries(db) == [live]
    live.unlink()


def test_a_refresh_never_prunes_the_run_it_publishes_when_the_clock_went_back(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = vintages.latest_run_id(published)

    class Yesterday(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(timezone.utc) - timedelta(days=1)

    monkeypatch.setattr(refresh_module, "datetime", Yesterday)
    settings = Settings(**{**TINY_SETTINGS.__dict__, "retention": 1})
    summary = _refresh(published, settings=settings, force=True)
    assert summary.pruned == (first,)
    assert vintages.latest_run_id(published) == summary.run_id
    assert integrity.check(published).ok


def test_scenario_times_are_stored_in_utc_whatever_the_local_time_zone(db: Path) -> None:
    code = (
        "from pathlib import Path; import sys; from forecasting.scenario import Scenario; "
        "from forecasting.scenario_store import save_scenario; save_scenario(Path(sys.argv[1]), Scenario(name='tz'))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TZ": "Pacific/Kiritimati"}  # UTC+14
    subprocess.run([sys.executable, "-c", code, str(db)], env=env, check=True)
    with store.reader(db) as s:
        saved = s.frame("scenario_list").set_index("name").loc["tz"]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for column in ("created_at", "updated_at"):
        assert abs(pd.Timestamp(saved[column]) - pd.Timestamp(now)) < pd.Timedelta(minutes=5), saved[column]


# --------------------------------------------------------------------------- fault injection: kill real refreshes

#: The smallest refresh the CLI runs: two sectors (four series: enough for the process pool), the naive
#: model, ten paths, two quarters ahead.  Interpreter start-up and imports are most of its time.
FAST_ENV = {
    "CROSSOVER_N_PATHS": "10",
    "CROSSOVER_HORIZON": "2",
    "CROSSOVER_BACKTEST_ORIGINS": "1",
    "CROSSOVER_BACKTEST_HORIZON": "1",
}
KILLS = 20


def _start(db: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "forecasting", "refresh", "--force", "--db", str(db), "--models", "naive"]
    env = {**os.environ, **FAST_ENV, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _left_in_session(sid: int, seconds: float = 5.0) -> list[int]:
    """Processes still in session ``sid`` (the killed refresh's workers) after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for entry in Path("/proc").iterdir():
            try:
                zombie = entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
                if entry.name.isdigit() and not zombie and os.getsid(int(entry.name)) == sid:
                    left.append(int(entry.name))
            except OSError:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.mark.faults
def test_a_refresh_killed_at_random_moments_never_blocks_or_damages_the_next(tmp_path: Path) -> None:
    db = tmp_path / "crossover.duckdb"
    init_db(db, write_tiny_data(tmp_path / "data"))
    started = time.monotonic()
    done = _start(db)
    assert done.wait(timeout=120) == 0, done.communicate()
    duration = time.monotonic() - started
    rng = random.Random(19)
    ways = [(sig, group) for sig in (signal.SIGKILL, signal.SIGTERM) for group in (False, True)]
    for i in range(KILLS):
        sig, group = ways[i % len(ways)]
        published = vintages.latest_run_id(db)
        victim = _start(db)
        time.sleep(rng.uniform(0.0, duration))
        (os.killpg if group else os.kill)(victim.pid, sig)
        victim.wait(timeout=60)
        what = f"kill {i}: {sig.name} to the {'group' if group else 'parent'}"
        assert _left_in_session(victim.pid) == [], f"{what}: its workers outlived it"
        after_kill = vintages.latest_run_id(db)  # the old run, or the victim's if it got as far as the rename
        assert integrity.check(db).ok, what
        following = _start(db)
        out, err = following.communicate(timeout=120)
        assert following.returncode == 0, f"{what}: the next refresh exited {following.returncode}: {err.decode()}"
        assert vintages.latest_run_id(db) not in (published, after_kill), what
        report = integrity.check(db)
        assert report.ok, f"{what}: {report.problems()}"
        assert _temporaries(db) == [], what
    with store.file_lock(refresh_lock_path(db), 0, "the refresh lock"):
        pass  # no leftover process holds it
