"""The audit trail: who changed what, and when (UTC).

Every write the dashboard or the command line makes (scenario save, copy and delete, import and its
undo, refresh, init) is recorded here by :func:`record` in the ``audit_log`` table (``sql/migrate_008.sql``).
The dashboard passes the signed-in user as the actor; the command line records the operating-system
user.  A row is appended after the write it describes succeeded, in its own short write.
"""

from __future__ import annotations

import getpass
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module at start-up; the store loads on first use
    import pandas as pd

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


def record(db: Path, action: str, detail: str = "", *, actor: str | None = None) -> None:
    """Append one audit row: ``actor`` (default: the OS user), now in UTC, ``action`` and ``detail``.

    Raises ``ValueError`` for an action not in :data:`ACTIONS`.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action '{action}'; known: {', '.join(ACTIONS)}")
    who = (actor or os_user()).strip() or "unknown"
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    from . import store

    with store.writer(db) as s:
        s.run("audit_insert", at_utc=at, actor=who, action=action, detail=detail[:DETAIL_MAX])
    log.info("audit: %s %s %s", who, action, detail)


def entries(db: Path, limit: int = 100) -> pd.DataFrame:
    """The newest ``limit`` audit rows first: at_utc, actor, action, detail."""
    import pandas as pd

    from . import store

    with store.reader(db) as s:
        if s.schema_version() < 8:  # a file no write has migrated yet has no audit rows
            return pd.DataFrame(columns=["at_utc", "actor", "action", "detail"])
        return s.frame("audit_list", limit=int(limit))
