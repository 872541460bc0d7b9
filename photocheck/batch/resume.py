"""A run: :func:`run_batch` reads the output, skips inputs already done (resume), hands the
rest to an engine and appends the rows."""

from __future__ import annotations

import contextlib
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..limits import Limits
from ..messages import Message
from ..policy import DEFAULT_POLICY, Policy
from ..schema import RequestReason
from .engines import Engine, LocalEngine, default_workers, sigint_deferred
from .errors import BatchError
from .inputs import Task, close_archives, default_limits
from .outputs import open_output, write_skipped


#: Upper bound of images per chunk (see :mod:`photocheck.batch` for why 32).
DEFAULT_CHUNK_SIZE = 32


class ProgressSink(Protocol):
    """What :func:`run_batch` reports progress to (:class:`RichProgress` on a console).
    ``phase`` names a step, ``"checking_done"`` (hashing inputs already in the output) or
    ``"judging"``: a sink shows it in its reader's words (``batch.phase.<name>`` of
    :mod:`photocheck.i18n`)."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class _NoProgress:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass
class Summary:
    """What a run did. ``decisions`` and ``reasons`` count the current row of every input of
    this run that has one (judged now or already done); ``not_images`` the files the listing
    passed over as not images (:attr:`Tasks.not_images <photocheck.batch.inputs.Tasks>`),
    ``None`` when not told."""

    out: Path
    total: int
    skipped: int = 0
    judged: int = 0
    interrupted: bool = False
    not_images: int | None = None
    decisions: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.judged

    def count(self, decision: str, reasons: Iterable[str]) -> None:
        self.decisions[decision] += 1
        self.reasons.update(reasons)


def run_batch(tasks: Sequence[Task], out: str | os.PathLike, *, engine: Engine | None = None,
              workers: int | None = None, policy: str | os.PathLike | None = None,
              reason: str = RequestReason.QUALITY.value, chunk_size: int = DEFAULT_CHUNK_SIZE,
              progress: ProgressSink | None = None, limits: Limits | None = None,
              not_images: int | None = None) -> Summary:
    """Judge ``tasks`` into ``out``, resuming what an earlier run of the same output did.

    Without ``engine`` a :class:`LocalEngine` with ``workers`` processes (default: the CPU
    count) is used and closed. ``limits`` (default :meth:`Limits.load`) bound what the parent
    reads to hash done inputs and what the workers read and decode; the engine hands them on.
    Ctrl-C stops the run: what finished is written and the summary says ``interrupted``.
    ``not_images`` (:attr:`Tasks.not_images <photocheck.batch.inputs.Tasks>` of the listing)
    goes into the summary and is recorded beside ``out`` for the report
    (:func:`~photocheck.batch.outputs.write_skipped`).
    Raises :class:`BatchError` for a bad output or options; any other exception means the run
    failed (rows written so far stay and the run can be resumed).
    """
    try:
        reason = RequestReason(reason).value
    except ValueError:
        raise BatchError(Message("batch.unknown_reason", reason=reason), "--reason") from None
    if chunk_size < 1:
        raise BatchError(Message("batch.chunk_size"), "--chunk-size")
    policy_source = _policy_source(policy)
    try:
        active = Policy.load(policy_source)
    except (OSError, ValueError) as exc:
        raise BatchError(Message("cli.bad_policy", str(exc),
                                 source=policy_source or DEFAULT_POLICY), "--policy") from None
    progress = progress or _NoProgress()
    limits = limits or default_limits()
    unique: dict[str, Task] = {}
    for task in tasks:  # an input given twice is judged once
        unique.setdefault(task.key, task)
    tasks = list(unique.values())
    out = Path(out)
    summary = Summary(out=out, total=len(tasks), not_images=not_images)
    output = open_output(out)
    try:
        existing = output.load()
        _check_compatible(existing, out, active, reason)
        if not_images is not None:  # under the output's lock, before anything is judged
            write_skipped(out, not_images)
        # Only what resume and the summary need: memory stays flat however long the file is.
        last = {row["key"]: _Done(row["sha256"], row["decision"], tuple(row["reasons"]))
                for row in existing}
        compact = len(last) < len(existing)
        del existing
        try:
            pending = _skip_done(tasks, last, summary, progress, limits)
            summary.skipped = len(tasks) - len(pending)
            if pending:
                workers = max(1, workers or getattr(engine, "workers", 0) or default_workers())
                size = min(chunk_size, max(1, math.ceil(len(pending) / (workers * 4))))
                chunks = (pending[i:i + size] for i in range(0, len(pending), size))
                own_engine = engine is None
                if own_engine:
                    engine = LocalEngine(min(workers, math.ceil(len(pending) / size)))
                progress.phase("judging", len(pending))
                results = engine.map_chunks(chunks, policy_source, reason, limits)
                try:
                    for rows in results:
                        with sigint_deferred():
                            output.append(rows)
                            for row in rows:
                                compact |= row["key"] in last
                                summary.count(row["decision"], row["reasons"])
                            summary.judged += len(rows)
                        progress.advance(len(rows))
                finally:
                    results.close()
                    if own_engine:
                        engine.close()
        except KeyboardInterrupt:
            summary.interrupted = True
        except Exception:  # the run failed: still leave a complete file where possible
            with contextlib.suppress(Exception), sigint_deferred():
                output.finish(compact)
            raise
        with sigint_deferred():
            output.finish(compact)
    finally:
        output.close()
        close_archives()
    return summary


def _policy_source(policy: str | os.PathLike | None) -> str | None:
    """What workers get: a shipped policy name, or an absolute TOML path."""
    if policy is None:
        return None
    text = os.fspath(policy)
    path = Path(text)
    return str(path.resolve()) if path.suffix == ".toml" or path.is_file() else text


def _check_compatible(rows: list[dict], out: Path, policy: Policy, reason: str) -> None:
    found = {(row.get("policy"), row.get("policy_version"), row.get("request_reason"))
             for row in rows}
    other = found - {(policy.name, policy.version, reason)}
    if other:
        name, version, earlier = sorted(other, key=str)[0]
        raise BatchError(Message("batch.other_judgement", path=out, name=name, version=version,
                                 earlier=earlier, policy=policy.name,
                                 policy_version=policy.version, reason=reason), "--out")


@dataclass(frozen=True)
class _Done:
    """What a results file says of one input (its last row)."""

    sha256: str
    decision: str
    reasons: tuple[str, ...]


def _skip_done(tasks: Sequence[Task], last: dict[str, _Done], summary: Summary,
               progress: ProgressSink, limits: Limits) -> list[Task]:
    """Tasks still to judge. A task with a row is done when its bytes hash to that row's
    SHA-256 (or could not be read or were refused as too large, then and now: hashed in chunks,
    and an input over the byte limit is refused on its declared size without being read); done
    rows are counted into ``summary``."""
    done = [task for task in tasks if task.key in last]
    if done:
        progress.phase("checking_done", len(done))
    pending: list[Task] = []
    for task in tasks:
        row = last.get(task.key)
        if row is None:
            pending.append(task)
            continue
        if task.row_sha256(limits) == row.sha256:
            summary.count(row.decision, row.reasons)
        else:
            pending.append(task)
        progress.advance(1)
    return pending
