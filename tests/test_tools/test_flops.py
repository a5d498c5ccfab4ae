"""mmseg-fcn-flops: the counts equal the layer arithmetic, computed independently."""
import torch
import torch.nn as nn

from mmseg_fcn_classic.models.layers import Upscore
from mmseg_fcn_classic.testing.narrow import build_shipped
from mmseg_fcn_classic.tools.flops import count_flops, main


def _layer_flops(model, shape):
    """2 x multiply-accumulates of every convolution, from its input / output."""
    total = []

    def conv(m, inputs, out):
        total.append(2 * out.numel() * m.in_channels // m.groups * m.kernel_size[0]
                     * m.kernel_size[1])

    def upscore(m, inputs, out):  # depthwise on the diagonal when frozen
        per_input = m.kernel_size[0] * m.kernel_size[1] * (
            1 if m.uses_fast_path else m.out_channels)
        total.append(2 * inputs[0].numel() * per_input)

    for m in model.modules():
        if isinstance(m, Upscore):
            m.register_forward_hook(upscore)
        elif isinstance(m, nn.Conv2d):  # GemmConv2d too
            m.register_forward_hook(conv)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, *shape), mode='tensor')
    return sum(total)


def test_count_flops_equals_the_layer_arithmetic():
    model = build_shipped('fcn8s_vgg16_voc.py')
    result = count_flops(model, (40, 52))
    assert result['flops'] == _layer_flops(model, (40, 52)) > 0
    assert result['macs'] * 2 == result['flops']
    assert set(result['by_module']) == {'backbone', 'decode_head'}
    assert sum(result['by_module'].values()) == result['flops']
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['trainable_params'] < result['params']  # frozen upscores


def test_main_on_a_shipped_config_by_name(capsys):
    assert main(['fcn8s_vgg16_demo', '--shape', '64', '48']) == 0
    out = capsys.readouterr().out
    assert 'fcn8s_vgg16_demo.py' in out and 'input (1, 3, 64, 48)' in out
    assert 'GFLOPs' in out and 'params:' in out
    assert main(['no_such_config']) == 1
    assert 'no_such_config' in capsys.readouterr().err
