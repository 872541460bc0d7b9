"""Can stalled uploads lock the counter service up? Figures printed.

    python benchmarks/serve_stall.py [--stalled 200] [--port 8765]

Starts ``photocheck serve --workers 1`` with its default limits on loopback, then opens
``--stalled`` connections from 127.0.0.1 that each send the headers and half of a multipart
body of a real photo and then stall. While they hang it measures:

* ``GET /v1/health``: status and seconds (target: 200 within 1 s);
* a normal ``POST /v1/check`` from another address, 127.0.0.2: status and seconds (target: 200
  within 2 s);
* how the stalled connections were answered: 503 at once (no check slot for their address),
  and 408 once the idle timeout cut them (the script waits for that, a little over 20 s).

Then a slow but steady upload (a van's poor link, ``--slow-rate`` bytes/s) must still be
judged, and ``--half-headers`` connections that never finish their request head must neither
lock the server (health and a check from 127.0.0.2 answered) nor stay open past the header
deadline. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "samples" / "grace_hopper_clear.jpg"
BOUNDARY = "stallboundary"


def multipart(photo: bytes, **fields: str) -> bytes:
    """A multipart body with the photo as ``image`` and the given text fields."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode("ascii") for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
                 f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode("ascii")
                 + photo + f"\r\n--{BOUNDARY}--\r\n".encode("ascii"))
    return b"".join(parts)


def request_head(body_length: int, port: int) -> bytes:
    return (f"POST /v1/check HTTP/1.1\r\nHost: localhost:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {body_length}\r\n\r\n").encode("ascii")


def open_stalled(port: int, body: bytes, source: str = "127.0.0.1") -> socket.socket:
    """A connection that sends the request head and half the body, then nothing."""
    return open_sending(port, request_head(len(body), port) + body[: len(body) // 2], source)


def open_sending(port: int, data: bytes, source: str = "127.0.0.1") -> socket.socket:
    """A connection that sends ``data`` and then nothing (it may be closed at once: an
    address over its share of connections)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        sock.sendall(data)
    except OSError:
        pass
    return sock


def read_status(sock: socket.socket, timeout: float) -> int | None:
    """The HTTP status the server answered on ``sock`` within ``timeout`` s (None: none)."""
    sock.settimeout(timeout)
    try:
        head = sock.recv(64)
    except (TimeoutError, socket.timeout):
        return None
    except OSError:
        return -1  # reset
    if not head.startswith(b"HTTP/1.1 "):
        return -1 if not head else 0
    return int(head[9:12])


def timed_request(port: int, method: str, path: str, *, source: str = "127.0.0.1",
                  body: bytes = b"", pace: tuple[int, float] | None = None,
                  timeout: float = 60.0) -> tuple[int | None, float]:
    """(status, seconds) of one request from ``source``; ``pace`` = (chunk bytes, pause s)
    sends the body slowly."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0)) as sock:
        if method == "POST":
            sock.sendall(request_head(len(body), port))
            step, pause = pace or (len(body), 0.0)
            try:
                for offset in range(0, len(body), step):
                    sock.sendall(body[offset:offset + step])
                    time.sleep(pause)
            except OSError:  # the server answered (408) and closed before the body was sent
                pass
        else:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n"
                         "Connection: close\r\n\r\n".encode("ascii"))
        status = read_status(sock, timeout)
    return status, time.perf_counter() - started


def wait_until_up(port: int, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if timed_request(port, "GET", "/v1/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not come up")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--slow-rate", type=int, default=4096, help="bytes/s of the slow link")
    parser.add_argument("--half-headers", type=int, default=600,
                        help="connections that send half a request head (more than the "
                             "server's 512)")
    args = parser.parse_args(argv)
    body = multipart(PHOTO.read_bytes(), annotate="false")
    server = subprocess.Popen([sys.executable, "-m", "photocheck", "serve", "--workers", "1",
                               "--port", str(args.port), "--no-access-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failed = False
    try:
        wait_until_up(args.port)
        stalled = []
        for _ in range(args.stalled):  # one by one, as an attacker would: each is taken in
            stalled.append(open_stalled(args.port, body))
            time.sleep(0.01)
        time.sleep(0.5)
        health = [timed_request(args.port, "GET", "/v1/health") for _ in range(5)]
        check = timed_request(args.port, "POST", "/v1/check", source="127.0.0.2", body=body)
        at_once = [read_status(sock, 0.2) for sock in stalled]
        print(f"{args.stalled} stalled uploads from 127.0.0.1")
        print(f"  /v1/health         {[s for s, _ in health]}  max {max(t for _, t in health):.3f} s"
              "  (target 200 within 1 s)")
        print(f"  check 127.0.0.2    {check[0]}  {check[1]:.3f} s  (target 200 within 2 s)")
        print(f"  stalled, answered at once: {dict(Counter(at_once))}")
        started = time.perf_counter()
        later = Counter(read_status(sock, 40.0) for sock, status in zip(stalled, at_once)
                        if status is None)
        print(f"  stalled, answered later:   {dict(later)} within "
              f"{time.perf_counter() - started:.1f} s more")
        for sock in stalled:
            sock.close()
        step = max(1, args.slow_rate // 4)
        slow = timed_request(args.port, "POST", "/v1/check", source="127.0.0.3", body=body,
                             pace=(step, 0.25))
        print(f"  slow link {args.slow_rate} B/s, {len(body)} bytes: {slow[0]} in {slow[1]:.1f} s")
        heads = [open_sending(args.port, b"POST /v1/check HTTP/1.1\r\nHost: localhost\r\nCont")
                 for _ in range(args.half_headers)]
        time.sleep(0.5)
        head_health = timed_request(args.port, "GET", "/v1/health", source="127.0.0.2")
        head_check = timed_request(args.port, "POST", "/v1/check", source="127.0.0.2", body=body)
        closed_at_once = sum(read_status(sock, 0.05) in (-1, 0) for sock in heads)
        print(f"{args.half_headers} connections from 127.0.0.1 that never finish their headers")
        print(f"  closed at once (over the address's share): {closed_at_once}")
        print(f"  /v1/health from 127.0.0.2 {head_health[0]} {head_health[1]:.3f} s; check "
              f"{head_check[0]} {head_check[1]:.3f} s")
        started = time.perf_counter()
        still_open = [sock for sock in heads if read_status(sock, 15.0) not in (-1, 0)]
        print(f"  all closed by the header deadline after {time.perf_counter() - started:.1f} s "
              f"more; still open: {len(still_open)}")
        for sock in heads:
            sock.close()
        failed = (any(s != 200 or t > 1.0 for s, t in health) or check[0] != 200
                  or check[1] > 2.0 or slow[0] != 200 or head_health[0] != 200
                  or head_check[0] != 200 or still_open)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("targets met" if not failed else "TARGET MISSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
