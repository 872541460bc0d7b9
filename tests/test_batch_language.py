"""What a person reads from ``photocheck batch`` (progress, notes, usage errors, summary) and
from Click's own usage errors is in ``--lang``, Indonesian by default; files a batch passes over
as not images are counted in the summary and in the report."""

from __future__ import annotations

import io
import pickle
import re
import string
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from photocheck import i18n
from photocheck.batch import BatchError, collect_tasks, read_results
from photocheck.batch.outputs import read_skipped, skipped_path, write_skipped
from photocheck.cli import app
from photocheck.messages import Message


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def _fragments(message: str) -> list[str]:
    """The literal pieces of a catalogue text between its ``{placeholders}``."""
    return [literal.strip() for literal, *_ in string.Formatter().parse(message)
            if literal.strip()]


#: Pieces of English catalogue texts that no Indonesian text holds (``img/s``, ``ETA``,
#: ``judging``, ``Missing``, ...): none may show in an Indonesian output.
ENGLISH_ONLY = sorted({piece for text in i18n.EN.values() for piece in _fragments(text)
                       if len(piece) >= 3 and not any(piece in ours for ours in i18n.ID.values())})

#: Click's and Typer's own English (their usage-error panel).
CLICK_ENGLISH = ("Missing argument", "Missing parameter", "No such option", "is not one of",
                 "Invalid value", "Try '", "Usage:", "Error", "Got unexpected", "No such command",
                 "requires an argument", "is not in the range", "greater than or equal")


def english_in(output: str, tmp_path: Path | None = None) -> list[str]:
    """English catalogue pieces and Click phrases found in ``output`` (paths of the test's
    own folder taken out: a test name is English)."""
    if tmp_path is not None:
        output = output.replace(str(tmp_path), "<tmp>")
    words = re.findall(r"[\w/'.-]+", output)
    found = [piece for piece in ENGLISH_ONLY
             if (piece in words if " " not in piece else piece in output)]
    return found + [phrase for phrase in CLICK_ENGLISH if phrase in output]


def test_the_check_finds_english_pieces():
    """The helper can fail: the English words of the progress bar and of Click are known."""
    assert {"judging", "img/s", "ETA"} <= set(ENGLISH_ONLY)
    assert english_in("judging 3/3 12.0 img/s 0:00:01 ETA 0:00:00") == ["ETA", "img/s",
                                                                       "judging"]
    assert "Missing argument" in english_in("Missing argument 'PATH...'.")


