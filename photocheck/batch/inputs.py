"""Inputs of a batch run: :class:`Task` (one image and how to read its bytes), the archive
cache of a process, and :func:`collect_tasks` (folders, globs, archives, manifests, URLs)."""

from __future__ import annotations

import bz2
import contextlib
import csv
import glob
import gzip
import hashlib
import itertools
import logging
import lzma
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..errors import ErrorCode, PhotocheckError
from ..limits import LIMITS_ENV, Limits, chunks_at_most
from ..load import IMAGE_SUFFIXES, open_image_file
from ..messages import Message
from .errors import BatchError, describe

log = logging.getLogger(__name__)


#: An INPUT that is an fsspec URL (``s3://bucket/arsip/``, ``file:///mnt/arsip``).
URL_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+://")

ZIP_SUFFIXES: tuple[str, ...] = (".zip",)
TAR_SUFFIXES: tuple[str, ...] = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz",
                                 ".txz")
MANIFEST_SUFFIXES: tuple[str, ...] = (".csv",)


# --------------------------------------------------------------------------------------------
# Tasks: one input image and how to read its bytes


@dataclass(frozen=True)
class Task:
    """One input image. Small and picklable: it names the bytes, it does not hold them.

    ``kind`` says how :meth:`read_bytes` gets them: ``"file"`` reads ``file``; ``"url"`` reads the
    fsspec URL ``file``; ``"zip"`` reads member ``member`` of the zip archive ``file``; ``"tar"``
    reads ``size`` bytes at ``offset`` of the (possibly compressed) tar archive ``file``.
    Archives are re-opened in the worker and kept open there for the next chunk (a few per
    process). ``refused`` (set while listing: an archive or manifest over a count limit) is
    the message of a ``too_large`` error given instead of any bytes.

    Reading is bounded by :class:`~photocheck.limits.Limits`: a size declared over the byte
    limit (the file system's, a zip or tar header's), a zip member compressed more than a photo
    can be, or a stream that passes the limit while read is ``too_large``, and never more than
    the limit plus one byte is read.
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
    refused: str | None = None

    def read_bytes(self, limits: Limits | None = None) -> bytes:
        """The encoded image. Raises :class:`PhotocheckError` (``file_not_found``,
        ``unreadable``, ``too_large``) and nothing else."""
        parts: list[bytes] = []
        self._stream(limits or Limits.load(), parts.append)
        return b"".join(parts)

    def sha256(self, limits: Limits | None = None) -> str:
        """SHA-256 (hex) of the encoded image, read in chunks: memory stays flat. Raises as
        :meth:`read_bytes` does (an input over the limit is refused, not read)."""
        digest = hashlib.sha256()
        self._stream(limits or Limits.load(), digest.update)
        return digest.hexdigest()

    def row_sha256(self, limits: Limits | None = None) -> str:
        """The SHA-256 a result row records: :meth:`sha256`, or ``""`` for an input that cannot
        be read or is refused (resume then takes it as done while it stays so)."""
        try:
            return self.sha256(limits)
        except PhotocheckError:
            return ""

    def _stream(self, limits: Limits, take: Callable[[bytes], Any]) -> None:
        """Hand the bytes to ``take`` chunk by chunk; every failure a :class:`PhotocheckError`."""
        try:
            for chunk in self._chunks(limits):
                take(chunk)
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
                                  f"cannot read {self.path}: {describe(exc)}") from None

    def _chunks(self, limits: Limits) -> Iterator[bytes]:
        most = limits.max_image_bytes
        if self.refused is not None:
            raise PhotocheckError(ErrorCode.TOO_LARGE, self.refused)
        if self.kind == "file":
            with open_image_file(self.file, max_bytes=most, shown=self.path) as handle:
                yield from chunks_at_most(handle, most, self.path)
        elif self.kind == "zip":
            with _cached_archive("zip", self.file) as archive:
                info = archive.getinfo(self.member)
                limits.check_member(info.file_size, info.compress_size, self.path)
                with archive.open(info) as member:
                    yield from chunks_at_most(member, most, self.path)
        elif self.kind == "url":
            import fsspec

            with fsspec.open(self.file, "rb") as handle:
                yield from chunks_at_most(handle, most, self.path)
        elif self.kind == "tar":
            limits.check_image_bytes(self.size, self.path)
            with _cached_archive("tar", self.file) as stream:
                stream.seek(self.offset)
                yield from chunks_at_most(stream, most, self.path, self.size)
        else:
            raise PhotocheckError(ErrorCode.INTERNAL, f"unknown task kind {self.kind!r}")


# Open archives of this process, by (pid, kind, absolute path); the oldest closes beyond a few.
_ARCHIVES_KEPT = 4
_archives: dict[tuple[int, str, str], Any] = {}


@contextlib.contextmanager
def _cached_archive(kind: str, file: str):
    """An open ZipFile (kind "zip") or a seekable decompressed stream (kind "tar"), kept for
    the next task of this process. Dropped when a read fails (not when a member is refused), so
    the next read re-opens it.

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
    except PhotocheckError:  # a member refused (too large): the archive itself is fine
        raise
    except BaseException:
        _close_quietly(_archives.pop(cache_key, None))
        raise


