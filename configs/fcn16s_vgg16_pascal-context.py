# FCN-16s on PASCAL-Context, stage 2 of 3, from FCN-32s's final weights (reference
# pascalcontext-fcn16s).
# Reference result (mean IU, 59-class task, paper Table 6): 34.8
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/pascal_context.py',
    './_base_/schedules/fcn_context_300k.py', './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(init_cfg=None),  # everything comes from the 32s stage
    decode_head=dict(skips=('pool4', ), num_classes=60))
optim_wrapper = dict(optimizer=dict(lr=1e-12))  # reference pascalcontext-fcn16s base_lr
# the final checkpoint of the previous stage's work dir (score_pool4 starts at zero)
load_from = 'stage://work_dirs/fcn32s_vgg16_pascal-context'
