import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_classic.datasets import (DatasetError, DatasetLayoutError,
                                        SampleError)
from mmseg_fcn_classic.testing.synthetic import make_polyps912_tree

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def build(root, **kwargs):
    cfg = dict(type='Polyps912Dataset', data_root=str(root), pipeline=PIPELINE)
    # mmengine's serialisation runs gc.collect() (~0.3 s) per dataset: tested
    # once in test_base_kwargs / test_lazy_init_and_indices, off elsewhere
    cfg.setdefault('serialize_data', False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def gt_of(sample):
    return sample['data_samples'].gt_sem_seg.data.squeeze(0).numpy()


@pytest.fixture
def tree(tmp_path):
    ids = make_polyps912_tree(str(tmp_path / 'polyps'), counts=(4, 2, 3),
                              mask_dir=('masks2', 'masks3', 'masks4'))
    return tmp_path / 'polyps', ids


@pytest.mark.parametrize('split,folder', [('train', 'train'),
                                          ('valid', 'valid'),
                                          ('val', 'valid'), ('test', 'test')])
def test_split_membership(tree, split, folder):
    root, ids = tree
    ds = build(root, split=split)
    assert len(ds) == len(ids[folder])
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [osp.basename(i['img_path']) for i in infos] == \
        [f'{i}.bmp' for i in ids[folder]]
    assert [i['seg_map_path'] for i in infos] == [
        osp.join(str(root), folder, 'masks2', f'{i}.tif') for i in ids[folder]]
    assert ds.metainfo['classes'] == ('background', 'polyp')
    assert len(ds.metainfo['palette']) == 2


def test_natural_id_order(tmp_path):
    ids = make_polyps912_tree(str(tmp_path), counts=(11, 0, 0))['train']
    ds = build(tmp_path, split='train')
    names = [osp.basename(ds.get_data_info(i)['img_path'])[:-4]
             for i in range(len(ds))]
    assert names == ids == [str(i) for i in range(1, 12)]


@pytest.mark.parametrize('loader', ['LoadAnnotations', 'LoadFCNAnnotations'])
def test_void_becomes_ignore_index(tree, loader):
    root, ids = tree
    pipeline = [dict(type='LoadImageFromFile'), dict(type=loader),
                dict(type='PackSegInputs')]
    ds = build(root, split='train', pipeline=pipeline)
    assert ds.label_map == {2: 255}
    for i, sample_id in enumerate(ids['train']):
        raw = np.array(Image.open(root / 'train' / 'masks2' / f'{sample_id}.tif'))
        assert set(np.unique(raw)) == {0, 1, 2}
        gt = gt_of(ds[i])
        assert gt.shape == raw.shape
        np.testing.assert_array_equal(gt, np.where(raw == 2, 255, raw))
        assert (gt[0] == 255).all() and (gt[:, -1] == 255).all()  # the border


@pytest.mark.parametrize('mask_dir,classes', [
    ('masks2', ('background', 'polyp')),
    ('masks3', ('background', 'polyp', 'lumen')),
    ('masks4', ('background', 'polyp', 'lumen', 'specularity')),
])
def test_mask_variants(tree, mask_dir, classes):
    root, _ = tree
    ds = build(root, split='valid', mask_dir=mask_dir)
    n = len(classes)
    assert ds.metainfo['classes'] == classes
    assert len(ds.metainfo['palette']) == n
    assert ds.void_value == n and ds.label_map == {n: 255}
    values = set()
    for i in range(len(ds)):
        assert ds.get_data_info(i)['seg_map_path'].split(os.sep)[-2] == mask_dir
        values |= set(np.unique(gt_of(ds[i])).tolist())
    assert values == set(range(n)) | {255}


def test_custom_classes_and_void(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(2, 0, 0), mask_dir='masks3')
    # the same masks under a folder name the dataset does not know
    shutil.copytree(tmp_path / 'train' / 'masks3', tmp_path / 'train' / 'labels')
    with pytest.raises(ValueError, match="metainfo=dict\\(classes"):
        build(tmp_path, mask_dir='labels')
    ds = build(tmp_path, mask_dir='labels',
               metainfo=dict(classes=('bg', 'polyp', 'lumen')))
    assert ds.metainfo['classes'] == ('bg', 'polyp', 'lumen')
    assert len(ds.metainfo['palette']) == 3  # drawn at random
    assert ds.label_map == {3: 255}
    assert set(np.unique(gt_of(ds[0]))) <= {0, 1, 2, 255}
    # an explicit void value; here the stored 3 (the real void) is then left
    # outside the classes and caught
    ds = build(tmp_path, mask_dir='masks3', void_value=2,
               metainfo=dict(classes=('background', 'polyp')))
    assert ds.label_map == {2: 255}
    with pytest.raises(SampleError, match='label values 3'):
        ds[0]
    with pytest.raises(ValueError, match='void must not be a class'):
        build(tmp_path, mask_dir='masks3', void_value=1)


def test_base_kwargs(tree):
    root, ids = tree
    ds = build(root, split='test', lazy_init=True, serialize_data=True)
    assert not ds._fully_initialized
    ds.full_init()
    assert len(ds) == 3 and ds.serialize_data
    assert ds.get_data_info(2)['label_map'] == {2: 255}
    ds = build(root, split='test', indices=2)
    assert len(ds) == 2
    ds = build(root, split='test', test_mode=True)
    assert gt_of(ds[0]).ndim == 2


def test_ann_file(tree, tmp_path):
    root, ids = tree
    (root / 'subset.txt').write_text('2\n4\n')
    ds = build(root, split='train', ann_file='subset.txt')
    assert [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(len(ds))] == ['2.bmp', '4.bmp']
    (root / 'bad.txt').write_text('2\n99\n')
    with pytest.raises(DatasetError, match='99'):
        build(root, split='train', ann_file='bad.txt')


def test_bad_split(tree):
    with pytest.raises(ValueError, match='split'):
        build(tree[0], split='training')


def test_missing_root(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DatasetLayoutError) as e:
        build(missing)
    assert str(missing) in str(e.value)
    assert 'expected layout' in str(e.value) and 'masks2' in str(e.value)
    assert isinstance(e.value, FileNotFoundError)


@pytest.mark.parametrize('folder', ['images', 'masks2'])
def test_missing_subfolder(tree, folder):
    root, _ = tree
    shutil.rmtree(root / 'valid' / folder)
    with pytest.raises(DatasetLayoutError) as e:
        build(root, split='valid')
    assert osp.join(str(root), 'valid', folder) in str(e.value)
    assert 'expected layout' in str(e.value)


def test_unpaired_files_are_listed(tree):
    root, ids = tree
    os.remove(root / 'train' / 'masks2' / '2.tif')
    os.remove(root / 'train' / 'images' / '3.bmp')
    with pytest.raises(DatasetError) as e:
        build(root, split='train')
    msg = str(e.value)
    assert '1 x image without mask' in msg and '2.bmp' in msg
    assert '1 x mask without image' in msg and '3.tif' in msg
    assert {p.sample_id for p in e.value.problems} == {'2', '3'}


def test_many_unpaired_ids_are_counted(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(13, 0, 0))
    shutil.rmtree(tmp_path / 'train' / 'masks2')
    os.makedirs(tmp_path / 'train' / 'masks2')
    with pytest.raises(DatasetError) as e:
        build(tmp_path)
    msg = str(e.value)
    assert '13 x image without mask' in msg
    assert '... and 3 more (13 in total)' in msg
    assert len(e.value.problems) == 13


def test_empty_split(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(0, 0, 0))
    with pytest.raises(DatasetError, match='no \\*.bmp images'):
        build(tmp_path)


def test_corrupt_image_is_named_not_replaced(tree):
    root, _ = tree
    bad = root / 'train' / 'images' / '2.bmp'
    bad.write_bytes(b'not a bitmap')
    ds = build(root, split='train')  # training mode: mmengine would re-fetch
    ds[0]
    with pytest.raises(SampleError) as e:
        ds[1]
    assert str(bad) in str(e.value)


def test_pipeline_returning_none_is_an_error(tree):
    root, _ = tree
    bad = root / 'train' / 'images' / '1.bmp'
    bad.write_bytes(b'')
    pipeline = [dict(type='LoadImageFromFile', ignore_empty=True),
                dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    ds = build(root, split='train', pipeline=pipeline)
    with pytest.raises(SampleError, match='returned None') as e:
        ds[0]
    assert str(bad) in str(e.value)


@pytest.mark.filterwarnings('ignore:Corrupt EXIF data')
@pytest.mark.parametrize('loader', ['LoadAnnotations', 'LoadFCNAnnotations'])
def test_corrupt_mask(tree, loader):
    root, _ = tree
    bad = root / 'valid' / 'masks2' / '5.tif'
    bad.write_bytes(b'II*\x00garbage')
    pipeline = [dict(type='LoadImageFromFile'), dict(type=loader),
                dict(type='PackSegInputs')]
    ds = build(root, split='valid', pipeline=pipeline)
    with pytest.raises(SampleError) as e:
        ds[0]
    assert str(bad) in str(e.value)


@pytest.mark.parametrize('loader', ['LoadAnnotations', 'LoadFCNAnnotations'])
def test_size_mismatch(tree, loader):
    root, _ = tree
    path = root / 'train' / 'masks2' / '1.tif'
    Image.fromarray(np.zeros((20, 25), np.uint8)).save(path)
    pipeline = [dict(type='LoadImageFromFile'), dict(type=loader),
                dict(type='PackSegInputs')]
    ds = build(root, split='train', pipeline=pipeline)
    with pytest.raises(SampleError) as e:
        ds[0]
    msg = str(e.value)
    assert str(path) in msg and '20x25' in msg and '30x40' in msg


@pytest.mark.parametrize('loader', ['LoadAnnotations', 'LoadFCNAnnotations'])
def test_invalid_label_values(tree, loader):
    root, _ = tree
    path = root / 'test' / 'masks2' / '8.tif'
    seg = np.array(Image.open(path))
    seg[10, 10:13] = 7
    Image.fromarray(seg).save(path)
    pipeline = [dict(type='LoadImageFromFile'), dict(type=loader),
                dict(type='PackSegInputs')]
    ds = build(root, split='test', pipeline=pipeline)
    with pytest.raises(SampleError) as e:
        ds[1]
    msg = str(e.value)
    assert str(path) in msg and 'label values 7 (3 px)' in msg
