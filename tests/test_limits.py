"""Tests for the resource limits (photocheck.limits) and every reader that applies them: files
(photocheck.load, the Checker), batch inputs (archive members, archives, manifests, resume),
and the report's thumbnails.

Bombs here are small: the limits are lowered instead (a member of 300 KB of zeros against a
byte limit of 100 KB is the same case as 4 GiB against 64 MiB). The full-size figures (a 6 MB
zip of 4 GiB + 2 GiB members, a 3 MB tar.gz of a 3 GiB member, a 13000 x 13000 PNG) are
measured by ``benchmarks/hostile_inputs.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from photocheck import Checker, ErrorCode, PhotocheckError
from photocheck.batch import collect_tasks, read_results, run_batch
from photocheck.limits import LIMITS_ENV, Limits, chunks_at_most
from photocheck.load import load_image
from photocheck.report import write_report

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PHOTO = SAMPLES / "astronaut_clear.jpg"


@pytest.fixture
def small() -> Limits:
    """The shipped limits lowered so that a few hundred KB is a bomb."""
    return dataclasses.replace(Limits.load(), max_image_bytes=100_000, max_pixels=1_000_000,
                               ratio_checked_above_bytes=10_000, max_archive_members=4,
                               max_manifest_rows=3)


def zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    archive.writestr(zipfile.ZipInfo(name), bytes(size), compress_type=zipfile.ZIP_DEFLATED)


def tar_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


# --------------------------------------------------------------------------------------------
# The settings


def test_shipped_limits_are_versioned_and_separate_from_the_policy():
    limits = Limits.load()
    assert limits.version and limits.max_image_bytes >= 20 * 2**20
    assert limits.max_pixels >= 40_000_000 and limits.max_member_compression_ratio > 10
    assert hash(limits) == hash(Limits.load())  # frozen: a cache key for workers' checkers


def test_a_site_file_replaces_the_limits_and_bad_files_are_refused(tmp_path, monkeypatch):
    text = (Path(__file__).resolve().parent.parent / "photocheck" / "limits.toml").read_text()
    site = tmp_path / "limits.toml"
    site.write_text(re.sub(r"max_pixels = [\d_]+", "max_pixels = 1234", text)
                    .replace('version = "', 'version = "site-'))
    monkeypatch.setenv(LIMITS_ENV, str(site))
    assert Limits.load().max_pixels == 1234 and Limits.load().version.startswith("site-")
    for bad, message in ((text.replace("max_pixels", "max_pixel"), "unknown key"),
                         (text.replace("max_pixels = 60_000_000", "max_pixels = 0"),
                          "positive integer"),
                         (text.replace("max_pixels = 60_000_000", "max_pixels = 1.5"),
                          "positive integer")):
        site.write_text(bad)
        with pytest.raises(ValueError, match=message):
            Limits.load(site)


def test_a_stream_is_never_read_past_the_limit():
    class Counting(io.BytesIO):
        read_total = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.read_total += len(data)
            return data

    stream = Counting(bytes(10_000_000))
    with pytest.raises(PhotocheckError) as refused:
        for _ in chunks_at_most(stream, 1000, "x.jpg"):
            pass
    assert refused.value.code is ErrorCode.TOO_LARGE
    assert Counting.read_total == 1001
    assert b"".join(chunks_at_most(io.BytesIO(b"abc"), 1000, "x.jpg")) == b"abc"


# --------------------------------------------------------------------------------------------
# Files: photocheck check and the API


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, small, checker):
    sparse = tmp_path / "huge.jpg"
    with open(sparse, "wb") as handle:  # 6 GB on paper, nothing on disk: reading it would OOM
        handle.write(PHOTO.read_bytes()[:4])
        handle.truncate(6 * 10**9)
    with pytest.raises(PhotocheckError) as refused:
        load_image(sparse, max_pixels=10**8, working_min_side=300, working_max_side=1600,
                   max_file_bytes=small.max_image_bytes)
    assert refused.value.code is ErrorCode.TOO_LARGE and "huge.jpg" in refused.value.message
    result = checker.check(sparse)  # the shipped limits (64 MiB): was a MemoryError
    assert (result.decision.value, result.error.code) == ("error", ErrorCode.TOO_LARGE)
    with Checker(limits=small) as strict:
        sparse.write_bytes(PHOTO.read_bytes() + bytes(200_000))
        result = strict.check(sparse)
        assert (result.decision.value, result.error.code) == ("error", ErrorCode.TOO_LARGE)
        assert strict.check(PHOTO).decision.value != "error"  # within 100 KB


def test_the_checker_takes_the_smaller_pixel_limit(tmp_path, small):
    big = tmp_path / "big.png"
    Image.new("L", (1200, 1000), 128).save(big)  # 1.2 MP, under the policy's 60 MP
    with Checker(limits=small) as checker:
        assert checker.check(big).error.code is ErrorCode.TOO_LARGE


# --------------------------------------------------------------------------------------------
# Batch: archive bombs, member counts, manifests, resume


@pytest.fixture
def bombs(tmp_path) -> list[Path]:
    photo = PHOTO.read_bytes()
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w") as archive:
        zeros_member(archive, "big.jpg", 300_000)  # declares 3x the byte limit
        zeros_member(archive, "dense.jpg", 60_000)  # under the limit, compressed 500 times
        archive.writestr("photo.jpg", photo)
    with tarfile.open(tmp_path / "bomb.tar.gz", "w:gz") as archive:
        tar_member(archive, "big.jpg", bytes(300_000))
        tar_member(archive, "photo.jpg", photo)
    return [tmp_path / "bomb.zip", tmp_path / "bomb.tar.gz"]


def test_archive_bombs_become_too_large_rows_and_resume_does_not_read_them(
        tmp_path, bombs, small, monkeypatch):
    tasks = collect_tasks(bombs, limits=small)
    out = tmp_path / "r.jsonl"
    summary = run_batch(tasks, out, workers=1, limits=small)
    assert summary.judged == 5
    rows = {row["path"].split("/")[-1]: row for row in read_results(out)}
    for name in ("bomb.zip!big.jpg", "bomb.zip!dense.jpg", "bomb.tar.gz!big.jpg"):
        assert (rows[name]["decision"], rows[name]["error_code"]) == ("error", "too_large")
        assert rows[name]["sha256"] == ""  # never read, so never hashed
    assert "more than 200 times" in rows["bomb.zip!dense.jpg"]["error_message"]
    for name in ("bomb.zip!photo.jpg", "bomb.tar.gz!photo.jpg"):
        assert rows[name]["decision"] != "error" and len(rows[name]["sha256"]) == 64

    opened: list[str] = []
    original = zipfile.ZipFile.open

    def recording(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording)
    again = run_batch(collect_tasks(bombs, limits=small), out, workers=1, limits=small)
    assert (again.judged, again.skipped) == (0, 5)
    assert opened == ["photo.jpg"]  # hashed; the bombs were refused on their declared sizes


def test_a_member_that_streams_more_than_it_declares_is_not_read_past_the_limit(
        tmp_path, small):
    """A tar header is the size; a zip's central directory may lie: zipfile stops at the
    declared size and the CRC then fails, so at most the declared (limited) size is read."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w") as archive:
        zeros_member(archive, "liar.jpg", 300_000)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24:central + 28] = (50_000).to_bytes(4, "little")  # claims 50 KB
    path.write_bytes(bytes(data))
    (task,) = collect_tasks([path], limits=small)
    with pytest.raises(PhotocheckError) as refused:
        task.read_bytes(small)
    assert refused.value.code in (ErrorCode.UNREADABLE, ErrorCode.TOO_LARGE)


