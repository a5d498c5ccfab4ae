"""SIFT Flow read in place: both label maps per sample, decoded as the reference,
moved together by every spatial transform."""
import io
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from scipy.io import savemat

from mmseg_fcn_classic.datasets import (DatasetError, DatasetLayoutError, SampleError,
                                        SiftFlowDataset)
from mmseg_fcn_classic.datasets.siftflow import (ABSENT_FROM_TEST, CATEGORY_DIR,
                                                 load_siftflow_geometric,
                                                 load_siftflow_semantic)
from mmseg_fcn_classic.testing.synthetic import (SIFTFLOW_GEOMETRY, make_siftflow_tree,
                                                 write_siftflow_mat)
from mmseg_fcn_classic.utils.config import config_path


def _mat(s, key='S'):
    f = io.BytesIO()
    savemat(f, {key: np.asarray(s)})
    return f.getvalue()


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sift-flow'))
    return dict(make_siftflow_tree(root), root=root)


def _pipeline(name='train_pipeline'):
    return Config.fromfile(config_path('_base_/datasets/siftflow.py'))[name]


def _reference_sem(s):
    """siftflow_layers.py: label.astype(np.uint8); label -= 1."""
    label = np.asarray(s).astype(np.uint8)
    label -= 1
    return label


def _reference_geo(s):
    """siftflow_layers.py: label[label == -1] = 0, then as the semantic map."""
    label = np.array(s)
    label[label == -1] = 0
    return _reference_sem(label)


@pytest.mark.parametrize('dtype', [np.int16, np.float64, np.uint8])
def test_semantic_decoder_is_the_reference(dtype):
    s = np.arange(34).reshape(2, 17).astype(dtype)
    out = load_siftflow_semantic(_mat(s))
    assert out.dtype == np.uint8 and out.shape == (2, 17)
    np.testing.assert_array_equal(out, _reference_sem(s))
    assert out[0, 0] == 255 and out.max(initial=0) == 255 and (out[out != 255] < 33).all()


@pytest.mark.parametrize('dtype', [np.int16, np.float64, np.int32])
def test_geometric_decoder_is_the_reference(dtype):
    s = np.array([[-1, 0, 1], [2, 3, -1]], dtype=dtype)
    out = load_siftflow_geometric(_mat(s))
    np.testing.assert_array_equal(out, _reference_geo(s))
    np.testing.assert_array_equal(out, [[255, 255, 0], [1, 2, 255]])


@pytest.mark.parametrize('decoder, content, message', [
    (load_siftflow_semantic, {'T': np.zeros((2, 2))}, "no variable 'S'"),
    (load_siftflow_semantic, {'S': np.array([[0, 34]])}, r'values \[34\] outside'),
    (load_siftflow_semantic, {'S': np.array([[-1, 3]])}, r'values \[-1\] outside'),
    (load_siftflow_geometric, {'S': np.array([[-2, 4, 1]])}, r'values \[-2, 4\]'),
    (load_siftflow_geometric, {'S': np.array([[0.5, 1]])}, 'non-integer'),
    (load_siftflow_semantic, {'S': np.zeros((2, 2, 2))}, 'shape'),
])
def test_decoders_refuse_bad_files(decoder, content, message):
    f = io.BytesIO()
    savemat(f, content)
    with pytest.raises(ValueError, match=message):
        decoder(f.getvalue())


