"""``forecasting scenario ...``: list, show, set, save, compare, goal-seek, copy and delete scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .. import audit
from .app import DbOption, FormatOption, RunOption, ThresholdOption, out, print_table, resolve_db, scenario_app

if TYPE_CHECKING:
    from ..drivers import DriverValue


@scenario_app.command("list")
def scenario_list(db: DbOption = None, fmt: FormatOption = None) -> None:
    """List saved scenarios (presets first)."""
    from ..scenario_store import list_scenarios

    table = list_scenarios(resolve_db(db))
    table["updated_at"] = table["updated_at"].dt.strftime("%Y-%m-%d %H:%M")
    table["description"] = table["description"].map(lambda d: d if len(d) <= 70 else d[:69] + "…")
    print_table(table[["name", "is_preset", "author", "updated_at", "description"]], fmt=fmt)


@scenario_app.command("show")
def scenario_show(
    name: Annotated[str, typer.Argument(help="Scenario name.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Print a scenario's assumptions as JSON."""
    import json

    from ..scenario_store import load_scenario

    out.print_json(json.dumps(load_scenario(resolve_db(db), name).to_dict()))


@scenario_app.command("save")
def scenario_save(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON file with the scenario (as `scenario show` prints it); - reads stdin.",
            show_default=False,
            dir_okay=False,
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Save under this name instead of the file's.")] = None,
    db: DbOption = None,
) -> None:
    """Save (create or update) a scenario from a JSON file."""
    import json

    from ..scenario import Scenario
    from ..scenario_store import check_sectors, save_scenario
    from .output import read_bytes

    try:
        data = json.loads(read_bytes(file).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file} is not a scenario JSON file: {exc}") from exc
    if name and isinstance(data, dict):  # anything else is refused by from_dict, named or not
        data["name"] = name
    scenario = Scenario.from_dict(data)
    path = resolve_db(db)
    check_sectors(path, scenario.values)
    with audit.attributed(path, "scenario.save", scenario.name):
        save_scenario(path, scenario)
    out.print(f"saved scenario '{scenario.name}'")


# A value may be negative (realtime_growth goes down to -0.3): "-0.2" is a value here, not an unknown option.
@scenario_app.command("set", context_settings={"ignore_unknown_options": True})
def scenario_set(
    name: Annotated[
        str, typer.Argument(help="Scenario to change (created from the baseline if new).", show_default=False)
    ],
    driver: Annotated[
        str, typer.Argument(help="Driver key, e.g. edge_share (see `scenario drivers`).", show_default=False)
    ],
    value: Annotated[
        str,
        typer.Argument(
            help="A number, LO:HI for a uniform range, or LO:MODE:HI for a triangular one.", show_default=False
        ),
    ],
    sector: Annotated[str, typer.Option("--sector", help="Sector id, or 'all' for every sector.")] = "all",
    db: DbOption = None,
) -> None:
    """Set one driver of a scenario, for one sector or all, as the dashboard's sliders do."""
    from ..errors import NotFoundError
    from ..scenario import BASELINE, PRESETS, Scenario
    from ..scenario_store import check_sectors, load_scenario, save_scenario

    path = resolve_db(db)
    check_sectors(path, [sector])
    try:
        scenario = load_scenario(path, name)
    except NotFoundError:
        scenario = Scenario.from_dict({**PRESETS[BASELINE].to_dict(), "name": name, "description": ""})
    typed = _typed_value(value)
    updated = scenario.with_value(sector, driver, typed)
    shown = f"{name}: {sector}/{driver} = {typed.text()}"
    with audit.attributed(path, "scenario.save", shown):
        save_scenario(path, updated)
    out.print(shown)


def _typed_value(value: str) -> DriverValue:
    """A driver value as typed: a number, LO:HI (uniform) or LO:MODE:HI (triangular); ``ValueError`` otherwise.

    Numbers follow the import's number policy (ASCII digits, '.', a sign and an exponent): float() would
    also take '1_0' as 10 or Arabic-Indic digits, and its refusals name no value ("could not convert string
    to float: ''" for '0.1:').
    """
    from ..drivers import point, triangular, uniform
    from ..import_policy import is_number

    parts = [part.strip() for part in value.split(":")]
    if not 1 <= len(parts) <= 3 or not all(is_number(part) for part in parts):
        raise ValueError(
            f"'{value}' is not a driver value: write a number (0.2), LO:HI for a uniform range (0.1:0.4) or "
            "LO:MODE:HI for a triangular one (0.1:0.2:0.4), in digits with '.' as the decimal point"
        )
    return (point, uniform, triangular)[len(parts) - 1](*map(float, parts))


