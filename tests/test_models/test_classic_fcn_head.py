"""ClassicFCNHead: variants, init, output size, upsampling paths, other backbones."""
import pytest
import torch
import torch.nn.functional as F

from mmseg_fcn_classic.models.decode_heads.classic_fcn_head import Upscore
from mmseg_fcn_classic.models.utils.geometry import bilinear_kernel, bilinear_upsample_weight
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


def test_frozen_2x_upscore_doubles_constant_map():
    up = Upscore(NUM_CLASSES, 2)
    x = torch.full((1, NUM_CLASSES, 5, 6), 3.0)
    out = up(x)
    assert out.shape == (1, NUM_CLASSES, 12, 14)
    torch.testing.assert_close(out[..., 2:-2, 2:-2],
                               torch.full((1, NUM_CLASSES, 8, 10), 3.0))
    assert out[..., 0, 0].lt(3.0).all()  # the border fades out


@pytest.mark.parametrize('factor', [2, 8, 16, 32])
def test_grouped_fast_path_equals_dense(monkeypatch, factor):
    up = Upscore(NUM_CLASSES, factor)
    with torch.no_grad():  # per-channel diagonal kernels, still diagonal
        for c in range(NUM_CLASSES):
            up.weight[c, c] *= c + 1
    x = torch.randn(2, NUM_CLASSES, 7, 5)
    groups = []
    real = F.conv_transpose2d

    def spy(*args, **kwargs):
        groups.append(kwargs.get('groups', 1))
        return real(*args, **kwargs)

    monkeypatch.setattr(F, 'conv_transpose2d', spy)
    fast = up(x)
    dense = real(x, up.weight, stride=factor)
    assert groups == [NUM_CLASSES]
    torch.testing.assert_close(fast, dense, rtol=1e-4, atol=1e-4)

    # an off-diagonal entry, even one written through .data, means the dense path
    up.weight.data[0, 1, 0, 0] = 0.5
    torch.testing.assert_close(up(x), real(x, up.weight, stride=factor))
    assert groups == [NUM_CLASSES, 1]

    # a learnable upsampling trains densely, so off-diagonal entries get gradients
    up = Upscore(NUM_CLASSES, factor, trainable=True)
    up(x).sum().backward()
    assert groups[-1] == 1 and up.weight.grad[0, 1].abs().sum() > 0


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


def test_bilinear_kernel_used_by_upscore():
    assert torch.equal(Upscore(2, 4).weight[1, 1], bilinear_kernel(8))


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