def test_archives_and_manifests_over_their_count_limits_are_one_too_large_row(
        tmp_path, small):
    photo = PHOTO.read_bytes()
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as archive:
        for index in range(5):
            archive.writestr(f"{index}.jpg", photo)
    with tarfile.open(tmp_path / "many.tar", "w") as archive:
        for index in range(5):
            tar_member(archive, f"{index}.jpg", photo)
    (tmp_path / "photo.jpg").write_bytes(photo)
    (tmp_path / "many.csv").write_text("path,id\n" + "".join(f"photo.jpg,{i}\n"
                                                              for i in range(4)))
    with zipfile.ZipFile(tmp_path / "few.zip", "w") as archive:
        for index in range(4):
            archive.writestr(f"{index}.jpg", photo)
    inputs = [tmp_path / name for name in ("many.zip", "many.tar", "many.csv", "few.zip")]
    tasks = collect_tasks(inputs, limits=small)
    assert [task.path.split("/")[-1] for task in tasks] == [
        "many.zip", "many.tar", "many.csv", *(f"few.zip!{i}.jpg" for i in range(4))]
    for task in tasks[:3]:
        with pytest.raises(PhotocheckError) as error:
            task.read_bytes(small)
        assert error.value.code is ErrorCode.TOO_LARGE
        assert "more than" in error.value.message and "split it" in error.value.message


# --------------------------------------------------------------------------------------------
# Report: no more pixels than the checker may decode


def test_report_gives_an_image_over_the_pixel_limit_a_placeholder(tmp_path, monkeypatch):
    Image.new("L", (1500, 1500), 90).save(tmp_path / "huge.png")  # 2.25 MP
    Image.new("RGB", (300, 400), (200, 50, 50)).save(tmp_path / "fine.jpg")
    text = (Path(__file__).resolve().parent.parent / "photocheck" / "limits.toml").read_text()
    site = tmp_path / "limits.toml"
    site.write_text(re.sub(r"max_pixels = [\d_]+", "max_pixels = 1_000_000", text))
    monkeypatch.setenv(LIMITS_ENV, str(site))
    rows = [{"path": str(tmp_path / "huge.png"), "decision": "error", "reasons": [],
             "error_code": "too_large", "error_message": "too many pixels"},
            {"path": str(tmp_path / "fine.jpg"), "decision": "eligible", "reasons": ["blurry"]}]
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    html = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    thumbs = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html)
    assert len(thumbs) == 1 and html.count('class="ph"') == 1
    with Image.open(io.BytesIO(base64.b64decode(thumbs[0]))) as thumb:
        assert thumb.convert("RGB").getpixel((5, 5))[0] > 150  # the red fine.jpg
