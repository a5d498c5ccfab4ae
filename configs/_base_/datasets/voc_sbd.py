# PASCAL VOC 2012 + SBD, read in place. data_root holds what the official archives
# extract to: VOCdevkit/VOC2012 (VOCtrainval_11-May-2012.tar) and
# benchmark_RELEASE/dataset (SBD benchmark.tgz).
dataset_type = 'PascalVOCSBDDataset'
data_root = 'data/voc_sbd'
# reference voc_layers.py: whole images, no crop, resize or flip; random order
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs'),
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]  # mmseg's multi-scale test ratios
# `tools/test.py --tta`: every ratio, each unflipped and flipped; SegTTAModel averages
# the softmax scores, each resized back to the original image
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadFCNAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
# Loaders for GPU nodes (settings per rank): a worker loads one image at a time, so
# num_workers must be at least the GPU's training rate / one worker's loading rate
# (tools/benchmark.py measures both); 4 leaves headroom for a fast GPU at batch 1.
# pin_memory lets the preprocessor copy batches to the GPU without blocking; on a
# CPU-only machine it does nothing (torch warns once per loader).
train_dataloader = dict(
    batch_size=1,  # reference: batch 1, whole images
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='sbd_train',  # FCN paper
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        # FCN paper: seg11valid (736 ids) from data_root/seg11valid.txt (the reference
        # data/pascal/seg11valid.txt) when present, else VOC2012 val (1,449 ids)
        split='seg11valid', fallback_split='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
