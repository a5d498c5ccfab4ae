import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_classic.datasets import (DatasetError, DatasetLayoutError,
                                        SampleError)
from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree, write_palette_png

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs'),
]


def build(root, **kwargs):
    cfg = dict(type='PascalVOCSBDDataset', pipeline=PIPELINE,
               data_root=None if root is None else str(root))
    # mmengine's serialisation runs gc.collect() (~0.3 s) per dataset: tested
    # once in test_base_kwargs / test_lazy_init_and_indices, off elsewhere
    cfg.setdefault('serialize_data', False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def ids_of(ds):
    return [osp.splitext(osp.basename(ds.get_data_info(i)['img_path']))[0]
            for i in range(len(ds))]


def gt_of(sample):
    return sample['data_samples'].gt_sem_seg.data.squeeze(0).numpy()


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('voc_sbd')
    return root, make_voc_sbd_tree(str(root))


@pytest.mark.parametrize('split,key', [('train', 'voc_train'),
                                       ('val', 'voc_val'),
                                       ('sbd_train', 'sbd_train'),
                                       ('sbd_val', 'sbd_val'),
                                       ('trainaug', 'trainaug')])
def test_split_membership(tree, split, key):
    root, t = tree
    ds = build(root, split=split)
    assert ids_of(ds) == t[key]
    assert ds.metainfo['classes'] == PascalVOCDataset.METAINFO['classes']
    assert len(ds.metainfo['palette']) == 21


def test_trainaug_arithmetic(tree):
    root, t = tree
    ds = build(root)  # the default split
    ids = ids_of(ds)
    expected = (set(t['voc_train']) | set(t['sbd_train']) | set(t['sbd_val'])
                ) - set(t['voc_val'])
    assert ids == sorted(expected) and len(ids) == 9
    # SBD ids that VOC uses for validation never leak into training
    assert not set(ids) & set(t['voc_val'])
    assert {'2008_000009', '2007_000042'} <= set(t['sbd_train']) | set(
        t['sbd_val'])


def test_voc_annotation_wins_overlaps(tree):
    root, t = tree
    ds = build(root, split='sbd_train')
    for i, sample_id in enumerate(ids_of(ds)):
        info = ds.get_data_info(i)
        gt = gt_of(ds[i])
        if sample_id in t['overlap']:
            assert info['label_source'] == 'voc'
            assert info['seg_map_path'] == osp.join(
                t['voc_root'], 'SegmentationClass', sample_id + '.png')
            assert info['img_path'] == osp.join(t['voc_root'], 'JPEGImages',
                                                sample_id + '.jpg')
            png = np.array(Image.open(info['seg_map_path']))
            np.testing.assert_array_equal(gt, png)
            assert (gt == 255).any()  # VOC's boundary band
        else:
            assert info['label_source'] == 'sbd'
            assert info['seg_map_path'].endswith(
                osp.join('cls', sample_id + '.mat'))
            assert info['img_path'] == osp.join(t['sbd_root'], 'img',
                                                sample_id + '.jpg')
            assert not (gt == 255).any()
        assert set(np.unique(gt)) <= {0, t['classes'][sample_id], 255}
        assert gt.shape == t['sizes'][sample_id]


def test_sbd_only_tree(tmp_path):
    t = make_voc_sbd_tree(str(tmp_path), voc=False)
    ds = build(tmp_path, split='sbd_train')
    assert ids_of(ds) == t['sbd_train']
    assert {ds.get_data_info(i)['label_source'] for i in range(len(ds))} \
        == {'sbd'}
    with pytest.raises(DatasetLayoutError, match='VOCdevkit/VOC2012'):
        build(tmp_path, split='trainaug')


def test_voc_only_tree(tmp_path):
    t = make_voc_sbd_tree(str(tmp_path), sbd=False)
    assert ids_of(build(tmp_path, split='val')) == t['voc_val']
    with pytest.raises(DatasetLayoutError, match='benchmark_RELEASE/dataset'):
        build(tmp_path, split='trainaug')


def test_custom_folders(tmp_path):
    t = make_voc_sbd_tree(str(tmp_path), voc_dir='voc2012', sbd_dir='sbd')
    with pytest.raises(DatasetLayoutError):
        build(tmp_path)
    ds = build(tmp_path, voc_dir='voc2012', sbd_dir='sbd')
    assert ids_of(ds) == t['trainaug']
    ds = build(None, split='val', voc_dir=str(tmp_path / 'voc2012'))
    assert ids_of(ds) == t['voc_val']


def test_seg11valid_needs_an_id_list(tree):
    root, t = tree
    with pytest.raises(ValueError, match='seg11valid.txt'):
        build(root, split='seg11valid')
    (root / 'seg11valid.txt').write_text('2007_000033\n2007_000042\n')
    ds = build(root, split='seg11valid', ann_file='seg11valid.txt')
    assert ids_of(ds) == ['2007_000033', '2007_000042']
    assert all(ds.get_data_info(i)['label_source'] == 'voc' for i in range(2))


def test_ann_file_overrides_split(tree):
    root, t = tree
    path = root / 'mine.txt'
    path.write_text('2008_000020\n2007_000032\n')
    ds = build(root, split='val', ann_file=str(path))
    assert ids_of(ds) == ['2008_000020', '2007_000032']
    assert [ds.get_data_info(i)['label_source'] for i in range(2)] == \
        ['sbd', 'voc']
    with pytest.raises(DatasetLayoutError, match='absent.txt'):
        build(root, ann_file='absent.txt')


def test_bad_split(tree):
    with pytest.raises(ValueError, match='trainaug'):
        build(tree[0], split='aug')


def test_plain_load_annotations(tree):
    root, t = tree
    plain = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
             dict(type='PackSegInputs')]
    ds = build(root, split='val', pipeline=plain)  # VOC PNGs only: fine
    assert (gt_of(ds[0]) == 255).any()
    with pytest.raises(DatasetError, match='LoadFCNAnnotations'):
        build(root, split='trainaug', pipeline=plain)


