# FCN-16s for SIFT Flow, stage 2 of 3, from FCN-32s's final weights: one trunk, a
# semantic head (33 classes) and a geometric head (3) (reference siftflow-fcn16s).
# Reference result (Table 5 of the CVPR paper): pixel acc. 85.2, mean acc. 51.7,
# mean IU 39.5, f.w. IU 76.1, geometric acc. 94.3
_base_ = [
    './_base_/models/fcn8s_vgg16_siftflow.py', './_base_/datasets/siftflow.py',
    './_base_/schedules/fcn_siftflow_300k.py', './_base_/default_runtime_multi_head.py'
]
model = dict(
    backbone=dict(init_cfg=None),  # everything comes from the 32s stage
    decode_head=dict(sem=dict(skips=('pool4', )), geo=dict(skips=('pool4', ))))
optim_wrapper = dict(optimizer=dict(lr=1e-12))  # reference siftflow-fcn16s base_lr
# the final checkpoint of the previous stage (score_pool4_{sem,geo} start at zero)
load_from = 'stage://work_dirs/fcn32s_vgg16_siftflow'
