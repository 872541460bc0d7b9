"""Tests for photocheck.report: reading result files and the self-contained HTML report."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from photocheck import __version__, i18n
from photocheck.report import read_results, write_report
from photocheck.schema import Result

MEASURE_NAMES = ("laplacian_variance", "edge_blur_px", "edge_blur_max_px", "face_width_px")


def _jpeg(size=(120, 160), colour=(180, 120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def _result(path, decision, reasons=(), blur=None, lap=None, error=None, box=None) -> dict:
    """A result exactly as ``photocheck check --json`` writes it."""
    measures = {} if decision == "error" else {
        "laplacian_variance": lap, "edge_blur_px": blur, "edge_blur_max_px": blur,
        "face_width_px": 60.0}
    return Result.model_validate({
        "path": path, "decision": decision, "reasons": list(reasons), "measures": measures,
        "face": None if box is None else {"box": box, "confidence": 0.9, "landmarks": True},
        "policy": {"name": "replacement", "version": "2026.11.5"}, "version": __version__,
        "error": None if error is None else {"code": error, "message": f"{error} happened"},
    }).to_dict()


def _write_jsonl(path: Path, results: list[dict], torn: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in results) + torn, encoding="utf-8")
    return path


@pytest.fixture
def results(tmp_path) -> list[dict]:
    """Six results on real JPEGs: 3 eligible, 1 not_eligible, 1 review, 1 error."""
    for name in ("a", "b", "c", "d", "e"):
        (tmp_path / f"{name}.jpg").write_bytes(_jpeg())
    return [
        _result(str(tmp_path / "a.jpg"), "eligible", ["blurry"], 3.1, 2.0, box=[30, 40, 60, 60]),
        _result(str(tmp_path / "b.jpg"), "eligible", ["blurry"], 2.5, 5.0),
        _result(str(tmp_path / "c.jpg"), "eligible", ["no_face"]),
        _result(str(tmp_path / "d.jpg"), "not_eligible", ["clear_photo"], 1.2, 40.0),
        _result(str(tmp_path / "e.jpg"), "review", ["blurry", "low_contrast"], 2.2, 9.0),
        _result(str(tmp_path / "f.jpg"), "error", error="file_not_found"),
    ]


def _count(text: str, code: str) -> int:
    match = re.search(rf'<code>{code}</code></td><td class="n">([\d.,]+)</td>', text)
    assert match, f"no count row for {code}"
    return int(match.group(1).replace(".", "").replace(",", ""))


def _images(text: str, kind: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(rf"data:image/{kind};base64,([A-Za-z0-9+/=]+)",
                                                    text)]


def test_report_is_self_contained_with_counts_plots_and_thumbnails(tmp_path, results):
    out = write_report(_write_jsonl(tmp_path / "r.jsonl", results), tmp_path / "out" / "r.html")
    assert out == tmp_path / "out" / "r.html" and out.is_file()
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "http://" not in text and "https://" not in text
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert text.count("<script>") == 1  # the detail table's pager, inline
    # Counts.
    assert {d: _count(text, d) for d in ("eligible", "not_eligible", "review", "error")} == {
        "eligible": 3, "not_eligible": 1, "review": 1, "error": 1}
    assert _count(text, "blurry") == 3 and _count(text, "low_contrast") == 1
    assert _count(text, "file_not_found") == 1
    assert "50,0 %" in text  # 3 of 6 eligible, Indonesian decimal comma
    # Header.
    assert re.search(r"<dd>\d{4}-\d{2}-\d{2}</dd>", text)
    assert "replacement 2026.11.5 (6)" in text and f"{__version__} (6)" in text
    # Plots: two PNGs.
    pngs = _images(text, "png")
    assert len(pngs) == 2 and all(p.startswith(b"\x89PNG") for p in pngs)
    assert 'id="plot-edge_blur_px"' in text and 'id="plot-laplacian_variance"' in text
    # Thumbnails: the 4 readable flagged photos (3 eligible, 1 review); the error has a placeholder.
    thumbs = _images(text, "jpeg")
    assert len(thumbs) == 4
    for data in thumbs:
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "JPEG" and max(img.size) <= 160
    assert text.count('class="ph"') == 1
    # Not-eligible photos are not in the gallery; every card links to its details.
    assert "d.jpg" not in text
    for anchor in re.findall(r'<a class="card" href="#(photo-\d+)"', text):
        assert f'id="{anchor}"' in text
    assert "Foto buram: garis wajah tidak tajam." in text  # reason in plain language
    assert i18n.text("review.blurry", "id") in text  # a review says what to look at
    assert i18n.error_text("file_not_found", "id") in text  # the error in words...
    assert "file_not_found happened" not in text  # ...not the English technical message
    assert "<td>grey^2</td>" in text and "<td>px</td>" in text  # units
    assert 'loading="lazy"' in text  # thumbnails load as they scroll into view
    # Only the decisions that occur: no accepted/rejected rows in a replacement run.
    assert "<code>accepted</code>" not in text and "<code>rejected</code>" not in text
    assert 'id="gallery-rejected"' not in text


def test_no_thumbnails_embeds_no_image_of_a_photo(tmp_path, results):
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", results), tmp_path / "r.html",
                        thumbnails=False).read_text(encoding="utf-8")
    assert not _images(text, "jpeg") and "image/jpeg" not in text
    assert 'class="ph"' not in text
    assert text.count("<img") == 2  # the two plots only
    assert len(re.findall(r'<tr id="photo-\d+"', text)) == 5  # every flagged photo's row
    assert "Gambar mini dinonaktifkan" in text


def test_indonesian_by_default_english_on_request(tmp_path, results):
    source = _write_jsonl(tmp_path / "r.jsonl", results)
    indonesian = write_report(source, tmp_path / "id.html").read_text(encoding="utf-8")
    english = write_report(source, tmp_path / "en.html", lang="en",
                           title="Batch 7").read_text(encoding="utf-8")
    assert '<html lang="id">' in indonesian
    assert "Ringkasan" in indonesian and "Memenuhi syarat penggantian foto" in indonesian
    assert "Tanggal dibuat" in indonesian and "Summary" not in indonesian
    assert '<html lang="en">' in english and "<h1>Batch 7</h1>" in english
    assert "Summary" in english and "Eligible for photo replacement" in english
    assert "50.0 %" in english and "Ringkasan" not in english
    with pytest.raises(ValueError, match="unsupported language"):
        write_report(source, tmp_path / "x.html", lang="fr")


def test_strings_from_the_data_are_escaped(tmp_path):
    evil = tmp_path / 'x<b>bold"&.jpg'
    evil.write_bytes(_jpeg())
    photo = _result(str(evil), "eligible", ["blurry"], 3.0, 1.0)
    photo["id"] = "<b>id</b>"
    photo["reasons"].append("<em>new_reason</em>")
    broken = _result("y.jpg", "error", error="corrupt")
    broken["error"]["message"] = "<script>alert(1)</script>"
    broken["version"] = '"><i>v</i>'
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", [photo, broken]), tmp_path / "r.html",
                        title="<u>t</u>").read_text(encoding="utf-8")
    for tag in ("<b>", "</b>", "<i>", "<u>", "<em>"):
        assert tag not in text
    assert text.count("<script") == 1  # the report's own pager only
    assert "x&lt;b&gt;bold&quot;&amp;.jpg" in text and "&lt;b&gt;id&lt;/b&gt;" in text
    assert "alert(1)" not in text  # error messages stay in the results file
    assert "&lt;u&gt;t&lt;/u&gt;" in text and "&lt;em&gt;new_reason&lt;/em&gt;" in text
    assert len(_images(text, "jpeg")) == 1  # the odd path is still read


def test_torn_last_line_is_skipped_and_counted(tmp_path, results):
    source = _write_jsonl(tmp_path / "r.jsonl", results, torn='{"path": "g.jpg", "decis')
    rows = read_results(source)
    assert len(rows) == 6 and rows.skipped == 1
    text = write_report(source, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Baris tidak terbaca (dilewati)</dt><dd>1</dd>" in text
    assert _count(text, "eligible") == 3


def test_unreadable_or_missing_image_gets_a_placeholder(tmp_path):
    (tmp_path / "garbage.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rows = [_result(str(tmp_path / "garbage.jpg"), "eligible", ["blurry"], 3.0, 1.0),
            _result(str(tmp_path / "gone.jpg"), "review", ["blurry"], 2.2, 8.0),
            _result(None, "error", error="invalid_argument"),
            _result(str(tmp_path / "nope.zip!a.jpg"), "eligible", ["blurry"], 2.9, 1.0)]
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", rows),
                        tmp_path / "r.html").read_text(encoding="utf-8")
    assert not _images(text, "jpeg")
    assert text.count('class="ph"') == 4 and "Gambar tidak tersedia" in text


def test_archive_members_are_thumbnailed(tmp_path):
    with zipfile.ZipFile(tmp_path / "batch.zip", "w") as zf:
        zf.writestr("dir/one.jpg", _jpeg(colour=(255, 0, 0)))
    with tarfile.open(tmp_path / "batch.tar.gz", "w:gz") as tf:
        for name, colour in (("./two.jpg", (0, 255, 0)), ("three.jpg", (0, 0, 255))):
            data = _jpeg(colour=colour)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    rows = [_result("batch.zip!dir/one.jpg", "eligible", ["blurry"], 3.0, 1.0),  # relative
            _result(f"{tmp_path}/batch.tar.gz!two.jpg", "eligible", ["blurry"], 2.8, 1.0),
            _result(f"{tmp_path}/batch.tar.gz!three.jpg", "eligible", ["blurry"], 2.6, 1.0),
            _result(f"{tmp_path}/batch.zip!missing.jpg", "eligible", ["blurry"], 2.4, 1.0)]
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", rows),
                        tmp_path / "r.html").read_text(encoding="utf-8")
    thumbs = _images(text, "jpeg")
    assert len(thumbs) == 3 and text.count('class="ph"') == 1
    colours = []
    for data in thumbs:  # gallery order is edge blur descending: one, two, three
        with Image.open(io.BytesIO(data)) as img:
            colours.append(max(range(3), key=lambda c: img.convert("RGB").getpixel((5, 5))[c]))
    assert colours == [0, 1, 2]


def test_gallery_order_and_limit(tmp_path):
    rows = [_result(f"e{k}.jpg", "eligible", ["blurry"], blur, 1.0)
            for k, blur in enumerate([2.4, 3.5, 2.9, 2.6])]
    rows.append(_result("noface.jpg", "eligible", ["no_face"]))
    rows += [_result(f"err{k}.jpg", "error", error="corrupt") for k in range(3)]
    source = _write_jsonl(tmp_path / "r.jsonl", rows)
    text = write_report(source, tmp_path / "r.html", worst=3,
                        thumbnails=False).read_text(encoding="utf-8")
    cards = re.findall(r'<a class="card" href="#photo-\d+" title="([^"]*)"', text)
    assert cards == ["noface.jpg", "e1.jpg", "e2.jpg", "err0.jpg", "err1.jpg", "err2.jpg"]
    assert "Menampilkan 3 dari 5 foto." in text
    assert _count(text, "eligible") == 5  # counts are over all rows, not the gallery
    none = write_report(source, tmp_path / "n.html", worst=0).read_text(encoding="utf-8")
    assert 'class="card"' not in none and 'class="detail' not in none
    with pytest.raises(ValueError):
        write_report(source, tmp_path / "x.html", worst=-1)


CSV_COLUMNS = ["path", "id", "birth_year", "sha256", "decision", "reasons",
               *(f"m_{m}" for m in MEASURE_NAMES), "error_code", "error_message", "face_box",
               "policy", "policy_version", "version"]


def _write_csv(path: Path, tmp_path: Path) -> Path:
    (tmp_path / "p1.jpg").write_bytes(_jpeg())
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        writer.writerow([tmp_path / "p1.jpg", "3171", "1980", "ab12", "eligible",
                         "blurry;low_contrast", "2.5", "3.0", "3.1", "55", "", "",
                         "10 20 30.5 40", "replacement", "2026.11.5", "0.1.0"])
        writer.writerow(["p2.jpg", "3172", "1990", "cd34", "not_eligible", "clear_photo",
                         "50", "1.1", "1.2", "80", "", "", "1 2 3 4", "replacement",
                         "2026.11.5", "0.1.0"])
        writer.writerow(["p3.jpg", "3173", "", "", "error", "", "", "", "", "", "corrupt",
                         "damaged <data>", "", "replacement", "2026.11.5", "0.1.0"])
    return path


def test_read_csv(tmp_path):
    rows = read_results(_write_csv(tmp_path / "r.csv", tmp_path))
    assert rows.skipped == 0 and [r["decision"] for r in rows] == [
        "eligible", "not_eligible", "error"]
    first, _, error = rows
    assert first["id"] == "3171" and first["reasons"] == ["blurry", "low_contrast"]
    assert first["measures"] == {"laplacian_variance": 2.5, "edge_blur_px": 3.0,
                                 "edge_blur_max_px": 3.1, "face_width_px": 55.0}
    assert first["face_box"] == (10.0, 20.0, 30.5, 40.0)
    assert first["error_code"] is None and first["policy_version"] == "2026.11.5"
    assert first["version"] == "0.1.0" and first["policy"] == "replacement"
    assert error["reasons"] == [] and error["face_box"] is None
    assert error["measures"]["edge_blur_px"] is None
    assert (error["error_code"], error["error_message"]) == ("corrupt", "damaged <data>")


def test_csv_report(tmp_path):
    text = write_report(_write_csv(tmp_path / "r.csv", tmp_path), tmp_path / "r.html",
                        lang="en").read_text(encoding="utf-8")
    assert _count(text, "eligible") == 1 and _count(text, "corrupt") == 1
    assert len(_images(text, "jpeg")) == 1 and "damaged &lt;data&gt;" not in text
    assert "ID: 3171" in text


def test_check_json_rows(tmp_path, results):
    rows = read_results(_write_jsonl(tmp_path / "r.ndjson", results))
    first, error = rows[0], rows[-1]
    assert first["face_box"] == (30.0, 40.0, 60.0, 60.0) and first["reasons"] == ["blurry"]
    assert first["measures"]["edge_blur_px"] == 3.1 and first["policy_version"] == "2026.11.5"
    assert first["version"] == __version__ and first["error_code"] is None
    assert error["error_code"] == "file_not_found" and error["measures"] == {}


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    csv_rows = read_results(_write_csv(tmp_path / "r.csv", tmp_path))
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    table = {c: [r[c] or None for r in records] for c in CSV_COLUMNS}
    for m in MEASURE_NAMES:
        table[f"m_{m}"] = [None if v is None else float(v) for v in table[f"m_{m}"]]
    pq.write_table(pa.table(table), tmp_path / "r.parquet")
    assert list(read_results(tmp_path / "r.parquet")) == list(csv_rows)
    text = write_report(tmp_path / "r.parquet", tmp_path / "r.html").read_text(encoding="utf-8")
    assert _count(text, "not_eligible") == 1


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "r.parquet").write_bytes(b"PAR1")
    with pytest.raises(RuntimeError, match="pyarrow"):
        read_results(tmp_path / "r.parquet")


def test_unsupported_file(tmp_path):
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(ValueError, match="unsupported results file"):
        read_results(tmp_path / "r.txt")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="decision"):
        read_results(tmp_path / "bad.csv")


def test_no_pyplot_state_leaks(tmp_path, results):
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    write_report(_write_jsonl(tmp_path / "r.jsonl", results), tmp_path / "r.html")
    assert plt.get_fignums() == before


def test_empty_results(tmp_path):
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", []),
                        tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<dt>Jumlah foto</dt><dd>0</dd>" in text and len(_images(text, "png")) == 2


def test_report_command_on_batch_results(tmp_path):
    """`photocheck batch` then `photocheck report`: the two commands fit together."""
    from typer.testing import CliRunner

    from photocheck.cli import app

    samples = Path(__file__).resolve().parent.parent / "samples"
    runner = CliRunner()
    results = tmp_path / "hasil.csv"
    batch = runner.invoke(app, ["batch", str(samples), "--out", str(results), "--workers", "1",
                                "--no-progress"])
    assert batch.exit_code == 0, batch.output
    html = tmp_path / "laporan.html"
    report = runner.invoke(app, ["report", str(results), "--html", str(html),
                                 "--no-thumbnails"])
    assert report.exit_code == 0, report.output
    text = html.read_text(encoding="utf-8")
    assert "Memenuhi syarat" in text
    assert "data:image/jpeg" not in text


def test_identical_photos_are_an_audit_finding(tmp_path):
    """The same SHA-256 under different paths or ids is flagged; the same path twice is not."""
    def row(path, digest, identifier=""):
        return {"key": path, "path": path, "id": identifier, "sha256": digest,
                "decision": "not_eligible", "reasons": ["clear_photo"], "measures": {}}

    same, other = "ab" * 32, "cd" * 32
    rows = [row("a.jpg", same), row("b.jpg", same), row("c.jpg", same, "3171"),
            row("d.jpg", other), row("d.jpg", other), row("e.jpg", "not-a-digest")]
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", rows),
                        tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1 kelompok foto identik (3 baris)" in text
    assert f"<code>{same}</code>" in text and f"<code>{other}</code>" not in text
    assert "c.jpg (3171)" in text and "salinan persis" in text
    # Results without digests (check --json) say the check could not be made.
    plain = write_report(_write_jsonl(tmp_path / "p.jsonl", [_result("x.jpg", "eligible",
                                                                     ["no_face"])]),
                         tmp_path / "p.html").read_text(encoding="utf-8")
    assert "tidak memuat SHA-256" in plain


def test_detail_table_is_paged_and_files_that_are_not_images_are_counted(tmp_path):
    rows = [_result(f"e{k}.jpg", "eligible", ["blurry"], 3.0 + k / 100, 1.0) for k in range(60)]
    rows += [_result(f"n{k}.txt", "error", error="not_an_image") for k in range(3)]
    text = write_report(_write_jsonl(tmp_path / "r.jsonl", rows), tmp_path / "r.html",
                        thumbnails=False).read_text(encoding="utf-8")
    pages = re.findall(r'<tbody class="page">(.*?)</tbody>', text, re.S)
    assert [page.count("<tr id=") for page in pages] == [25, 25, 13]
    assert "Halaman 1 dari 3" in text
    assert "<dt>Berkas yang bukan gambar</dt><dd>3</dd>" in text
    assert "Lebar kabur garis wajah: 3,59 px" in text  # Indonesian decimal comma
