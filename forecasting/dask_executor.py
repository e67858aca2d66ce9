"""Scale-out: an :class:`~forecasting.executors.Executor` over a ``dask.distributed`` cluster.

Workers receive plain picklable tasks (arrays and settings) and return plain results; they never
open the database, so the refresh stays the single writer.  Results come back in input order and
are identical to the local executor's, because every random draw happens after the fits, in the
calling process, from seeds derived from the series ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from .errors import MissingExtraError

if TYPE_CHECKING:
    from dask.distributed import Client, LocalCluster

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class DaskExecutor:
    """Runs fits on a Dask cluster: the scheduler at ``address``, else a LocalCluster of worker processes."""

    def __init__(self, address: str | None = None, workers: int = 2, threads_per_worker: int = 1) -> None:
        if workers < 1 or threads_per_worker < 1:
            raise ValueError("workers and threads_per_worker must be >= 1")
        self.address = address
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None

    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # dask is the optional [dask] extra
            raise MissingExtraError(
                "the dask executor needs the dask extra: pip install 'crossover-forecasting[dask]'"
            ) from exc
        if self.address:
            log.info("dask event=connect scheduler=%s", self.address)
            self._client = Client(self.address)
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=self.threads_per_worker,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
            log.info("dask event=local_cluster workers=%d", self.workers)
        return self._client

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Submit every item at once; yield results in input order as each becomes ready."""
        batch = list(items)
        if not batch:
            return
        client = self._connect()
        # pure=False: equal tasks are still separate fits (and keys never collide across runs).
        futures = client.map(fn, batch, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.release()

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster if this executor started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
