"""NYUDv2 read in place: splits, the three modalities as nyud_layers.py reads them,
spatial transforms on every modality and the label together, bad input."""
import os.path as osp
import shutil

import numpy as np
import pytest
import scipy.io
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_classic.datasets import SampleError
from mmseg_fcn_classic.datasets.modalities import (LoadMultiModalImageFromFiles,
                                                   fill_zero_depth)
from mmseg_fcn_classic.datasets.nyud import CLASSES, load_nyud_segmentation
from mmseg_fcn_classic.datasets.scan import scan_dataset
from mmseg_fcn_classic.datasets.validation import DatasetError
from mmseg_fcn_classic.testing.synthetic import (make_nyud_tree, write_depth_png,
                                                 write_nyud_mat)

MEAN_BGR = np.array((116.190, 97.203, 92.318), np.float32)  # nyud_layers.py
MEAN_HHA = np.array((132.431, 94.076, 118.477), np.float32)


def pipeline(*extra, depth_fill=None):
    return [dict(type='LoadMultiModalImageFromFiles', depth_fill=depth_fill),
            dict(type='LoadFCNAnnotations'), *extra, dict(type='PackSegInputs')]


def build(root, modalities=('color', ), split='test', extra=(), **kwargs):
    return DATASETS.build(dict(
        type='NYUDv2Dataset', data_root=str(root), split=split,
        modalities=modalities, pipeline=pipeline(*extra, **kwargs),
        serialize_data=False))


def reference_sample(root, sample_id):
    """nyud_layers.py's load_image / load_hha / load_depth / load_label."""
    def png(sub):
        return np.array(Image.open(f'{root}/data/{sub}/img_{sample_id}.png'),
                        dtype=np.float32)
    color = png('images')[:, :, ::-1] - MEAN_BGR
    hha = png('hha') - MEAN_HHA
    depth = np.log(png('depth')) - np.float32(7.844)
    label = scipy.io.loadmat(f'{root}/segmentation/img_{sample_id}.mat')[
        'segmentation'].astype(np.uint8)
    label -= 1
    return dict(color=color, hha=hha, depth=depth[..., None]), label


def normalised(sample, modalities):
    """The sample's stacked channels minus the modality means, (H, W, C)."""
    from mmseg_fcn_classic.models.utils.modalities import modality_means
    img = sample['inputs'].numpy().transpose(1, 2, 0)
    return img - np.array(modality_means(modalities), np.float32)


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('nyud')
    return root, make_nyud_tree(str(root))


@pytest.mark.parametrize('split,expected', [
    ('train', ['5003', '5004']), ('val', ['5010']), ('test', ['5001', '5002']),
    ('trainval', ['5003', '5004', '5010'])])
def test_splits(tree, split, expected):
    root, _ = tree
    ds = build(root, split=split)
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == expected
    assert ds.metainfo['classes'] == CLASSES and len(CLASSES) == 40
    assert CLASSES[0] == 'wall' and CLASSES[-1] == 'otherprop'


def test_trainval_file_wins_over_the_union(tmp_path):
    make_nyud_tree(str(tmp_path))
    (tmp_path / 'trainval.txt').write_text('5010\n5003\n')
    ds = build(tmp_path, split='trainval')
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == ['5010', '5003']


@pytest.mark.parametrize('modalities', [('color', ), ('hha', ), ('color', 'depth'),
                                        ('color', 'hha')])
def test_modalities_as_the_reference_reads_them(tree, modalities):
    root, t = tree
    ds = build(root, modalities=modalities)
    sample = ds[0]
    info = ds.get_data_info(0)
    assert info['img_path'] == t['files']['5001']['color']
    assert set(info['modality_paths']) == set(modalities)
    ref, label = reference_sample(root, '5001')
    expected = np.concatenate([ref[m] for m in modalities], axis=2)
    got = normalised(sample, modalities)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, label)  # 0 -> 255, k -> k - 1
    assert 255 in gt and gt[gt != 255].max() < 40


@pytest.mark.parametrize('modalities', [('color', 'depth'), ('color', 'hha')])
def test_flip_flips_every_modality_and_the_label(tree, modalities):
    root, _ = tree
    plain = build(root, modalities=modalities)[1]
    flipped = build(root, modalities=modalities,
                    extra=[dict(type='RandomFlip', prob=1.0)])[1]
    assert flipped['data_samples'].flip
    np.testing.assert_array_equal(flipped['inputs'].numpy(),
                                  plain['inputs'].numpy()[:, :, ::-1])
    np.testing.assert_array_equal(flipped['data_samples'].gt_sem_seg.data.numpy(),
                                  plain['data_samples'].gt_sem_seg.data.numpy()[..., ::-1])


def test_crop_and_resize_move_every_modality_and_the_label(tree):
    root, _ = tree
    modalities = ('color', 'hha', 'depth')
    plain = build(root, modalities=modalities)[0]
    img, gt = plain['inputs'].numpy(), plain['data_samples'].gt_sem_seg.data[0].numpy()
    cropped = build(root, modalities=modalities,
                    extra=[dict(type='RandomCrop', crop_size=(17, 13))])[0]
    crop = cropped['inputs'].numpy()
    hits = [(y, x) for y in range(img.shape[1] - 16) for x in range(img.shape[2] - 12)
            if np.array_equal(img[:3, y:y + 17, x:x + 13], crop[:3])]
    assert len(hits) == 1  # found by the colour channels alone...
    (y, x), = hits  # ...the other modalities and the label sit in the same window
    np.testing.assert_array_equal(crop, img[:, y:y + 17, x:x + 13])
    np.testing.assert_array_equal(cropped['data_samples'].gt_sem_seg.data[0].numpy(),
                                  gt[y:y + 17, x:x + 13])
    resized = build(root, modalities=modalities,
                    extra=[dict(type='Resize', scale=(20, 15), keep_ratio=False)])[0]
    assert resized['inputs'].shape == (7, 15, 20)
    assert resized['data_samples'].gt_sem_seg.shape == (15, 20)


