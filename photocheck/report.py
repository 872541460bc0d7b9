"""One self-contained HTML report on a file of results (batch output or ``check --json``).

    >>> write_report(Path("results.jsonl"), Path("report.html"))            # doctest: +SKIP

The report opens offline: CSS is inline, plots are PNG and thumbnails JPEG, both embedded as
``data:`` URIs; nothing refers to a network address. Text is in Bahasa Indonesia by default
(``lang="en"`` for English): labels of decisions, reasons, errors and measures come from
:mod:`photocheck.i18n`, the words around them from :data:`UI`. Every string taken from the data
(paths, ids, messages, versions) is HTML-escaped.

Sections:

1. header: title, number of photos, date generated, policy and photocheck versions seen;
2. counts per decision, per reason and per error code, with shares of all photos;
3. histograms of ``edge_blur_px`` and ``laplacian_variance`` by decision (matplotlib, Agg);
4. a gallery of flagged photos (``eligible``, ``review``, ``error``), at most ``worst`` per
   decision, each linking to a block with its measures, reasons and error message.

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

from . import i18n
from .batch.outputs import unescape_formula
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
COLOURS = {"eligible": "#c0392b", "not_eligible": "#2471a3", "review": "#d68910",
           "error": "#7f8c8d", "accepted": "#1e8449", "rejected": "#c0392b"}

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
        "errors": "Galat per kode",
        "error": "Galat",
        "no_errors": "Tidak ada galat.",
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
            "foto tanpa nilai keburaman tepi (misalnya wajah tidak ditemukan) lebih dahulu, lalu "
            "keburaman tepi (edge_blur_px) dari yang terbesar; galat menurut urutan berkas."),
        "details": "Rincian",
        "path": "Berkas",
        "id": "ID",
        "measures": "Ukuran",
        "measure": "Ukuran",
        "value": "Nilai",
        "unit": "Satuan",
        "error_message": "Pesan galat",
        "face_box": "Kotak wajah (x y lebar tinggi, px)",
        "back": "kembali ke galeri",
        "no_measures": "Tidak ada ukuran.",
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
        "errors": "Errors by code",
        "error": "Error",
        "no_errors": "No errors.",
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
            "Gallery order (worst first): for 'eligible' and 'review', photos without an edge "
            "blur value (e.g. no face found) first, then edge blur (edge_blur_px) from the "
            "largest; errors in file order."),
        "details": "Details",
        "path": "File",
        "id": "ID",
        "measures": "Measures",
        "measure": "Measure",
        "value": "Value",
        "unit": "Unit",
        "error_message": "Error message",
        "face_box": "Face box (x y width height, px)",
        "back": "back to the gallery",
        "no_measures": "No measures.",
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
    version. Lines that do not parse, or carry no known decision, are skipped and counted in
    the returned list's ``skipped``."""
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
                      label=f"{i18n.decision_label(decision, lang)} "
                            f"(n={_fmt(series[decision].size, lang)}{extra})")
        policy, lines = _shipped_thresholds(summary, measure)
        for kind, value in lines:
            ax.axvline(value, color=COLOURS[kind], linestyle="--", linewidth=1,
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
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #566573; font-size: .92em; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em;
          border-radius: 2px; vertical-align: baseline; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; }
.card { width: 170px; border: 1px solid #d5d8dc; border-radius: 4px; padding: 4px;
        text-decoration: none; color: inherit; font-size: .85em; overflow-wrap: anywhere; }
