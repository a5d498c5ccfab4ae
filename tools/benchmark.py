"""What the classic FCNs cost: latency, training-step time, memory, FLOP/s, data rate.

Measures FCN-32s/16s/8s built from the shipped configs against a plain-PyTorch
FCN-8s, and the data pipelines; ``--help`` lists the options, ``docs/benchmarks.md``
holds the figures. The measurement code is the ``benchmarks`` package at the root
of this clone (not shipped with mmseg_fcn_classic); ``python -m benchmarks`` from
the clone's root is the same command.
The usage examples are in :mod:`benchmarks.cli`.
"""
import os.path as osp
import sys

# benchmarks/ lives next to tools/ in the clone and is not installed: make the
# clone's root importable (the worker processes get it through PYTHONPATH)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from benchmarks.cli import main  # noqa: E402

if __name__ == '__main__':
    main()