def test_lazy_init_and_indices(tree):
    root, t = tree
    ds = build(root, lazy_init=True, serialize_data=True)
    assert not ds._fully_initialized
    assert len(ds) == len(t['trainaug'])
    assert ds.get_data_info(0)['label_source'] == 'voc'
    assert len(build(root, indices=3)) == 3


@pytest.fixture
def own_tree(tmp_path):
    return tmp_path, make_voc_sbd_tree(str(tmp_path))


def test_missing_root(tmp_path):
    with pytest.raises(DatasetLayoutError) as e:
        build(tmp_path / 'nowhere')
    assert str(tmp_path / 'nowhere') in str(e.value)
    assert 'expected layout' in str(e.value) and 'cls/<id>.mat' in str(e.value)


@pytest.mark.parametrize('sub', [
    'VOCdevkit/VOC2012/JPEGImages', 'VOCdevkit/VOC2012/SegmentationClass',
    'VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt',
    'benchmark_RELEASE/dataset/cls', 'benchmark_RELEASE/dataset/train.txt'
])
def test_missing_subfolder_or_list(own_tree, sub):
    root, _ = own_tree
    path = root / sub
    shutil.rmtree(path) if path.is_dir() else os.remove(path)
    with pytest.raises(DatasetLayoutError) as e:
        build(root)
    assert str(path) in str(e.value) and 'expected layout' in str(e.value)


def test_unpaired_ids_are_listed(own_tree):
    root, t = own_tree
    # a VOC train id without SBD label loses its PNG; an SBD id its image
    os.remove(root / 'VOCdevkit/VOC2012/SegmentationClass/2007_000032.png')
    os.remove(root / 'benchmark_RELEASE/dataset/img/2008_000023.jpg')
    with pytest.raises(DatasetError) as e:
        build(root)
    msg = str(e.value)
    assert '1 x image without mask' in msg and '2007_000032' in msg
    assert '1 x mask without image' in msg and '2008_000023.mat' in msg
    # an id listed with no file at all
    (root / 'benchmark_RELEASE/dataset/train.txt').write_text(
        '\n'.join(t['sbd_train'] + ['2010_999999']))
    with pytest.raises(DatasetError) as e:
        build(root)
    assert 'listed id without files' in str(e.value)
    assert '2010_999999' in str(e.value)


def test_corrupt_mat(own_tree):
    root, _ = own_tree
    bad = root / 'benchmark_RELEASE/dataset/cls/2008_000020.mat'
    bad.write_bytes(b'MATLAB 5.0 MAT-file garbage')
    ds = build(root, split='sbd_train')
    idx = ids_of(ds).index('2008_000020')
    with pytest.raises(SampleError) as e:
        ds[idx]
    assert str(bad) in str(e.value)


def test_mat_without_gtcls(own_tree):
    import scipy.io
    root, _ = own_tree
    bad = root / 'benchmark_RELEASE/dataset/cls/2008_000020.mat'
    scipy.io.savemat(str(bad), {'GTinst': {'Segmentation': np.zeros((3, 3))}})
    ds = build(root, split='sbd_train')
    with pytest.raises(SampleError, match='GTcls') as e:
        ds[ids_of(ds).index('2008_000020')]
    assert str(bad) in str(e.value)


def test_rgb_png_is_rejected(own_tree):
    root, _ = own_tree
    path = root / 'VOCdevkit/VOC2012/SegmentationClass/2007_000033.png'
    rgb = np.array(Image.open(path).convert('RGB'))
    Image.fromarray(rgb).save(path)
    ds = build(root, split='val')
    with pytest.raises(SampleError, match='colour') as e:
        ds[0]
    assert str(path) in str(e.value)


def test_invalid_values_and_size(own_tree):
    root, t = own_tree
    path = root / 'VOCdevkit/VOC2012/SegmentationClass/2007_000042.png'
    seg = np.array(Image.open(path))
    seg[0, 0] = 21
    write_palette_png(str(path), seg)
    ds = build(root, split='val')
    with pytest.raises(SampleError, match='label values 21 \\(1 px\\)') as e:
        ds[1]
    assert str(path) in str(e.value)
    h, w = t['sizes']['2007_000033']
    write_palette_png(
        str(root / 'VOCdevkit/VOC2012/SegmentationClass/2007_000033.png'),
        np.zeros((h + 1, w), np.uint8))
    with pytest.raises(SampleError, match=f'{h + 1}x{w}.*{h}x{w}'):
        ds[0]


def test_seg11valid_list_found_in_data_root_or_falls_back(tmp_path):
    from mmseg_fcn_classic.datasets import PascalVOCSBDDataset
    from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree
    root = str(tmp_path)
    make_voc_sbd_tree(root)
    fallback = PascalVOCSBDDataset(data_root=root, split='seg11valid',
                                   fallback_split='val', serialize_data=False)
    val = PascalVOCSBDDataset(data_root=root, split='val', serialize_data=False)
    assert fallback.split == 'val' and len(fallback) == len(val)
    first = val.get_data_info(0)['img_path']
    stem = first.rsplit('/', 1)[-1].rsplit('.', 1)[0]
    (tmp_path / 'seg11valid.txt').write_text(stem + '\n')
    found = PascalVOCSBDDataset(data_root=root, split='seg11valid',
                                fallback_split='val', serialize_data=False)
    assert len(found) == 1 and found.get_data_info(0)['img_path'] == first
