# FCN-32s on PASCAL-Context, stage 1 of 3, from ImageNet VGG16 (reference
# pascalcontext-fcn32s): 60 outputs, background and the 59-class task.
# Reference result (mean IU, 59-class task, paper Table 6): 31.8
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/pascal_context.py',
    './_base_/schedules/fcn_context_300k.py', './_base_/default_runtime.py'
]
model = dict(decode_head=dict(skips=(), num_classes=60))
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference pascalcontext-fcn32s base_lr
