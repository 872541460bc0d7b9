"""Result files: JSONL, CSV and Parquet writers with durable appends, torn-tail repair and
compaction."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..measures import MEASURES
from ..messages import Message
from .errors import BatchError, describe


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
    raise BatchError(Message("batch.unknown_output", path=path), "--out")


#: Beside RESULTS, what the last run's listing of the inputs passed over: ``RESULTS`` plus this.
SKIPPED_SUFFIX = ".skipped.json"


def skipped_path(results: str | os.PathLike) -> Path:
    """Where :func:`write_skipped` records what the listing of RESULTS's inputs passed over."""
    results = Path(results)
    return results.with_name(results.name + SKIPPED_SUFFIX)


def write_skipped(results: str | os.PathLike, not_images: int) -> None:
    """Record beside RESULTS (``RESULTS.skipped.json``, ``{"not_images": N}``) how many files
    the last run's listing passed over as not images, so that a report on RESULTS can count
    them; written whole (temporary file, fsync, rename). Resume never reads it."""
    data = json.dumps({"not_images": int(not_images)}).encode("ascii")
    _replace_file(skipped_path(results), lambda handle: handle.write(data))


def read_skipped(results: str | os.PathLike) -> int | None:
    """The ``not_images`` count :func:`write_skipped` recorded beside RESULTS; None when there
    is no record (not batch output, an older version) or it cannot be read."""
    try:
        count = json.loads(skipped_path(results).read_bytes())["not_images"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return count if isinstance(count, int) and count >= 0 else None


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
        _replace_file(self.path, write)


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
                        raise BatchError(Message("batch.not_a_batch_row", path=self.path,
                                                 line=number), "--out")
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
            raise BatchError(Message("batch.not_a_batch_row", path=self.path, line=number),
                             "--out")
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
    # CRLF ends a record (RFC 4180): the writer then quotes any cell holding a CR or LF, which
    # with a bare LF it does not do for a CR (a file name or id with a CR broke the file).
    _HEADER = (",".join(CSV_COLUMNS) + "\r\n").encode("utf-8")

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
                            raise BatchError(Message("batch.other_columns", path=self.path),
                                             "--out")
                    elif len(record) != len(CSV_COLUMNS):
                        raise BatchError(Message("batch.not_a_batch_row", path=self.path,
                                                 line=reader.line_num), "--out")
                    else:
                        rows.append(_from_csv(record))
                    good_end = ends[end_line]
            except csv.Error as exc:
                if handle.read(1):  # not at the end: damage inside the file
                    raise BatchError(Message("batch.not_a_batch_row", str(exc),
                                             path=self.path, line=reader.line_num),
                                     "--out") from None
        if good_end == 0 and size:
            with open(self.path, "rb") as handle:
                head = handle.read(len(self._HEADER) + 1)
            if not self._HEADER.startswith(head):
                raise BatchError(Message("batch.not_a_batch_file", path=self.path), "--out")
        return rows, good_end, size

    def append(self, rows: list[dict]) -> None:
        self._write_durably(self._encode(rows))

    @staticmethod
    def _encode(rows: Iterable[dict]) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerows(_to_csv(row) for row in rows)
        return text.getvalue().encode("utf-8")

    def finish(self, compact: bool) -> None:
        if compact:
            rows = _last_per_key(self._scan()[0])
            self._replace(lambda handle: handle.write(self._HEADER + self._encode(rows)))


#: CSV columns of numbers (written with ``repr``): never read as formulas, written as they are.
_NUMBER_COLUMNS = frozenset({*(f"m_{name}" for name in MEASURE_NAMES), "face_box"})
# A cell a spreadsheet would run as a formula (CSV injection: ``=HYPERLINK(...)``, ``+cmd``,
# ``@SUM``, a leading tab or CR), possibly behind quotes that escape_formula added before.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def escape_formula(text: str) -> str:
    """``text`` for a CSV text cell: a ``'`` put before a value that starts with ``=``, ``+``,
    ``-``, ``@``, tab or CR (a spreadsheet then shows it as text instead of running it), and
    before one that starts with ``'`` and then one of those, so that :func:`unescape_formula`
    gives back exactly ``text``. JSONL and Parquet keep values raw."""
    return "'" + text if _FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    """The value :func:`escape_formula` was given."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text, 1) else text


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _to_csv(row: dict) -> list[str]:
    box = row["face_box"]
    cells = [
        row["key"], row["path"], row["id"] or "", row["birth_year"] or "", row["sha256"],
        row["decision"], ";".join(row["reasons"]),
        *(_number(row["measures"].get(name)) for name in MEASURE_NAMES),
        row["error_code"] or "", row["error_message"] or "",
        "" if box is None else " ".join(_number(v) for v in box),
        row["request_reason"], row["policy"], row["policy_version"], row["version"],
    ]
    return [cell if column in _NUMBER_COLUMNS else escape_formula(cell)
            for column, cell in zip(CSV_COLUMNS, cells)]


def _from_csv(record: list[str]) -> dict:
    cells = dict(zip(CSV_COLUMNS, map(unescape_formula, record)))  # numbers never have a '

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
            raise BatchError(Message("batch.needs_pyarrow"), "--out") from None
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
                    raise BatchError(Message("batch.cannot_read_output", describe(exc),
                                             path=self.path), "--out") from None
                source.unlink()  # a damaged part (storage failure): its inputs are judged again
                continue
            if table.schema.names != list(COLUMNS):
                raise BatchError(Message("batch.other_columns", path=source), "--out")
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
        raise BatchError(Message("batch.output_locked", path=shown), "--out") from None


def _replace_file(path: Path, write: Callable[[Any], None]) -> None:
    """Write a new version of ``path`` through ``write(binary_handle)`` to a temporary file,
    fsync and rename it over ``path``."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


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
