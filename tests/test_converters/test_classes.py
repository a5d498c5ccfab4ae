"""Class names of converted weights and reordering a head's channels by name; the
released PASCAL-Context nets against an independent Caffe computation."""
import numpy as np
import pytest
import torch
from mmseg.datasets import PascalContextDataset

from mmseg_fcn_classic.converters.caffe import convert_caffe
from mmseg_fcn_classic.converters.classes import (ClassMismatchError, class_permutation,
                                                  config_dataset_meta,
                                                  permute_head_classes,
                                                  released_dataset_meta)
from mmseg_fcn_classic.datasets.pascal_context import CONTEXT_CLASSES
from mmseg_fcn_classic.utils.config import config_path

from .reference_nets import build_fcn, caffemodel_bytes, reference_arrays, reference_forward

#: mmseg index -> reference channel, worked out by hand from classes-59.txt and
#: mmseg's PascalContextDataset (../shared/reference-zoo.md, checked here).
MMSEG_TO_REFERENCE = [0, 1, 21, 22, 52, 23, 2, 3, 4, 24, 5, 25, 6, 26, 7, 8, 27, 9, 28,
                      29, 10, 30, 42, 12, 31, 32, 33, 34, 35, 36, 37, 13, 38, 39, 14, 40,
                      41, 15, 45, 43, 16, 46, 47, 17, 48, 49, 44, 50, 51, 18, 11, 53, 19,
                      54, 55, 20, 56, 57, 58, 59]


def test_reference_to_mmseg_order():
    perm = class_permutation(CONTEXT_CLASSES, PascalContextDataset.METAINFO['classes'])
    assert perm == MMSEG_TO_REFERENCE
    name, meta = released_dataset_meta(60)
    assert meta['classes'] == list(CONTEXT_CLASSES) and 'PASCAL-Context' in name
    assert released_dataset_meta(21)[1]['classes'][15] == 'person'
    assert released_dataset_meta(33) is None


def test_mismatched_names_are_listed():
    with pytest.raises(ClassMismatchError) as err:
        class_permutation(['background', 'table', 'cat'], ['cat', 'diningtable', 'dog'])
    message = str(err.value)
    assert "have no match in the dataset: ['background', 'table']" in message
    assert "have no match in the weights: ['diningtable', 'dog']" in message
    with pytest.raises(ClassMismatchError, match=r"more than once: \['a'\]"):
        class_permutation(['a', 'a', 'b'], ['a', 'b', 'a'])


def test_permute_head_classes_permutes_every_class_dim():
    arrays = reference_arrays('8s', num_classes=5)
    sd, _ = convert_caffe(_layers(arrays, '8s'))
    perm = [3, 0, 4, 1, 2]
    out, keys = permute_head_classes(sd, perm)
    assert sorted(keys) == sorted(k for k in sd if k.startswith('decode_head.'))
    up = sd['decode_head.upscore2.weight']
    assert torch.equal(out['decode_head.upscore2.weight'], up[perm][:, perm])
    assert torch.equal(out['decode_head.score_pool3.bias'],
                       sd['decode_head.score_pool3.bias'][perm])
    assert out['backbone.fc7.weight'] is sd['backbone.fc7.weight']
    with pytest.raises(ValueError, match='not the 4 classes'):
        permute_head_classes(sd, [0, 1, 2, 3])


def test_config_dataset_meta():
    meta, dataset = config_dataset_meta(config_path('fcn8s_vgg16_pascal-context_mmseg.py'))
    assert dataset == 'PascalContextDataset'
    assert meta['classes'] == list(PascalContextDataset.METAINFO['classes'])
    assert len(meta['palette']) == 60
    meta, dataset = config_dataset_meta(config_path('fcn8s_vgg16_pascal-context.py'))
    assert dataset == 'PascalContextFCNDataset' and meta['classes'] == list(CONTEXT_CLASSES)


def _layers(arrays, variant):
    from mmseg_fcn_classic.converters.caffe import parse_net_parameter
    return parse_net_parameter(caffemodel_bytes(arrays, variant))


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_released_pascal_context_nets_match_caffe_computation(tmp_path, variant):
    """pascalcontext-fcn{32,16,8}s-heavy: 60 outputs, the VOC nets' layers."""
    arrays = reference_arrays(variant, seed=5, num_classes=60)
    path = tmp_path / f'pascalcontext-fcn{variant}-heavy.caffemodel'
    path.write_bytes(caffemodel_bytes(arrays, variant))
    state_dict, report = convert_caffe(str(path))
    assert report['variant'] == variant
    model = build_fcn(variant, num_classes=60)
    model.load_state_dict(state_dict, strict=True)
    gen = torch.Generator().manual_seed(2)
    for size in [(1, 1), (7, 3), (41, 29)]:
        x = torch.randn(1, 3, *size, generator=gen) * 50
        with torch.no_grad():
            ours = model.decode_head(model.backbone(x), out_size=size)
        expected = reference_forward(arrays, x, variant)
        assert ours.shape == expected.shape == (1, 60, *size)
        assert np.unique(expected.argmax(1)).size > 1 or size == (1, 1)
        scale = max(1.0, expected.abs().max().item())
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4 * scale)
