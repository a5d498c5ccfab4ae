# FCN-32s RGB-D early fusion (reference nyud-fcn32s-color-d): colour and log depth as
# one 4-channel input; conv1_1 (the reference conv1_1_bgrd) from ImageNet VGG16 with
# the B, G, R filters copied and the depth filter their mean (solve.py's surgery).
# Reference result (CVPR paper Table 4, FCN-32s RGBD): mean IU 30.5. No released weights.
_base_ = [
    './_base_/models/fcn32s_vgg16_nyud.py', './_base_/datasets/nyud.py',
    './_base_/schedules/fcn_nyud_100k.py', './_base_/default_runtime.py'
]
modalities = ('color', 'depth')
model = dict(
    data_preprocessor=dict(modalities=modalities),
    backbone=dict(in_channels=4, init_cfg=dict(extra_channels='mean')))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-10))  # reference nyud-fcn32s-color-d base_lr
