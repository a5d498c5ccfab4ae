"""VGG16FC: layout, levels, freezing and pretrained weights in every layout."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_fcn_classic.converters.torchvision import convert_torchvision_vgg16
from .conftest import FC_CHANNELS, WIDTHS, backbone_cfg, randomize_

REFERENCE_NAMES = [f'conv{b}_{i}' for b, n in enumerate((2, 2, 3, 3, 3), 1)
                   for i in range(1, n + 1)] + ['fc6', 'fc7']
#: torchvision's vgg16 ``features`` indices of the convs, 'M' for its max-pools.
TORCHVISION_FEATURES = [0, 2, 'M', 5, 7, 'M', 10, 12, 14, 'M', 17, 19, 21, 'M', 24, 26,
                        28, 'M']


def ceil_half(n, times=1):
    for _ in range(times):
        n = math.ceil(n / 2)
    return n


def test_reference_keys_and_full_size_shapes(build):
    net = build(dict(type='VGG16FC'))
    keys = list(net.state_dict())
    assert keys == [f'{n}.{p}' for n in REFERENCE_NAMES for p in ('weight', 'bias')]
    assert net.conv1_1.padding == (100, 100) and net.conv1_2.padding == (1, 1)
    assert net.fc6.weight.shape == (4096, 512, 7, 7) and net.fc6.padding == (0, 0)
    assert net.fc7.weight.shape == (4096, 4096, 1, 1)
    assert [net.get_submodule(f'conv{b}_1').out_channels for b in range(1, 6)] == [
        64, 128, 256, 512, 512]
    assert all(getattr(net, f'pool{b}').ceil_mode for b in range(1, 6))
    assert net.drop6.p == net.drop7.p == 0.5


@pytest.mark.parametrize('size', [(1, 1), (5, 9), (32, 32), (97, 61)])
def test_levels_shapes(build, size):
    net = build(backbone_cfg(out_indices=(0, 1, 2, 3, 4, 5))).eval()
    outs = net(torch.rand(2, 3, *size))
    channels = list(WIDTHS) + [FC_CHANNELS]
    for level, (out, ch) in enumerate(zip(outs, channels)):
        times = min(level + 1, 5)
        expected = [ceil_half(s + 198, times) for s in size]  # conv1_1 pads by 100
        if level == 5:  # fc6: 7x7 without padding
            expected = [e - 6 for e in expected]
        assert out.shape == (2, ch, *expected), level


def test_default_out_indices_are_pool3_pool4_fc7(build):
    net = build(backbone_cfg()).eval()
    pool3, pool4, fc7 = net(torch.rand(1, 3, 64, 64))
    assert (pool3.shape[1], pool4.shape[1], fc7.shape[1]) == (8, 16, 16)


def test_truncated_at_deepest_level(build):
    net = build(backbone_cfg(out_indices=(3, 2)))
    assert not hasattr(net, 'fc6') and not hasattr(net, 'conv5_1')
    pool4, pool3 = net(torch.rand(1, 3, 40, 40))
    assert (pool4.shape[1], pool3.shape[1]) == (16, 8)
    with pytest.raises(ValueError, match='out_indices'):
        build(backbone_cfg(out_indices=(6, )))


@pytest.mark.parametrize('frozen_stages', [-1, 2, 5, 6])
def test_frozen_stages(build, frozen_stages):
    net = build(backbone_cfg(frozen_stages=frozen_stages))
    net.train()
    for layer in net.layer_specs:
        module = getattr(net, layer.name)
        frozen = layer.stage <= frozen_stages
        assert all(p.requires_grad != frozen for p in module.parameters()), layer.name
    assert net.drop6.training == (frozen_stages < 6)
    out = net(torch.rand(1, 3, 32, 32))[-1]
    assert out.requires_grad == (frozen_stages < 6)
    if out.requires_grad:
        out.sum().backward()
        assert (net.conv1_1.weight.grad is None) == (frozen_stages >= 1)


def _torchvision_state_dict(seed=0):
    """A narrow VGG16 in torchvision's key layout, fc8 included."""
    gen = torch.Generator().manual_seed(seed)
    sd, cin, block = {}, 3, 0
    for item in TORCHVISION_FEATURES:
        if item == 'M':
            block += 1
            continue
        cout = WIDTHS[block]
        sd[f'features.{item}.weight'] = torch.randn(cout, cin, 3, 3, generator=gen) * (
            2 / (9 * cin))**0.5
        sd[f'features.{item}.bias'] = torch.randn(cout, generator=gen) * 0.1
        cin = cout
    fc_in = [WIDTHS[-1] * 49, FC_CHANNELS, FC_CHANNELS]
    for index, fin, fout in zip((0, 3, 6), fc_in, (FC_CHANNELS, FC_CHANNELS, 10)):
        sd[f'classifier.{index}.weight'] = torch.randn(fout, fin, generator=gen) * (
            2 / fin)**0.5
        sd[f'classifier.{index}.bias'] = torch.randn(fout, generator=gen) * 0.1
    return sd