def test_dataset_lists_both_label_files(tree):
    ds = SiftFlowDataset(data_root=tree['root'], split='test', pipeline=[])
    assert len(ds) == len(tree['test'])
    info = ds.get_data_info(0)
    sample_id = tree['test'][0]
    assert info['img_path'] == osp.join(tree['root'], 'Images', CATEGORY_DIR,
                                        sample_id + '.jpg')
    assert info['seg_map_path'].endswith(
        osp.join('SemanticLabels', CATEGORY_DIR, sample_id + '.mat'))
    assert info['geo_seg_map_path'].endswith(
        osp.join('GeoLabels', CATEGORY_DIR, sample_id + '.mat'))
    assert len(ds.metainfo['classes']) == len(ds.metainfo['palette']) == 33
    assert ds.metainfo['geo_classes'] == ('sky', 'horizontal', 'vertical')
    assert len(ds.metainfo['geo_palette']) == 3
    assert set(ABSENT_FROM_TEST) <= set(ds.metainfo['classes'])
    train = SiftFlowDataset(data_root=tree['root'], split='trainval', pipeline=[])
    assert len(train) == len(tree['trainval'])


def test_sample_carries_both_maps_as_stored(tree):
    ds = SiftFlowDataset(data_root=tree['root'], split='trainval',
                         pipeline=_pipeline('test_pipeline'))
    for i, sample_id in enumerate(tree['trainval'][:3]):
        sample = ds[i]['data_samples']
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      _reference_sem(tree['sem'][sample_id]))
        np.testing.assert_array_equal(sample.gt_geo_seg.data[0].numpy(),
                                      _reference_geo(tree['geo'][sample_id]))
        assert sample.gt_sem_seg.shape == tree['sizes'][sample_id]


def _geo_of_sem(sem):
    """The fixture's geometric map as a function of its semantic one (decoded)."""
    lut = np.full(256, 255, np.uint8)
    for value, kind in SIFTFLOW_GEOMETRY.items():
        lut[value - 1] = kind - 1
    return lut[sem]


@pytest.mark.parametrize('transform', [
    dict(type='RandomFlip', prob=1.0, direction='horizontal'),
    dict(type='RandomFlip', prob=1.0, direction='vertical'),
    dict(type='RandomCrop', crop_size=(17, 13)),
    dict(type='Resize', scale=(57, 23), keep_ratio=False),
    dict(type='RandomRotate', prob=1.0, degree=30, seg_pad_val=255),
], ids=lambda t: t['type'] + t.get('direction', ''))
def test_spatial_transforms_move_both_label_maps_alike(tree, transform):
    """The geometric map is a pixelwise function of the semantic one in the
    fixture; after the transform it still is, and the image moved with them."""
    pipeline = _pipeline()
    pipeline.insert(-1, transform)
    ds = SiftFlowDataset(data_root=tree['root'], split='trainval', pipeline=pipeline)
    for i, sample_id in enumerate(tree['trainval']):
        packed = ds[i]
        sem = packed['data_samples'].gt_sem_seg.data[0].numpy().astype(np.uint8)
        geo = packed['data_samples'].gt_geo_seg.data[0].numpy().astype(np.uint8)
        assert sem.shape == geo.shape == tuple(packed['inputs'].shape[1:])
        np.testing.assert_array_equal(geo, _geo_of_sem(sem))
        if transform['type'] == 'RandomFlip':
            axis = 1 if transform['direction'] == 'horizontal' else 0
            np.testing.assert_array_equal(
                sem, np.flip(_reference_sem(tree['sem'][sample_id]), axis))
            assert packed['data_samples'].flip


def test_flip_in_the_training_pipeline_flips_image_and_both_maps(tree):
    pipeline = _pipeline()
    pipeline.insert(-1, dict(type='RandomFlip', prob=1.0, direction='horizontal'))
    flipped = SiftFlowDataset(data_root=tree['root'], split='test', pipeline=pipeline)
    plain = SiftFlowDataset(data_root=tree['root'], split='test', pipeline=_pipeline())
    a, b = flipped[0], plain[0]
    np.testing.assert_array_equal(a['inputs'].numpy(), b['inputs'].numpy()[:, :, ::-1])
    for key in ('gt_sem_seg', 'gt_geo_seg'):
        np.testing.assert_array_equal(a['data_samples'].get(key).data.numpy(),
                                      b['data_samples'].get(key).data.numpy()[:, :, ::-1])


