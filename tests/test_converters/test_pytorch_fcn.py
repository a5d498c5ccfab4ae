"""wkentaro/pytorch-fcn state dicts and checkpoints -> our state dict."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmseg_fcn_classic.converters.pytorch_fcn import (BACKBONE_LAYERS, convert_pytorch_fcn,
                                          convert_reference_state_dict, detect_variant)

from .reference_nets import build_fcn, reference_arrays, reference_forward


def _state_dict(arrays):
    """As ``FCN*.state_dict()``: reference names, module order."""
    return OrderedDict((k, torch.from_numpy(v.copy())) for k, v in arrays.items())


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_bare_state_dict(variant):
    arrays = reference_arrays(variant)
    state_dict, report = convert_pytorch_fcn(_state_dict(arrays))
    assert report['variant'] == variant and report['format'] == 'pytorch-fcn'
    assert report['dropped'] == [] and report['reshaped'] == []
    for src, dst, shape in report['mapped']:
        prefix = 'backbone.' if src.split('.')[0] in BACKBONE_LAYERS else 'decode_head.'
        assert dst == prefix + src
        assert torch.equal(state_dict[dst], torch.from_numpy(arrays[src]))
        assert shape == list(arrays[src].shape)
    assert len(state_dict) == len(arrays)


def test_trainer_checkpoint_with_module_prefix_and_arch():
    """torchfcn.Trainer saves model_state_dict next to the optimizer state."""
    arrays = reference_arrays('8s-atonce')
    sd = _state_dict(arrays)
    checkpoint = {
        'epoch': 3, 'iteration': 1000, 'arch': 'FCN8sAtOnce',
        'optim_state_dict': {'state': {}, 'param_groups': [{'lr': 1e-10}]},
        'model_state_dict': OrderedDict((f'module.{k}', v) for k, v in sd.items()),
        'best_mean_iu': np.float64(0.6),
    }
    state_dict, report = convert_pytorch_fcn(checkpoint)
    assert report['variant'] == '8s-atonce'
    assert any('model_state_dict' in n for n in report['notes'])
    assert any("'module.'" in n for n in report['notes'])
    assert torch.equal(state_dict['decode_head.upscore8.weight'], sd['upscore8.weight'])


def test_fcn8s_notes_the_atonce_ambiguity():
    _, report = convert_pytorch_fcn(_state_dict(reference_arrays('8s')))
    assert any('8s-atonce' in n for n in report['notes'])
    _, report = convert_pytorch_fcn(_state_dict(reference_arrays('8s')), '8s-atonce')
    assert report['variant'] == '8s-atonce'


def test_reference_vgg16_keeps_backbone_and_drops_fc8():
    arrays = reference_arrays('vgg16')
    state_dict, report = convert_reference_state_dict(_state_dict(arrays))
    assert report['variant'] == 'vgg16'
    assert set(state_dict) == {f'{n}.{p}' for n in BACKBONE_LAYERS
                               for p in ('weight', 'bias')}
    assert [k for k, _ in report['dropped']] == ['fc8.weight', 'fc8.bias']


@pytest.mark.parametrize('names, variant', [
    (['conv1_1.weight', 'fc7.bias'], 'vgg16'),
    (['score_fr.weight', 'upscore.weight'], '32s'),
    (['score_fr.weight', 'upscore2.weight', 'upscore16.weight'], '16s'),
    (['score_fr.weight', 'upscore2.weight', 'upscore8.weight'], '8s'),
])
def test_detect_variant(names, variant):
    assert detect_variant(names) == variant


def test_errors():
    arrays = reference_arrays('16s')
    with pytest.raises(ValueError, match="variant '32s'.*'16s'"):
        convert_pytorch_fcn(_state_dict(arrays), '32s')
    with pytest.raises(ValueError, match='unknown variant'):
        convert_pytorch_fcn(_state_dict(arrays), '4s')
    broken = _state_dict(arrays)
    del broken['fc6.bias']
    with pytest.raises(ValueError, match='missing layers for 16s: fc6.bias'):
        convert_pytorch_fcn(broken)
    broken = _state_dict(arrays)
    broken['score_pool4.weight'] = broken['score_pool4.weight'][:, :2]
    with pytest.raises(ValueError, match='score_pool4.weight.*2 input channels.*10'):
        convert_pytorch_fcn(broken)
    broken = _state_dict(arrays)
    broken['upscore16.weight'] = broken['upscore16.weight'][:2]
    with pytest.raises(ValueError, match=r'upscore16.weight.*expected \(5, 5, k, k\)'):
        convert_pytorch_fcn(broken)
    with pytest.raises(ValueError, match='no upscore'):
        convert_pytorch_fcn({'score_fr.weight': torch.zeros(1)})


@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
def test_converted_model_matches_reference_forward(variant):
    arrays = reference_arrays(variant, seed=3)
    state_dict, _ = convert_pytorch_fcn(_state_dict(arrays), variant)
    model = build_fcn(variant)
    model.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 29, 52, generator=torch.Generator().manual_seed(2)) * 50
    with torch.no_grad():
        ours = model.decode_head(model.backbone(x), out_size=x.shape[-2:])
    torch.testing.assert_close(ours, reference_forward(arrays, x, variant),
                               rtol=1e-4, atol=1e-4)
