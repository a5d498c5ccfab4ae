# NYUDv2, 40 classes, read in place. data_root holds what the reference's prepared
# nyud.tar.gz (http://dl.caffe.berkeleyvision.org/nyud.tar.gz) extracts to, plus its
# split lists (data/nyud/{train,val,test}.txt of fcn.berkeleyvision.org):
#   data/images/img_<id>.png  data/hha/img_<id>.png  data/depth/img_<id>.png
#   segmentation/img_<id>.mat  train.txt  val.txt  test.txt
# A leaf config sets the modalities the model reads on every dataset (and the model).
dataset_type = 'NYUDv2Dataset'
data_root = 'data/nyud'
# reference nyud_layers.py: whole images, no crop, resize or flip; random order.
# The loader stacks the modalities as one float image (colour BGR, HHA in file
# order, log depth), so a spatial transform added here moves all of them and the
# label together.
train_pipeline = [
    dict(type='LoadMultiModalImageFromFiles'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs'),
]
# sample_id: `tools/test.py --out DIR` names each prediction by its id (5001.png)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label', 'sample_id')
test_pipeline = [
    dict(type='LoadMultiModalImageFromFiles'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]  # mmseg's multi-scale test ratios
# `tools/test.py --tta`: every ratio, each unflipped and flipped, every modality alike
tta_pipeline = [
    dict(type='LoadMultiModalImageFromFiles'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadFCNAnnotations')],
            [dict(type='PackSegInputs', meta_keys=meta_keys)],
        ])
]
train_dataloader = dict(
    batch_size=1,  # reference: batch 1, whole images
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        split='trainval',  # reference trainval: train + val, 795 images (paper Table 4)
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        split='test',  # reference solve.py scores test (654 images): no held-out val
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