def test_zero_depth_is_an_error_naming_the_file_and_count(tmp_path):
    t = make_nyud_tree(str(tmp_path))
    path = t['files']['5001']['depth']
    depth = np.array(Image.open(path)).astype(np.uint16)
    depth[2:4, 5:8] = 0
    write_depth_png(path, depth)
    ds = build(tmp_path, modalities=('color', 'depth'))
    with pytest.raises(SampleError, match=rf'{path}: 6 of \d+ pixels have depth 0'):
        ds[0]
    filled = build(tmp_path, modalities=('color', 'depth'), depth_fill='nearest')[0]
    log_depth = filled['inputs'][3].numpy()
    assert np.isfinite(log_depth).all()
    expected = np.log(fill_zero_depth(depth, 'nearest').astype(np.float32))
    np.testing.assert_array_equal(log_depth, expected)
    report = scan_dataset(build(tmp_path, modalities=('color', 'depth')),
                          progress=False)
    assert [p.kind for p in report.problems] == ['zero depth']
    assert path in report.problems[0].message


def test_fill_zero_depth():
    d = np.array([[0, 5, 0, 0], [0, 0, 0, 7]], np.uint16)
    np.testing.assert_array_equal(fill_zero_depth(d, 'nearest'),
                                  [[5, 5, 5, 7], [5, 5, 7, 7]])
    np.testing.assert_array_equal(fill_zero_depth(d, 3000),
                                  [[3000, 5, 3000, 3000], [3000, 3000, 3000, 7]])
    with pytest.raises(ValueError, match='nothing to fill'):
        fill_zero_depth(np.zeros((2, 2), np.uint16), 'nearest')
    with pytest.raises(ValueError, match='depth_fill'):
        LoadMultiModalImageFromFiles(depth_fill='zero')


def test_modality_size_mismatch_names_both_files(tmp_path):
    t = make_nyud_tree(str(tmp_path))
    hha = t['files']['5001']['hha']
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(hha)
    with pytest.raises(SampleError) as e:
        build(tmp_path, modalities=('color', 'hha'))[0]
    assert f"hha image {hha} is 10x12" in str(e.value)
    assert t['files']['5001']['color'] in str(e.value)


@pytest.mark.parametrize('modality,content,message', [
    ('hha', np.zeros((30, 40), np.uint8), 'HHA image must be 8-bit with 3 channels'),
    ('depth', np.zeros((30, 40, 3), np.uint8), 'depth image must be 16-bit'),
])
def test_wrong_modality_format_names_the_file(tmp_path, modality, content, message):
    t = make_nyud_tree(str(tmp_path))
    path = t['files']['5001'][modality]
    Image.fromarray(content).save(path)
    with pytest.raises(SampleError, match=message) as e:
        build(tmp_path, modalities=('color', modality))[0]
    assert path in str(e.value)


def test_missing_files_are_listed(tmp_path):
    t = make_nyud_tree(str(tmp_path))
    build(tmp_path, modalities=('color', ))  # no depth needed: fine
    missing = t['files']['5002']['depth']
    shutil.move(missing, missing + '.bak')
    with pytest.raises(DatasetError, match=rf'5002: missing {missing}'):
        build(tmp_path, modalities=('color', 'depth'))
    shutil.rmtree(tmp_path / 'data' / 'hha')
    with pytest.raises(FileNotFoundError, match=osp.join('data', 'hha')):
        build(tmp_path, modalities=('hha', ))


def test_label_mat_without_the_variable_names_the_file(tmp_path):
    t = make_nyud_tree(str(tmp_path))
    path = t['files']['5001']['label']
    size = t['sizes']['5001']
    scipy.io.savemat(path, {'labels': np.zeros(size, np.uint8)})
    with pytest.raises(SampleError, match=rf"{path}.*no variable 'segmentation'"):
        build(tmp_path)[0]
    write_nyud_mat(path, np.full(size, 41, np.uint8))  # class 41 -> 40: invalid
    with pytest.raises(SampleError, match='label values 40'):
        build(tmp_path)[0]
    with open(path, 'rb') as f:
        assert load_nyud_segmentation(f.read()).max() == 41


def test_pipeline_must_load_the_modalities(tree):
    root, _ = tree
    with pytest.raises(DatasetError, match='LoadMultiModalImageFromFiles'):
        DATASETS.build(dict(type='NYUDv2Dataset', data_root=str(root), split='test',
                            pipeline=[dict(type='LoadImageFromFile'),
                                      dict(type='LoadFCNAnnotations')]))
    with pytest.raises(DatasetError, match=r"loads modalities \('color',\)"):
        DATASETS.build(dict(type='NYUDv2Dataset', data_root=str(root), split='test',
                            modalities=('color', 'hha'), pipeline=[
                                dict(type='LoadMultiModalImageFromFiles',
                                     modalities=('color', ))]))
