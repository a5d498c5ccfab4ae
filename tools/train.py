"""Train a segmentor (mmseg command line + --resume, --keep-freed-memory).

Same as ``python -m mmseg_fcn_classic.tools.train`` or ``mmseg-fcn-train``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.train import main

if __name__ == '__main__':
    sys.exit(main())
