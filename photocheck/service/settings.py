"""Settings of the counter service: every limit and default in one place.

The command line (``photocheck serve``) and tests build a :class:`ServiceSettings`; nothing
else in :mod:`photocheck.service` has a number of its own.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

#: Environment variable read for the API key when ``--api-key`` is not given.
API_KEY_ENV = "PHOTOCHECK_API_KEY"
#: Request header that carries the API key.
API_KEY_HEADER = "X-API-Key"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: A KTP scan or phone photo is a few MB; 20 MiB leaves room for an uncompressed scan.
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: 40 megapixels: any phone camera's default output or an A4 scan at 600 dpi (about 35 MP).
#: The decoded RGB image then takes at most 120 MB per concurrent check.
DEFAULT_MAX_PIXELS = 40_000_000
#: Open connections uvicorn serves before answering 503 to every request. An open connection
#: whose body the service is not reading costs little (uvicorn stops reading at 64 KiB), so
#: this is high: it must never be what a few stalled uploads exhaust (health included). Under
#: the usual limit of 1024 open files.
DEFAULT_MAX_CONNECTIONS = 512
#: ``/v1/check`` requests in progress at once (reading the upload, waiting for a checker,
#: judging) per server process; 503 beyond. Bounds the memory of uploads held:
#: ``max_checks x max_upload_bytes``.
DEFAULT_MAX_CHECKS = 64
#: Of those, at most this many from one client address: one address (a stalled or hostile
#: client) can never take every slot, while an office of many counters behind one NAT address
#: still gets half of them (more checks than it has counters) before it is asked to retry.
DEFAULT_MAX_CHECKS_PER_CLIENT = 32
#: An upload that sends no byte for this long is cut (408). Mobile links stall for a few
#: seconds on a handover; a stalled client stalls for ever.
DEFAULT_UPLOAD_IDLE_TIMEOUT_S = 20.0
#: After ``DEFAULT_UPLOAD_GRACE_S`` an upload must have averaged at least this rate (408
#: otherwise): 1 KiB/s is a sixth of a poor 2G (EDGE) link, so a van's link passes, while a
#: client that trickles a byte now and then to dodge the idle timeout does not.
DEFAULT_MIN_UPLOAD_BYTES_PER_S = 1024
DEFAULT_UPLOAD_GRACE_S = 10.0
#: A connection whose request headers (a few hundred bytes) have not all arrived this many
#: seconds after it opened, or after its previous answer, is closed (see ``protocol.py``).
HEADER_TIMEOUT_S = 10.0
#: Open connections one client address may hold (a quarter of ``DEFAULT_MAX_CONNECTIONS``):
#: a browser opens at most six to a server, so an office of many counters behind one NAT
#: address stays far below it, while one address can never fill the connection table.
MAX_CONNECTIONS_PER_CLIENT = 128


#: Environment variable that hands the settings to uvicorn's worker processes.
SETTINGS_ENV = "PHOTOCHECK_SERVICE_SETTINGS"


def default_workers() -> int:
    """One server process per CPU this process may run on: a check holds Python's global lock
    for much of its time, so threads in one process do not add up to more than one core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (127.0.0.0/8, ::1,
    ``localhost``). ``0.0.0.0``, ``::`` and any other name count as reachable from outside."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_host_header(value: str) -> bool:
    """True when an HTTP ``Host`` header names this machine: ``localhost`` or a loopback
    address, with or without a port."""
    host = value.strip().lower()
    if host.startswith("["):  # [::1]:8000
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host == "localhost" or host.endswith(".localhost") or is_loopback(host)


