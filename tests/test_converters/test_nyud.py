"""The NYUDv2 zoo nets from their caffemodels: the two-trunk color-hha net and the
4-channel color-d net load 1:1 and compute the reference nets' logits."""
import numpy as np
import pytest
import torch

from mmseg_fcn_classic.converters.api import convert_file, format_report
from mmseg_fcn_classic.converters.caffe import (CaffeFormatError, convert_caffe,
                                                parse_net_parameter)
from mmseg_fcn_classic.datasets.nyud import CLASSES
from mmseg_fcn_classic.models.utils import fcn_spec

from .reference_nets import (FC_CHANNELS, WIDTHS, caffemodel_bytes,
                             late_fusion_arrays, late_fusion_caffemodel_bytes,
                             reference_arrays, reference_forward,
                             reference_late_fusion_forward)

SIZES = [(1, 1), (7, 5), (33, 47)]


def build(model_cfg):
    import mmseg_fcn_classic  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(model_cfg).eval()


def late_fusion_cfg(num_classes=5, skips=()):
    modalities = ('color', 'hha')
    inputs = fcn_spec.head_inputs(skips, WIDTHS, FC_CHANNELS)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='MultiModalDataPreProcessor', modalities=modalities),
        backbone=dict(type='LateFusionVGG16FC', modalities=modalities, widths=WIDTHS,
                      fc_channels=FC_CHANNELS),
        decode_head=dict(type='LateFusionFCNHead', modalities=modalities,
                         num_classes=num_classes, **inputs),
        test_cfg=dict(mode='whole'))


def early_fusion_cfg(num_classes=5):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='MultiModalDataPreProcessor',
                               modalities=('color', 'depth')),
        backbone=dict(type='VGG16FC', in_channels=4, widths=WIDTHS,
                      fc_channels=FC_CHANNELS),
        decode_head=dict(type='ClassicFCNHead', num_classes=num_classes,
                         **fcn_spec.head_inputs((), WIDTHS, FC_CHANNELS)),
        test_cfg=dict(mode='whole'))


def _logits(model, x):
    with torch.no_grad():
        return model.decode_head(model.backbone(x), out_size=x.shape[-2:])


@pytest.fixture(scope='module')
def late_fusion(tmp_path_factory):
    arrays = late_fusion_arrays(seed=3)
    path = tmp_path_factory.mktemp('caffe') / 'nyud-fcn32s-color-hha-heavy.caffemodel'
    path.write_bytes(late_fusion_caffemodel_bytes(arrays))
    return arrays, str(path)


def test_two_trunk_caffemodel_converts_one_to_one(late_fusion):
    arrays, path = late_fusion
    state_dict, report = convert_caffe(path)
    assert report['variant'] == '32s' and report['modalities'] == ['color', 'hha']
    assert report['dropped'] == [] and report['reshaped'] == []
    assert len(state_dict) == len(arrays)
    for src, dst, _ in report['mapped']:
        assert torch.equal(state_dict[dst], torch.from_numpy(arrays[src])), src
    mapped = {src: dst for src, dst, _ in report['mapped']}
    assert mapped['conv1_1color.weight'] == 'backbone.color.conv1_1.weight'
    assert mapped['fc7hha.bias'] == 'backbone.hha.fc7.bias'
    assert mapped['score_frhha.weight'] == 'decode_head.score_frhha.weight'
    assert mapped['upscore.weight'] == 'decode_head.upscore.weight'
    model = build(late_fusion_cfg())
    model.load_state_dict(state_dict, strict=True)


@pytest.mark.parametrize('size', SIZES)
def test_two_trunk_logits_equal_the_reference_net(late_fusion, size):
    arrays, path = late_fusion
    model = build(late_fusion_cfg())
    model.load_state_dict(convert_caffe(path)[0], strict=True)
    gen = torch.Generator().manual_seed(sum(size))
    color, hha = (torch.randn(1, 3, *size, generator=gen) * 50 for _ in range(2))
    ours = _logits(model, torch.cat([color, hha], 1))
    expected = reference_late_fusion_forward(arrays, (color, hha))
    assert ours.shape == expected.shape == (1, 5, *size)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_two_trunk_net_missing_a_score_layer(late_fusion):
    arrays, _ = late_fusion
    layers = parse_net_parameter(late_fusion_caffemodel_bytes(arrays))
    layers = [layer for layer in layers if layer.name != 'score_frhha']
    with pytest.raises(CaffeFormatError, match="'hha' trunk has no score_frhha"):
        convert_caffe(layers)


@pytest.mark.parametrize('size', SIZES)
def test_color_d_caffemodel_conv1_1_bgrd(tmp_path, size):
    arrays = reference_arrays('32s', seed=4, in_channels=4)
    path = tmp_path / 'nyud-fcn32s-color-d.caffemodel'
    path.write_bytes(caffemodel_bytes(arrays, '32s', rename={'conv1_1': 'conv1_1_bgrd'}))
    state_dict, report = convert_caffe(str(path))
    assert state_dict['backbone.conv1_1.weight'].shape == (4, 4, 3, 3)
    assert 'layer conv1_1_bgrd read as conv1_1' in report['notes']
    assert any('4 input channels' in n for n in report['notes'])
    model = build(early_fusion_cfg())
    model.load_state_dict(state_dict, strict=True)
    gen = torch.Generator().manual_seed(1)
    color = torch.randn(1, 3, *size, generator=gen) * 50
    depth = torch.randn(1, 1, *size, generator=gen)
    x = torch.cat([color, depth], 1)  # reference: data = Concat(color, depth)
    torch.testing.assert_close(_logits(model, x), reference_forward(arrays, x, '32s'),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('name,modalities', [
    ('nyud-fcn32s-color-heavy.caffemodel', ['color']),
    ('nyud-fcn32s-hha-heavy.caffemodel', ['hha']),
    ('mine.caffemodel', None)])
def test_convert_file_records_nyud_classes_and_convention(tmp_path, name, modalities):
    arrays = reference_arrays('32s', seed=5, num_classes=40)
    path = tmp_path / name
    path.write_bytes(caffemodel_bytes(arrays, '32s'))
    checkpoint, report = convert_file(str(path))
    meta = checkpoint['meta']
    assert meta['num_classes'] == 40
    assert meta['dataset_meta']['classes'] == list(CLASSES)
    if modalities is None:  # colour or HHA: the weights cannot tell
        assert meta['input_convention']['weights'] == 'caffe'
        assert any('cannot tell whether' in n for n in report['notes'])
    else:
        conv = meta['input_convention']
        assert conv['modalities'] == modalities
        expected = {'color': [116.19, 97.203, 92.318], 'hha': [132.431, 94.076, 118.477]}
        assert conv['mean'] == pytest.approx(expected[modalities[0]])
        text = format_report(report, 'out.pth')
        assert f"MultiModalDataPreProcessor', modalities=('{modalities[0]}',)" in text


def test_convert_file_two_trunks(late_fusion, tmp_path):
    arrays = late_fusion_arrays(seed=6, num_classes=40)
    path = tmp_path / 'nyud-fcn32s-color-hha-heavy.caffemodel'
    path.write_bytes(late_fusion_caffemodel_bytes(arrays))
    checkpoint, report = convert_file(str(path))
    assert checkpoint['meta']['input_convention']['modalities'] == ['color', 'hha']
    assert checkpoint['meta']['num_classes'] == 40
    model = build(late_fusion_cfg(num_classes=40))
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert np.isclose(checkpoint['meta']['input_convention']['mean'][3], 132.431)