def _torchvision_style_forward(sd, x):
    """torchvision's vgg16 features + classifier (as a sliding FC) written out, on
    the reference geometry (conv1_1 padded by 100, ceil pooling). Returns pool3,
    pool4 and fc7 (eval mode)."""
    pools, h, first = [], x, True
    for item in TORCHVISION_FEATURES:
        if item == 'M':
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            pools.append(h)
            continue
        h = F.relu(F.conv2d(h, sd[f'features.{item}.weight'], sd[f'features.{item}.bias'],
                            padding=100 if first else 1))
        first = False
    n, _, height, width = h.shape
    # classifier.0 on every 7x7 window of pool5, flattened C, H, W like x.flatten(1)
    cols = F.unfold(h, 7)  # (N, C*49, L)
    fc6 = F.relu(sd['classifier.0.weight'] @ cols + sd['classifier.0.bias'][:, None])
    fc7 = F.relu(sd['classifier.3.weight'] @ fc6 + sd['classifier.3.bias'][:, None])
    return pools[2], pools[3], fc7.view(n, -1, height - 6, width - 6)


def test_convert_torchvision_report():
    sd = _torchvision_state_dict()
    new, report = convert_torchvision_vgg16(sd)
    assert sorted(new) == sorted(f'{n}.{p}' for n in REFERENCE_NAMES
                                 for p in ('weight', 'bias'))
    assert report['mapped']['features.0.weight'] == 'conv1_1.weight'
    assert report['mapped']['features.28.bias'] == 'conv5_3.bias'
    assert report['mapped']['classifier.3.weight'] == 'fc7.weight'
    assert report['reshaped'] == {
        'classifier.0.weight': ((FC_CHANNELS, WIDTHS[-1] * 49), (FC_CHANNELS, WIDTHS[-1], 7, 7)),
        'classifier.3.weight': ((FC_CHANNELS, FC_CHANNELS), (FC_CHANNELS, FC_CHANNELS, 1, 1)),
    }
    assert report['dropped'] == ['classifier.6.weight', 'classifier.6.bias']
    assert all(torch.equal(v, sd[k].view_as(v)) for k, v in
               ((k, new[report['mapped'][k]]) for k in report['mapped']))


def test_convert_torchvision_rejects_batch_norm():
    with pytest.raises(ValueError, match='batch-norm'):
        convert_torchvision_vgg16({'features.1.running_mean': torch.zeros(4)})


def test_torchvision_weights_via_init_cfg(build, tmp_path):
    sd = _torchvision_state_dict()
    path = str(tmp_path / 'vgg16_torchvision.pth')
    torch.save(sd, path)
    net = build(backbone_cfg(init_cfg=dict(type='Pretrained', checkpoint=path)))
    net.init_weights()
    net.eval()
    x = torch.randn(1, 3, 45, 38, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours = net(x)
        expected = _torchvision_style_forward(sd, x)
    for out, ref in zip(ours, expected):
        assert out.shape == ref.shape
        torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    assert ours[-1].abs().sum() > 0


def test_our_layout_and_full_model_checkpoints(build, tmp_path):
    src = build(backbone_cfg())
    randomize_(src, seed=1)
    ours = str(tmp_path / 'ours.pth')
    torch.save({'state_dict': src.state_dict(), 'meta': {}}, ours)
    full = str(tmp_path / 'full.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}
                | {'decode_head.score_fr.weight': torch.zeros(3, 16, 1, 1)}}, full)
    ddp = str(tmp_path / 'ddp.pth')
    torch.save({f'module.{k}': v for k, v in src.state_dict().items()}, ddp)
    for path in (ours, full, ddp):
        net = build(backbone_cfg(init_cfg=dict(type='Pretrained', checkpoint=path)))
        net.init_weights()
        for key, value in src.state_dict().items():
            assert torch.equal(net.state_dict()[key], value), (path, key)


def test_shape_mismatch_names_key_and_shapes(build, tmp_path):
    wide = build(backbone_cfg(widths=(8, 8, 8, 16, 16)))
    path = str(tmp_path / 'wide.pth')
    torch.save(wide.state_dict(), path)
    net = build(backbone_cfg(init_cfg=dict(type='Pretrained', checkpoint=path)))
    with pytest.raises(ValueError, match=r'conv1_1.weight: checkpoint \(8, 3, 3, 3\) '
                       r'vs model \(4, 3, 3, 3\)'):
        net.init_weights()


def test_no_matching_weights_is_an_error(build, tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'layer.weight': torch.zeros(1)}, path)
    net = build(backbone_cfg(init_cfg=dict(type='Pretrained', checkpoint=path)))
    with pytest.raises(ValueError, match='no weights for this model'):
        net.init_weights()


def test_without_pretrained_falls_back_to_mmengine_init(build):
    net = build(backbone_cfg(init_cfg=dict(type='Constant', val=0.5, bias=0,
                                           layer='Conv2d')))
    net.init_weights()
    assert torch.all(net.conv3_2.weight == 0.5) and torch.all(net.fc7.bias == 0)
