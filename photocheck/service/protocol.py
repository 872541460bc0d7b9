"""uvicorn's HTTP protocol with a deadline for request headers and a share of connections per
client address.

uvicorn closes an idle kept-alive connection, but a connection that opens and then sends its
request headers slowly, or never finishes them, stays open for ever; it never reaches the app,
where the upload pace is enforced, yet it counts against the server's connection limit, past
which every request (``/v1/health`` included) is answered 503. This protocol

* closes a connection whose request has not started
  :data:`~photocheck.service.settings.HEADER_TIMEOUT_S` seconds after the connection opened or
  the previous answer was sent;
* closes at once a connection from an address that already holds
  :data:`~photocheck.service.settings.MAX_CONNECTIONS_PER_CLIENT` connections, so one address
  can never fill the server's table (an office behind one NAT address has far fewer: a browser
  opens at most six connections to a server).

Built on whichever implementation uvicorn's ``auto`` picks (httptools when installed, else h11);
``serve`` names it by import path, so uvicorn's spawned worker processes load it too.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from .settings import HEADER_TIMEOUT_S, MAX_CONNECTIONS_PER_CLIENT

#: Open connections per client address, in this process (one event loop: no lock needed).
_open_by_address: Counter[str] = Counter()


class HeaderDeadlineProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """Closes a connection whose next request has not started within ``header_timeout_s``,
    and one over ``max_connections_per_client`` from its address."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    max_connections_per_client: int = MAX_CONNECTIONS_PER_CLIENT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        if _open_by_address[self._address] >= self.max_connections_per_client:
            self._address = None  # not counted
            transport.close()
            return
        _open_by_address[self._address] += 1
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        address = getattr(self, "_address", None)
        if address is not None:
            _open_by_address[address] -= 1
            if not _open_by_address[address]:
                del _open_by_address[address]
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        waiting_after = self.cycle  # a new request replaces the cycle
        self._header_deadline: Any = self.loop.call_later(
            self.header_timeout_s, self._close_if_no_request, waiting_after)

    def _cancel_header_deadline(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _close_if_no_request(self, waiting_after: object) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()
