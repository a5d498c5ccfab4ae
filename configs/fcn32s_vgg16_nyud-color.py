# FCN-32s on NYUDv2 colour, from ImageNet VGG16 (reference nyud-fcn32s-color).
# Reference result (CVPR paper Table 4, FCN-32s RGB): mean IU 29.2
_base_ = [
    './_base_/models/fcn32s_vgg16_nyud.py', './_base_/datasets/nyud.py',
    './_base_/schedules/fcn_nyud_100k.py', './_base_/default_runtime.py'
]
modalities = ('color', )
model = dict(data_preprocessor=dict(modalities=modalities))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference nyud-fcn32s-color base_lr
