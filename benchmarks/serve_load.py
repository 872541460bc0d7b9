"""Load check of `photocheck serve`: throughput, latency percentiles, errors and server memory.

    python benchmarks/serve_load.py [--requests 5000] [--annotated 1000] [--default 0]
                                    [--clients 4] [--workers N] [--checkers N]

Starts the server (``python -m photocheck serve``) in a subprocess on a free loopback port,
makes a 600x800 JPEG (quality 90) of matplotlib's public-domain Grace Hopper portrait framed like
a KTP photo (as ``benchmarks/single_image.py`` does), warms up, then sends requests from
``--clients`` threads of this process, each on its own keep-alive connection, as fast as the
answers come (closed loop):

* ``--requests`` checks with ``annotate=false``: the API as another service calls it;
* ``--annotated`` checks with the annotated picture as the counter page asks for it (JPEG,
  without the text band: the page shows the words itself);
* ``--default`` checks that send only the image (every other field at its default), as an
  embedder's first call does, side by side with as many ``annotate=false`` checks: the two
  alternate in blocks of :data:`BLOCK` requests, so that load from elsewhere on the machine
  falls on both alike; the p95 ratio default / ``annotate=false`` is printed (target <= 1.2:
  the picture is opt-in, so the default costs what the bare check costs).

Latency is from sending the request to having read the whole answer. The server's resident
memory (VmRSS from /proc) is read after the warm-up and every 1,000 requests, to show whether it
stays flat. Traffic goes to 127.0.0.1 only and stops after the given counts. The client threads
share the machine's cores with the server: quote figures with the machine and its load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from single_image import make_portrait  # noqa: E402

HOST = "127.0.0.1"
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30
RSS_EVERY = 1000  # requests between two memory readings
TARGET_P95_MS = 50.0
BLOCK = 100  # requests per block when two kinds of request alternate


@dataclass
class Run:
    """What one phase measured."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0  # connection errors, timeouts
    seconds: float = 0.0
    server_cpu_s: float = 0.0  # CPU time the server used during the run
    client_cpu_s: float = 0.0  # ... and these client threads (they share the cores)
    rss_mb: list[tuple[int, float]] = field(default_factory=list)  # (requests done, MB)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of the server: the process and all its descendants (uvicorn's worker
    processes), MB."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(rss_mb(int(child)) for child in children.read_text().split())
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its live descendants have used so far (robust to
    other load on the host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


def multipart(photo: bytes, annotate: bool | None) -> tuple[bytes, str]:
    """A check request; annotated, it asks for the picture the way the page does; ``None``:
    the image alone, every other field at its default."""
    boundary = uuid.uuid4().hex
    parts = [
        (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
         f"filename=\"portrait.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + photo,
    ]
    if annotate is not None:
        parts.append((f"--{boundary}\r\nContent-Disposition: form-data; name=\"annotate\""
                      f"\r\n\r\n{'true' if annotate else 'false'}").encode())
    if annotate:
        parts += [(f"--{boundary}\r\nContent-Disposition: form-data; "
                   f"name=\"{name}\"\r\n\r\n{value}").encode()
                  for name, value in (("annotation_format", "jpeg"),
                                      ("annotation_header", "false"))]
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def start_server(port: int, workers: int | None, checkers: int | None,
                 log_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "photocheck", "serve", "--port", str(port),
               "--no-access-log"]
    if workers:
        command += ["--workers", str(workers)]
    if checkers:
        command += ["--checkers", str(checkers)]
    env = {key: value for key, value in os.environ.items() if key != "PHOTOCHECK_API_KEY"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/v1/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"the server did not start in {START_TIMEOUT_S} s:\n{log_path.read_text()}")


def load(port: int, pid: int, body: bytes, content_type: str, requests: int,
         clients: int) -> Run:
    """Send ``requests`` POST /v1/check from ``clients`` threads; measure each answer."""
    run = Run()
    lock = threading.Lock()
    issued = 0
    done = 0
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}

    def client() -> None:
        nonlocal issued, done
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        while True:
            with lock:
                if issued >= requests:
                    break
                issued += 1
            start = time.perf_counter()
            try:
                connection.request("POST", "/v1/check", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
                status = None
            elapsed = (time.perf_counter() - start) * 1e3
            with lock:
                done += 1
                if status is None:
                    run.failures += 1
                else:
                    run.latencies_ms.append(elapsed)
                    run.statuses[status] = run.statuses.get(status, 0) + 1
                if done % RSS_EVERY == 0:
                    run.rss_mb.append((done, rss_mb(pid)))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = cpu_seconds(pid)
    client_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    run.server_cpu_s = cpu_seconds(pid) - cpu_before
    run.client_cpu_s = time.process_time() - client_before
    return run


def report(name: str, run: Run, clients: int) -> None:
    latencies = np.array(run.latencies_ms)
    count = len(latencies) + run.failures
    non_2xx = sum(n for status, n in run.statuses.items() if not 200 <= status < 300)
    server_errors = sum(n for status, n in run.statuses.items() if status >= 500)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    print(f"\n{name}: {count} requests, {clients} concurrent clients, {run.seconds:.1f} s")
    print(f"  throughput        {count / run.seconds:8.1f} requests/s")
    print(f"  CPU per request   server {1e3 * run.server_cpu_s / count:.1f} ms, "
          f"load clients {1e3 * run.client_cpu_s / count:.1f} ms "
          f"({(run.server_cpu_s + run.client_cpu_s) / run.seconds:.2f} of "
          f"{os.cpu_count()} cores busy with this test)")
    print(f"  latency ms        p50 {p50:6.1f}   p95 {p95:6.1f}   p99 {p99:6.1f}   "
          f"max {latencies.max():6.1f}   mean {statistics.fmean(latencies):6.1f}")
    print(f"  statuses          {dict(sorted(run.statuses.items()))}; non-2xx {non_2xx}; "
          f"5xx {server_errors}; connection failures {run.failures}")
    print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if p95 <= TARGET_P95_MS else 'MISSED'}")


def side_by_side(port: int, pid: int, kinds: dict[str, tuple[bytes, str]], requests: int,
                 clients: int) -> None:
    """``requests`` of each kind, alternating in blocks of :data:`BLOCK`; report each kind and
    the p95 ratio of the second to the first."""
    runs = {name: Run() for name in kinds}
    for start in range(0, requests, BLOCK):
        for name, (body, content_type) in kinds.items():
            block = load(port, pid, body, content_type, requests=min(BLOCK, requests - start),
                         clients=clients)
            merged = runs[name]
            merged.latencies_ms += block.latencies_ms
            merged.failures += block.failures
            merged.seconds += block.seconds
            merged.server_cpu_s += block.server_cpu_s
            merged.client_cpu_s += block.client_cpu_s
            for status, count in block.statuses.items():
                merged.statuses[status] = merged.statuses.get(status, 0) + count
    for name, run in runs.items():
        report(f"side by side: {name}", run, clients)
    first, second = (np.percentile(run.latencies_ms, 95) for run in runs.values())
    print(f"\n  p95 {' / '.join(reversed(list(runs)))}: {second / first:.2f} "
          f"(target <= 1.2: {'met' if second / first <= 1.2 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000,
                        help="checks without annotation (default 5000)")
    parser.add_argument("--annotated", type=int, default=1000,
                        help="checks with the annotated picture (default 1000; 0 skips)")
    parser.add_argument("--default", type=int, default=0,
                        help="checks sending only the image (default 0: skipped)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes (default: the server's, one per CPU)")
    parser.add_argument("--checkers", type=int, default=None,
                        help="checkers per server process (default: the server's, one)")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        photo_path = Path(tmp) / "portrait_600x800.jpg"
        make_portrait(photo_path)
        photo = photo_path.read_bytes()
        port = free_port()
        server = start_server(port, args.workers, args.checkers, Path(tmp) / "serve.log")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/v1/health") as response:
                health = json.load(response)
            plain = multipart(photo, annotate=False)
            drawn = multipart(photo, annotate=True)
            load(port, server.pid, *drawn, requests=args.warmup, clients=args.clients)
            first = http.client.HTTPConnection(HOST, port)
            first.request("POST", "/v1/check", body=plain[0], headers={"Content-Type": plain[1]})
            decision = json.loads(first.getresponse().read())["result"]["decision"]
            first.close()
            rss_start = rss_mb(server.pid)

            print(f"photocheck serve {health['version']}, {args.workers or 'default'} "
                  f"process(es) x {health['checkers']} checker(s), "
                  f"{os.cpu_count()} CPUs, loopback; photo 600x800 JPEG q90, "
                  f"{len(photo) / 1024:.0f} kB, decision {decision}; "
                  f"warm-up {args.warmup} requests")
            api = load(port, server.pid, *plain, requests=args.requests, clients=args.clients)
            report("API (annotate=false)", api, args.clients)
            rss_api = rss_mb(server.pid)
            if args.default:
                side_by_side(port, server.pid, {"annotate=false": plain,
                                                "default (only the image)":
                                                    multipart(photo, annotate=None)},
                             args.default, args.clients)
            page = None
            if args.annotated:
                page = load(port, server.pid, *drawn, requests=args.annotated,
                            clients=args.clients)
                report("page (annotated JPEG without text band, base64)", page, args.clients)
            rss_end = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    series = ", ".join(f"{n}: {mb:.0f}" for n, mb in api.rss_mb)
    print(f"\nserver RSS MB: after warm-up {rss_start:.0f}; during the API run ({series}); "
          f"after it {rss_api:.0f}; at the end {rss_end:.0f}")
    growth = rss_api - rss_start
    print(f"memory over {args.requests} API requests: {growth:+.1f} MB "
          f"({100 * growth / rss_start:+.1f} %)")


if __name__ == "__main__":
    main()
