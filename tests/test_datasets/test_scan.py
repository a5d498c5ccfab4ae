import os

import numpy as np
import pytest
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_classic.datasets.scan import scan_dataset, scan_dataset_cfg
from mmseg_fcn_classic.datasets.validation import SampleError
from mmseg_fcn_classic.testing.synthetic import make_polyps912_tree, make_voc_sbd_tree

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


def polyps(root, **kwargs):
    return DATASETS.build(dict(type='Polyps912Dataset', data_root=str(root),
                               pipeline=PIPELINE, lazy_init=True, **kwargs))


def test_clean_tree_frequencies(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(3, 0, 0))
    report = scan_dataset(polyps(tmp_path), progress=False)
    assert report.ok and report.num_samples == 3
    hist = np.zeros(256, np.int64)
    for name in os.listdir(tmp_path / 'train' / 'masks2'):
        raw = np.array(Image.open(tmp_path / 'train' / 'masks2' / name))
        hist += np.bincount(np.where(raw == 2, 255, raw).ravel(),
                            minlength=256)
    np.testing.assert_array_equal(report.histogram, hist)
    freqs = report.class_frequencies()
    assert list(freqs) == ['background', 'polyp']
    assert sum(f for _, f in freqs.values()) == pytest.approx(1.0)
    text = report.format()
    assert '0 problem(s)' in text and 'polyp' in text
    assert f'ignored (label 255): {hist[255]} px' in text


def test_every_problem_in_one_pass(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(8, 0, 0))
    train = tmp_path / 'train'
    os.remove(train / 'masks2' / '1.tif')  # image without mask
    os.remove(train / 'images' / '2.bmp')  # mask without image
    (train / 'images' / '3.bmp').write_bytes(b'garbage')  # unreadable image
    (train / 'masks2' / '4.tif').write_bytes(b'garbage')  # unreadable mask
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(train / 'masks2' / '5.tif')
    for name in ('6', '7'):  # invalid values, twice
        seg = np.array(Image.open(train / 'masks2' / f'{name}.tif'))
        seg[3, 3] = 9
        Image.fromarray(seg).save(train / 'masks2' / f'{name}.tif')

    report = scan_dataset(polyps(tmp_path), progress=False)
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == sorted([
        'image without mask', 'mask without image', 'unreadable image',
        'unreadable mask', 'size mismatch', 'invalid label values',
        'invalid label values'
    ])
    assert report.num_samples == 6  # complete pairs, all read
    text = report.format()
    assert 'invalid label values: 2' in text
    for name in ('1.bmp', '2.tif', '3.bmp', '4.tif', '5.tif', '6.tif', '7.tif'):
        assert name in text
    assert 'invalid label values: 2 px' in text  # in the frequency table


def test_missing_layout_is_reported(tmp_path):
    report = scan_dataset(polyps(tmp_path / 'absent'), progress=False)
    assert [p.kind for p in report.problems] == ['missing data_root folder']


def test_voc_sbd_scan_and_pipeline_problem(tmp_path):
    make_voc_sbd_tree(str(tmp_path))
    ds = DATASETS.build(dict(type='PascalVOCSBDDataset', data_root=str(tmp_path),
                             pipeline=PIPELINE, lazy_init=True))
    report = scan_dataset(ds, progress=False)
    # the .mat labels are read; only the plain LoadAnnotations is a problem
    assert [p.kind for p in report.problems] == ['pipeline cannot read labels']
    assert report.num_samples == 9
    assert report.histogram[255] > 0 and report.histogram[1:21].sum() > 0


def test_scan_dataset_cfg_wrappers(tmp_path):
    make_polyps912_tree(str(tmp_path), counts=(2, 1, 0))
    os.remove(tmp_path / 'valid' / 'masks2' / '3.tif')
    leaf = dict(type='Polyps912Dataset', data_root=str(tmp_path),
                pipeline=PIPELINE)
    cfg = dict(type='RepeatDataset', times=3, dataset=dict(
        type='ConcatDataset',
        datasets=[dict(leaf, split='train'), dict(leaf, split='valid'),
                  dict(leaf, split='nope')]))
    reports = scan_dataset_cfg(cfg, progress=False)
    assert len(reports) == 3
    (t1, r1), (t2, r2), (t3, r3) = reports
    assert "split 'train'" in t1 and r1.ok and r1.num_samples == 2
    assert [p.kind for p in r2.problems] == ['image without mask']
    assert [p.kind for p in r3.problems] == ['cannot build dataset']


def _png_header_file(path, width, height):
    """A valid 8-bit grey PNG of ``width`` x ``height`` zeros, written row by row
    (a 16000x16000 one is about 250 KB and never exists in memory)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))

    deflate = zlib.compressobj(9)
    row = bytes(width + 1)
    idat = b''.join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(
        b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)) +
        chunk(b'IDAT', idat) + chunk(b'IEND', b''))


@pytest.fixture
def decoded(monkeypatch):
    """The image files LoadImageFromFile decodes."""
    from mmcv.transforms import LoadImageFromFile
    paths = []
    original = LoadImageFromFile.transform

    def spy(self, results):
        paths.append(results['img_path'])
        return original(self, results)

    monkeypatch.setattr(LoadImageFromFile, 'transform', spy)
    return paths


def test_huge_image_is_reported_without_decoding(tmp_path, decoded):
    """Issue 20: a 16000x16000 PNG saved as .bmp was decoded (2 GB) before the
    size mismatch showed. It is now refused from its header, in the scan and in
    training alike."""
    make_polyps912_tree(str(tmp_path), counts=(3, 0, 0))
    huge = tmp_path / 'train' / 'images' / '1.bmp'
    _png_header_file(huge, 16000, 16000)
    assert huge.stat().st_size < 1_000_000
    report = scan_dataset(polyps(tmp_path), progress=False)
    assert [p.kind for p in report.problems] == ['image too large']
    assert str(huge) in report.problems[0].message
    assert '256000000 pixels' in report.problems[0].message
    assert str(huge) not in decoded and len(decoded) == 2
    dataset = polyps(tmp_path)
    dataset.full_init()
    index = [i for i in range(len(dataset))
             if dataset.get_data_info(i)['img_path'] == str(huge)][0]
    with pytest.raises(SampleError, match=rf'(?s)too large to decode.*{huge}'):
        dataset[index]
    assert str(huge) not in decoded


def test_symlink_loop_is_reported_like_any_bad_file(tmp_path):
    """Issue 20: a symlink loop aborted the whole scan (and training's listing)."""
    make_polyps912_tree(str(tmp_path), counts=(3, 0, 0))
    loop = tmp_path / 'train' / 'images' / '2.bmp'
    loop.unlink()
    loop.symlink_to('2.bmp')
    report = scan_dataset(polyps(tmp_path), progress=False)
    assert report.num_samples == 3
    assert [p.kind for p in report.problems] == ['unreadable image']
    assert f'{loop}: OSError: [Errno 40] Too many levels of symbolic links' in \
        report.problems[0].message
    dataset = polyps(tmp_path)
    dataset.full_init()  # the listing goes through, the sample names the file
    index = [i for i in range(len(dataset))
             if dataset.get_data_info(i)['img_path'] == str(loop)][0]
    with pytest.raises(SampleError, match=rf'{loop}.*symbolic links'):
        dataset[index]
