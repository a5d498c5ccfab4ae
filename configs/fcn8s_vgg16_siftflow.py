# FCN-8s for SIFT Flow, stage 3 of 3, from FCN-16s's final weights: one trunk, a
# semantic head (33 classes) and a geometric head (3) (reference siftflow-fcn8s).
# The paper reports the FCN-16s net only (Table 5 of the CVPR paper).
_base_ = [
    './_base_/models/fcn8s_vgg16_siftflow.py', './_base_/datasets/siftflow.py',
    './_base_/schedules/fcn_siftflow_300k.py', './_base_/default_runtime_multi_head.py'
]
model = dict(backbone=dict(init_cfg=None))  # everything comes from the 16s stage
# reference siftflow-fcn8s base_lr (not the 1e-14 of voc-fcn8s)
optim_wrapper = dict(optimizer=dict(lr=1e-12))
# the final checkpoint of the previous stage (score_pool3_{sem,geo} start at zero)
load_from = 'stage://work_dirs/fcn16s_vgg16_siftflow'
