"""fcn-alexnet-pascal.caffemodel and the ImageNet AlexNet (bvlc_alexnet), converted
and checked against an independent computation of the Caffe net."""
import numpy as np
import pytest
import torch

from mmseg_fcn_classic.converters.caffe import (CaffeFormatError, convert_caffe,
                                                read_caffemodel)

from .reference_nets import (ALEXNET_WIDTHS, FC_CHANNELS, alexnet_arrays,
                             alexnet_caffemodel_bytes, alexnet_reference_fc7,
                             alexnet_reference_forward, build_alexnet_fcn)

#: Odd input sizes down to 1x1 (fc6's 6x6 window fits each thanks to the padding).
SIZES = [(1, 1), (3, 5), (37, 29)]


def _write(tmp_path, data: bytes, name='net.caffemodel'):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_fcn_alexnet_loads_one_to_one(tmp_path):
    arrays = alexnet_arrays('alexnet-32s')
    path = _write(tmp_path, alexnet_caffemodel_bytes(arrays, 'alexnet-32s'),
                  'fcn-alexnet-pascal.caffemodel')
    state_dict, report = convert_caffe(path)
    assert report['variant'] == 'alexnet-32s' and report['reshaped'] == []
    assert report['dropped'] == []
    assert set(state_dict) == {
        ('decode_head.' if k.startswith(('score', 'upscore')) else 'backbone.') + k
        for k in arrays}
    for key, value in state_dict.items():
        assert torch.equal(value, torch.from_numpy(arrays[key.split('.', 1)[1]]))
    assert state_dict['decode_head.upscore.weight'].shape == (5, 5, 63, 63)
    assert state_dict['backbone.conv2.weight'].shape == (8, 2, 5, 5)  # group 2
    model = build_alexnet_fcn()
    model.load_state_dict(state_dict, strict=True)  # 1:1, nothing left over


@pytest.mark.parametrize('size', SIZES, ids=str)
def test_fcn_alexnet_logits_match_caffe_computation(tmp_path, size):
    arrays = alexnet_arrays('alexnet-32s', seed=3)
    state_dict, _ = convert_caffe(
        _write(tmp_path, alexnet_caffemodel_bytes(arrays, 'alexnet-32s')))
    model = build_alexnet_fcn()
    model.load_state_dict(state_dict, strict=True)
    # magnitudes where the LRN term matters (x^2 * alpha / 5 ~ 1)
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(0)) * 60
    with torch.no_grad():
        ours = model.decode_head(model.backbone(x), out_size=size)
        expected = alexnet_reference_forward(arrays, x)
    assert ours.shape == expected.shape == (1, 5, *size)
    assert expected.std() > 0.1  # not a constant map
    scale = max(1.0, expected.abs().max().item())
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize('v1', [True, False], ids=['v1-layers', 'new-layers'])
def test_imagenet_alexnet_to_backbone(tmp_path, v1):
    """bvlc_alexnet: InnerProduct fc6 over conv5's real 256 x 6 x 6 = 9216 inputs."""
    widths = ALEXNET_WIDTHS[:4] + (256, )
    arrays = alexnet_arrays('alexnet', seed=4, widths=widths)
    path = _write(tmp_path, alexnet_caffemodel_bytes(arrays, 'alexnet', v1=v1),
                  'bvlc_alexnet.caffemodel')
    fc6 = next(layer for layer in read_caffemodel(path) if layer.name == 'fc6')
    assert fc6.type == 'InnerProduct'
    assert fc6.blobs[0].shape == ((1, 1) if v1 else ()) + (FC_CHANNELS, 9216)

    state_dict, report = convert_caffe(path)
    assert report['variant'] == 'alexnet'
    assert set(state_dict) == {k for k in arrays if not k.startswith('fc8')}
    assert state_dict['fc6.weight'].shape == (FC_CHANNELS, 256, 6, 6)
    for key, value in state_dict.items():
        assert torch.equal(value, torch.from_numpy(arrays[key])), key
    assert ['fc6', list(fc6.blobs[0].shape), [FC_CHANNELS, 256, 6, 6]] in \
        report['reshaped']
    assert ['fc8.weight', 'AlexNet ImageNet classifier'] in report['dropped']

    from mmseg.registry import MODELS
    build_alexnet_fcn()  # registers and sets the scope
    backbone = MODELS.build(dict(type='AlexNetFC', widths=widths,
                                 fc_channels=FC_CHANNELS)).eval()
    backbone.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 41, 35, generator=torch.Generator().manual_seed(1)) * 60
    with torch.no_grad():
        torch.testing.assert_close(backbone(x)[0], alexnet_reference_fc7(arrays, x),
                                   rtol=1e-4, atol=1e-4)


def test_imagenet_alexnet_fc6_must_fit_conv5(tmp_path):
    arrays = alexnet_arrays('alexnet')
    arrays['fc6.weight'] = arrays['fc6.weight'][:, :, :5, :6]  # 10 x 30 inputs
    path = _write(tmp_path, alexnet_caffemodel_bytes(arrays, 'alexnet'))
    with pytest.raises(CaffeFormatError,
                       match=r"net\.caffemodel.*fc6.*not a square kernel over 10"):
        convert_caffe(path)


def test_grouped_conv_shape_is_checked(tmp_path):
    arrays = alexnet_arrays('alexnet-32s')
    arrays['conv4.weight'] = np.concatenate([arrays['conv4.weight']] * 2, axis=1)
    path = _write(tmp_path, alexnet_caffemodel_bytes(arrays, 'alexnet-32s'))
    with pytest.raises(CaffeFormatError,
                       match=r'conv4\.weight.*6 input channels in each of 2 groups'
                       r', but its input has 6'):
        convert_caffe(path)


def test_alexnet_variants_are_told_apart(tmp_path):
    path = _write(tmp_path, alexnet_caffemodel_bytes(alexnet_arrays(), 'alexnet-32s'))
    with pytest.raises(CaffeFormatError, match="'32s'.*'alexnet-32s'"):
        convert_caffe(path, variant='32s')
    state_dict, report = convert_caffe(path, variant='alexnet')
    assert report['variant'] == 'alexnet' and 'conv5.weight' in state_dict
    assert ['score_fr.weight', 'not part of the AlexNet backbone'] in report['dropped']
