# FCN-AlexNet (fcn.berkeleyvision.org voc-fcn-alexnet/net.py): AlexNet in CaffeNet's
# layer order with fc6 / fc7 as convolutions, one frozen bilinear upscore and a crop.
# The upscore's kernel (63, stride 32) and the crop (18) follow from AlexNet's
# layers: crop_offsets='alexnet_fc'.
data_preprocessor = dict(
    type='FCNDataPreProcessor',
    weights='caffe',  # BGR 0-255 minus (104.00699, 116.66877, 122.67892), as net.py
    size_divisor=1)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='AlexNetFC',
        # ImageNet AlexNet converted with tools/convert_weights.py
        # (docs/weights_and_inference.md, "The ImageNet AlexNet")
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/alexnet_caffe.pth')),
    decode_head=dict(
        type='ClassicFCNHead',
        skips=(),
        in_channels=4096,
        in_index=0,  # AlexNetFC's default output: fc7
        crop_offsets='alexnet_fc',
        num_classes=21,
        # reference: SoftmaxWithLoss(normalize=True, ignore_label=255): the mean over
        # the labelled pixels
        loss_decode=dict(type='CrossEntropyLoss', reduction='mean',
                         avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