def test_a_transform_that_misses_one_map_is_an_error(tree):
    pipeline = _pipeline()
    pipeline.insert(-1, dict(type='Pad', size=(48, 48)))  # mmcv's: gt_seg_map only
    ds = SiftFlowDataset(data_root=tree['root'], split='test', pipeline=pipeline)
    with pytest.raises(SampleError, match=r'gt_geo_seg_map is \(\d+, \d+\) but '
                       r'gt_seg_map is \(48, 48\)'):
        ds[0]


def test_missing_split_list_says_where_to_get_it(tree, tmp_path):
    root = tmp_path / 'no_lists'
    make_siftflow_tree(str(root))
    (root / 'test.txt').unlink()
    with pytest.raises(DatasetLayoutError, match=r'test\.txt[\s\S]*raw\.githubusercontent'
                       r'\.com/shelhamer/fcn\.berkeleyvision\.org'):
        SiftFlowDataset(data_root=str(root), split='test')


def test_missing_and_broken_label_files_are_named(tmp_path):
    root = tmp_path / 'sf'
    data = make_siftflow_tree(str(root))
    missing = data['test'][1]
    (root / 'GeoLabels' / CATEGORY_DIR / f'{missing}.mat').unlink()
    with pytest.raises(DatasetError, match=rf'{missing}: no geometric label \(.*GeoLabels'):
        SiftFlowDataset(data_root=str(root), split='test')
    broken = data['test'][0]
    geo_file = str(root / 'GeoLabels' / CATEGORY_DIR / f'{broken}.mat')
    write_siftflow_mat(geo_file, np.full(data['sizes'][broken], 7, np.int16))
    (tmp_path / 'one.txt').write_text(broken + '\n')
    ds = SiftFlowDataset(data_root=str(root), ann_file=str(tmp_path / 'one.txt'),
                         pipeline=_pipeline())
    with pytest.raises(SampleError, match=rf'{geo_file}.*values \[7\] outside'):
        ds[0]


def test_reduce_zero_label_and_unknown_split_are_refused(tree):
    with pytest.raises(ValueError, match='reduce_zero_label must be False'):
        SiftFlowDataset(data_root=tree['root'], reduce_zero_label=True)
    with pytest.raises(ValueError, match="split must be one of"):
        SiftFlowDataset(data_root=tree['root'], split='val')


def test_inference_pipeline_without_labels(tree):
    """Bare images (inference): no label file, nothing loaded, nothing packed."""
    pipeline = Compose([dict(type='LoadImageFromNDArray'),
                        dict(type='LoadHeadAnnotations', head='geo'),
                        dict(type='PackMultiLabelSegInputs')])
    out = pipeline(dict(img=tree['image'][tree['test'][0]]))
    assert 'gt_geo_seg' not in out['data_samples']


def test_scan_checks_the_geometric_labels_too(tmp_path):
    from mmseg_fcn_classic.datasets import scan_dataset
    root = tmp_path / 'sf'
    data = make_siftflow_tree(str(root))
    bad_value, bad_size = data['trainval'][:2]
    folder = root / 'GeoLabels' / CATEGORY_DIR
    write_siftflow_mat(str(folder / f'{bad_value}.mat'),
                       np.full(data['sizes'][bad_value], 9, np.int16))
    write_siftflow_mat(str(folder / f'{bad_size}.mat'), np.ones((5, 6), np.int16))
    report = scan_dataset(SiftFlowDataset(data_root=str(root), lazy_init=True),
                          progress=False)
    assert report.num_samples == len(data['trainval'])
    kinds = sorted((p.kind, osp.basename(p.message.split(':')[0])) for p in report.problems)
    assert kinds == [('size mismatch', f'{bad_size}.mat'),
                     ('unreadable mask', f'{bad_value}.mat')], report.format()
    assert 'values [9] outside -1 (void) .. 3' in report.format()
