"""Scan a config's dataset and report every problem.

Same as ``python -m mmseg_fcn_classic.tools.check_dataset`` or ``mmseg-fcn-check-dataset``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.check_dataset import main

if __name__ == '__main__':
    sys.exit(main())
