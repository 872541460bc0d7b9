"""Opt-in audit log: one JSON line per check, with the result and the SHA-256 of the photo.

Written only when ``photocheck serve --audit-log PATH`` is given. The image itself, its file
name and the client's address are never written. The file is created readable by its owner
only (results are personal data too), and each line goes out in a single ``write`` on a
descriptor opened with ``O_APPEND``, so lines from concurrent checks never interleave.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..schema import Result


class AuditLog:
    """Append-only JSON Lines file of check results. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()

    def record(self, result: Result, *, status: int, image: bytes | None) -> None:
        """Append one line: time (UTC), HTTP status, SHA-256 of the image bytes, result."""
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "status": status,
            "sha256": hashlib.sha256(image).hexdigest() if image else None,
            "result": result.to_dict(),
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            if self._fd < 0:
                raise RuntimeError("the audit log is closed")
            os.write(self._fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