def _open_tar_stream(file: str):
    """The uncompressed bytes of a (possibly gzip, bzip2 or xz compressed) tar archive as a
    seekable stream."""
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


class Tasks(list):
    """The tasks of :func:`collect_tasks` (a list of :class:`Task`). ``not_images`` counts the
    files the listing passed over for their name: in a folder, a glob's matches, an archive or
    a URL folder, those without an image suffix (``notes.txt``, ``Thumbs.db``) or that are
    macOS metadata (``._a.jpg``); each file once. A file named as an input is never passed
    over (a non-image becomes an ``error`` row)."""

    not_images: int = 0


@dataclass(frozen=True)
class _NotImage:
    """A file the listing passed over: its key, as a :class:`Task` would have."""

    key: str


def collect_tasks(inputs: Sequence[str | os.PathLike],
                  warn: Callable[[Message], None] | None = None, *,
                  limits: Limits | None = None) -> Tasks:
    """The tasks named by INPUTs (see :mod:`photocheck.batch`), duplicates removed (first kept),
    and the count of files passed over as not images (:class:`Tasks`).

    Raises :class:`BatchError` for an archive or manifest that cannot be read, or a manifest
    without a ``path`` column. ``warn`` receives notes that do not stop the run (an input that
    holds no image, a damaged archive whose first members could be listed), as
    :class:`~photocheck.messages.Message` (English as a str; ``.text(lang)`` for a reader).
    An archive or manifest over a count limit of ``limits`` (default :meth:`Limits.load`)
    becomes one task refused as ``too_large``: an error row, the run goes on.
    """
    warn = warn or (lambda message: log.warning("%s", message))
    limits = limits or default_limits()
    tasks = Tasks()
    seen: set[str] = set()
    passed_over: set[str] = set()
    for raw in inputs:
        text = os.fspath(raw)
        found = 0
        for task in _expand(text, warn, limits):
            if isinstance(task, _NotImage):
                passed_over.add(task.key)
                continue
            found += 1
            if task.key not in seen:
                seen.add(task.key)
                tasks.append(task)
        if not found:
            warn(Message("cli.no_images_in", where=text))
    tasks.not_images = len(passed_over)
    return tasks


def default_limits() -> Limits:
    """:meth:`Limits.load`; a broken limits file is a usage error (:class:`BatchError`)."""
    try:
        return Limits.load()
    except ValueError as exc:
        raise BatchError(Message("batch.bad_limits", str(exc)), LIMITS_ENV) from None


#: What the listing of one INPUT yields: an image's task, or a file passed over.
_Listed = Task | _NotImage


def _expand(text: str, warn: Callable[[Message], None], limits: Limits) -> Iterator[_Listed]:
    if URL_PATTERN.match(text) and not os.path.lexists(text):
        yield from _url_files(text)
    elif os.path.isdir(text):
        yield from _folder(text)
    elif os.path.lexists(text):
        yield from _single(text, warn, limits, from_glob=False)
    elif glob.has_magic(text):
        for match in sorted(glob.glob(text, recursive=True)):
            if os.path.isfile(match):
                yield from _single(match, warn, limits, from_glob=True)
    elif _has_suffix(text, ZIP_SUFFIXES + TAR_SUFFIXES + MANIFEST_SUFFIXES):
        raise BatchError(Message("batch.no_such_file", path=text))
    else:  # a missing image: an error row, as `photocheck check` reports it
        yield _file_task(text)


def _single(text: str, warn: Callable[[Message], None], limits: Limits, *,
            from_glob: bool) -> Iterator[_Listed]:
    if _has_suffix(text, ZIP_SUFFIXES):
        yield from _zip_members(text, limits)
    elif _has_suffix(text, TAR_SUFFIXES):
        yield from _tar_members(text, warn, limits)
    elif _has_suffix(text, MANIFEST_SUFFIXES):
        yield from _manifest(text, warn, limits)
    elif not from_glob or _is_image_name(text):
        yield _file_task(text)
    else:
        yield _NotImage(os.path.abspath(text))


