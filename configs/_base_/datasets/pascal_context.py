# PASCAL-Context (the 59-class task), read in place. data_root holds VOC2010/ (from
# VOCtrainval_03-May-2010.tar: JPEGImages, ImageSets/Main) and PASCAL-Context's own
# files: trainval/<id>.mat (trainval.tar.gz), labels.txt and 59_labels.txt.
dataset_type = 'PascalContextFCNDataset'
data_root = 'data/pascal_context'
# reference pascalcontext_layers.py: whole images, no crop, resize or flip; random
# order; labels mapped 459 -> 59 + background (60 trained classes, nothing ignored).
# Its mean (104.007, 116.669, 122.679) is the VOC layers' rounded: the models'
# FCNDataPreProcessor(weights='caffe') subtracts (104.00699, ...), < 4e-4 apart.
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
# `tools/test.py --tta`: every ratio, each unflipped and flipped
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
# loader settings as in voc_sbd.py (per rank, sized for a GPU at batch 1)
train_dataloader = dict(
    batch_size=1,  # reference: batch 1, whole images
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train',  # 4,998 images
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        split='val',  # reference: VOC2010 val, 5,105 images (solver test_iter 5105)
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mean IU over the 60 classes, background included, as the reference score.py
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
