# FCN-AlexNet: AlexNet (CaffeNet) from ImageNet, one stride-32 stream, trained with
# a normalised loss, momentum 0.9 and gradient accumulation (reference
# voc-fcn-alexnet).
# Reference result (mean IU, seg11valid): 48.0
_base_ = [
    './_base_/models/fcn32s_alexnet.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_alexnet_100k.py', './_base_/default_runtime.py'
]
