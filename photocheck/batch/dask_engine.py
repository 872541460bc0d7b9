"""A Dask engine for ``photocheck batch``: judge chunks on a ``distributed`` cluster.

    photocheck batch arsip/ --out hasil.jsonl --engine dask              # a LocalCluster here
    photocheck batch /mnt/arsip/ --out hasil.jsonl --scheduler tcp://host:8786

:class:`DaskEngine` implements the engine seam of :mod:`photocheck.batch`: it submits
:func:`~photocheck.batch.judge_chunk` per chunk (``pure=False``: the same chunk given twice is
judged twice, never served from a cache), keeps ``chunks_in_flight_per_worker`` chunks per worker
thread in flight, tops up from :class:`distributed.as_completed` and yields each chunk's rows as
it completes. Closing the generator, an exception or Ctrl-C cancels what is outstanding.

Without a scheduler address a :class:`distributed.LocalCluster` is started on first use (one
single-threaded worker *process* per CPU, started with ``spawn`` so that no MediaPipe state
crosses a fork) and shut down by :meth:`DaskEngine.close`. With an address the engine connects a
:class:`distributed.Client` to an existing cluster and leaves the cluster running on close.
Tasks name files, not bytes: every worker needs the photos (and a policy TOML given by path) at
the same absolute paths, e.g. on shared storage. Each worker process loads the models once.

A worker that dies is handled by Dask: its tasks are rescheduled on other workers until a chunk
has killed ``distributed.scheduler.allowed-failures`` of them (set to 1 on the LocalCluster this
engine starts; an existing cluster keeps its own setting) and fails with ``KilledWorker``. The
engine then judges that chunk's images one per task, and an image that still kills its worker
alone becomes an ``internal`` error row, as with the local engine: one poisonous file never
stops an audit.

``dask`` is imported lazily: :mod:`photocheck` imports without it. ``pip install
'photocheck[dask]'`` installs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from ..limits import Limits
from ..messages import Message
from .engines import MAX_CRASHES_IN_A_ROW, default_workers, sigint_blocked
from .errors import BatchError
from .inputs import Task
from .worker import crash_row, judge_chunk



def require_distributed() -> Any:
    """The ``distributed`` module, or a :class:`BatchError` (a usage error) naming the extra."""
    try:
        import distributed
    except ImportError:
        raise BatchError(Message("batch.needs_dask"), "--engine") from None
    return distributed


class DaskEngine:
    """Judge chunks on a Dask cluster: a new :class:`~distributed.LocalCluster` of ``workers``
    processes (``scheduler=None``), or the existing cluster at ``scheduler``."""

    def __init__(self, scheduler: str | None = None, *, workers: int | None = None,
                 chunks_in_flight_per_worker: int = 2) -> None:
        require_distributed()
        if chunks_in_flight_per_worker < 1:
            raise ValueError("chunks_in_flight_per_worker must be at least 1")
        if scheduler is not None and workers is not None:
            raise BatchError(Message("batch.workers_with_scheduler"), "--workers")
        self.scheduler = scheduler
        self._n_workers = max(1, workers or default_workers()) if scheduler is None else None
        self.chunks_in_flight_per_worker = chunks_in_flight_per_worker
        self._cluster: Any = None
        self._client: Any = None
        self._futures: set[Any] = set()

    # ----------------------------------------------------------------------------------------
    # Connection

    @property
    def client(self) -> Any:
        """The :class:`distributed.Client`, started or connected on first use."""
        if self._client is None:
            self._connect()
        return self._client

    def _connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                self._client = Client(self.scheduler, set_as_default=False)
            except OSError as exc:  # includes TimeoutError: nothing listening there
                raise BatchError(Message("batch.cannot_connect", str(exc),
                                         address=self.scheduler), "--scheduler") from None
            return
        # SIGINT blocked while the cluster's threads and processes start: they inherit the mask,
        # so a Ctrl-C in the terminal reaches this process only, which then cancels and closes.
        settings = {"distributed.worker.multiprocessing-method": "spawn",
                    # A chunk that killed one worker is split at once (see map_chunks).
                    "distributed.scheduler.allowed-failures": 1}
        with sigint_blocked(), dask.config.set(settings):
            self._cluster = LocalCluster(n_workers=self._n_workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster, set_as_default=False)

    @property
    def workers(self) -> int:
        """Worker threads (one per process on a LocalCluster): sizes the chunks and the window."""
        if self._n_workers is not None:
            return self._n_workers
        info = self.client.scheduler_info()
        threads = sum(worker.get("nthreads", 1) for worker in info.get("workers", {}).values())
        return max(1, threads)

    # ----------------------------------------------------------------------------------------
    # The engine seam

    def map_chunks(self, chunks: Iterable[list[Task]], policy: str | None, reason: str,
                   limits: Limits | None = None) -> Iterator[list[dict]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        client = self.client
        window = self.workers * self.chunks_in_flight_per_worker
        source = iter(chunks)
        futures = self._futures
        chunk_of: dict[Any, list[Task]] = {}
        # Images of a chunk that killed workers. Each is then judged alone, with nothing else in
        # flight: a worker that dies takes its queued tasks down too, so only a death with a
        # single task on the whole cluster names the image that caused it.
        suspects: list[Task] = []
        alone: set[Any] = set()
        crashes = 0  # images in a row that killed their worker alone
        completed = as_completed(loop=client.loop)

        def submit(chunk: list[Task]) -> Any:
            future = client.submit(judge_chunk, chunk, policy, reason, limits, pure=False)
            futures.add(future)
            chunk_of[future] = chunk
            completed.add(future)
            return future

        def top_up() -> None:
            if suspects:
                if not futures:
                    alone.add(submit([suspects.pop()]))
                return
            while len(futures) < window:
                chunk = next(source, None)
                if chunk is None:
                    return
                if chunk:
                    submit(chunk)

        try:
            top_up()
            for future in completed:  # ends when nothing is in flight and nothing was added
                futures.discard(future)
                chunk = chunk_of.pop(future)
                try:
                    rows = future.result()  # any failure but a killed worker aborts the run
                except KilledWorker:
                    if future not in alone:
                        suspects.extend(reversed(chunk))
                        top_up()
                        continue
                    crashes += 1
                    if crashes >= MAX_CRASHES_IN_A_ROW:
                        raise RuntimeError(f"Dask workers died on {crashes} inputs in a row "
                                           f"(last: {chunk[0].path}); the run is stopped")
                    rows = [crash_row(chunk[0], policy, reason, limits)]
                else:
                    crashes = 0
                alone.discard(future)
                future.release()
                top_up()  # before yielding: the workers stay busy while the parent writes
                yield rows
        except BaseException:  # Ctrl-C, generator closed early, a failure
            self._cancel()
            raise

    def _cancel(self) -> None:
        futures = list(self._futures)
        self._futures.clear()
        if futures and self._client is not None:
            with contextlib.suppress(Exception):
                self._client.cancel(futures)

    def close(self) -> None:
        """Cancel what is outstanding; close the client and, if this engine started it, the
        cluster (an existing cluster keeps running)."""
        self._cancel()
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
