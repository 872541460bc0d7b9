"""One self-contained HTML report on a file of results (batch output or ``check --json``).

    >>> write_report(Path("results.jsonl"), Path("report.html"))            # doctest: +SKIP

The report opens offline: CSS and a few lines of script are inline, plots are PNG and
thumbnails JPEG, both embedded as ``data:`` URIs; nothing refers to a network address. Text is
in Bahasa Indonesia by default (``lang="en"`` for English): labels of decisions, reasons,
errors and measures come from :mod:`photocheck.i18n`, the words around them from :data:`UI`;
numbers use the reader's decimal mark. The English technical ``error_message`` of a row stays in
the results file. Every string taken from the data (paths, ids, versions) is HTML-escaped.
Colours are :mod:`photocheck.palette`'s, always beside words (and line styles on the plots).

Sections:

1. header: title, number of photos, date generated, policy and photocheck versions seen,
   unreadable lines, files that were not images, and the files a batch passed over as not
   images by their name (``RESULTS.skipped.json``, written by ``batch``);
2. counts per decision (only those that occur), per reason and per error code, in words, with
   shares of all photos;
3. audit finding: identical photos (the same SHA-256 of the bytes under different paths or
   ids: exact copies only, not look-alikes), when the results carry ``sha256`` (batch output);
4. histograms of ``edge_blur_px`` and ``laplacian_variance`` by decision (matplotlib, Agg);
5. a gallery of flagged photos (``eligible``, ``review``, ``error``), at most ``worst`` per
   decision, each in a scrolling box of bounded height, thumbnails loaded lazily, each card
   linking to its row of the detail table; the detail table is paged (:data:`PAGE_ROWS` rows a
   page; without script every page shows), each row's measures collapsed.

The page's height is bounded whatever the number of rows: 300,000 rows give the same page as
300 (``benchmarks/report_scale.py`` measures generation time, size, memory and the time to the
first rendered page in Chromium).

Gallery order ("worst first"). Rows carry no thresholds, so the order is by a measure, not by a
margin past a threshold:

* ``eligible`` and ``review``: rows with no ``edge_blur_px`` first (nothing could be measured on
  the face, e.g. no face found), then ``edge_blur_px`` descending (blurriest first); ties by
  ``laplacian_variance`` ascending, then file order;
* ``error``: file order.

Counts and plots read every row once, streaming (300,000 rows take seconds and hold only two
floats per row); only the gallery rows are kept, and only their small JPEG thumbnails are held in
memory. ``thumbnails=False`` embeds no image of a photo at all (personal data): the gallery
then lists the details only.

Paths are read as given, then relative to the results file's folder. ``archive.zip!member.jpg``
names a member of a zip or tar archive (``.tar``, ``.tar.gz``, ...); members of one tar archive
are read in a single pass. A missing or undecodable image gets a placeholder.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import math
import tarfile
import warnings
import zipfile
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any

from . import i18n, palette
from .batch.outputs import read_skipped, unescape_formula
from .errors import ErrorCode, PhotocheckError
from .limits import Limits, read_at_most
from .load import open_image_file
from .measures import MEASURES, unit_of
from .schema import Decision, Reason

__all__ = ["UI", "ResultRows", "iter_results", "read_results", "write_report"]

THUMBNAIL_SIZE = 160  # px, longer side
THUMBNAIL_QUALITY = 80  # JPEG
FLAGGED = (Decision.ELIGIBLE.value, Decision.REJECTED.value, Decision.REVIEW.value,
           Decision.ERROR.value)
DECISIONS = tuple(d.value for d in Decision)
PLOTTED = ("edge_blur_px", "laplacian_variance")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
COLOURS = {d.value: palette.decision_hex(d) for d in Decision}
#: Plot line styles by decision: the histograms stay readable printed in black and white.
LINE_STYLES = {"eligible": "-", "rejected": "-", "not_eligible": "--", "accepted": "--",
               "review": "-.", "error": ":"}
THRESHOLD_COLOURS = {"eligible": palette.hex_colour(palette.DEFECT),
                     "review": palette.hex_colour(palette.REVIEW)}
PAGE_ROWS = 25  # rows per page of the detail table
MAX_DUPLICATE_GROUPS = 100  # groups of identical photos listed (all are counted)
MAX_DUPLICATE_PATHS = 10  # paths listed per group (all are counted)

UI: dict[str, dict[str, str]] = {
    "id": {
        "title": "Laporan pemeriksaan foto KTP-el",
        "photos": "Jumlah foto",
        "generated": "Tanggal dibuat",
        "source": "Berkas hasil",
        "policies": "Versi kebijakan",
        "versions": "Versi photocheck",
        "skipped": "Baris tidak terbaca (dilewati)",
        "unknown": "tidak diketahui",
        "summary": "Ringkasan",
        "decisions": "Keputusan",
        "decision": "Keputusan",
        "code": "Kode",
        "count": "Jumlah",
        "share": "Persentase",
        "total": "Total",
        "reasons": "Alasan",
        "reason": "Alasan",
        "reasons_note": (
            "Satu foto dapat memiliki beberapa alasan; persentase terhadap seluruh foto."),
        "no_reasons": "Tidak ada alasan.",
        "errors": "Tidak dapat diperiksa, menurut penyebab",
        "error": "Penyebab",
        "no_errors": "Semua foto dapat diperiksa.",
        "not_images": "Berkas yang bukan gambar",
        "passed_over": "Berkas lain yang dilewati batch (bukan berkas gambar menurut namanya)",
        "sharpness": "Ketajaman",
        "count_axis": "Jumlah foto",
        "log_scale": "skala log",
        "no_values": "Tidak ada nilai",
        "without_value": "tanpa nilai",
        "clipped": "Nilai di atas {limit} dihitung pada batang terakhir.",
        "clipped_low": "Nilai di bawah {limit} dihitung pada batang pertama.",
        "plot_caption": (
            "Histogram {label} ({unit}) menurut keputusan, seluruh foto yang memiliki nilai."),
        "threshold_note": "Garis putus-putus: ambang kebijakan {policy}.",
        "threshold_eligible": "ambang memenuhi syarat",
        "threshold_review": "ambang pemeriksaan",
        "plots_unavailable": "Grafik tidak tersedia: matplotlib tidak terpasang.",
        "gallery": "Galeri foto yang ditandai",
        "showing": "Menampilkan {shown} dari {total} foto.",
        "no_photos": "Tidak ada foto.",
        "thumbnails_off": "Gambar mini dinonaktifkan: laporan ini tidak memuat gambar foto.",
        "placeholder": "Gambar tidak tersedia",
        "order_note": (
            "Urutan galeri (terburuk dahulu): untuk 'memenuhi syarat' dan 'perlu pemeriksaan', "
            "foto tanpa nilai lebar kabur (misalnya wajah tidak ditemukan) lebih dahulu, lalu "
            "lebar kabur garis wajah dari yang terbesar; yang tidak dapat diperiksa menurut "
            "urutan berkas."),
        "details": "Rincian",
        "path": "Berkas",
        "id": "ID",
        "measures": "Ukuran",
        "measure": "Ukuran",
        "value": "Nilai",
        "unit": "Satuan",
        "face_box": "Kotak wajah (x y lebar tinggi, px)",
        "back": "kembali ke galeri",
        "no_measures": "Tidak ada ukuran.",
        "number": "No.",
        "show_measures": "Lihat ukuran",
        "page_of": "Halaman {page} dari {pages}",
        "previous": "Sebelumnya",
        "next": "Berikutnya",
        "duplicates": "Temuan audit: foto identik",
        "duplicates_found": (
            "{groups} kelompok foto identik ({rows} baris): berkas dengan isi yang sama persis "
            "(SHA-256 sama) tercatat dengan nama atau ID berbeda. Periksa apakah satu foto "
            "dipakai untuk beberapa orang."),
        "duplicates_none": "Tidak ada foto identik dengan nama atau ID berbeda.",
        "duplicates_note": (
            "Hanya salinan persis (byte sama) yang dikenali; foto yang mirip atau dipindai "
            "ulang tidak terdeteksi."),
        "duplicates_unknown": (
            "Berkas hasil ini tidak memuat SHA-256 (bukan keluaran batch): foto identik tidak "
            "dapat diperiksa."),
        "duplicates_shown": "Menampilkan {shown} dari {total} kelompok.",
        "more_paths": "dan {more} lainnya",
        "copies": "{count} salinan",
    },
    "en": {
        "title": "KTP-el photo check report",
        "photos": "Photos",
        "generated": "Generated on",
        "source": "Results file",
        "policies": "Policy versions",
        "versions": "photocheck versions",
        "skipped": "Unreadable lines (skipped)",
        "unknown": "unknown",
        "summary": "Summary",
        "decisions": "Decisions",
        "decision": "Decision",
        "code": "Code",
        "count": "Count",
        "share": "Share",
        "total": "Total",
        "reasons": "Reasons",
        "reason": "Reason",
        "reasons_note": "A photo may have several reasons; shares are of all photos.",
        "no_reasons": "No reasons.",
        "errors": "Could not be checked, by cause",
        "error": "Cause",
        "no_errors": "Every photo could be checked.",
        "not_images": "Files that are not images",
        "passed_over": "Other files the batch passed over (not image files by their name)",
        "sharpness": "Sharpness",
        "count_axis": "Number of photos",
        "log_scale": "log scale",
        "no_values": "No values",
        "without_value": "without value",
        "clipped": "Values above {limit} are counted in the last bin.",
        "clipped_low": "Values below {limit} are counted in the first bin.",
        "plot_caption": "Histogram of {label} ({unit}) by decision, over all photos with a value.",
        "threshold_note": "Dashed lines: thresholds of policy {policy}.",
        "threshold_eligible": "eligible threshold",
        "threshold_review": "review threshold",
        "plots_unavailable": "Plots unavailable: matplotlib is not installed.",
        "gallery": "Gallery of flagged photos",
        "showing": "Showing {shown} of {total} photos.",
        "no_photos": "No photos.",
        "thumbnails_off": "Thumbnails disabled: this report contains no photo images.",
        "placeholder": "Image not available",
        "order_note": (
            "Gallery order (worst first): for 'eligible' and 'review', photos without a blur "
            "width (e.g. no face found) first, then the blur width of the face lines from the "
            "largest; photos that could not be checked in file order."),
        "details": "Details",
        "path": "File",
        "id": "ID",
        "measures": "Measures",
        "measure": "Measure",
        "value": "Value",
        "unit": "Unit",
        "face_box": "Face box (x y width height, px)",
        "back": "back to the gallery",
        "no_measures": "No measures.",
        "number": "No.",
        "show_measures": "Show measures",
        "page_of": "Page {page} of {pages}",
        "previous": "Previous",
        "next": "Next",
        "duplicates": "Audit finding: identical photos",
        "duplicates_found": (
            "{groups} groups of identical photos ({rows} rows): files with exactly the same "
            "content (same SHA-256) recorded under different names or ids. Check whether one "
            "photo was used for several people."),
        "duplicates_none": "No identical photos under different names or ids.",
        "duplicates_note": (
            "Only exact copies (the same bytes) are found; similar or rescanned photos are not."),
        "duplicates_unknown": (
            "This results file holds no SHA-256 (not batch output): identical photos cannot be "
            "checked."),
        "duplicates_shown": "Showing {shown} of {total} groups.",
        "more_paths": "and {more} more",
        "copies": "{count} copies",
    },
}


# --------------------------------------------------------------------------------------------
# Reading results
# --------------------------------------------------------------------------------------------


class ResultRows(list):
    """The rows of a results file (a list of dicts); ``skipped`` counts lines or records that
    could not be read (a torn last line of an interrupted batch, for instance)."""

    skipped: int = 0


class _Stats:
    skipped = 0


def read_results(path: Path) -> ResultRows:
    """All rows of a results file (``.jsonl``/``.ndjson``/``.json`` lines, ``.csv``,
    ``.parquet``) as dicts with keys path, id, decision, reasons (list), measures (dict),
    error_code, error_message, face_box (x, y, w, h tuple or None), policy, policy_version,
    version, sha256 (None unless batch output). Lines that do not parse, or carry no known
    decision, are skipped and counted in the returned list's ``skipped``."""
    stats = _Stats()
    rows = ResultRows(iter_results(path, stats))
    rows.skipped = stats.skipped
    return rows


