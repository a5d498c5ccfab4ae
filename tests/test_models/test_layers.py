"""``GemmConv2d`` gives the outputs and gradients of the plain convolutions, also as
the fc6 / fc7 of a registry-built FCN."""
import copy

import pytest
import torch
import torch.nn as nn

from mmseg_fcn_classic.models.layers import GemmConv2d
from mmseg_fcn_classic.testing.narrow import build_shipped, close, logits, randomize_

@pytest.mark.parametrize('cfg', [
    dict(in_channels=8, out_channels=12, kernel_size=7),
    dict(in_channels=16, out_channels=8, kernel_size=1),
    dict(in_channels=6, out_channels=5, kernel_size=3, stride=2, padding=1),
    dict(in_channels=6, out_channels=5, kernel_size=(3, 2), padding=(1, 0),
         bias=False),
    dict(in_channels=6, out_channels=4, kernel_size=3, groups=2),  # fallback
    dict(in_channels=6, out_channels=4, kernel_size=3, dilation=2),  # fallback
])
@pytest.mark.parametrize('batch', [1, 3])
def test_gemm_conv_matches_conv(cfg, batch):
    torch.manual_seed(0)
    conv = nn.Conv2d(**cfg)
    gemm = GemmConv2d.from_conv(conv)
    assert gemm.weight is conv.weight and gemm.bias is conv.bias
    assert gemm.state_dict().keys() == conv.state_dict().keys()
    x = torch.randn(batch, cfg['in_channels'], 11, 13, requires_grad=True)
    grad = torch.randn_like(conv(x))
    ref = torch.autograd.grad(conv(x), [x] + list(conv.parameters()), grad)
    out = gemm(x)
    assert out.shape == conv(x).shape
    assert close(out, conv(x))
    for a, b in zip(torch.autograd.grad(out, [x] + list(gemm.parameters()), grad),
                    ref):
        assert close(a, b)


def test_gemm_conv_falls_back_above_the_unfold_limit(monkeypatch):
    conv = nn.Conv2d(4, 6, 3)
    gemm = GemmConv2d.from_conv(conv)
    x = torch.randn(1, 4, 9, 9)
    calls = []
    monkeypatch.setattr(torch.nn.functional, 'unfold',
                        lambda *a, **k: calls.append(1) or torch.ones(0))
    monkeypatch.setattr(GemmConv2d, 'max_unfold_bytes', 4 * 4 * 9 * 49 - 1)
    assert close(gemm(x), conv(x)) and not calls


def _with_plain_fc(model):
    """A copy of ``model`` whose fc6 / fc7 are ordinary ``nn.Conv2d`` modules."""
    plain = copy.deepcopy(model)
    for name in ('fc6', 'fc7'):
        gemm = getattr(plain.backbone, name)
        conv = nn.Conv2d(gemm.in_channels, gemm.out_channels, gemm.kernel_size)
        conv.load_state_dict(gemm.state_dict())
        setattr(plain.backbone, name, conv)
    return plain


@pytest.mark.parametrize('variant', ['32s', '8s'])
def test_gemm_fc_layers_match_plain_convolutions(variant):
    model = build_shipped(f'fcn{variant}_vgg16_voc.py')
    randomize_(model, seed=1, upscore='bilinear')
    assert type(model.backbone.fc6) is GemmConv2d
    assert type(model.backbone.fc7) is GemmConv2d
    plain = _with_plain_fc(model)
    assert plain.state_dict().keys() == model.state_dict().keys()
    x = torch.randn(2, 3, 45, 61) * 50
    for m in (model, plain):
        m.eval()
    ref = logits(plain, x)
    out = logits(model, x)
    assert ref.abs().max() > 1  # a meaningful comparison, not zeros
    assert close(out, ref)

    def grads(m, logits):
        params = [p for p in m.parameters() if p.requires_grad]
        return torch.autograd.grad(logits.square().sum(), params)

    for a, b in zip(grads(model, out), grads(plain, ref)):
        assert close(a, b)
