"""Cleaning's partitions on a Dask cluster (``pingyi clean --scheduler/--workers``, and
the service's ``PINGYI_CLEANING_SCHEDULER``).

The engine (``pingyi.cleaning.pipeline``) cuts a campaign into partitions that are
cleaned apart with campaign-wide figures; this runner sends each partition to the
cluster once, runs both passes on it there, and brings back only the summaries and
the results. The output is the same, flag for flag, as a run in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from pingyi.cleaning import Ratings
from pingyi.cleaning.pipeline import RunnerFactory

T = TypeVar("T")


class ClusterError(RuntimeError):
    """The cluster could not be reached or started; the message says which and why."""


class DaskRunner:
    """Runs functions over partitions that live on the cluster's workers."""

    def __init__(self, client: Any, ratings: Ratings, parts: Sequence[np.ndarray]) -> None:
        self.client = client
        # one partition at a time, so the client never holds two copies of the campaign
        # (hash=False: naming a partition by its content would mean hashing all of it)
        self.parts = [client.scatter(ratings.take(rows), hash=False) for rows in parts]

    def map(
        self, fn: Callable[..., T], args: Sequence[Any], done: Callable[[int], None]
    ) -> list[T]:
        from distributed import as_completed

        shared = [self.client.scatter(arg, broadcast=True, hash=False) for arg in args]
        futures = [self.client.submit(fn, part, *shared, pure=False) for part in self.parts]
        index = {future.key: k for k, future in enumerate(futures)}
        for future in as_completed(futures):
            done(index[future.key])
        results: list[T] = self.client.gather(futures)
        return results


@contextmanager
def dask_runner(
    scheduler: str | None = None, workers: int | None = None
) -> Iterator[RunnerFactory]:
    """A runner factory for ``clean(..., runner=...)``: on the scheduler at ``scheduler``
    (``tcp://host:8786``), or on a local cluster of ``workers`` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is part of the install
        raise ClusterError("Dask is not installed: pip install 'dask[distributed]'") from exc
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
            client = Client(cluster)
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        yield lambda ratings, parts: DaskRunner(client, ratings, parts)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
