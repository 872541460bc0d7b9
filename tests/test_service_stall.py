"""Stalled uploads cannot lock the service up (a real uvicorn server on loopback, small limits).

The full-size figures (200 stalled uploads, default limits) come from
``benchmarks/serve_stall.py``; this is its regression test with limits scaled down so that it
takes seconds: 4 check slots, 2 per address, a 1 s idle timeout, 20 connections, 10 per
address, a 1 s deadline for request headers.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
import uvicorn  # noqa: E402

from photocheck.service import ServiceSettings, create_app  # noqa: E402
from photocheck.service.protocol import HeaderDeadlineProtocol  # noqa: E402

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "serve_stall.py"
SETTINGS = ServiceSettings(checkers=1, new_photo_policy=None, max_checks=4,
                           max_checks_per_client=2, upload_idle_timeout_s=1.0,
                           upload_grace_s=1.0, min_upload_bytes_per_s=20_000,
                           max_connections=20)


class QuickHeaderDeadline(HeaderDeadlineProtocol):
    header_timeout_s = 1.0
    max_connections_per_client = 10


def load_helpers():
    spec = importlib.util.spec_from_file_location("serve_stall", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stall = load_helpers()


@pytest.fixture(scope="module")
def port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(create_app(SETTINGS), host="127.0.0.1", port=free,
                            log_level="warning", limit_concurrency=SETTINGS.max_connections,
                            http=QuickHeaderDeadline)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    stall.wait_until_up(free, 60)
    yield free
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def body() -> bytes:
    return stall.multipart(stall.PHOTO.read_bytes(), annotate="false")


def test_stalled_uploads_leave_health_and_other_addresses_served(port, body):
    stalled = []
    for _ in range(8):
        stalled.append(stall.open_stalled(port, body))
        time.sleep(0.02)
    try:
        time.sleep(0.2)
        health, seconds = stall.timed_request(port, "GET", "/v1/health")
        assert health == 200 and seconds < 1.0
        check, seconds = stall.timed_request(port, "POST", "/v1/check", source="127.0.0.2",
                                             body=body)
        assert check == 200 and seconds < 2.0
        at_once = [stall.read_status(sock, 0.3) for sock in stalled]
        # 2 hold this address's slots; the other 6 are refused at once, not queued
        assert sorted(at_once, key=str) == [503] * 6 + [None] * 2
        later = [stall.read_status(sock, 5.0) for sock, status in zip(stalled, at_once)
                 if status is None]
        assert later == [408, 408]  # the idle timeout cut them
    finally:
        for sock in stalled:
            sock.close()


def test_a_slow_but_steady_upload_is_judged(port, body):
    # 8 KB every 0.2 s = 40 KB/s, over the 20 KB/s floor, no gap near the 1 s idle timeout
    status, seconds = stall.timed_request(port, "POST", "/v1/check", source="127.0.0.3",
                                          body=body, pace=(8192, 0.2))
    assert status == 200 and seconds > 0.8


def test_a_trickle_under_the_minimum_rate_is_cut(port, body):
    # 2 KB every 0.5 s = 4 KB/s: never idle for 1 s, but under the floor once the grace ends
    status, seconds = stall.timed_request(port, "POST", "/v1/check", source="127.0.0.4",
                                          body=body, pace=(2048, 0.5), timeout=15)
    assert status in (408, -1)  # answered 408, or reset while still sending after it
    assert seconds < 10


def test_connections_that_never_finish_their_headers_cannot_fill_the_server(port):
    # More half-sent request heads than the server takes connections: without the per-address
    # share every request would get 503, and without the deadline for as long as they stay.
    heads = []
    for _ in range(SETTINGS.max_connections + 5):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        except OSError:
            pass  # closed at once: over this address's share
        heads.append(sock)
    try:
        time.sleep(0.2)
        health, seconds = stall.timed_request(port, "GET", "/v1/health", source="127.0.0.5")
        assert health == 200 and seconds < 1.0  # another address: served at once
        refused = sum(stall.read_status(sock, 0.1) in (-1, 0) for sock in heads)
        assert refused >= len(heads) - QuickHeaderDeadline.max_connections_per_client
        time.sleep(1.5)  # past the header deadline
        health, seconds = stall.timed_request(port, "GET", "/v1/health")
        assert health == 200 and seconds < 1.0  # the same address again
        assert sum(stall.read_status(sock, 0.1) in (-1, 0) for sock in heads) == len(heads)
    finally:
        for sock in heads:
            sock.close()
