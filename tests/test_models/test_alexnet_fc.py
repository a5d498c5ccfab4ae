"""AlexNetFC: the layer table of voc-fcn-alexnet, Caffe's LRN and pooling, levels,
freezing and pretrained weights."""
import math

import pytest
import torch

from mmseg_fcn_classic.models.backbones.alexnet_fc import AlexNetFC
from mmseg_fcn_classic.models.utils.fcn_spec import alexnet_fc_layers

NARROW = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)

#: voc-fcn-alexnet/net.py, typed in: (name, kernel, stride, pad, group, outputs).
NET_PY = [('conv1', 11, 4, 100, 1, 96), ('pool1', 3, 2, 0, 1, 96),
          ('norm1', 1, 1, 0, 1, 96), ('conv2', 5, 1, 2, 2, 256),
          ('pool2', 3, 2, 0, 1, 256), ('norm2', 1, 1, 0, 1, 256),
          ('conv3', 3, 1, 1, 1, 384), ('conv4', 3, 1, 1, 2, 384),
          ('conv5', 3, 1, 1, 2, 256), ('pool5', 3, 2, 0, 1, 256),
          ('fc6', 6, 1, 0, 1, 4096), ('fc7', 1, 1, 0, 1, 4096)]


def test_layer_table_is_net_py():
    assert [(l.name, l.kernel_size, l.stride, l.padding, l.groups, l.out_channels)
            for l in alexnet_fc_layers()] == NET_PY
    assert [l.stage for l in alexnet_fc_layers()] == [1, 1, 1, 2, 2, 2, 3, 4, 5, 5, 6, 6]


def test_reference_keys_and_full_size_shapes(build):
    net = build(dict(type='AlexNetFC'))
    assert list(net.state_dict()) == [
        f'{n}.{p}' for n in ('conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7')
        for p in ('weight', 'bias')]
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()
              if k.endswith('weight')}
    assert shapes == {  # bvlc_alexnet / fcn-alexnet-pascal blob shapes
        'conv1.weight': (96, 3, 11, 11), 'conv2.weight': (256, 48, 5, 5),
        'conv3.weight': (384, 256, 3, 3), 'conv4.weight': (384, 192, 3, 3),
        'conv5.weight': (256, 192, 3, 3), 'fc6.weight': (4096, 256, 6, 6),
        'fc7.weight': (4096, 4096, 1, 1)}
    assert all(net.get_submodule(p).ceil_mode for p in ('pool1', 'pool2', 'pool5'))
    assert net.drop6.p == net.drop7.p == 0.5


def test_lrn_is_caffes_across_channels_formula():
    """``x / (1 + alpha / n * sum of x^2 over n neighbouring channels) ** beta``,
    written out per channel (zero beyond the first and last channel)."""
    net = AlexNetFC(**NARROW).eval()
    x = torch.randn(2, 7, 3, 4, generator=torch.Generator().manual_seed(0)) * 80
    expected = torch.empty_like(x)
    for c in range(7):
        window = x[:, max(0, c - 2):c + 3]
        expected[:, c] = x[:, c] / (1 + 1e-4 / 5 * (window ** 2).sum(1)) ** 0.75
    torch.testing.assert_close(net.norm1(x), expected)
    assert (net.norm1(x) - x).abs().max() > 1  # the normalisation does something


def _caffe_pooled(n, kernel=3, stride=2):
    return math.ceil((n - kernel) / stride) + 1


@pytest.mark.parametrize('size', [(1, 1), (6, 9), (33, 40)])
def test_levels_shapes(build, size):
    net = build(dict(type='AlexNetFC', out_indices=(0, 1, 2, 3), **NARROW)).eval()
    outs = net(torch.rand(1, 3, *size))
    conv1 = [(s + 200 - 11) // 4 + 1 for s in size]
    pool1 = [_caffe_pooled(s) for s in conv1]
    pool2 = [_caffe_pooled(s) for s in pool1]
    pool5 = [_caffe_pooled(s) for s in pool2]
    fc7 = [s - 5 for s in pool5]
    for out, channels, hw in zip(outs, (4, 8, 16, 16), (pool1, pool2, pool5, fc7)):
        assert out.shape == (1, channels, *hw)


def test_default_out_indices_and_truncation(build):
    net = build(dict(type='AlexNetFC', **NARROW))
    assert net.out_indices == (3, )
    shallow = build(dict(type='AlexNetFC', out_indices=(1, ), **NARROW))
    assert hasattr(shallow, 'pool2') and not hasattr(shallow, 'norm2')
    with pytest.raises(ValueError, match='out_indices'):
        build(dict(type='AlexNetFC', out_indices=(4, )))
    with pytest.raises(ValueError, match="arch 'alexnet' only"):
        build(dict(type='AlexNetFC', arch='vgg16'))


@pytest.mark.parametrize('frozen_stages', [2, 6])
def test_frozen_stages(build, frozen_stages):
    net = build(dict(type='AlexNetFC', frozen_stages=frozen_stages, **NARROW))
    net.train()
    for layer in net.layer_specs:
        frozen = layer.stage <= frozen_stages
        module = getattr(net, layer.name)
        assert all(p.requires_grad != frozen for p in module.parameters()), layer.name
    assert net.drop6.training == (frozen_stages < 6)


def test_pretrained_backbone_weights(build, tmp_path):
    source = AlexNetFC(**NARROW).state_dict()
    gen = torch.Generator().manual_seed(1)
    source = {k: torch.randn(v.shape, generator=gen) for k, v in source.items()}
    path = tmp_path / 'alexnet_caffe.pth'
    torch.save(source, path)
    net = build(dict(type='AlexNetFC', init_cfg=dict(type='Pretrained',
                                                     checkpoint=str(path)), **NARROW))
    net.init_weights()
    for key, value in net.state_dict().items():
        assert torch.equal(value, source[key]), key

    torchvision = tmp_path / 'alexnet-owt.pth'
    torch.save({'features.0.weight': torch.zeros(64, 3, 11, 11)}, torchvision)
    net = build(dict(type='AlexNetFC', init_cfg=dict(type='Pretrained',
                                                     checkpoint=str(torchvision))))
    with pytest.raises(ValueError, match='torchvision AlexNet weights, a different net'):
        net.init_weights()


def test_shipped_config_narrowed():
    """testing.narrow builds the FCN-AlexNet config narrow, with its geometry."""
    from mmseg_fcn_classic.testing.narrow import build_shipped, logits
    model = build_shipped('fcn32s_alexnet_voc.py').eval()
    assert isinstance(model.backbone, AlexNetFC)
    assert model.decode_head.crop_offsets == (18, )
    assert model.decode_head.upscore.kernel_size == (63, 63)
    with torch.no_grad():
        assert logits(model, torch.rand(1, 3, 11, 13)).shape == (1, 21, 11, 13)
