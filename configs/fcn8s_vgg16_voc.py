# FCN-8s, stage 3 of 3, from FCN-16s's final weights (reference voc-fcn8s).
# Reference result (mean IU, seg11valid): 65.5
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_voc_100k.py', './_base_/default_runtime.py'
]
model = dict(backbone=dict(init_cfg=None))  # everything comes from the 16s stage
optim_wrapper = dict(optimizer=dict(lr=1e-14))  # reference voc-fcn8s base_lr
# the final checkpoint of the previous stage's work dir (score_pool3 starts at zero)
load_from = 'stage://work_dirs/fcn16s_vgg16_voc'
