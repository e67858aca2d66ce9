"""The command line: help for every option, init, and the module entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from forecasting import store
from forecasting.cli import app

runner = CliRunner()


def _commands(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list:
    found = []
    for name, cmd in group.commands.items():
        found.append(((*prefix, name), cmd))
        if isinstance(cmd, TyperGroup):
            found += _commands(cmd, (*prefix, name))
    return found


ROOT = typer.main.get_command(app)
COMMANDS = _commands(ROOT)  # type: ignore[arg-type]  # get_command returns a Click Command; this app is a group


README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _leaf_commands() -> set[str]:
    """Every command a user can run, from the typer app itself: ``init``, ``scenario list``, ..."""
    return {" ".join(path) for path, cmd in COMMANDS if not isinstance(cmd, TyperGroup) and not cmd.hidden}


def _readme_commands() -> set[str]:
    """The commands the README's "The command line" block names, one ``forecasting ...`` line each.

    ``forecasting scenario list|show|set`` names three subcommands of ``scenario``; a line whose second word is
    not a group names a top-level command (its remaining words are arguments and options).
    """
    section = README.split("## The command line", 1)[1]
    block = section.split("```", 2)[1]
    groups = {path[0] for path, cmd in COMMANDS if isinstance(cmd, TyperGroup)}
    named: set[str] = set()
    for line in block.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "forecasting":
            continue
        if words[1] in groups:
            assert len(words) > 2, f"README names the group '{words[1]}' without a subcommand: {line!r}"
            named |= {f"{words[1]} {sub}" for sub in words[2].split("|")}
        else:
            named.add(words[1])
    return named


def test_the_cli_offers_the_documented_commands() -> None:
    commands = _leaf_commands()
    # The walk reaches the subcommands of both groups (there are 19 commands as of writing).
    assert {"init", "refresh", "scenario goal-seek", "scenario drivers", "vintage compare"} <= commands
    assert len(commands) >= 19, sorted(commands)
    documented = _readme_commands()
    assert sorted(commands - documented) == [], "commands the README's command list does not name"
    assert sorted(documented - commands) == [], "commands the README names that the CLI does not have"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    cmd = dict(COMMANDS)[path]
    assert cmd.help or cmd.short_help, f"{' '.join(path)} has no help text"
    for param in cmd.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"option {param.opts} of {' '.join(path)} has no help text"
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _help_words() -> dict[tuple[str, ...], list[str]]:
    """Every command's ``--help`` at 100 columns as words (panel borders and code backticks left out)."""
    paths = [()] + [p for p, _ in COMMANDS]
    helps = {p: runner.invoke(app, [*p, "--help"], env={"COLUMNS": "100"}).output for p in paths}
    return {p: re.findall(r"[^\s│╭╮╰╯─]+", text.replace("`", "")) for p, text in helps.items()}


