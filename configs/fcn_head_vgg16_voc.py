# Mixing the other way: mmseg's own FCNHead (two 3x3 convs + BN) on VGG16FC's fc7,
# trained on our VOC+SBD dataset. FCNHead upsamples bilinearly to the label size.
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/voc_sbd.py',
    './_base_/schedules/fcn_voc_100k.py', './_base_/default_runtime.py'
]
norm_cfg = dict(type='SyncBN', requires_grad=True)  # tools/train.py makes it BN on CPU
model = dict(
    backbone=dict(out_indices=(5, )),
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=4096,
        in_index=0,
        channels=512,
        num_convs=2,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(lr=0.01, momentum=0.9, weight_decay=5e-4))
