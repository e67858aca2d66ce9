"""Cross-process file locks that die with their holder.

A lock is an exclusive ``flock`` on a sidecar file that records the holder's pid.  A ``flock``
belongs to the open file description, which ``fork`` shares: a forked child (a pool worker) that
kept the descriptor would keep the lock after its parent died.  So every descriptor of a held lock
is closed in a forked child as it starts (``os.register_at_fork``), and exec'd children never get
one (``O_CLOEXEC``).  A lock whose recorded holder is dead is waited for briefly, never kept.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DatabaseBusyError, ForecastingError

#: Descriptors of the locks this process holds; a forked child closes them at once (see below).
_HELD_LOCKS: set[int] = set()


def _drop_inherited_locks() -> None:
    """In a forked child (a pool worker): close the parent's lock descriptors.

    A flock belongs to the open file description, which a fork shares: a worker that kept the
    descriptor would keep the lock after its parent died.  Closing (not unlocking) leaves the
    parent's lock in place.  Exec'd children never get them (``os.open`` is close-on-exec).
    """
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a process of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holder(path: Path) -> int | None:
    """The process id a lock file records (its last holder), or None if it records none."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


#: How long a lock whose recorded holder is dead may stay held (by that holder's dying children).
DEAD_HOLDER_GRACE = 5.0


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False


@contextmanager
def file_lock(
    path: Path, timeout: float | None, what: str, busy: Callable[[str], ForecastingError] | None = None
) -> Iterator[None]:
    """Hold an exclusive flock on ``path``; ``timeout=0`` fails at once, ``None`` waits forever.

    When the process the file names is dead, the lock can only be held by its children on their way
    out, so the wait is extended by :data:`DEAD_HOLDER_GRACE`.  ``busy`` builds the error raised on
    timeout from the holder's description (default :class:`DatabaseBusyError`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    _HELD_LOCKS.add(fd)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        extended = False
        while not _try_lock(fd):
            if deadline is not None and time.monotonic() >= deadline:
                holder = lock_holder(path)
                if holder is not None and not pid_alive(holder) and not extended:
                    deadline, extended = time.monotonic() + DEAD_HOLDER_GRACE, True
                    continue
                who = f"process {holder}" if holder else "process ?"
                if holder is not None and not pid_alive(holder):
                    who += f", which has exited; a leftover child of it still holds {path}"
                raise (busy or _busy_default(what))(who)
            time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        _HELD_LOCKS.discard(fd)
        os.close(fd)  # closing the descriptor releases the flock


def _busy_default(what: str) -> Callable[[str], ForecastingError]:
    return lambda who: DatabaseBusyError(f"{what} is held by another process ({who}); try again shortly")
