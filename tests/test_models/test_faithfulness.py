"""Same weights, same logits as the reference nets, written out independently.

The reference below is ``voc-fcn{32s,16s,8s,8s-atonce}/net.py`` transcribed layer by
layer with ``torch.nn.functional`` and the Caffe crop offsets as literals, the way
pytorch-fcn's ``FCN8s.forward`` does it.
"""
import pytest
import torch
import torch.nn.functional as F

from .conftest import NUM_CLASSES, randomize_, segmentor_cfg


def reference_fcn(p, x, variant):
    """The reference net's ``score`` blob, from a ``backbone.*`` /
    ``decode_head.*`` state dict, in test mode (dropout off)."""

    def conv_relu(h, name, pad=1):
        return F.relu(F.conv2d(h, p[f'backbone.{name}.weight'], p[f'backbone.{name}.bias'],
                               padding=pad))

    def score(h, name):
        return F.conv2d(h, p[f'decode_head.{name}.weight'], p[f'decode_head.{name}.bias'])

    def upscore(h, name, stride):
        return F.conv_transpose2d(h, p[f'decode_head.{name}.weight'], stride=stride)

    def pool(h):
        return F.max_pool2d(h, 2, stride=2, ceil_mode=True)

    h = conv_relu(x, 'conv1_1', pad=100)
    h = pool(conv_relu(h, 'conv1_2'))
    h = pool(conv_relu(conv_relu(h, 'conv2_1'), 'conv2_2'))
    h = pool(conv_relu(conv_relu(conv_relu(h, 'conv3_1'), 'conv3_2'), 'conv3_3'))
    pool3 = h
    h = pool(conv_relu(conv_relu(conv_relu(h, 'conv4_1'), 'conv4_2'), 'conv4_3'))
    pool4 = h
    h = pool(conv_relu(conv_relu(conv_relu(h, 'conv5_1'), 'conv5_2'), 'conv5_3'))
    h = conv_relu(h, 'fc6', pad=0)
    h = conv_relu(h, 'fc7', pad=0)
    h = score(h, 'score_fr')
    height, width = x.shape[2:]
    if variant == '32s':
        h = upscore(h, 'upscore', 32)
        return h[:, :, 19:19 + height, 19:19 + width]

    h = upscore(h, 'upscore2', 2)
    if variant == '8s-atonce':
        pool4, pool3 = pool4 * 0.01, pool3 * 0.0001
    s = score(pool4, 'score_pool4')
    h = h + s[:, :, 5:5 + h.shape[2], 5:5 + h.shape[3]]
    if variant == '16s':
        h = upscore(h, 'upscore16', 16)
        return h[:, :, 27:27 + height, 27:27 + width]

    h = upscore(h, 'upscore_pool4', 2)
    s = score(pool3, 'score_pool3')
    h = h + s[:, :, 9:9 + h.shape[2], 9:9 + h.shape[3]]
    h = upscore(h, 'upscore8', 8)
    return h[:, :, 31:31 + height, 31:31 + width]


@pytest.mark.parametrize('upscore', ['bilinear', 'random'])
@pytest.mark.parametrize('size', [(45, 38), (64, 64), (7, 100)])
@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
def test_same_logits_as_reference(build, variant, size, upscore):
    model = build(segmentor_cfg(variant)).eval()
    randomize_(model, seed=sum(size), upscore=upscore)
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1)) * 50
    metas = [dict(img_shape=x.shape[2:], ori_shape=size)] * 2
    with torch.no_grad():
        ours = model.encode_decode(x, metas)
        expected = reference_fcn(model.state_dict(), x, variant)
    assert ours.shape == expected.shape == (2, NUM_CLASSES, *size)
    assert expected.abs().max() > 1e-3  # a non-trivial comparison
    # float32 tolerance relative to the logits' scale (fc6/fc7 run as GEMMs, whose
    # summation order differs from the direct convolution's)
    scale = float(expected.abs().max())
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-5 * scale + 1e-5)
