# FCN-16s, stage 2 of 3, from FCN-32s's final weights (reference voc-fcn16s).
# Reference result (mean IU, seg11valid): 65.0
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_voc_100k.py', './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(init_cfg=None),  # everything comes from the 32s stage
    decode_head=dict(skips=('pool4', )))
optim_wrapper = dict(optimizer=dict(lr=1e-12))  # reference voc-fcn16s base_lr
# the final checkpoint of the previous stage's work dir (score_pool4 starts at zero)
load_from = 'stage://work_dirs/fcn32s_vgg16_voc'
