"""Count a config's FLOPs and parameters (mmseg's get_flops.py fails upstream).

Same as ``python -m mmseg_fcn_classic.tools.flops`` or ``mmseg-fcn-flops``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.flops import main

if __name__ == '__main__':
    sys.exit(main())
