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
   Files a folder, glob, archive or URL folder holds whose names are not images are passed over
   and counted (:attr:`Tasks.not_images`); :func:`run_batch` (``not_images=``) puts the count
   in its :class:`Summary` and in ``RESULTS.skipped.json`` beside the output, where the report
   finds it.
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
the input (absolute path; ``/abs/arsip.zip!dir/a.jpg`` for an archive member;
``/abs/a.jpg#id=K-1`` for a manifest row with an id: each row is its own record), ``path`` the
input as the user named it (``arsip.zip!dir/a.jpg``, or the manifest's ``path`` value). Rows are
in completion order, not input order.

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
    any worker starts, every done input is read again and hashed (streamed in 1 MiB chunks; an
    input over the byte limit is refused on its declared size, unread, as its row was): when
    ``key`` and SHA-256 match the done row it is skipped, otherwise (the bytes changed, or the
    file was unreadable before and is readable now) it is judged again. Hashing in the parent is
    the simple choice: it is about a hundred times cheaper than judging (a few seconds per 10,000
    photos), it keeps the worker function and the engine protocol free of resume logic, and it
    makes the progress bar's total and ETA exact from the start. A re-judged input's new row
    supersedes its old one: at the end of the run the file is compacted (rewritten to a
    temporary file, fsync-ed, renamed) so that each key appears once. A run killed before that
    leaves both rows; the next run takes the last, and compacts. Resuming with another policy
    (name or version) or request reason is refused: one output holds one kind of judgement. One
    run at a time per output: an advisory lock (``flock`` on the file, or on
    ``RESULTS.parts/.lock``) refuses a second.

Limits (every input read within them)
    :class:`photocheck.limits.Limits` (``run_batch(limits=)``, default the shipped
    ``limits.toml`` or ``$PHOTOCHECK_LIMITS``) bound what the parent lists and hashes and what
    the workers read and decode; the engine hands the object to :func:`judge_chunk` with every
    chunk. A file or archive member declaring more than the byte limit, a zip member compressed
    beyond the ratio limit, an image over the pixel limit, an archive or manifest over its count
    limit: an ``error`` row ``too_large``, found on declared sizes before reading, and no stream
    is ever read past the byte limit. A 6 MB zip of 4 GiB + 2 GiB members costs no memory.

Engine seam (a Dask engine plugs in here)
    An engine is any object with ``map_chunks(chunks, policy, reason, limits)`` and ``close()``:
    ``chunks`` is an iterable of ``list[Task]``, ``policy`` a shipped policy name or an absolute
    TOML path (None for the default), ``reason`` a :class:`~photocheck.schema.RequestReason`
    value, ``limits`` a :class:`~photocheck.limits.Limits` (None: the default), passed on to
    :func:`judge_chunk`. ``map_chunks`` must run :func:`judge_chunk` on every chunk, somewhere,
    and yield each chunk's list of rows as soon as that chunk completes (any order); it should
    pull chunks lazily and keep a bounded number in flight, so that memory stays flat and Ctrl-C
    loses little. It never creates a Checker: :func:`judge_chunk` makes one per (process,
    thread, policy, limits) on first use (a Checker is not thread-safe; Dask workers with one
    thread each keep memory down).
    An exception from ``map_chunks`` aborts the run (rows written so far stay, the run can be
    resumed); ``close()`` of the generator or a KeyboardInterrupt inside it must cancel what is
    outstanding. Everything else (inputs, resume, writing, progress) is :func:`run_batch`'s.
    :class:`Task` is a small frozen dataclass of paths and offsets, not bytes, so a cluster's
    workers need the files at the same absolute paths (shared storage). A Dask engine would
    ``client.submit(judge_chunk, chunk, policy, reason, limits, pure=False)`` a few chunks per
    worker and top up from ``distributed.as_completed``:
    :class:`photocheck.batch.dask_engine.DaskEngine` does.

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

Words: what a person reads is made late, in the reader's language. Notes (``warn``) and
:class:`BatchError` carry a :class:`~photocheck.messages.Message` (a catalogue key of
:mod:`photocheck.i18n` and its fields; its ``str`` is the English text with any technical
detail, for logs), progress phases are names (``"judging"``) the :class:`RichProgress` of the
CLI shows in ``--lang``.

Exit status of the ``batch`` command: 0 when every input was processed, whatever the decisions:
``error`` rows (a corrupt or missing file) are results of the audit, not failures of the run;
130 after Ctrl-C (what finished is written; rerun the same command to finish); 2 usage errors;
1 when the run itself failed (models could not be loaded, workers keep dying).

Modules
    :mod:`.inputs` (tasks, archives, manifests), :mod:`.worker` (:func:`judge_chunk` and its
    rows), :mod:`.engines` (:class:`LocalEngine`), :mod:`.dask_engine` (:class:`DaskEngine`, needs
    dask), :mod:`.outputs` (result files), :mod:`.resume` (:func:`run_batch`: a run and its
    resume), :mod:`.console` (progress bar, summary). What other modules use is re-exported
    here.
"""

from __future__ import annotations

from .console import RichProgress, summary_table
from .engines import (CHUNKS_IN_FLIGHT_PER_WORKER, MAX_CRASHES_IN_A_ROW, Engine, LocalEngine,
                      default_workers, sigint_blocked)
from .errors import BatchError
from .inputs import (MANIFEST_SUFFIXES, TAR_SUFFIXES, URL_PATTERN, ZIP_SUFFIXES, Task, Tasks,
                     close_archives, collect_tasks)
from .outputs import (COLUMNS, CSV_COLUMNS, MEASURE_NAMES, OUTPUT_SUFFIXES, open_output,
                      read_results)
from .resume import DEFAULT_CHUNK_SIZE, ProgressSink, Summary, run_batch
from .worker import crash_row, error_row, judge_chunk, result_row

__all__ = [
    "CHUNKS_IN_FLIGHT_PER_WORKER", "COLUMNS", "CSV_COLUMNS", "DEFAULT_CHUNK_SIZE",
    "MANIFEST_SUFFIXES", "MAX_CRASHES_IN_A_ROW", "MEASURE_NAMES", "OUTPUT_SUFFIXES",
    "TAR_SUFFIXES", "URL_PATTERN", "ZIP_SUFFIXES", "BatchError", "Engine", "LocalEngine",
    "ProgressSink", "RichProgress", "Summary", "Task", "Tasks", "close_archives", "collect_tasks",
    "crash_row", "default_workers", "error_row", "judge_chunk", "open_output", "read_results",
    "result_row", "run_batch", "sigint_blocked", "summary_table",
]
