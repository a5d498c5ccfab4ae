# FCN-8s on PASCAL-Context, stage 3 of 3, from FCN-16s's final weights (reference
# pascalcontext-fcn8s).
# Reference result (mean IU, 59-class task, paper Table 6): 35.1
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/pascal_context.py',
    './_base_/schedules/fcn_context_300k.py', './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(init_cfg=None),  # everything comes from the 16s stage
    decode_head=dict(num_classes=60))
optim_wrapper = dict(optimizer=dict(lr=1e-14))  # reference pascalcontext-fcn8s base_lr
# the final checkpoint of the previous stage's work dir (score_pool3 starts at zero)
load_from = 'stage://work_dirs/fcn16s_vgg16_pascal-context'
