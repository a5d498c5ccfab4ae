"""Caffe ``.caffemodel`` reading and conversion, on files encoded in the tests."""
import pickle
import zipfile

import numpy as np
import pytest
import torch

from mmseg_fcn_classic.converters.caffe import (CaffeFormatError, caffe_to_reference,
                                          convert_caffe, is_caffemodel,
                                          parse_net_parameter, read_caffemodel)

from . import protobuf_encoder as pe
from .reference_nets import (FC_CHANNELS, WIDTHS, build_fcn, caffemodel_bytes,
                             reference_arrays, reference_forward, vgg_reference_fc7)


def _write(tmp_path, data: bytes, name='net.caffemodel'):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize('v1', [False, True])
@pytest.mark.parametrize('legacy_dims', [False, True])
@pytest.mark.parametrize('packed', [True, False])
@pytest.mark.parametrize('double', [False, True])
def test_blob_encodings(v1, legacy_dims, packed, double):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    data = pe.net([
        pe.layer('data', 'Data', v1=v1),
        pe.layer('conv', 'Convolution', [
            pe.blob(w, legacy_dims=legacy_dims, packed=packed, double=double),
            pe.blob(b, legacy_dims=legacy_dims, packed=packed, double=double,
                    with_diff=True)
        ], v1=v1, bottom=['data'], top=['conv']),
        pe.layer('relu', 'ReLU', v1=v1),
    ])
    layers = parse_net_parameter(data)
    assert [(layer.name, layer.type) for layer in layers] == [
        ('data', 'Data'), ('conv', 'Convolution'), ('relu', 'ReLU')]
    weight, bias = layers[1].blobs
    assert weight.dtype == np.float32 and weight.shape == (3, 2, 3, 3)
    np.testing.assert_array_equal(weight, w)
    # legacy dims are always 4-D: a bias is (1, 1, 1, C)
    assert bias.shape == ((1, 1, 1, 3) if legacy_dims else (3, ))
    np.testing.assert_array_equal(bias.reshape(-1), b)


def test_negative_and_large_dims_and_unknown_fields():
    # an int64 dim is a 10-byte varint when negative; unknown fields are skipped
    body = pe.length_delimited(7, pe.length_delimited(1, pe.varint(2) + pe.varint(2)))
    body += pe.length_delimited(5, np.arange(4, dtype='<f4').tobytes())
    body += pe.int_field(99, -5) + pe.key(98, 1) + b'\0' * 8 + pe.key(97, 5) + b'\0' * 4
    layer = pe.string(1, 'x') + pe.string(2, 'Convolution')
    layer += pe.length_delimited(7, body)
    layers = parse_net_parameter(pe.length_delimited(100, layer) + pe.int_field(5, 1))
    np.testing.assert_array_equal(layers[0].blobs[0], [[0, 1], [2, 3]])


def test_blob_count_mismatch_is_an_error():
    bad = pe.blob(np.zeros(6, np.float32), dims=(2, 2))
    with pytest.raises(CaffeFormatError, match='holds 6 values'):
        parse_net_parameter(pe.net([pe.layer('c', 'Convolution', [bad])]))


@pytest.mark.parametrize('cut', [1, 7, 200, -3, -1])
def test_truncated_file_names_the_file(tmp_path, cut):
    data = caffemodel_bytes(reference_arrays('32s'), '32s')
    path = _write(tmp_path, data[:cut if cut > 0 else len(data) + cut])
    with pytest.raises(CaffeFormatError, match=r'net\.caffemodel.*truncated'):
        read_caffemodel(path)
    assert not is_caffemodel(path)


def test_not_a_caffemodel(tmp_path):
    zip_path = tmp_path / 'model.pth'
    torch.save({'a': torch.zeros(1)}, zip_path)
    assert zipfile.is_zipfile(zip_path)
    pkl_path = _write(tmp_path, pickle.dumps({'a': 1}, protocol=2), 'old.pth')
    text_path = _write(tmp_path, b'name: "VGG"\nlayers {\n', 'deploy.prototxt')
    empty_path = _write(tmp_path, b'', 'empty.caffemodel')
    for path, message in [(str(zip_path), 'zip archive'), (pkl_path, 'pickle'),
                          (text_path, 'protobuf'), (empty_path, 'empty')]:
        assert not is_caffemodel(path)
        with pytest.raises(CaffeFormatError, match=message) as err:
            read_caffemodel(path)
        assert path in str(err.value)


@pytest.mark.parametrize('legacy_dims', [True, False])
def test_vgg16_v1_layers(tmp_path, legacy_dims):
    """VGG_ILSVRC_16_layers layout: V1 layers, InnerProduct fc6/fc7/fc8."""
    arrays = reference_arrays('vgg16')
    path = _write(tmp_path, caffemodel_bytes(arrays, 'vgg16', v1=True,
                                             legacy_dims=legacy_dims))
    assert is_caffemodel(path)
    layers = read_caffemodel(path)
    assert {layer.type for layer in layers if layer.blobs} == {'Convolution',
                                                                'InnerProduct'}
    fc6 = next(layer for layer in layers if layer.name == 'fc6')
    assert fc6.blobs[0].shape == ((1, 1) if legacy_dims else ()) + (16, 12 * 49)

    state_dict, report = convert_caffe(path)
    assert report['variant'] == 'vgg16' and report['format'] == 'caffe'
    assert set(state_dict) == {k for k in arrays if not k.startswith('fc8')}
    for key, value in state_dict.items():
        assert value.dtype == torch.float32
        assert torch.equal(value, torch.from_numpy(arrays[key])), key
    assert ['fc6', list(fc6.blobs[0].shape), [16, 12, 7, 7]] in report['reshaped']
    assert any(name == 'fc7' for name, _, _ in report['reshaped'])
    assert ['fc8.weight', 'VGG16 ImageNet classifier'] in report['dropped']
    assert ['fc8.bias', 'VGG16 ImageNet classifier'] in report['dropped']


