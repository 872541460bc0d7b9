"""The worker function: :func:`judge_chunk` and the rows it returns."""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading

import cv2

from .. import __version__
from ..errors import ErrorCode, PhotocheckError
from ..limits import Limits
from ..pipeline import Checker, parse_birth_year
from ..policy import Policy
from ..schema import RequestReason, Result
from .errors import describe
from .inputs import Task, close_archives
from .outputs import MEASURE_NAMES

log = logging.getLogger(__name__)


_checkers: dict[tuple[int, int, str | None, Limits], Checker] = {}


def judge_chunk(tasks: list[Task], policy: str | None = None,
                reason: str = RequestReason.QUALITY.value,
                limits: Limits | None = None) -> list[dict]:
    """Judge tasks in this process; one row per task, in order. Never raises for a bad input.

    The checker is created on first use in each process and thread, per policy and limits (so
    never before a fork; a Checker is not thread-safe, and an engine may run threads) and kept
    until the process exits. A checker that cannot be created (models missing) raises:
    that is a broken installation, not a bad input. ``limits`` (default :meth:`Limits.load`)
    bound what is read and decoded: an input over them is a ``too_large`` row.
    """
    limits = limits or Limits.load()
    checker = _checker(policy, limits)
    return [_judge(checker, task, reason) for task in tasks]


def _checker(policy: str | None, limits: Limits) -> Checker:
    cache_key = (os.getpid(), threading.get_ident(), policy, limits)
    checker = _checkers.get(cache_key)
    if checker is None:
        # Parallelism comes from running chunks side by side (processes, Dask workers):
        # OpenCV's own threads would only contend with them.
        cv2.setNumThreads(1)
        checker = _checkers[cache_key] = Checker(policy, limits=limits)
    return checker


@atexit.register
def _close_checkers() -> None:
    """Close this process's checkers at exit (left to the garbage collector, MediaPipe prints
    a traceback at interpreter shutdown)."""
    for (pid, *_), checker in list(_checkers.items()):
        if pid == os.getpid():
            checker.close()
    _checkers.clear()
    close_archives()


def _judge(checker: Checker, task: Task, reason: str) -> dict:
    digest = ""
    try:
        try:
            year = parse_birth_year(task.birth_year)
            data = task.read_bytes(checker.limits)
        except PhotocheckError as exc:
            return error_row(task, exc.code, exc.message, checker.policy, reason)
        digest = hashlib.sha256(data).hexdigest()
        result = checker.check(data, reason=reason, path=task.path, birth_year=year)
        return result_row(task, result, digest)
    except Exception as exc:  # a bug: report it on this input and go on
        log.exception("internal error on %s", task.path)
        return error_row(task, ErrorCode.INTERNAL, f"internal error: {describe(exc)}",
                         checker.policy, reason, sha256=digest)


def result_row(task: Task, result: Result, sha256: str) -> dict:
    """The output row of a judged input."""
    error = result.error
    return {
        "key": task.key, "path": task.path, "id": task.id, "birth_year": task.birth_year,
        "sha256": sha256, "decision": result.decision.value,
        "reasons": [reason.value for reason in result.reasons],
        "measures": {name: result.measures.get(name) for name in MEASURE_NAMES},
        "error_code": None if error is None else error.code.value,
        "error_message": None if error is None else error.message,
        "face_box": None if result.face is None else [float(v) for v in result.face.box],
        "request_reason": result.request_reason.value,
        "policy": result.policy.name, "policy_version": result.policy.version,
        "version": result.version,
    }


def error_row(task: Task, code: ErrorCode, message: str, policy: Policy, reason: str, *,
              sha256: str = "") -> dict:
    """The output row of an input that could not be judged (``sha256`` empty when its bytes
    could not be read)."""
    return {
        "key": task.key, "path": task.path, "id": task.id, "birth_year": task.birth_year,
        "sha256": sha256, "decision": "error", "reasons": [],
        "measures": dict.fromkeys(MEASURE_NAMES), "error_code": ErrorCode(code).value,
        "error_message": message, "face_box": None, "request_reason": reason,
        "policy": policy.name, "policy_version": policy.version, "version": __version__,
    }


def crash_row(task: Task, policy: str | None, reason: str, limits: Limits | None = None) -> dict:
    """The error row of an input whose worker process died while judging it alone."""
    return error_row(task, ErrorCode.INTERNAL,
                     "the worker process died while checking this image (a crash in native "
                     "code or out of memory)", _policy(policy), reason,
                     sha256=task.row_sha256(limits))


@functools.lru_cache(maxsize=8)
def _policy(source: str | None) -> Policy:
    return Policy.load(source)


def worker_init() -> None:
    """Pool initializer: runs first in every worker process."""
    # The parent handles Ctrl-C; a terminal sends SIGINT to the whole process group. SIGINT was
    # blocked while this process was spawned: ignore it, then unblock (a pending one is dropped).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent = multiprocessing.parent_process()
    if parent is not None:  # exit when the parent dies (SIGKILL): do not linger as an orphan
        def watch() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="photocheck-parent-watch", daemon=True).start()
