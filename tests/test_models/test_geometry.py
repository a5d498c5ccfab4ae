"""Bilinear kernels, crops and the derivation of the Caffe crop offsets."""
from fractions import Fraction

import pytest
import torch

from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
from mmseg_fcn_classic.models.utils.geometry import (IDENTITY, CoordMap, bilinear_kernel,
                                            bilinear_upsample_weight, center_crop,
                                            compose, conv_coord_map, crop, crop_offset,
                                            deconv_coord_map, fcn_crop_offsets,
                                            reference_head_geometry, upscore_kernel)


@pytest.mark.parametrize('k', [1, 2, 3, 4, 5, 16, 32, 63, 64])
def test_bilinear_kernel_formula(k):
    f = (k + 1) // 2
    c = f - 1 if k % 2 == 1 else f - 0.5
    expected = torch.tensor([[(1 - abs(i - c) / f) * (1 - abs(j - c) / f)
                              for j in range(k)] for i in range(k)])
    torch.testing.assert_close(bilinear_kernel(k), expected.float())


def test_bilinear_upsample_weight_is_diagonal():
    w = bilinear_upsample_weight(3, 4)
    assert w.shape == (3, 3, 4, 4)
    for i in range(3):
        for j in range(3):
            expected = bilinear_kernel(4) if i == j else torch.zeros(4, 4)
            assert torch.equal(w[i, j], expected)


@pytest.mark.parametrize('levels,expected', [
    (('fc7', ), (19, )),
    (('pool4', 'fc7'), (5, 27)),
    (('pool3', 'pool4', 'fc7'), (5, 9, 31)),
])
def test_fcn_crop_offsets_match_reference(levels, expected):
    assert fcn_crop_offsets(VGG16FC.coord_maps(levels)) == expected


def test_vgg_coord_maps():
    pool3, pool4, pool5, fc7 = VGG16FC.coord_maps(('pool3', 'pool4', 'pool5', 'fc7'))
    assert (pool3.scale, pool4.scale, pool5.scale, fc7.scale) == (8, 16, 32, 32)
    # conv1_1 (pad 100) starts at -99; each pool moves by half its stride
    assert pool3.shift == Fraction(-191, 2) and pool5.shift == Fraction(-167, 2)
    assert fc7.shift == pool5.shift + 32 * 3  # fc6's 7x7 window centre
    assert VGG16FC.coord_maps([2]) == (pool3, )


def test_coord_map_algebra():
    conv = conv_coord_map(3, stride=2, padding=1)
    assert conv == CoordMap(2, 0)
    # a transposed conv undoes the conv with the same arguments
    assert compose(conv, deconv_coord_map(3, stride=2, padding=1)) == IDENTITY
    assert crop_offset(CoordMap(1, -19), IDENTITY) == 19
    with pytest.raises(ValueError, match='scale mismatch'):
        crop_offset(CoordMap(2, 0), IDENTITY)
    with pytest.raises(ValueError, match='non-negative integer'):
        crop_offset(CoordMap(1, 1), IDENTITY)
    with pytest.raises(ValueError, match='non-negative integer'):
        crop_offset(CoordMap(1, Fraction(-1, 2)), IDENTITY)


def test_crop_helpers():
    x = torch.arange(5 * 7).view(1, 5, 7)
    assert torch.equal(crop(x, (1, 2), (3, 4)), x[:, 1:4, 2:6])
    assert torch.equal(crop(x, 1, 2), x[:, 1:3, 1:3])
    assert torch.equal(center_crop(x, (3, 4)), x[:, 1:4, 1:5])
    with pytest.raises(ValueError, match='cannot crop a 3x4 window'):
        crop(x, (3, 0), (3, 4))


def test_odd_bilinear_kernel_is_centred_on_a_tap():
    """63 = 2 * 32 - 1: factor 32, centre tap 31 of weight 1, zero-free edges."""
    k = bilinear_kernel(63)
    assert k[31, 31] == 1 and k.argmax() == 31 * 63 + 31
    torch.testing.assert_close(k, k.flip(0).flip(1))
    torch.testing.assert_close(k[31], 1 - (torch.arange(63.) - 31).abs() / 32)


@pytest.mark.parametrize('skips,arch,offsets,kernels', [
    ((), 'vgg16', (19, ), (64, )),
    (('pool4', ), 'vgg16', (5, 27), (4, 32)),
    (('pool4', 'pool3'), 'vgg16', (5, 9, 31), (4, 4, 16)),
    ((), 'alexnet', (18, ), (63, )),  # voc-fcn-alexnet: upscore 63 / 32, crop 18
])
def test_reference_head_geometry(skips, arch, offsets, kernels):
    """One derivation gives every reference net's crops and upscore kernels."""
    geometry = reference_head_geometry(skips, arch)
    assert geometry.crop_offsets == offsets
    assert geometry.upscore_kernels == kernels


def test_alexnet_coord_maps():
    from mmseg_fcn_classic.models.backbones.alexnet_fc import AlexNetFC
    pool1, pool2, pool5, fc7 = AlexNetFC.coord_maps()
    assert (pool1.scale, pool2.scale, pool5.scale, fc7.scale) == (8, 16, 32, 32)
    # conv1 (11x11 / 4, pad 100) centres index 0 at 5 - 100; each 3x3 / 2 pool
    # moves by its stride's scale; fc6's 6x6 window centre by 2.5 * 32
    assert pool1.shift == -95 + 4 and pool2.shift == pool1.shift + 8
    assert pool5.shift == pool2.shift + 16 and fc7.shift == pool5.shift + 80 == 13
    with pytest.raises(ValueError, match='fc7 only'):
        reference_head_geometry(('pool4', ), 'alexnet')


def test_upscore_kernel_follows_the_grid():
    """An integral source shift needs the odd kernel, a half-integral one the
    even kernel; a source the upsampling cannot reach is an error."""
    assert upscore_kernel(CoordMap(4, Fraction(1, 2)), 4) == 8
    assert upscore_kernel(CoordMap(4, 1), 4) == 7
    with pytest.raises(ValueError, match='no bilinear kernel for factor 4'):
        upscore_kernel(CoordMap(4, 10), 4)  # the map starts inside the frame