@scenario_app.command("drivers")
def scenario_drivers(fmt: FormatOption = None) -> None:
    """List the scenario drivers with their units, ranges, defaults and reasons."""
    import pandas as pd

    from ..drivers import DRIVERS

    rows = [(d.key, d.label, d.unit, f"{d.min:g}..{d.max:g}", f"{d.default:g}", f"{d.neutral:g}") for d in DRIVERS]
    print_table(pd.DataFrame(rows, columns=["key", "driver", "unit", "range", "default", "neutral"]), fmt=fmt)


@scenario_app.command("compare")
def scenario_compare(
    names: Annotated[
        list[str], typer.Argument(help="Two or more scenario names; shifts are against the first.", show_default=False)
    ],
    run: RunOption = "latest",
    threshold: ThresholdOption = 1.0,
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Compare the crossover of every sector under several scenarios, side by side."""
    import pandas as pd

    from .. import quarters
    from ..reports import compare_saved

    if len(names) < 2:  # with one there is nothing to compare it with; `scenario show` shows one
        raise ValueError("name two or more scenarios to compare (the first is the reference)")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # one column per scenario: a name given twice would have two
        raise ValueError(f"name each scenario once; named more than once: {', '.join(twice)}")
    table = compare_saved(resolve_db(db), names, run, threshold)

    def cell(p50: pd.Timestamp | None, shift: float, scenario: str) -> str:  # noqa: F821
        if p50 is None or pd.isna(p50):
            return "beyond horizon"
        if pd.isna(shift) or scenario == names[0]:
            return quarters.label(p50)
        return f"{quarters.label(p50)} ({shift:+.1f})"

    table["p50 (shift in quarters)"] = [
        cell(p, s, n) for p, s, n in zip(table["p50"], table["shift_quarters"], table["scenario"], strict=True)
    ]
    wide = table.pivot(index="sector", columns="scenario", values="p50 (shift in quarters)")
    order = list(dict.fromkeys(table["sector"]))
    print_table(
        wide.loc[order, list(dict.fromkeys(names))].reset_index(), title="P50 crossover (shift vs first)", fmt=fmt
    )


@scenario_app.command("goal-seek")
def scenario_goal_seek(
    sector: Annotated[str, typer.Argument(help="Sector id, or total.", show_default=False)],
    driver: Annotated[str, typer.Argument(help="Driver key, e.g. edge_share.", show_default=False)],
    target: Annotated[
        str, typer.Argument(help="Quarter the P50 crossover should fall in, e.g. 2028Q1.", show_default=False)
    ],
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario the other drivers come from.")] = "baseline",
    run: RunOption = "latest",
    threshold: ThresholdOption = 1.0,
    db: DbOption = None,
) -> None:
    """Find the driver value that moves a sector's P50 crossover into a target quarter."""
    from ..reports import goal_seek_view, open_view

    result = goal_seek_view(open_view(resolve_db(db), run, scenario, threshold), sector, driver, target)
    out.print(result.message)
    if not result.reachable:
        raise typer.Exit(1)


@scenario_app.command("copy")
def scenario_copy(
    name: Annotated[str, typer.Argument(help="Scenario to copy.", show_default=False)],
    new_name: Annotated[str, typer.Argument(help="Name of the copy.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Copy a scenario under a new name."""
    from ..scenario_store import copy_scenario

    with audit.attributed(resolve_db(db), "scenario.copy", f"{name} -> {new_name}"):
        copy_scenario(resolve_db(db), name, new_name)
    out.print(f"copied '{name}' to '{new_name}'")


@scenario_app.command("delete")
def scenario_delete(
    name: Annotated[str, typer.Argument(help="Scenario to delete.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Delete a saved scenario (presets cannot be deleted)."""
    from ..scenario_store import delete_scenario

    with audit.attributed(resolve_db(db), "scenario.delete", name):
        delete_scenario(resolve_db(db), name)
    out.print(f"deleted scenario '{name}'")
