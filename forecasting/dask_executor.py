"""Scale-out: an :class:`~forecasting.executors.Executor` over a ``dask.distributed`` cluster.

Workers receive plain picklable tasks (arrays and settings) and return plain results; they never
open the database, so the refresh stays the single writer.  Results come back in input order and
are identical to the local executor's, because every random draw happens after the fits, in the
calling process, from seeds derived from the series ids.

The scheduler and every worker need the ``forecasting`` package installed (the tasks name its
functions); :class:`DaskExecutor` checks that on connecting and says so in one line, as it does when
the scheduler cannot be reached within :data:`CONNECT_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from .errors import ClusterError, MissingExtraError

if TYPE_CHECKING:
    from dask.distributed import Client, Future, LocalCluster

log = logging.getLogger(__name__)

#: How long connecting to a remote scheduler may take before the refresh gives up.
CONNECT_TIMEOUT_SECONDS = 10
#: The message for a cluster whose machines lack the package.
NEEDS_PACKAGE = "the Dask scheduler and workers need the forecasting package installed (the same version as here)"

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

    def connect(self) -> Client:
        """Connect once: to the scheduler at ``address`` (each machine must have the package), else a LocalCluster."""
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
            try:
                self._client = Client(self.address, timeout=CONNECT_TIMEOUT_SECONDS)
            except (OSError, TimeoutError) as exc:  # distributed raises OSError("Timed out trying to connect ...")
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {self.address} within {CONNECT_TIMEOUT_SECONDS} s; "
                    "is it running, and is the address right?"
                ) from exc
            _check_package(self._client, self.address)
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
        client = self.connect()
        # pure=False: equal tasks are still separate fits (and keys never collide across runs).
        futures = client.map(fn, batch, pure=False)
        try:
            for future in futures:
                yield _result(future)
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


def _check_package(client: Client, address: str) -> None:
    """``ClusterError`` unless the scheduler and every worker can import ``forecasting``."""
    try:
        specs = [*client.run(importlib.util.find_spec, "forecasting").values()]
        specs.append(client.run_on_scheduler(importlib.util.find_spec, "forecasting"))
    except ImportError as exc:
        raise ClusterError(f"{NEEDS_PACKAGE}; one of them at {address} cannot import it") from exc
    if any(spec is None for spec in specs):
        raise ClusterError(f"{NEEDS_PACKAGE}; one of them at {address} does not have it")


def _result(future: Future[R]) -> R:
    """A task's result; a task the cluster could not even unpack (package missing) as a ``ClusterError``."""
    try:
        return future.result()
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "forecasting":
            raise
        raise ClusterError(NEEDS_PACKAGE) from exc
    except RuntimeError as exc:  # the scheduler reports a task graph it could not deserialise this way
        if "deserializ" not in str(exc):
            raise
        raise ClusterError(NEEDS_PACKAGE) from exc
