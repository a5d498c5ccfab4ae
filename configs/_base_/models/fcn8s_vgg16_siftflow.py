# The two-headed FCN-8s of fcn.berkeleyvision.org's siftflow-fcn8s/net.py: one VGG16
# trunk; a semantic head (score_fr_sem, upscore2_sem, score_pool4_sem, ...) with 33
# classes and a geometric head (the same layers suffixed _geo) with 3. Each head has
# its own SoftmaxWithLoss(normalize=False, ignore_label=255), equally weighted
# (reference layers "loss" and "loss_geo"); logged as decode.sem.loss_ce and
# decode.geo.loss_ce.
data_preprocessor = dict(
    type='FCNDataPreProcessor',
    weights='caffe',
    mean=(114.578, 115.294, 108.353),  # reference siftflow_layers.py (BGR, std 1)
    size_divisor=1)
fcn_head = dict(
    type='ClassicFCNHead',  # FCN-8s: skips ('pool4', 'pool3') by default
    loss_decode=dict(type='CrossEntropyLoss', reduction='sum'))  # summed, batch 1
model = dict(
    type='MultiHeadEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='VGG16FC',
        # ImageNet VGG16 converted with tools/convert_weights.py (see README)
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vgg16_caffe.pth')),
    # the primary head first: its labels are gt_sem_seg, its prediction pred_sem_seg
    decode_head=dict(
        sem=dict(fcn_head, num_classes=33),
        geo=dict(fcn_head, num_classes=3)),  # gt_geo_seg -> pred_geo_seg
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
