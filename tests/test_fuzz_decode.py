"""The short fuzz of the decode path (benchmarks/fuzz_decode.py runs the long one): mutated
JPEG, PNG, WebP, BMP, TIFF and GIF photos never crash ``check``, never give ``internal``, and
never get a verdict when a decoder reports damage."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_decode.py"


def load_fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_decode", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_short_fuzz_of_the_decode_path():
    fuzz = load_fuzz_module()
    stats = fuzz.run(300, seed=11)
    summary = fuzz.report(stats)
    assert stats.inputs == 300
    assert stats.flagged >= 100, summary  # the mutations do damage what decoders can see
    assert stats.escaped == [], summary
    assert stats.internal == [], summary
    assert stats.verdicts_on_flagged == [], summary