.card:hover { border-color: #5d6d7e; }
.card img, .card .ph { display: block; width: 160px; height: 160px; object-fit: contain;
                       background: #f4f6f6; margin: 0 auto 4px; }
.card .ph { display: flex; align-items: center; justify-content: center; text-align: center;
            color: #808b96; font-size: .9em; }
.grid.text .card { width: auto; max-width: 100%; }
.detail { border: 1px solid #d5d8dc; border-left: 5px solid #aab7b8; border-radius: 4px;
          padding: .4em 1em .8em; margin: 1em 0; }
.detail:target { box-shadow: 0 0 0 3px #f9e79f; }
.detail h4 { margin: .4em 0; overflow-wrap: anywhere; }
.d-eligible { border-left-color: #c0392b; } .d-review { border-left-color: #d68910; }
.d-error { border-left-color: #7f8c8d; } .d-not_eligible { border-left-color: #2471a3; }
"""


def _fmt(value: float | int | None, lang: str, decimals: int | None = None) -> str:
    """A number for people: grouping and decimal mark of ``lang`` (id: 1.234,5; en: 1,234.5)."""
    if value is None:
        return i18n.text("ui.not_assessed", lang)
    if decimals is None:
        if float(value).is_integer() and abs(value) < 1e15:
            text = f"{int(value):,}"
        elif abs(value) >= 100:
            text = f"{value:,.1f}"
        else:
            text = f"{value:.3g}"
    else:
        text = f"{value:,.{decimals}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


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


def _detail(row: dict[str, Any], anchor: str, lang: str) -> list[str]:
    ui = UI[lang]
    decision = row["decision"]
    out = [f'<div class="detail d-{decision}" id="{anchor}">',
           f"<h4>{_e(row['path'] or _short_name(row))}</h4><dl class=\"meta\">",
           f"<dt>{ui['decision']}</dt><dd>{_e(_label('decision', decision, lang))} "
           f"<code>{_e(decision)}</code></dd>"]
    if row["id"]:
        out.append(f"<dt>{ui['id']}</dt><dd>{_e(row['id'])}</dd>")
    if row["reasons"]:
        items = "".join(f"<li>{_e(_label('reason', r, lang))} <code>{_e(r)}</code></li>"
                        for r in row["reasons"])
        out.append(f"<dt>{ui['reasons']}</dt><dd><ul>{items}</ul></dd>")
    if row["error_code"] or row["error_message"]:
        code = row["error_code"] or ""
        out.append(f"<dt>{ui['error']}</dt><dd>{_e(_label('error', code, lang))} "
                   f"<code>{_e(code)}</code></dd>")
        if row["error_message"]:
            out.append(f"<dt>{ui['error_message']}</dt><dd>{_e(row['error_message'])}</dd>")
    if row["face_box"]:
        out.append(f"<dt>{ui['face_box']}</dt>"
                   f"<dd>{' '.join(_fmt(v, lang) for v in row['face_box'])}</dd>")
    out.append("</dl>")
    measures = row["measures"]
    names = [m for m in MEASURES if m in measures] + sorted(set(measures) - set(MEASURES))
    if names:
        out.append(f"<table><tr><th>{ui['measure']}</th><th>{ui['code']}</th>"
                   f"<th>{ui['value']}</th><th>{ui['unit']}</th></tr>")
        for name in names:
            unit = unit_of(name)
            out.append(f"<tr><td>{_e(i18n.measure_label(name, lang))}</td>"
                       f"<td><code>{_e(name)}</code></td>"
                       f'<td class="n">{_e(_fmt(measures[name], lang))}</td>'
                       f"<td>{_e(unit)}</td></tr>")
        out.append("</table>")
    else:
        out.append(f'<p class="note">{ui["no_measures"]}</p>')
    out.append(f'<p class="note"><a href="#gallery-{decision}">{ui["back"]}</a></p></div>')
    return out


def _card(row: dict[str, Any], anchor: str, thumb: str | None, thumbnails: bool,
          lang: str) -> str:
    ui = UI[lang]
    image = ""
    if thumbnails:
        image = (f'<img src="data:image/jpeg;base64,{thumb}" alt="{_e(_short_name(row))}">'
                 if thumb else f'<span class="ph">{ui["placeholder"]}</span>')
    if row["decision"] == Decision.ERROR.value:
        notes = [row["error_code"] or ""]
    else:
        notes = [", ".join(row["reasons"])]
        blur = row["measures"].get("edge_blur_px")
        if blur is not None:
            notes.append(f"{i18n.measure_label('edge_blur_px', lang)}: {_fmt(blur, lang)} px")
    return (f'<a class="card" href="#{anchor}" title="{_e(row["path"] or "")}">{image}'
            f"<strong>{_e(_short_name(row))}</strong>"
            + "".join(f"<br>{_e(note)}" for note in notes if note) + "</a>")


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
    out.append("</dl></header>")
    out.append(f'<nav><a href="#summary">{ui["summary"]}</a><a href="#sharpness">'
               f'{ui["sharpness"]}</a><a href="#gallery">{ui["gallery"]}</a></nav>')

    # Counts.
    out.append(f'<section id="summary"><h2>{ui["summary"]}</h2><h3>{ui["decisions"]}</h3>')
    out += _count_table("decision", "decision", ((d, summary.decisions[d]) for d in DECISIONS),
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

    # Gallery and details.
    out.append(f'<section id="gallery"><h2>{ui["gallery"]}</h2>'
               f'<p class="note">{_e(ui["order_note"])}</p>')
    if not thumbnails:
        out.append(f'<p class="note">{ui["thumbnails_off"]}</p>')
    details: list[str] = []
    serial = 0
    for decision in FLAGGED:
        rows = gallery[decision]
        n = summary.decisions[decision]
        out.append(f'<h3 id="gallery-{decision}"><span class="swatch" '
                   f'style="background:{COLOURS[decision]}"></span>'
                   f"{_e(_label('decision', decision, lang))} <code>{decision}</code></h3>")
        if not n:
            out.append(f'<p class="note">{ui["no_photos"]}</p>')
            continue
        showing = ui["showing"].format(shown=_fmt(len(rows), lang), total=_fmt(n, lang))
        out.append(f'<p class="note">{showing}</p>')
        if not rows:
            continue
        out.append(f'<div class="grid{"" if thumbnails else " text"}">')
        for row in rows:
            serial += 1
            anchor = f"photo-{serial}"
            out.append(_card(row, anchor, thumbs.get(id(row)), thumbnails, lang))
            details += _detail(row, anchor, lang)
        out.append("</div>")
    if details:
        out.append(f'<h2 id="details">{ui["details"]}</h2>')
        out += details
    out.append("</section>\n</body>\n</html>\n")

    html_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text("\n".join(out), encoding="utf-8")
    tmp.replace(html_path)
    return html_path
