"""Seconds and peak memory of hostile inputs: archive bombs, a huge file, a huge PNG.

    python benchmarks/hostile_inputs.py [--work-dir DIR] [--workers 2]

Builds once (kept in ``--work-dir`` for the next run; default a temporary folder removed at the
end, building takes about a minute):

* ``bomb.zip`` (6 MB): members ``a.jpg`` (4 GiB of zeros, deflated) and ``b.jpg`` (2 GiB), and
  one real photo (``samples/astronaut_clear.jpg``) after them;
* ``bomb.tar.gz`` (3 MB): member ``big.jpg`` (3 GiB of zeros), and the photo after it;
* ``huge.png``: 13000 x 13000 RGB pixels of one colour (0.5 MB, 169 megapixels);
* ``sparse.jpg``: a sparse 6 GB file (takes no disk).

Then runs, each in a fresh process (the console commands, in-process in a small runner):

1. ``photocheck batch bomb.zip bomb.tar.gz huge.png --out r.jsonl --workers N``;
2. the same command again: a resume, which hashes every done input in the parent;
3. ``photocheck report r.jsonl --html r.html`` (thumbnails of the flagged rows);
4. ``photocheck check sparse.jpg``.

For each it prints the wall time, the peak RSS of the command's own process (``RUSAGE_SELF``)
and of its largest child process, the workers (``RUSAGE_CHILDREN``, Linux: the largest
descendant that was waited for), and after the batch the rows (path, decision, error code).
The target: every hostile input an ``error`` row ``too_large`` in seconds, every process at
most 600 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "samples" / "astronaut_clear.jpg"
ZEROS = bytes(16 << 20)
INPUTS = ("bomb.zip", "bomb.tar.gz", "huge.png", "sparse.jpg")

#: Runs the photocheck CLI in this process and reports its peak RSS and its children's.
RUNNER = """
import json, resource, sys
from photocheck.cli import app
code = 0
try:
    app(sys.argv[1:], prog_name="photocheck")
except SystemExit as exc:
    code = exc.code
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("RUSAGE " + json.dumps({"self_kb": own, "children_kb": children, "exit": code}),
          file=sys.stderr)
"""


class _Zeros(io.RawIOBase):
    """``size`` zero bytes as a readable stream."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = ZEROS[:count] if count <= len(ZEROS) else bytes(count)
        self.left -= count
        return count


def build(folder: Path) -> None:
    """The hostile inputs, unless already there."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = PHOTO.read_bytes()
    if not (folder / "bomb.zip").exists():
        with zipfile.ZipFile(folder / "bomb.zip.tmp", "w") as archive:
            for name, size in (("a.jpg", 4 << 30), ("b.jpg", 2 << 30)):
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as member:
                    for start in range(0, size, len(ZEROS)):
                        member.write(ZEROS[:min(len(ZEROS), size - start)])
            archive.writestr("photo.jpg", photo)
        os.replace(folder / "bomb.zip.tmp", folder / "bomb.zip")
    if not (folder / "bomb.tar.gz").exists():
        with tarfile.open(folder / "bomb.tar.gz.tmp", "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for name, size, stream in (("big.jpg", 3 << 30, None), ("photo.jpg", len(photo),
                                                                    io.BytesIO(photo))):
                info = tarfile.TarInfo(name)
                info.size = size
                tar.addfile(info, stream or io.BufferedReader(_Zeros(size), 16 << 20))
        os.replace(folder / "bomb.tar.gz.tmp", folder / "bomb.tar.gz")
    if not (folder / "huge.png").exists():
        Image.fromarray(np.full((13000, 13000, 3), 200, np.uint8)).save(folder / "huge.png")
    with open(folder / "sparse.jpg", "wb") as handle:
        handle.write(photo[:4])
        handle.truncate(6 * 10**9)


def run(arguments: list[str], cwd: Path) -> dict:
    """Run ``photocheck ARGUMENTS`` in a fresh process: seconds, peak RSS (MB), exit code."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, *arguments], cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = [line for line in done.stderr.splitlines() if line.startswith("RUSAGE ")]
    if not lines:
        raise SystemExit(f"photocheck {' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    usage = json.loads(lines[-1][len("RUSAGE "):])
    return {"seconds": seconds, "self_mb": usage["self_kb"] / 1024,
            "children_mb": usage["children_kb"] / 1024, "exit": usage["exit"],
            "stdout": done.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, help="where the inputs are built and kept")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.build_only:
        build(options.work_dir)
        return
    folder = options.work_dir or Path(tempfile.mkdtemp(prefix="photocheck-hostile-"))
    try:
        started = time.perf_counter()
        # In a process of its own: a child forked from a process that held the 0.5 GB image
        # would report that process's RSS as its own peak (Linux keeps it across exec).
        subprocess.run([sys.executable, __file__, "--build-only", "--work-dir", str(folder)],
                       check=True)
        print(f"inputs in {folder} (built in {time.perf_counter() - started:.0f} s): "
              + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.1f} MiB"
                          for p in map(folder.joinpath, INPUTS)))
        out = folder / "r.jsonl"
        out.unlink(missing_ok=True)
        batch = ["batch", "bomb.zip", "bomb.tar.gz", "huge.png", "--out", out.name,
                 "--workers", str(options.workers)]
        steps = [("batch", batch), ("batch again (resume)", batch),
                 ("report", ["report", out.name, "--html", "r.html"]),
                 ("check sparse 6 GB", ["check", "sparse.jpg", "--json"])]
        print(f"{'step':24} {'seconds':>8} {'process MB':>11} {'largest child MB':>17} exit")
        for name, arguments in steps:
            figures = run(arguments, folder)
            print(f"{name:24} {figures['seconds']:8.1f} {figures['self_mb']:11.0f} "
                  f"{figures['children_mb']:17.0f} {figures['exit']}")
            if name == "batch":
                rows = [json.loads(line) for line in out.read_text().splitlines()]
            if name.startswith("check"):
                result = json.loads(figures["stdout"])
                print(f"    check: {result['decision']} {result['error']['code']}")
        for row in sorted(rows, key=lambda row: row["path"]):
            print(f"    {row['path']:28} {row['decision']:13} {row['error_code'] or ''}")
    finally:
        if options.work_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
