"""Fuzz the decode path: mutated photos through ``Checker().check(bytes)``, figures printed.

    python benchmarks/fuzz_decode.py [--mutations 10000] [--seed 0]

Originals: the shipped clear samples (``samples/*_clear.jpg``), as baseline and progressive JPEG
and as PNG, WebP, BMP, TIFF and GIF. Each mutation is one of: bit flips, a run of random bytes
over the data, bytes inserted or deleted, a cut (for JPEG with the end marker appended, which
Pillow alone decodes silently), a header field overwritten. For each mutated input the script
asks an *oracle* whether a decoder reports damage: libjpeg-turbo in strict mode for JPEG, a CRC-32
walk for PNG, and Pillow's own exceptions for every format. Stray bytes between JPEG segments and
padding before the end marker are harmless quirks photocheck tolerates; they are counted apart.
It prints:

* exceptions escaping ``check`` (target 0) and ``internal`` results (target 0);
* verdicts on inputs the oracle flagged (target 0);
* how often an unflagged mutation changes the decision of its original (damage no decoder can
  see: a scan that resynchronised, flipped bits in raw BMP/TIFF pixels, VP8 data);
* the slowest input in seconds, and the resident memory after 500 inputs and at the end.

``tests/test_fuzz_decode.py`` runs a short version (300 mutations) in CI.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
#: Mutations per original before moving to the next, so every format is visited early.
_MUTATIONS = ("bit_flips", "random_run", "insert", "delete", "cut", "cut_with_end", "header")


@dataclass
class FuzzStats:
    """Counts of one fuzz run (see the module docstring for what each means)."""

    inputs: int = 0
    escaped: list[str] = field(default_factory=list)
    internal: list[str] = field(default_factory=list)
    flagged: int = 0
    tolerated: int = 0
    verdicts_on_flagged: list[str] = field(default_factory=list)
    unflagged: int = 0
    unflagged_changed: int = 0
    changed_by_format: Counter = field(default_factory=Counter)
    unflagged_errors: int = 0
    decisions: Counter = field(default_factory=Counter)
    max_seconds: float = 0.0
    slowest: str = ""
    rss_mb: dict[int, float] = field(default_factory=dict)


def originals() -> dict[str, bytes]:
    """The clear samples in every supported format, keyed ``name.format``."""
    out: dict[str, bytes] = {}
    for path in sorted(SAMPLES.glob("*_clear.jpg")):
        data = path.read_bytes()
        out[f"{path.stem}.jpg"] = data
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
        for name, fmt, params in (("prog.jpg", "JPEG", {"progressive": True, "quality": 90}),
                                  ("png", "PNG", {}), ("webp", "WEBP", {"quality": 90}),
                                  ("bmp", "BMP", {}), ("tif", "TIFF", {"compression": "tiff_lzw"}),
                                  ("gif", "GIF", {})):
            buf = io.BytesIO()
            (rgb.convert("P") if fmt == "GIF" else rgb).save(buf, fmt, **params)
            out[f"{path.stem}.{name}"] = buf.getvalue()
    return out


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    """One mutation of ``data`` (never the unchanged data)."""
    size = len(data)
    if kind == "bit_flips":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(size)] ^= 1 << rng.randrange(8)
    elif kind == "random_run":
        start, count = rng.randrange(size), rng.randint(1, 300)
        out = bytearray(data)
        out[start:start + count] = rng.randbytes(len(out[start:start + count]))
    elif kind == "insert":
        start = rng.randrange(size)
        out = bytearray(data[:start] + rng.randbytes(rng.randint(1, 64)) + data[start:])
    elif kind == "delete":
        start = rng.randrange(size)
        out = bytearray(data[:start] + data[start + rng.randint(1, 64):])
    elif kind in ("cut", "cut_with_end"):
        out = bytearray(data[: rng.randint(size // 10, size - 1)])
        if kind == "cut_with_end":
            out += b"\xff\xd9" if data[:2] == b"\xff\xd8" else data[-12:]  # EOI / IEND / trailer
    else:  # header: overwrite a few bytes among the first 300 (sizes, tables, chunk lengths)
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(min(300, size))] = rng.randrange(256)
    mutated = bytes(out)
    return mutated if mutated != data else mutated + b"\x00"


def oracle(data: bytes) -> str:
    """Does a decoder report damage in ``data``: ``flagged``, ``tolerated`` or ``clean``.

    ``tolerated``: libjpeg warns only of stray bytes that photocheck cuts out or takes as
    padding (reported as such by :func:`photocheck.integrity.check_jpeg`); counted apart.
    """
    if data[:3] == b"\xff\xd8\xff" and _libjpeg_flags(data):
        from photocheck.errors import PhotocheckError
        from photocheck.integrity import check_jpeg

        try:
            return "tolerated" if check_jpeg(data) else "flagged"
        except PhotocheckError:
            return "flagged"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and not _png_checksums_hold(data):
        return "flagged"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
        except Exception:
            return "flagged"
    return "clean"


def _libjpeg_flags(data: bytes) -> bool:
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True)
    except Exception:
        return True
    return False


def _png_checksums_hold(data: bytes) -> bool:
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        body = data[pos + 4:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(crc) < 4 or zlib.crc32(body) != int.from_bytes(crc, "big"):
            return False
        if body[:4] == b"IEND":
            return True
        pos += 12 + length
    return False


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def run(mutations: int, seed: int = 0, rss_at: tuple[int, ...] = (500,)) -> FuzzStats:
    """Run ``mutations`` mutated inputs through one Checker and count what happened."""
    import photocheck

    rng = random.Random(seed)
    sources = originals()
    stats = FuzzStats()
    with photocheck.Checker() as checker:
        expected = {name: checker.check(data).decision for name, data in sources.items()}
        names = list(sources)
        for index in range(mutations):
            name = names[index % len(names)]
            kind = _MUTATIONS[(index // len(names)) % len(_MUTATIONS)]
            data = mutate(sources[name], kind, rng)
            label = f"#{index} {name} {kind}"
            started = time.perf_counter()
            try:
                result = checker.check(data)
            except Exception as exc:  # the thing this script exists to find
                stats.escaped.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            finally:
                elapsed = time.perf_counter() - started
                if elapsed > stats.max_seconds:
                    stats.max_seconds, stats.slowest = elapsed, label
                stats.inputs += 1
                if stats.inputs in rss_at:
                    stats.rss_mb[stats.inputs] = rss_mb()
            decision = result.decision.value
            stats.decisions[decision] += 1
            if result.error is not None and result.error.code == "internal":
                stats.internal.append(f"{label}: {result.error.message}")
            seen = oracle(data)
            if seen == "tolerated":
                stats.tolerated += 1
            elif seen == "flagged":
                stats.flagged += 1
                if decision != "error":
                    stats.verdicts_on_flagged.append(f"{label}: {decision}")
            else:
                stats.unflagged += 1
                stats.unflagged_errors += decision == "error"
                if result.decision is not expected[name]:
                    stats.unflagged_changed += 1
                    stats.changed_by_format[name.split(".", 1)[1]] += 1
    stats.rss_mb[stats.inputs] = rss_mb()
    return stats


def report(stats: FuzzStats) -> str:
    share = stats.unflagged_changed / stats.unflagged if stats.unflagged else 0.0
    lines = [
        f"inputs                          {stats.inputs}",
        f"exceptions escaping             {len(stats.escaped)}",
        f"internal results                {len(stats.internal)}",
        f"decoder flagged                 {stats.flagged}",
        f"  verdicts on flagged inputs    {len(stats.verdicts_on_flagged)}  (target 0)",
        f"harmless quirks tolerated       {stats.tolerated}",
        f"not flagged                     {stats.unflagged}",
        f"  decision differs from original {stats.unflagged_changed} ({share:.1%}; "
        f"{stats.unflagged_errors} of them error results)",
        f"  ... by format                 {dict(stats.changed_by_format.most_common())}",
        f"decisions                       {dict(stats.decisions)}",
        f"slowest input                   {stats.max_seconds:.3f} s ({stats.slowest})",
        "RSS                             " + ", ".join(
            f"{rss:.0f} MB after {count}" for count, rss in sorted(stats.rss_mb.items())),
    ]
    for title, items in (("escaped", stats.escaped), ("internal", stats.internal),
                         ("verdict on flagged", stats.verdicts_on_flagged)):
        lines += [f"  {title}: {item}" for item in items[:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stats = run(args.mutations, args.seed)
    print(report(stats))
    print(f"wall time                       {time.perf_counter() - started:.0f} s")
    failed = stats.escaped or stats.internal or stats.verdicts_on_flagged
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
