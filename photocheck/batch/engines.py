"""Engines: where :func:`~photocheck.batch.worker.judge_chunk` runs (:class:`LocalEngine`:
worker processes on this machine), and the signal handling they share with the run."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from ..limits import Limits
from .inputs import Task
from .worker import crash_row, judge_chunk, worker_init


#: Chunks in flight per worker process: one running, one queued.
CHUNKS_IN_FLIGHT_PER_WORKER = 2
#: Isolated crashes in a row after which the run stops (the workers, not the files, are broken).
MAX_CRASHES_IN_A_ROW = 3


class Engine(Protocol):
    """Where :func:`judge_chunk` runs (see "Engine seam" in :mod:`photocheck.batch`)."""

    def map_chunks(self, chunks: Iterable[list[Task]], policy: str | None, reason: str,
                   limits: Limits | None = None) -> Iterator[list[dict]]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class LocalEngine:
    """Worker processes on this machine (``spawn``); ``workers=1`` judges in this process."""

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn") -> None:
        if start_method == "fork":
            raise ValueError("fork is unsafe with MediaPipe: use spawn or forkserver")
        self.workers = max(1, workers or default_workers())
        self.start_method = start_method
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight: dict[Future, list[Task]] = {}

    def map_chunks(self, chunks: Iterable[list[Task]], policy: str | None, reason: str,
                   limits: Limits | None = None) -> Iterator[list[dict]]:
        if self.workers == 1:
            for chunk in chunks:
                yield judge_chunk(chunk, policy, reason, limits)
            return
        try:
            yield from self._map_pool(iter(chunks), policy, reason, limits)
        except BaseException:  # Ctrl-C, generator closed early, a failure: stop the workers
            self._abort()
            raise

    def _map_pool(self, source: Iterator[list[Task]], policy: str | None, reason: str,
                  limits: Limits | None) -> Iterator[list[dict]]:
        window = self.workers * CHUNKS_IN_FLIGHT_PER_WORKER
        in_flight = self._in_flight
        suspects: deque[Task] = deque()  # tasks of a broken pool, to run again one at a time
        crashes = 0  # isolated crashes since the last success
        healthy = False  # a chunk has succeeded: the workers themselves can run
        held: list[dict] = []  # crash rows kept back until the workers are known healthy
        while True:
            while not suspects and len(in_flight) < window:
                chunk = next(source, None)
                if chunk is None:
                    break
                if chunk:
                    in_flight[self._submit(chunk, policy, reason, limits)] = chunk
            if suspects and not in_flight:
                task = suspects.popleft()
                in_flight[self._submit([task], policy, reason, limits)] = [task]
            if not in_flight:
                break
            done, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
            if not done:
                continue
            lost: list[Task] = []
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                done, _ = wait(list(in_flight))  # the rest fail (or finished) at once
            for future in done:
                chunk = in_flight.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    lost.extend(chunk)
                    continue
                rows = future.result()  # any other exception is a failure of the run
                crashes, healthy = 0, True
                if held:
                    yield held
                    held = []
                yield rows
            if not lost:
                continue
            self._discard_executor()
            if len(lost) > 1:
                suspects.extend(lost)
                continue
            # It ran alone: this input kills its worker (or no worker can run at all).
            crashes += 1
            if crashes >= MAX_CRASHES_IN_A_ROW:
                raise RuntimeError(f"worker processes died on {crashes} inputs in a row "
                                   f"(last: {lost[0].path}); the run is stopped")
            held.append(crash_row(lost[0], policy, reason, limits))
            if healthy:
                yield held
                held = []
        if held:  # no chunk ever succeeded: the workers, not these inputs, are at fault
            raise RuntimeError(f"worker processes died on every input tried (last: "
                               f"{held[-1]['path']}); the run is stopped")

    def _submit(self, chunk: list[Task], policy: str | None, reason: str,
                limits: Limits | None) -> Future:
        # SIGINT blocked while workers may be spawned: they start with it blocked and ignore it
        # before unblocking (see worker_init). A Ctrl-C meanwhile is delivered just after.
        with sigint_blocked():
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context(self.start_method),
                    initializer=worker_init)
            try:
                return self._executor.submit(judge_chunk, chunk, policy, reason, limits)
            except BrokenProcessPool as broken:
                # A worker died after the last wait: this chunk never ran, and joins the rest of
                # the broken pool's chunks on the same recovery path.
                failed: Future = Future()
                failed.set_exception(broken)
                return failed

    def _discard_executor(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _abort(self) -> None:
        """Cancel what is queued and terminate the workers now."""
        executor, self._executor = self._executor, None
        self._in_flight.clear()
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)

    def close(self) -> None:
        if any(not future.done() for future in self._in_flight):
            self._abort()
        else:
            self._in_flight.clear()
            self._discard_executor()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def sigint_blocked():
    """Block SIGINT in this thread while starting workers: they inherit the mask."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def sigint_deferred():
    """Hold a Ctrl-C back while results are being written, then deliver it: a file is never
    left half-written by KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
        if received:
            signal.raise_signal(signal.SIGINT)