def iter_results(path: Path, stats: _Stats | None = None) -> Iterator[dict[str, Any]]:
    """The rows of :func:`read_results`, one at a time (``stats.skipped`` counts the rest)."""
    path = Path(path)
    stats = stats if stats is not None else _Stats()
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        records: Iterable[Any] = _jsonl_records(path, stats)
    elif name.endswith(".csv"):
        records = _csv_records(path)
    elif name.endswith(".parquet"):
        records = _parquet_records(path)
    else:
        raise ValueError(f"unsupported results file {path.name!r}: use .jsonl, .csv or .parquet")
    for record in records:
        row = _normalise(record) if isinstance(record, dict) else None
        if row is None:
            stats.skipped += 1
        else:
            yield row


def _jsonl_records(path: Path, stats: _Stats) -> Iterator[Any]:
    with open(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except ValueError:  # a torn line (JSONDecodeError, or UTF-8 cut mid-character)
                stats.skipped += 1


def _csv_records(path: Path) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "decision" not in (reader.fieldnames or ()):
            raise ValueError(f"{path.name}: not a results CSV (no 'decision' column)")
        for record in reader:  # batch's CSV puts a ' before cells a spreadsheet would run
            yield {name: unescape_formula(value) if isinstance(value, str) else value
                   for name, value in record.items()}


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise RuntimeError(
            "reading .parquet results needs pyarrow: pip install 'photocheck[parquet]'"
        ) from exc
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=8192):
        yield from batch.to_pylist()


