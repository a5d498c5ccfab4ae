"""PascalContextFCNDataset: the reference data layer's 459 -> 59 mapping, read in
place from the .mat files, and every kind of bad input."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import scipy.io
from mmseg.registry import DATASETS

from mmseg_fcn_classic.datasets import DatasetError, DatasetLayoutError, SampleError
from mmseg_fcn_classic.datasets.pascal_context import (CONTEXT59_CLASSES,
                                                       CONTEXT_CLASSES,
                                                       context_raw_ids,
                                                       load_context_label)
from mmseg_fcn_classic.testing.synthetic import (CONTEXT_RAW_LABELS,
                                                 CONTEXT_TASK_LABELS,
                                                 make_pascal_context_tree,
                                                 write_context_mat, write_label_list)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadFCNAnnotations'),
    dict(type='PackSegInputs'),
]


def build(root, **kwargs):
    cfg = dict(type='PascalContextFCNDataset', pipeline=PIPELINE, data_root=str(root),
               serialize_data=False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def gt_of(sample):
    return sample['data_samples'].gt_sem_seg.data.squeeze(0).numpy()


def reference_layer_label(context_dir: str, mat_path: str) -> np.ndarray:
    """``PASCALContextSegDataLayer.load_label`` (fcn.berkeleyvision.org
    ``pascalcontext_layers.py``), written out again from its source."""
    def names(path):
        table = np.genfromtxt(path, delimiter=':', dtype=None, encoding='utf-8')
        return [str(label).replace(' ', '') for idx, label in table]

    labels_400 = names(context_dir + '/labels.txt')
    labels_59 = names(context_dir + '/59_labels.txt')
    for main_label, task_label in zip(('table', 'bedclothes', 'cloth'),
                                      ('diningtable', 'bedcloth', 'clothes')):
        labels_59[labels_59.index(task_label)] = main_label
    label_400 = scipy.io.loadmat(mat_path)['LabelMap']
    label = np.zeros_like(label_400, dtype=np.uint8)
    for idx, name in enumerate(labels_59):
        idx_400 = labels_400.index(name) + 1
        label[label_400 == idx_400] = idx + 1
    return label


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('pascal_context')
    return root, make_pascal_context_tree(str(root))


def _copy(tree, tmp_path):
    root, info = tree
    shutil.copytree(root, tmp_path / 'ctx')
    return tmp_path / 'ctx', info


def test_fixture_has_every_raw_label(tree):
    root, info = tree
    assert len(CONTEXT_RAW_LABELS) == 459
    lines = open(osp.join(root, 'labels.txt')).read().splitlines()
    assert lines[0] == '1: accordion' and lines[-1] == '459: wool'
    first = info['train'][0]
    assert set(np.unique(info['raw'][first])) == set(range(460))


def test_raw_ids_of_the_task(tree):
    root, _ = tree
    raw_ids = context_raw_ids(osp.join(root, 'labels.txt'),
                              osp.join(root, '59_labels.txt'))
    by_name = dict(zip(CONTEXT59_CLASSES, raw_ids))
    # labels.txt: 19 bedclothes, 80 cloth, 308 pottedplant, 397 table, 427 tvmonitor
    assert (by_name['bedclothes'], by_name['cloth'], by_name['pottedplant'],
            by_name['table'], by_name['tvmonitor']) == (19, 80, 308, 397, 427)
    assert by_name['aeroplane'] == 2 and len(set(raw_ids)) == 59


@pytest.mark.parametrize('split', ['train', 'val'])
def test_labels_equal_the_reference_data_layer(tree, split):
    root, info = tree
    ds = build(root, split=split)
    assert ds.metainfo['classes'] == CONTEXT_CLASSES
    assert len(ds) == len(info[split])
    for i, sample_id in enumerate(info[split]):
        gt = gt_of(ds[i])
        expected = reference_layer_label(str(root), info['mat'][sample_id])
        np.testing.assert_array_equal(gt, expected)
        assert gt.shape == info['sizes'][sample_id]
    if split == 'train':  # every raw label: every class and background occur
        assert set(np.unique(gt_of(ds[0]))) == set(range(60))


def test_ignore_background_is_the_59_class_convention(tree):
    root, info = tree
    ds = build(root, split='train', ignore_background=True)
    assert ds.metainfo['classes'] == CONTEXT59_CLASSES
    assert len(ds.metainfo['palette']) == 59
    sample_id = info['train'][0]
    expected = reference_layer_label(str(root), info['mat'][sample_id]).astype(int) - 1
    expected[expected < 0] = 255
    np.testing.assert_array_equal(gt_of(ds[0]), expected)
    assert set(np.unique(gt_of(ds[0]))) == set(range(59)) | {255}


@pytest.mark.parametrize('dtype', [np.uint16, np.float64, np.int32])
def test_label_map_dtypes(dtype, tmp_path):
    raw = np.array([[0, 2, 397], [459, 80, 3]], dtype=dtype)
    path = tmp_path / 'x.mat'
    write_context_mat(str(path), raw)
    label = load_context_label(path.read_bytes(), raw_ids=(2, 397, 80), num_raw=459)
    np.testing.assert_array_equal(label, [[0, 1, 2], [0, 3, 0]])
    assert label.dtype == np.uint8


def test_missing_mat_is_named(tree, tmp_path):
    root, info = _copy(tree, tmp_path)
    missing = root / 'trainval' / f"{info['val'][1]}.mat"
    os.remove(missing)
    with pytest.raises(DatasetError, match='image without mask') as err:
        build(root, split='val')
    assert str(missing) in str(err.value)


@pytest.mark.parametrize('content,match', [
    (b'not a mat file at all', 'cannot read label map'),
    ('no LabelMap', 'no variable LabelMap'),
    ('size', 'size mismatch'),
    ('beyond', r'values \[460, 999\] that are not raw labels 0\.\.459'),
])
def test_bad_mat_files_are_named(tree, tmp_path, content, match):
    root, info = _copy(tree, tmp_path)
    sample_id = info['val'][0]
    path = root / 'trainval' / f'{sample_id}.mat'
    h, w = info['sizes'][sample_id]
    if content == 'no LabelMap':
        scipy.io.savemat(path, {'GTcls': np.zeros((h, w), np.uint8)})
    elif content == 'size':
        write_context_mat(str(path), np.ones((h + 1, w), np.uint16))
    elif content == 'beyond':
        raw = np.ones((h, w), np.uint16)
        raw[0, :2] = (460, 999)
        write_context_mat(str(path), raw)
    else:
        path.write_bytes(content)
    ds = build(root, split='val')
    with pytest.raises(SampleError, match=match) as err:
        ds[0]
    assert str(path) in str(err.value)


def test_task_name_missing_from_labels_txt(tree, tmp_path):
    root, _ = _copy(tree, tmp_path)
    names = [n if n != 'pottedplant' else 'potted plant pot' for n in CONTEXT_RAW_LABELS]
    names = [n if n != 'cloth' else 'cloth x' for n in names]
    write_label_list(str(root / 'labels.txt'), names)
    with pytest.raises(DatasetError, match=r'labels\.txt: has no raw label for 2 '
                       r'name\(s\) of .*59_labels\.txt: pottedplant, cloth'):
        build(root)


def test_task_list_must_be_the_released_order(tree, tmp_path):
    root, _ = _copy(tree, tmp_path)
    swapped = list(CONTEXT_TASK_LABELS)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    write_label_list(str(root / '59_labels.txt'), swapped)
    with pytest.raises(DatasetError, match=r'59_labels\.txt: lists 59 classes that '
                       r'are not .*1: bicycle \(expected aeroplane\)'):
        build(root)


def test_label_list_format_is_checked(tree, tmp_path):
    root, _ = _copy(tree, tmp_path)
    (root / 'labels.txt').write_text('1: accordion\n3: aeroplane\n')
    with pytest.raises(DatasetError, match=r'labels\.txt: line 2 numbers its label 3, '
                       'expected 2'):
        build(root)
    (root / 'labels.txt').write_text('1 accordion\n')
    with pytest.raises(DatasetError, match=r"labels\.txt: line 1 is '1 accordion'"):
        build(root)


def test_missing_layout_lists_what_is_expected(tmp_path):
    (tmp_path / 'VOC2010' / 'JPEGImages').mkdir(parents=True)
    with pytest.raises(DatasetLayoutError) as err:
        build(tmp_path)
    message = str(err.value)
    for part in ('trainval', 'ImageSets/Main/train.txt', 'labels.txt',
                 '59_labels.txt', 'VOCtrainval_03-May-2010.tar'):
        assert part in message, part
    with pytest.raises(ValueError, match='split must be one of'):
        build(tmp_path, split='trainval')
    with pytest.raises(ValueError, match='ignore_background=True'):
        build(tmp_path, reduce_zero_label=True)
