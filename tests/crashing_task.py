"""A batch task that kills its worker process, as a crash in native code would.

A module of its own, not a test: worker processes (spawned, or Dask's) import it by name.
"""

import multiprocessing
import os
from dataclasses import dataclass

from photocheck.batch import Task


@dataclass(frozen=True)
class CrashingTask(Task):
    """Kills its worker process when its key ends with ``#crash`` (never the parent)."""

    def read_bytes(self, limits=None):
        if self.key.endswith("#crash") and multiprocessing.parent_process() is not None:
            os._exit(3)
        return super().read_bytes(limits)