def _normalise(record: dict[str, Any]) -> dict[str, Any] | None:
    """One row in the common shape, from a flat (CSV, parquet, batch) or nested (``check
    --json``) record; None when it has no known decision."""
    decision = _text(record.get("decision"))
    if decision not in DECISIONS:
        return None
    reasons = record.get("reasons")
    if isinstance(reasons, str):
        reasons = [r.strip() for r in reasons.split(";") if r.strip()]
    else:
        reasons = [str(r) for r in reasons or ()]
    measures: dict[str, float | None] = {}
    nested = record.get("measures")
    if isinstance(nested, dict):
        measures.update({str(k): _number(v) for k, v in nested.items()})
    for key, value in record.items():
        if key.startswith("m_"):
            measures[key[2:]] = _number(value)
    error = record.get("error") if isinstance(record.get("error"), dict) else {}
    face = record.get("face") if isinstance(record.get("face"), dict) else {}
    policy = record.get("policy")
    policy_name = (_text(policy.get("name")) if isinstance(policy, dict) else _text(policy))
    policy_version = _text(record.get("policy_version")) or (
        _text(policy.get("version")) if isinstance(policy, dict) else None)
    return {
        "path": _text(record.get("path")),
        "id": _text(record.get("id")),
        "decision": decision,
        "reasons": reasons,
        "measures": measures,
        "error_code": _text(record.get("error_code")) or _text(error.get("code")),
        "error_message": _text(record.get("error_message")) or _text(error.get("message")),
        "face_box": _box(record.get("face_box", face.get("box"))),
        "policy": policy_name,
        "policy_version": policy_version,
        "version": _text(record.get("version")),
        "sha256": _text(record.get("sha256")),
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value)
    return text if text != "" else None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _box(value: Any) -> tuple[float, float, float, float] | None:
    if value is None or value == "":
        return None
    parts = value.split() if isinstance(value, str) else value
    try:
        box = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        return None
    return box if len(box) == 4 and all(map(math.isfinite, box)) else None  # type: ignore


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def _gallery_key(row: dict[str, Any], seq: int) -> tuple:
    """Smaller is worse (see the module docstring)."""
    if row["decision"] == Decision.ERROR.value:
        return (seq,)
    blur = row["measures"].get("edge_blur_px")
    lap = row["measures"].get("laplacian_variance")
    lap_key = lap if lap is not None else math.inf
    if blur is None:
        return (0, 0.0, lap_key, seq)
    return (1, -blur, lap_key, seq)


