# FCN-8s on VGG16 (fcn.berkeleyvision.org voc-fcn8s/net.py).
# `weights` in the data preprocessor is the one key for the input convention:
#   'caffe'       BGR, 0-255, minus mean (104.00699, 116.66877, 122.67892), std 1
#                 (reference VGG_ILSVRC_16_layers / released FCN weights)
#   'torchvision' RGB with ImageNet mean/std (torchvision's vgg16 weights)
data_preprocessor = dict(
    type='FCNDataPreProcessor',
    weights='caffe',
    size_divisor=1)  # pad a batch to its largest image only; batch 1 is not padded
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='VGG16FC',
        # ImageNet VGG16 converted with tools/convert_weights.py
        # (docs/weights_and_inference.md)
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vgg16_caffe.pth')),
    decode_head=dict(
        type='ClassicFCNHead',  # FCN-8s: skips ('pool4', 'pool3') by default
        num_classes=21,
        # reference: SoftmaxWithLoss(normalize=False, ignore_label=255): summed over
        # pixels (Caffe divides by the batch size, which is 1)
        loss_decode=dict(type='CrossEntropyLoss', reduction='sum')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
