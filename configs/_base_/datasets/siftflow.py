# SIFT Flow, read in place: data_root holds SiftFlowDataset.zip unpacked (Images/,
# SemanticLabels/, GeoLabels/) and the reference's trainval.txt / test.txt.
# Every sample carries the semantic labels (gt_seg_map -> gt_sem_seg) and the
# geometric ones (gt_geo_seg_map -> gt_geo_seg); spatial transforms move both.
dataset_type = 'SiftFlowDataset'
data_root = 'data/sift-flow'
# reference siftflow_layers.py: whole 256x256 images, no crop, resize or flip
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='LoadHeadAnnotations', head='geo'),
    dict(type='PackMultiLabelSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='LoadHeadAnnotations', head='geo'),
    dict(type='PackMultiLabelSegInputs'),
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]  # mmseg's multi-scale test ratios
# `tools/test.py --tta`: every ratio, each unflipped and flipped; MultiHeadSegTTAModel
# averages each head's softmax scores, resized back to the original image
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
            [dict(type='LoadHeadAnnotations', head='geo')],
            [dict(type='PackMultiLabelSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=1,  # reference: batch 1, whole images
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),  # reference: random order
    dataset=dict(
        type=dataset_type, data_root=data_root, split='trainval',  # 2,486 images
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test',  # 200 images
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# Table 5 of the FCN paper (CVPR): pixel acc., mean acc., mean IU and f.w. IU of the
# semantic head, mean IU over the classes present in the test labels (cow, desert
# and moon are not: logged), and the geometric head's pixel accuracy (geo.aAcc)
val_evaluator = dict(
    type='MultiHeadFCNMetric', heads=dict(geo=('aAcc', )), present_classes_only=True)
test_evaluator = val_evaluator