def _file_task(text: str, *, shown: str | None = None, id: str | None = None,
               birth_year: str | None = None) -> Task:
    """A file input; one named by a manifest row with an id is keyed by the file and the id
    (``/abs/a.jpg#id=K-1``), so that rows naming one file for several people stay apart."""
    absolute = os.path.abspath(text)
    return Task(key=absolute if id is None else f"{absolute}#id={id}",
                path=text if shown is None else shown, id=id, birth_year=birth_year,
                kind="file", file=absolute)


def _folder(top: str) -> Iterator[_Listed]:
    for folder, subfolders, names in os.walk(top):
        subfolders.sort()
        subfolders[:] = [name for name in subfolders if name != "__MACOSX"]
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            yield _file_task(path) if _is_image_name(name) else _NotImage(os.path.abspath(path))


def _zip_members(text: str, limits: Limits) -> Iterator[_Listed]:
    absolute = os.path.abspath(text)
    try:
        with open(text, "rb") as handle:  # before its directory is read into memory
            declared = _declared_zip_entries(handle)
        if declared > limits.max_archive_members:
            yield _refused(text, f"{declared} members by its directory", "max_archive_members",
                           limits.max_archive_members)
            return
        with zipfile.ZipFile(text) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BatchError(Message("batch.bad_zip", describe(exc), path=text)) from None
    if len(infos) > limits.max_archive_members:
        yield _refused(text, f"{len(infos)} members", "max_archive_members",
                       limits.max_archive_members)
        return
    for info in infos:
        if info.is_dir():
            continue
        key = f"{absolute}!{info.filename}"
        if _is_image_name(info.filename):
            yield Task(key=key, path=f"{text}!{info.filename}", kind="zip", file=absolute,
                       member=info.filename)
        else:
            yield _NotImage(key)


def _tar_members(text: str, warn: Callable[[Message], None],
                 limits: Limits) -> Iterator[_Listed]:
    """Image members of a tar archive. Listing reads the headers only (a compressed archive is
    decompressed in passing, in chunks: memory stays flat however large a member is); the
    members are yielded once the archive proved to be within the member count limit."""
    absolute = os.path.abspath(text)
    damage = (OSError, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)
    try:
        stream = _open_tar_stream(text)
        try:
            archive = tarfile.open(fileobj=stream, mode="r:")
        except BaseException:
            stream.close()
            raise
    except damage as exc:
        raise BatchError(Message("batch.bad_tar", describe(exc), path=text)) from None
    tasks: list[_Listed] = []
    with archive, contextlib.closing(stream):
        try:
            count = 0
            while (member := archive.next()) is not None:
                archive.members = []  # tarfile keeps every header it read: only ours matter
                count += 1
                if count > limits.max_archive_members:
                    yield _refused(text, f"more than {limits.max_archive_members} members",
                                   "max_archive_members", limits.max_archive_members)
                    return
                if not member.isreg():
                    continue
                key = f"{absolute}!{member.name}"
                if not member.issparse() and _is_image_name(member.name):
                    tasks.append(Task(key=key, path=f"{text}!{member.name}", kind="tar",
                                      file=absolute, member=member.name,
                                      offset=member.offset_data, size=member.size))
                else:
                    tasks.append(_NotImage(key))
        except damage as exc:
            images = sum(isinstance(task, Task) for task in tasks)
            warn(Message("batch.tar_damaged", describe(exc), path=text, count=images))
    yield from tasks


def _refused(text: str, found: str, limit_name: str, limit: int) -> Task:
    """The task of an archive or manifest refused whole for its count: a ``too_large`` row."""
    absolute = os.path.abspath(text)
    return Task(key=absolute, path=text, kind="file", file=absolute,
                refused=f"{text} has {found}, more than the limit of {limit} ({limit_name}); "
                        "split it")


