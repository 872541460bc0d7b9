"""A fixed set of :class:`~photocheck.pipeline.Checker` objects shared by concurrent requests.

A Checker is not thread-safe, and creating one loads the MediaPipe models (about 0.3 s), so
the service creates ``size`` of them once, at startup inside the serving process (MediaPipe
tasks created before a fork hang in the child), and lends one to each check. Checks run in
worker threads: MediaPipe inference, decoding and the measures release the GIL, so two
checkers on two cores check two photos at once. A capacity limiter of the same size keeps
waiting requests in the event loop rather than in blocked threads, and guarantees a free
checker for every job that starts.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread

from ..pipeline import Checker
from ..policy import Policy

T = TypeVar("T")


class CheckerPool:
    """``size`` checkers with ``policy``; :meth:`run` lends one to a function in a thread."""

    def __init__(self, size: int, policy: Policy, *, warm_up: bytes | None = None) -> None:
        """Create ``size`` checkers; each first checks ``warm_up`` (a portrait), if given, so
        that the first applicant does not wait for the models' first run (about 0.2 s)."""
        if size < 1:
            raise ValueError(f"a pool needs at least one checker, got {size}")
        self.policy = policy
        self.size = size
        self._idle: queue.SimpleQueue[Checker] = queue.SimpleQueue()
        self._all: list[Checker] = []
        try:
            for _ in range(size):
                checker = Checker(policy)
                self._all.append(checker)
                if warm_up is not None:
                    checker.check(warm_up)
                self._idle.put(checker)
        except BaseException:
            self.close()
            raise
        self._limiter: anyio.CapacityLimiter | None = None  # made on the event loop

    async def run(self, job: Callable[[Checker], T]) -> T:
        """Run ``job(checker)`` in a worker thread with a checker no one else is using."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        return await anyio.to_thread.run_sync(self._lend, job, limiter=self._limiter)

    def _lend(self, job: Callable[[Checker], T]) -> T:
        # The limiter admits at most ``size`` jobs, so a checker is always idle here; the
        # timeout only turns a broken invariant into an error instead of a hang.
        checker = self._idle.get(timeout=30)
        try:
            return job(checker)
        finally:
            self._idle.put(checker)

    def close(self) -> None:
        for checker in self._all:
            checker.close()
        self._all.clear()


def warm_up_portrait() -> bytes | None:
    """A public-domain portrait that ships with matplotlib (a dependency): Grace Hopper, US
    Navy photograph. None if this matplotlib lacks it: the service then starts cold."""
    try:
        from matplotlib import cbook

        return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()
    except Exception:  # noqa: BLE001 - only a speed-up; never a reason not to start
        return None

