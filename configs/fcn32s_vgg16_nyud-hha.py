# FCN-32s on NYUDv2 HHA (Gupta et al.'s depth encoding), from ImageNet VGG16
# (reference nyud-fcn32s-hha).
# Reference result (CVPR paper Table 4, FCN-32s HHA): mean IU 24.2
_base_ = [
    './_base_/models/fcn32s_vgg16_nyud.py', './_base_/datasets/nyud.py',
    './_base_/schedules/fcn_nyud_100k.py', './_base_/default_runtime.py'
]
modalities = ('hha', )
model = dict(data_preprocessor=dict(modalities=modalities))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference nyud-fcn32s-hha base_lr
