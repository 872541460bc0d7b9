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
#: Open connections uvicorn accepts before answering 503: bounds the memory that waiting
#: uploads (each up to ``max_upload_bytes``) can take.
DEFAULT_MAX_CONNECTIONS = 64


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
    #: Log one line per request (method, path, status; never content or results).
    access_log: bool = True

    def __post_init__(self) -> None:
        if self.api_key is not None and not self.api_key.strip():
            object.__setattr__(self, "api_key", None)  # an empty env var means "no key"
        for name in ("workers", "checkers", "max_upload_bytes", "max_pixels",
                     "max_connections"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")

    def to_environment(self) -> str:
        """These settings as JSON, for :data:`SETTINGS_ENV` (read back by
        :meth:`from_environment` in each worker process)."""
        values = dataclasses.asdict(self)
        values["audit_log"] = None if self.audit_log is None else str(self.audit_log)
        return json.dumps(values)

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        values = json.loads(os.environ[SETTINGS_ENV])
        if values.get("audit_log") is not None:
            values["audit_log"] = Path(values["audit_log"])
        return cls(**values)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check_exposure(self) -> None:
        """Refuse to serve personal data to the network without a key (ValueError)."""
        if not self.loopback and self.api_key is None and not self.allow_unauthenticated:
            raise ValueError(
                f"refusing to serve on {self.host} without an API key: anyone on the network "
                f"could send and read KTP photos. Set --api-key or {API_KEY_ENV}, bind "
                f"{DEFAULT_HOST}, or pass --allow-unauthenticated if the network is closed.")
