import numpy as np
import pytest
import scipy.io
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmseg_fcn_classic.datasets import SampleError
from mmseg_fcn_classic.datasets.transforms import (decode_label_image,
                                                   load_sbd_mat,
                                                   sbd_segmentation)
from mmseg_fcn_classic.testing.synthetic import write_palette_png, write_sbd_mat


@pytest.fixture
def seg():
    seg = np.zeros((30, 40), np.uint8)
    seg[5:20, 8:30] = 15
    seg[22:25, 2:6] = 3
    return seg


def load(path, **results):
    t = TRANSFORMS.build(dict(type='LoadFCNAnnotations'))
    results = dict(seg_map_path=str(path), reduce_zero_label=False,
                   seg_fields=[], **results)
    return t(results)


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(squeeze_me=True),
    dict(struct_as_record=False),
    dict(squeeze_me=True, struct_as_record=False),
])
def test_sbd_struct_both_ways(tmp_path, seg, kwargs):
    path = str(tmp_path / 'a.mat')
    write_sbd_mat(path, seg)
    gtcls = scipy.io.loadmat(path, **kwargs)['GTcls']
    out = sbd_segmentation(gtcls)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, seg)


def test_sbd_mat_layout(tmp_path, seg):
    path = str(tmp_path / 'a.mat')
    write_sbd_mat(path, seg)
    gt = scipy.io.loadmat(path)['GTcls'][0]
    assert set(gt.dtype.names) == {'Segmentation', 'Boundaries',
                                   'CategoriesPresent'}
    assert gt['Boundaries'][0].shape == (20, 1)
    assert sorted(gt['CategoriesPresent'][0].ravel()) == [3, 15]
    np.testing.assert_array_equal(load_sbd_mat(path), seg)
    with open(path, 'rb') as f:
        np.testing.assert_array_equal(load_sbd_mat(f.read()), seg)


def test_sbd_mat_double_segmentation(tmp_path, seg):
    """MATLAB files written as double still load as uint8 class ids."""
    path = str(tmp_path / 'a.mat')
    scipy.io.savemat(path, {'GTcls': {'Segmentation': seg.astype(float)}})
    np.testing.assert_array_equal(load_sbd_mat(path), seg)
    scipy.io.savemat(path, {'GTcls': {'Segmentation': seg + 0.5}})
    with pytest.raises(ValueError, match='non-integer'):
        load_sbd_mat(path)


def test_palette_png_gives_indices(tmp_path, seg):
    seg[0] = 255
    path = tmp_path / 'a.png'
    write_palette_png(str(path), seg)
    assert Image.open(path).mode == 'P'
    out = load(path)
    np.testing.assert_array_equal(out['gt_seg_map'], seg)
    assert out['seg_fields'] == ['gt_seg_map']


def test_colour_images(tmp_path, seg):
    gray_rgb = np.repeat(seg[..., None], 3, axis=2)
    assert decode_label_image(_png_bytes(gray_rgb)).shape == seg.shape
    colour = gray_rgb.copy()
    colour[..., 0] = 7
    with pytest.raises(ValueError, match='colour'):
        decode_label_image(_png_bytes(colour))


def test_sixteen_bit_tif(tmp_path, seg):
    path = tmp_path / 'a.tif'
    Image.fromarray(seg.astype(np.uint16)).save(path)
    np.testing.assert_array_equal(load(path)['gt_seg_map'], seg)
    big = seg.astype(np.int32)
    big[0, 0] = 300
    Image.fromarray(big).save(path)
    with pytest.raises(SampleError, match='300') as e:
        load(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize('suffix', ['.png', '.tif', '.mat'])
def test_label_map_and_reduce_zero_label(tmp_path, suffix):
    raw = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    path = tmp_path / f'a{suffix}'
    if suffix == '.mat':
        write_sbd_mat(str(path), raw)
    else:
        Image.fromarray(raw).save(path)
    np.testing.assert_array_equal(
        load(path, label_map={2: 255})['gt_seg_map'],
        [[0, 1, 255], [255, 1, 0]])
    t = TRANSFORMS.build(dict(type='LoadFCNAnnotations'))
    out = t(dict(seg_map_path=str(path), reduce_zero_label=True, seg_fields=[]))
    np.testing.assert_array_equal(out['gt_seg_map'], [[255, 0, 1], [1, 0, 255]])


def test_size_checked_against_loaded_image(tmp_path, seg):
    path = tmp_path / 'a.png'
    write_palette_png(str(path), seg)
    load(path, ori_shape=(30, 40))
    with pytest.raises(SampleError, match='30x40.*31x40'):
        load(path, ori_shape=(31, 40), img_path='img.jpg')


@pytest.mark.parametrize('content', [b'', b'\x89PNG\r\n\x1a\n broken'])
def test_unreadable_file_is_named(tmp_path, content):
    path = tmp_path / 'a.png'
    path.write_bytes(content)
    with pytest.raises(SampleError) as e:
        load(path)
    assert str(path) in str(e.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SampleError, match='nothere.mat'):
        load(tmp_path / 'nothere.mat')


def _png_bytes(arr):
    import io
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format='PNG')
    return buf.getvalue()


@pytest.mark.parametrize('reduce_zero_label', [False, True])
@pytest.mark.parametrize('label_map', [None, {1: 0, 2: 255, 3: 1}])
def test_same_labels_as_mmseg_load_annotations(tmp_path, seg, reduce_zero_label,
                                               label_map):
    seg[0] = 255
    seg[1] = 2
    path = str(tmp_path / 'a.png')
    write_palette_png(path, seg)
    outs = []
    for type_ in ('LoadAnnotations', 'LoadFCNAnnotations'):
        t = TRANSFORMS.build(dict(type=type_))
        outs.append(t(dict(seg_map_path=path, label_map=label_map,
                           reduce_zero_label=reduce_zero_label,
                           seg_fields=[]))['gt_seg_map'])
    np.testing.assert_array_equal(outs[1], outs[0])
    assert outs[1].dtype == outs[0].dtype == np.uint8


def _halve(data: bytes) -> np.ndarray:
    """A dataset's own label format: a PNG whose values are twice the class."""
    return decode_label_image(data) // 2


def test_dataset_decoder_replaces_the_suffix_reader(tmp_path, seg):
    path = tmp_path / 'a.png'
    write_palette_png(str(path), seg * 2)
    out = load(path, seg_map_decoder=_halve)
    np.testing.assert_array_equal(out['gt_seg_map'], seg)


def test_dataset_decoder_error_names_the_file(tmp_path, seg):
    path = tmp_path / 'a.png'
    write_palette_png(str(path), seg)

    def broken(data):
        raise KeyError('LabelMap')

    with pytest.raises(SampleError, match=r"a\.png: KeyError: 'LabelMap'"):
        load(path, seg_map_decoder=broken)
