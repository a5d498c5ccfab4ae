"""Export a trained segmentor to ONNX or a torch.export program.

Same as ``python -m mmseg_fcn_classic.tools.export`` or ``mmseg-fcn-export``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.export import main

if __name__ == '__main__':
    sys.exit(main())
