"""Batch audits of photo archives: inputs, the worker function, the local engine, result files,
resume.

    photocheck batch arsip/ "scans/**/*.jpg" kiriman.zip daftar.csv --out hasil.jsonl

How a run goes
--------------
1. :func:`collect_tasks` (parent) turns every INPUT into :class:`Task` objects: a folder
   (recursive, image suffixes of :data:`photocheck.load.IMAGE_SUFFIXES`, sorted), a glob pattern
   expanded by the program (``**`` recurses), a ``.zip`` / ``.tar`` / ``.tar.gz`` / ``.tgz``
   archive (its members with image suffixes, in archive order), a CSV manifest (a ``path`` column,
   relative to the CSV's folder, and optional ``id`` and ``birth_year`` columns carried into the
   results), a single file (a missing one becomes an ``error`` row), or an fsspec URL of a
   folder, glob or file (``s3://bucket/arsip/``, with that protocol's package installed). An input met twice (same
   :attr:`Task.key`) is judged once. macOS metadata (``__MACOSX/``, ``._*``) is skipped.
2. :func:`run_batch` (parent) opens the output, repairs a torn tail, and skips inputs already done
   (see *Resume*). The rest is cut into chunks and handed to an *engine*.
3. The engine runs :func:`judge_chunk` in worker processes: each worker reads the bytes, hashes
   them (SHA-256), judges them with its own :class:`~photocheck.pipeline.Checker` and returns one
   row per task. A bad file is an ``error`` row, never an exception.
4. The parent appends each chunk's rows to the output as the chunk completes, flushed and
   ``fsync``-ed, so a finished chunk survives a crash of the machine.

Rows (every format): ``key``, ``path``, ``id``, ``birth_year``, ``sha256``, ``decision``,
``reasons`` (list), ``measures`` (every name of :data:`photocheck.measures.MEASURES`, value or
None), ``error_code``, ``error_message``, ``face_box`` ([x, y, w, h] or None),
``request_reason``, ``policy``, ``policy_version``, ``version``. ``key`` is the stable identity of
the input (absolute path; ``/abs/arsip.zip!dir/a.jpg`` for an archive member), ``path`` the input
as the user named it (``arsip.zip!dir/a.jpg``, or the manifest's ``path`` value). Rows are in
completion order, not input order.

Output formats, by the suffix of RESULTS
    ``.jsonl``: one JSON object per line. ``.csv``: reasons joined with ``;``, one column
    ``m_<name>`` per measure in :data:`MEASURES` order, ``face_box`` as ``"x y w h"``; floats are
    written with ``repr`` so they read back exactly. ``.parquet`` (needs pyarrow: ``pip install
    'photocheck[parquet]'``): ``reasons`` and ``face_box`` are lists, ``measures`` a struct.
    A Parquet file cannot be appended to after a crash, so while a run is going each completed
    chunk is written as a small file ``RESULTS.parts/part-NNNNNN.parquet`` (written to ``.tmp``,
    fsync-ed, renamed). At the end, also after Ctrl-C, the previous RESULTS (if any) and the parts
    are combined with :class:`pyarrow.parquet.ParquetWriter`, row group by row group, into
    ``RESULTS.tmp``, which is fsync-ed and renamed over RESULTS; then the parts folder is removed.
    Only a killed run leaves parts behind; resume reads RESULTS and the parts.

Resume (every input exactly once)
    The output file is the only state. At start the existing rows are read and the last row per
    ``key`` is "done". A torn last line (a SIGKILL during a write) is truncated away first: rows
    are written whole chunks at a time with one ``write``, so only the last line can be partial;
    a damaged line anywhere else is refused rather than guessed at. Then, in the parent and before
    any worker starts, every done input is read again and hashed: when ``key`` and SHA-256 match
    the done row it is skipped, otherwise (the bytes changed, or the file was unreadable before
    and is readable now) it is judged again. Hashing in the parent is the simple choice: it is
    about a hundred times cheaper than judging (a few seconds per 10,000 photos), it keeps the
    worker function and the engine protocol free of resume logic, and it makes the progress bar's
    total and ETA exact from the start. A re-judged input's new row supersedes its old one: at
    the end of the run the file is compacted (rewritten to a temporary file, fsync-ed, renamed)
    so that each key appears once. A run killed before that leaves both rows; the next run takes
    the last, and compacts. Resuming with another policy (name or version) or request reason is
    refused: one output holds one kind of judgement. One run at a time per output: an advisory
    lock (``flock`` on the file, or on ``RESULTS.parts/.lock``) refuses a second.

Engine seam (a Dask engine plugs in here)
    An engine is any object with ``map_chunks(chunks, policy, reason)`` and ``close()``:
    ``chunks`` is an iterable of ``list[Task]``, ``policy`` a shipped policy name or an absolute
    TOML path (None for the default), ``reason`` a :class:`~photocheck.schema.RequestReason`
    value. ``map_chunks`` must run :func:`judge_chunk` on every chunk, somewhere, and yield each
    chunk's list of rows as soon as that chunk completes (any order); it should pull chunks lazily
    and keep a bounded number in flight, so that memory stays flat and Ctrl-C loses little. It
    never creates a Checker: :func:`judge_chunk` makes one per (process, thread, policy) on first
    use (a Checker is not thread-safe; Dask workers with one thread each keep memory down).
    An exception from ``map_chunks`` aborts the run (rows written so far stay, the run can be
    resumed); ``close()`` of the generator or a KeyboardInterrupt inside it must cancel what is
    outstanding. Everything else (inputs, resume, writing, progress) is :func:`run_batch`'s.
    :class:`Task` is a small frozen dataclass of paths and offsets, not bytes, so a cluster's
    workers need the files at the same absolute paths (shared storage). A Dask engine would
    ``client.submit(judge_chunk, chunk, policy, reason, pure=False)`` a few chunks per worker and
    top up from ``distributed.as_completed``: :class:`photocheck.batch_dask.DaskEngine` does.

:class:`LocalEngine`
    Worker processes on this machine, started with ``spawn``: MediaPipe tasks created before a
    ``fork()`` hang in the children, and spawn makes sure no MediaPipe state crosses into a
    worker. A :class:`concurrent.futures.ProcessPoolExecutor` rather than
    ``multiprocessing.Pool.imap_unordered``: when a worker dies (a crash in native code, the OOM
    killer) the Pool silently loses its task and the run hangs, while the executor reports
    ``BrokenProcessPool``. The engine then runs the tasks that were in flight again one at a time
    in a new pool: one that kills its worker again becomes an ``internal`` error row (SHA-256
    taken by the parent, so a resume does not try it again), the others are judged normally.
    Three such crashes in a row, or crashes before any chunk succeeded, abort the run instead:
    then the workers, not the files, are broken, and no input is wrongly marked. Two chunks per
    worker are in flight (one running, one queued, so no worker waits for the parent).
    ``workers=1`` runs in the calling process.
    Workers ignore SIGINT: the parent alone handles Ctrl-C (stop submitting, terminate the
    workers, write what had finished). A worker whose parent dies (SIGKILL) exits on its own.

Chunk size: 32 images at most (``--chunk-size``). One 600x800 portrait takes about 15 ms to
judge per worker (a 2-CPU VM), so a chunk is about half a second of work: the per-chunk costs
(pickling, the parent's write + fsync: about 1 ms on a local disk, far more on network storage)
stay well under 1 %, the progress bar moves several times a second, a kill loses at most
``2 x workers`` chunks (about a second of work) and the tail (the last chunk running alone) is
short. ``benchmarks/batch_throughput.py --chunk-sizes 1,8,32,128`` on 2000 images with 2 workers
gave 133, 139, 122-141 and 130 images/s: from a few images per chunk on, differences are within
run-to-run noise (one image per chunk pays an fsync per image, which is what hurts on slow
storage). Small batches use smaller chunks so that every worker gets about four.

Exit status of the ``batch`` command: 0 when every input was processed, whatever the decisions:
``error`` rows (a corrupt or missing file) are results of the audit, not failures of the run;
130 after Ctrl-C (what finished is written; rerun the same command to finish); 2 usage errors;
1 when the run itself failed (models could not be loaded, workers keep dying).
"""

