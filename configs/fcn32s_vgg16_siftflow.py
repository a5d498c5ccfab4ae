# FCN-32s for SIFT Flow, stage 1 of 3, from ImageNet VGG16: one trunk, a semantic
# head (33 classes) and a geometric head (3) (reference siftflow-fcn32s).
# The paper reports the FCN-16s net only (Table 5 of the CVPR paper).
_base_ = [
    './_base_/models/fcn8s_vgg16_siftflow.py', './_base_/datasets/siftflow.py',
    './_base_/schedules/fcn_siftflow_300k.py', './_base_/default_runtime_multi_head.py'
]
model = dict(decode_head=dict(sem=dict(skips=()), geo=dict(skips=())))
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference siftflow-fcn32s base_lr
