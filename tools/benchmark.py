"""What the classic FCNs cost: latency, training-step time, memory, FLOP/s, data rate.

Measures FCN-32s/16s/8s built from the shipped configs against a plain-PyTorch
FCN-8s, and the data pipelines; ``--help`` lists the options, ``docs/benchmarks.md``
holds the figures. The measurement code is the ``benchmarks`` package at the root
of this clone (not shipped with mmseg_fcn_classic); ``python -m benchmarks`` from
the clone's root is the same command.

Usage::

    # the documented CPU run: JSON, and docs/benchmarks.md regenerated
    python tools/benchmark.py --out work_dirs/benchmark/cpu.json \\
        --markdown docs/benchmarks.md
    # GPU: fp32 and bf16 autocast + channels_last
    python tools/benchmark.py --device cuda --modes fp32 bf16-cl \\
        --out work_dirs/benchmark/cuda.json
    # smoke test: narrow model, small input, few repetitions
    python tools/benchmark.py --quick --out /tmp/benchmark_quick.json
    # data loading only: samples/s of one loader worker per shipped pipeline, and
    # the workers a GPU training at 300 images/s needs
    python tools/benchmark.py --data-only --gpu-rate 300
"""
import os.path as osp
import sys

# benchmarks/ lives next to tools/ in the clone and is not installed: make the
# clone's root importable (the worker processes get it through PYTHONPATH)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from benchmarks.cli import main  # noqa: E402

if __name__ == '__main__':
    main()
