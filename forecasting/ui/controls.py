"""The app's one scenario state and its driver controls: one slider per driver (point or range), with a reset.

The scenario every page shows is the *working* scenario, kept in session state as ``Scenario.to_dict()``
(normalised: a driver at its neutral value and an override equal to what it inherits are dropped, so
equal settings have one JSON and one cache entry).  The sidebar loads a saved scenario into it
(:func:`load`, remembering its name as the *origin*); the Scenarios page edits it; Overview, Sectors
and Exports read it.  Widgets are keyed by a generation counter, the target (``all`` or a sector) and
the driver, so loading a scenario or resetting a driver starts fresh widgets from the stored values.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ..config import ALL
from ..drivers import DRIVER_BY_KEY, DRIVERS, Driver, DriverValue, point, triangular, uniform
from ..scenario import Scenario

WORK = "scenario_work"
GEN = "scenario_gen"
#: Session-state key of the saved scenario the working one was loaded from (its name and settings).
ORIGIN = "scenario_origin"


def working() -> Scenario:
    """The scenario every page shows (the saved one loaded in the sidebar, with any edits)."""
    return Scenario.from_dict(st.session_state[WORK])


def start(scn: Scenario) -> None:
    """Show and edit ``scn`` from now on (fresh widgets)."""
    st.session_state[WORK] = normalised(scn).to_dict()
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1


def load(saved: Scenario) -> None:
    """Make the saved scenario the working one, unedited."""
    st.session_state[ORIGIN] = normalised(saved).to_dict()
    start(saved)


def origin() -> Scenario | None:
    """The saved scenario the working one was loaded from (``None`` before the sidebar loaded one)."""
    raw = st.session_state.get(ORIGIN)
    return None if raw is None else Scenario.from_dict(raw)


def is_edited() -> bool:
    """True when the working scenario's settings differ from the saved scenario it was loaded from."""
    first = origin()
    return first is None or WORK not in st.session_state or first.to_dict()["values"] != working().to_dict()["values"]


def normalised(scn: Scenario) -> Scenario:
    """The same settings without neutral ``all`` values and without overrides equal to what they inherit."""
    common = {k: v for k, v in scn.values.get(ALL, {}).items() if v != point(DRIVER_BY_KEY[k].neutral)}
    values: dict[str, dict[str, DriverValue]] = {ALL: common} if common else {}
    for sector, entry in scn.values.items():
        if sector == ALL:
            continue
        own = {k: v for k, v in entry.items() if v != common.get(k, point(DRIVER_BY_KEY[k].neutral))}
        if own:
            values[sector] = own
    return Scenario(scn.name, scn.description, scn.author, values)


def _reset(target: str, key: str) -> None:
    start(set_value(working(), target, key, DRIVER_BY_KEY[key].published()))


def _reset_all() -> None:
    scn = working()
    start(Scenario(scn.name, scn.description, scn.author, {ALL: {d.key: d.published() for d in DRIVERS}}))


def set_value(scn: Scenario, target: str, key: str, value: DriverValue) -> Scenario:
    """Set a driver for ``all`` or one sector; a sector value equal to the inherited one drops the override."""
    raw: dict[str, Any] = scn.to_dict()
    values = {s: dict(e) for s, e in raw["values"].items()}
    if target == ALL:
        values.setdefault(ALL, {})[key] = value.to_json()
    else:
        inherited = Scenario.from_dict({**raw, "values": {s: e for s, e in values.items() if s == ALL}})
        own = values.setdefault(target, {})
        if value == inherited.value_for(target, key):
            own.pop(key, None)
        else:
            own[key] = value.to_json()
        if not own:
            values.pop(target)
    return Scenario.from_dict({**raw, "values": values})


def _format(d: Driver) -> str:
    return "%d" if d.step >= 1 else ("%.2f" if d.step >= 0.01 else "%.3f")


def _shown_value(current: DriverValue, base: str) -> DriverValue:
    """The value a driver's controls (keys under ``base``) show; ``current`` where they are not drawn yet."""
    if st.session_state.get(f"{base}.range", current.is_range):
        lo, hi = st.session_state.get(f"{base}.rg", (current.lo, current.hi))
        if current.kind == "triangular" and lo <= current.mode <= hi:
            return triangular(lo, current.mode, hi)
        return uniform(lo, hi)
    return point(st.session_state.get(f"{base}.pt", current.centre()))


def _apply(target: str, key: str, base: str) -> None:
    """A driver's control changed: put its value into the scenario being edited before the app reruns.

    Callbacks run before the script, so the sidebar (drawn before the page's controls) already shows
    the unsaved edits in the run the change starts.
    """
    scn = working()
    edited = set_value(scn, target, key, _shown_value(scn.value_for(target, key), base))
    st.session_state[WORK] = normalised(edited).to_dict()  # the same widgets: not start(), which renews them


def driver_control(scn: Scenario, target: str, d: Driver) -> DriverValue:
    """Slider (point) or range slider for one driver, with default, neutral value, source and reset."""
    current = scn.value_for(target, d.key)
    base = f"drv.{st.session_state.get(GEN, 0)}.{target}.{d.key}"
    label = f"{d.label} ({d.unit})"
    tip = f"{d.help}\n\nDefault {d.default:g}: {d.reason}"
    applied = (target, d.key, base)  # each control's change goes into the scenario before the app reruns
    ranged = st.session_state.get(f"{base}.range", current.is_range)
    shown, key = ((current.lo, current.hi), f"{base}.rg") if ranged else (current.centre(), f"{base}.pt")
    st.slider(label, d.min, d.max, shown, d.step, format=_format(d), key=key, help=tip, on_change=_apply, args=applied)
    value = _shown_value(current, base)
    note, toggle, reset = st.columns([5, 3, 1], vertical_alignment="center")
    marks = f"default **{d.default:g}** · neutral {d.neutral:g} (no change to the model forecast)"
    if value.kind == "triangular":
        marks += f" · triangular, mode {value.mode:g}"
    note.caption(marks)
    toggle.toggle(
        "Range",
        value=current.is_range,
        key=f"{base}.range",
        help="Draw the driver per sample path from a range instead of fixing it.",
        on_change=_apply,
        args=applied,
    )
    reset.button(
        ":material/restart_alt:",
        key=f"{base}.reset",
        on_click=_reset,
        args=(target, d.key),
        help=f"Reset to the default, {d.default:g}.",
        type="tertiary",
    )
    return value


def driver_panel(scn: Scenario, target: str) -> Scenario:
    """Every driver's control for ``target``; returns the scenario with the values shown."""
    out = scn
    for d in DRIVERS:
        out = set_value(out, target, d.key, driver_control(scn, target, d))
    st.button("Reset every driver to its default", key="reset_all", on_click=_reset_all)
    out = normalised(out)
    st.session_state[WORK] = out.to_dict()
    return out
