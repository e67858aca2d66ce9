"""Where per-series fits run: serially, on local processes, or (later) on a Dask cluster.

An executor only needs ``map(fn, items)`` returning results in the order of ``items``;
``fn`` is a top-level function of plain picklable data, so any backend can ship it.
"""

from __future__ import annotations

import logging
import os
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
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            yield from pool.map(fn, batch, chunksize=1)
