"""siftflow-fcn{32,16,8}s-heavy.caffemodel: converted with tools/convert_weights.py,
loaded 1:1 into the shipped two-headed configs, both heads' logits equal to an
independent computation of the Caffe net (siftflow-fcn*/net.py) from the raw arrays."""
import numpy as np
import pytest
import torch

from mmseg_fcn_classic.converters.api import ConversionError, convert_file
from mmseg_fcn_classic.converters.caffe import convert_caffe, parse_net_parameter
from mmseg_fcn_classic.testing.narrow import build_shipped, close
from mmseg_fcn_classic.tools import convert_weights

from .reference_nets import (FC_CHANNELS, WIDTHS, siftflow_arrays,
                             siftflow_caffemodel_bytes, siftflow_reference_forward)

SIZES = [(1, 1), (5, 9), (23, 17), (40, 61)]


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_released_net_converts_and_equals_the_caffe_net(tmp_path, variant, capsys):
    arrays = siftflow_arrays(variant, seed=int(variant[:-1]))
    src = tmp_path / f'siftflow-fcn{variant}-heavy.caffemodel'
    src.write_bytes(siftflow_caffemodel_bytes(arrays, variant))
    dst = tmp_path / 'converted.pth'
    assert convert_weights.main([str(src), str(dst)]) == 0  # format detected
    printed = capsys.readouterr().out
    assert f'FCN-{variant}, heads sem, geo' in printed
    assert 'dropped' not in printed  # every blob has its place
    ckpt = torch.load(dst, weights_only=True)
    meta = ckpt['meta']
    assert meta['variant'] == variant and meta['heads'] == {'sem': 33, 'geo': 3}
    assert len(meta['dataset_meta']['classes']) == 33
    assert meta['dataset_meta']['geo_classes'] == ['sky', 'horizontal', 'vertical']

    model = build_shipped(f'fcn{variant}_vgg16_siftflow.py', WIDTHS, FC_CHANNELS).eval()
    result = model.load_state_dict(ckpt['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for h, w in SIZES:
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(h * w))
        metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
        with torch.no_grad():
            logits = model.encode_decode(x, metas)
        ref = siftflow_reference_forward(arrays, x, variant)
        assert logits.shape == (1, 36, h, w)
        assert close(logits[:, :33], ref['sem']), (h, w)
        assert close(logits[:, 33:], ref['geo']), (h, w)


def test_name_quirks_of_the_reference_net():
    """Crop blobs score_pool4_semc, the semantic loss named just 'loss': layers
    without blobs, which the converter neither needs nor reports."""
    data = siftflow_caffemodel_bytes(siftflow_arrays('16s'), '16s')
    layers = {layer.name: layer for layer in parse_net_parameter(data)}
    assert layers['score_pool4_semc'].type == 'Crop'
    assert layers['loss'].type == layers['loss_geo'].type == 'SoftmaxWithLoss'
    assert 'loss_sem' not in layers
    state_dict, report = convert_caffe(list(layers.values()))
    assert report['dropped'] == [] and report['heads'] == ['sem', 'geo']
    assert state_dict['decode_head.sem.score_pool4.weight'].shape == (33, WIDTHS[3], 1, 1)
    assert state_dict['decode_head.geo.upscore16.weight'].shape == (3, 3, 32, 32)
    sources = {src for src, _, _ in report['mapped']}
    assert {'score_fr_geo.weight', 'upscore2_sem.weight', 'conv1_1.weight'} <= sources
    assert len(report['mapped']) == len(state_dict)


def test_real_class_counts_and_fc_shapes():
    """Real widths: fc6 as 4096x512x7x7 and 33 / 3 scores (shape logic only: no
    forward at this size)."""
    arrays = siftflow_arrays('32s', widths=(64, 128, 256, 512, 512), fc=64)
    state_dict, report = convert_caffe(
        parse_net_parameter(siftflow_caffemodel_bytes(arrays, '32s')))
    assert state_dict['backbone.fc6.weight'].shape == (64, 512, 7, 7)
    assert state_dict['decode_head.sem.upscore.weight'].shape == (33, 33, 64, 64)
    assert state_dict['decode_head.geo.score_fr.weight'].shape == (3, 64, 1, 1)


def test_incomplete_or_mixed_heads_are_errors(tmp_path):
    arrays = siftflow_arrays('16s')
    path = tmp_path / 'no_geo.caffemodel'
    path.write_bytes(siftflow_caffemodel_bytes(arrays, '16s').replace(
        b'score_fr_geo', b'score_fr_xyz'))
    with pytest.raises(ConversionError, match='need score_fr_geo'):
        convert_file(str(path))
    mixed = dict(arrays)
    for key in [k for k in mixed if k.startswith(('upscore2_geo', 'upscore16_geo',
                                                  'score_pool4_geo'))]:
        del mixed[key]
    mixed['upscore_geo.weight'] = np.zeros((3, 3, 64, 64), np.float32)
    from mmseg_fcn_classic.converters.pytorch_fcn import convert_reference_state_dict
    with pytest.raises(ValueError, match=r"head 'geo'.*'16s' was asked for, but the "
                       r"layers are those of '32s'"):
        convert_reference_state_dict({k: torch.from_numpy(v) for k, v in mixed.items()})