from __future__ import annotations

import atexit
import bz2
import contextlib
import csv
import glob
import functools
import gzip
import hashlib
import io
import json
import logging
import lzma
import math
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import stat
import tarfile
import threading
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
from rich.console import Group
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task as
                           ProgressTask, TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import ErrorCode, PhotocheckError
from .load import IMAGE_SUFFIXES
from .measures import MEASURES
from .pipeline import Checker
from .policy import Policy
from .schema import RequestReason, Result

log = logging.getLogger(__name__)

#: Upper bound of images per chunk (see the module docstring for why 32).
DEFAULT_CHUNK_SIZE = 32
#: Chunks in flight per worker process: one running, one queued.
CHUNKS_IN_FLIGHT_PER_WORKER = 2
#: Isolated crashes in a row after which the run stops (the workers, not the files, are broken).
MAX_CRASHES_IN_A_ROW = 3
#: An INPUT that is an fsspec URL (``s3://bucket/arsip/``, ``file:///mnt/arsip``).
URL_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+://")
#: Rows per Parquet row group when the parts are combined.
PARQUET_ROW_GROUP = 8192

MEASURE_NAMES: tuple[str, ...] = tuple(MEASURES)
COLUMNS: tuple[str, ...] = (
    "key", "path", "id", "birth_year", "sha256", "decision", "reasons", "measures",
    "error_code", "error_message", "face_box", "request_reason", "policy", "policy_version",
    "version",
)
CSV_COLUMNS: tuple[str, ...] = (
    *COLUMNS[:COLUMNS.index("measures")], *(f"m_{name}" for name in MEASURE_NAMES),
    *COLUMNS[COLUMNS.index("measures") + 1:],
)
OUTPUT_SUFFIXES: tuple[str, ...] = (".jsonl", ".csv", ".parquet")
ZIP_SUFFIXES: tuple[str, ...] = (".zip",)
TAR_SUFFIXES: tuple[str, ...] = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz",
                                 ".txz")
MANIFEST_SUFFIXES: tuple[str, ...] = (".csv",)


class BatchError(Exception):
    """A problem with the inputs or the output as given: a usage error, reported before or
    instead of judging. ``param`` names the command-line parameter at fault."""

    def __init__(self, message: str, param: str = "INPUT") -> None:
        super().__init__(message)
        self.param = param


# --------------------------------------------------------------------------------------------
# Tasks: one input image and how to read its bytes


@dataclass(frozen=True)
class Task:
    """One input image. Small and picklable: it names the bytes, it does not hold them.

    ``kind`` says how :meth:`read_bytes` gets them: ``"file"`` reads ``file``; ``"url"`` reads the
    fsspec URL ``file``; ``"zip"`` reads
    member ``member`` of the zip archive ``file``; ``"tar"`` reads ``size`` bytes at ``offset`` of
    the (possibly compressed) tar archive ``file``. Archives are re-opened in the worker and kept
    open there for the next chunk (a few per process).
    """

    key: str  # stable identity: absolute path, URL, or "/abs/archive.zip!member/name.jpg"
    path: str  # the input as shown in the output
    id: str | None = None
    birth_year: str | None = None
    kind: str = "file"
    file: str = ""  # absolute path of the image, or of the archive holding it
    member: str | None = None
    offset: int = -1
    size: int = -1

    def read_bytes(self) -> bytes:
        """The encoded image. Raises :class:`PhotocheckError` (``file_not_found`` or
        ``unreadable``) and nothing else."""
        try:
            if self.kind == "file":
                return _read_plain(self.file, self.path)
            if self.kind == "zip":
                with _cached_archive("zip", self.file) as archive:
                    return archive.read(self.member)
            if self.kind == "url":
                import fsspec

                with fsspec.open(self.file, "rb") as handle:
                    return handle.read()
            if self.kind == "tar":
                with _cached_archive("tar", self.file) as stream:
                    stream.seek(self.offset)
                    data = stream.read(self.size)
                if len(data) != self.size:
                    raise PhotocheckError(ErrorCode.UNREADABLE,
                                          f"{self.path}: the archive ends inside this member")
                return data
            raise PhotocheckError(ErrorCode.INTERNAL, f"unknown task kind {self.kind!r}")
        except PhotocheckError:
            raise
        except (FileNotFoundError, NotADirectoryError):
            what = "not found" if self.kind == "url" else "archive not found"
            raise PhotocheckError(ErrorCode.FILE_NOT_FOUND, f"{what}: {self.path}") from None
        except KeyError:
            message = f"no member {self.member!r} in the archive: {self.path}"
            raise PhotocheckError(ErrorCode.FILE_NOT_FOUND, message) from None
        except Exception as exc:  # damaged archive, CRC error, encrypted member, ...
            raise PhotocheckError(ErrorCode.UNREADABLE,
                                  f"cannot read {self.path}: {_describe(exc)}") from None


