"""What the classic FCNs cost: latency, training-step time, memory, FLOP/s, data rate.

The measurement code behind ``tools/benchmark.py`` (not shipped with the package):
:mod:`.cases` (the model cases), :mod:`.workers` (one process per case),
:mod:`.probes` (timers, memory peaks, FLOP counts, the GEMM rate), :mod:`.data`
(one loader worker per shipped training pipeline, workers needed), :mod:`.report`
(ratios, targets, tables, ``docs/benchmarks.md``) and :mod:`.cli`. Besides:
:mod:`.sync_check` (host syncs in a training step) and ``gpu_check.sh`` (issue 12's
GPU figures in one run). From a clone's root: ``python -m benchmarks --help``.
"""