def test_help_paragraphs_reflow_to_the_terminal_and_lose_no_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help is rendered as Markdown, so a docstring's paragraphs reflow to the terminal's width (as Rich
    markup they kept the source's line breaks: 'Exit codes: 0' ended a line); and Markdown must not eat
    a word (it read '<db>' in '--force' as an HTML tag and dropped it)."""
    text = runner.invoke(app, ["refresh", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"does not exist yet\. +Exit codes: 0 published or up to date; 65 refused", text)
    shipped = _help_words()
    monkeypatch.setattr(app, "rich_markup_mode", "rich")
    assert shipped == _help_words()


def test_help_shows_a_value_placeholder_only_for_options_that_take_a_value() -> None:
    """typer 0.2x prints a type column for every option, flags too (`--force <bool>`, `-v <int>`, `--help
    <bool>`), which reads as if the flag took a value (`--force true` is then refused as an extra argument).
    A flag shows none; an option that takes a value keeps its placeholder."""
    for path in [()] + [p for p, _ in COMMANDS]:
        text = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"}).output
        assert "<bool>" not in text, " ".join(path)
        assert not re.search(r"--verbose\s+-v\s+<", text), " ".join(path)
    refresh = runner.invoke(app, ["refresh", "--help"], env={"COLUMNS": "120"}).output
    assert re.search(r"--db\s+<file>", refresh) and re.search(r"--force\s+Refit", refresh)


NO_DATABASE = {("forecast",), ("build-data",), ("scenario", "drivers")}  # they read files, not the store


def test_every_command_takes_a_db_option() -> None:
    for path, cmd in COMMANDS:
        if isinstance(cmd, TyperGroup) or path in NO_DATABASE:
            continue
        assert any("--db" in getattr(p, "opts", []) for p in cmd.params), f"{' '.join(path)} lacks --db"


def test_init_builds_the_database_from_data_files(tmp_path: Path, tiny_data: Path, monkeypatch) -> None:
    monkeypatch.setattr(store, "DATA_DIR", tiny_data)
    import forecasting.bootstrap as bootstrap

    monkeypatch.setattr(bootstrap.init_db, "__defaults__", (tiny_data,))
    target = tmp_path / "new.duckdb"
    result = runner.invoke(app, ["init", "--db", str(target)])
    assert result.exit_code == 0, result.output
    assert "built" in result.output and "48 history rows" in result.output
    with store.reader(target) as s:
        assert len(s.frame("history_spend", provenance=None)) == 48


def test_a_read_command_on_a_missing_database_exits_66_and_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "typo.duckdb"
    monkeypatch.setenv("CROSSOVER_DB", str(target))
    for command in (["scenario", "list"], ["vintage", "list"], ["check"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 66, result.output
        assert f"no database at {target}" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["init"], ["refresh"], ["schedule", "--cron", "@daily"]])
def test_a_new_database_is_never_put_in_a_folder_that_does_not_exist(tmp_path: Path, command: list[str]) -> None:
    """`init --db /srv/crossovr/x.duckdb` (a typo) built the whole folder tree and the database in it, exit 0."""
    target = tmp_path / "typo" / "deeper" / "x.duckdb"
    result = runner.invoke(app, [*command, "--db", str(target)])
    assert result.exit_code == 66, result.output
    assert f"cannot write into {target.parent}: no such folder; create it first" in " ".join(result.output.split())
    assert "scheduling" not in result.output and list(tmp_path.iterdir()) == []


def test_python_dash_m_forecasting_prints_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "forecasting", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "import" in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["refresh", "--help"], ["scenario", "drivers"]])
def test_a_reader_that_closed_the_pipe_gets_no_error_line(args: list[str]) -> None:
    """`forecasting ... | head -1`: when the reader has gone, the command stops quietly (exit 1, as click does),
    the same way inside a command as outside; it printed 'error: a file could not be read or written: Broken
    pipe' when the closed pipe was met inside a command (`refresh --help`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, so every write meets the closed pipe
    try:
        result = subprocess.run(
            [sys.executable, "-m", "forecasting", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""


def test_forecast_reads_months_dated_on_their_first_or_last_day_as_monthly(tmp_path: Path) -> None:
    rows = ["unique_id,ds,y"]  # odd months on the 1st, even ones on their last day, as a spreadsheet exported them
    for i, month in enumerate(pd.date_range("2021-01-01", periods=24, freq="MS")):
        rows.append(f"sales,{month if i % 2 == 0 else month + pd.offsets.MonthEnd(0):%Y-%m-%d},{100 + i}")
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n")
    result = runner.invoke(app, ["forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "-h", "2"])
    assert result.exit_code == 0, result.output  # was daily: 700 days filled in, the next two days forecast
    assert pd.read_csv(tmp_path / "out.csv")["ds"].tolist() == ["2023-01-31", "2023-02-28"]
    assert "wrote 2 rows for 1 series" in result.output and "fallback" not in result.output


def test_forecast_refuses_quarters_dated_in_different_months_in_one_line(tmp_path: Path) -> None:
    rows = ["unique_id,ds,y"]
    for i, quarter in enumerate(pd.date_range("2015-01-01", periods=12, freq="QS")):
        rows.append(f"revenue,{quarter if i % 2 == 0 else quarter + pd.offsets.QuarterEnd(0):%Y-%m-%d},{10 + i}")
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n")
    result = runner.invoke(app, ["forecast", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 65, result.output  # was 0, forecast day by day
    assert result.stderr == (
        "error: series 'revenue' is quarterly but its dates fall in different months of their quarters "
        "(2015-01-01, 2015-06-30); date every quarter in the same month, e.g. on its last day\n"
    )
    assert not (tmp_path / "out.csv").exists()
