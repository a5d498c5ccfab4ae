# FCN-32s RGB-HHA late fusion (reference nyud-fcn32s-color-hha): a colour and an HHA
# trunk, each with its score_fr from the single-modality FCN-32s (solve.py's
# surgery.transplant(..., suffix='color' / 'hha')); scores summed 0.5 / 0.5.
# Reference result (CVPR paper Table 4, FCN-32s RGB-HHA): mean IU 32.8
_base_ = [
    './_base_/models/fcn32s_vgg16_nyud-late-fusion.py', './_base_/datasets/nyud.py',
    './_base_/schedules/fcn_nyud_100k.py', './_base_/default_runtime.py'
]
modalities = ('color', 'hha')
stages = dict(color='stage://work_dirs/fcn32s_vgg16_nyud-color',
              hha='stage://work_dirs/fcn32s_vgg16_nyud-hha')
init = dict(type='Pretrained', checkpoint=stages)
model = dict(backbone=dict(init_cfg=init), decode_head=dict(init_cfg=init))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-12))  # reference nyud-fcn32s-color-hha base_lr
