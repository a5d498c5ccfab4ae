"""The main job on the embedded demo data (`make demo`).

Same as ``python -m mmseg_fcn_classic.tools.demo`` or ``mmseg-fcn-demo``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.demo import main

if __name__ == '__main__':
    sys.exit(main())
