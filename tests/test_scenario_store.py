"""Named scenarios in the store, from Python and from the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.drivers import point, uniform
from forecasting.errors import ForecastingError, NotFoundError
from forecasting.scenario import PRESETS, Scenario
from forecasting.scenario_store import copy_scenario, delete_scenario, list_scenarios, load_scenario, save_scenario

from .conftest import checksums

runner = CliRunner()


def test_presets_are_seeded_and_listed_first(db: Path) -> None:
    listing = list_scenarios(db)
    assert list(listing["name"]) == sorted(PRESETS)
    assert listing["is_preset"].all()


def test_a_saved_scenario_loads_back_equal(db: Path) -> None:
    mine = Scenario("mine", description="edge", author="ana", values={"healthcare": {"edge_share": uniform(0.2, 0.4)}})
    save_scenario(db, mine)
    assert load_scenario(db, "mine") == mine


def test_saving_again_updates_and_keeps_the_creation_time(db: Path) -> None:
    save_scenario(db, Scenario("mine", values={"all": {"edge_share": point(0.1)}}))
    created = list_scenarios(db).set_index("name").loc["mine", "created_at"]
    save_scenario(db, Scenario("mine", values={"all": {"edge_share": point(0.3)}}))
    row = list_scenarios(db).set_index("name").loc["mine"]
    assert row["created_at"] == created and row["updated_at"] >= created
    assert load_scenario(db, "mine").value_for("retail", "edge_share") == point(0.3)


def test_presets_cannot_be_overwritten_or_deleted(db: Path) -> None:
    before = checksums(db)
    with pytest.raises(ForecastingError, match="shipped preset"):
        save_scenario(db, Scenario("baseline", values={"all": {"edge_share": point(0.3)}}))
    with pytest.raises(ForecastingError, match="cannot be deleted"):
        delete_scenario(db, "edge_heavy")
    assert checksums(db) == before


def test_copy_then_delete(db: Path) -> None:
    copy = copy_scenario(db, "edge_heavy", "my edge")
    assert copy.values == PRESETS["edge_heavy"].values
    delete_scenario(db, "my edge")
    with pytest.raises(NotFoundError, match="no scenario named 'my edge'"):
        load_scenario(db, "my edge")


def test_the_cli_sets_shows_copies_and_deletes_scenarios(db: Path, tmp_path: Path) -> None:
    for args in (
        ["scenario", "set", "mine", "edge_share", "0.2:0.5", "--sector", "retail"],
        ["scenario", "set", "mine", "price_decline", "0.1:0.3:0.5"],
        ["scenario", "copy", "mine", "yours"],
    ):
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["scenario", "show", "yours", "--db", str(db)])
    assert json.loads(shown.output)["values"] == {
        "all": {"price_decline": {"triangular": [0.1, 0.3, 0.5]}},
        "retail": {"edge_share": {"uniform": [0.2, 0.5]}},
    }
    spec = tmp_path / "s.json"
    spec.write_text(shown.output)
    assert runner.invoke(app, ["scenario", "save", str(spec), "--name", "third", "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["scenario", "delete", "yours", "--db", str(db)]).exit_code == 0
    assert set(list_scenarios(db)["name"]) == set(PRESETS) | {"mine", "third"}


def test_the_cli_refuses_an_unknown_driver_or_a_value_out_of_range(db: Path) -> None:
    before = checksums(db)
    bad = runner.invoke(app, ["scenario", "set", "mine", "warp_speed", "1", "--db", str(db)])
    assert bad.exit_code == 2 and "unknown driver 'warp_speed'" in bad.output
    far = runner.invoke(app, ["scenario", "set", "mine", "edge_share", "5", "--db", str(db)])
    assert far.exit_code == 2 and "outside" in far.output
    assert checksums(db) == before


@pytest.mark.parametrize("value", ["1_0", "\u0660.\u0663", "0.1:", ":", "0x1", "0,4", "0.1:0.2:0.3:0.4"])
def test_the_cli_reads_a_driver_value_by_the_number_policy_and_says_what_it_takes(db: Path, value: str) -> None:
    """float() took '1_0' as 10 and Arabic-Indic digits as 0.3, and refused '0.1:' with "could not convert string
    to float: ''"; four parts were shown back as the JSON of a 'triangular' value."""
    before = checksums(db)
    result = runner.invoke(app, ["scenario", "set", "mine", "edge_share", value, "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert f"'{value}' is not a driver value: write a number (0.2), LO:HI" in " ".join(result.output.split())
    assert checksums(db) == before


def test_a_scenario_file_that_is_not_an_object_is_a_bad_argument_with_or_without_a_name(
    db: Path, tmp_path: Path
) -> None:
    """With --name, a JSON list was an internal error ("list indices must be integers or slices")."""
    (tmp_path / "s.json").write_text("[1, 2]")
    for extra in ([], ["--name", "mine"]):
        result = runner.invoke(app, ["scenario", "save", str(tmp_path / "s.json"), *extra, "--db", str(db)])
        assert result.exit_code == 2 and "scenario dict needs a 'name'" in result.output, result.output


def test_the_cli_takes_a_negative_driver_value_without_a_double_dash(db: Path) -> None:
    """realtime_growth goes down to -0.3, but '-0.2' was read as an unknown option ("No such option: -0")."""
    for value, shown in (("-0.2", "-0.2"), ("-0.3:0.1", "-0.3 to 0.1")):
        result = runner.invoke(app, ["scenario", "set", "mine", "realtime_growth", value, "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert f"mine: all/realtime_growth = {shown}" in result.output
    assert load_scenario(db, "mine").value_for("retail", "realtime_growth").lo == -0.3


def test_the_cli_refuses_a_sector_the_database_does_not_hold_and_takes_an_imported_one(
    db: Path, tmp_path: Path
) -> None:
    before = checksums(db)
    typo = runner.invoke(app, ["scenario", "set", "mine", "edge_share", "0.4", "--sector", "retial", "--db", str(db)])
    assert typo.exit_code == 2 and "unknown sector 'retial'" in typo.output
    # A scenario file is held to the same rule (it used to be saved with a driver that applied to nothing).
    spec = tmp_path / "s.json"
    spec.write_text(
        json.dumps({"name": "mine", "values": {"all": {"edge_share": 0.1}, "helthcare": {"edge_share": 0.4}}})
    )
    from_file = runner.invoke(app, ["scenario", "save", str(spec), "--db", str(db)])
    assert from_file.exit_code == 2 and "unknown sector 'helthcare'" in from_file.output
    assert checksums(db) == before
    data = tmp_path / "acme.csv"
    data.write_text("period,sector,workload,spend_usd\n2025Q1,Acme,training,10\n2025Q1,Acme,inference,4\n")
    assert runner.invoke(app, ["import", str(data), "--db", str(db)]).exit_code == 0
    ok = runner.invoke(app, ["scenario", "set", "mine", "edge_share", "0.4", "--sector", "acme", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert dict(load_scenario(db, "mine").values).keys() == {"acme"}


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("baseline ", "starts or ends with blanks"),
        (" mine", "starts or ends with blanks"),
        ("a\nb", "control character U+000A"),
        ("a\x00b", "control character U+0000"),
        ("a\u202eb", "invisible formatting character U+202E (RIGHT-TO-LEFT OVERRIDE)"),  # shown reversed
        ("mine\u200b", "invisible formatting character U+200B"),  # 'mine' and 'mine' side by side
        ("n" * 101, "at most 100 characters"),
        ("(edited, unsaved)", "what the dashboard calls unsaved edits"),  # compare could not tell them apart
    ],
)
def test_a_name_that_would_mislead_or_break_a_listing_is_refused(db: Path, name: str, why: str) -> None:
    before = checksums(db)
    with pytest.raises(ValueError, match=re.escape(why)):
        save_scenario(db, Scenario(name))
    with pytest.raises(ValueError, match=re.escape(why)):
        copy_scenario(db, "baseline", name)
    assert checksums(db) == before


def test_a_description_longer_than_a_page_shows_is_refused(db: Path) -> None:
    """A description had no limit: a file's megabytes were saved and shown under every page's chart."""
    before = checksums(db)
    with pytest.raises(ValueError, match="a scenario description is at most 2,000 characters; this one has 2,001"):
        save_scenario(db, Scenario("mine", "d" * 2001))
    assert checksums(db) == before
    save_scenario(db, Scenario("mine", "d" * 2000))


def test_a_json_null_is_no_name_and_no_description_not_the_text_none(db: Path) -> None:
    with pytest.raises(ValueError, match="'name' must be text"):
        Scenario.from_dict({"name": None})
    scenario = Scenario.from_dict({"name": "mine", "description": None, "author": None})
    assert (scenario.description, scenario.author) == ("", "")


@pytest.mark.parametrize(
    "value", [{"uniform": None}, 10**400, {"uniform": [0.1, {"a": 1}]}, {"triangular": "abc"}], ids=str
)
def test_a_scenario_file_with_a_value_that_is_no_number_is_a_bad_argument(
    db: Path, tmp_path: Path, value: object
) -> None:
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"name": "mine", "values": {"all": {"edge_share": value}}}))
    before = checksums(db)
    result = runner.invoke(app, ["scenario", "save", str(spec), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "not a driver value" in result.output and "internal error" not in result.output
    assert checksums(db) == before
