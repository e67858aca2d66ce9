"""Scenario driver controls: one slider per driver (point or range), with its default and a reset.

The scenario being edited lives in session state as ``Scenario.to_dict()``.  Widgets are keyed by a
generation counter, the target (``all`` or a sector) and the driver, so loading a scenario or
resetting a driver starts fresh widgets from the stored values instead of fighting their state.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ..config import ALL
from ..drivers import DRIVER_BY_KEY, DRIVERS, Driver, DriverValue, point, triangular, uniform
from ..scenario import Scenario

WORK = "scenario_work"
GEN = "scenario_gen"


def working() -> Scenario:
    """The scenario being edited."""
    return Scenario.from_dict(st.session_state[WORK])


def start(scn: Scenario) -> None:
    """Edit ``scn`` from now on (fresh widgets)."""
    st.session_state[WORK] = scn.to_dict()
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1


def ensure(default: Scenario) -> None:
    """Start editing ``default`` unless a scenario is being edited already."""
    if WORK not in st.session_state:
        start(default)


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


def driver_control(scn: Scenario, target: str, d: Driver) -> DriverValue:
    """Slider (point) or range slider for one driver, with default, neutral value, source and reset."""
    current = scn.value_for(target, d.key)
    base = f"drv.{st.session_state.get(GEN, 0)}.{target}.{d.key}"
    label = f"{d.label} ({d.unit})"
    tip = f"{d.help}\n\nDefault {d.default:g}: {d.reason}"
    ranged = st.session_state.get(f"{base}.range", current.is_range)
    if ranged:
        lo, hi = st.slider(
            label, d.min, d.max, (current.lo, current.hi), d.step, format=_format(d), key=f"{base}.rg", help=tip
        )
        value = (
            triangular(lo, current.mode, hi)
            if current.kind == "triangular" and lo <= current.mode <= hi
            else uniform(lo, hi)
        )
    else:
        value = point(
            st.slider(label, d.min, d.max, current.centre(), d.step, format=_format(d), key=f"{base}.pt", help=tip)
        )
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
    st.session_state[WORK] = out.to_dict()
    return out
