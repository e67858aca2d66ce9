"""Save, copy and delete scenarios from the Scenarios page: one form each, one small function per write.

Each write goes through one ``_write_*`` function, which checks the user's role and records the change
in the audit trail (:func:`forecasting.auth.write`); editors change only scenarios they authored.  After a
write the page reruns: the sidebar then shows the saved scenario (:func:`widgets.select_saved`), the
lists read the new file (its stamp changed) and the delete confirmation starts unticked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from .. import auth, scenario_store
from ..errors import ForecastingError
from ..scenario import Scenario
from . import controls, widgets, words

#: Session-state key of the message shown once after a save, copy or delete (the page reruns to list it).
FLASH = "scenario_flash"
#: What the Save form says when the name is empty.
NO_NAME = "Give the scenario a name before saving it."
#: Session-state key counting deletes (the confirmation box's key carries it).
DELETES = "scenario_deletes"


def _write_save(db: Path, scn: Scenario, owner: str | None) -> None:
    with auth.write(db, "scenario.save", scn.name, owner=owner):
        scenario_store.save_scenario(db, scn)


def _write_copy(db: Path, source: str, new_name: str) -> None:
    with auth.write(db, "scenario.copy", f"{source} -> {new_name}"):
        scenario_store.copy_scenario(db, source, new_name)


def _write_delete(db: Path, name: str, owner: str | None) -> None:
    with auth.write(db, "scenario.delete", name, owner=owner):
        scenario_store.delete_scenario(db, name)


def _owners(saved: pd.DataFrame) -> dict[str, str]:
    """Each saved scenario's author (editors may overwrite or delete only their own)."""
    return dict(zip(saved["name"], saved["author"], strict=True))


def flash() -> None:
    """Show the message of the last save, copy or delete once."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")


def _done(message: str, show: str | None = None) -> None:
    st.session_state[FLASH] = message
    if show is not None:
        widgets.select_saved(show)
    st.rerun()


def save_form(db: Path, scn: Scenario, saved: pd.DataFrame) -> None:
    """Save the working scenario under a name (refused when empty), then show it in the sidebar, unedited."""
    presets = saved.loc[saved["is_preset"].astype(bool), "name"].tolist()
    author = auth.user_name()  # the signed-in user (the OS user locally), never free text
    with st.form("scenario_save"):
        # The browser stops typing at the limits the store enforces (scenario_store.check_saveable).
        default = "" if scn.name in presets else scn.name
        new_name = st.text_input("Name", value=default, key="save_name", max_chars=scenario_store.MAX_NAME).strip()
        desc = st.text_input(
            "Description", value=scn.description, key="save_desc", max_chars=scenario_store.MAX_DESCRIPTION
        )
        st.caption(f"Saved as **{words.plain(author)}**")
        if not st.form_submit_button("Save the scenario shown"):
            return
    if not new_name:
        st.error(NO_NAME, icon=":material/error:")
        return
    scenario = Scenario(new_name, desc, author, scn.values)
    try:
        _write_save(db, scenario, _owners(saved).get(new_name))
    except (ForecastingError, ValueError) as exc:
        st.error(words.plain(str(exc)), icon=":material/error:")
        return
    controls.load(scenario)
    _done(f"Saved '{words.plain(new_name)}'.", new_name)


def copy_form(db: Path, names: list[str]) -> None:
    """Copy a saved scenario under a new name."""
    with st.form("scenario_copy"):
        source = str(st.selectbox("Copy", names, key="copy_from"))
        copy_name = st.text_input("as", key="copy_name", max_chars=scenario_store.MAX_NAME).strip()
        if not st.form_submit_button("Copy"):
            return
    if not copy_name:
        st.error("Give the copy a name.", icon=":material/error:")
        return
    try:
        _write_copy(db, source, copy_name)
    except (ForecastingError, ValueError) as exc:
        st.error(words.plain(str(exc)), icon=":material/error:")
        return
    _done(f"Copied '{words.plain(source)}' to '{words.plain(copy_name)}'.")


def delete_form(db: Path, saved: pd.DataFrame) -> None:
    """Delete one of the user's saved scenarios after a confirmation that starts unticked every time."""
    own = saved.loc[~saved["is_preset"].astype(bool), "name"].tolist()
    # The key follows the list: a selectbox keyed alone keeps its empty value when the first scenario appears.
    key = "delete_name_" + hashlib.sha1("\n".join(own).encode()).hexdigest()[:8]
    with st.form("scenario_delete", clear_on_submit=True):
        victim = st.selectbox("Delete", own, key=key, placeholder="no saved scenarios of your own")
        # A new key after every delete: the confirmation starts unticked (clear_on_submit acts in the browser only).
        sure = st.checkbox("Yes, delete it", key=f"delete_sure_{st.session_state.get(DELETES, 0)}")
        if not st.form_submit_button("Delete", disabled=not own) or victim is None:
            return
    if not sure:
        st.warning("Tick the box to confirm.", icon=":material/warning:")
        return
    try:
        _write_delete(db, str(victim), _owners(saved).get(str(victim)))
    except ForecastingError as exc:
        st.error(words.plain(str(exc)), icon=":material/error:")
        return
    st.session_state[DELETES] = st.session_state.get(DELETES, 0) + 1
    _done(f"Deleted '{words.plain(str(victim))}'.")
