"""Test-data makers, not the checker: synthetic degradations of portraits (:mod:`.degrade`) and
synthetic photos of whole KTP-el-like cards (:mod:`.cards`), for the tests, the benchmarks and
``photocheck eval build``. Deterministic in their seeds; nothing here runs when a photo is
checked."""
