"""Segment your own images with a config and checkpoint.

Same as ``python -m mmseg_fcn_classic.tools.infer`` or ``mmseg-fcn-infer``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.infer import main

if __name__ == '__main__':
    sys.exit(main())
