# The embedded demo (`make demo`): a narrow FCN-8s trained from scratch on CPU, in a
# few minutes, on synthetic polyp frames written in the polyps912 layout
# (mmseg_fcn_classic/testing/synthetic.py; written on first use by tools/demo.py).
_base_ = ['./fcn8s_vgg16_polyps912.py']
from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs  # noqa: E402

data_root = 'data/demo_polyps912'
crop_size = (64, 64)
narrow = dict(widths=(8, 16, 32, 32, 32), fc_channels=64)
model = dict(
    backbone=dict(**narrow, init_cfg=None),
    decode_head=head_inputs(**narrow))  # in_channels of pool3, pool4, fc7
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
# from scratch, so a larger step than the fine-tuning recipe's 1e-4
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=600, val_interval=200)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=200, save_best='mIoU', max_keep_ckpts=1))
randomness = dict(seed=0)
