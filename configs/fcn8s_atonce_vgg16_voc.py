# FCN-8s at-once: all skips trained together from ImageNet VGG16, pool4 scaled by
# 0.01 and pool3 by 0.0001 (reference voc-fcn8s-atonce).
# Reference result (mean IU, seg11valid): 65.4
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_voc_100k.py', './_base_/default_runtime.py'
]
model = dict(decode_head=dict(at_once=True))
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference voc-fcn8s-atonce base_lr
train_cfg = dict(max_iters=300000)  # reference voc-fcn8s-atonce max_iter
