"""Where per-series fits run: serially, on local processes, or (later) on a Dask cluster.

An executor only needs ``map(fn, items)`` returning results in the order of ``items``;
``fn`` is a top-level function of plain picklable data, so any backend can ship it.

The local pool's workers die with the process that started them: on Linux each asks the kernel
for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so a refresh killed with SIGKILL or
SIGTERM leaves no worker behind holding memory (or, before the store closed inherited lock
descriptors, the refresh lock).  When the caller stops early (an error, Ctrl-C), the pool is shut
down without waiting for the fits still queued.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``items`` and yields the results in the order of ``items``."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` to each item; results come back in input order."""
        ...


class SerialExecutor:
    """Runs every call in this process, one after another."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` lazily in input order."""
        return (fn(item) for item in items)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Pool-worker initializer: ask for SIGKILL when the parent dies, and exit if it already has.

    Only Linux has ``PR_SET_PDEATHSIG``; elsewhere the workers still exit when the pool's pipe
    closes, only later.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("could not ask to die with the parent (errno %d)", ctypes.get_errno())
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class LocalExecutor:
    """A process pool of ``workers`` processes; runs serially when there are fewer than ``min_items`` items."""

    def __init__(self, workers: int | None = None, min_items: int = 3) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers or min(os.cpu_count() or 1, 2)
        self.min_items = min_items

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` over a process pool, yielding each result as soon as its turn comes."""
        batch = list(items)
        if self.workers == 1 or len(batch) < self.min_items:
            yield from (fn(item) for item in batch)
            return
        log.debug("fitting %d items on %d processes", len(batch), self.workers)
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=die_with_parent, initargs=(os.getpid(),))
        try:
            yield from pool.map(fn, batch, chunksize=1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
