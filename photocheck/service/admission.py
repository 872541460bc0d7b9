"""Slots for ``/v1/check`` requests in progress: a total, and a share per client address.

A check request holds its upload in memory from the first byte until its answer is sent, so the
number in progress bounds the memory uploads can take. One client address may hold at most
``per_client`` of the ``total`` slots: a stalled or hostile client cannot take them all and lock
out the other counters, while an office whose counters all share one NAT address still gets
many at once. Beyond either limit the request is answered 503 at once (the client retries);
``/v1/health``, the page and the docs never take a slot.

Counts live in one server process and its event loop (no lock needed); with several processes
each has its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(Exception):
    """No slot for this request; ``detail`` says which limit was reached."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CheckSlots:
    """``total`` slots, at most ``per_client`` of them held by one address."""

    def __init__(self, total: int, per_client: int) -> None:
        if total < 1 or per_client < 1:
            raise ValueError(f"slots must be positive, got total={total}, "
                             f"per_client={per_client}")
        self.total = total
        self.per_client = min(per_client, total)
        self._held: Counter[str] = Counter()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        return self._in_use

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """Hold one slot for ``client`` (an address) while the block runs; :class:`Busy` when
        none is free for it."""
        if self._in_use >= self.total:
            raise Busy(f"the server is checking {self.total} photos already; retry shortly")
        if self._held[client] >= self.per_client:
            raise Busy(f"{self.per_client} checks from this address are already in progress; "
                       "retry shortly")
        self._held[client] += 1
        self._in_use += 1
        try:
            yield
        finally:
            self._in_use -= 1
            self._held[client] -= 1
            if not self._held[client]:
                del self._held[client]