def _read_plain(file: str, shown: str) -> bytes:
    try:
        info = os.stat(file)
        if stat.S_ISDIR(info.st_mode):
            raise PhotocheckError(ErrorCode.UNREADABLE, f"{shown} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device could block forever
            raise PhotocheckError(ErrorCode.UNREADABLE, f"{shown} is not a regular file")
        with open(file, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        raise PhotocheckError(ErrorCode.FILE_NOT_FOUND, f"file not found: {shown}") from None
    except PermissionError:
        raise PhotocheckError(ErrorCode.UNREADABLE, f"permission denied reading {shown}") from None
    except OSError as exc:
        raise PhotocheckError(ErrorCode.UNREADABLE,
                              f"cannot read {shown}: {exc.strerror or _describe(exc)}") from None
    except ValueError as exc:  # an embedded NUL in the path
        raise PhotocheckError(ErrorCode.UNREADABLE, f"invalid path {shown!r}: {exc}") from None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Open archives of this process, by (pid, kind, absolute path); the oldest closes beyond a few.
_ARCHIVES_KEPT = 4
_archives: dict[tuple[int, str, str], Any] = {}


@contextlib.contextmanager
def _cached_archive(kind: str, file: str):
    """An open ZipFile (kind "zip") or a seekable decompressed stream (kind "tar"), kept for
    the next task of this process. Dropped when a read fails, so the next read re-opens it.

    A tar member is read by seeking in the uncompressed stream: free for a plain ``.tar``; for a
    compressed one, a forward seek decompresses up to the member, so reading a chunk's members
    in archive order costs one pass per worker over the archive in all (chunks reach the
    workers in order); a backward seek starts again from the top."""
    cache_key = (os.getpid(), kind, file)
    handle = _archives.get(cache_key)
    if handle is None:
        while len(_archives) >= _ARCHIVES_KEPT:
            _close_quietly(_archives.pop(next(iter(_archives))))
        handle = zipfile.ZipFile(file) if kind == "zip" else _open_tar_stream(file)
        _archives[cache_key] = handle
    try:
        yield handle
    except BaseException:
        _close_quietly(_archives.pop(cache_key, None))
        raise


def _open_tar_stream(file: str):
    with open(file, "rb") as probe:
        magic = probe.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(file, "rb")
    if magic.startswith(b"BZh"):
        return bz2.open(file, "rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(file, "rb")
    return open(file, "rb")


def _close_quietly(handle: Any) -> None:
    if handle is not None:
        with contextlib.suppress(Exception):
            handle.close()


def close_archives() -> None:
    """Close the archives this process keeps open for reading members."""
    for cache_key in list(_archives):
        handle = _archives.pop(cache_key)
        if cache_key[0] == os.getpid():  # not a handle inherited through fork
            _close_quietly(handle)


# --------------------------------------------------------------------------------------------
# Inputs


def collect_tasks(inputs: Sequence[str | os.PathLike],
                  warn: Callable[[str], None] | None = None) -> list[Task]:
    """The tasks named by INPUTs (see the module docstring), duplicates removed (first kept).

    Raises :class:`BatchError` for an archive or manifest that cannot be read, or a manifest
    without a ``path`` column. ``warn`` receives notes that do not stop the run (an input that
    holds no image, a damaged archive whose first members could be listed).
    """
    warn = warn or (lambda message: log.warning("%s", message))
    tasks: list[Task] = []
    seen: set[str] = set()
    for raw in inputs:
        text = os.fspath(raw)
        found = 0
        for task in _expand(text, warn):
            found += 1
            if task.key not in seen:
                seen.add(task.key)
                tasks.append(task)
        if not found:
            warn(f"no images in {text}")
    return tasks


def _expand(text: str, warn: Callable[[str], None]) -> Iterator[Task]:
    if URL_PATTERN.match(text) and not os.path.lexists(text):
        yield from _url_files(text)
    elif os.path.isdir(text):
        yield from _folder(text)
    elif os.path.lexists(text):
        yield from _single(text, warn, from_glob=False)
    elif glob.has_magic(text):
        for match in sorted(glob.glob(text, recursive=True)):
            if os.path.isfile(match):
                yield from _single(match, warn, from_glob=True)
    elif _has_suffix(text, ZIP_SUFFIXES + TAR_SUFFIXES + MANIFEST_SUFFIXES):
        raise BatchError(f"{text}: no such file")
    else:  # a missing image: an error row, as `photocheck check` reports it
        yield _file_task(text)


def _single(text: str, warn: Callable[[str], None], *, from_glob: bool) -> Iterator[Task]:
    if _has_suffix(text, ZIP_SUFFIXES):
        yield from _zip_members(text)
    elif _has_suffix(text, TAR_SUFFIXES):
        yield from _tar_members(text, warn)
    elif _has_suffix(text, MANIFEST_SUFFIXES):
        yield from _manifest(text, warn)
    elif not from_glob or _is_image_name(text):
        yield _file_task(text)


def _file_task(text: str, *, shown: str | None = None, id: str | None = None,
               birth_year: str | None = None) -> Task:
    absolute = os.path.abspath(text)
    return Task(key=absolute, path=text if shown is None else shown, id=id,
                birth_year=birth_year, kind="file", file=absolute)


def _folder(top: str) -> Iterator[Task]:
    for folder, subfolders, names in os.walk(top):
        subfolders.sort()
        subfolders[:] = [name for name in subfolders if name != "__MACOSX"]
        for name in sorted(names):
            path = os.path.join(folder, name)
            if _is_image_name(name) and os.path.isfile(path):
                yield _file_task(path)


def _zip_members(text: str) -> Iterator[Task]:
    absolute = os.path.abspath(text)
    try:
        with zipfile.ZipFile(text) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BatchError(f"cannot read the zip archive {text}: {_describe(exc)}") from None
    for info in infos:
        if not info.is_dir() and _is_image_name(info.filename):
            yield Task(key=f"{absolute}!{info.filename}", path=f"{text}!{info.filename}",
                       kind="zip", file=absolute, member=info.filename)


def _tar_members(text: str, warn: Callable[[str], None]) -> Iterator[Task]:
    absolute = os.path.abspath(text)
    try:
        archive = tarfile.open(text, "r:*")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BatchError(f"cannot read the tar archive {text}: {_describe(exc)}") from None
    listed = 0
    with archive:
        try:
            for member in archive:
                if member.isreg() and not member.issparse() and _is_image_name(member.name):
                    listed += 1
                    yield Task(key=f"{absolute}!{member.name}", path=f"{text}!{member.name}",
                               kind="tar", file=absolute, member=member.name,
                               offset=member.offset_data, size=member.size)
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            warn(f"{text} is damaged after {listed} images; those are checked: {_describe(exc)}")


def _manifest(text: str, warn: Callable[[str], None]) -> Iterator[Task]:
    """Rows of a CSV manifest: ``path`` (relative to the CSV's folder), optional ``id`` and
    ``birth_year``. Column names are matched case-insensitively; ``,``, ``;`` or tab separated;
    UTF-8 with or without BOM."""
    base = os.path.dirname(text)
    try:
        with open(text, newline="", encoding="utf-8-sig") as handle:
            header = handle.readline()
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(header, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(handle, dialect)
            names = [name.strip().lower() for name in next(reader, [])]
            if "path" not in names:
                raise BatchError(f"the manifest {text} has no 'path' column "
                                 f"(columns: {', '.join(names) or 'none'})")
            column = {name: names.index(name) for name in ("path", "id", "birth_year")
                      if name in names}
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BatchError(f"cannot read the manifest {text}: {_describe(exc)}") from None

    def cell(row: list[str], name: str) -> str | None:
        index = column.get(name)
        value = row[index].strip() if index is not None and index < len(row) else ""
        return value or None

    for number, row in enumerate(rows, 2):
        if not any(value.strip() for value in row):
            continue
        shown = cell(row, "path")
        if shown is None:
            warn(f"{text}, line {number}: no path; row skipped")
            continue
        yield _file_task(os.path.join(base, shown), shown=shown, id=cell(row, "id"),
                         birth_year=cell(row, "birth_year"))


def _url_files(text: str) -> Iterator[Task]:
    """Images at an fsspec URL (``file://``, ``s3://`` with s3fs installed, ...): a folder
    (recursive), a glob pattern, or one file. Archives and manifests must be local paths."""
    try:
        import fsspec
    except ImportError:
        raise BatchError(f"{text}: URLs are read with fsspec: pip install 'photocheck[dask]'")
    try:
        fs, root = fsspec.core.url_to_fs(text)
        if glob.has_magic(root):
            names = [name for name in sorted(fs.glob(root)) if _is_image_name(name)]
        elif fs.isdir(root):
            names = [name for name in sorted(fs.find(root)) if _is_image_name(name)]
        else:  # one file; a missing one becomes an error row
            names = [root]
    except BatchError:
        raise
    except Exception as exc:  # unknown protocol, its package missing, no access
        raise BatchError(f"cannot list {text}: {_describe(exc)}") from None
    for name in names:
        url = text if name == root and not glob.has_magic(root) else fs.unstrip_protocol(name)
        yield Task(key=url, path=url, kind="url", file=url)


def _has_suffix(text: str, suffixes: Sequence[str]) -> bool:
    return text.lower().endswith(tuple(suffixes))


def _is_image_name(name: str) -> bool:
    """An image suffix, and not macOS metadata (``__MACOSX/`` folders, ``._`` AppleDouble)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return (name.lower().endswith(IMAGE_SUFFIXES) and not base.startswith("._")
            and "__MACOSX/" not in name)


# --------------------------------------------------------------------------------------------
# The worker function


_checkers: dict[tuple[int, int, str | None], Checker] = {}


def judge_chunk(tasks: list[Task], policy: str | None = None,
                reason: str = RequestReason.QUALITY.value) -> list[dict]:
    """Judge tasks in this process; one row per task, in order. Never raises for a bad input.

    The checker is created on first use in each process and thread, per policy (so never
    before a fork; a Checker is not thread-safe, and an engine may run threads) and kept until
    the process exits. A checker that cannot be created (models missing) raises:
    that is a broken installation, not a bad input.
    """
    checker = _checker(policy)
    return [_judge(checker, task, reason) for task in tasks]


def _checker(policy: str | None) -> Checker:
    cache_key = (os.getpid(), threading.get_ident(), policy)
    checker = _checkers.get(cache_key)
    if checker is None:
        # Parallelism comes from running chunks side by side (processes, Dask workers):
        # OpenCV's own threads would only contend with them.
        cv2.setNumThreads(1)
        checker = _checkers[cache_key] = Checker(policy)
    return checker


@atexit.register
def _close_checkers() -> None:
    """Close this process's checkers at exit (left to the garbage collector, MediaPipe prints
    a traceback at interpreter shutdown)."""
    for (pid, _, _), checker in list(_checkers.items()):
        if pid == os.getpid():
            checker.close()
    _checkers.clear()
    close_archives()


def _judge(checker: Checker, task: Task, reason: str) -> dict:
    digest = ""
    try:
        try:
            data = task.read_bytes()
        except PhotocheckError as exc:
            return error_row(task, exc.code, exc.message, checker.policy, reason)
        digest = hashlib.sha256(data).hexdigest()
        result = checker.check(data, reason=reason, path=task.path,
                               birth_year=_year(task.birth_year))
        return result_row(task, result, digest)
    except Exception as exc:  # a bug: report it on this input and go on
        log.exception("internal error on %s", task.path)
        return error_row(task, ErrorCode.INTERNAL, f"internal error: {_describe(exc)}",
                         checker.policy, reason, sha256=digest)


def _year(text: str | None) -> int | str | None:
    """A manifest's birth_year cell as the checker takes it: a number, or the text as it is
    (which the checker refuses with an ``invalid_argument`` row for this input)."""
    return int(text) if text is not None and text.isdigit() else text


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


def crash_row(task: Task, policy: str | None, reason: str) -> dict:
    """The error row of an input whose worker process died while judging it alone."""
    try:
        digest = hashlib.sha256(task.read_bytes()).hexdigest()
    except PhotocheckError:
        digest = ""
    return error_row(task, ErrorCode.INTERNAL,
                     "the worker process died while checking this image (a crash in native "
                     "code or out of memory)", _policy(policy), reason, sha256=digest)


@functools.lru_cache(maxsize=8)
def _policy(source: str | None) -> Policy:
    return Policy.load(source)


def _worker_init() -> None:
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


# --------------------------------------------------------------------------------------------
# Engines


class Engine(Protocol):
    """Where :func:`judge_chunk` runs (see "Engine seam" in the module docstring)."""

    def map_chunks(self, chunks: Iterable[list[Task]], policy: str | None,
                   reason: str) -> Iterator[list[dict]]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class LocalEngine:
    """Worker processes on this machine (``spawn``); ``workers=1`` judges in this process."""

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn") -> None:
        if start_method == "fork":
            raise ValueError("fork is unsafe with MediaPipe: use spawn or forkserver")
        self.workers = max(1, workers or default_workers())
        self.start_method = start_method
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight: dict[Future, list[Task]] = {}

    def map_chunks(self, chunks: Iterable[list[Task]], policy: str | None,
                   reason: str) -> Iterator[list[dict]]:
        if self.workers == 1:
            for chunk in chunks:
                yield judge_chunk(chunk, policy, reason)
            return
        try:
            yield from self._map_pool(iter(chunks), policy, reason)
        except BaseException:  # Ctrl-C, generator closed early, a failure: stop the workers
            self._abort()
            raise

    def _map_pool(self, source: Iterator[list[Task]], policy: str | None,
                  reason: str) -> Iterator[list[dict]]:
        window = self.workers * CHUNKS_IN_FLIGHT_PER_WORKER
        in_flight = self._in_flight
        suspects: deque[Task] = deque()  # tasks of a broken pool, to run again one at a time
        crashes = 0  # isolated crashes since the last success
        healthy = False  # a chunk has succeeded: the workers themselves can run
        held: list[dict] = []  # crash rows kept back until the workers are known healthy
        while True:
            while not suspects and len(in_flight) < window:
                chunk = next(source, None)
                if chunk is None:
                    break
                if chunk:
                    in_flight[self._submit(chunk, policy, reason)] = chunk
            if suspects and not in_flight:
                task = suspects.popleft()
                in_flight[self._submit([task], policy, reason)] = [task]
            if not in_flight:
                break
            done, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
            if not done:
                continue
            lost: list[Task] = []
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                done, _ = wait(list(in_flight))  # the rest fail (or finished) at once
            for future in done:
                chunk = in_flight.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    lost.extend(chunk)
                    continue
                rows = future.result()  # any other exception is a failure of the run
                crashes, healthy = 0, True
                if held:
                    yield held
                    held = []
                yield rows
            if not lost:
                continue
            self._discard_executor()
            if len(lost) > 1:
                suspects.extend(lost)
                continue
            # It ran alone: this input kills its worker (or no worker can run at all).
            crashes += 1
            if crashes >= MAX_CRASHES_IN_A_ROW:
                raise RuntimeError(f"worker processes died on {crashes} inputs in a row "
                                   f"(last: {lost[0].path}); the run is stopped")
            held.append(crash_row(lost[0], policy, reason))
            if healthy:
                yield held
                held = []
        if held:  # no chunk ever succeeded: the workers, not these inputs, are at fault
            raise RuntimeError(f"worker processes died on every input tried (last: "
                               f"{held[-1]['path']}); the run is stopped")

    def _submit(self, chunk: list[Task], policy: str | None, reason: str) -> Future:
        # SIGINT blocked while workers may be spawned: they start with it blocked and ignore it
        # before unblocking (see _worker_init). A Ctrl-C meanwhile is delivered just after.
        with sigint_blocked():
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context(self.start_method),
                    initializer=_worker_init)
            try:
                return self._executor.submit(judge_chunk, chunk, policy, reason)
            except BrokenProcessPool as broken:
                # A worker died after the last wait: this chunk never ran, and joins the rest of
                # the broken pool's chunks on the same recovery path.
                failed: Future = Future()
                failed.set_exception(broken)
                return failed

    def _discard_executor(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _abort(self) -> None:
        """Cancel what is queued and terminate the workers now."""
        executor, self._executor = self._executor, None
        self._in_flight.clear()
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)

    def close(self) -> None:
        if any(not future.done() for future in self._in_flight):
            self._abort()
        else:
            self._in_flight.clear()
            self._discard_executor()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def sigint_blocked():
    """Block SIGINT in this thread while starting workers: they inherit the mask."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold a Ctrl-C back while results are being written, then deliver it: a file is never
    left half-written by KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
        if received:
            signal.raise_signal(signal.SIGINT)


# --------------------------------------------------------------------------------------------
# Output files


def open_output(path: str | os.PathLike) -> _Output:
    """The writer for RESULTS, chosen by its suffix (``.jsonl``, ``.csv``, ``.parquet``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _JsonlOutput(path)
    if suffix == ".csv":
        return _CsvOutput(path)
    if suffix == ".parquet":
        return _ParquetOutput(path)
    raise BatchError(f"{path}: unknown output format; name it *.jsonl, *.csv or *.parquet",
                     "--out")


def read_results(path: str | os.PathLike) -> list[dict]:
    """Rows of a batch output, as written (every format gives the same dicts). A torn last
    line is ignored; Parquet parts of an unfinished run are included."""
    return open_output(path).read()


class _Output:
    """One results file. ``load`` (start: repair, return rows), ``append`` (durable),
    ``finish`` (end: compact or combine), ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None

    def read(self) -> list[dict]:
        raise NotImplementedError

    def load(self) -> list[dict]:
        raise NotImplementedError

    def append(self, rows: list[dict]) -> None:
        raise NotImplementedError

    def finish(self, compact: bool) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _open_append(self) -> bool:
        """Open for appending under an exclusive lock; True when the file was just created."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        handle = open(self.path, "ab")
        _lock(handle, self.path)
        self._handle = handle
        if created:
            _fsync_dir(self.path.parent)
        return created

    def _write_durably(self, data: bytes) -> None:
        self._handle.write(data)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def _truncate(self, size: int) -> None:
        self._handle.truncate(size)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def _replace(self, write: Callable[[Any], None]) -> None:
        """Write a new version through ``write(binary_handle)`` to a temporary file, fsync and
        rename it over the output."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_dir(self.path.parent)


_ROW_PREFIX = b'{"key": '


class _LineOutput(_Output):
    """A text file of one row per line (JSONL, CSV): only its last line can be torn."""

    def read(self) -> list[dict]:
        return self._scan()[0] if self.path.exists() else []

    def load(self) -> list[dict]:
        self._open_append()
        rows, good_end, size = self._scan()
        if good_end < size:
            self._truncate(good_end)
        if good_end == 0:
            self._start()
        return rows

    def _scan(self) -> tuple[list[dict], int, int]:
        """Rows, the end of the last whole row, the file size."""
        raise NotImplementedError

    def _start(self) -> None:
        """Write what an empty file begins with."""


class _JsonlOutput(_LineOutput):
    def _scan(self) -> tuple[list[dict], int, int]:
        """Rows, the end of the last whole line, the file size. An unterminated last line is
        torn (not a row); an invalid line elsewhere is an error."""
        rows: list[dict] = []
        offset = 0
        with open(self.path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith(b"\n"):
                    if not (line.startswith(_ROW_PREFIX) or _ROW_PREFIX.startswith(line)):
                        raise BatchError(f"{self.path}, line {number}, is not a photocheck batch "
                                         "row; choose another --out", "--out")
                    return rows, offset, offset + len(line)
                if line.strip():
                    rows.append(self._parse(line, number))
                offset += len(line)
        return rows, offset, offset

    def _parse(self, line: bytes, number: int) -> dict:
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not isinstance(row, dict) or not {"key", "sha256", "decision"} <= row.keys():
            raise BatchError(f"{self.path}, line {number}, is not a photocheck batch row; "
                             "choose another --out", "--out")
        return row

    def append(self, rows: list[dict]) -> None:
        self._write_durably(self._encode(rows))

    @staticmethod
    def _encode(rows: Iterable[dict]) -> bytes:
        return "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"
                       for row in rows).encode("utf-8")

    def finish(self, compact: bool) -> None:
        if compact:
            rows = _last_per_key(self._scan()[0])
            self._replace(lambda handle: handle.write(self._encode(rows)))


class _CsvOutput(_LineOutput):
    _HEADER = (",".join(CSV_COLUMNS) + "\n").encode("utf-8")

    def _start(self) -> None:
        self._write_durably(self._HEADER)

    def _scan(self) -> tuple[list[dict], int, int]:
        """Rows, the end of the last whole record, the file size. A record cut short at the end
        of the file is torn; the header must be ours."""
        ends: list[int] = []
        whole: list[bool] = []

        with open(self.path, "rb") as handle:
            def lines() -> Iterator[str]:
                position = 0
                for raw in handle:
                    position += len(raw)
                    ends.append(position)
                    whole.append(raw.endswith(b"\n"))
                    yield raw.decode("utf-8", errors="replace")

            size = os.fstat(handle.fileno()).st_size
            reader = csv.reader(lines(), strict=True)
            rows: list[dict] = []
            good_end = 0
            try:
                for record in reader:
                    end_line = reader.line_num - 1
                    if not whole[end_line]:
                        break  # torn: the file ends inside this record
                    if good_end == 0:
                        if tuple(record) != CSV_COLUMNS:
                            raise BatchError(f"{self.path} has other columns than photocheck "
                                             "batch writes; choose another --out", "--out")
                    elif len(record) != len(CSV_COLUMNS):
                        raise BatchError(f"{self.path}, line {reader.line_num}, is not a "
                                         "photocheck batch row; choose another --out", "--out")
                    else:
                        rows.append(_from_csv(record))
                    good_end = ends[end_line]
            except csv.Error as exc:
                if handle.read(1):  # not at the end: damage inside the file
                    raise BatchError(f"{self.path}, line {reader.line_num}: {exc}; choose "
                                     "another --out", "--out") from None
        if good_end == 0 and size:
            with open(self.path, "rb") as handle:
                head = handle.read(len(self._HEADER) + 1)
            if not self._HEADER.startswith(head):
                raise BatchError(f"{self.path} is not a photocheck batch file; choose another "
                                 "--out", "--out")
        return rows, good_end, size

    def append(self, rows: list[dict]) -> None:
        self._write_durably(self._encode(rows))

    @staticmethod
    def _encode(rows: Iterable[dict]) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerows(_to_csv(row) for row in rows)
        return text.getvalue().encode("utf-8")

    def finish(self, compact: bool) -> None:
        if compact:
            rows = _last_per_key(self._scan()[0])
            self._replace(lambda handle: handle.write(self._HEADER + self._encode(rows)))


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _to_csv(row: dict) -> list[str]:
    box = row["face_box"]
    return [
        row["key"], row["path"], row["id"] or "", row["birth_year"] or "", row["sha256"],
        row["decision"], ";".join(row["reasons"]),
        *(_number(row["measures"].get(name)) for name in MEASURE_NAMES),
        row["error_code"] or "", row["error_message"] or "",
        "" if box is None else " ".join(_number(v) for v in box),
        row["request_reason"], row["policy"], row["policy_version"], row["version"],
    ]


def _from_csv(record: list[str]) -> dict:
    cells = dict(zip(CSV_COLUMNS, record))

    def number(text: str) -> float | None:
        return float(text) if text else None

    return {
        "key": cells["key"], "path": cells["path"], "id": cells["id"] or None,
        "birth_year": cells["birth_year"] or None, "sha256": cells["sha256"],
        "decision": cells["decision"],
        "reasons": cells["reasons"].split(";") if cells["reasons"] else [],
        "measures": {name: number(cells[f"m_{name}"]) for name in MEASURE_NAMES},
        "error_code": cells["error_code"] or None, "error_message": cells["error_message"] or None,
        "face_box": [float(v) for v in cells["face_box"].split()] if cells["face_box"] else None,
        "request_reason": cells["request_reason"], "policy": cells["policy"],
        "policy_version": cells["policy_version"], "version": cells["version"],
    }


class _ParquetOutput(_Output):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.parts = path.with_name(path.name + ".parts")
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise BatchError("writing Parquet needs pyarrow: pip install 'photocheck[parquet]'",
                             "--out") from None
        self._next_part = 1

    @staticmethod
    def schema():
        import pyarrow as pa

        return pa.schema([
            ("key", pa.string()), ("path", pa.string()), ("id", pa.string()),
            ("birth_year", pa.string()), ("sha256", pa.string()), ("decision", pa.string()),
            ("reasons", pa.list_(pa.string())),
            ("measures", pa.struct([(name, pa.float64()) for name in MEASURE_NAMES])),
            ("error_code", pa.string()), ("error_message", pa.string()),
            ("face_box", pa.list_(pa.float64())), ("request_reason", pa.string()),
            ("policy", pa.string()), ("policy_version", pa.string()), ("version", pa.string()),
        ])

    def _sources(self) -> list[Path]:
        parts = sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []
        return ([self.path] if self.path.exists() else []) + parts

    def read(self) -> list[dict]:
        import pyarrow.parquet as pq

        rows: list[dict] = []
        for source in self._sources():
            rows.extend(pq.read_table(source).to_pylist())
        return rows

    def load(self) -> list[dict]:
        import pyarrow.parquet as pq

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(exist_ok=True)
        handle = open(self.parts / ".lock", "ab")
        _lock(handle, self.path)
        self._handle = handle
        for leftover in self.parts.glob("*.tmp"):  # a part being written when killed
            leftover.unlink()
        rows: list[dict] = []
        for source in self._sources():
            try:
                table = pq.read_table(source)
            except Exception as exc:
                if source == self.path:
                    raise BatchError(f"cannot read {self.path}: {_describe(exc)}; choose another "
                                     "--out", "--out") from None
                source.unlink()  # a damaged part (storage failure): its inputs are judged again
                continue
            if table.schema.names != list(COLUMNS):
                raise BatchError(f"{source} has other columns than photocheck batch writes; "
                                 "choose another --out", "--out")
            rows.extend(table.to_pylist())
            if source != self.path:
                self._next_part = max(self._next_part, int(source.stem.split("-")[1]) + 1)
        return rows

    def append(self, rows: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        name = f"part-{self._next_part:06d}.parquet"
        self._next_part += 1
        temporary = self.parts / (name + ".tmp")
        pq.write_table(pa.Table.from_pylist(rows, schema=self.schema()), temporary)
        _fsync_file(temporary)
        os.replace(temporary, self.parts / name)
        _fsync_dir(self.parts)

    def finish(self, compact: bool) -> None:
        """Combine RESULTS and the parts into a new RESULTS (last row per key), then remove the
        parts. Streams: one source in memory at a time."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        sources = self._sources()
        has_parts = any(source != self.path for source in sources)
        if has_parts or compact or not self.path.exists():
            keys = [pq.read_table(source, columns=["key"]).column("key").to_pylist()
                    for source in sources]
            last = {key: (s, i) for s, column in enumerate(keys) for i, key in enumerate(column)}
            schema = self.schema()

            def write(handle) -> None:
                with pq.ParquetWriter(handle, schema) as writer:
                    pending: list[pa.Table] = []
                    for s, source in enumerate(sources):
                        keep = [i for i, key in enumerate(keys[s]) if last[key] == (s, i)]
                        if not keep:  # every row of this source was judged again later
                            continue
                        table = pq.read_table(source).cast(schema)
                        pending.append(table.take(pa.array(keep, type=pa.int64())))
                        if sum(len(t) for t in pending) >= PARQUET_ROW_GROUP:
                            writer.write_table(pa.concat_tables(pending))
                            pending = []
                    if pending or not sources:
                        writer.write_table(pa.concat_tables(pending) if pending
                                           else schema.empty_table())

            self._replace(write)
        self.close()
        shutil.rmtree(self.parts, ignore_errors=True)
        _fsync_dir(self.path.parent)

    def close(self) -> None:
        owner = self._handle is not None  # we hold the lock on the parts folder
        super().close()
        if owner and self.parts.is_dir() and not any(self.parts.glob("part-*.parquet")):
            shutil.rmtree(self.parts, ignore_errors=True)  # nothing to resume from


def _last_per_key(rows: list[dict]) -> list[dict]:
    """One row per key: the last one, at the place of the last one."""
    last = {row["key"]: index for index, row in enumerate(rows)}
    return [row for index, row in enumerate(rows) if last[row["key"]] == index]


def _lock(handle, shown: Path) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise BatchError(f"another photocheck batch is writing {shown}", "--out") from None


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a new or renamed directory entry durable (POSIX; a no-op where unsupported)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# --------------------------------------------------------------------------------------------
# A run


class ProgressSink(Protocol):
    """What :func:`run_batch` reports progress to (:class:`RichProgress` on a console)."""

    def phase(self, description: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class _NoProgress:
    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass
class Summary:
    """What a run did. ``decisions`` and ``reasons`` count the current row of every input of
    this run that has one (judged now or already done)."""

    out: Path
    total: int
    skipped: int = 0
    judged: int = 0
    interrupted: bool = False
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
              progress: ProgressSink | None = None) -> Summary:
    """Judge ``tasks`` into ``out``, resuming what an earlier run of the same output did.

    Without ``engine`` a :class:`LocalEngine` with ``workers`` processes (default: the CPU
    count) is used and closed. Ctrl-C stops the run: what finished is written and the summary
    says ``interrupted``. Raises :class:`BatchError` for a bad output or options; any other
    exception means the run failed (rows written so far stay and the run can be resumed).
    """
    try:
        reason = RequestReason(reason).value
    except ValueError:
        raise BatchError(f"unknown request reason {reason!r}", "--reason") from None
    if chunk_size < 1:
        raise BatchError("the chunk size must be at least 1", "--chunk-size")
    policy_source = _policy_source(policy)
    try:
        active = Policy.load(policy_source)
    except (OSError, ValueError) as exc:
        raise BatchError(str(exc), "--policy") from None
    progress = progress or _NoProgress()
    unique: dict[str, Task] = {}
    for task in tasks:  # an input given twice is judged once
        unique.setdefault(task.key, task)
    tasks = list(unique.values())
    out = Path(out)
    summary = Summary(out=out, total=len(tasks))
    output = open_output(out)
    try:
        existing = output.load()
        _check_compatible(existing, out, active, reason)
        # Only what resume and the summary need: memory stays flat however long the file is.
        last = {row["key"]: _Done(row["sha256"], row["decision"], tuple(row["reasons"]))
                for row in existing}
        compact = len(last) < len(existing)
        del existing
        try:
            pending = _skip_done(tasks, last, summary, progress)
            summary.skipped = len(tasks) - len(pending)
            if pending:
                workers = max(1, workers or getattr(engine, "workers", 0) or default_workers())
                size = min(chunk_size, max(1, math.ceil(len(pending) / (workers * 4))))
                chunks = (pending[i:i + size] for i in range(0, len(pending), size))
                own_engine = engine is None
                if own_engine:
                    engine = LocalEngine(min(workers, math.ceil(len(pending) / size)))
                progress.phase("judging", len(pending))
                results = engine.map_chunks(chunks, policy_source, reason)
                try:
                    for rows in results:
                        with _sigint_deferred():
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
            with contextlib.suppress(Exception), _sigint_deferred():
                output.finish(compact)
            raise
        with _sigint_deferred():
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
        raise BatchError(
            f"{out} holds results of policy {name} {version} for reason {earlier}; this run "
            f"uses policy {policy.name} {policy.version} for reason {reason}. Use the same "
            "--policy and --reason to resume, or another --out", "--out")


@dataclass(frozen=True)
class _Done:
    """What a results file says of one input (its last row)."""

    sha256: str
    decision: str
    reasons: tuple[str, ...]


def _skip_done(tasks: Sequence[Task], last: dict[str, _Done], summary: Summary,
               progress: ProgressSink) -> list[Task]:
    """Tasks still to judge. A task with a row is done when its bytes hash to that row's
    SHA-256 (or could not be read, then and now); done rows are counted into ``summary``."""
    done = [task for task in tasks if task.key in last]
    if done:
        progress.phase("checking done inputs", len(done))
    pending: list[Task] = []
    for task in tasks:
        row = last.get(task.key)
        if row is None:
            pending.append(task)
            continue
        try:
            digest = hashlib.sha256(task.read_bytes()).hexdigest()
        except PhotocheckError:
            digest = ""
        if digest == row.sha256:
            summary.count(row.decision, row.reasons)
        else:
            pending.append(task)
        progress.advance(1)
    return pending


# --------------------------------------------------------------------------------------------
# Console: progress bar and summary (Rich, on stderr)


class _RateColumn(ProgressColumn):
    def render(self, task: ProgressTask) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- img/s" if speed is None else f"{speed:,.1f} img/s", style="cyan")


class RichProgress:
    """A Rich progress bar (count, rate, elapsed, ETA) for :func:`run_batch`; a context manager.
    Disabled, it prints nothing."""

    def __init__(self, console, *, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def phase(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)


def summary_table(summary: Summary) -> Group:
    """Counts per decision and per reason, and what the run did."""
    done = summary.skipped + summary.judged
    head = Text(f"{done} of {summary.total} inputs in {summary.out} "
                f"({summary.judged} judged now, {summary.skipped} already done)", style="bold")
    parts: list[Any] = [head]
    for title, counts in (("decision", summary.decisions), ("reason", summary.reasons)):
        if counts:
            table = Table(box=None, pad_edge=False, show_edge=False)
            table.add_column(title, style="bold")
            table.add_column("count", justify="right")
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                table.add_row(name, str(count))
            parts.append(table)
    if summary.decisions.get("error"):
        parts.append(Text("error rows are inputs that could not be judged (see error_code); "
                          "they are results, not a failed run", style="dim"))
    if summary.interrupted:
        parts.append(Text(f"stopped: {summary.remaining} inputs left; run the same command "
                          "again to finish", style="bold yellow"))
    return Group(*parts)
