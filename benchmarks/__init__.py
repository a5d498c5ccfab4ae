"""What the classic FCNs cost: latency, training-step time, memory, FLOP/s, data rate.

The measurement code behind ``tools/benchmark.py`` (not shipped with the package):
:mod:`.cases` (what is measured), :mod:`.workers` (one process per case),
:mod:`.probes` (timers, memory peaks, FLOP counts, the GEMM rate), :mod:`.report`
(ratios, targets, tables, ``docs/benchmarks.md``) and :mod:`.cli`. From a clone's
root: ``python -m benchmarks --help``.
"""
