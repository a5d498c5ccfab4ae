"""Pure checkpoint converters: foreign weight layouts -> our state dicts.

* :mod:`.caffe`: ``.caffemodel`` files (VGG_ILSVRC_16_layers, the released
  fcn32s/16s/8s-heavy-pascal and fcn8s-atonce-pascal nets), read without Caffe.
* :mod:`.pytorch_fcn`: wkentaro/pytorch-fcn state dicts and training checkpoints.
* :mod:`.torchvision`: torchvision VGG16 state dicts (backbone only).

Caffe and pytorch-fcn weights expect BGR 0-255 input minus the mean
(104.00699, 116.66877, 122.67892) with std 1 (``bgr_to_rgb=False``); torchvision
weights expect RGB with the ImageNet mean/std.
"""
from .caffe import (CaffeFormatError, CaffeLayer, caffe_to_reference, convert_caffe,
                    is_caffemodel, parse_net_parameter, read_caffemodel)
from .pytorch_fcn import (BACKBONE_LAYERS, HEAD_LAYERS, VARIANTS,
                          convert_pytorch_fcn, convert_reference_state_dict,
                          detect_variant, unwrap_state_dict)
from .torchvision import convert_torchvision_vgg16

__all__ = [
    'BACKBONE_LAYERS', 'CaffeFormatError', 'CaffeLayer', 'HEAD_LAYERS', 'VARIANTS',
    'caffe_to_reference', 'convert_caffe', 'convert_pytorch_fcn',
    'convert_reference_state_dict', 'convert_torchvision_vgg16', 'detect_variant',
    'is_caffemodel',
    'parse_net_parameter', 'read_caffemodel', 'unwrap_state_dict'
]