def _declared_zip_entries(handle: BinaryIO) -> int:
    """How many entries a zip's central directory holds by its end record (zip64 too), read
    from the file's tail before the directory is read into memory: the count it declares, or
    its size / 1 KiB if more (an end record that understates its count cannot hide a huge
    directory: real entries take 50-300 bytes). 0 when no end record is found (then
    :class:`zipfile.ZipFile` reports the damage)."""
    end = zipfile._EndRecData(handle)  # a stable helper of the standard library since 2.6
    if not end:
        return 0
    return max(int(end[zipfile._ECD_ENTRIES_TOTAL]), int(end[zipfile._ECD_SIZE]) // 1024)


def _manifest(text: str, warn: Callable[[Message], None], limits: Limits) -> Iterator[Task]:
    """Rows of a CSV manifest: ``path`` (relative to the CSV's folder), optional ``id`` and
    ``birth_year``. Column names are matched case-insensitively; UTF-8 with or without BOM.

    Standard CSV: cells separated by ``,``, ``;`` (Excel in an Indonesian locale) or tab, the
    one that splits the header into a ``path`` column (into the most columns when several do,
    ``,`` first on a tie); ``"`` quotes a cell, ``""`` inside quotes is one ``"``.

    Each row is its own record, keyed by its file and its id (:func:`_file_task`): rows
    naming one file with different ids are all judged. A duplicate id is not refused: the same
    id on the same file again is the same record (the first row is used, a warning names the
    line), the same id on another file is another record (judged; a warning names both lines).
    """
    base = os.path.dirname(text)
    try:
        with open(text, newline="", encoding="utf-8-sig") as handle:
            delimiter = _manifest_delimiter(handle.readline())
            handle.seek(0)
            reader = csv.reader(handle, csv.excel, delimiter=delimiter)
            names = [name.strip().lower() for name in next(reader, [])]
            if "path" not in names:
                raise BatchError(Message("batch.manifest_no_path", path=text,
                                         columns=", ".join(names) or "-"))
            column = {name: names.index(name) for name in ("path", "id", "birth_year")
                      if name in names}
            rows = list(itertools.islice(reader, limits.max_manifest_rows + 1))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BatchError(Message("batch.bad_manifest", describe(exc), path=text)) from None
    if len(rows) > limits.max_manifest_rows:
        yield _refused(text, f"more than {limits.max_manifest_rows} rows", "max_manifest_rows",
                       limits.max_manifest_rows)
        return

    def cell(row: list[str], name: str) -> str | None:
        index = column.get(name)
        value = row[index].strip() if index is not None and index < len(row) else ""
        return value or None

    first_line: dict[str, int] = {}  # task key -> line of its first row
    id_line: dict[str, int] = {}  # id -> line of its first row
    for number, row in enumerate(rows, 2):
        if not any(value.strip() for value in row):
            continue
        shown = cell(row, "path")
        if shown is None:
            warn(Message("batch.manifest_row_no_path", path=text, line=number))
            continue
        id = cell(row, "id")
        task = _file_task(os.path.join(base, shown), shown=shown, id=id,
                          birth_year=cell(row, "birth_year"))
        if task.key in first_line:
            warn(Message("batch.manifest_row_repeated", path=text, line=number,
                         first=first_line[task.key]))
            continue
        first_line[task.key] = number
        if id is not None:
            if id in id_line:
                warn(Message("batch.manifest_id_twice", path=text, line=number, id=id,
                             first=id_line[id]))
            id_line.setdefault(id, number)
        yield task


#: Cell separators a manifest may use, in the order a tie is decided.
MANIFEST_DELIMITERS: tuple[str, ...] = (",", ";", "\t")


def _manifest_delimiter(header: str) -> str:
    """The separator of MANIFEST_DELIMITERS that splits ``header`` into a ``path`` column and
    the most columns."""

    def fit(delimiter: str) -> tuple[bool, int]:
        cells = next(csv.reader([header], csv.excel, delimiter=delimiter), [])
        return "path" in (cell.strip().lower() for cell in cells), len(cells)

    return max(MANIFEST_DELIMITERS, key=fit)


def _url_files(text: str) -> Iterator[_Listed]:
    """Images at an fsspec URL (``file://``, ``s3://`` with s3fs installed, ...): a folder
    (recursive), a glob pattern, or one file. Archives and manifests must be local paths."""
    try:
        import fsspec
    except ImportError:
        raise BatchError(Message("batch.needs_fsspec", path=text)) from None
    try:
        fs, root = fsspec.core.url_to_fs(text)
        passed_over: list[str] = []
        if glob.has_magic(root):  # (a glob may match folders: only image names are counted)
            names = [name for name in sorted(fs.glob(root)) if _is_image_name(name)]
        elif fs.isdir(root):
            names = sorted(fs.find(root))
            passed_over = [name for name in names if not _is_image_name(name)]
            names = [name for name in names if _is_image_name(name)]
        else:  # one file; a missing one becomes an error row
            names = [root]
    except BatchError:
        raise
    except Exception as exc:  # unknown protocol, its package missing, no access
        raise BatchError(Message("batch.cannot_list", describe(exc), path=text)) from None
    for name in passed_over:
        yield _NotImage(fs.unstrip_protocol(name))
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