@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
def test_released_fcn_layout(tmp_path, variant):
    """fcn*-heavy-pascal / fcn8s-atonce-pascal: new-style layers with shape."""
    arrays = reference_arrays(variant)
    path = _write(tmp_path, caffemodel_bytes(arrays, variant))
    state_dict, report = convert_caffe(path)
    assert report['variant'] == variant
    assert report['reshaped'] == []
    expected = {(f'backbone.{k}' if k.split('.')[0].startswith(('conv', 'fc'))
                 else f'decode_head.{k}') for k in arrays}
    assert set(state_dict) == expected
    for key, value in state_dict.items():
        assert torch.equal(value, torch.from_numpy(arrays[key.split('.', 1)[1]]))
    dropped = [name for name, _ in report['dropped']]
    if variant == '8s-atonce':
        assert dropped == ['scale_pool4', 'scale_pool3']
    else:
        assert dropped == []


def test_atonce_scale_constant_is_checked(tmp_path):
    arrays = reference_arrays('8s-atonce')
    path = _write(tmp_path, caffemodel_bytes(
        arrays, '8s-atonce', scales={'scale_pool4': 0.02, 'scale_pool3': 0.0001}))
    with pytest.raises(CaffeFormatError,
                       match=r"net\.caffemodel.*'scale_pool4'.*0\.01"):
        convert_caffe(path)


def test_missing_layer_is_an_error(tmp_path):
    arrays = reference_arrays('8s')
    data = caffemodel_bytes({k: v for k, v in arrays.items()
                             if not k.startswith('score_pool3')}, '8s')
    # the encoder writes the layer without blobs when its arrays are absent
    with pytest.raises(CaffeFormatError, match='missing layers for 8s: score_pool3'):
        convert_caffe(_write(tmp_path, data))


def test_wrong_shape_is_an_error(tmp_path):
    arrays = reference_arrays('32s')
    arrays['conv2_1.weight'] = arrays['conv2_1.weight'][:, :3]
    with pytest.raises(CaffeFormatError, match=r'conv2_1\.weight.*3 input channels.*4'):
        convert_caffe(_write(tmp_path, caffemodel_bytes(arrays, '32s')))


def test_unknown_layers_with_blobs_are_reported():
    arrays = reference_arrays('32s')
    layers = parse_net_parameter(caffemodel_bytes(arrays, '32s') + pe.layer(
        'extra', 'BatchNorm', [pe.blob(np.ones(3, np.float32))]))
    _, report = caffe_to_reference(layers)
    assert report['dropped'] == [['extra', 'unused BatchNorm layer with 1 blobs']]


def test_variant_override_must_match(tmp_path):
    path = _write(tmp_path, caffemodel_bytes(reference_arrays('16s'), '16s'))
    with pytest.raises(CaffeFormatError, match="'8s'.*'16s'"):
        convert_caffe(path, variant='8s')
    state_dict, report = convert_caffe(path, variant='vgg16')
    assert report['variant'] == 'vgg16' and 'conv1_1.weight' in state_dict
    assert 'score_fr.weight' in {name for name, _ in report['dropped']}


@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
def test_converted_fcn_matches_reference_forward(tmp_path, variant):
    """Our model with converted weights computes the reference net's logits."""
    arrays = reference_arrays(variant, seed=1)
    state_dict, _ = convert_caffe(_write(tmp_path, caffemodel_bytes(arrays, variant)))
    model = build_fcn(variant)
    model.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 45, 38, generator=torch.Generator().manual_seed(0)) * 50
    with torch.no_grad():
        ours = model.decode_head(model.backbone(x), out_size=x.shape[-2:])
    expected = reference_forward(arrays, x, variant)
    assert ours.shape == expected.shape == (1, 5, 45, 38)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_converted_vgg16_matches_reference_fc7(tmp_path):
    from mmseg.registry import MODELS
    arrays = reference_arrays('vgg16', seed=2)
    state_dict, _ = convert_caffe(
        _write(tmp_path, caffemodel_bytes(arrays, 'vgg16', v1=True)))
    build_fcn('32s')  # registers and sets the scope
    backbone = MODELS.build(dict(type='VGG16FC', widths=WIDTHS, fc_channels=FC_CHANNELS,
                                 out_indices=(5, ))).eval()
    backbone.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 33, 40, generator=torch.Generator().manual_seed(1)) * 50
    with torch.no_grad():
        torch.testing.assert_close(backbone(x)[0], vgg_reference_fc7(arrays, x),
                                   rtol=1e-4, atol=1e-4)


def test_deconvolution_bias_must_be_zero():
    arrays = reference_arrays('32s')
    layers = parse_net_parameter(caffemodel_bytes(arrays, '32s'))
    upscore = next(layer for layer in layers if layer.name == 'upscore')
    upscore.blobs.append(np.zeros(5, np.float32))
    state_dict, report = convert_caffe(layers)
    assert ['upscore bias', 'all zero (bias_term=False in the reference nets)'] in \
        report['dropped']
    upscore.blobs[1][2] = 0.5
    with pytest.raises(CaffeFormatError, match="'upscore' has a non-zero bias"):
        convert_caffe(layers)