class _Summary:
    """Everything the report shows, gathered in one pass over the rows."""

    def __init__(self, worst: int) -> None:
        self.worst = worst
        self.total = 0
        self.decisions: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.policies: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.values = {m: {d: array("d") for d in DECISIONS} for m in PLOTTED}
        self.missing = {m: Counter() for m in PLOTTED}
        self._candidates: dict[str, list[tuple[tuple, dict]]] = {d: [] for d in FLAGGED}
        # Identical photos: the first name of each digest (32 raw bytes: half the memory of
        # the hex), and every name of a digest seen again.
        self.hashed = 0
        self._first_name: dict[bytes, str] = {}
        self._copies: dict[bytes, list[str]] = {}

    def add(self, row: dict[str, Any]) -> None:
        decision = row["decision"]
        self.total += 1
        self.decisions[decision] += 1
        self.reasons.update(dict.fromkeys(row["reasons"], 1))
        if decision == Decision.ERROR.value:
            self.errors[row["error_code"] or ""] += 1
        policy = " ".join(p for p in (row["policy"], row["policy_version"]) if p)
        self.policies[policy] += 1
        self.versions[row["version"] or ""] += 1
        self._add_digest(row)
        for name in PLOTTED:
            value = row["measures"].get(name)
            if value is None:
                self.missing[name][decision] += 1
            else:
                self.values[name][decision].append(value)
        if self.worst and decision in self._candidates:
            pool = self._candidates[decision]
            pool.append((_gallery_key(row, self.total), row))
            if len(pool) >= 4 * self.worst + 64:  # prune: keep the worst ``worst``
                pool.sort(key=lambda item: item[0])
                del pool[self.worst:]

    def _add_digest(self, row: dict[str, Any]) -> None:
        try:
            digest = bytes.fromhex(row["sha256"] or "")
        except ValueError:
            return
        if len(digest) != 32:
            return
        self.hashed += 1
        name = row["id"] or row["path"] or "?"
        if row["id"] and row["path"]:
            name = f"{row['path']} ({row['id']})"
        first = self._first_name.setdefault(digest, name)
        if first != name:
            self._copies.setdefault(digest, [first]).append(name)

    def identical(self) -> list[tuple[str, list[str]]]:
        """Groups of identical photos under different names: (sha256 hex, names), biggest
        first."""
        groups = [(digest.hex(), names) for digest, names in self._copies.items()]
        return sorted(groups, key=lambda group: (-len(group[1]), group[1][0]))

    def gallery(self) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for decision, pool in self._candidates.items():
            pool.sort(key=lambda item: item[0])
            out[decision] = [row for _, row in pool[: self.worst]]
        return out


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------


def _shipped_thresholds(summary: _Summary, measure: str) -> tuple[str, list[tuple[str, float]]]:
    """Thresholds of ``measure`` in the shipped policy, when every row was judged by it."""
    from .policy import Policy

    try:
        policy = Policy.load()
    except (OSError, ValueError):
        return "", []
    label = f"{policy.name} {policy.version}"
    if not summary.policies or not set(summary.policies) <= {label, policy.version}:
        return "", []
    lines = []
    for rule in policy.rules:
        if rule.measure != measure:
            continue
        for kind, value in (("eligible", rule.eligible_above), ("eligible", rule.eligible_below),
                            ("review", rule.review_above), ("review", rule.review_below)):
            if value is not None:
                lines.append((kind, float(value)))
    return label, lines


