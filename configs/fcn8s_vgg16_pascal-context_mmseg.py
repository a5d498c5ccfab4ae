# The released FCN-8s PASCAL-Context net on mmseg's own PASCAL-Context layout
# (VOC2010/SegmentationClassContext PNGs, its 60 classes in alphabetical order),
# via mmseg's dataset base. Convert the weights by class name to these classes:
#   python tools/convert_weights.py pascalcontext-fcn8s-heavy.caffemodel \
#       checkpoints/fcn8s_pascal-context_mmseg.pth \
#       --config configs/fcn8s_vgg16_pascal-context_mmseg.py
# Reference result (mean IU, 59-class task, paper Table 6): 35.1
_base_ = [
    './_base_/models/fcn8s_vgg16.py', 'mmseg::_base_/datasets/pascal_context.py',
    './_base_/schedules/fcn_context_300k.py', './_base_/default_runtime.py'
]
model = dict(backbone=dict(init_cfg=None), decode_head=dict(num_classes=60))
load_from = 'checkpoints/fcn8s_pascal-context_mmseg.pth'  # the converted weights
# fine-tuning: the reference pascalcontext-fcn8s solver (base_lr 1e-14, summed loss,
# batch 1) over mmseg's augmenting train pipeline
optim_wrapper = dict(optimizer=dict(lr=1e-14))
train_dataloader = dict(batch_size=1)
# evaluate whole images at their own size, as the reference does (mmseg's base
# resizes them to 520); our FCNMetric instead of mmseg's IoUMetric
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='FCNMetric')
test_evaluator = val_evaluator
# `tools/test.py --tta` (mmseg's base has no tta_pipeline): six scales, plain and
# flipped, softmax scores averaged at the original size
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True)
             for r in [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
