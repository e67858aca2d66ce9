"""The audit trail: who changed what, and when (UTC).

Every write the dashboard or the command line makes (scenario save, copy and delete, import and its
undo, refresh, init) is recorded here by :func:`record` in the ``audit_log`` table (``sql/migrate_008.sql``).
The dashboard passes the signed-in user as the actor; the command line records the operating-system
user.  Inside :func:`attributed` the row is written in the same transaction as the change it describes
(the first ``store.writer`` of the block adds it before committing), so a change is never without its
row nor a row without its change; :func:`record` appends a row in its own short write, for writes whose
detail is known only afterwards (a refresh's run id, an import's row counts).
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module at start-up; the store loads on first use
    import pandas as pd

    from .store import Session

log = logging.getLogger(__name__)

#: The writes that are recorded, with what each one's detail holds.
ACTIONS: dict[str, str] = {
    "init": "the database file built from the shipped data",
    "import": "the imported file's name and its row counts",
    "import.undo": "the import that was undone",
    "scenario.save": "the scenario's name",
    "scenario.copy": "source and copy names",
    "scenario.delete": "the scenario's name",
    "refresh": "the run published, or why none was",
    "refresh.start": "a refresh started from the dashboard",
}
#: Longest detail kept; longer text is cut (the detail is a note, not a payload).
DETAIL_MAX = 500


def os_user() -> str:
    """The operating-system user running this process (the command line's actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return f"uid {os.getuid()}"


@dataclass
class Entry:
    """One audit row waiting for the write it describes; ``recorded`` once a transaction committed it."""

    action: str
    detail: str
    actor: str
    recorded: bool = False

    def insert(self, session: Session) -> None:
        """Add the row through ``session`` (a writer's open transaction), stamped now in UTC."""
        at = datetime.now(timezone.utc).replace(tzinfo=None)
        session.run("audit_insert", at_utc=at, actor=self.actor, action=self.action, detail=self.detail)


#: The entry of the :func:`attributed` block running in this thread (Streamlit runs each session's script in
#: its own thread, so one session's entry never reaches another's writes).
_PENDING: ContextVar[Entry | None] = ContextVar("crossover_audit_entry", default=None)


def _entry(action: str, detail: str, actor: str | None) -> Entry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action '{action}'; known: {', '.join(ACTIONS)}")
    return Entry(action, detail[:DETAIL_MAX], (actor or os_user()).strip() or "unknown")


def record(db: Path, action: str, detail: str = "", *, actor: str | None = None) -> None:
    """Append one audit row in its own write: ``actor`` (default: the OS user), now in UTC, ``action``, ``detail``.

    Raises ``ValueError`` for an action not in :data:`ACTIONS`.
    """
    entry = _entry(action, detail, actor)
    from . import store

    with store.writer(db) as s:
        entry.insert(s)
    log.info("audit: %s %s %s", entry.actor, action, detail)


@contextmanager
def attributed(db: Path, action: str, detail: str = "", *, actor: str | None = None) -> Iterator[Entry]:
    """Record ``action`` in the transaction of the block's first write; after the block if it wrote nothing.

    A block that raises is not recorded (unless a write it committed before raising already carried the row:
    then the change happened, and so did its record).  Raises ``ValueError`` for an unknown action.
    """
    entry = _entry(action, detail, actor)
    token = _PENDING.set(entry)
    try:
        yield entry
    finally:
        _PENDING.reset(token)
    if not entry.recorded:  # e.g. starting a refresh writes nothing itself
        record(db, action, entry.detail, actor=entry.actor)
    else:
        log.info("audit: %s %s %s", entry.actor, action, entry.detail)


def pending() -> Entry | None:
    """The entry a writer opened now should add to its transaction (None outside :func:`attributed`, or done)."""
    entry = _PENDING.get()
    return None if entry is None or entry.recorded else entry


def entries(db: Path, limit: int = 100) -> pd.DataFrame:
    """The newest ``limit`` audit rows first: at_utc, actor, action, detail."""
    import pandas as pd

    from . import store

    with store.reader(db) as s:
        if s.schema_version() < 8:  # a file no write has migrated yet has no audit rows
            return pd.DataFrame(columns=["at_utc", "actor", "action", "detail"])
        return s.frame("audit_list", limit=int(limit))
