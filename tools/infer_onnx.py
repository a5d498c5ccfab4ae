"""Segment images with an exported ONNX file; numpy, Pillow and onnxruntime only.

Same as ``mmseg-fcn-infer-onnx`` or ``python -m mmseg_fcn_classic_onnx`` (the code
lives in ``mmseg_fcn_classic_onnx.py``); ``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic_onnx import main

if __name__ == '__main__':
    sys.exit(main())
