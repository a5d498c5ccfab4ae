# FCN-32s, stage 1 of 3, from ImageNet VGG16 (reference voc-fcn32s).
# Reference result (mean IU, seg11valid): 63.6
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_voc_100k.py', './_base_/default_runtime.py'
]
model = dict(decode_head=dict(skips=()))
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference voc-fcn32s base_lr