@pytest.fixture(scope="module")
def photo(portrait) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(portrait(face_width=120).rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path, photo) -> Path:
    """arsip/: two photos, a truncated one, and three files that are not images."""
    root = tmp_path / "arsip"
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(photo)
    (root / "sub" / "b.jpg").write_bytes(photo)
    (root / "sub" / "cut.jpg").write_bytes(photo[: len(photo) // 3])
    (root / "catatan.txt").write_text("bukan foto")
    (root / "sub" / "Thumbs.db").write_bytes(b"\x00" * 16)
    (root / "._a.jpg").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata
    return root


# --------------------------------------------------------------------------------------------
# Files passed over as not images


def test_files_passed_over_are_counted_once(folder, tmp_path):
    tasks = collect_tasks([folder, folder / "sub"])  # sub/ twice: its files count once
    assert len(tasks) == 3 and tasks.not_images == 3
    globbed = collect_tasks([str(folder / "**" / "*")])  # (a glob skips ._a.jpg: hidden)
    assert len(globbed) == 3 and globbed.not_images == 2
    named = collect_tasks([folder / "catatan.txt"])  # named as an input: an error row
    assert len(named) == 1 and named.not_images == 0

    archive = tmp_path / "kiriman.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(folder / "a.jpg", "x/a.jpg")
        zipped.writestr("x/daftar.pdf", b"%PDF")
        zipped.writestr("x/", b"")  # a folder entry is not a file
    assert collect_tasks([archive]).not_images == 1

    packed = tmp_path / "kiriman.tar.gz"
    with tarfile.open(packed, "w:gz") as tar:
        tar.add(folder / "a.jpg", "a.jpg")
        tar.add(folder / "catatan.txt", "catatan.txt")
        tar.add(folder / "sub", "sub", recursive=False)  # a folder is not a file
    listed = collect_tasks([packed])
    assert len(listed) == 1 and listed.not_images == 1


def test_the_record_beside_the_results(tmp_path):
    results = tmp_path / "hasil.csv"
    assert read_skipped(results) is None  # none written: not batch output
    write_skipped(results, 12)
    assert skipped_path(results).name == "hasil.csv.skipped.json"
    assert read_skipped(results) == 12
    skipped_path(results).write_text("{broken")
    assert read_skipped(results) is None


# --------------------------------------------------------------------------------------------
# photocheck batch in Indonesian, and the same run in English


def test_batch_in_indonesian_holds_no_english(folder, tmp_path):
    out = tmp_path / "hasil.jsonl"
    result = run("batch", str(folder), "--out", str(out), "--workers", "1")  # progress on
    assert result.exit_code == 0, result.output
    said = result.stderr
    assert not english_in(said, tmp_path), english_in(said, tmp_path)
    # The progress bar was drawn, in Indonesian; the summary counts in words.
    assert i18n.text("batch.phase.judging", "id") in said
    assert i18n.text("batch.rate", "id").format(rate="").strip() in said
    assert "3 dari 3 masukan" in said
    assert i18n.text("batch.not_images_skipped", "id").format(count=3) in said
    assert len(read_results(out)) == 3 and read_skipped(out) == 3

    report = tmp_path / "laporan.html"
    assert run("report", str(out), "--html", str(report), "--no-thumbnails").exit_code == 0
    page = report.read_text(encoding="utf-8")
    assert re.search(r"<dt>Berkas lain yang dilewati batch [^<]*</dt><dd>3</dd>", page)

    english = run("batch", str(folder), "--out", str(tmp_path / "en.jsonl"), "--workers", "1",
                  "--lang", "en")
    assert english.exit_code == 0, english.output
    assert {"judging", "img/s", "ETA"} <= set(english_in(english.stderr, tmp_path))
    assert "3 files skipped: not image files" in english.stderr


def test_batch_notes_in_the_language(folder, tmp_path):
    manifest = tmp_path / "daftar.csv"
    manifest.write_text(f"path,id\n{folder / 'a.jpg'},K-1\n,K-2\n{folder / 'a.jpg'},K-1\n")
    damaged = tmp_path / "rusak.tar"
    with tarfile.open(damaged, "w") as tar:
        tar.add(folder / "a.jpg", "a.jpg")
        tar.add(folder / "sub" / "b.jpg", "b.jpg")
    damaged.write_bytes(damaged.read_bytes()[:1536])  # cut inside the second member's data
    nothing = tmp_path / "kosong"
    nothing.mkdir()
    args = ("batch", str(manifest), str(damaged), str(nothing), "--workers", "1")
    result = run(*args, "--out", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines()
             if line.startswith(i18n.text("cli.batch_note", "id"))]
    assert len(notes) == 4, result.stderr
    assert any("baris 3: kolom path kosong" in note for note in notes)
    assert any("rusak setelah 1 gambar" in note for note in notes)
    assert any("sama dengan baris 2" in note for note in notes)
    assert any(i18n.text("cli.no_images_in", "id").format(where=nothing) in note
               for note in notes)
    assert not english_in(result.stderr, tmp_path), english_in(result.stderr, tmp_path)

    english = run(*args, "--out", str(tmp_path / "en.jsonl"), "--lang", "en")
    assert "line 3: no path; row skipped" in english.stderr


@pytest.mark.parametrize("make, words, technical", [
    (lambda tmp: tmp / "tidak-ada.zip", "berkas tidak ada", None),
    (lambda tmp: _write(tmp / "rusak.zip", b"PK not a zip"), "Arsip zip", "BadZipFile"),
    (lambda tmp: _write(tmp / "daftar.csv", b"file,id\na.jpg,1\n"), "tidak punya kolom 'path'",
     None),
])
def test_batch_usage_errors_in_the_language(tmp_path, make, words, technical):
    source = make(tmp_path)
    result = run("batch", str(source), "--out", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 2
    assert i18n.text("cli.usage_error", "id") in result.stderr and words in result.stderr
    assert not english_in(result.stderr, tmp_path), english_in(result.stderr, tmp_path)
    english = run("batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--lang", "en")
    assert english.exit_code == 2 and "Usage error" in english.stderr
    if technical:  # the technical detail: in English only, never in the Indonesian line
        assert technical in english.stderr and technical not in result.stderr
        assert "--lang en" in result.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_batch_errors_keep_english_for_logs_and_pickle(tmp_path):
    with pytest.raises(BatchError) as info:
        collect_tasks([tmp_path / "tidak-ada.tar"])
    error = info.value
    assert str(error) == f"{tmp_path / 'tidak-ada.tar'}: no such file."
    assert error.message.text("id") == f"{tmp_path / 'tidak-ada.tar'}: berkas tidak ada."
    again = pickle.loads(pickle.dumps(error))
    assert (again.param, again.message.text("id")) == ("INPUT", error.message.text("id"))
    message = Message("batch.bad_zip", "BadZipFile: File is not a zip file", path="k.zip")
    assert pickle.loads(pickle.dumps(message)).text("en") == message.text("en") == str(message)
    assert "BadZipFile" in str(message) and "BadZipFile" not in message.text("id")


# --------------------------------------------------------------------------------------------
# Click's own usage errors, policy errors and the policy command


@pytest.mark.parametrize("args, words", [
    (("check",), "PATH belum diisi"),
    (("check", "--lang", "fr", "foto.jpg"), "Pilihan: id, en"),
    (("check", "--reason", "kecantikan", "foto.jpg"), "Nilai untuk --reason tidak dikenal"),
    (("check", "--bogus", "foto.jpg"), "Opsi --bogus tidak dikenal"),
    (("check", "--birth-year", "1800", "foto.jpg"), "antara 1900 dan 2100"),
    (("check", "--reason"), "perlu diberi nilai"),
    (("periksa",), "Perintah periksa tidak dikenal"),
    (("schema", "lebih"), "argumen berlebih: lebih"),
    (("batch", "arsip", "--out", "r.jsonl", "--workers", "0"), "paling sedikit 1"),
    (("report", "tidak-ada.jsonl", "--html", "r.html"), "RESULTS tidak ada"),
    (("serve", "--port", "70000"), "antara 1 dan 65535"),
    (("check", "--policy", "tidak-ada", "foto.jpg"), "Kebijakan tidak-ada tidak dapat dimuat"),
    (("check", "--profile", "capture", "--policy", "replacement", "foto.jpg"),
     "Kebijakan replacement berjenis replacement, bukan capture"),
])
def test_usage_errors_in_indonesian(args, words):
    result = run(*args)
    assert result.exit_code == 2, result.output
    said = result.stderr
    assert said.startswith(f"photocheck: {i18n.text('cli.usage_error', 'id')}: "), said
    assert words.lower() in said.lower(), said
    assert not english_in(said), english_in(said)


def test_usage_errors_in_english_when_asked():
    for args in (("check", "--lang", "en", "--bogus", "x.jpg"),
                 ("check", "--lang=en", "--birth-year", "1800", "x.jpg"),
                 ("batch", "-l", "en", "x", "--out", "r.jsonl", "--workers", "0")):
        result = run(*args)
        assert result.exit_code == 2
        assert result.stderr.startswith("photocheck: Usage error: ")
        assert english_in(result.stderr)  # (the check above can fail)


def test_no_arguments_still_show_the_help():
    result = run()
    assert result.exit_code == 2 and "check" in result.output and "batch" in result.output


def test_policy_command_in_indonesian():
    result = run("policy")
    assert result.exit_code == 0
    assert result.stdout.startswith(i18n.text("cli.policy", "id"))
    assert "Warna latar" not in result.stdout  # (a replacement policy has no background rule)
    captured = run("policy", "--profile", "capture").stdout
    assert "merah untuk tahun lahir ganjil" in captured
    english_pieces = [piece for piece in english_in(captured)
                      if piece not in ("Fitted", "count")]  # (the policy file's own words)
    assert not english_pieces, english_pieces
    assert "Rules: " in run("policy", "--lang", "en").stdout


def test_serve_refuses_the_network_in_indonesian(monkeypatch):
    monkeypatch.delenv("PHOTOCHECK_API_KEY", raising=False)
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2 and "tanpa kunci API" in result.stderr
    assert not english_in(result.stderr), english_in(result.stderr)
