"""Which scenarios the Scenarios page compares: picks that always name scenarios that exist.

The shown scenario takes part under its own name, or as ``(edited, unsaved)`` while it has unsaved
edits.  That label changes under the picks: editing adds it, saving the edits under a name or
discarding them removes it, and a saved scenario may be deleted.  The picks are kept in session state
and brought up to date before the multiselect is drawn, so the widget never holds a name that is gone
(however the Streamlit version treats options that changed) and the shown scenario's edits stay
in the comparison under their new name.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ..scenario import BASELINE
from ..scenario_store import EDITED_NAME

#: Session-state keys: the multiselect's picks, and the label the shown scenario had when they were last drawn.
PICKS, SHOWN = "compare_names", "compare_shown"


def default_picks(names: Sequence[str], shown: str) -> list[str]:
    """The baseline and the published scenario when saved, then the shown scenario (each once)."""
    return list(dict.fromkeys([n for n in (BASELINE, "published") if n in names] + [shown]))


def kept_picks(picked: Sequence[str], options: Sequence[str], before: str | None, shown: str) -> list[str]:
    """``picked`` brought up to date with the ``options`` that exist now, in order and each once.

    ``before`` is the shown scenario's label when the picks were made, ``shown`` its label now. Picked
    unsaved edits that were saved under a name or discarded become the shown scenario (saved as
    ``"mine"``, they are compared as ``"mine"``); a picked saved scenario whose edits began gets them
    beside it; a scenario that no longer exists leaves the picks.
    """
    out = list(picked)
    if before is not None and before != shown and before in out:
        at = out.index(before)
        if before == EDITED_NAME:
            out[at] = shown
        elif shown == EDITED_NAME:
            out.insert(at + 1, shown)
    return [n for n in dict.fromkeys(out) if n in options]


def picker(names: Sequence[str], shown: str) -> list[str]:
    """The 'Compare' multiselect over the shown scenario and the saved ``names``; returns the picks.

    ``shown`` is the shown scenario's label: its name, or :data:`EDITED_NAME` while it has unsaved edits.
    """
    options = list(dict.fromkeys([shown, *names]))
    if PICKS in st.session_state:
        kept = kept_picks(st.session_state[PICKS], options, st.session_state.get(SHOWN), shown)
        if kept != st.session_state[PICKS]:
            st.session_state[PICKS] = kept  # before the widget is drawn: it starts from these picks
    else:
        st.session_state[PICKS] = default_picks(names, shown)  # no `default=`: session state is the one source
    st.session_state[SHOWN] = shown
    return [str(n) for n in st.multiselect("Scenarios", options, key=PICKS)]