def _plot(summary: _Summary, measure: str, lang: str) -> tuple[str, str]:
    """(base64 PNG, caption) of the histogram of ``measure`` by decision."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ui = UI[lang]
    label = i18n.measure_label(measure, lang)
    unit = unit_of(measure)
    series = {d: np.frombuffer(summary.values[measure][d], dtype=np.float64) for d in DECISIONS}
    everything = np.concatenate(list(series.values()))
    log_x = measure == "laplacian_variance"
    notes = []

    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if everything.size:
        if log_x:
            positive = everything[everything > 0]
            lo = float(np.percentile(positive, 0.1) if positive.size >= 1000
                       else positive.min()) if positive.size else 1.0
            if positive.size and lo > float(everything.min()):
                notes.append(ui["clipped_low"].format(limit=_fmt(lo, lang)))
            hi = float(positive.max()) if positive.size else 10.0
            hi = hi if hi > lo else lo * 10
            edges = np.geomspace(lo, hi, 41)
        else:
            lo = float(everything.min())
            # a few outliers must not squash 300,000 values into one bin
            hi = float(np.percentile(everything, 99.9) if everything.size >= 1000
                       else everything.max())
            if hi < float(everything.max()):
                notes.append(ui["clipped"].format(limit=_fmt(hi, lang)))
            hi = hi if hi > lo else lo + 1.0
            edges = np.linspace(lo, hi, 41)
        counts = {}
        for decision, values in series.items():
            if values.size:
                counts[decision] = np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0]
        sizes = [series[d].size for d in counts]
        log_y = max(sizes) > 20 * min(sizes)
        for decision, hist in counts.items():
            missing = summary.missing[measure][decision]
            extra = f", {_fmt(missing, lang)} {ui['without_value']}" if missing else ""
            ax.stairs(hist, edges, color=COLOURS[decision], linewidth=1.6,
                      linestyle=LINE_STYLES.get(decision, "-"),
                      label=f"{i18n.decision_label(decision, lang)} "
                            f"(n={_fmt(series[decision].size, lang)}{extra})")
        policy, lines = _shipped_thresholds(summary, measure)
        for kind, value in lines:
            ax.axvline(value, color=THRESHOLD_COLOURS[kind], linestyle="--", linewidth=1,
                       label=f"{ui['threshold_' + kind]} = {_fmt(value, lang)}")
        if lines:
            notes.append(ui["threshold_note"].format(policy=policy))
        # linear axes in the report's number format (id: 1.600 and 0,5)
        numbers = FuncFormatter(lambda value, _: _fmt(round(value, 6), lang))
        if log_x:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_formatter(numbers)
        if log_y:
            ax.set_yscale("log")
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_formatter(numbers)
        ax.legend(loc="best", fontsize="small")
    else:
        log_y = False
        ax.text(0.5, 0.5, ui["no_values"], ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"{label} ({unit})" if unit else label)
    ax.set_ylabel(ui["count_axis"] + (f" ({ui['log_scale']})" if log_y else ""))
    ax.set_title(label)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    caption = " ".join([ui["plot_caption"].format(label=label, unit=unit), *notes])
    return base64.b64encode(buffer.getvalue()).decode("ascii"), caption


# --------------------------------------------------------------------------------------------
# Thumbnails
# --------------------------------------------------------------------------------------------


def _locate(path: str | None, base: Path) -> tuple[Path, str | None] | None:
    """(file, None) for a plain file, (archive, member) for ``archive!member``, None if neither
    exists. Tried as given, then relative to ``base``."""
    if not path:
        return None

    def candidates(text: str) -> Iterator[Path]:
        yield Path(text)
        if not Path(text).is_absolute():
            yield base / text

    for candidate in candidates(path):
        if candidate.is_file():
            return candidate, None
    mark = path.find("!")
    while mark > 0:
        archive, member = path[:mark], path[mark + 1:]
        for candidate in candidates(archive):
            if member and candidate.is_file():
                return candidate, member
        mark = path.find("!", mark + 1)
    return None


def _member_name(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _thumbnail(data: bytes, box: tuple[float, float, float, float] | None,
               colour: str, limits: Limits) -> str | None:
    """Base64 JPEG thumbnail (longer side <= THUMBNAIL_SIZE) with the face box drawn, or None
    when ``data`` is not a decodable image or has more pixels than the checker may decode
    (``limits.max_pixels``, read from the header: a 13000 x 13000 PNG took 2 GB)."""
    from PIL import Image, ImageDraw, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                limits.check_pixels(width, height, "image")
                if img.getexif().get(0x0112) in (5, 6, 7, 8):
                    width, height = height, width
                img.draft("RGB", (2 * THUMBNAIL_SIZE, 2 * THUMBNAIL_SIZE))
                img = ImageOps.exif_transpose(img).convert("RGB")
                img.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
                if box is not None and width:
                    scale = img.width / width
                    x, y, w, h = (v * scale for v in box)
                    ImageDraw.Draw(img).rectangle([x, y, x + w, y + h], outline=colour, width=2)
                out = io.BytesIO()
                img.save(out, format="JPEG", quality=THUMBNAIL_QUALITY)
    except Exception:  # any undecodable input gets a placeholder, never a failed report
        return None
    return base64.b64encode(out.getvalue()).decode("ascii")


def _thumbnails(rows: list[dict[str, Any]], base: Path,
                limits: Limits | None = None) -> dict[int, str]:
    """Thumbnails by ``id(row)`` for the rows whose image could be read within ``limits``
    (default :meth:`Limits.load`): the bytes and pixels the checker would accept, so that an
    image batch refused as too large is not decoded here either (it gets a placeholder)."""
    limits = limits or Limits.load()
    most = limits.max_image_bytes
    plain: list[tuple[dict, Path]] = []
    archives: dict[Path, list[tuple[dict, str]]] = {}
    for row in rows:
        found = _locate(row["path"], base)
        if found is None:
            continue
        source, member = found
        if member is None:
            plain.append((row, source))
        else:
            archives.setdefault(source, []).append((row, _member_name(member)))

    out: dict[int, str] = {}

    def add(row: dict, data: bytes | None) -> None:
        if data is not None:
            thumb = _thumbnail(data, row["face_box"], COLOURS[row["decision"]], limits)
            if thumb is not None:
                out[id(row)] = thumb

    for row, source in plain:
        try:
            with open_image_file(source, max_bytes=most) as handle:
                data = read_at_most(handle, most, source.name)
        except PhotocheckError:
            continue  # placeholder
        add(row, data)
    for archive, wanted in archives.items():
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as zf:
                    names = {_member_name(n): n for n in zf.namelist()}
                    for row, member in wanted:
                        info = zf.getinfo(names[member]) if member in names else None
                        if info is None:
                            continue
                        try:
                            limits.check_member(info.file_size, info.compress_size, member)
                            with zf.open(info) as stream:
                                add(row, read_at_most(stream, most, member))
                        except Exception:  # too large, encrypted, bad CRC, ...
                            continue
            elif tarfile.is_tarfile(archive):
                pending: dict[str, list[dict]] = {}
                for row, member in wanted:
                    pending.setdefault(member, []).append(row)
                with tarfile.open(archive, "r|*") as tf:  # one streaming pass
                    for info in tf:
                        rows_here = pending.pop(_member_name(info.name), None)
                        if rows_here and info.isfile() and info.size <= most:
                            data = tf.extractfile(info).read()  # type: ignore[union-attr]
                            for row in rows_here:
                                add(row, data)
                        if not pending:
                            break
        except Exception:  # a damaged archive: members not read yet get placeholders
            continue
    return out


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1em 1.5em 3em; color: #1c2833; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #d5d8dc; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-top: 1.5em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #d5d8dc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f3f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; }
code { font-size: .92em; background: #f4f6f6; padding: 0 .2em; }
.note { color: #566573; font-size: .92em; }
.finding { border: 2px solid #e69f00; border-left-width: 8px; padding: .4em 1em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #566573; font-size: .92em; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em;
          border-radius: 2px; vertical-align: baseline; }
.gallery-box { max-height: 560px; overflow-y: auto; border: 1px solid #d5d8dc; padding: 6px; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; }
.card { width: 170px; border: 1px solid #d5d8dc; border-radius: 4px; padding: 4px;
        text-decoration: none; color: inherit; font-size: .85em; overflow-wrap: anywhere; }
.card:hover { border-color: #5d6d7e; }
.card img, .card .ph { display: block; width: 160px; height: 160px; object-fit: contain;
                       background: #f4f6f6; margin: 0 auto 4px; }
.card .ph { display: flex; align-items: center; justify-content: center; text-align: center;
            color: #808b96; font-size: .9em; }
.card .why { display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical;
             overflow: hidden; }
.grid.text .card { width: auto; max-width: 100%; }
table.detail { width: 100%; }
table.detail td:first-child { border-left: 5px solid #aab7b8; }
tr:target td { background: #fdf2d0; }
table.detail td { overflow-wrap: anywhere; }
details > summary { cursor: pointer; color: #0072b2; }
.pager { display: flex; gap: 1em; align-items: center; margin: .5em 0; }
.pager button { font: inherit; padding: .2em .8em; }
.js tbody.page:not(.shown) { display: none; }
"""
# Decision colours (palette) on the detail rows' left edge and the gallery swatches.
CSS += "".join(f"table.detail tr.d-{d} td:first-child {{ border-left-color: {c}; }}\n"
               for d, c in COLOURS.items())

