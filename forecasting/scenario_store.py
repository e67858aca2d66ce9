"""Saving, listing, loading, copying and deleting named scenarios in the store."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from . import audit, store
from .config import ALL, SECTORS
from .errors import ForecastingError, NotFoundError
from .import_policy import invisible
from .scenario import PRESETS, Scenario


def _presets() -> list[Scenario]:
    return list(PRESETS.values()) if isinstance(PRESETS, dict) else list(PRESETS)


def _params_json(scenario: Scenario) -> str:
    """The scenario as stored in ``scenarios.params_json`` (keys sorted: equal scenarios store equal text)."""
    return json.dumps(scenario.to_dict(), sort_keys=True)


def _upsert(s: store.Session, scenario: Scenario, is_preset: bool) -> None:
    s.run(
        "scenario_upsert",
        name=scenario.name,
        description=scenario.description,
        author=scenario.author,
        params_json=_params_json(scenario),
        is_preset=is_preset,
    )


def seed_presets(session: store.Session) -> int:
    """Write the shipped preset scenarios into an open writer session; returns how many."""
    presets = _presets()
    for scenario in presets:
        _upsert(session, scenario, is_preset=True)
    return len(presets)


def list_scenarios(db: Path) -> pd.DataFrame:
    """Every saved scenario: name, description, author, is_preset, created_at, updated_at."""
    with store.reader(db) as s:
        return s.frame("scenario_list")


def load_scenario(db: Path, name: str) -> Scenario:
    """The scenario saved under ``name``; raises NotFoundError if there is none."""
    with store.reader(db) as s:
        rows = s.frame("scenario_get", name=name)
    if rows.empty:
        raise NotFoundError(f"no scenario named '{name}'; `forecasting scenario list` shows the saved ones")
    return Scenario.from_dict(json.loads(rows["params_json"].iloc[0]))


#: The longest scenario name a save accepts (it is shown in tables, file names and the dashboard).
MAX_NAME = 100
#: Longest description a saved scenario may carry: every page shows it under the chart (the presets' run to 260).
MAX_DESCRIPTION = 2000
#: What the dashboard's comparison calls the shown scenario's unsaved edits; no saved scenario may take it.
EDITED_NAME = "(edited, unsaved)"


def check_name(name: str) -> str:
    """``name`` if a new scenario may take it, else ``ValueError`` saying why.

    Refused: empty, longer than :data:`MAX_NAME`, blanks at either end (``'baseline '`` would pass for
    the preset), control characters (line breaks, NUL), invisible formatting characters (bidi marks,
    zero-width) and :data:`EDITED_NAME`.
    """
    if not name.strip():
        raise ValueError("a scenario needs a non-empty name")
    if name == EDITED_NAME:
        raise ValueError(f"'{EDITED_NAME}' is what the dashboard calls unsaved edits; choose another name")
    if len(name) > MAX_NAME:
        raise ValueError(f"a scenario name is at most {MAX_NAME} characters; this one has {len(name)}")
    if name != name.strip():
        raise ValueError(f"scenario name {name!r} starts or ends with blanks; remove them")
    bad = next((c for c in name if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(f"scenario name {name!r} contains the control character U+{ord(bad):04X}; remove it")
    if (hidden := invisible(name)) is not None:  # a right-to-left override would show the name reversed
        raise ValueError(f"scenario name {name!r} contains an invisible formatting character {hidden}; remove it")
    return name


def check_saveable(scenario: Scenario) -> None:
    """``ValueError`` unless ``scenario`` may be saved: its name passes :func:`check_name` and its description
    has at most :data:`MAX_DESCRIPTION` characters (a file's megabytes would be shown on every page)."""
    check_name(scenario.name)
    if (n := len(scenario.description)) > MAX_DESCRIPTION:
        raise ValueError(f"a scenario description is at most {MAX_DESCRIPTION:,} characters; this one has {n:,}")


def save_scenario(db: Path, scenario: Scenario, *, overwrite: bool = True) -> None:
    """Save ``scenario`` under its name (presets cannot be overwritten; it must pass :func:`check_saveable`).

    Inside an audited write (``audit.attributed``: the dashboard's signed-in user, the command line's OS
    user) the scenario is saved as that actor's, whatever author it carried: a copy of a preset or of
    someone else's scenario, or a JSON file naming another author, belongs to whoever saved it.
    """
    check_saveable(scenario)
    entry = audit.pending()
    if entry is not None:
        scenario = replace(scenario, author=entry.actor)
    with store.writer(db) as s:
        existing = s.frame("scenario_get", name=scenario.name)
        if not existing.empty and bool(existing["is_preset"].iloc[0]):
            raise ForecastingError(f"'{scenario.name}' is a shipped preset; save your changes under another name")
        if not existing.empty and not overwrite:
            raise ForecastingError(f"a scenario named '{scenario.name}' exists already")
        _upsert(s, scenario, is_preset=False)


def known_sectors(db: Path) -> list[str]:
    """The sector ids a scenario's driver can apply to in ``db``: the shipped ones, then those imported."""
    with store.reader(db) as s:
        imported = s.frame("history_user_sectors")["sector"].tolist()
    return [*SECTORS, *(sector for sector in imported if sector not in SECTORS)]


def check_sectors(db: Path, sectors: Iterable[str]) -> None:
    """``ValueError`` naming the first of ``sectors`` that ``db`` does not have (``all`` is every sector):
    a driver set for a misspelt sector would apply to nothing."""
    known = known_sectors(db)
    for sector in sectors:
        if sector != ALL and sector not in known:
            raise ValueError(f"unknown sector '{sector}'; use all or one of {', '.join(known)}")


def copy_scenario(db: Path, name: str, new_name: str) -> Scenario:
    """Save a copy of scenario ``name`` as ``new_name`` and return it."""
    source = load_scenario(db, name)
    copy = Scenario.from_dict({**source.to_dict(), "name": new_name})
    save_scenario(db, copy, overwrite=False)
    return copy


def delete_scenario(db: Path, name: str) -> None:
    """Delete a saved scenario (presets cannot be deleted)."""
    with store.writer(db) as s:
        existing = s.frame("scenario_get", name=name)
        if existing.empty:
            raise NotFoundError(f"no scenario named '{name}'")
        if bool(existing["is_preset"].iloc[0]):
            raise ForecastingError(f"'{name}' is a shipped preset and cannot be deleted")
        s.run("scenario_delete", name=name)


def scenarios_to_restore(db: Path, saved: list[dict]) -> list[Scenario]:
    """The scenarios a bundle manifest recorded (``saved``) that ``db`` lacks, checked and not yet written.

    A scenario saved here under the same name with other values is refused (ForecastingError), so a
    re-run bundle never silently computes under different assumptions; presets come with the code.
    """
    wanted = {scenario.name: scenario for scenario in (Scenario.from_dict(raw) for raw in saved)}
    missing = []
    with store.reader(db) as s:
        for scenario in wanted.values():
            rows = s.frame("scenario_get", name=scenario.name)
            if rows.empty:
                missing.append(scenario)
            elif rows["is_preset"].iloc[0]:
                continue
            elif Scenario.from_dict(json.loads(rows["params_json"].iloc[0])).values != scenario.values:
                raise ForecastingError(
                    f"scenario '{scenario.name}' exists here with other values than the bundle's; "
                    "rename or delete it, then re-run"
                )
    for scenario in missing:
        check_saveable(scenario)
    return missing


def scenario_rows(scenarios: list[Scenario]) -> pd.DataFrame:
    """``scenarios`` as new rows of the ``scenarios`` table (user scenarios), for a writer to insert."""
    rows = [(c.name, c.description, c.author, _params_json(c), False) for c in scenarios]
    return pd.DataFrame(rows, columns=["name", "description", "author", "params_json", "is_preset"])


def insert_scenarios(db: Path, scenarios: Sequence[Scenario]) -> None:
    """Write new user scenarios, already checked (:func:`scenarios_to_restore`), in one write."""
    if scenarios:
        with store.writer(db) as s:
            s.insert("scenarios", scenario_rows(list(scenarios)))
