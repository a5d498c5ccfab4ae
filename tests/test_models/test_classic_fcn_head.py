"""ClassicFCNHead: variants, init, output size, upsampling paths, other backbones."""
import pytest
import torch
import torch.nn.functional as F

from mmseg_fcn_classic.models.utils.geometry import bilinear_upsample_weight
from .conftest import (NUM_CLASSES, VARIANTS, backbone_cfg, build_model, head_cfg,
                       randomize_)

SIZES = [(1, 1), (1, 7), (2, 3), (17, 31), (32, 32), (33, 65), (64, 48), (97, 61),
         (500, 375)]
LAYERS = {
    '32s': (['score_fr'], ['upscore']),
    '16s': (['score_fr', 'score_pool4'], ['upscore2', 'upscore16']),
    '8s': (['score_fr', 'score_pool4', 'score_pool3'],
           ['upscore2', 'upscore_pool4', 'upscore8']),
}
UPSCORE_GEOMETRY = {'upscore': (64, 32), 'upscore2': (4, 2), 'upscore16': (32, 16),
                    'upscore_pool4': (4, 2), 'upscore8': (16, 8)}


@pytest.fixture(scope='module')
def backbone():
    return build_model(backbone_cfg()).eval()


@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
@pytest.mark.parametrize('size', SIZES)
def test_output_is_input_size(build, backbone, variant, size):
    head = build(head_cfg(variant))
    randomize_(head)
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        feats = backbone(x)
        out = head(feats, out_size=size)
        full = head(feats)  # the largest map aligned with the input's top-left
    assert out.shape == (2, NUM_CLASSES, *size)
    assert full.shape[-2] >= size[0] and full.shape[-1] >= size[1]
    torch.testing.assert_close(full[..., :size[0], :size[1]], out)


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_layers_names_shapes_and_reference_init(build, variant):
    head = build(head_cfg(variant))
    scores, upscores = LAYERS[variant]
    assert not hasattr(head, 'conv_seg') and head.dropout is None
    names = {k.rsplit('.', 1)[0] for k in head.state_dict()}
    assert names == set(scores + upscores)
    for name in scores:  # Caffe's default filler
        layer = getattr(head, name)
        assert layer.kernel_size == (1, 1)
        assert torch.all(layer.weight == 0) and torch.all(layer.bias == 0)
    for name in upscores:
        layer = getattr(head, name)
        k, s = UPSCORE_GEOMETRY[name]
        assert layer.bias is None and layer.stride == (s, s)
        assert layer.weight.shape == (NUM_CLASSES, NUM_CLASSES, k, k)
        assert torch.equal(layer.weight, bilinear_upsample_weight(NUM_CLASSES, k))
        assert not layer.weight.requires_grad  # frozen, as lr_mult=0 in the reference


def test_init_weights_restores_reference_init(build):
    head = build(head_cfg('8s'))
    randomize_(head)
    head.init_weights()
    assert torch.all(head.score_pool3.weight == 0)
    assert torch.equal(head.upscore8.weight, bilinear_upsample_weight(NUM_CLASSES, 16))


def test_learn_upsampling(build):
    head = build(head_cfg('16s', learn_upsampling=True))
    assert head.upscore2.weight.requires_grad and head.upscore16.weight.requires_grad


@pytest.mark.parametrize('kwargs,match', [
    (dict(skips=('pool3', )), 'prefix'),
    (dict(in_channels=(16, 16)), 'needs 3 inputs'),
    (dict(crop_offsets=(5, 9)), 'needs 3 crop offsets'),
    (dict(input_transform='resize_concat'), 'multiple_select'),
])
def test_bad_arguments(build, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(head_cfg('8s', **kwargs))


def test_default_inputs_follow_the_variant(build):
    head = build(dict(type='ClassicFCNHead', skips=('pool4', ), num_classes=21))
    assert head.in_channels == [512, 4096] and head.in_index == [1, 2]
    assert head.crop_offsets == (5, 27)


def test_at_once_scales_the_skips(build, backbone):
    plain = build(head_cfg('8s'))
    randomize_(plain)
    at_once = build(head_cfg('8s-atonce'))
    at_once.load_state_dict(plain.state_dict())
    x = torch.rand(1, 3, 45, 50)
    with torch.no_grad():
        pool3, pool4, fc7 = backbone(x)
        expected = plain((pool3 * 0.0001, pool4 * 0.01, fc7), out_size=(45, 50))
        out = at_once((pool3, pool4, fc7), out_size=(45, 50))
        unscaled = plain((pool3, pool4, fc7), out_size=(45, 50))
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, unscaled)


