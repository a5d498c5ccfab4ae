"""Pure checkpoint converters: foreign weight layouts -> our state dicts.

* :mod:`.api`: :func:`~.api.convert_file` for any supported file, with format
  detection.
* :mod:`.caffe`: ``.caffemodel`` files (VGG_ILSVRC_16_layers, the released
  fcn32s/16s/8s-heavy-pascal and fcn8s-atonce-pascal nets), read without Caffe.
* :mod:`.pytorch_fcn`: wkentaro/pytorch-fcn state dicts and training checkpoints.
* :mod:`.torchvision`: torchvision VGG16 state dicts (backbone only).

Caffe and pytorch-fcn weights expect BGR 0-255 input minus the mean
(104.00699, 116.66877, 122.67892) with std 1 (``bgr_to_rgb=False``); torchvision
weights expect RGB with the ImageNet mean/std.

The package imports nothing itself, so that the models can use
:mod:`.torchvision` without an import loop; import the submodules.
"""