#: The detail table's pager: shows one page, and the page of a row a gallery card links to.
SCRIPT = """
document.documentElement.classList.add("js");
(function () {
  var pages = document.querySelectorAll("tbody.page"), label = document.getElementById("page-of");
  if (!pages.length) return;
  var current = 0;
  function show(index) {
    current = Math.max(0, Math.min(pages.length - 1, index));
    for (var i = 0; i < pages.length; i++) pages[i].classList.toggle("shown", i === current);
    label.textContent = label.dataset.text.replace("{page}", current + 1)
      .replace("{pages}", pages.length);
  }
  function follow() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    var page = target && target.closest && target.closest("tbody.page");
    if (page) { show(Array.prototype.indexOf.call(pages, page)); target.scrollIntoView(); }
  }
  document.getElementById("page-previous").onclick = function () { show(current - 1); };
  document.getElementById("page-next").onclick = function () { show(current + 1); };
  window.addEventListener("hashchange", follow);
  show(0);
  follow();
})();
"""


def _fmt(value: float | int | None, lang: str, decimals: int | None = None) -> str:
    """A number for people: grouping and decimal mark of ``lang`` (id: 1.234,5; en: 1,234.5)."""
    if value is None:
        return i18n.text("ui.not_assessed", lang)
    if decimals is None:
        if float(value).is_integer() and abs(value) < 1e15:
            decimals = 0
        elif abs(value) >= 100:
            decimals = 1
        else:  # three significant digits
            decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return i18n.format_number(value, lang, decimals, grouping=True)


def _pct(count: int, total: int, lang: str) -> str:
    return f"{_fmt(100 * count / total if total else 0.0, lang, 1)} %"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _label(kind: str, code: str, lang: str) -> str:
    """Plain-language label of a decision, reason or error code; the code itself if unknown."""
    try:
        if kind == "reason":
            return i18n.reason_text(Reason(code), lang)
        if kind == "error":
            return i18n.error_text(ErrorCode(code), lang)
        return i18n.decision_label(Decision(code), lang)
    except ValueError:
        return code


