"""Convert Caffe / pytorch-fcn / torchvision weights into our checkpoints.

Same as ``python -m mmseg_fcn_classic.tools.convert_weights`` or ``mmseg-fcn-convert-weights``;
``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.convert_weights import main

if __name__ == '__main__':
    sys.exit(main())