def test_gradients_reach_scores_and_convs_not_frozen_upscores(build):
    model = build(dict(type='EncoderDecoder', backbone=backbone_cfg(),
                       decode_head=head_cfg('8s')))
    randomize_(model.decode_head, upscore='bilinear')  # zero scores pass no gradient
    model.train()
    logits = model.decode_head(model.backbone(torch.rand(1, 3, 40, 36)), out_size=(40, 36))
    F.cross_entropy(logits, torch.randint(0, NUM_CLASSES, (1, 40, 36))).backward()
    for name in ('score_fr', 'score_pool4', 'score_pool3'):
        assert getattr(model.decode_head, name).weight.grad.abs().sum() > 0
    for name in ('conv1_1', 'conv3_3', 'conv5_3', 'fc7'):
        assert getattr(model.backbone, name).weight.grad.abs().sum() > 0
    for name in ('upscore2', 'upscore_pool4', 'upscore8'):
        weight = getattr(model.decode_head, name).weight
        assert weight.grad is None and not weight.requires_grad
    # every trainable parameter is used: DDP needs no find_unused_parameters
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_explicit_offsets_equal_derived(build, backbone):
    derived = build(head_cfg('8s'))
    randomize_(derived)
    explicit = build(head_cfg('8s', crop_offsets=(5, 9, 31)))
    explicit.load_state_dict(derived.state_dict())
    feats = backbone(torch.rand(1, 3, 30, 41))
    torch.testing.assert_close(explicit(feats, out_size=(30, 41)),
                               derived(feats, out_size=(30, 41)))


RESNET = dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
              out_indices=(1, 2, 3), norm_cfg=dict(type='BN'))


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
@pytest.mark.parametrize('size', [(1, 1), (33, 17), (64, 64), (100, 75)])
def test_center_crops_on_a_resnet(build, variant, size):
    """Any backbone with stride-8/16/32 maps: centred crops."""
    channels = (16, 32, 64)[-len(VARIANTS[variant]['in_channels']):]
    model = build(dict(type='EncoderDecoder', backbone=RESNET,
                       decode_head=head_cfg(variant, in_channels=channels,
                                            crop_offsets='center'),
                       test_cfg=dict(mode='whole'))).eval()
    randomize_(model.decode_head)
    with torch.no_grad():
        logits = model.predict(torch.rand(1, 3, *size))[0].seg_logits.data
    assert logits.shape == (NUM_CLASSES, *size)


@pytest.mark.parametrize('offsets, which', [
    ('vgg16_fc', r'the reference offsets, which fit the geometry of VGG16FC'),
    ((5, 9, 31), 'which do not fit this backbone')])
def test_reference_crops_on_a_resnet_say_what_serves_it(build, offsets, which):
    model = build(dict(type='EncoderDecoder', backbone=RESNET,
                       decode_head=head_cfg('8s', in_channels=(16, 32, 64),
                                            crop_offsets=offsets),
                       test_cfg=dict(mode='whole'))).eval()
    with torch.no_grad(), pytest.raises(ValueError) as err:
        model.predict(torch.rand(1, 3, 64, 64))
    message = str(err.value)
    assert message.startswith('cannot crop a ') and which in message
    assert "set crop_offsets='center'" in message


def test_binary_head_is_a_two_class_softmax_without_mmseg_warning(build, recwarn):
    head = build(head_cfg('8s', num_classes=2))
    assert head.out_channels == 2
    assert not [w for w in recwarn if 'binary segmentation' in str(w.message)]
    assert build(head_cfg('8s', num_classes=2, out_channels=1)).out_channels == 1


def test_mmseg_fcn_head_on_vgg16fc(build):
    model = build(dict(
        type='EncoderDecoder', backbone=backbone_cfg(),
        decode_head=dict(type='FCNHead', in_channels=16, in_index=2, channels=8,
                         num_convs=1, concat_input=False, num_classes=NUM_CLASSES),
        test_cfg=dict(mode='whole'))).eval()
    x = torch.rand(1, 3, 50, 40)
    with torch.no_grad():
        assert model.decode_head(model.backbone(x)).shape[1] == NUM_CLASSES
        assert model.predict(x)[0].pred_sem_seg.shape == (50, 40)


def _samples(labels):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    return samples


LOSSES = {
    'mean': dict(type='CrossEntropyLoss'),
    'sum': dict(type='CrossEntropyLoss', reduction='sum'),
    'avg_non_ignore': dict(type='CrossEntropyLoss', avg_non_ignore=True),
    'class_weight': dict(type='CrossEntropyLoss', avg_non_ignore=True,
                         class_weight=[1.0, 2.0, 0.5]),
}