def _seen(counter: Counter[str], lang: str) -> str:
    if not counter:
        return "&ndash;"
    unknown = UI[lang]["unknown"]
    return ", ".join(f"{_e(name or unknown)} ({_fmt(n, lang)})"
                     for name, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _count_table(title_key: str, kind: str, counts: Iterable[tuple[str, int]], total: int,
                 lang: str, *, with_total: bool) -> list[str]:
    ui = UI[lang]
    out = ["<table>",
           f"<tr><th>{ui[title_key]}</th><th>{ui['code']}</th><th>{ui['count']}</th>"
           f"<th>{ui['share']}</th></tr>"]
    for code, n in counts:
        swatch = (f'<span class="swatch" style="background:{COLOURS[code]}"></span>'
                  if kind == "decision" else "")
        label = _label(kind, code, lang) if code else UI[lang]["unknown"]
        out.append(f"<tr><td>{swatch}{_e(label)}</td><td><code>{_e(code)}</code></td>"
                   f'<td class="n">{_fmt(n, lang)}</td><td class="n">{_pct(n, total, lang)}</td>'
                   "</tr>")
    if with_total:
        out.append(f'<tr class="total"><td>{ui["total"]}</td><td></td>'
                   f'<td class="n">{_fmt(total, lang)}</td>'
                   f'<td class="n">{_pct(total, total, lang)}</td></tr>')
    out.append("</table>")
    return out


def _short_name(row: dict[str, Any]) -> str:
    if row["id"]:
        return row["id"]
    path = row["path"] or ""
    for mark in ("!", "/", "\\"):
        path = path.rsplit(mark, 1)[-1]
    return path or "?"


def _reason_words(row: dict[str, Any], lang: str) -> list[str]:
    """The row's reasons (or its error) in words."""
    if row["decision"] == Decision.ERROR.value:
        return [_label("error", row["error_code"] or "", lang)] if row["error_code"] else []
    words = []
    for code in row["reasons"]:
        try:
            words.append(i18n.reason_sentence(code, row["decision"], lang))
        except ValueError:  # a code this version does not know
            words.append(code)
    return words


def _detail(row: dict[str, Any], number: int, anchor: str, lang: str) -> str:
    """One row of the detail table; its measures collapsed."""
    ui = UI[lang]
    decision = row["decision"]
    name = _e(row["path"] or _short_name(row))
    if row["id"]:
        name += f"<br>{ui['id']}: {_e(row['id'])}"
    why = "".join(f"<li>{_e(text)}</li>" for text in _reason_words(row, lang))
    measures = row["measures"]
    names = [m for m in MEASURES if m in measures] + sorted(set(measures) - set(MEASURES))
    if names:
        cells = "".join(
            f"<tr><td>{_e(i18n.measure_label(n, lang))}</td>"
            f'<td class="n">{_e(_fmt(measures[n], lang))}</td><td>{_e(unit_of(n))}</td></tr>'
            for n in names)
        table = (f"<details><summary>{ui['show_measures']}</summary><table>"
                 f"<tr><th>{ui['measure']}</th><th>{ui['value']}</th><th>{ui['unit']}</th></tr>"
                 f"{cells}</table>")
        if row["face_box"]:
            table += (f"<p>{ui['face_box']}: "
                      f"{' '.join(_fmt(v, lang) for v in row['face_box'])}</p>")
        table += "</details>"
    else:
        table = f'<span class="note">{ui["no_measures"]}</span>'
    return (f'<tr id="{anchor}" class="d-{decision}"><td class="n">{number}</td><td>{name}</td>'
            f"<td>{_e(_label('decision', decision, lang))}</td><td><ul>{why}</ul></td>"
            f'<td>{table} <a class="note" href="#gallery-{decision}">{ui["back"]}</a></td></tr>')


def _detail_table(rows: list[str], lang: str) -> list[str]:
    """The detail rows in pages of :data:`PAGE_ROWS` (one shown at a time with script)."""
    ui = UI[lang]
    pages = math.ceil(len(rows) / PAGE_ROWS)
    out = [f'<div class="pager"><button type="button" id="page-previous">{ui["previous"]}'
           f'</button><span id="page-of" data-text="{_e(ui["page_of"])}">'
           f'{_e(ui["page_of"].format(page=1, pages=pages))}</span>'
           f'<button type="button" id="page-next">{ui["next"]}</button></div>',
           f'<table class="detail"><thead><tr><th>{ui["number"]}</th><th>{ui["path"]}</th>'
           f'<th>{ui["decision"]}</th><th>{ui["reasons"]}</th><th>{ui["measures"]}</th></tr>'
           "</thead>"]
    for start in range(0, len(rows), PAGE_ROWS):
        out.append('<tbody class="page">' + "".join(rows[start:start + PAGE_ROWS])
                   + "</tbody>")
    out.append("</table>")
    return out


def _card(row: dict[str, Any], anchor: str, thumb: str | None, thumbnails: bool,
          lang: str) -> str:
    ui = UI[lang]
    image = ""
    if thumbnails:
        image = (f'<img loading="lazy" decoding="async" width="160" height="160" '
                 f'src="data:image/jpeg;base64,{thumb}" alt="{_e(_short_name(row))}">'
                 if thumb else f'<span class="ph">{ui["placeholder"]}</span>')
    why = " ".join(_reason_words(row, lang))
    blur = row["measures"].get("edge_blur_px")
    value = (f"<br>{_e(i18n.measure_label('edge_blur_px', lang))}: {_fmt(blur, lang)} px"
             if blur is not None else "")
    return (f'<a class="card" href="#{anchor}" title="{_e(row["path"] or "")}">{image}'
            f"<strong>{_e(_short_name(row))}</strong>"
            f'<span class="why" title="{_e(why)}">{_e(why)}</span>{value}</a>')


def _identical(summary: _Summary, lang: str) -> list[str]:
    """The audit finding on identical photos (exact copies under different names)."""
    ui = UI[lang]
    out = [f'<section id="identical"><h2>{ui["duplicates"]}</h2>']
    if not summary.hashed:
        return out + [f'<p class="note">{ui["duplicates_unknown"]}</p></section>']
    groups = summary.identical()
    if not groups:
        return out + [f'<p>{ui["duplicates_none"]}</p>',
                      f'<p class="note">{ui["duplicates_note"]}</p></section>']
    rows = sum(len(names) for _, names in groups)
    found = ui["duplicates_found"].format(groups=_fmt(len(groups), lang), rows=_fmt(rows, lang))
    out.append(f'<p class="finding">{found}</p><p class="note">{ui["duplicates_note"]}</p>')
    if len(groups) > MAX_DUPLICATE_GROUPS:
        shown = ui["duplicates_shown"].format(shown=_fmt(MAX_DUPLICATE_GROUPS, lang),
                                              total=_fmt(len(groups), lang))
        out.append(f'<p class="note">{shown}</p>')
    for digest, names in groups[:MAX_DUPLICATE_GROUPS]:
        listed = "".join(f"<li>{_e(name)}</li>" for name in names[:MAX_DUPLICATE_PATHS])
        if len(names) > MAX_DUPLICATE_PATHS:
            more = ui["more_paths"].format(more=_fmt(len(names) - MAX_DUPLICATE_PATHS, lang))
            listed += f"<li>{more}</li>"
        copies = ui["copies"].format(count=_fmt(len(names), lang))
        out.append(f"<details><summary>{copies}: <code>{digest}</code></summary>"
                   f"<ul>{listed}</ul></details>")
    out.append("</section>")
    return out


def write_report(results: Path, html: Path, *, lang: str = "id", thumbnails: bool = True,
                 worst: int = 60, title: str | None = None) -> Path:
    """Write the HTML report on ``results`` (see :func:`read_results`) to ``html`` and return
    its path. ``worst``: gallery size per flagged decision (0 for none); ``thumbnails=False``
    embeds no photo image; ``title`` replaces the default heading."""
    lang = i18n.check_language(lang)
    if worst < 0:
        raise ValueError("worst must be >= 0")
    results, html_path = Path(results), Path(html)
    ui = UI[lang]

    stats = _Stats()
    summary = _Summary(worst)
    for row in iter_results(results, stats):
        summary.add(row)
    total = summary.total
    gallery = summary.gallery()
    thumbs = (_thumbnails([r for rows in gallery.values() for r in rows], results.parent)
              if thumbnails else {})

    heading = title if title else ui["title"]
    out = [f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="photocheck">',
           f"<title>{_e(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>",
           f"<header><h1>{_e(heading)}</h1><dl class=\"meta\">",
           f"<dt>{ui['photos']}</dt><dd>{_fmt(total, lang)}</dd>",
           f"<dt>{ui['generated']}</dt><dd>{dt.date.today().isoformat()}</dd>",
           f"<dt>{ui['source']}</dt><dd><code>{_e(results.name)}</code></dd>",
           f"<dt>{ui['policies']}</dt><dd>{_seen(summary.policies, lang)}</dd>",
           f"<dt>{ui['versions']}</dt><dd>{_seen(summary.versions, lang)}</dd>"]
    if stats.skipped:
        out.append(f"<dt>{ui['skipped']}</dt><dd>{_fmt(stats.skipped, lang)}</dd>")
    not_images = summary.errors.get(ErrorCode.NOT_AN_IMAGE.value, 0)
    if not_images:
        out.append(f"<dt>{ui['not_images']}</dt><dd>{_fmt(not_images, lang)}</dd>")
    passed_over = read_skipped(results)
    if passed_over:
        out.append(f"<dt>{ui['passed_over']}</dt><dd>{_fmt(passed_over, lang)}</dd>")
    out.append("</dl></header>")
    out.append(f'<nav><a href="#summary">{ui["summary"]}</a><a href="#identical">'
               f'{ui["duplicates"]}</a><a href="#sharpness">{ui["sharpness"]}</a>'
               f'<a href="#gallery">{ui["gallery"]}</a></nav>')

    # Counts: only the decisions that occur.
    occurring = [d for d in DECISIONS if summary.decisions[d]]
    out.append(f'<section id="summary"><h2>{ui["summary"]}</h2><h3>{ui["decisions"]}</h3>')
    out += _count_table("decision", "decision", ((d, summary.decisions[d]) for d in occurring),
                        total, lang, with_total=True)
    out.append(f"<h3>{ui['reasons']}</h3>")
    if summary.reasons:
        order = {r.value: k for k, r in enumerate(Reason)}
        reasons = sorted(summary.reasons.items(),
                         key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
        out += _count_table("reason", "reason", reasons, total, lang, with_total=False)
        out.append(f'<p class="note">{ui["reasons_note"]}</p>')
    else:
        out.append(f'<p class="note">{ui["no_reasons"]}</p>')
    out.append(f"<h3>{ui['errors']}</h3>")
    if summary.errors:
        errors = sorted(summary.errors.items(), key=lambda kv: (-kv[1], kv[0]))
        out += _count_table("error", "error", errors, total, lang, with_total=False)
    else:
        out.append(f'<p class="note">{ui["no_errors"]}</p>')
    out.append("</section>")
    out += _identical(summary, lang)

    # Plots.
    out.append(f'<section id="sharpness"><h2>{ui["sharpness"]}</h2>')
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        out.append(f'<p class="note">{ui["plots_unavailable"]}</p>')
    else:
        for measure in PLOTTED:
            png, caption = _plot(summary, measure, lang)
            out.append(f'<figure id="plot-{measure}"><img src="data:image/png;base64,{png}" '
                       f'alt="{_e(i18n.measure_label(measure, lang))}">'
                       f"<figcaption>{_e(caption)}</figcaption></figure>")
    out.append("</section>")

    # Gallery (one bounded, scrolling box per flagged decision that occurs) and details.
    out.append(f'<section id="gallery"><h2>{ui["gallery"]}</h2>'
               f'<p class="note">{_e(ui["order_note"])}</p>')
    if thumbnails:
        out.append(f'<p class="note">{_e(i18n.text("legend.face_box", lang))}</p>')
    else:
        out.append(f'<p class="note">{ui["thumbnails_off"]}</p>')
    details: list[str] = []
    for decision in (d for d in FLAGGED if summary.decisions[d]):
        rows = gallery[decision]
        n = summary.decisions[decision]
        out.append(f'<h3 id="gallery-{decision}"><span class="swatch" '
                   f'style="background:{COLOURS[decision]}"></span>'
                   f"{_e(_label('decision', decision, lang))} <code>{decision}</code></h3>")
        showing = ui["showing"].format(shown=_fmt(len(rows), lang), total=_fmt(n, lang))
        out.append(f'<p class="note">{showing}</p>')
        if not rows:
            continue
        out.append(f'<div class="gallery-box"><div class="grid{"" if thumbnails else " text"}">')
        for row in rows:
            anchor = f"photo-{len(details) + 1}"
            out.append(_card(row, anchor, thumbs.get(id(row)), thumbnails, lang))
            details.append(_detail(row, len(details) + 1, anchor, lang))
        out.append("</div></div>")
    if details:
        out.append(f'<h2 id="details">{ui["details"]}</h2>')
        out += _detail_table(details, lang)
    out.append(f"</section>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")

    html_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text("\n".join(out), encoding="utf-8")
    tmp.replace(html_path)
    return html_path
