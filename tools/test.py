"""Test and evaluate a segmentor (mmseg command line).

Same as ``python -m mmseg_fcn_classic.tools.test`` or ``mmseg-fcn-test``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.test import main

if __name__ == '__main__':
    sys.exit(main())