@pytest.mark.parametrize('loss', list(LOSSES))
def test_loss_by_feat_equals_mmseg(build, loss):
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    head = build(head_cfg('8s', loss_decode=LOSSES[loss]))
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, NUM_CLASSES, 20, 30, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (2, 20, 30), generator=gen)
    if loss != 'class_weight':  # mmseg indexes the class weights by 255 there
        labels[:, :3] = 255
    ours = head.loss_by_feat(logits, _samples(labels))
    theirs = BaseDecodeHead.loss_by_feat(head, logits, _samples(labels))
    assert set(ours) == set(theirs) == {'loss_ce', 'acc_seg'}
    for key in ours:
        torch.testing.assert_close(ours[key], theirs[key])


def test_class_weighted_mean_over_labelled_pixels(build):
    head = build(head_cfg('8s', loss_decode=LOSSES['class_weight']))
    logits = torch.randn(1, NUM_CLASSES, 6, 7)
    labels = torch.randint(0, NUM_CLASSES, (1, 6, 7))
    labels[:, 0] = 255
    expected = F.cross_entropy(logits, labels, weight=torch.tensor([1.0, 2.0, 0.5]),
                               ignore_index=255)
    torch.testing.assert_close(head.loss_by_feat(logits, _samples(labels))['loss_ce'],
                               expected)


def test_summed_loss_of_a_voc_image_stays_float32_under_fp16(build, backbone):
    """The reference loss sums over the pixels: about 5.7e5 for a 500x375 image
    at the start (zero scores, 21 classes), far beyond float16's 65504."""
    head = build(head_cfg('8s', num_classes=21, loss_decode=LOSSES['sum']))
    size = (375, 500)
    labels = torch.randint(0, 21, (1, *size), generator=torch.Generator().manual_seed(0))
    labels[:, :5] = 255
    with torch.no_grad():
        feats = backbone(torch.rand(1, 3, *size))
    expected = F.cross_entropy(torch.zeros(1, 21, *size), labels, ignore_index=255,
                               reduction='sum')
    assert expected > 5e5 > torch.finfo(torch.float16).max

    with torch.autocast('cpu', dtype=torch.float16):
        assert head(feats, out_size=size).dtype == torch.float16
        losses = head.loss(feats, _samples(labels), None)
    loss = losses['loss_ce']
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert torch.isfinite(head.score_fr.weight.grad).all()
    assert head.score_fr.weight.grad.abs().sum() > 0

    # fp16 logits outside autocast (a .half() model): summed in float32 too,
    # where mmseg's loss_by_feat sums in float16 and overflows
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    half = torch.zeros(1, 21, *size, dtype=torch.float16)
    torch.testing.assert_close(head.loss_by_feat(half, _samples(labels))['loss_ce'],
                               expected)
    assert torch.isinf(BaseDecodeHead.loss_by_feat(head, half, _samples(labels))['loss_ce'])


def test_alexnet_geometry_head(build):
    """crop_offsets='alexnet_fc': voc-fcn-alexnet's crop 18 and its bilinear,
    frozen upscore of kernel 63 / stride 32, both derived from AlexNet's layers;
    the logits come out at the input's size down to 1x1."""
    head = build(dict(type='ClassicFCNHead', skips=(), in_channels=16, in_index=0,
                      crop_offsets='alexnet_fc', num_classes=NUM_CLASSES))
    assert head.crop_offsets == (18, ) and head.upscore_kernels == (63, )
    assert head.upscore.weight.shape == (NUM_CLASSES, NUM_CLASSES, 63, 63)
    assert head.upscore.stride == (32, 32) and not head.upscore.weight.requires_grad
    assert torch.equal(head.upscore.weight, bilinear_upsample_weight(NUM_CLASSES, 63))
    backbone = build(dict(type='AlexNetFC', widths=(4, 8, 8, 16, 16),
                          fc_channels=16)).eval()
    randomize_(head)
    for size in [(1, 1), (7, 3), (45, 38)]:
        with torch.no_grad():
            assert head(backbone(torch.rand(1, 3, *size)), out_size=size).shape == (
                1, NUM_CLASSES, *size)
    with pytest.raises(ValueError, match='fc7 only'):
        build(dict(type='ClassicFCNHead', skips=('pool4', ), in_channels=(16, 16),
                   in_index=(0, 1), crop_offsets='alexnet_fc', num_classes=2))


def test_explicit_upscore_kernels(build):
    head = build(head_cfg('16s', crop_offsets=(5, 27), upscore_kernels=(4, 31)))
    assert head.upscore16.kernel_size == (31, 31)
    assert torch.equal(head.upscore16.weight, bilinear_upsample_weight(NUM_CLASSES, 31))
    with pytest.raises(ValueError, match='2 upsampling layers'):
        build(head_cfg('16s', upscore_kernels=(4, )))
    with pytest.raises(ValueError, match="crop_offsets must be one of"):
        build(head_cfg('16s', crop_offsets='resnet'))