def read_api_key_file(path: Path) -> str:
    """The key in ``path`` (surrounding whitespace and the final newline dropped); ValueError
    when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the API key file {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None


@dataclass(frozen=True)
class ServiceSettings:
    """How ``photocheck serve`` runs. Units are in the names or the comments."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: Required in the ``X-API-Key`` header of ``/v1/check`` and ``/v1/policy`` when set.
    api_key: str | None = field(default=None, repr=False)
    #: Serve on a non-loopback host without an API key (refused otherwise).
    allow_unauthenticated: bool = False
    #: A shipped policy name or a policy TOML file; None for the default policy. It judges
    #: "check the old card / photo" requests (``mode=existing``).
    policy: str | None = None
    #: The policy of "check the new photo" requests (``mode=new``): the capture profile by
    #: default; None turns that mode off.
    new_photo_policy: str | None = "capture"
    #: Server processes (uvicorn workers, started with spawn), each with its own checkers.
    workers: int = field(default_factory=default_workers)
    #: Checkers (model sets) per process shared by its requests; one check runs per checker.
    checkers: int = 1
    #: Largest request body accepted, bytes (the photo plus a few hundred bytes of form).
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    #: Largest image accepted, pixels (width x height), checked on the header before decoding.
    #: Never above the policy's own ``processing.max_pixels``.
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Append one JSON line per check (result and SHA-256 of the bytes, never the image) here.
    audit_log: Path | None = None
    #: Connections served at once before uvicorn answers 503.
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    #: ``/v1/check`` requests in progress at once per process, all clients / one address.
    max_checks: int = DEFAULT_MAX_CHECKS
    max_checks_per_client: int = DEFAULT_MAX_CHECKS_PER_CLIENT
    #: Upload pace (seconds, bytes per second): see the module constants.
    upload_idle_timeout_s: float = DEFAULT_UPLOAD_IDLE_TIMEOUT_S
    min_upload_bytes_per_s: int = DEFAULT_MIN_UPLOAD_BYTES_PER_S
    upload_grace_s: float = DEFAULT_UPLOAD_GRACE_S
    #: A file holding the API key (read when ``api_key`` is not given): keeps the key out of
    #: the process list and of the environment. Also how worker processes receive the key.
    api_key_file: Path | None = None
    #: Log one line per request (method, path, status; never content or results).
    access_log: bool = True

    def __post_init__(self) -> None:
        if self.api_key is None and self.api_key_file is not None:
            object.__setattr__(self, "api_key", read_api_key_file(self.api_key_file))
        if self.api_key is not None and not self.api_key.strip():
            object.__setattr__(self, "api_key", None)  # an empty env var means "no key"
        for name in ("workers", "checkers", "max_upload_bytes", "max_pixels",
                     "max_connections", "max_checks", "max_checks_per_client",
                     "min_upload_bytes_per_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("upload_idle_timeout_s", "upload_grace_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")

    def to_environment(self) -> str:
        """These settings as JSON, for :data:`SETTINGS_ENV` (read back by
        :meth:`from_environment` in each worker process). The API key itself is left out:
        an environment is readable by anything running as the user (``/proc/PID/environ``);
        the workers read it from ``api_key_file``."""
        values = dataclasses.asdict(self)
        values["api_key"] = None
        for name in ("audit_log", "api_key_file"):
            values[name] = None if values[name] is None else str(values[name])
        return json.dumps(values)

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        values = json.loads(os.environ[SETTINGS_ENV])
        for name in ("audit_log", "api_key_file"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        return cls(**values)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def local_hosts_only(self) -> bool:
        """A keyless server on loopback answers only requests addressed to a local name:
        otherwise a web page elsewhere could point its own DNS name at 127.0.0.1 (DNS
        rebinding) and use the API through the officer's browser."""
        return self.loopback and self.api_key is None

    def check_exposure(self) -> None:
        """Refuse to serve personal data to the network without a key (ValueError)."""
        if not self.loopback and self.api_key is None and not self.allow_unauthenticated:
            raise ValueError(
                f"refusing to serve on {self.host} without an API key: anyone on the network "
                f"could send and read KTP photos. Set --api-key or {API_KEY_ENV}, bind "
                f"{DEFAULT_HOST}, or pass --allow-unauthenticated if the network is closed.")
